"""The Streamlit pieces of the Integratie page: how origin groups are doing in the chosen
gemeente, beside herkomst Nederland and beside the whole country, with the trend and the
handreikingen that help with the gaps.

The figures come from :func:`loaders.by_origin.load_by_origin` (the one by-origin path: CBS
tables, the gemeente's own data, the fictitious Voorbeeldgemeente); everything shown is made by
:mod:`buurtmonitor.integratie.presenters` and :mod:`buurtmonitor.integratie.charts`. Text from
data sources (names, titles, source lines) is escaped or shown as plain text, never as Markdown.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app import export_widgets, ui
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.exports.items import ExportItem
from buurtmonitor.integratie import presenters as P
from buurtmonitor.integratie.catalogue import OriginCatalogue, load_origin_catalogue
from buurtmonitor.integratie.charts import trend_figure
from buurtmonitor.model import FICTITIOUS_LABEL
from loaders.by_origin import LoadedByOrigin, load_by_origin

VIEW = P.VIEW
KEY_SCHEME = "integratie_indeling"
KEY_SOURCE = "integratie_bron"
KEY_INDICATOR = "integratie_indicator"
KEY_GROUP = "integratie_groep"


@st.cache_data(show_spinner="Cijfers naar herkomst laden…", max_entries=32, ttl=300)
def load(gemeente: str) -> LoadedByOrigin:
    """:func:`loaders.by_origin.load_by_origin` of the gemeente (cached for five minutes, so a
    table that failed is asked again soon)."""
    return load_by_origin(gemeente)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "integratie"


def _choose(key: str, options: list, default, **kwargs):
    """A selectbox whose kept value is replaced by ``default`` when it is no longer an option."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    return st.selectbox(options=options, key=key, **kwargs)


def _md_lines(lines: list[str]) -> str:
    return "\n".join(f"- {ui.md_escape(x)}" for x in lines)


# ------------------------------------------------------------------------------ guidance
def guidance_panel(items: list[P.GuidanceItem], *, container) -> None:
    """The handreikingen beside the view, each with why it helps (and why here)."""
    box = container
    box.markdown("#### Handreikingen bij deze weergave")
    if not items:
        box.info("Bij deze weergave hoort geen handreiking uit de catalogus.")
        return
    for item in items:
        r = item.resource
        with box.container(border=True):
            st.markdown(f"**[{ui.md_escape(r.title)}]({r.url})**")
            st.caption(f"{ui.md_escape(r.publisher)}{f', {r.year}' if r.year else ''}"
                       f"{' · link naar de pagina van de uitgever' if r.url_is_publisher_page else ''}")
            st.text(item.why)
            if item.context:
                st.caption(ui.md_escape(item.context))


def _guidance(loaded: LoadedByOrigin | None, lines: list[P.GapLine], indicator: str | None,
              gemeente: str, gemeente_name: str, cat: OriginCatalogue) -> list[P.GuidanceItem]:
    present: set[str] = set()
    if loaded is not None and not loaded.frame.empty:
        f = loaded.frame
        have = f[(f["gemeente_code"] == gemeente) & f["value"].notna()]
        present = set(have["group"])
    # a group with figures here is a situation of the guidance catalogue ("herkomstgroep_eritrea")
    resources = load_catalogue().resources_for(VIEW, situations={f"herkomstgroep_{g}" for g in present})
    if indicator is None:
        return [P.GuidanceItem(resource=r, why=r.why.get(VIEW) or r.description)
                for r in resources if not r.groups or set(r.groups) & present]
    return P.guidance(resources, lines, indicator, present, gemeente_name, cat)


# ------------------------------------------------------------------------------ the view
def render(sel: ui.Selection, main, side) -> None:
    """The whole page for the sidebar's gemeente and year: ``main`` holds the figures,
    ``side`` the handreikingen."""
    cat = load_origin_catalogue()
    with main:
        try:
            loaded = load(sel.gemeente)
        except Exception as exc:  # noqa: BLE001 - shown in Dutch, the page goes on
            st.error(ui.load_error(exc, f"De cijfers naar herkomst van {sel.gemeente_name}"))
            guidance_panel(_guidance(None, [], None, sel.gemeente, sel.gemeente_name, cat), container=side)
            return
        if loaded.fictitious:
            st.warning(f"**{FICTITIOUS_LABEL}.** Dit is de Voorbeeldgemeente: de cijfers naar herkomst zijn "
                       "door Buurtmonitor verzonnen (in het formaat van eigen gegevens), om de pagina te laten "
                       "zien zonder verbinding met CBS.", icon="⚠️")
        for p in loaded.problems:
            st.warning(f"{ui.md_escape(p.title)} ({p.table_id}) ontbreekt: {ui.md_escape(p.message)} "
                       "De andere bronnen staan hieronder.", icon=":material/cloud_off:")
        fallbacks = {p.fallback for p in loaded.sources if p.fallback}
        for w in loaded.warnings:
            if w not in fallbacks:     # a fallback to the other CBS API is said with its own bron
                st.info(ui.md_escape(w), icon=":material/info:")
        lines_src = {s.table_id: s.source_line() for s in loaded.sources}
        choices = P.source_choices(loaded.frame, sel.gemeente, source_lines=lines_src, cat=cat)
        if not choices:
            st.info(f"Voor {ui.md_escape(sel.gemeente_name)} zijn er geen cijfers naar herkomst (geen CBS-tabel "
                    "met deze gemeente, en geen eigen gegevens). Eigen cijfers van de gemeente (CBS-maatwerk, "
                    "onderzoek en statistiek) kan de beheerder van deze Buurtmonitor inlezen.")
            guidance_panel(_guidance(loaded, [], None, sel.gemeente, sel.gemeente_name, cat), container=side)
            return
        lines, indicator = _figures(sel, loaded, choices, cat)
    guidance_panel(_guidance(loaded, lines, indicator, sel.gemeente, sel.gemeente_name, cat), container=side)


def _figures(sel: ui.Selection, loaded: LoadedByOrigin, choices: list[P.SourceChoice],
             cat: OriginCatalogue) -> tuple[list[P.GapLine], str]:
    frame = loaded.frame
    # ---- bron: scheme, table, year, indicator
    schemes = list(dict.fromkeys(c.scheme for c in choices))
    first = P.default_source(choices, sel.year)
    assert first is not None
    c0, c2 = st.columns([1, 2])
    if len(schemes) > 1:
        if st.session_state.get(KEY_SCHEME) not in schemes:
            st.session_state[KEY_SCHEME] = first.scheme
        with c0:
            scheme = st.radio("Indeling naar herkomst", schemes, key=KEY_SCHEME,
                              format_func=lambda s: P.SCHEME_SHORT.get(s, s).capitalize(),
                              help="CBS gebruikt twee indelingen: naar herkomstland (nieuw) en naar "
                                   "migratieachtergrond (ouder). Ze worden nooit met elkaar vergeleken.")
    else:
        scheme = schemes[0]
    pool = [c for c in choices if c.scheme == scheme]
    by_id = {c.table_id: c for c in pool}
    default = P.default_source(pool, sel.year, scheme)
    assert default is not None
    with c2:
        tid = _choose(KEY_SOURCE, list(by_id), default.table_id, label="Bron",
                      format_func=lambda t: by_id[t].label,
                      help="Elke bron is één CBS-tabel of één set eigen gegevens van de gemeente, met "
                           "één definitie per indicator.")
    choice = by_id[tid]
    year, note = P.resolve_year(choice, sel.year)
    c1, _ = st.columns([1, 2])
    with c1:
        inds = list(choice.indicators)
        ind_id = _choose(KEY_INDICATOR, inds, P.DEFAULT_INDICATOR if P.DEFAULT_INDICATOR in inds else inds[0],
                         label="Indicator", format_func=lambda i: f"{cat.indicators[i].label} ({cat.indicators[i].unit})")
    if note:
        st.info(note, icon=":material/event_busy:")
    if len(schemes) > 1:
        st.caption(f"Indeling: {P.SCHEME_LABELS.get(scheme, scheme)}. De andere indeling staat bij een "
                   "andere bron en wordt niet met deze vergeleken.")
    ind = cat.indicators[ind_id]
    ref = cat.reference_group(choice.scheme)

    # ---- the gaps in words and in a table
    lines = P.gap_lines(frame, sel.gemeente, choice.table_id, year, ind_id, cat)
    st.subheader(f"{ind.label} in {sel.gemeente_name}, {P.year_label(year)}")
    st.caption(ui.md_escape(ind.definition))
    if not lines:
        st.info(f"In deze bron staat {P.lc_first(ind.label)} niet voor {ui.md_escape(sel.gemeente_name)} "
                f"in {P.year_label(year)}.")
        return lines, ind_id
    sentences = P.gap_sentences(lines, ind_id, choice.scheme, cat)
    st.markdown(_md_lines(sentences))
    national = P.country_note(lines)
    if national:
        st.caption(national)
    others = [x for x in lines if not x.is_reference and x.group != "totaal"]
    if not others:
        st.caption(f"Deze bron heeft voor {ui.md_escape(sel.gemeente_name)} in {P.year_label(year)} alleen cijfers "
                   f"van alle inwoners en van {P.lc_first(P.group_label(ref, cat))}.")
    gone = P.missing_notes(lines, ind_id, cat)
    if gone:
        st.caption("Zonder cijfer: " + "; ".join(ui.md_escape(x) for x in gone) + ". Ontbrekend is niet 0.")
    table = P.indicator_table(lines, ind_id, ref, cat)
    ui.table_alternative(table, f"integratie-{sel.gemeente}-{ind_id}-{year}.csv", key="integratie_csv")
    st.caption(P.table_legend(ref, cat, country=national is None))
    st.caption(ui.md_escape(_source(choice, loaded)))

    # ---- trend
    _trend(sel, loaded, choices, choice, ind_id, cat)

    # ---- every indicator of the bron
    with st.expander(f"Alle indicatoren van deze bron ({len(choice.indicators)}), {P.year_label(year)}"):
        overview = P.overview_table(frame, sel.gemeente, choice, year, cat)
        st.dataframe(overview, hide_index=True, width="stretch")
        export_widgets.export_buttons(
            lambda: _overview_item(sel, loaded, choice, year, overview, sentences, ind_id, cat),
            key="integratie_alle_export", formats=("csv", "xlsx"), has_figure=False,
            label="Tabel downloaden", file_stem=f"integratie-{sel.gemeente}-{choice.table_id.lower()}-{year}")
    return lines, ind_id


def _source(choice: P.SourceChoice, loaded: LoadedByOrigin) -> str:
    line = choice.source_line or "Bron: onbekend"
    fallback = next((p.fallback for p in loaded.sources if p.table_id == choice.table_id and p.fallback), "")
    if fallback:
        line = f"{line}. {fallback}"
    return f"{FICTITIOUS_LABEL} · {line}" if loaded.fictitious and FICTITIOUS_LABEL not in line else line


def _trend(sel: ui.Selection, loaded: LoadedByOrigin, choices: list[P.SourceChoice], choice: P.SourceChoice,
           ind_id: str, cat: OriginCatalogue) -> None:
    ind = cat.indicators[ind_id]
    st.markdown("#### Ontwikkeling")
    known = [y for y in choice.years if y != P.YEAR_UNKNOWN]
    if len(known) < 2:
        longer = [c for c in choices if c.scheme == choice.scheme and ind_id in c.indicators
                  and len([y for y in c.years if y != P.YEAR_UNKNOWN]) > 1]
        where = "; ".join(f"{c.table_id} ({P.years_text(c.years)})" for c in longer)
        st.info(f"Deze bron heeft één jaar ({P.years_text(choice.years)}), dus geen ontwikkeling."
                + (f" Een reeks van {P.lc_first(ind.label)} staat in: {where}." if where else ""))
        return
    ref = cat.reference_group(choice.scheme)
    groups = [g for g in P.groups_in(loaded.frame, sel.gemeente, choice.table_id) if g != ref]
    if not groups:
        st.info("Deze bron heeft alleen cijfers van de referentiegroep.")
        return
    g1, _ = st.columns([1, 1])
    with g1:
        group = _choose(KEY_GROUP, groups, P.default_group(groups, ref), label="Groep",
                        format_func=lambda g: P.group_label(g, cat),
                        help=f"Deze groep tegen {P.lc_first(P.group_label(ref, cat))}, in de gemeente "
                             "(doorgetrokken) en in heel Nederland (gestippeld).")
    t = P.trend(loaded.frame, sel.gemeente, choice, ind_id, group, cat)
    title = f"{ind.label}: {P.group_label(group, cat)} en {P.lc_first(P.group_label(ref, cat))}, {sel.gemeente_name}"
    source = _source(choice, loaded)
    fig = trend_figure(t, source=source, fictitious=loaded.fictitious, title=title, cat=cat)
    st.plotly_chart(fig, width="stretch", key="integratie_trend")
    st.markdown(_md_lines(P.trend_sentences(t, cat)))
    export_widgets.export_buttons(
        lambda: ExportItem(title=title, subtitle=f"{sel.gemeente_name} · {P.years_text(t.years)} · {choice.table_id}",
                           figure=fig, table=_trend_table(t, cat), source_line=source,
                           table_ids=[choice.table_id], years=t.years, fictitious=loaded.fictitious,
                           definitions=[{"id": ind.id, "label": ind.label, "definition": ind.definition,
                                         "unit": ind.unit}],
                           key_figures=P.trend_sentences(t, cat)),
        key="integratie_trend_export",
        file_stem=f"integratie-trend-{sel.gemeente}-{ind_id}-{group}")


def _trend_table(t: P.Trend, cat: OriginCatalogue) -> pd.DataFrame:
    rows = []
    for area, pairs in (("gemeente", ((t.group, t.group_points), (t.reference, t.reference_points))),
                        ("Nederland", ((t.group, t.country_group_points), (t.reference, t.country_reference_points)))):
        for g, pts in pairs:
            for p in pts:
                rows.append({"Gebied": t.gemeente_name if area == "gemeente" else "Nederland",
                             "Groep": P.group_label(g, cat), "Jaar": p.year, "Waarde": p.value, "n (personen)": p.n,
                             "Toelichting": cat.missing_label(p.missing) if p.value is None else ""})
    return pd.DataFrame(rows)


def _overview_item(sel: ui.Selection, loaded: LoadedByOrigin, choice: P.SourceChoice, year: int,
                   overview: pd.DataFrame, sentences: list[str], ind_id: str, cat: OriginCatalogue) -> ExportItem:
    defs = [{"id": i, "label": cat.indicators[i].label, "definition": cat.indicators[i].definition,
             "unit": cat.indicators[i].unit} for i in choice.indicators]
    res = [{"title": g.resource.title, "publisher": g.resource.publisher, "url": g.resource.url, "why": g.why}
           for g in _guidance(loaded, [], None, sel.gemeente, sel.gemeente_name, cat)]
    return ExportItem(title=f"Integratie naar herkomst: {sel.gemeente_name}",
                      subtitle=f"{sel.gemeente_name} · {P.year_label(year)} · {choice.table_id}",
                      table=overview, definitions=defs, key_figures=sentences, source_line=_source(choice, loaded),
                      table_ids=[choice.table_id], years=[year] if year != P.YEAR_UNKNOWN else [],
                      resources=res, fictitious=loaded.fictitious)
