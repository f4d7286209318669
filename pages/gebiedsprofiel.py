"""Gebiedsprofiel: alles over één gebied, per thema, tegen wijk, gemeente en Nederland."""

from __future__ import annotations

import streamlit as st

from app import export_widgets as ui_export
from app import ui
from buurtmonitor import analysis, briefing, charts, formatting, small_areas
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.harmonise import SMALL_N
from buurtmonitor.model import LEVEL_LABELS, MISSING_SMALL_AREA

VIEW = "gebiedsprofiel"
WIDGET = "profiel_gebied"

sel = ui.sidebar(levels=("wijk", "buurt"))
cat = load_catalogue()
st.title("Gebiedsprofiel")
main, side = st.columns([3, 1], gap="large")
ui.guidance_panel(VIEW, sel.indicator, container=side)

with main:
    try:
        table, origin, warning = ui.load_table(sel.year, sel.gemeente)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        ui.show_load_error(exc, f"De cijfers van {sel.gemeente_name} voor {sel.year}")
        st.stop()
    ui.fictitious_banner(table)
    ui.origin_notice(origin, warning)

    choices = analysis.area_choices(table, sel.gemeente)
    codes = [c for c, _ in choices]
    labels = dict(choices)
    if not codes:
        st.warning(f"Geen gebieden van {sel.gemeente_name} in de tabel van {sel.year}.")
        st.stop()
    area = ui.known_area(sel, labels, f"de gebieden van {sel.gemeente_name} ({sel.year})")
    current = area if area in labels else (sel.gemeente if sel.gemeente in labels else codes[0])
    st.session_state[WIDGET] = current
    code = st.selectbox("Gebied", codes, key=WIDGET, format_func=labels.get,
                        on_change=lambda: ui.set_selection(gebied=st.session_state[WIDGET]),
                        help="Standaard het gebied dat u op de kaart koos, anders de gemeente.")

    inds = ui.indicators_available(table)
    prof = analysis.profile(table, code, [i.id for i in inds])
    a = prof.attrs
    level = a["level"]
    row = table.row(code)
    context = []
    if a.get("wijk_name"):
        context.append(f"wijk {a['wijk_name']}")
    if level != "gemeente" and a.get("gemeente_name"):
        context.append(f"gemeente {a['gemeente_name']}")
    st.header(f"{LEVEL_LABELS[level]} {a['name']}")
    inw = row["inwoners"] if row is not None else float("nan")
    st.caption(" · ".join([f"code {code}"] + context + [f"{formatting.integer(inw)} inwoners ({sel.year})"]))

    if level in ("wijk", "buurt"):
        plural = "wijken" if level == "wijk" else "buurten"
        gem = a.get("gemeente_name") or ""
        fig = charts.profile_chart(prof, title=f"{a['name']} tegen het gemiddelde van de {plural} van {gem}")
        st.plotly_chart(fig, width="stretch", key="profiel_chart")
        ui.source_caption(table)
        ui_export.export_buttons(
            lambda: briefing.profile_item(sel.year, sel.gemeente, sel.level, sel.indicator, area=code,
                                          table=table),
            key="profiel_export", file_stem=f"gebiedsprofiel-{code}-{sel.year}")
        st.caption(
            f"De z-score zegt hoeveel standaardafwijkingen dit gebied afwijkt van het gewone "
            f"(ongewogen) gemiddelde van alle {plural} van de gemeente met een waarde: "
            f"z = (waarde − gemiddelde) / standaardafwijking. Elk gebied telt even zwaar, groot of klein. "
            f"Binnen ±1 is gebruikelijk, buiten ±2 is uitzonderlijk. Open symbolen: minder dan "
            f"{SMALL_N} personen in de noemer, dus onzeker.")
    else:
        st.info("Voor de gemeente zelf is er geen z-score: kies een wijk of buurt om die af te zetten "
                "tegen de andere wijken of buurten van de gemeente.")
        ui.source_caption(table)

    hidden = prof[prof["missing"] == MISSING_SMALL_AREA]
    if not hidden.empty:
        st.info(f"{a['name']} is een klein gebied: {len(hidden)} aandelen en gemiddelden worden "
                f"niet getoond en hebben geen z-score. {small_areas.rule_text()}", icon="ℹ️")
    missing = prof[prof["value"].isna()]
    if not missing.empty:
        st.caption("Zonder waarde: " + "; ".join(
            f"{r.label} ({r.missing_label})" for r in missing.itertuples()) + ". Ontbrekend is niet 0.")
    small = prof[prof["small_n"] & prof["value"].notna()]
    if not small.empty:
        st.warning(f"Klein aantal (minder dan {SMALL_N}): " + ", ".join(small["label"]) +
                   ". Deze percentages zijn onzeker.", icon="⚠️")

    table_df = analysis.profile_table(prof)
    themes = list(dict.fromkeys(prof["theme_label"]))
    st.markdown("### Per thema")
    tabs = st.tabs(themes)
    for tab, theme in zip(tabs, themes):
        with tab:
            part = table_df[table_df["Thema"] == theme].drop(columns="Thema")
            ui.table_alternative(part, f"profiel_{code}_{sel.year}_{theme.lower().replace(' ', '_')}.csv",
                                 key=f"profiel_csv_{theme}")
    absent = [i.label for i in cat.indicators_for(table.meta.scheme) if i.id not in {x.id for x in inds}]
    if absent:
        st.caption(f"Niet in de CBS-tabel van {sel.year}: " + ", ".join(absent) + ".")
