"""The Kaart page's figures by origin group: the national map of the gap to herkomst Nederland
(level "Alle gemeenten") and a gemeente's own figures by origin group per wijk or buurt.

The page asks :func:`source_choice` which figures to draw; for anything but the KWB indicators
it hands over to :func:`render`. Data: :func:`loaders.by_origin.load_by_origin` (the one
by-origin path); the rows of the map: :mod:`buurtmonitor.integratie.kaart`; the map itself:
:func:`buurtmonitor.maps.choropleth.choropleth` (the gemeente map path of the page).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import export_widgets as ui_export
from app import maps as app_maps
from app import ui
from buurtmonitor import formatting
from buurtmonitor.exports.items import ExportItem
from buurtmonitor.integratie import kaart
from buurtmonitor.integratie.catalogue import load_origin_catalogue
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps import classes
from buurtmonitor.maps.geometry import MapGeometry
from buurtmonitor.model import FICTITIOUS_LABEL
from loaders import pdok, repository
from loaders.by_origin import LoadedByOrigin, load_by_origin

KWB = "kwb"
GAP = "verschil"
OWN = "eigen"
SOURCE_LABELS = {KWB: "Kerncijfers wijken en buurten (indicator in de zijbalk)",
                 GAP: "Verschil naar herkomst (CBS, per gemeente)",
                 OWN: "Eigen gegevens naar herkomst"}
BOUNDARY_SOURCE = "grenzen: CBS/Kadaster via PDOK"
N_TEXT = "aantal personen in de groep"
MAP_HEIGHT = 620


# ------------------------------------------------------------------------------ data
class TableUnavailable(RuntimeError):
    """The table could not be loaded (Dutch message); not cached, so the next rerun tries again."""


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def load_gap_table(table_id: str) -> LoadedByOrigin:
    """Every gemeente of one CBS table by origin (cache, else CBS); :class:`TableUnavailable`
    when it cannot be loaded."""
    got = load_by_origin("gemeenten", tables=[table_id])
    if got.problems:
        raise TableUnavailable(" ".join(p.message for p in got.problems))
    return got


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def gap_groups(table_id: str, indicator: str, year: int) -> list[str]:
    """The groups with a gap in the table (computed once per table, indicator and year)."""
    return kaart.groups_in(load_gap_table(table_id).frame, indicator, year, table_id=table_id)


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def gap_map(table_id: str, indicator: str, group: str, year: int) -> kaart.GapMap:
    """:func:`buurtmonitor.integratie.kaart.gap_map` of a loaded table (computed once per choice)."""
    return kaart.gap_map(load_gap_table(table_id).frame, indicator, group, year, table_id=table_id)


@st.cache_data(show_spinner=False, max_entries=16, ttl=30)
def load_own(gemeente: str) -> LoadedByOrigin:
    """The gemeente's own figures by origin per wijk and buurt (no CBS table is asked)."""
    return load_by_origin(gemeente, tables=[], own_levels=("wijk", "buurt"))


@st.cache_data(show_spinner=False, max_entries=32, ttl=600)
def boundary_year(year: int, level: str, gemeente: str | None, extra: tuple[int, ...] = ()) -> int:
    """The year of the nearest boundaries that load (:func:`kaart.boundary_years` order);
    :class:`LookupError` with the Dutch reason when none does (not cached: tried again)."""
    reason = ""
    for i, y in enumerate(kaart.boundary_years(year, extra=extra)):
        try:
            geometry, _, _ = app_maps.map_geometry(y, level, gemeente)
        except Exception as exc:  # noqa: BLE001 - that year has no boundaries (or PDOK is down): next year
            reason = str(exc)
            if i == 0 and not pdok.is_reachable():
                raise LookupError(f"PDOK is nu niet bereikbaar en de grenzen staan niet in de cache. ({reason})") from exc
            continue
        if not geometry.empty:
            return y
    raise LookupError(reason or "geen grenzen gevonden")


def own_available(gemeente: str, level: str) -> bool:
    """Whether the gemeente has own figures by origin at ``level``."""
    try:
        return bool(kaart.own_choices(load_own(gemeente).frame, level))
    except Exception:  # noqa: BLE001 - damaged own data: the page says so when they are chosen
        return False


# ------------------------------------------------------------------------------ choice
def source_choice(sel: ui.Selection) -> str:
    """The figures to draw (sidebar radio): :data:`KWB`, :data:`GAP` (level gemeente) or
    :data:`OWN` (wijk/buurt of a gemeente with own data)."""
    if sel.level == "gemeente":
        options = [KWB, GAP]
    elif sel.level in ("wijk", "buurt") and own_available(sel.gemeente, sel.level):
        options = [KWB, OWN]
    else:
        return KWB
    if st.session_state.get("kaart_bron") not in options:
        st.session_state.pop("kaart_bron", None)
    return str(st.sidebar.radio("Cijfers op de kaart", options, key="kaart_bron", format_func=SOURCE_LABELS.get,
                                help="De Kerncijfers wijken en buurten van de indicator in de zijbalk, of "
                                     "cijfers naar herkomstgroep: per gemeente het verschil met herkomst "
                                     "Nederland (CBS), per wijk of buurt de eigen gegevens van de gemeente."))


def render(sel: ui.Selection, source: str) -> None:
    """The page body for :data:`GAP` or :data:`OWN`."""
    st.title("Kaart")
    main, side = st.columns([3, 1.15], gap="large")
    with side:
        ui.guidance_panel("kaart", None)
    with main:
        try:
            if source == GAP:
                _gap_view(sel)
            else:
                _own_view(sel)
        except Exception as exc:  # noqa: BLE001 - a Dutch message, never a traceback
            st.error(ui.load_error(exc, "De cijfers naar herkomst"), icon=":material/error:")


def _map_settings(key: str) -> tuple[str, int, str]:
    with st.expander("Kaartinstellingen: indeling en kleuren", expanded=False):
        c1, c2 = st.columns(2)
        method = c1.selectbox("Indeling in klassen", list(classes.METHODS), key=f"{key}_methode",
                              format_func=classes.METHODS.get)
        k = c1.slider("Aantal klassen", *classes.K_RANGE, value=classes.DEFAULT_K, key=f"{key}_klassen",
                      disabled=method == "continuous")
        diverging = key == "kh_verschil"
        palettes = classes.palette_options(diverging)
        palette = c2.selectbox("Kleuren (kleurenblindveilig)", list(palettes), format_func=palettes.get,
                               key=f"{key}_palet")
    return str(method), int(k), str(palette)


def _geometry(year: int, level: str, gemeente: str | None, what: str,
              extra: tuple[int, ...] = ()) -> tuple[MapGeometry | None, int | None]:
    with st.spinner(f"Grenzen van de {what} laden …", show_time=True):
        try:
            by = boundary_year(year, level, gemeente, extra)
        except LookupError as exc:
            st.warning(f"De grenzen van de {what} zijn nu niet beschikbaar, dus de kaart kan niet worden "
                       f"getekend. De cijfers staan in de tabel. ({exc})", icon=":material/map:")
            return None, None
        geometry, _, warning = app_maps.map_geometry(by, level, gemeente)
    if warning:
        st.warning(warning, icon=":material/inventory_2:")
    note = kaart.boundary_note(year, by, formatting.level_plural(level))
    if note:
        st.info(note, icon=":material/history:")
    return geometry, by


def _unmatched_notice(frame: pd.DataFrame, geometry: MapGeometry, by: int, what: str) -> None:
    no_shape, no_data = kaart.unmatched(frame, geometry.codes)
    if no_shape:
        listed = ", ".join(f"{n} ({c})" for c, n in no_shape)
        st.warning(ui.md_escape(f"{formatting.integer(len(no_shape))} {what} uit de cijfers hebben geen grens op de kaart van {by} "
                                f"(andere code, bijvoorbeeld door een herindeling); ze staan wel in de tabel: "
                                f"{listed}."), icon=":material/info:")
    if no_data:
        listed = ", ".join(f"{geometry.names.get(c, c)} ({c})" for c in no_data)
        line = f"{formatting.integer(len(no_data))} {what} op de kaart staan niet in de cijfers (grijs, geen gegevens)"
        if len(no_data) <= 10:
            st.info(ui.md_escape(f"{line}: {listed}."), icon=":material/info:")
        else:
            st.info(ui.md_escape(f"{line}; zie de lijst hieronder."), icon=":material/info:")
            with st.expander(f"{formatting.integer(len(no_data))} {what} zonder cijfers"):
                st.text(listed)


def _show_map(fig, alt: str, key: str) -> str | None:
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points", alt=alt,
                            config={"displaylogo": False, "scrollZoom": True,
                                    "modeBarButtonsToRemove": ["select2d", "lasso2d"]})
    return mapping.clicked_code(event)


# ------------------------------------------------------------------------------ exports
def gap_export_item(gm: kaart.GapMap, figure, table: pd.DataFrame, source_line: str, sentence: str) -> ExportItem:
    """The export of the gap map: title with the year, the table, the rank in words, the source
    line (CBS table and boundary year), the table id and the year."""
    ind = gm.map_indicator()
    return ExportItem(
        title=f"{gm.title}, per gemeente, {gm.year}", subtitle=f"Alle gemeenten · {gm.year} · {gm.table_id}",
        figure=figure, table=table, key_figures=[sentence], source_line=source_line,
        table_ids=[gm.table_id], years=[gm.year],
        definitions=[{"id": ind.id, "label": ind.label, "definition": ind.definition, "unit": ind.unit}])


def own_export_item(om: kaart.OwnMap, figure, table: pd.DataFrame, source_line: str, place: str,
                    fictitious: bool) -> ExportItem:
    """The export of an own-data map: title with the year, the table, the own source line."""
    ind = om.map_indicator()
    level = ui.level_label(om.level).lower()
    return ExportItem(
        title=f"{om.label} per {level}, {place}, {om.year}", subtitle=f"{place} · {om.year} · {level}",
        figure=figure, table=table, source_line=source_line, table_ids=list(om.table_ids), years=[om.year],
        fictitious=fictitious,
        definitions=[{"id": ind.id, "label": ind.label, "definition": ind.definition, "unit": ind.unit}])


# ------------------------------------------------------------------------------ gap map
def _gap_view(sel: ui.Selection) -> None:
    cat = load_origin_catalogue()
    if repository.is_demo_scope(sel.gemeente):
        st.info("De Voorbeeldgemeente is fictief en heeft geen landelijke cijfers naar herkomst. Kies een echte "
                "gemeente voor de kaart van alle gemeenten, of kies Wijken of Buurten: daar staan de fictieve "
                "eigen gegevens van de Voorbeeldgemeente naar herkomst.", icon=":material/info:")
        return
    choices = kaart.gap_indicators(cat)
    ids = list(choices)
    c1, c2, c3, c4 = st.columns([1.4, 1.25, 0.7, 1.4])
    ind_id = c1.selectbox("Indicator", ids, key="kh_indicator",
                          index=ids.index(kaart.DEFAULT_INDICATOR) if kaart.DEFAULT_INDICATOR in ids else 0,
                          format_func=lambda i: cat.indicators[i].label)
    tables = choices[ind_id]
    default_t = kaart.default_table(ind_id, cat)
    table_id = c2.selectbox("Tabel", tables, key=f"kh_tabel_{ind_id}", index=tables.index(default_t),
                            format_func=lambda t: _table_label(cat.table(t)),
                            help="De CBS-tabel met de cijfers naar herkomst per gemeente: "
                                 + "; ".join(f"{t}: {cat.table(t).title}" for t in tables) + ".")
    try:
        with st.spinner(f"Tabel {table_id} van alle gemeenten laden …", show_time=True):
            got = load_gap_table(table_id)
    except TableUnavailable as exc:
        st.error(str(exc), icon=":material/error:")
        return
    for w in got.warnings:
        st.warning(w, icon=":material/info:")
    years = kaart.years_in(got.frame, ind_id, table_id)
    if not years:
        st.warning(f"Tabel {table_id} heeft geen cijfers per gemeente voor {cat.indicators[ind_id].label}.")
        return
    year = int(c3.selectbox("Jaar", years, key=f"kh_jaar_{table_id}_{ind_id}"))
    groups = gap_groups(table_id, ind_id, year)
    if not groups:
        st.warning(f"In {table_id} ({year}) is voor geen enkele herkomstgroep een verschil te berekenen.")
        return
    group_key = f"kh_groep_{table_id}_{ind_id}_{year}"
    default_g = kaart.DEFAULT_GROUP if kaart.DEFAULT_GROUP in groups else groups[0]
    group = str(c4.selectbox("Herkomstgroep", groups, key=group_key, index=groups.index(default_g),
                             format_func=lambda g: cat.groups[g].label))
    if kaart.DEFAULT_GROUP not in groups and group == default_g:
        st.info(f"{cat.groups[kaart.DEFAULT_GROUP].label} staat niet in de cijfers van {table_id} ({year}); "
                f"getoond: {cat.groups[group].label}.", icon=":material/info:")

    why = kaart.reason_label(cat)
    gm = gap_map(table_id, ind_id, group, year)
    ind = gm.map_indicator()
    st.caption(ui.md_escape(f"{gm.title}, per gemeente, {year}. Plaats 1 = de grootste achterstand van de groep."))
    method, k, palette = _map_settings("kh_verschil")
    source = "; ".join(p.source_line() for p in got.sources) or f"Bron: CBS, {table_id}"
    geometry, by = _geometry(year, "gemeente", None, "gemeenten")
    tab_map, tab_table = st.tabs([":material/map: Kaart", ":material/table_view: Tabel (zelfde cijfers)"])
    table_df = gm.table(why)
    line = source + (f"; {BOUNDARY_SOURCE} ({by})" if by else "")
    with tab_map:
        fig = None
        if geometry is not None:
            selected = sel.gemeente if sel.gemeente in set(geometry.codes) else None

            def figure(url: str | None = None, title: str = ""):
                return mapping.choropleth(
                    geometry, gm.frame, ind, method=method, k=k, reference=("geen verschil", 0.0),
                    selected=selected, palette=palette, level="gemeente", geojson_url=url, title=title,
                    uirevision=f"kaart-verschil-{table_id}", missing_labels=cat.missing_labels,
                    hover_extra=gm.hover(why), n_text=N_TEXT, height=MAP_HEIGHT,
                    source_line=line if title else "")

            fig = figure(app_maps.geojson_url(geometry))
            clicked = _show_map(fig, f"Kaart: {gm.title}, per gemeente, {year}. De cijfers staan ook in de "
                                     "tab Tabel.", "kaart_verschil_map")
            if clicked and clicked != sel.gemeente and clicked in {c for c, _ in ui.gemeente_options(sel.year)}:
                ui.set_selection(gemeente=clicked)
                st.rerun()
            st.caption(ui.md_escape(line))
            _unmatched_notice(gm.frame, geometry, by or year, "gemeenten")
        sentence = kaart.rank_sentence(gm, sel.gemeente, sel.gemeente_name, why)
        st.markdown("**" + ui.md_escape(sentence) + "**")
        _gap_summary(gm, why)

        def export_item() -> ExportItem:
            inline = figure(None, f"{gm.title}, {year}") if geometry is not None else None
            return gap_export_item(gm, inline, table_df, line, sentence)

        ui_export.export_buttons(export_item, key="kaart_verschil_export",
                                 file_stem=f"kaart-verschil-{ind_id}-{group}-{table_id}-{year}",
                                 has_figure=fig is not None)
    with tab_table:
        st.caption(ui.md_escape(f"{gm.title}, {year}. Gemeenten zonder verschil hebben geen plaats; de reden "
                                "staat in de kolom Toelichting (nooit 0)."))
        ui.table_alternative(table_df, f"buurtmonitor_verschil_{ind_id}_{group}_{table_id}_{year}.csv",
                             key="kaart_verschil_csv")
        st.caption(ui.md_escape(line))


def _table_label(spec) -> str:
    """``"86008NED (2014–2023)"``."""
    years = sorted(spec.years)
    span = "" if not years else f" ({years[0]})" if len(years) == 1 else f" ({years[0]}–{years[-1]})"
    return f"{spec.id}{span}"


def _gap_summary(gm: kaart.GapMap, why) -> None:
    f = gm.frame
    missing = f[f["value"].isna()]
    reasons = missing["missing"].value_counts()
    lines = [f"**Wat zie je?** {ui.md_escape(gm.map_indicator().definition)}",
             f"- {formatting.integer(gm.ranked)} van de {formatting.integer(len(f))} gemeenten in tabel "
             f"{ui.md_escape(gm.table_id)} hebben een verschil en een plaats.",
             "- Kleuren lopen uiteen rond 0 (geen verschil met "
             f"{ui.md_escape(kaart.lower_first(gm.reference_label))})."]
    if len(missing):
        counts = ", ".join(f"{n} {ui.md_escape(why(r))}" for r, n in reasons.items())
        lines.append(f"- **Zonder verschil: {formatting.integer(len(missing))}** gemeenten ({counts}); grijs gearceerd, nooit 0.")
    if gm.country_gap is not None:
        lines.append(f"- **Nederland:** {ui.md_escape(kaart.lower_first(gm.group_label))} "
                     f"{gm.value_text(gm.country_value)}, {ui.md_escape(kaart.lower_first(gm.reference_label))} "
                     f"{gm.value_text(gm.country_reference_value)}: "
                     f"verschil {ui.md_escape(kaart.gap_value(gm.country_gap, gm.indicator))}.")
    st.markdown("\n".join(lines))


# ------------------------------------------------------------------------------ own data
def _own_view(sel: ui.Selection) -> None:
    cat = load_origin_catalogue()
    level, what = sel.level, formatting.level_plural(sel.level)
    got = load_own(sel.gemeente)
    if got.fictitious:
        st.warning(f"**{FICTITIOUS_LABEL}.** De eigen gegevens van de Voorbeeldgemeente zijn verzonnen om de kaart "
                   "te laten zien zonder echte gegevens.", icon="⚠️")
    for w in got.warnings:
        st.warning(w, icon=":material/info:")
    pairs = kaart.own_choices(got.frame, level, cat)
    if not pairs:
        st.info(f"{sel.gemeente_name} heeft geen eigen gegevens naar herkomst per {ui.level_label(level).lower()}. "
                "Lees ze in met: python -m buurtmonitor import --file maatwerk.xlsx", icon=":material/info:")
        return
    c1, c2 = st.columns([3, 1])
    first = next((i for i, p in enumerate(pairs) if p[1] == kaart.DEFAULT_GROUP), 0)
    pair = c1.selectbox("Cijfers", pairs, key=f"kh_eigen_{level}", index=first,
                        format_func=lambda p: kaart.own_label(*p, cat))
    indicator, group = pair
    years = kaart.own_years(got.frame, level, indicator, group)
    year = int(c2.selectbox("Jaar", years, key=f"kh_eigen_jaar_{level}_{indicator}_{group}"))
    why = kaart.reason_label(cat)
    om = kaart.own_map(got.frame, indicator, group, year, level, catalogue=cat)
    ind = om.map_indicator()
    st.caption(ui.md_escape(f"{om.label} per {ui.level_label(level).lower()}, {sel.gemeente_name}, {year}"))
    method, k, palette = _map_settings("kh_eigen")
    geometry, by = _geometry(year, level, sel.gemeente, f"{what} van {sel.gemeente_name}", (sel.year,))
    line = om.source_line + (f"; {BOUNDARY_SOURCE} ({by})" if by and not got.fictitious else "")
    table_df = om.table(why)
    tab_map, tab_table = st.tabs([":material/map: Kaart", ":material/table_view: Tabel (zelfde cijfers)"])
    with tab_map:
        fig = None
        if geometry is not None:
            selected = sel.area if sel.area in set(geometry.codes) else None

            def figure(url: str | None = None, title: str = ""):
                return mapping.choropleth(
                    geometry, om.frame, ind, method=method, k=k, selected=selected, palette=palette,
                    level=level, geojson_url=url, title=title, fictitious=got.fictitious,
                    uirevision=f"kaart-eigen-{sel.gemeente}-{level}", missing_labels=cat.missing_labels,
                    n_text=N_TEXT, height=MAP_HEIGHT, source_line=line if title else "")

            fig = figure(app_maps.geojson_url(geometry))
            clicked = _show_map(fig, f"Kaart: {om.label} per {ui.level_label(level).lower()}, "
                                     f"{sel.gemeente_name}, {year}. De cijfers staan ook in de tab Tabel.",
                                "kaart_eigen_map")
            if clicked and clicked != sel.area and clicked in set(geometry.codes):
                ui.set_selection(gebied=clicked)
                st.rerun()
            st.caption(ui.md_escape(line))
            _unmatched_notice(om.frame, geometry, by or year, what)
        _own_summary(om, what, cat)

        def export_item() -> ExportItem:
            inline = figure(None, f"{om.label}, {sel.gemeente_name}, {year}") if geometry is not None else None
            return own_export_item(om, inline, table_df, line, sel.gemeente_name, got.fictitious)

        ui_export.export_buttons(export_item, key="kaart_eigen_export",
                                 file_stem=f"kaart-eigen-{indicator}-{group}-{sel.gemeente}-{year}-{level}",
                                 has_figure=fig is not None)
    with tab_table:
        st.caption(ui.md_escape(f"{om.label}, {year}. Waarden onder de kleine-aantallenregel zijn verborgen: de "
                                "reden staat in de kolom Toelichting (nooit 0)."))
        ui.table_alternative(table_df, f"buurtmonitor_eigen_{indicator}_{group}_{sel.gemeente}_{year}_{level}.csv",
                             key="kaart_eigen_csv")
        st.caption(ui.md_escape(line))


def _own_summary(om: kaart.OwnMap, what: str, cat) -> None:
    f = om.frame
    have = f[f["value"].notna()]
    few = int((f["missing"] == "klein_aantal").sum())
    lines = [f"**Wat zie je?** {ui.md_escape(om.indicator.definition or om.label)}",
             f"- {formatting.integer(len(f))} {what} met eigen gegevens, waarvan "
             f"{formatting.integer(len(have))} met een waarde"
             + (f" (van {om.indicator_text(have['value'].min())} tot {om.indicator_text(have['value'].max())})."
                if len(have) else ".")]
    if few:
        lines.append(f"- **Te weinig personen: {formatting.integer(few)}** {what}: de waarde is verborgen (minder dan "
                     f"{formatting.integer(cat.rules.min_n)} personen in de groep); grijs gearceerd, nooit 0.")
    other = int(f["value"].isna().sum()) - few
    if other:
        lines.append(f"- **Zonder waarde: {formatting.integer(other)}** {what}; grijs gearceerd, nooit 0.")
    st.markdown("\n".join(lines))
