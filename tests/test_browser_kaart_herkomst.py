"""The gap map of the Kaart page in a real browser (Debian chromium through Playwright), against
stand-in CBS (the real 85512NED extract) and PDOK (the real 2022 gemeenten) servers: the map is
drawn by MapLibre with every gemeente, and a screenshot is written to tests/artifacts/screenshots/.

Needs /usr/bin/chromium (or $BROWSER_PATH); never downloads a browser."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR, CbsODataServer, table_from_shared_kwb2024
from devtools.standins.origin_extracts import GEMEENTEN_2022, KWB2024, ORIGIN_DIR, shared_origin_v3_tables
from devtools.standins.pdok import PdokServer, features_from_shared_gemeenten_2022
from devtools.standins.shared_data import require_shared

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium ontbreekt ({CHROMIUM})", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Python-pakket playwright ontbreekt")

from devtools.streamlit_server import streamlit_server  # noqa: E402

#: JS: the features MapLibre has drawn for the first plotly map, and the map's meta
RENDERED = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullLayout || !gd._fullLayout.map || !gd._fullLayout.map._subplot) return -1;
  const m = gd._fullLayout.map._subplot.map;
  return m ? m.queryRenderedFeatures().length : -1;
}"""
META = "() => { const gd = document.querySelector('.js-plotly-plot'); return gd && gd.layout ? gd.layout.meta : null; }"
IDLE = """() => !document.querySelector('[data-testid="stStatusWidget"]')
  && !document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')
  && !!document.querySelector('[data-testid="stMain"] h1')"""


@pytest.fixture(scope="module")
def server():
    shared = require_shared(f"{ORIGIN_DIR}/85512NED.csv", f"{ORIGIN_DIR}/86008NED.csv", GEMEENTEN_2022, KWB2024,
                            f"{KWB2024_DIR}/{KWB2024_CSV}")
    cbs = CbsODataServer([table_from_shared_kwb2024(shared), *shared_origin_v3_tables(shared, ("85512NED", "86008NED"))])
    pdok = PdokServer()
    pdok.add_gebiedsindeling("gemeente_gegeneraliseerd", features_from_shared_gemeenten_2022(shared))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with cbs, pdok, streamlit_server({"CBS_ODATA_URL": cbs.url, "PDOK_URL": pdok.url,
                                      "CBS_ODATA4_URL": "http://127.0.0.1:9", "BUURTMONITOR_RETRIES": "0"},
                                     log_path=ARTIFACTS / "streamlit-kaart-herkomst.log") as url:
        yield url


def wait_idle(pg, timeout_ms: int = 90_000) -> None:
    pg.wait_for_function(IDLE, timeout=timeout_ms)
    pg.wait_for_timeout(800)
    pg.wait_for_function(IDLE, timeout=timeout_ms)


def test_gap_map_in_the_browser(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 1500}, locale="nl-NL")
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        SHOTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.goto(f"{server}/?gemeente=GM0228&niveau=gemeente&jaar=2024")
            wait_idle(pg)
            pg.get_by_text("Verschil naar herkomst (CBS, per gemeente)").click()
            wait_idle(pg)
            pg.locator('[data-testid="stSelectbox"]').filter(has_text="Tabel").click()
            pg.get_by_role("option", name=re.compile("85512NED")).click()
            wait_idle(pg)
            pg.wait_for_function(f"({META})() && ({META})().indicator.includes('herkomst_buiten_europa')",
                                 timeout=60_000)
            pg.wait_for_function(f"({RENDERED})() > 300", timeout=60_000)
        except Exception:
            pg.screenshot(path=str(SHOTS / "kaart_verschil_herkomst_fout.png"), full_page=True)
            raise
        pg.wait_for_timeout(1500)
        height = pg.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        pg.set_viewport_size({"width": 1440, "height": int(min(max(height, 1500), 6000))})
        pg.wait_for_timeout(1500)
        pg.screenshot(path=str(SHOTS / "kaart_verschil_herkomst.png"), full_page=True)
        meta = pg.evaluate(META)
        drawn = pg.evaluate(RENDERED)
        main_text = pg.locator('[data-testid="stMain"]').inner_text()
        assert pg.locator('[data-testid="stException"]').count() == 0
        ctx.close()
        browser.close()
    assert errors == []
    assert meta["areas"] == 345 and meta["reference"] == 0.0 and drawn >= 300
    assert "Ede: plaats 42 van 341 gemeenten" in main_text
    assert "grenzen van de gemeenten van 2022" in main_text


@pytest.fixture(scope="module")
def demo_server():
    """The offline demo (nothing listens for CBS or PDOK)."""
    with streamlit_server(log_path=ARTIFACTS / "streamlit-kaart-eigen.log") as url:
        yield url


TRACE_NAMES = "() => { const gd = document.querySelector('.js-plotly-plot'); return gd ? gd.data.map(t => t.name) : []; }"


def test_own_buurt_figures_of_the_demo_in_the_browser(demo_server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 1500}, locale="nl-NL")
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{demo_server}/?niveau=buurt")
        wait_idle(pg)
        pg.get_by_text("Eigen gegevens naar herkomst").click()
        wait_idle(pg)
        pg.wait_for_function(f"({META})() && ({META})().indicator.startsWith('eigen_')", timeout=60_000)
        pg.wait_for_function(f"({RENDERED})() > 30", timeout=60_000)
        pg.wait_for_timeout(1500)
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "kaart_eigen_gegevens_buurt.png"), full_page=True)
        names = pg.evaluate(TRACE_NAMES)
        main_text = pg.locator('[data-testid="stMain"]').inner_text()
        assert pg.locator('[data-testid="stException"]').count() == 0
        ctx.close()
        browser.close()
    assert errors == []
    assert any(n and n.startswith("geen gegevens / te weinig personen") for n in names), names
    assert "Eigen gegevens — " in main_text and "FICTIEVE VOORBEELDGEGEVENS" in main_text
