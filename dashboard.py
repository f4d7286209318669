"""Buurtmonitor: entry point (``streamlit run dashboard.py``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Buurtmonitor", page_icon="🗺️", layout="wide")

HERE = Path(__file__).resolve().parent
#: (file, title, icon, url path) in menu order
PAGES = [
    ("pages/kaart.py", "Kaart", "🗺️", "kaart"),
    ("pages/herkomst.py", "Herkomst", "📊", "herkomst"),
    ("pages/gebiedsprofiel.py", "Gebiedsprofiel", "📍", "gebiedsprofiel"),
    ("pages/ontwikkeling.py", "Ontwikkeling", "📈", "ontwikkeling"),
    ("pages/lokale_kaart.py", "Lokale kaart", "🧭", "lokale-kaart"),
    ("pages/briefing.py", "Raadsbriefing", "📑", "briefing"),
    ("pages/hulpmiddelen.py", "Hulpmiddelen", "📚", "hulpmiddelen"),
]

pages = [st.Page(HERE / f, title=t, icon=i, url_path=u, default=(u == "kaart"))
         for f, t, i, u in PAGES if (HERE / f).exists()]
nav = st.navigation(pages)
st.sidebar.caption("Buurtmonitor · cijfers: CBS (CC BY 4.0) · grenzen: CBS/Kadaster via PDOK")
nav.run()
