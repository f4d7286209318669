"""Buurtmonitor: entry point (``streamlit run dashboard.py``).

Streamlit runs this file for every session (as ``__main__``): the menu of pages. ``streamlit run``
itself imports it first and finds :data:`app`, an ``st.App``: Streamlit's server plus the route
that serves the map files from the cache folder (:mod:`app.static_route`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import auth, static_route
from buurtmonitor.catalogue import load_catalogue

HERE = Path(__file__).resolve().parent
#: url path (= file name in pages/ and view id of the catalogue) -> menu icon, in menu order;
#: the menu titles are the view names of data/resources.toml ([views])
ICONS = {
    "kaart": ":material/map:",
    "herkomst": ":material/stacked_bar_chart:",
    "integratie": ":material/diversity_3:",
    "gebiedsprofiel": ":material/location_on:",
    "ontwikkeling": ":material/timeline:",
    "lokale_kaart": ":material/explore:",
    "briefing": ":material/slideshow:",
    "hulpmiddelen": ":material/menu_book:",
}


def main() -> None:
    """The pages (one session's run of the script)."""
    # a local icon file: a Material icon name here would make browsers fetch it from fonts.gstatic.com
    st.set_page_config(page_title="Buurtmonitor", page_icon=str(HERE / "buurtmonitor" / "web" / "favicon.png"),
                       layout="wide")
    st.html(HERE / "static" / "buurtmonitor.css")  # contrast of captions (WCAG AA); takes no space
    with st.sidebar:  # <html lang="nl"> (Streamlit's own index.html says "en"); our own file, no user text
        st.html(HERE / "static" / "lang.html", unsafe_allow_javascript=True)
    if auth.gate() is None:          # [auth] in the secrets and not logged in: only the login page
        # under every page's address, so a deep link opens the login, not "Page not found"
        st.navigation([st.Page(auth.login_page, title="Inloggen", url_path="inloggen", default=True)]
                      + [st.Page(auth.login_page, title="Inloggen", url_path=u) for u in ICONS],
                      position="hidden").run()
        return
    titles = load_catalogue().views
    pages = [st.Page(HERE / "pages" / f"{u}.py", title=titles.get(u, u), icon=i, url_path=u, default=(u == "kaart"))
             for u, i in ICONS.items() if (HERE / "pages" / f"{u}.py").exists()]
    nav = st.navigation(pages)
    st.sidebar.caption("Buurtmonitor · cijfers: CBS (CC BY 4.0) · grenzen: CBS/Kadaster via PDOK")
    nav.run()


if __name__ == "__main__":
    main()
else:  # imported by `streamlit run` (or an ASGI server: `uvicorn dashboard:app`)
    app = st.App(__file__, routes=static_route.routes())
