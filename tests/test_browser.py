"""The dashboard in a real browser (Debian chromium through Playwright): the offline demo
starts, the map is drawn by MapLibre, switching the indicator redraws it without errors, a
click selects an area, and every page is screenshotted to tests/artifacts/screenshots/.

Needs /usr/bin/chromium (or $BROWSER_PATH); never downloads a browser."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
#: (url path, file) of every page in dashboard.py. Kaart is the default page: its URL is the
#: root (Streamlit answers /kaart with a "Page not found" dialog once st.navigation is active).
PAGES = [("", "kaart.py"), ("herkomst", "herkomst.py"), ("integratie", "integratie.py"),
         ("gebiedsprofiel", "gebiedsprofiel.py"),
         ("ontwikkeling", "ontwikkeling.py"), ("lokale_kaart", "lokale_kaart.py"),
         ("briefing", "briefing.py"), ("hulpmiddelen", "hulpmiddelen.py")]

if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium ontbreekt ({CHROMIUM}); installeer het Debian-pakket chromium "
                "(make sysdeps) of zet BROWSER_PATH", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Python-pakket playwright ontbreekt")

from devtools.streamlit_server import streamlit_server  # noqa: E402

TIMINGS: dict[str, float] = {}

#: JS: how many features MapLibre has drawn for the first plotly map on the page (-1: no map yet)
RENDERED = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullLayout || !gd._fullLayout.map || !gd._fullLayout.map._subplot) return -1;
  const m = gd._fullLayout.map._subplot.map;
  return m ? m.queryRenderedFeatures().length : -1;
}"""
META = "() => { const gd = document.querySelector('.js-plotly-plot'); return gd && gd.layout ? gd.layout.meta : null; }"


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with streamlit_server(log_path=ARTIFACTS / "streamlit.log") as url:
        TIMINGS["server_start_s"] = round(time.monotonic() - t0, 2)
        yield url
    (ARTIFACTS / "browser_timings.json").write_text(json.dumps(TIMINGS, indent=2))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="nl-NL")
    pg = ctx.new_page()
    pg.console_errors = []  # type: ignore[attr-defined]
    pg.external = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(f"pageerror: {e}"))
    pg.on("request", lambda r: re.match(r"(https?|wss?)://127\.0\.0\.1[:/]", r.url) or
          r.url.startswith(("data:", "blob:")) or pg.external.append(r.url))
    yield pg
    ctx.close()
    # the dashboard works offline: nothing is fetched from elsewhere (fonts, icons, tiles)
    assert pg.external == [], pg.external


IDLE = """() => {
  const running = !!document.querySelector('[data-testid="stStatusWidget"]');
  const skeleton = !!document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]');
  const h1 = !!document.querySelector('[data-testid="stMain"] h1');
  return !running && !skeleton && h1;
}"""


def wait_idle(pg, timeout_s: float = 60.0, stable_s: float = 1.0) -> None:
    """Wait until Streamlit has run the page script: a title, no skeletons, no 'Running…'
    widget, and that for ``stable_s`` seconds in a row."""
    deadline = time.monotonic() + timeout_s
    since = None
    while time.monotonic() < deadline:
        if pg.evaluate(IDLE):
            since = since or time.monotonic()
            if time.monotonic() - since >= stable_s:
                return
        else:
            since = None
        pg.wait_for_timeout(100)
    raise TimeoutError(f"pagina {pg.url} werd niet klaar binnen {timeout_s:.0f} s")


def wait_map(pg, timeout: float = 60_000) -> None:
    pg.wait_for_selector(".js-plotly-plot", timeout=timeout)
    pg.wait_for_selector(".maplibregl-canvas", timeout=timeout)
    pg.wait_for_function(f"({RENDERED})() > 0", timeout=timeout)


def assert_no_exception(pg) -> None:
    exc = pg.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()
    dialog = pg.locator('[role="dialog"]')
    assert dialog.count() == 0, dialog.first.inner_text()   # e.g. "Page not found"


def plotly_errors(pg) -> list[str]:
    return [e for e in pg.console_errors if re.search(r"plotly|maplibre|webgl|map error", e, re.I)]


def test_map_draws_and_switching_indicator_redraws(server, page):
    t0 = time.monotonic()
    page.goto(f"{server}/kaart")
    wait_map(page)
    TIMINGS["first_map_s"] = round(time.monotonic() - t0, 2)
    wait_idle(page)
    assert_no_exception(page)
    assert page.get_by_text("FICTIEVE VOORBEELDGEGEVENS").first.is_visible()
    # a deep link on a fresh server still runs through dashboard.py (its menu, its wide layout)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Hulpmiddelen" in nav and "dashboard" not in nav, nav
    meta = page.evaluate(META)
    assert meta["indicator"] == "pct_herkomst_buiten_europa"

    # another indicator in the sidebar selectbox (type to filter, Enter to choose)
    t0 = time.monotonic()
    switched = f"() => {{ const m = ({META})(); return m && m.indicator === 'pct_herkomst_europa'; }}"
    for attempt in range(3):  # a rerun that lands while typing swallows the keys: try again
        wait_idle(page)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Indicator")
        box.locator("input").click()
        page.keyboard.type("Herkomst Europa")
        try:  # click the option itself once the list shows it (Enter may land before it does)
            option = page.get_by_role("option", name=re.compile(r"Herkomst Europa \(excl")).first
            option.wait_for(state="visible", timeout=10_000)
            option.click()
            page.wait_for_function(switched, timeout=20_000)
            break
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    wait_map(page)
    TIMINGS["indicator_switch_s"] = round(time.monotonic() - t0, 2)
    wait_idle(page)
    assert_no_exception(page)
    assert "indicator=pct_herkomst_europa" in page.url
    assert plotly_errors(page) == [], plotly_errors(page)


def test_click_on_map_selects_area(server, page):
    page.goto(f"{server}/?niveau=wijk")
    wait_map(page)
    wait_idle(page)
    canvas = page.locator(".maplibregl-canvas").first.bounding_box()
    # the centre of the demo gemeente lies in a wijk
    page.mouse.click(canvas["x"] + canvas["width"] * 0.45, canvas["y"] + canvas["height"] * 0.5)
    page.wait_for_function("() => new URLSearchParams(location.search).get('gebied') !== null", timeout=30_000)
    wait_idle(page)
    wait_map(page)
    assert re.search(r"gebied=WK9901\d\d", page.url), page.url
    assert page.evaluate(META)["level"] == "wijk"
    assert page.get_by_text("Geselecteerd:").first.is_visible()
    assert_no_exception(page)


@pytest.mark.parametrize("path,file", PAGES, ids=[f.removesuffix(".py") for _, f in PAGES])
def test_screenshot_every_page(server, page, path, file):
    if not (ROOT / "pages" / file).exists():
        pytest.skip(f"pages/{file} bestaat (nog) niet")
    SHOTS.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    page.goto(f"{server}/{path}")
    wait_idle(page)
    if page.locator(".js-plotly-plot").count():
        page.wait_for_timeout(1500)  # let plotly/MapLibre finish drawing
    # Streamlit scrolls inside stMain: grow the viewport to the content for a whole-page shot
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": 1440, "height": int(min(max(height, 1000), 8000))})
    page.wait_for_timeout(1500)
    name = file.removesuffix(".py")
    TIMINGS[f"page_{name}_s"] = round(time.monotonic() - t0, 2)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert_no_exception(page)
    assert page.locator("h1").first.is_visible()
    assert plotly_errors(page) == [], plotly_errors(page)


# ------------------------------------------------------------------------------ Integratie, real extracts
@pytest.fixture(scope="module")
def integratie_server():
    """The dashboard against stand-ins with the real extracts: KWB 2024 and 85512NED over v3,
    86008NED only over v4 (the fallback)."""
    from devtools.standins.cbs_odata import (
        KWB2024_CSV,
        KWB2024_DIR,
        CbsODataServer,
        table_from_shared_kwb2024,
    )
    from devtools.standins.cbs_odata4 import CbsOData4Server, v4_table
    from devtools.standins.origin_extracts import (
        GEMEENTEN_2022,
        KWB2024,
        ORIGIN_DIR,
        origin_extract,
        shared_origin_v3_tables,
    )
    from devtools.standins.shared_data import require_shared

    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}", GEMEENTEN_2022, KWB2024,
                            *[f"{ORIGIN_DIR}/{t}.csv" for t in ("85512NED", "86008NED", "71317ned")])
    v3 = CbsODataServer([table_from_shared_kwb2024(shared), *shared_origin_v3_tables(shared, ("85512NED", "71317ned"))])
    v4 = CbsOData4Server([v4_table(origin_extract("86008NED", shared))])
    with v3, v4, streamlit_server({"CBS_ODATA_URL": v3.url, "CBS_ODATA4_URL": v4.url},
                                  log_path=ARTIFACTS / "streamlit-integratie.log") as url:
        yield url


def _full_page_shot(pg, name: str) -> None:
    height = pg.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                         " return m ? m.scrollHeight : document.body.scrollHeight; }")
    pg.set_viewport_size({"width": 1440, "height": int(min(max(height, 1000), 8000))})
    pg.wait_for_timeout(1500)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("gemeente,name", [("GM0228", "ede"), ("GM0363", "amsterdam")])
def test_integratie_page_with_real_figures(integratie_server, page, gemeente, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{integratie_server}/integratie?gemeente={gemeente}&jaar=2024")
    wait_idle(page, timeout_s=120)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    assert_no_exception(page)
    assert page.get_by_text("via CBS OData v4").first.is_visible()     # 86008NED, the trend over the years
    _full_page_shot(page, f"integratie_{name}_86008ned")
    # the 2021 table with the five large countries of origin
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Bron").click()
    page.get_by_role("option", name=re.compile("85512NED")).click()
    wait_idle(page, timeout_s=60)
    assert page.get_by_text("85512NED heeft geen cijfers voor 2024; u ziet 2021").first.is_visible()
    if gemeente == "GM0228":
        assert page.get_by_text("bij inwoners met herkomst buiten Europa: 61%, 14 procentpunt lager").first.is_visible()
    _full_page_shot(page, f"integratie_{name}")
    assert_no_exception(page)
    assert plotly_errors(page) == [], plotly_errors(page)
@pytest.mark.parametrize("path", ["", "herkomst", "hulpmiddelen"])
def test_bad_link_shows_dutch_lines_never_a_traceback(server, page, path):
    """A link with a year that is no number and HTML as gemeente: the page works, says in
    Dutch what it shows instead, shows the HTML literally (never as markup), and the URL
    carries what is shown."""
    page.goto(f"{server}/{path}?jaar=abc&gemeente=%3Cscript%3Ealert(1)%3C%2Fscript%3E&niveau=x")
    wait_idle(page)
    assert_no_exception(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Traceback" not in main and ".py" not in main and "ValueError" not in main
    assert "Het jaar ‘abc’ in de link is geen jaartal; getoond wordt 2024." in main, main
    assert "De gemeente ‘<script>alert(1)</script>’ bestaat niet in 2024" in main, main
    assert page.locator('[data-testid="stMain"] script').count() == 0
    page.wait_for_function("() => new URLSearchParams(location.search).get('jaar') === '2024'", timeout=10_000)
    assert "script" not in page.url and "niveau=x" not in page.url, page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"bad_link_{path or 'kaart'}.png"))


def test_deep_link_opens_the_tab_it_names(server, page):
    page.goto(f"{server}/?niveau=buurt&indeling=equal_interval&klassen=3&tab=tabel")
    wait_idle(page)
    assert_no_exception(page)
    active = page.locator('[data-testid="stMain"] [role="tab"][aria-selected="true"]').first.inner_text()
    assert "Tabel" in active, active
    assert "tab=tabel" in page.url and "klassen=3" in page.url
    assert not [w for w in page.locator('[data-testid="stAlert"]').all_inner_texts() if "uit de link" in w]


# ------------------------------------------------------------------------------ canvas map
#: JS: the canvas map's <canvas> (inside the component's shadow root), or null
CANVAS = """() => {
  for (const host of document.querySelectorAll('[data-testid="stMain"] *'))
    if (host.shadowRoot) { const c = host.shadowRoot.querySelector('canvas.bm-canvas'); if (c) return c; }
  return null;
}"""
#: JS: a hash of the canvas pixels (changes when the map is redrawn differently)
PIXELS = f"""() => {{
  const c = ({CANVAS})(); if (!c || !c.width) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0, coloured = 0;
  for (let i = 0; i < d.length; i += 16) {{
    h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
    if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) coloured++;
  }}
  return {{hash: h, coloured}};
}}"""


@pytest.fixture(scope="module")
def canvas_server():
    """The demo with the canvas map for every map (normally from 2,500 areas on)."""
    with streamlit_server({"BUURTMONITOR_CANVAS_MIN_AREAS": "1"},
                          log_path=ARTIFACTS / "streamlit-canvas.log") as url:
        yield url


def wait_canvas(pg, timeout: float = 60_000) -> None:
    pg.wait_for_function(f"() => {{ const c = ({CANVAS})(); return !!(c && c.dataset.painted); }}",
                         timeout=timeout)


def test_canvas_map_hover_zoom_click(canvas_server, page):
    page.goto(f"{canvas_server}/?niveau=buurt_nl")
    wait_canvas(page)
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").count() == 0            # no WebGL map on this page
    before = page.evaluate(PIXELS)
    assert before["coloured"] > 1000, before                       # polygons drawn, not a blank canvas
    legend = page.locator(".bm-legend").inner_text()
    assert "%" in legend and "gemeentegrenzen" in legend, legend
    assert page.locator(".bm-banner").inner_text().startswith("FICTIEVE VOORBEELDGEGEVENS")

    # hover: a tooltip with the buurt, its value as on the table tab, and n
    box = page.locator("canvas.bm-canvas").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.move(x + 2, y + 2)
    tip = page.locator(".bm-tip")
    tip.wait_for(state="visible", timeout=10_000)
    text = tip.inner_text()
    m = re.search(r"\((BU9901\d{4})\)", text)
    assert m, text
    assert re.search(r"Herkomst buiten Europa: (\d+,\d%|geen waarde)", text), text

    # zoom in with the wheel: the picture changes, and the same spot is still a buurt
    for _ in range(4):
        page.mouse.wheel(0, -240)
        page.wait_for_timeout(80)
    page.wait_for_timeout(300)
    zoomed = page.evaluate(PIXELS)
    assert zoomed["hash"] != before["hash"]

    # click: the buurt under the pointer becomes the selection (URL, text, outline in legend)
    page.mouse.move(x + 1, y + 1)
    tip.wait_for(state="visible", timeout=10_000)
    code = re.search(r"\((BU9901\d{4})\)", tip.inner_text()).group(1)
    page.mouse.click(x + 1, y + 1)
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('gebied') === '{code}'",
                           timeout=30_000)
    wait_idle(page)
    wait_canvas(page)
    assert page.get_by_text(f"({code})").first.is_visible()
    assert "geselecteerd:" in page.locator(".bm-legend").inner_text()
    # the zoom survived the rerun (same view), the selection outline changed the picture
    after = page.evaluate(PIXELS)
    assert after["coloured"] > 1000 and after["hash"] != before["hash"]
    # the whole map again
    page.get_by_role("button", name="Hele kaart").click()
    page.wait_for_timeout(300)
    whole = page.evaluate(PIXELS)
    assert whole["coloured"] < zoomed["coloured"]
    # zoom to the selected buurt, and to the gemeente of the sidebar
    page.get_by_role("button", name="Naar selectie").click()
    page.wait_for_timeout(300)
    assert page.evaluate(PIXELS)["coloured"] > 1.3 * whole["coloured"]
    page.get_by_role("button", name="Naar Voorbeeldgemeente").click()
    page.wait_for_timeout(300)
    # every demo buurt lies in the Voorbeeldgemeente: the whole of it again, with a wider margin
    assert 0.7 * whole["coloured"] < page.evaluate(PIXELS)["coloured"] < 1.05 * whole["coloured"]
    page.get_by_role("button", name="Hele kaart").click()
    page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "kaart_canvas.png"))
    assert_no_exception(page)
    assert page.console_errors == [], page.console_errors


def test_canvas_map_keyboard_and_indicator_switch(canvas_server, page):
    page.goto(f"{canvas_server}/?niveau=buurt")
    wait_canvas(page)
    wait_idle(page)
    canvas = page.locator("canvas.bm-canvas")
    assert "Kaart: Herkomst buiten Europa per buurt" in (canvas.get_attribute("aria-label") or "")
    start = page.evaluate(PIXELS)
    canvas.focus()
    page.keyboard.press("+")
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(300)
    moved = page.evaluate(PIXELS)
    assert moved["hash"] != start["hash"]
    page.keyboard.press("0")                                        # back to the whole map
    page.wait_for_timeout(300)
    assert page.evaluate(PIXELS)["hash"] == start["hash"]
    # another indicator: other colours on the same geometry, legend follows
    legend = page.locator(".bm-legend").inner_text()
    page.goto(f"{canvas_server}/?niveau=buurt&indicator=pct_herkomst_europa")
    wait_canvas(page)
    wait_idle(page)
    assert page.locator(".bm-legend").inner_text() != legend
    assert page.evaluate(PIXELS)["hash"] != start["hash"]
    assert_no_exception(page)
    assert page.console_errors == [], page.console_errors


def test_canvas_map_double_click_and_pinch_zoom_without_selecting(canvas_server, browser):
    """A double-click zooms in and selects nothing; on a touch screen two fingers pinch-zoom
    (no selection either), one finger pans."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="nl-NL", has_touch=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{canvas_server}/?niveau=buurt_nl")
        wait_canvas(page)
        wait_idle(page)
        box = page.locator("canvas.bm-canvas").bounding_box()
        cx, cy = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
        start = page.evaluate(PIXELS)
        page.mouse.dblclick(cx, cy)
        page.wait_for_timeout(1200)
        zoomed = page.evaluate(PIXELS)
        # the whole map was in view: only zooming in (not panning) can colour more pixels
        assert zoomed["coloured"] > 1.3 * start["coloured"], (start, zoomed)
        assert "gebied=" not in page.url, page.url                  # a double-click is no selection
        page.get_by_role("button", name="Hele kaart").click()
        page.wait_for_timeout(300)
        assert page.evaluate(PIXELS)["hash"] == start["hash"]

        cdp = ctx.new_cdp_session(page)
        def touch(kind: str, points: list[tuple[float, float]]) -> None:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
                {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})
        touch("touchStart", [(cx - 20, cy), (cx + 20, cy)])
        for step in range(1, 9):
            touch("touchMove", [(cx - 20 - 12 * step, cy), (cx + 20 + 12 * step, cy)])
            page.wait_for_timeout(30)
        touch("touchEnd", [])
        page.wait_for_timeout(1200)
        pinched = page.evaluate(PIXELS)
        assert pinched["coloured"] > 1.3 * start["coloured"], (start, pinched)
        assert "gebied=" not in page.url, page.url                  # a pinch is no selection
        assert errors == [], errors
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def served_canvas_server(tmp_path_factory):
    """The demo's national buurt map on the canvas with its geometry always served as a file,
    from a cache folder outside the code folder."""
    cache = tmp_path_factory.mktemp("served") / "cache"
    with streamlit_server({"BUURTMONITOR_CANVAS_MIN_AREAS": "1", "BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES": "0",
                           "BUURTMONITOR_CACHE_DIR": str(cache)},
                          log_path=ARTIFACTS / "streamlit-served.log") as url:
        yield url, cache


GEO_ENTRIES = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/buurtmonitor/geo/'))
  .map((e) => ({name: e.name, transfer: e.transferSize}))"""


def test_canvas_map_draws_from_files_in_the_cache_folder_fetched_once(served_canvas_server, page):
    """The geometry and the gemeente borders come from <cache>/static/geo/ through the st.App
    route; the code folder's static/ is not used (nothing appears there), and after a reload
    the browser takes both files from its own cache."""
    url, cache = served_canvas_server
    code_static = ROOT / "static"
    before = sorted(code_static.rglob("*")) if code_static.exists() else []
    geo = []
    page.on("response", lambda r: "/buurtmonitor/geo/" in r.url and geo.append(r))
    page.goto(f"{url}/?niveau=buurt_nl")
    wait_canvas(page)
    wait_idle(page)
    assert_no_exception(page)
    assert page.evaluate(PIXELS)["coloured"] > 1000                 # polygons drawn
    assert "gemeentegrenzen" in page.locator(".bm-legend").inner_text()
    assert len(geo) == 2 and all(r.status == 200 for r in geo), [(r.url, r.status) for r in geo]
    assert all("immutable" in (r.headers.get("cache-control") or "") for r in geo)
    served = {r.url.rsplit("/", 1)[1] for r in geo}
    assert served <= {p.name for p in (cache / "static" / "geo").glob("*.json")}
    assert (sorted(code_static.rglob("*")) if code_static.exists() else []) == before
    page.reload()
    wait_canvas(page)
    wait_idle(page)
    entries = page.evaluate(GEO_ENTRIES)
    assert {e["name"].rsplit("/", 1)[1] for e in entries} == served
    assert all(e["transfer"] == 0 for e in entries), entries           # from the browser's cache
    assert page.evaluate(PIXELS)["coloured"] > 1000
    assert_no_exception(page)
