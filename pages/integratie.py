"""Integratie: hoe herkomstgroepen ervoor staan in de gemeente, naast herkomst Nederland en naast
heel Nederland, met de ontwikkeling en de handreikingen die bij de verschillen helpen."""

from __future__ import annotations

import streamlit as st

from app import integratie_herkomst, integratie_view, ui
from loaders.demo import is_demo_scope

sel = ui.sidebar(levels=("wijk", "buurt"), indicator=False)
st.title("Integratie naar herkomst")
st.caption("Werk en inkomen per herkomstgroep in de gemeente, naast inwoners met herkomst Nederland en naast "
           "heel Nederland. CBS publiceert deze cijfers per gemeente, niet per wijk of buurt; eigen cijfers "
           "van de gemeente staan er als aparte bron bij.")
tab_gaps, tab_countries = st.tabs(["Verschillen per herkomstgroep", "Herkomstlanden"])
with tab_gaps:
    main, side = st.columns([3, 1], gap="large")
    integratie_view.render(sel, main, side)
with tab_countries:
    integratie_herkomst.render_herkomstlanden(sel.gemeente, sel.year, demo=is_demo_scope(sel.gemeente))
