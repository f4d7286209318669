"""Ontwikkeling: een gebied en indicator door de jaren heen, met de breuken gemarkeerd."""

from __future__ import annotations

import streamlit as st

from app import export_widgets as ui_export
from app import ui
from buurtmonitor import analysis, briefing, charts, formatting
from buurtmonitor.catalogue import load_catalogue
from loaders import repository

VIEW = "ontwikkeling"
WIDGET = "ontwikkeling_gebied"
FAILED = "ontwikkeling_mislukt"  # {(gemeente, year): message}: not retried on every rerun

sel = ui.sidebar(levels=("wijk", "buurt"))
cat = load_catalogue()
st.title("Ontwikkeling")
main, side = st.columns([3, 1], gap="large")
ui.guidance_panel(VIEW, sel.indicator, container=side)

with main:
    # ---- load every year of the gemeente; a year that fails is named with why, not fatal
    years = sorted(repository.available_years(sel.gemeente))
    failed: dict = st.session_state.setdefault(FAILED, {})
    tables = {}
    bar = st.progress(0.0, text="Jaren laden…")
    for i, year in enumerate(years):
        bar.progress(i / max(len(years), 1), text=f"{year} laden ({i + 1} van {len(years)})…")
        if (sel.gemeente, year) in failed:
            continue
        try:
            tables[year] = ui.load_table(year, sel.gemeente)[0]
        except Exception as exc:  # noqa: BLE001 - named below, the other years still show
            failed[(sel.gemeente, year)] = (ui.failure_kind(exc), str(exc).split("\n")[0][:300])
    bar.empty()
    mine = {y: m for (g, y), m in failed.items() if g == sel.gemeente}
    if mine:
        # which years are there and why the others are not, in plain words; the technical
        # detail only behind the toggle
        shown = formatting.year_ranges(tables) if tables else None
        head = (f"De reeks toont {'alleen ' if len(tables) == 1 else ''}{shown}: "
                f"{'dat is het enige jaar' if len(tables) == 1 else 'dat zijn de jaren'} waarvoor er cijfers "
                f"van {ui.md_escape(sel.gemeente_name)} zijn. "
                + ("Met één jaar is er nog geen ontwikkeling te zien." if len(tables) == 1 else "")
                if tables else f"Voor {ui.md_escape(sel.gemeente_name)} zijn er voor geen enkel jaar cijfers.")
        by_kind: dict[str, list[int]] = {}
        for y, (kind, _) in sorted(mine.items()):
            by_kind.setdefault(kind, []).append(y)
        why = [f"- Niet in de reeks: {ui.FAILURE_REASONS[k].format(jaren=formatting.year_ranges(ys))}"
               for k, ys in by_kind.items()]
        (st.info if tables else st.error)("\n".join([head, "", *why]), icon=":material/info:")
        if st.toggle("Technische details", key="ontwikkeling_details"):
            for y in sorted(mine):
                st.text(f"{y}: {mine[y][1]}")
        if st.button("Opnieuw proberen", key="ontwikkeling_opnieuw"):
            for y in mine:
                failed.pop((sel.gemeente, y), None)
            st.rerun()
    elif not tables:
        st.error(f"Voor {sel.gemeente_name} zijn er voor geen enkel jaar cijfers.")
    if not tables:
        st.stop()

    if any(t.meta.fictitious for t in tables.values()):
        ui.fictitious_banner(next(t for t in tables.values() if t.meta.fictitious))

    # ---- area
    choices = analysis.area_choices(tables.values(), sel.gemeente)
    codes = [c for c, _ in choices]
    labels = dict(choices)
    area = ui.known_area(sel, labels, f"de gebieden van {sel.gemeente_name}")
    current = area if area in labels else (sel.gemeente if sel.gemeente in labels else codes[0])
    st.session_state[WIDGET] = current
    code = st.selectbox("Gebied", codes, key=WIDGET, format_func=labels.get,
                        on_change=lambda: ui.set_selection(gebied=st.session_state[WIDGET]))

    # ---- indicator: origin indicators exist only within one classification
    ind = cat.indicators[sel.indicator]
    schemes_loaded = list(dict.fromkeys(tables[y].meta.scheme for y in sorted(tables)))
    if ind.scheme is None:
        mapping: dict[str, str] = {s: ind.id for s in cat.schemes}
        st.markdown(f"**{ind.label}** ({ind.unit}) · {ind.definition}")
    else:
        defaults = analysis.comparable_indicators(ind.id)
        if len(schemes_loaded) > 1:  # the break is in the series: explain it
            st.info(analysis.COMPARABLE_NOTE, icon="ℹ️")
        cols = st.columns(max(len(schemes_loaded), 1))
        mapping = {}
        for col, scheme in zip(cols, schemes_loaded):
            sy = [y for y in sorted(tables) if tables[y].meta.scheme == scheme]
            opts = [i.id for i in cat.indicators_for(scheme, theme=ind.theme) if i.scheme == scheme]
            if not opts:
                continue
            default = defaults.get(scheme) if defaults.get(scheme) in opts else opts[0]
            span = f"{sy[0]}–{sy[-1]}" if len(sy) > 1 else str(sy[0])
            mapping[scheme] = col.selectbox(
                f"{span}: {cat.schemes[scheme].label}", opts, index=opts.index(default),
                format_func=lambda i: cat.indicators[i].label, key=f"ontwikkeling_{scheme}_{ind.id}",
                help="Kies per indeling de indicator die u wilt volgen; ze staan als aparte stukken "
                     "in de grafiek.")
    compare = st.checkbox("Vergelijk met gemeente en Nederland", value=True, key="ontwikkeling_vergelijk")

    # ---- series
    series = analysis.time_series(tables, code, mapping)
    parts = [series]
    if compare:
        for ref in dict.fromkeys([sel.gemeente, "NL00"]):
            if ref != code:
                parts.append(analysis.time_series(tables, ref, mapping))
    everything = analysis.combine_series(parts)
    source = analysis.combined_source_line(tables.values())
    fictitious = any(t.meta.fictitious for t in tables.values())
    name = series.attrs.get("name", code)
    shown = " / ".join(dict.fromkeys(cat.indicators[i].label for i in mapping.values()))
    fig = charts.trend_chart(everything, ind, area_code=code, source=source, fictitious=fictitious,
                             title=f"{name}: {shown}" + (f" (alleen {next(iter(tables))})" if len(tables) == 1 else ""))
    st.plotly_chart(fig, width="stretch", key="ontwikkeling_chart")
    st.caption(source)
    ui_export.export_buttons(
        lambda: briefing.trend_item(sel.year, sel.gemeente, sel.level, sel.indicator, area=code,
                                    tables=tables, figure=fig, indicators=mapping, compare=compare),
        key="ontwikkeling_export", file_stem=f"ontwikkeling-{code}-{ind.id}")

    breaks = analysis.series_breaks(series)
    if not breaks.empty:
        st.markdown("**Breuken in de reeks** – de lijn loopt hier niet door:")
        for r in breaks.drop_duplicates(["year", "kind"]).itertuples():
            st.markdown(f"- **{r.label}** (tussen {r.prev_year} en {r.year})")
        for reason in dict.fromkeys(series.loc[series["break_reason"] != "", "break_reason"]):
            st.text(reason)
    gaps = series[series["value"].isna()]
    if not gaps.empty:
        st.caption("Zonder waarde: " + "; ".join(
            f"{r.year} ({analysis.missing_label(r.missing)})" for r in gaps.itertuples()) +
            ". Ontbrekend is niet 0.")
    if series["small_n"].any():
        st.caption("Kleine aantallen (n < 100) zijn onzeker: "
                   + ", ".join(str(y) for y in series.loc[series["small_n"], "year"]) + ".")

    with st.expander("Tabel bij de grafiek", expanded=False):
        ui.table_alternative(analysis.series_table(everything),
                             f"ontwikkeling_{code}_{ind.id}.csv", key="ontwikkeling_csv")
