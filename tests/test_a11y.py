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


def test_canvas_map_by_keyboard_choose_area_read_value_and_hear_the_selection(canvas_server, page):
    """Tab to the map, N/P step through the areas in view (each read out with its value), Enter
    chooses one: the URL, the page and the live region agree on it; axe finds nothing serious."""
    page.goto(f"{canvas_server}/?niveau=wijk")
    page.wait_for_function(f"() => {{ const c = ({IN_CANVAS})('canvas.bm-canvas'); return !!(c && c.dataset.painted); }}",
                           timeout=60_000)
    wait_idle(page)
    canvas = page.locator("canvas.bm-canvas")
    assert canvas.get_attribute("role") == "application"
    keys = page.locator(f"#{canvas.get_attribute('aria-describedby')}")
    assert "Enter" in keys.inner_text() or "Enter" in (keys.text_content() or "")
    live = page.locator('.bm-root [role="status"]')
    assert live.get_attribute("aria-live") == "polite"
    canvas.focus()
    page.keyboard.press("n")
    first = live.text_content() or ""
    m = re.match(r"(.+) \((WK9901\d\d)\): Herkomst buiten Europa: (\d+,\d%|geen waarde[^;.]*)", first)
    assert m, first
    assert "Gebied 1 van 6 in beeld" in first, first
    tip = page.locator(".bm-tip")
    assert tip.is_visible() and f"({m.group(2)})" in tip.inner_text()      # shown as well as read out
    page.keyboard.press("PageDown")
    second = live.text_content() or ""
    assert "Gebied 2 van 6" in second and m.group(2) not in second, second
    page.keyboard.press("p")
    assert (live.text_content() or "").startswith(f"{m.group(1)} ({m.group(2)})")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('gebied') === '{m.group(2)}'",
                           timeout=30_000)
    wait_idle(page)
    page.wait_for_function(f"() => {{ const s = ({IN_CANVAS})('[role=status]'); "
                           f"return !!s && s.textContent.startsWith('Geselecteerd: '); }}", timeout=30_000)
    said = live.text_content() or ""
    assert said.startswith(f"Geselecteerd: {m.group(1)} ({m.group(2)}): Herkomst buiten Europa: {m.group(3)}"), said
    # the page's own line about the selection says the same value
    assert page.get_by_text(f"Geselecteerd: {m.group(1)} ({m.group(2)}): {m.group(3)}").first.is_visible()
    assert serious(axe_violations(page)) == []
    assert page.errors == [], page.errors
