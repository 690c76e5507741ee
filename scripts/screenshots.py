"""Screenshots of each page kind of a built site, light and dark, for the project's docs.

    nox -s docs && python scripts/screenshots.py

reads ``site/`` (``--site``) and writes ``docs/assets/screenshots/<kind>-<scheme>.png``
(``--out``): 1200 pixels wide, the page's top or the part a kind is about (a sweep's figures, a
run's curves), reduced to 256 colours. The same site gives the same files. Needs Chromium at
/usr/bin/chromium, playwright and Pillow.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--hide-scrollbars"]
WIDTH, HEIGHT = 1200, 900
SCHEMES = ("light", "dark")
#: The palette toggle of the other scheme, as Material numbers the palettes of mkdocs.yml.
TOGGLE = {"dark": "label[for='__palette_1']"}
#: Drawn when every figure has its layout and every diagram its SVG.
DRAWN = """() => [...document.querySelectorAll('.rd-figure')].every(f => f._fullLayout)
  && [...document.querySelectorAll('pre.rd-mermaid')].every(d => d.querySelector('svg'))"""


class Kind(NamedTuple):
    """A page kind: the page (a path, or a pattern whose first match outside index.html counts)
    and the heading to scroll to, if the part worth showing is not the top."""

    page: str
    anchor: str | None = None


KINDS = {
    "home": Kind("index.html"),
    "phases": Kind("phases/index.html"),
    "phase": Kind("phases/lr-sweep.html", "gates"),
    "sweeps": Kind("sweeps/index.html"),
    "sweep": Kind("sweeps/lr.html", "figures"),
    "log": Kind("runs/index.html"),
    "run": Kind("runs/lr-sweep--lr0.1_s0.html", "curves"),
    "history": Kind("history*.html"),
}


def find_page(site: Path, pattern: str) -> Path | None:
    """The page itself, or the first (sorted) page the pattern matches that is not an index."""
    if (site / pattern).is_file():
        return site / pattern
    return next((path for path in sorted(site.glob(pattern)) if path.name != "index.html"), None)


def shoot(page: Any, target: Path, anchor: str | None) -> bytes:
    """The viewport's PNG once the page is drawn, scrolled to ``anchor`` when it has one."""
    page.goto(target.resolve().as_uri())
    page.wait_for_function(DRAWN, timeout=30_000)
    if anchor and page.locator(f"#{anchor}").count():
        page.evaluate(f"() => window.scrollTo(0, document.getElementById('{anchor}').offsetTop - 60)")
    page.wait_for_timeout(300)  # plotly's responsive resize and Material's header settle
    png: bytes = page.screenshot(animations="disabled", caret="hide")
    return png


def small_png(png: bytes) -> bytes:
    """The image in 256 colours without dithering (same input, same bytes), optimised."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    reduced = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    reduced.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="the built site (default: site)")
    parser.add_argument("--out", type=Path, default=Path("docs/assets/screenshots"), help="where the PNGs go")
    options = parser.parse_args(argv)
    if not (options.site / "index.html").is_file():
        print(f"Error: {options.site}/index.html not found: build the site first (nox -s docs)", file=sys.stderr)
        return 1
    options.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for scheme in SCHEMES:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, reduced_motion="reduce")
            page.goto((options.site / "index.html").resolve().as_uri())
            if scheme in TOGGLE:  # Material keeps the choice for every page of the site
                page.click(TOGGLE[scheme])
            for name, kind in KINDS.items():
                target = find_page(options.site, kind.page)
                if target is None:
                    print(f"{name}: no page matches {kind.page}; skipped")
                    continue
                path = options.out / f"{name}-{scheme}.png"
                path.write_bytes(small_png(shoot(page, target, kind.anchor)))
                print(f"{path}: {target.relative_to(options.site).as_posix()}")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
