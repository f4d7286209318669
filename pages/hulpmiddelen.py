"""Hulpmiddelen: every handreiking in the guidance catalogue, searchable and filterable by
theme and view. Layout and widgets only; the search is ui.search_resources.

Search text is user input: it is only passed to the search, never rendered as Markdown/HTML."""

from __future__ import annotations

import streamlit as st

from app import ui
from buurtmonitor.catalogue import load_catalogue

ui.check_link()  # keep the selection of the other pages in the URL (checked, as there)

cat = load_catalogue()
themes = ui.theme_labels()
views = ui.view_labels()
used_themes = [t for t in themes if any(t in r.themes for r in cat.resources)]

st.title("Hulpmiddelen")
st.markdown("Landelijke handreikingen, factsheets en hulpmiddelen bij sociale spanningen, polarisatie, "
            "radicalisering en integratie. Bij elke weergave van de Buurtmonitor staan de handreikingen "
            "die daar het meest helpen; hier staan ze allemaal bij elkaar.")

c1, c2, c3 = st.columns([2, 1.5, 1.5])
query = c1.text_input("Zoeken in titel, beschrijving, uitgever en thema's", key="hm_zoek",
                      placeholder="bijvoorbeeld: polarisatie, jongeren, VNG")
pick_themes = c2.multiselect("Thema", used_themes, format_func=themes.get, key="hm_thema",
                             placeholder="alle thema's")
pick_views = c3.multiselect("Hoort bij weergave", list(views), format_func=views.get,
                            key="hm_weergave", placeholder="alle weergaven")

found = ui.search_resources(query, pick_themes, pick_views)
st.caption(f"{len(found)} van {len(cat.resources)} hulpmiddelen")
if not found:
    st.info("Geen hulpmiddelen gevonden. Probeer een ander zoekwoord of minder filters.", icon=":material/search:")

for r in found:
    with st.container(border=True):
        st.markdown(f"## [{ui.md_escape(r.title)}]({r.url})")
        where = "website van de uitgever: zoek daar op de titel" if r.url_is_publisher_page else "document"
        st.caption(f"{ui.md_escape(r.publisher)} · {r.year or 'jaar onbekend'} · link naar {where} · "
                   f"catalogus nagekeken op {r.last_checked}")
        st.text(r.description)
        st.caption("Thema's: " + ", ".join(themes.get(t, t) for t in r.themes))
        why = [(v, r.why[v]) for v in views if v in r.why and v != "hulpmiddelen"]
        if why:
            st.markdown("**Waarom het helpt**")
            st.text("\n".join(f"• {views[v]}: {line}" for v, line in why))
