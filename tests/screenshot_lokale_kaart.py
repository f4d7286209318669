"""Screenshots of the Lokale kaart page in a real browser (not a test; run by hand):

    .venv/bin/python tests/screenshot_lokale_kaart.py [--out tests/artifacts/screenshots]

Starts the stand-in CBS (real KWB 2024 extract) and PDOK (Ede wijken) servers from
tests/standins, starts ``streamlit run dashboard.py`` on a free port pointed at them (empty
cache and notes folder in a temporary directory), opens the page for Ede, Amsterdam and the
fictitious Voorbeeldgemeente with Playwright's Chromium, clicks through the four tabs and saves
a full-page screenshot of each. On the demo it also adds a worksheet note through the form
(with HTML in it, to see that it is shown as plain text).

Chromium: ``$BROWSER_PATH``, else ``chromium``/``chromium-browser`` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

from devtools.standins.cbs_odata import CbsODataServer, table_from_shared_kwb2024  # noqa: E402
from devtools.standins.pdok import PdokServer, features_from_shared_ede_wijken, features_from_shared_gemeenten_2022  # noqa: E402
from devtools.streamlit_server import streamlit_process  # noqa: E402

TABS = ("Segregatie en diversiteit", "Veranderingen", "Clusters", "Werkblad")
#: (name, query string) of the views to capture
VIEWS = [
    ("ede_wijk", "gemeente=GM0228&jaar=2024&niveau=wijk"),
    ("ede_buurt", "gemeente=GM0228&jaar=2024&niveau=buurt"),
    ("amsterdam_wijk", "gemeente=GM0363&jaar=2024&niveau=wijk"),
    ("demo_buurt", "gemeente=GM9901&jaar=2024&niveau=buurt"),
    ("demo_2023", "gemeente=GM9901&jaar=2023&niveau=buurt"),
]
NOTE = "Zorgen over het winkelcentrum <script>alert(1)</script> **vet**"


def browser_path() -> str:
    for cand in (os.environ.get("BROWSER_PATH"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and Path(cand).exists():
            return cand
    sys.exit("Geen Chromium gevonden: zet BROWSER_PATH.")


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the script run is over (no 'running' status widget) and maps are drawn."""
    page.wait_for_selector('[data-testid="stTabs"], [data-testid="stException"]', timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count()
        spinners = page.locator('[data-testid="stSpinner"]').count()
        if not running and not spinners:
            break
        time.sleep(0.3)
    time.sleep(1.5)   # plotly/maplibre paints after the script run


def shoot(page, path: Path) -> None:
    """Full-page screenshot: Streamlit scrolls inside its main container, so grow the
    viewport to the content height first."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]') || document.body;"
        " return Math.max(m.scrollHeight, document.body.scrollHeight); }")
    page.set_viewport_size({"width": 1440, "height": min(max(int(height) + 40, 900), 16000)})
    time.sleep(0.8)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "artifacts" / "screenshots"))
    ap.add_argument("--only", nargs="*", help="names of views to capture (default: all)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="buurtmonitor-shots-"))
    cbs = CbsODataServer([table_from_shared_kwb2024()]).start()
    pdok = PdokServer()
    pdok.add_collection(2024, "wijken", features_from_shared_ede_wijken())
    pdok.add_gebiedsindeling("gemeente_gegeneraliseerd", features_from_shared_gemeenten_2022())
    pdok.start()
    env = {"CBS_ODATA_URL": cbs.url, "PDOK_URL": pdok.url,
           "BUURTMONITOR_CACHE_DIR": str(tmp / "cache"), "BUURTMONITOR_DATA_DIR": str(tmp / "data")}
    saved: list[Path] = []
    try:
        with streamlit_process(env, log_path=tmp / "streamlit.log", timeout=90) as (url, _proc):
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=browser_path(), headless=True)
                # The first session after a server start registers the st.navigation pages; a deep
                # link opened before that shows Streamlit's "Page not found" dialog. Warm up first.
                warm = browser.new_page()
                warm.goto(url, wait_until="networkidle")
                warm.wait_for_selector('[data-testid="stSidebarNav"], [data-testid="stSidebar"]', timeout=120_000)
                time.sleep(2)
                warm.close()
                for name, query in VIEWS:
                    if args.only and name not in args.only:
                        continue
                    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="nl-NL")
                    page.goto(f"{url}/lokale_kaart?{query}", wait_until="networkidle")
                    wait_idle(page)
                    for i, tab in enumerate(TABS, start=1):
                        page.get_by_role("tab", name=tab).click()
                        time.sleep(1.0)
                        if tab == "Veranderingen" and name == "demo_buurt":
                            # lower thresholds, so the table of flagged areas shows
                            for label, value in (("Drempel aandeel groep (procentpunt)", "1.0"),
                                                 ("Drempel samenstelling (procentpunt)", "1.5")):
                                box = page.locator(f'input[aria-label="{label}"]').first
                                box.fill(value)
                                box.press("Enter")
                                wait_idle(page)
                        if tab == "Werkblad" and name.startswith("demo") and "2023" not in name:
                            page.locator('textarea[aria-label="Nieuwe notitie over de hele gemeente"]').first.fill(NOTE)
                            page.locator('input[aria-label="Uw naam of afdeling (optioneel)"]').first.fill("Team Samenleving")
                            page.get_by_role("button", name="Notitie toevoegen").first.click()
                            wait_idle(page)
                        path = out / f"lokale_kaart_{name}_{i}_{tab.split()[0].lower()}.png"
                        shoot(page, path)
                        saved.append(path)
                        print(path)
                    exc = page.locator('[data-testid="stException"]').count()
                    if exc:
                        print(f"  LET OP: {exc} foutmelding(en) op {name}")
                    page.close()
                browser.close()
    finally:
        cbs.stop()
        pdok.stop()
    print(f"{len(saved)} schermafbeeldingen in {out} (log: {tmp / 'streamlit.log'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
