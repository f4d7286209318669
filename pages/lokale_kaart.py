"""Lokale kaart: the figures behind an 'analyse van de lokale kaart' (Handreiking Inzicht in
(de)polarisatie): segregation and diversity, change signals, spatial clusters and a worksheet
with notes. Layout and widgets only; the tabs are in app.lokale_kaart_view, what they show
in buurtmonitor.lokale_kaart.presenters."""

from __future__ import annotations

import streamlit as st

from app import briefing_data, ui
from app import export_widgets as ui_export
from app import lokale_kaart_view as view
from buurtmonitor import briefing
from buurtmonitor import formatting as fmt
from buurtmonitor.lokale_kaart import presenters

sel = ui.sidebar(levels=("wijk", "buurt"), indicator=True)

st.title("Lokale kaart")
st.caption("Cijfers voor de analyse van de lokale kaart uit de handreiking 'Inzicht in "
           "(de)polarisatie': hoe wonen groepen verdeeld, wat verandert er, waar liggen "
           "concentraties, en uw eigen aantekeningen per onderdeel.")

try:
    with st.spinner("Cijfers laden…"):
        table, origin, warning = ui.load_table(sel.year, sel.gemeente)
except Exception as exc:  # noqa: BLE001 - shown in Dutch, the page stops
    ui.show_load_error(exc, f"De cijfers van {sel.gemeente_name} voor {sel.year}")
    st.stop()

ui.fictitious_banner(table)
ui.origin_notice(origin, warning)

data = presenters.PageData(year=sel.year, gemeente=sel.gemeente, gemeente_name=sel.gemeente_name,
                           level=sel.level, indicator=sel.indicator, table=table,
                           names=presenters.area_names(table, sel.gemeente, sel.level),
                           all_names=presenters.all_area_names(table, sel.gemeente))
try:
    data.measures = view.compute_measures(sel.year, sel.gemeente, sel.level)
except LookupError:
    data.measures_error = (f"Er zijn geen {fmt.level_plural(sel.level)} van {sel.gemeente_name} "
                           f"in de cijfers van {sel.year}; kies een ander niveau of jaar.")
except Exception as exc:  # noqa: BLE001
    data.measures_error = f"De segregatiematen konden niet worden berekend: {exc}"
data.cluster = view.compute_clusters(sel.year, sel.gemeente, sel.level, sel.indicator)

main, side = st.columns([3, 1], gap="large")
with side:
    ui.guidance_panel(presenters.VIEW, sel.indicator)

with main:
    tabs = {label.split()[0].lower(): label for label in view.TAB_LABELS}   # URL: ?tab=clusters
    ui.view_param("lk_tab", "tab", list(tabs.values()), view.TAB_LABELS[0], what="Het tabblad",
                  parse=lambda t: tabs[t.lower()], encode=lambda v: next(s for s, lab in tabs.items() if lab == v))
    tab_seg, tab_change, tab_clusters, tab_sheet = st.tabs(list(view.TAB_LABELS), key="lk_tab", on_change="rerun")
    with tab_seg:
        view.render_segregation(data)
    with tab_change:
        view.render_change_tab(data)
    with tab_clusters:
        view.render_clusters(data)
    with tab_sheet:
        view.render_worksheet(data)
    if data.measures is not None:
        ui_export.export_buttons(
            lambda: briefing.lokale_kaart_item(sel.year, sel.gemeente, sel.level, sel.indicator,
                                               table=table, measures=data.measures,
                                               sources=briefing_data.repository_sources(
                                                   table_loader=lambda y, s: ui.load_table(y, s)[0])),
            key="lokale_kaart_export", file_stem=f"lokale-kaart-{sel.gemeente}-{sel.year}-{sel.level}")
    ui.source_caption(table)
