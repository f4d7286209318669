"""Buurtmonitor: entry point (``streamlit run dashboard.py``).

Streamlit runs this file for every session (as ``__main__``): the menu of pages. ``streamlit run``
itself imports it first and finds :data:`app`, an ``st.App``: Streamlit's server plus the route
that serves the map files from the cache folder (:mod:`app.static_route`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import static_route

HERE = Path(__file__).resolve().parent
#: (file, title, icon, url path) in menu order
PAGES = [
    ("pages/kaart.py", "Kaart", ":material/map:", "kaart"),
    ("pages/herkomst.py", "Herkomst", ":material/stacked_bar_chart:", "herkomst"),
    ("pages/gebiedsprofiel.py", "Gebiedsprofiel", ":material/location_on:", "gebiedsprofiel"),
    ("pages/ontwikkeling.py", "Ontwikkeling", ":material/timeline:", "ontwikkeling"),
    ("pages/lokale_kaart.py", "Lokale kaart", ":material/explore:", "lokale_kaart"),
    ("pages/briefing.py", "Raadsbriefing", ":material/slideshow:", "briefing"),
    ("pages/hulpmiddelen.py", "Hulpmiddelen", ":material/menu_book:", "hulpmiddelen"),
]


def main() -> None:
    """The pages (one session's run of the script)."""
    # a local icon file: a Material icon name here would make browsers fetch it from fonts.gstatic.com
    st.set_page_config(page_title="Buurtmonitor", page_icon=str(HERE / "buurtmonitor" / "web" / "favicon.png"),
                       layout="wide")
    pages = [st.Page(HERE / f, title=t, icon=i, url_path=u, default=(u == "kaart"))
             for f, t, i, u in PAGES if (HERE / f).exists()]
    nav = st.navigation(pages)
    st.sidebar.caption("Buurtmonitor · cijfers: CBS (CC BY 4.0) · grenzen: CBS/Kadaster via PDOK")
    nav.run()


if __name__ == "__main__":
    main()
else:  # imported by `streamlit run` (or an ASGI server: `uvicorn dashboard:app`)
    app = st.App(__file__, routes=static_route.routes())
