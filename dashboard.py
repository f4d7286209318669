"""Buurtmonitor: entry point (``streamlit run dashboard.py``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
# a local icon file: a Material icon name here would make browsers fetch it from fonts.gstatic.com
st.set_page_config(page_title="Buurtmonitor", page_icon=str(HERE / "buurtmonitor" / "web" / "favicon.png"),
                   layout="wide")
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

pages = [st.Page(HERE / f, title=t, icon=i, url_path=u, default=(u == "kaart"))
         for f, t, i, u in PAGES if (HERE / f).exists()]
nav = st.navigation(pages)
st.sidebar.caption("Buurtmonitor · cijfers: CBS (CC BY 4.0) · grenzen: CBS/Kadaster via PDOK")
nav.run()
