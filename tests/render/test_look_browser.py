"""The generated site as a reader sees it in Chromium, light and dark: figures and diagrams in
the palette's colours, legends clear of axis titles, wide tables that scroll in their box,
sortable tables, wrapped diagram labels, and a 404 page that works from disk and a sub-path."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import rundocs
from tests.browser import chromium_page
from tests.conftest import child_environment

THEME = Path(__file__).resolve().parents[2] / "templates" / "theme"
#: The skeleton's site with both palettes, the project's theme overrides and a site_url with a path.
SETTINGS = f"""site_url: http://127.0.0.1/sub/path/
theme:
  name: material
  custom_dir: {THEME.as_posix()}
  palette:
    - scheme: default
      toggle: {{icon: material/brightness-7, name: Dark mode}}
    - scheme: slate
      toggle: {{icon: material/brightness-4, name: Light mode}}
"""
LONG_LABEL = "Keep the best rate as the default and train the three wider models on every seed before deciding"
LOOK_PAGE = f"""# Look

<div class="rd-sortable" markdown>

| Run | Parameters | Loss | Note | Time |
|---|---|---|---|---|
| b | 1.6 B | 1.2e-4 | beta | 2 h 05 min |
| a | 250 M | — | alpha | ∞ |
| c | 12,000 | 0.5 | gamma | 42 s |
| d | 900 | 3e-2 | delta | 7 min 05 s |

</div>

<pre class="rd-mermaid">flowchart LR
  A["{LONG_LABEL}"] --> B["done"]</pre>
"""
#: Contrast of a colour (its alpha blended over the ground) against the ground, as WCAG counts it.
CONTRAST = """
window.rdColour = variable => {
  const probe = document.createElement("span");
  document.body.appendChild(probe);
  probe.style.color = `var(${variable})`;
  const colour = getComputedStyle(probe).color;
  probe.remove();
  return colour;
};
window.rdContrast = (colour, ground) => {
  const parse = text => text.match(/[\\d.]+/g).map(Number);
  const back = parse(ground).slice(0, 3), front = parse(colour);
  const alpha = front.length > 3 ? front[3] : 1;
  const mixed = back.map((value, i) => front[i] * alpha + value * (1 - alpha));
  const luminance = rgb => rgb.map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [a, b] = [luminance(mixed) + 0.05, luminance(back) + 0.05];
  return Math.max(a, b) / Math.min(a, b);
};
"""
#: What a dark or light page shows: the figures' ground, tick text and the diagram's edges
#: against the page's ground, and the grounds themselves against white.
COLOURS = """() => {
  const ground = rdColour("--md-default-bg-color");
  const svg = document.querySelector(".rd-figure .main-svg");
  const tick = document.querySelector(".rd-figure .xtick text");
  const tickStyle = getComputedStyle(tick);
  const tickColour = tickStyle.fill.replace("rgb(", "rgba(").replace(")", `, ${tickStyle.fillOpacity})`);
  const edge = document.querySelector("pre.rd-mermaid .flowchart-link");
  return {
    scheme: document.body.getAttribute("data-md-color-scheme"),
    groundVsWhite: rdContrast(ground, "rgb(255, 255, 255)"),
    paper: document.querySelector(".rd-figure")._fullLayout.paper_bgcolor,
    svgGround: getComputedStyle(svg).backgroundColor,
    tick: rdContrast(tickColour, ground),
    edge: edge ? rdContrast(getComputedStyle(edge).stroke, ground) : null,
  };
}"""
#: Pairs of boxes that intersect in each figure: the legend against every title, and the tick
#: labels of one axis against each other.
OVERLAPS = """() => {
  const box = element => element.getBoundingClientRect();
  const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const found = [];
  document.querySelectorAll(".rd-figure").forEach((figure, index) => {
    const legend = figure.querySelector(".legend");
    const titles = [...figure.querySelectorAll(".g-gtitle text, [class^='g-x'][class$='title'] text, "
      + "[class^='g-y'][class$='title'] text")];
    if (legend) {
      titles.filter(t => meet(box(legend), box(t))).forEach(t => found.push([index, "legend", t.textContent]));
    }
    figure.querySelectorAll(".xaxislayer-above, .yaxislayer-above").forEach(axis => {
      const ticks = [...axis.querySelectorAll("text")].filter(t => t.textContent);
      ticks.forEach((a, i) => ticks.slice(i + 1).forEach(b => {
        if (meet(box(a), box(b))) found.push([index, a.textContent, b.textContent]);
      }));
    });
  });
  return found;
}"""


def _ok(project: Path, *command: str) -> None:
    done = subprocess.run(command, cwd=project, env=child_environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The skeleton project's site after train.py, plus a sweep of ten long category names whose
    loss spans decades, and a page with a sortable table and a long diagram label."""
    project = tmp_path_factory.mktemp("look")
    _ok(project, sys.executable, "-m", "rundocs", "init")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text("utf-8").replace("theme:\n  name: material\n", SETTINGS, 1), "utf-8")
    _ok(project, sys.executable, "train.py")
    for index in range(10):
        settings = {"architecture": f"residual-network-variant-{index:02d}", "seed": 0}
        with rundocs.Run(f"arch{index}", sweep="arch", config=settings, dir=project / "runs", epochs=3) as run:
            for epoch in (1, 2, 3):
                run.log(epoch=epoch, val_loss=10.0 ** -(epoch + index / 5))
    _ok(project, sys.executable, "-m", "rundocs", "build")
    (project / "docs" / "look.md").write_text(LOOK_PAGE, "utf-8")
    _ok(project, sys.executable, "-m", "mkdocs", "build", "--strict")
    return project / "site"


def _figures_drawn(page: Any) -> None:
    page.locator(".rd-figure .main-svg").first.wait_for(timeout=20_000)
    page.wait_for_function("() => [...document.querySelectorAll('.rd-figure')].every(f => f._fullLayout)")


def test_figures_and_diagrams_follow_the_palette_and_keep_their_labels_apart(site: Path) -> None:
    with chromium_page() as (page, dialogs):
        page.add_init_script(CONTRAST)
        page.goto((site / "phases" / "baseline.html").as_uri())
        page.locator("pre.rd-mermaid .flowchart-link").first.wait_for(timeout=20_000)
        page.goto((site / "sweeps" / "lr.html").as_uri())
        _figures_drawn(page)
        light = page.evaluate(COLOURS)
        page.click("label[for='__palette_1']")  # Material's toggle: the page turns dark
        page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
        dark = page.evaluate(COLOURS)
        assert (light["scheme"], dark["scheme"]) == ("default", "slate")
        assert light["groundVsWhite"] < 1.1 and dark["groundVsWhite"] > 10  # the page itself turned
        assert (dark["paper"], dark["svgGround"]) == ("rgba(0,0,0,0)", "rgba(0, 0, 0, 0)")  # the page shows through
        assert light["tick"] > 4.5 and dark["tick"] > 4.5, (light, dark)  # re-themed on the toggle
        assert page.evaluate(OVERLAPS) == []

        page.goto((site / "phases" / "baseline.html").as_uri())  # the scheme is kept across pages
        page.locator("pre.rd-mermaid .flowchart-link").first.wait_for(timeout=20_000)
        stroke = "getComputedStyle(document.querySelector('.flowchart-link')).stroke"
        edge = page.evaluate(f"() => rdContrast({stroke}, rdColour('--md-default-bg-color'))")
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate" and edge > 3

        page.goto((site / "sweeps" / "arch.html").as_uri())  # ten long labels, a loss over decades
        _figures_drawn(page)
        assert page.evaluate(OVERLAPS) == []
        axes = page.evaluate("() => [...document.querySelectorAll('.rd-figure')].map(f => f._fullLayout.yaxis.type)")
        assert axes[:2] == ["log", "category"]  # curves in decades; one box row per label
        (run_page, *_) = sorted((site / "runs").glob("2*.html"))
        page.goto(run_page.as_uri())
        _figures_drawn(page)
        assert page.evaluate(OVERLAPS) == []
        assert dialogs == []


def test_wide_tables_scroll_in_their_box_and_the_page_does_not(site: Path) -> None:
    with chromium_page() as (page, _):
        page.set_viewport_size({"width": 560, "height": 900})
        page.goto((site / "phases" / "baseline.html").as_uri())
        gates = page.locator(".md-typeset__scrollwrap", has=page.locator("th", has_text="Result"))
        reach = gates.evaluate(
            """wrap => {
              const cell = wrap.querySelector("tbody tr:last-child td:last-child");
              const hidden = cell.getBoundingClientRect().right > wrap.getBoundingClientRect().right;
              const before = [wrap.scrollWidth, wrap.clientWidth, hidden];
              wrap.scrollLeft = wrap.scrollWidth;
              const box = wrap.getBoundingClientRect(), seen = cell.getBoundingClientRect();
              return {before, inside: seen.left >= box.left && seen.right <= box.right, text: cell.textContent.trim()};
            }"""
        )
        wide, shown, cut = reach["before"]
        assert wide > shown and cut  # the table is wider than the page: its last column starts hidden
        assert reach["inside"] and reach["text"] == "GREEN"  # scrolled into view inside the box
        assert page.evaluate("document.documentElement.scrollWidth") <= 560  # the page does not scroll


def test_tables_sort_by_their_headers_and_diagram_labels_wrap(site: Path) -> None:
    column = "n => [...document.querySelector('.rd-sortable tbody').rows].map(r => r.cells[n].textContent)"
    with chromium_page() as (page, dialogs):
        page.goto((site / "look.html").as_uri())
        headers = page.locator(".rd-sortable th button")
        headers.nth(1).click()
        assert page.evaluate(column, 1) == ["900", "12,000", "250 M", "1.6 B"]
        assert page.locator(".rd-sortable th").nth(1).get_attribute("aria-sort") == "ascending"
        headers.nth(1).click()
        assert page.evaluate(column, 1) == ["1.6 B", "250 M", "12,000", "900"]
        assert page.locator(".rd-sortable th").nth(1).get_attribute("aria-sort") == "descending"
        headers.nth(2).focus()
        page.keyboard.press("Enter")  # a header is a button: the keyboard sorts too
        assert page.evaluate(column, 2) == ["1.2e-4", "3e-2", "0.5", "—"]
        assert page.locator(".rd-sortable th").nth(1).get_attribute("aria-sort") is None
        page.keyboard.press("Space")
        assert page.evaluate(column, 2) == ["0.5", "3e-2", "1.2e-4", "—"]  # the missing value stays last
        headers.nth(3).click()
        assert page.evaluate(column, 3) == ["alpha", "beta", "delta", "gamma"]
        headers.nth(4).click()
        assert page.evaluate(column, 4) == ["42 s", "7 min 05 s", "2 h 05 min", "∞"]

        label = page.locator("pre.rd-mermaid .nodeLabel", has_text="Keep the best")
        label.wait_for(timeout=20_000)
        assert label.inner_text().replace("\n", " ") == LONG_LABEL  # whole, not cut
        lines = label.evaluate("e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)")
        assert lines >= 2  # wrapped onto several lines instead of one long box
        assert dialogs == []


class _Site(http.server.SimpleHTTPRequestHandler):
    """Serves the folder it is given at /sub/path/, and 404.html for any missing page, as a web
    server configured with the site's error page does."""

    def translate_path(self, path: str) -> str:
        inside = path.startswith("/sub/path/")
        return super().translate_path(path.removeprefix("/sub/path")) if inside else "/nonexistent"

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != 404:
            return super().send_error(code, message, explain)
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def _served(site: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Site, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sub/path/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_404_page_works_from_disk_and_under_a_sub_path(site: Path) -> None:
    styled = "() => getComputedStyle(document.querySelector('.md-header')).position"  # Material's CSS: sticky
    home = "() => document.querySelector('.md-content a[href$=\"index.html\"]').href"
    with chromium_page() as (page, dialogs), _served(site) as root:
        page.goto((site / "404.html").as_uri())
        assert page.evaluate(styled) == "sticky"
        assert page.evaluate(home) == (site / "index.html").as_uri()
        for url, status in ((f"{root}404.html", 200), (f"{root}runs/no/such/page.html", 404)):
            response = page.goto(url)
            assert response is not None and response.status == status
            assert page.evaluate(styled) == "sticky", url
            assert page.evaluate(home) == f"{root}index.html", url
            page.click(".md-content a[href$='index.html']")
            assert page.url == f"{root}index.html" and "My experiments" in page.title()
        assert dialogs == []
