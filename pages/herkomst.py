"""Herkomst: de samenstelling naar herkomstgroep per wijk of buurt, tegen gemeente en Nederland."""

from __future__ import annotations

import streamlit as st

from app import export_widgets as ui_export
from app import ui
from buurtmonitor import analysis, briefing, charts
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.harmonise import SMALL_N
from buurtmonitor.model import LEVEL_LABELS

VIEW = "herkomst"
#: above this many areas the chart shows a selection (the table always shows all)
CHART_LIMIT = 60

sel = ui.sidebar(levels=("wijk", "buurt"))
cat = load_catalogue()
st.title("Herkomst")
main, side = st.columns([3, 1], gap="large")
ui.guidance_panel(VIEW, sel.indicator, container=side)

with main:
    try:
        table, origin, warning = ui.load_table(sel.year, sel.gemeente)
    except Exception as exc:  # noqa: BLE001 - shown to the user, the page stays usable
        ui.show_load_error(exc, f"De cijfers van {sel.gemeente_name} voor {sel.year}")
        st.stop()
    ui.fictitious_banner(table)
    ui.origin_notice(origin, warning)
    area = ui.known_area(sel, table.data["code"], f"de cijfers van {sel.gemeente_name} ({sel.year})")
    scheme = cat.schemes[table.meta.scheme]
    plural = "wijken" if sel.level == "wijk" else "buurten"
    st.markdown(f"Samenstelling van de inwoners naar herkomstgroep per {sel.level} in "
                f"**{sel.gemeente_name}**, {sel.year}, met de gemeente en Nederland ter vergelijking.")
    with st.container(border=True):
        st.markdown(f"**Indeling {sel.year}: {scheme.label}**")
        st.text(scheme.note)

    c1, c2, c3 = st.columns(3)
    value = c1.radio("Weergave", ["share", "count"], horizontal=True, key="herkomst_weergave",
                     format_func={"share": "Aandelen (%)", "count": "Aantallen"}.get)
    detail = c2.radio("Groepen", ["hoofd", "detail"], horizontal=True, key="herkomst_groepen",
                      format_func={"hoofd": "Hoofdgroepen", "detail": "Detail"}.get,
                      help="Detail splitst de groepen verder op (bijvoorbeeld naar geboorteland, "
                           "of de afzonderlijke niet-westerse groepen tot en met 2022).") == "detail"
    comp = analysis.composition(table, sel.level, detail=detail)
    groups = analysis.scheme_groups(scheme, detail)
    group_ids = [g.id for g in groups]
    sort_opts = ["name"] + group_ids
    default_sort = analysis.group_for_indicator(sel.indicator, scheme)
    if default_sort not in group_ids:
        default_sort = group_ids[-1] if group_ids else "name"
    labels = {g.id: f"Aandeel {g.label}" for g in groups} | {"name": "Naam (alfabetisch)"}
    sort_by = c3.selectbox("Sorteren op", sort_opts, index=sort_opts.index(default_sort),
                           format_func=labels.get, key=f"herkomst_sort_{scheme.id}_{detail}")
    st.caption("Groepen in deze indeling: " + " · ".join(g.label for g in groups))

    areas = comp[comp["role"] == analysis.ROLE_AREA]
    n_areas = areas["code"].nunique()
    chart_comp = comp
    if n_areas > CHART_LIMIT:
        shown = st.slider(f"Aantal {plural} in de grafiek", 10, int(n_areas), min(40, int(n_areas)),
                          step=5, key="herkomst_aantal",
                          help="De grafiek toont de eerste gebieden in de gekozen volgorde; "
                               "de tabel eronder bevat ze allemaal.")
        keep = set(charts.sort_areas(comp, sort_by)[:shown])
        chart_comp = comp[(comp["role"] != analysis.ROLE_AREA) | comp["code"].isin(keep)]
        chart_comp.attrs.update(comp.attrs)
    title = (f"Herkomst per {sel.level}, {sel.gemeente_name} {sel.year}"
             f"{' (aandelen)' if value == 'share' else ' (aantallen)'}")
    fig = charts.composition_bars(chart_comp, sort_by=sort_by, value=value, highlight=area,
                                  title=title)
    event = st.plotly_chart(fig, width="stretch", on_select="rerun", selection_mode="points",
                            key="herkomst_chart")
    # a click on a bar selects that area (also for the other views)
    points = (event.get("selection") or {}).get("points") or [] if event else []
    if points:
        ylab = str(points[0].get("y", "")).removeprefix("▶ ")
        by_label = {n: c for c, n in zip(areas["code"], areas["name"])}
        by_label |= {f"{n} ({c})": c for c, n in zip(areas["code"], areas["name"])}
        picked = by_label.get(ylab)
        if picked and picked != area:
            ui.set_selection(gebied=picked)
            st.rerun()
    ui.source_caption(table)
    ui_export.export_buttons(
        lambda: briefing.composition_item(sel.year, sel.gemeente, sel.level, sel.indicator, area=area,
                                          detail=detail, value=value, sort_by=sort_by, table=table),
        key="herkomst_export", file_stem=f"herkomst-{sel.gemeente}-{sel.year}-{sel.level}")

    missing = areas[areas["share"].isna()].drop_duplicates("code")
    if not missing.empty:
        parts = [f"{r.name} ({analysis.missing_label(r.missing)})" for r in missing.itertuples()]
        st.caption(f"Geen herkomstcijfers voor {len(parts)} {plural if len(parts) > 1 else sel.level}: "
                   + "; ".join(parts) + ". CBS maakt kleine aantallen niet bekend; zulke gebieden "
                   "tellen niet als 0 en staan zonder balk in de grafiek.")
    small = areas[areas["small_n"] & areas["share"].notna()]["name"].unique().tolist()
    if small:
        st.caption(f"Minder dan {SMALL_N} inwoners, aandelen onzeker: " + ", ".join(small) + ".")
    st.caption("Aandelen zijn berekend op het totaal van de groepen. CBS rondt aantallen per buurt af "
               "op 5, daardoor kan dat totaal een paar personen afwijken van het aantal inwoners.")

    with st.expander(f"Tabel bij de grafiek ({LEVEL_LABELS[sel.level].lower()}en, gemeente en Nederland)",
                     expanded=False):
        ui.table_alternative(analysis.composition_table(comp),
                             f"herkomst_{sel.gemeente}_{sel.year}_{sel.level}.csv", key="herkomst_csv")
