"""Login through a real OpenID Connect provider (the npm package oidc-provider on 127.0.0.1),
in Chromium: nothing before the login, the provider's login form, the identity in the sidebar,
roles per gemeente from the roles file and from the groups claim."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

ROLES = """
[[grant]]
user = "bert@ede.nl"
gemeente = "GM0228"
role = "lezer"
"""


# ---------------------------------------------------------------- the real login, in Chromium
needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("node") is None,
                                   reason="Chromium of Node.js ontbreekt (make sysdeps)")


@pytest.fixture(scope="module")
def login_site(tmp_path_factory):
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.skip("Chromium of Node.js ontbreekt (make sysdeps)")
    from devtools.oidc_provider import Client, OidcProvider, User
    from devtools.streamlit_server import free_port, streamlit_process

    tmp = tmp_path_factory.mktemp("login")
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/oauth2callback"
    client_secret = secrets.token_urlsafe(24)
    users = [User("anna", "anna-wachtwoord", "Anna de Vries", "anna@ede.nl", ("buurtmonitor:GM0228:schrijver",)),
             User("bert", "bert-wachtwoord", "Bert Bakker", "bert@ede.nl")]
    with OidcProvider(users, [Client("buurtmonitor", client_secret, (redirect,))]) as idp:
        (tmp / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "{redirect}"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "buurtmonitor"\n'
            f'client_secret = "{client_secret}"\n'
            f'server_metadata_url = "{idp.metadata_url}"\n'
            'client_kwargs = { scope = "openid email profile groups" }\n', encoding="utf-8")
        (tmp / "rollen.toml").write_text(ROLES, encoding="utf-8")
        env = {"BUURTMONITOR_ROLES_FILE": str(tmp / "rollen.toml")}
        with streamlit_process(env, port=port, args=("--secrets.files", str(tmp / "secrets.toml")),
                               log_path=tmp / "streamlit.log") as (url, _proc):
            yield url, idp


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _login(browser, url: str, login: str, password: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    pg = ctx.new_page()
    pg.goto(url)
    pg.get_by_role("button", name="Inloggen").click()
    pg.wait_for_selector("input[name=login]", timeout=30_000)
    pg.fill("input[name=login]", login)
    pg.fill("input[name=password]", password)
    pg.get_by_role("button", name="Inloggen").click()
    return ctx, pg


@needs_browser
def test_nothing_before_the_login(login_site, browser):
    url, _ = login_site
    ctx = browser.new_context(locale="nl-NL")
    pg = ctx.new_page()
    for path in ("", "/kaart", "/lokale_kaart", "/briefing?gemeente=GM0228"):
        pg.goto(url + path)
        pg.get_by_role("button", name="Inloggen").wait_for(timeout=30_000)
        body = pg.inner_text("body")
        assert "alleen toegankelijk" in body
        assert "Werkblad" not in body and "Raadsbriefing" not in body and "Kaart\n" not in body
        assert pg.locator('[role="dialog"]').count() == 0, (path, pg.locator('[role="dialog"]').first.inner_text())
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "login_required.png"))
    ctx.close()


@needs_browser
def test_wrong_password_is_refused_by_the_provider(login_site, browser):
    url, _ = login_site
    ctx, pg = _login(browser, url, "anna", "fout")
    pg.get_by_text("Onjuiste gebruikersnaam of wachtwoord.").wait_for(timeout=15_000)
    assert "127.0.0.1" in pg.url and "/interaction/" in pg.url
    ctx.close()


@needs_browser
def test_login_through_the_provider_form_shows_who_is_logged_in(login_site, browser):
    url, _ = login_site
    ctx, pg = _login(browser, url, "anna", "anna-wachtwoord")
    pg.get_by_text("Ingelogd als Anna de Vries").wait_for(timeout=60_000)
    pg.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    assert pg.locator('[data-testid="stException"]').count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "login_done.png"))
    # logging out (at the provider too) brings the login screen back
    pg.get_by_role("button", name="Uitloggen").click()
    pg.get_by_role("button", name="Ja, uitloggen").click(timeout=30_000)
    pg.get_by_role("button", name="Inloggen").wait_for(timeout=30_000)
    assert "Ingelogd als" not in pg.inner_text("body")
    ctx.close()
