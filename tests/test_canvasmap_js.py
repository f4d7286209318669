"""buurtmonitor/web/canvasmap.js on its own, in headless Chromium (no Streamlit): a small page on
127.0.0.1 imports the module and mounts it with hand-made data, as Streamlit's custom
component host does. Names with HTML in them stay text, a missing geometry file and data that
do not fit the geometry give a Dutch message instead of a wrong map, and a click reports the
code of the area under the pointer."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium ontbreekt ({CHROMIUM}); installeer het Debian-pakket chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Python-pakket playwright ontbreekt")

EVIL = 'Buurt <img src=x onerror="window.__xss=1"><b>vet</b>'
PAGE = """<!doctype html><meta charset="utf-8"><style>body{margin:0}</style><div id="host"></div>
<script type="module">
import mount from "./canvasmap.js";
const css = await (await fetch("./canvasmap.css")).text();
window.calls = [];
let cleanup = null;
window.mount = (data) => {
  const host = document.getElementById("host");
  if (!host.shadowRoot) {
    const root = host.attachShadow({mode: "open"});
    const style = document.createElement("style"); style.textContent = css; root.append(style);
  }
  cleanup = mount({parentElement: host.shadowRoot, data,
                   setTriggerValue: (k, v) => window.calls.push([k, v])});
};
window.unmount = () => { if (cleanup) cleanup(); cleanup = null; };
window.ready = true;
</script>"""


def _square(code: str, name: str, x0: float, y0: float, d: float = 0.1) -> dict:
    ring = [[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]
    return {"type": "Feature", "id": code, "properties": {"n": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


FEATURES = [_square("BU00010001", EVIL, 5.0, 52.0), _square("BU00010002", "Oost", 5.1, 52.0),
            _square("BU00010003", "Noord", 5.0, 52.1)]


def _data(**over) -> dict:
    d = {"url": "geo.json", "geojson": None, "geo_key": "t", "codes": None,
         "cls": [0, 1, -1], "txt": ["12,5%", "40,0%", "geheim (minder dan 10 inwoners)"],
         "n": ["1.200", "800", ""], "v": [], "small": [0], "colours": ["#fde725", "#440154"],
         "legend": {"title": "%", "items": [{"kind": "fill", "colour": "#fde725", "label": EVIL}]},
         "labels": {"indicator": "Herkomst buiten Europa", "n_label": "aantal inwoners",
                    "definition": "Aandeel inwoners", "ref_label": None, "ref_value": None, "ref_text": None,
                    "not_in_table": "niet in tabel"},
         "selected": None, "parent": None, "bounds": [5.0, 52.0, 5.2, 52.2], "view_key": "",
         "focus": [], "banner": "", "alt": "Testkaart", "height": 400}
    d.update(over)
    return d


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for name in ("canvasmap.js", "canvasmap.css"):
        shutil.copy(ROOT / "buurtmonitor" / "web" / name, root / name)
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    (root / "geo.json").write_text(json.dumps({"type": "FeatureCollection", "features": FEATURES}), encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    ctx = browser.new_context(viewport={"width": 800, "height": 600})
    pg = ctx.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(f"{site}/index.html")
    pg.wait_for_function("() => window.ready === true")
    yield pg
    with contextlib.suppress(Exception):
        pg.evaluate("() => window.unmount()")
    ctx.close()


def _status(pg) -> str:
    loc = pg.locator(".bm-status")
    return loc.inner_text() if loc.is_visible() else ""


def test_names_stay_text_and_click_reports_the_code(page):
    page.evaluate("(d) => window.mount(d)", _data())
    page.wait_for_function("() => !!window.__bmCanvasPainted")
    box = page.locator("canvas.bm-canvas").bounding_box()
    # the fitted map: 0.2° wide, 0.2° tall (Mercator: taller than wide) in 800 × 400 px; the
    # south-west square is the one with the evil name
    page.mouse.move(box["x"] + box["width"] / 2 - 20, box["y"] + box["height"] - 40)
    tip = page.locator(".bm-tip")
    tip.wait_for(state="visible", timeout=5000)
    text = tip.inner_text()
    assert "<img" in text and "(BU00010001)" in text and "12,5%" in text, text
    assert "klein aantal" in text                                          # small n (index 0)
    assert page.locator(".bm-tip img").count() == 0 and page.locator(".bm-legend img").count() == 0
    assert "<b>vet</b>" in page.locator(".bm-legend").inner_text()
    assert page.evaluate("() => window.__xss") is None
    page.mouse.click(box["x"] + box["width"] / 2 - 20, box["y"] + box["height"] - 40)
    page.wait_for_function("() => window.calls.length > 0", timeout=5000)
    assert page.evaluate("() => window.calls") == [["clicked", "BU00010001"]]
    # the area without a value: its reason, never a number
    page.mouse.move(box["x"] + box["width"] / 2 - 20, box["y"] + 40)
    page.wait_for_function("() => document.querySelector('#host').shadowRoot"
                           ".querySelector('.bm-tip').innerText.includes('Noord')", timeout=5000)
    text = tip.inner_text()
    assert "geen waarde" in text and "Reden: geheim" in text, text
    assert page.errors == []


def test_missing_geometry_file_gives_a_dutch_message(page):
    page.evaluate("(d) => window.mount(d)", _data(url="bestaat-niet.json"))
    page.wait_for_function("() => { const s = document.querySelector('#host').shadowRoot.querySelector('.bm-status');"
                           " return s && s.textContent.includes('niet worden geladen'); }", timeout=5000)
    assert "HTTP 404" in _status(page) and "tab Tabel" in _status(page)
    # the same again (a rerun): still the message, no script error; then a good file draws
    page.evaluate("(d) => window.mount(d)", _data(url="bestaat-niet.json", txt=["13,0%", "40,0%", "geheim"]))
    page.wait_for_timeout(300)
    assert "HTTP 404" in _status(page)
    page.evaluate("(d) => window.mount(d)", _data())
    page.wait_for_function("() => !!window.__bmCanvasPainted")
    assert _status(page) == ""
    assert page.errors == []


def test_data_that_do_not_fit_the_geometry_are_not_drawn(page):
    page.evaluate("(d) => window.mount(d)", _data(cls=[0, 1], txt=["1", "2"], n=["", ""]))
    page.wait_for_function("() => { const s = document.querySelector('#host').shadowRoot.querySelector('.bm-status');"
                           " return s && s.textContent.includes('horen niet bij elkaar'); }", timeout=5000)
    assert page.evaluate("() => window.__bmCanvasPainted") is None          # nothing was drawn
    # with codes the rows are matched by code, whatever their order and number
    page.evaluate("(d) => window.mount(d)", _data(cls=[1, 0], txt=["40,0%", "12,5%"], n=["800", "1.200"],
                                                  codes=["BU00010002", "BU00010001"], small=[]))
    page.wait_for_function("() => !!window.__bmCanvasPainted")
    assert _status(page) == ""
    assert page.errors == []
