"""Compiled templates kept between builds: used when this user signed them, never run otherwise."""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
from pathlib import Path

import pytest

from rundocs.render.environment import make_environment
from rundocs.render.template_cache import KEY_FILE, SignedBytecodeCache, template_cache, user_key

TEMPLATE = "{% for x in items %}[{{ x }}]{% endfor %}\n"


def project_with_template(root: Path, text: str = TEMPLATE) -> Path:
    folder = root / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "list.md.j2").write_text(text)
    return folder


def render(templates: Path, cache_dir: Path) -> str:
    """Render in a fresh environment, as a new build process would."""
    environment = make_environment(templates, template_cache(cache_dir))
    return environment.get_template("list.md.j2").render(items=["a", "<b>"])


def stored(cache_dir: Path, templates: Path) -> object:
    """What a fresh cache loads for the template: its code object, or None."""
    cache = template_cache(cache_dir)
    assert cache is not None
    environment = make_environment(templates, cache)
    source = (templates / "list.md.j2").read_text()
    return cache.get_bucket(environment, "list.md.j2", str(templates / "list.md.j2"), source).code


def test_a_later_build_loads_the_compiled_template(tmp_path: Path) -> None:
    templates, cache_dir = project_with_template(tmp_path), tmp_path / "cache"
    assert stored(cache_dir, templates) is None
    first = render(templates, cache_dir)
    assert stored(cache_dir, templates) is not None
    assert render(templates, cache_dir) == first == "[a][&lt;b&gt;]"


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    templates, cache_dir = project_with_template(tmp_path), tmp_path / "cache"
    render(templates, cache_dir)
    project_with_template(tmp_path, "{{ items | length }} items\n")
    assert render(templates, cache_dir) == "2 items\n"


@pytest.mark.parametrize("signing_key", [b"k" * 32, None])
def test_code_not_signed_with_the_users_key_never_runs(tmp_path: Path, signing_key: bytes | None) -> None:
    templates, cache_dir = project_with_template(tmp_path), tmp_path / "cache"
    render(templates, cache_dir)
    [planted] = (cache_dir / "templates").glob("*.bin")
    marker = tmp_path / "pwned"
    header = planted.read_bytes()[32:].partition(b"\n")[0]  # the right versions and checksum
    body = header + b"\n" + marshal.dumps(compile(f"open({str(marker)!r}, 'w')", "planted", "exec"))
    signature = hmac.new(signing_key, body, hashlib.sha256).digest() if signing_key else b"\0" * 32
    planted.write_bytes(signature + body)

    assert stored(cache_dir, templates) is None
    assert render(templates, cache_dir) == "[a][&lt;b&gt;]"
    assert not marker.exists()


def test_no_cache_when_others_can_read_the_key(tmp_path: Path) -> None:
    key = user_key()
    assert key is not None and user_key() == key
    path = Path(os.environ["XDG_CACHE_HOME"]) / "rundocs" / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    assert user_key() is None and template_cache(tmp_path / "cache") is None
    templates = project_with_template(tmp_path)
    assert render(templates, tmp_path / "cache") == "[a][&lt;b&gt;]"
    assert not (tmp_path / "cache").exists()


def test_the_cache_is_only_made_with_a_key(tmp_path: Path) -> None:
    assert isinstance(template_cache(tmp_path), SignedBytecodeCache)
    assert template_cache(None) is None


def test_code_signed_by_this_user_for_another_version_is_not_loaded(tmp_path: Path) -> None:
    templates, cache_dir = project_with_template(tmp_path), tmp_path / "cache"
    render(templates, cache_dir)
    [planted] = (cache_dir / "templates").glob("*.bin")
    header = planted.read_bytes()[32:].partition(b"\n")[0]
    other_python = header.replace(b"|python ", b"|python ff")
    marker = tmp_path / "pwned"
    body = other_python + b"\n" + marshal.dumps(compile(f"open({str(marker)!r}, 'w')", "planted", "exec"))
    key = user_key()
    assert key is not None
    planted.write_bytes(hmac.new(key, body, hashlib.sha256).digest() + body)

    assert stored(cache_dir, templates) is None
    assert render(templates, cache_dir) == "[a][&lt;b&gt;]"
    assert not marker.exists()


def test_a_relative_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "project-cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_key() is not None
    assert (tmp_path / "home" / ".cache" / "rundocs" / KEY_FILE).is_file()
    assert not (tmp_path / "project-cache").exists()


def test_a_symlinked_key_is_not_used(tmp_path: Path) -> None:
    path = Path(os.environ["XDG_CACHE_HOME"]) / "rundocs" / KEY_FILE
    path.parent.mkdir(parents=True)
    elsewhere = tmp_path / "key"
    elsewhere.write_bytes(b"k" * 32)
    elsewhere.chmod(0o600)
    path.symlink_to(elsewhere)
    assert user_key() is None
