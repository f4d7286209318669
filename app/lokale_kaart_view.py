"""The Streamlit side of the *Lokale kaart* page (``pages/lokale_kaart.py``).

The analysis lives in :mod:`buurtmonitor.lokale_kaart` (segregation, change signals,
clusters) and what the page shows of it (tables, texts, the worksheet context) in
:mod:`buurtmonitor.lokale_kaart.presenters`. This module loads the data (cached per
year/gemeente/level(/indicator), through the cached loaders of :mod:`app.ui` and
:mod:`loaders.repository`), draws the two maps (diversity per area and the cluster map)
and renders the four tabs, with the worksheet notes of :mod:`loaders.notes`.

User text (worksheet notes, author names) is only ever shown with ``st.text`` or in
dataframes, never through Markdown or HTML.
"""

from __future__ import annotations

import html
import sqlite3
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import auth, ui
from buurtmonitor import formatting as fmt
from buurtmonitor.catalogue import load_catalogue, load_lokale_kaart
from buurtmonitor.exports.tabular import frame_to_csv
from buurtmonitor.harmonise import indicator_frame
from buurtmonitor.lokale_kaart import change as change_mod
from buurtmonitor.lokale_kaart import clusters as clusters_mod
from buurtmonitor.lokale_kaart import indices as lokale_kaart
from buurtmonitor.lokale_kaart.indices import GemeenteMeasures
from buurtmonitor.lokale_kaart.presenters import (
    DEFAULT_THRESHOLDS,
    WHOLE_GEMEENTE,
    ChangeView,
    ClusterView,
    PageData,
    _date,
    _readable_reason,
    area_names,
    areas_table,
    boundary_changes,
    change_areas_table,
    cluster_table,
    composition_table,
    dropped_table,
    exposure_table,
    flagged_areas,
    flags_table,
    moran_text,
    national_lines,
    no_boundaries_text,
    scheme_break_text,
    section_context,
    worksheet_text,
)
from buurtmonitor.maps.geometry import MAP_FIT_WIDTH_PX, center_zoom, prepare_geometry
from buurtmonitor.model import FICTITIOUS_LABEL
from loaders import notes, repository
from loaders.notes import MAX_TEXT, NotesRepository

TAB_LABELS = load_lokale_kaart().tabs

#: Colour-blind-safe categorical palette for the cluster map (Okabe-Ito): concentrations in
#: strong colours (vermillion / blue), outliers in lighter related hues, the rest grey.
CLUSTER_COLOURS = {
    clusters_mod.HIGH_HIGH: "#D55E00",
    clusters_mod.LOW_LOW: "#0072B2",
    clusters_mod.HIGH_LOW: "#E69F00",
    clusters_mod.LOW_HIGH: "#56B4E9",
    clusters_mod.NOT_SIGNIFICANT: "#DDDDDD",
}
NOT_ANALYSED = "Niet meegenomen"
NOT_ANALYSED_COLOUR = "#8C8C8C"
DIVERSITY_SCALE = "Viridis"


def md_escape(text: Any) -> str:
    """Escape Markdown in data text (CBS area names) placed inside a caption/markdown line."""
    s = str(text)
    for ch in "\\`*_{}[]()#+-.!<>|~$":
        s = s.replace(ch, "\\" + ch)
    return s


@st.cache_data(show_spinner="Segregatie- en diversiteitsmaten berekenen…", max_entries=32)
def compute_measures(year: int, gemeente: str, level: str) -> GemeenteMeasures:
    """:func:`lokale_kaart.measures` for the selection, with the national comparison where
    the data are real (``repository.load_table(year, "alle")``). Adds ``national_error``
    (Dutch) when that comparison could not be made. Raises LookupError (no areas)."""
    table, _origin, _warning = ui.load_table(year, gemeente)
    national = None
    national_error = None
    if not table.meta.fictitious:
        try:
            national, _o, _w = ui.load_table(year, "alle")
        except Exception as exc:  # noqa: BLE001 - the comparison is optional
            national_error = (f"De cijfers van alle gemeenten in {year} konden niet worden "
                              f"geladen, dus er is geen landelijke vergelijking. ({exc})")
    result = lokale_kaart.measures(table, gemeente, level, national=national)
    return replace(result, national_error=national_error)


# ----------------------------------------------------------------------------- maps
def _geometry(gdf, level: str):
    """(geojson, codes, names, bounds, parent outlines or None) for plotly, reusing
    :func:`buurtmonitor.maps.geometry.prepare_geometry`."""
    geom = prepare_geometry(gdf, level)
    parent = geom.parent if geom.parent is not None and not geom.parent.empty else None
    return geom.geojson, geom.codes, geom.names, geom.bounds, parent


def _finish_map(fig: go.Figure, bounds, *, source: str, fictitious: bool, height: int,
                legend_title: str | None = None, right: int = 0) -> go.Figure:
    """Common layout: fitted view, offline background, legend and source line below the map,
    the fictitious label on top."""
    center, zoom = center_zoom(bounds, MAP_FIT_WIDTH_PX - right, max(height - 70, 200),
                               margin=-0.1, min_zoom=3.0)
    n_items = sum(1 for t in fig.data if t.showlegend)
    legend_rows = 1 if n_items <= 3 else (2 if n_items <= 5 else 3)
    bottom = 40 + 26 * legend_rows
    annotations = [{"text": html.escape(source, quote=False), "xref": "paper", "yref": "paper",
                    "x": 0, "y": 0, "yshift": -bottom + 2, "xanchor": "left", "yanchor": "bottom",
                    "showarrow": False, "font": {"size": 11, "color": "#333"}}]
    if fictitious:
        annotations.append({"text": f"<b>{html.escape(FICTITIOUS_LABEL)}</b>", "xref": "paper",
                            "yref": "paper", "x": 0.5, "y": 1, "yshift": 2, "xanchor": "center",
                            "yanchor": "bottom",
                            "showarrow": False, "font": {"size": 13, "color": "#7a0000"},
                            "bgcolor": "rgba(255,236,179,0.92)", "bordercolor": "#7a0000",
                            "borderwidth": 1})
    fig.update_layout(
        map={"style": "white-bg", "center": center, "zoom": zoom},
        height=height + bottom, margin={"l": 0, "r": right, "t": 28 if fictitious else 0, "b": bottom},
        separators=",.", annotations=annotations, dragmode="pan", font={"size": 13},
        legend={"orientation": "h", "x": 0, "y": 0, "xanchor": "left", "yanchor": "top",
                "bgcolor": "rgba(255,255,255,0)", "font": {"size": 12},
                "title": {"text": f"{legend_title}: " if legend_title else ""}},
        hoverlabel={"bgcolor": "white", "font": {"size": 13}, "align": "left"},
    )
    return fig


def _add_outlines(fig: go.Figure, parent) -> None:
    if parent is not None:
        fig.add_trace(go.Scattermap(lon=parent.lon, lat=parent.lat, mode="lines",
                                    line={"width": 1.6, "color": "#3a3a3a"}, hoverinfo="skip",
                                    name=parent.name or "grenzen", showlegend=True))


def diversity_map(gdf, m: GemeenteMeasures, level: str, *, measure: str = "entropy",
                  height: int = 520) -> go.Figure:
    """Choropleth of the diversity per area (entropy 0–1 by default); areas that were not
    computed (dropped) in light grey with the reason in the hover."""
    geojson, codes, names, bounds, parent = _geometry(gdf, level)
    by_code = {a.code: a for a in m.areas}
    dropped = {d["code"]: _readable_reason(d["reason"]) for d in m.dropped}
    label = load_lokale_kaart().measures[measure].label
    z, hover, miss = [], [], []
    for c in codes:
        a = by_code.get(c)
        nm = html.escape(str(names.get(c) or (a.name if a is not None else None) or c))
        if a is None or getattr(a, measure) is None:
            miss.append(c)
            why = dropped.get(c, "geen gegevens voor dit gebied")
            hover.append(f"<b>{nm}</b> ({html.escape(c)})<br>niet berekend: {html.escape(why)}")
            z.append(np.nan)
            continue
        z.append(getattr(a, measure))
        shares = "<br>".join(f"{html.escape(m.labels[g])}: {fmt.percent(a.shares.get(g))}"
                             for g in m.groups)
        hover.append(f"<b>{nm}</b> ({html.escape(c)})<br>{html.escape(label)}: "
                     f"<b>{fmt.index(getattr(a, measure))}</b><br>{shares}<br>inwoners: {fmt.number(a.total, 0)}")
    zs = np.asarray(z, dtype=float)
    fig = go.Figure()
    ok = ~np.isnan(zs)
    hi = 1.0 if measure == "entropy" else 1 - 1 / max(len(m.groups), 2)
    fig.add_trace(go.Choroplethmap(
        geojson=geojson, locations=[c for c, k in zip(codes, ok) if k], featureidkey="id",
        z=zs[ok], zmin=0.0, zmax=hi, colorscale=DIVERSITY_SCALE, reversescale=False,
        marker={"opacity": 0.9, "line": {"width": 0.7, "color": "#ffffff"}},
        colorbar={"title": {"text": "diversiteit" if measure == "entropy" else "Gini-Simpson",
                            "side": "top"},
                  "thickness": 14, "len": 0.8, "x": 1.0, "xanchor": "left", "xpad": 4,
                  "tickformat": ".1f", "outlinewidth": 0},
        hovertext=[h for h, k in zip(hover, ok) if k], hovertemplate="%{hovertext}<extra></extra>",
        name=label, showlegend=False))
    if miss:
        fig.add_trace(go.Choroplethmap(
            geojson=geojson, locations=miss, featureidkey="id", z=[0] * len(miss),
            colorscale=[[0, "#d9d9d9"], [1, "#d9d9d9"]], showscale=False,
            marker={"opacity": 0.9, "line": {"width": 0.7, "color": "#8a8a8a"}},
            hovertext=[h for h, k in zip(hover, ok) if not k],
            hovertemplate="%{hovertext}<extra></extra>",
            name=f"niet berekend ({len(miss)})", showlegend=True))
    _add_outlines(fig, parent)
    # room for the colour bar beside the map
    return _finish_map(fig, bounds, source=m.source, fictitious=bool(m.fictitious),
                       height=height, right=80)


def available_years(gemeente: str) -> list[int]:
    """The years with data for ``gemeente`` (cache, source or demo), ascending."""
    return sorted(int(y) for y in repository.available_years(gemeente))


@st.cache_data(show_spinner="Veranderingen berekenen…", max_entries=64)
def compute_change(year_a: int, year_b: int, gemeente: str, level: str, share_pp: float,
                   population_pct: float, composition_pp: float,
                   min_population: int) -> change_mod.ChangeResult:
    ta, _o, _w = ui.load_table(year_a, gemeente)
    tb, _o, _w = ui.load_table(year_b, gemeente)
    return lokale_kaart.change_signals(
        ta, tb, gemeente, level, share_threshold_pp=share_pp,
        population_threshold_pct=population_pct, composition_threshold_pp=composition_pp,
        min_population=int(min_population))


def previous_year(year: int, gemeente: str) -> int | None:
    """The year the change tab compares with (same origin scheme), or None."""
    return lokale_kaart.previous_comparable_year(year, available_years(gemeente))


def change_view(year: int, gemeente: str, level: str,
                thresholds: dict[str, float] | None = None) -> ChangeView:
    """Change signals between the previous comparable year and ``year``, or the reason
    why there are none (scheme break, no earlier year, data not available)."""
    cat = load_catalogue()
    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    years = available_years(gemeente)
    prev = lokale_kaart.previous_comparable_year(year, years)
    view = ChangeView(year=year, previous=prev)
    if prev is None:
        earlier = [y for y in years if y < year]
        if earlier and cat.scheme_for_year(max(earlier)) != cat.scheme_for_year(year):
            view.scheme_break = True
            view.message = scheme_break_text(year)
            before = max(earlier)
            try:
                ta, _o, _w = ui.load_table(before, gemeente)
                tb, _o, _w = ui.load_table(year, gemeente)
                view.boundary_changes = boundary_changes(ta, tb, gemeente, level)
            except Exception as exc:  # noqa: BLE001 - only an extra list
                view.boundary_note = (f"De grenswijzigingen tussen {before} en {year} zijn niet "
                                      f"te bepalen: de cijfers van {before} zijn niet beschikbaar.")
                view.detail = str(exc)
        else:
            view.message = (f"Er is geen eerder jaar dan {year} beschikbaar om mee te vergelijken, "
                            "dus er zijn geen veranderingssignalen.")
        return view
    try:
        view.result = compute_change(prev, year, gemeente, level, float(thresholds["share_pp"]),
                                     float(thresholds["population_pct"]),
                                     float(thresholds["composition_pp"]),
                                     int(thresholds["min_population"]))
    except change_mod.SchemeBreakError as exc:
        view.scheme_break = True
        view.message = str(exc)
    except Exception as exc:  # noqa: BLE001 - shown as a Dutch message
        view.message = (f"Er zijn geen cijfers van {prev}, dus er zijn geen veranderingssignalen tussen "
                        f"{prev} en {year}. "
                        + ui.FAILURE_REASONS[ui.failure_kind(exc)].format(jaren=prev))
        view.detail = str(exc)
    if view.result is not None:
        view.boundary_changes = view.result.boundary_changes
    return view


@st.cache_data(show_spinner="Clusters berekenen (Local Moran's I)…", max_entries=64)
def compute_clusters(year: int, gemeente: str, level: str, indicator: str) -> ClusterView:
    """Local Moran's I of ``indicator`` over the ``level`` polygons of ``gemeente``;
    never raises for missing boundaries or too few areas: a Dutch message instead."""
    cat = load_catalogue()
    ind = cat.indicators.get(indicator)
    table, _o, _w = ui.load_table(year, gemeente)
    try:
        gdf, _origin, _warning = ui.load_geo(year, level, gemeente)
    except Exception as exc:  # noqa: BLE001 - no boundaries: a message, not an error
        return ClusterView(message=no_boundaries_text(level, gemeente, year), kind="geen_grenzen",
                           detail=str(exc))
    if gdf is None or len(gdf) == 0:
        return ClusterView(message=no_boundaries_text(level, gemeente, year), kind="geen_grenzen")
    f = indicator_frame(table, indicator)
    f = f[(f["level"] == level) & f["code"].isin(set(area_names(table, gemeente, level)))]
    values = pd.Series(f["value"].to_numpy(dtype=float), index=f["code"].astype(str).to_numpy())
    geo = gdf[gdf["code"].astype(str).isin(values.index)] if len(values) else gdf
    if len(geo) == 0:
        return ClusterView(message=no_boundaries_text(level, gemeente, year), kind="geen_grenzen",
                           detail="De grenzen hebben geen enkele code die in de cijfers voorkomt.")
    try:
        res = clusters_mod.local_moran(geo.reset_index(drop=True), values)
    except clusters_mod.TooFewAreasError as exc:
        return ClusterView(message=str(exc), kind="te_weinig")
    except clusters_mod.ClusterAnalysisError as exc:
        return ClusterView(message=str(exc), kind="geen_patroon")
    except ValueError as exc:
        label = ind.label if ind else indicator
        return ClusterView(message=f"De clusteranalyse voor '{label}' lukt niet met deze grenzen: {exc}",
                           kind="geen_patroon")
    return ClusterView(result=res)


def cluster_map(gdf, res: clusters_mod.ClusterResult, level: str, names: dict[str, str], *,
                indicator_label: str, unit: str, source: str, fictitious: bool,
                excluded: list[dict[str, str]] | None = None, height: int = 540) -> go.Figure:
    """Categorical choropleth: one trace per cluster label (colour-blind-safe palette), areas
    that were not analysed in white with a dark outline."""
    geojson, codes, gnames, bounds, parent = _geometry(gdf, level)
    t = res.table.set_index("code")
    excl = {e["code"]: e["reason"] for e in (excluded or res.excluded)}
    fig = go.Figure()
    for label in clusters_mod.CLUSTER_LABELS + (NOT_ANALYSED,):
        if label == NOT_ANALYSED:
            locs = [c for c in codes if c not in t.index]
        else:
            locs = [c for c in codes if c in t.index and t.at[c, "cluster"] == label]
        if not locs:
            continue
        hover = []
        for c in locs:
            nm = html.escape(str(names.get(c) or gnames.get(c) or c))
            if label == NOT_ANALYSED:
                why = excl.get(c, "geen waarde of geen grens")
                hover.append(f"<b>{nm}</b> ({html.escape(c)})<br>niet meegenomen: {html.escape(why)}")
            else:
                hover.append(f"<b>{nm}</b> ({html.escape(c)})<br>{html.escape(indicator_label)}: "
                             f"<b>{fmt.number(t.at[c, 'value'], 1)}{html.escape(' ' + unit if unit and unit != '%' else unit)}</b>"
                             f"<br>{html.escape(label)} (p = {fmt.number(t.at[c, 'p_sim'], 3)})")
        colour = NOT_ANALYSED_COLOUR if label == NOT_ANALYSED else CLUSTER_COLOURS[label]
        line = "#555555" if label in (NOT_ANALYSED, clusters_mod.NOT_SIGNIFICANT) else "#ffffff"
        fig.add_trace(go.Choroplethmap(
            geojson=geojson, locations=locs, featureidkey="id", z=[1] * len(locs),
            colorscale=[[0, colour], [1, colour]], showscale=False,
            marker={"opacity": 0.92, "line": {"width": 0.8, "color": line}},
            hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
            name=f"{label} ({len(locs)})", showlegend=True, legendgroup=label))
    _add_outlines(fig, parent)
    return _finish_map(fig, bounds, source=source, fictitious=fictitious, height=height,
                       legend_title="Clustertype")


# ============================================================================ Streamlit blocks
def _column_config(df: pd.DataFrame) -> dict[str, Any]:
    """Numbers of a very large table in the reader's locale (nl: 1.234,5); smaller tables are
    formatted the Dutch way whatever the browser's language (``ui.dutch_style``)."""
    return {c: st.column_config.NumberColumn(c, format="localized")
            for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}


def show_table(df: pd.DataFrame, **kw) -> None:
    if len(df) > ui.STYLE_MAX_ROWS:
        st.dataframe(df, hide_index=True, width="stretch", column_config=_column_config(df), **kw)
    else:
        st.dataframe(ui.dutch_style(df), hide_index=True, width="stretch", **kw)


def table_with_download(df: pd.DataFrame, filename: str, *, key: str) -> None:
    """The accessible table beside a chart, downloadable as CSV (as ``ui.table_alternative``:
    Dutch numbers on screen, the project's one CSV dialect)."""
    show_table(df)
    st.download_button("Tabel downloaden (CSV)", frame_to_csv(df), file_name=filename, mime="text/csv", key=key)


def render_segregation(data: PageData) -> None:
    """Tab 1: key measures, matrix, per-area diversity + map, caveat, dropped areas."""
    m = data.measures
    lv = fmt.level_plural(data.level)
    st.header(f"Segregatie en diversiteit · {data.gemeente_name} · {data.year}")
    if m is None:
        st.error(data.measures_error or "De maten konden niet worden berekend.")
        return
    ex = load_lokale_kaart().measures
    a, b = m.pair
    st.caption(f"Berekend over {m.n_areas} {lv} met volledige gegevens "
               f"(van de {m.n_areas_input}). Groepen: "
               + ", ".join(md_escape(m.labels[g]) for g in m.groups)
               + f". De ongelijkheidsindex voor twee groepen vergelijkt {md_escape(m.labels[a])} "
                 f"met {md_escape(m.labels[b])}.")
    ranks = national_lines(m)
    cols = st.columns(3)
    for col, key in zip(cols, ("dissimilarity", "multigroup_dissimilarity", "theil_h")):
        with col:
            with st.container(border=True):
                st.markdown(f"**{ex[key].label}**",
                            help=f"{ex[key].explanation}\n\nBereik: {ex[key].range}.")
                st.metric(ex[key].label, fmt.index(m.value(key)), label_visibility="collapsed")
                st.caption(ex[key].how_to_read)
                if key in ranks:
                    st.markdown(f"**Landelijk:** {ranks[key]}")
    if data.fictitious:
        st.info("Een landelijke vergelijking (plaats en percentiel tussen alle gemeenten) is niet "
                "beschikbaar voor fictieve gegevens: de Voorbeeldgemeente bestaat niet.", icon="ℹ️")
    elif m.national_error:
        st.warning(m.national_error)
    elif m.national:
        st.caption(f"Vergeleken met {m.national.n_gemeenten} gemeenten met minstens twee "
                   f"{lv} in de cijfers van {data.year}, berekend op dezelfde manier "
                   f"(op {lv}niveau). Met kleinere gebieden komen de indexen hoger uit.")
    with st.expander("Wat betekenen deze maten? (uitleg zonder statistiek)"):
        for key in ("dissimilarity", "multigroup_dissimilarity", "theil_h", "isolation",
                    "exposure", "entropy", "gini_simpson", "location_quotient"):
            if key in ex:
                st.markdown(f"**{ex[key].label}**")
                st.write(ex[key].explanation)
                st.caption(f"Bereik: {ex[key].range}. {ex[key].how_to_read}")
    for w in m.warnings:
        st.warning(w)

    st.markdown("### Samenstelling en isolatie")
    show_table(composition_table(m))
    st.markdown("### Wie woont tussen wie? (isolatie en blootstelling)")
    st.caption(f"{ex['isolation'].explanation} {ex['exposure'].explanation}")
    show_table(exposure_table(m))
    st.caption("Lees per rij: iemand uit die groep woont gemiddeld in een gebied met deze "
               "aandelen. Het vakje op de diagonaal is de isolatie. Vergelijk met de laatste rij: "
               "hoger dan het aandeel in de gemeente betekent meer samenwonen dan bij gelijke spreiding.")

    st.markdown(f"### Diversiteit per {data.level}")
    _render_geo_figure(data, lambda gdf: diversity_map(gdf, m, data.level),
                       key="lk_diversiteit_kaart")
    st.caption(f"{ex['entropy'].how_to_read} Grijs: niet berekend (zie de lijst hieronder).")
    table_with_download(areas_table(m), f"diversiteit_{data.gemeente}_{data.year}_{data.level}.csv",
                         key="lk_dl_diversiteit")
    st.caption(f"LQ = locatiequotiënt: {ex['location_quotient'].how_to_read}"
               if "location_quotient" in ex else "")
    st.info(m.caveat, icon="⚠️")
    if m.dropped:
        with st.expander(f"Weggelaten {lv} ({len(m.dropped)}) en waarom"):
            show_table(dropped_table(m.dropped, data.names))
    else:
        st.caption(f"Alle {lv} met inwoners zijn meegeteld.")


def _render_geo_figure(data: PageData, build, *, key: str, clusters: bool = False) -> None:
    try:
        gdf, origin, warning = ui.load_geo(data.year, data.level, data.gemeente)
    except Exception as exc:  # noqa: BLE001 - the table below is the alternative
        st.info(f"{no_boundaries_text(data.level, data.gemeente, data.year, clusters=clusters)} "
                "De tabel hieronder geeft dezelfde cijfers.", icon="🗺️")
        _detail(str(exc))
        return
    ui.origin_notice(origin, warning)
    if gdf is None or len(gdf) == 0:
        st.info("Geen kaart: er zijn geen grenzen voor deze gebieden. De tabel hieronder geeft "
                "dezelfde cijfers.", icon="🗺️")
        return
    st.plotly_chart(build(gdf), width="stretch", key=key,
                    config={"displaylogo": False, "scrollZoom": True, "locale": "nl"})


def threshold_inputs() -> dict[str, float]:
    """The four thresholds as number inputs (values survive reruns via their keys)."""
    c1, c2, c3, c4 = st.columns(4)
    # in the URL too (a link restores the same signals); the values come from there
    for key, param, lo, hi, default, what in (
            ("lk_drempel_aandeel", "drempel_aandeel", 0.5, 50.0, change_mod.DEFAULT_SHARE_THRESHOLD_PP,
             "De drempel voor het aandeel"),
            ("lk_drempel_inwoners", "drempel_inwoners", 1.0, 200.0, change_mod.DEFAULT_POPULATION_THRESHOLD_PCT,
             "De drempel voor het aantal inwoners"),
            ("lk_drempel_samenstelling", "drempel_samenstelling", 0.5, 50.0,
             change_mod.DEFAULT_COMPOSITION_THRESHOLD_PP, "De drempel voor de samenstelling")):
        ui.view_param(key, param, lambda v, lo=lo, hi=hi: lo <= v <= hi, float(default), what=what,
                      parse=ui.parse_number, encode=ui.encode_number, label=fmt.number)
    ui.view_param("lk_drempel_min", "min_inwoners", lambda v: isinstance(v, int) and 0 <= v <= 5000,
                  int(change_mod.DEFAULT_MIN_POPULATION), what="Het minimum aantal inwoners",
                  parse=int, encode=str, label=fmt.integer)
    share = c1.number_input("Drempel aandeel groep (procentpunt)", min_value=0.5, max_value=50.0,
                            step=0.5, format="%.1f",
                            key="lk_drempel_aandeel",
                            help="Een gebied krijgt een signaal als het aandeel van een groep minstens "
                                 "zoveel procentpunt stijgt of daalt.")
    popu = c2.number_input("Drempel aantal inwoners (%)", min_value=1.0, max_value=200.0,
                           step=1.0, format="%.0f",
                           key="lk_drempel_inwoners",
                           help="Signaal als het aantal inwoners minstens zoveel procent groeit of krimpt.")
    comp = c3.number_input("Drempel samenstelling (procentpunt)", min_value=0.5, max_value=50.0,
                           step=0.5, format="%.1f",
                           key="lk_drempel_samenstelling",
                           help="Signaal als de samenstelling naar herkomst als geheel minstens "
                                "zoveel verschuift (de helft van de som van alle verschuivingen).")
    minp = c4.number_input("Minimum aantal inwoners", min_value=0, max_value=5000,
                           step=50, key="lk_drempel_min",
                           help="Kleinere gebieden krijgen geen signaal: door de afronding op "
                                "vijftallen zijn hun aandelen te onzeker.")
    return {"share_pp": float(share), "population_pct": float(popu),
            "composition_pp": float(comp), "min_population": int(minp)}


def render_change_tab(data: PageData) -> None:
    """Tab 2: thresholds (only when there is a comparable earlier year), the signals, or
    why there are none. Sets ``data.change`` for the worksheet."""
    prev = previous_year(data.year, data.gemeente)
    st.header(f"Veranderingen · {data.gemeente_name} · "
                 + (f"{prev} → {data.year}" if prev else f"{data.year}"))
    st.caption("Welke gebieden veranderden opvallend sterk ten opzichte van het vorige "
               "vergelijkbare jaar? Stel de drempels zelf in; een signaal is een aanleiding om "
               "te kijken, geen oordeel.")
    thresholds = threshold_inputs() if prev is not None else None
    data.change = change_view(data.year, data.gemeente, data.level, thresholds)
    render_change(data)


def _detail(text: str | None) -> None:
    if text:
        with st.expander("Technische melding"):
            st.text(text)


def render_change(data: PageData) -> None:
    """Tab 2 body (after the thresholds)."""
    cv = data.change
    lv = fmt.level_plural(data.level)
    if cv is None:
        return
    if cv.result is None:
        if cv.scheme_break:
            st.warning(f"**Geen veranderingssignaal over de breuk 2022 → 2023.** {cv.message}", icon="⚠️")
        else:
            st.info(cv.message or "Geen veranderingssignalen.", icon="ℹ️")
        _render_boundary_changes(cv, data)
        _detail(cv.detail)
        st.caption(change_mod.caveat_text())
        return
    res = cv.result
    n_sig = int((res.areas["status"] == change_mod.STATUS_SIGNAL).sum())
    n_small = int((res.areas["status"] == change_mod.STATUS_TOO_SMALL).sum())
    st.markdown(f"**Vergelijking {res.year_a} → {res.year_b}**, beide jaren met de indeling naar "
                f"{change_mod.SCHEME_LABELS.get(res.scheme, res.scheme)}.")
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Vergeleken {lv}", len(res.areas))
    c2.metric("Met een signaal", n_sig)
    c3.metric("Te klein voor een signaal", n_small,
              help=f"Minder dan {fmt.number(res.thresholds.get('min_population'), 0)} inwoners in één van beide jaren.")
    if res.flags.empty:
        st.success("Geen enkel gebied komt boven de drempels. Verlaag de drempels om kleinere "
                   "veranderingen te zien.", icon="✅")
    else:
        st.markdown(f"### Gemarkeerde {lv}, met drempel en reden")
        areas = flagged_areas(res, data.names)
        shown = areas[:10]
        st.markdown("\n".join(f"- **{md_escape(a['name'])}** ({md_escape(a['code'])}): "
                               + "; ".join(md_escape(r) for r in a["reasons"]) + "."
                               for a in shown))
        if len(areas) > len(shown):
            st.caption(f"De {len(shown)} sterkste signalen staan hierboven; alle {len(areas)} "
                       f"gemarkeerde {lv} staan in de tabel.")
        table_with_download(flags_table(res, data.names),
                             f"signalen_{data.gemeente}_{res.year_a}_{res.year_b}.csv", key="lk_dl_signalen")
    with st.expander(f"Alle vergeleken {lv} ({len(res.areas)})"):
        show_table(change_areas_table(res, data.names))
    if res.not_compared:
        with st.expander(f"Niet vergeleken ({len(res.not_compared)}) en waarom"):
            show_table(dropped_table(res.not_compared, data.names))
    if res.groups_not_compared:
        st.caption("Niet vergeleken groepen: " + ", ".join(md_escape(g) for g in res.groups_not_compared))
    _render_boundary_changes(cv, data)
    st.info(res.caveat, icon="⚠️")


def _render_boundary_changes(cv: ChangeView, data: PageData) -> None:
    if cv.boundary_note:
        st.caption(cv.boundary_note)
        return
    a = cv.previous if cv.previous is not None else cv.year - 1
    if cv.boundary_changes:
        st.markdown(f"### Grenswijzigingen {a} → {cv.year} ({len(cv.boundary_changes)})")
        st.caption("Deze gebieden bestaan maar in één van beide jaren (nieuw, gesplitst, "
                   "samengevoegd of een nieuwe code) en worden niet vergeleken.")
        show_table(pd.DataFrame([{"Code": b["code"], "Naam": data.all_names.get(b["code"], ""),
                                  "Toelichting": b["reason"]} for b in cv.boundary_changes]))
    elif cv.result is not None or cv.scheme_break:
        st.caption(f"Geen grenswijzigingen tussen {a} en {cv.year} gevonden voor de "
                   f"{fmt.level_plural(data.level)} van deze gemeente.")


def render_clusters(data: PageData) -> None:
    """Tab 3: Local Moran's I map, global Moran's I, explanation, excluded areas."""
    cat = load_catalogue()
    ind = cat.indicators.get(data.indicator)
    label = ind.label if ind else data.indicator
    unit = ind.unit if ind else ""
    st.header(f"Clusters · {label} · {data.gemeente_name} · {data.year}")
    st.caption(f"Waar liggen {fmt.level_plural(data.level)} met hoge of lage waarden bij elkaar? "
               "Kies de indicator in de zijbalk.")
    cv = data.cluster
    if cv is None or cv.result is None:
        msg = (cv.message if cv else None) or "De clusteranalyse kon niet worden gedaan."
        if cv and cv.kind == "te_weinig" and data.level == "wijk":
            msg += " Tip: kies in de zijbalk het niveau 'Buurten'."
        st.info(msg, icon="🧭")
        _detail(cv.detail if cv else None)
        with st.expander("Hoe werkt de clusterkaart?"):
            st.write(load_lokale_kaart().text("cluster_explanation"))
        return
    res = cv.result
    c1, c2 = st.columns([1, 3])
    c1.metric("Moran's I", fmt.number(res.moran_i, 2),
              help="Voor de hele gemeente. Rond 0 = geen patroon, richting 1 = sterke clustering, "
                   "negatief = hoog en laag wisselen af.")
    c2.write(moran_text(res))
    counts = res.counts
    cc = st.columns(len(clusters_mod.CLUSTER_LABELS))
    for col, lab in zip(cc, clusters_mod.CLUSTER_LABELS):
        short = lab.split(" (")[0]
        col.metric(short, counts.get(lab, 0),
                   help=f"{lab}: aantal {fmt.level_plural(data.level)}." if short != lab else None)
    _render_geo_figure(
        data, lambda gdf: cluster_map(gdf, res, data.level, data.names, indicator_label=label, unit=unit,
                                      source=data.table.meta.source_line(), fictitious=data.fictitious),
        key="lk_cluster_kaart", clusters=True)
    st.markdown("### Hoe lees ik deze kaart?")
    st.write(load_lokale_kaart().text("cluster_explanation"))
    table_with_download(cluster_table(res, data.names),
                         f"clusters_{data.gemeente}_{data.year}_{data.level}_{data.indicator}.csv",
                         key="lk_dl_clusters")
    if res.excluded:
        with st.expander(f"Niet meegenomen ({len(res.excluded)}) en waarom"):
            show_table(dropped_table(res.excluded, data.names))
    st.caption(f"Methode: Local Moran's I (Anselin 1995), buren = gebieden die een grens of hoek "
               f"delen (queen), {res.permutations} permutaties, significantie {fmt.number(res.alpha * 100, 0)}%, "
               f"vaste startwaarde {res.seed} (dezelfde uitkomst bij elke berekening).")


# ----------------------------------------------------------------------------- worksheet
#: Notes shown per page of a section (newest first); the rest is a click away.
NOTES_PER_PAGE = 10


def notes_store() -> NotesRepository:
    """The worksheet notes store (:func:`loaders.notes.open_store`)."""
    return notes.open_store()


def current_role() -> str | None:
    """The role of the visitor for the notes of the shown gemeente (None: no access). Without a
    login (the embedded single-user default) that is :data:`loaders.notes.LOCAL_ROLE`,
    beheerder; with a login the role of :func:`app.auth.rights` for that gemeente."""
    gemeente = st.session_state.get("lk_ws_gemeente")
    if not gemeente:
        return None if auth.login_configured() else notes.LOCAL_ROLE
    r = auth.rights(str(gemeente))
    return r.role.label if r.role is not None else None


def _role() -> str:
    """The role for a change; a visitor without a role is refused by the store as a lezer is."""
    return current_role() or "lezer"


def _logged_in_name() -> str | None:
    """The provider's name of the logged-in user (notes are signed with it), or None without login."""
    who = auth.identity()
    return None if who is None or who.local else who.display_name[:notes.MAX_AUTHOR]


def _msg_key(section: str) -> str:
    return f"lk_msg_{section}"


def _say(section: str, kind: str, text: str, **extra: Any) -> None:
    st.session_state[_msg_key(section)] = {"kind": kind, "text": text, **extra}


def _page_key(prefix: str) -> str:
    return f"lk_page_{prefix}"


def _set_page(prefix: str, page: int) -> None:
    st.session_state[_page_key(prefix)] = max(0, int(page))


def _reset_pages() -> None:
    for key in [k for k in st.session_state if str(k).startswith("lk_page_")]:
        st.session_state[key] = 0


def _close(note_id: int) -> None:
    for k in (f"lk_open_{note_id}", f"lk_edit_text_{note_id}", f"lk_edit_base_{note_id}",
              f"lk_del_confirm_{note_id}", f"lk_edit_author_{note_id}"):
        st.session_state.pop(k, None)


def _open_cb(note_id: int, what: str, text: str, version: int) -> None:
    """Open the editor (or the history) of one note; the editor remembers the version it
    starts from, so a save based on it can be refused when the note changed since."""
    if st.session_state.get(f"lk_open_{note_id}") == what:
        _close(note_id)
        return
    _close(note_id)
    st.session_state[f"lk_open_{note_id}"] = what
    if what == "edit":
        st.session_state[f"lk_edit_text_{note_id}"] = text
        st.session_state[f"lk_edit_base_{note_id}"] = int(version)
        st.session_state[f"lk_edit_author_{note_id}"] = st.session_state.get("lk_author_last") or ""


def _stale(section: str, note_id: int, exc: notes.StaleNoteError, what: str) -> None:
    cur = exc.current
    # from now on the editor is based on the newer version: a second click saves over it,
    # knowingly (the newer text stays in the history)
    st.session_state[f"lk_edit_base_{note_id}"] = int(cur["version"])
    _say(section, "stale",
         f"Deze notitie is intussen gewijzigd; uw {what} is niet opgeslagen. Hieronder staat de "
         f"nieuwere tekst. Uw eigen tekst staat nog in het veld: neem de nieuwere tekst daarin "
         f"over, of klik nogmaals om uw versie toch op te slaan (de nieuwere blijft in de "
         f"geschiedenis).",
         meta=f"Versie {cur['version']} · {cur.get('updated_by') or 'onbekend'} · {_date(cur.get('updated_at'))}",
         newer=str(cur["text"]))


def _add_note_cb(section: str, gemeente: str, year: int) -> None:
    text = st.session_state.get(f"lk_note_text_{section}", "")
    author = _logged_in_name() or st.session_state.get(f"lk_note_author_{section}", "") or ""
    area = st.session_state.get("lk_ws_area") or WHOLE_GEMEENTE
    try:
        notes_store().add(gemeente, section, text, area_code=area or None, author=author,
                          year=year, role=_role())
    except (ValueError, notes.NotAllowedError) as exc:
        _say(section, "error", str(exc))
        return
    except (sqlite3.Error, OSError, notes.NotesSchemaError) as exc:
        _say(section, "error", f"De notitie kon niet worden opgeslagen (uw tekst staat nog in het veld): {exc}")
        return
    st.session_state[f"lk_note_text_{section}"] = ""
    st.session_state["lk_author_last"] = author
    _set_page(section, 0)                                  # newest first: the new note is on top
    _say(section, "success", "Notitie opgeslagen.")


def _who(note_id: int | None = None) -> str:
    """Who makes a change: the logged-in user; without login the name in the note's editor,
    else the last name used."""
    name = _logged_in_name()
    if name is not None:
        return name
    key = f"lk_edit_author_{note_id}"
    if note_id is not None and key in st.session_state:
        name = str(st.session_state.get(key) or "")
        st.session_state["lk_author_last"] = name
        return name
    return str(st.session_state.get("lk_author_last") or "")


def _edit_note_cb(section: str, note_id: int) -> None:
    text = st.session_state.get(f"lk_edit_text_{note_id}", "")
    base = int(st.session_state.get(f"lk_edit_base_{note_id}", 0))
    try:
        store = notes_store()
        before = store.get(note_id)
        version = store.update(note_id, text, expected_version=base, author=_who(note_id),
                               role=_role())
    except notes.StaleNoteError as exc:
        _stale(section, note_id, exc, "wijziging")
        return
    except KeyError as exc:                 # deleted meanwhile: the editor goes, so keep the text here
        _close(note_id)
        _say(section, "gone", f"{exc} Uw tekst staat hieronder; kopieer hem als u hem wilt bewaren.",
             mine=str(text))
        return
    except (ValueError, notes.NotAllowedError) as exc:
        _say(section, "error", str(exc))
        return
    except (sqlite3.Error, OSError, notes.NotesSchemaError) as exc:
        _say(section, "error", f"De wijziging kon niet worden opgeslagen (uw tekst staat nog in het veld): {exc}")
        return
    _close(note_id)
    unchanged = before is not None and int(before["version"]) == version
    _say(section, "success", "Niets gewijzigd: de tekst is dezelfde." if unchanged
         else f"Wijziging opgeslagen (versie {version}).")


def _delete_note_cb(section: str, note_id: int) -> None:
    if not st.session_state.get(f"lk_del_confirm_{note_id}"):
        _say(section, "error", "Vink eerst 'Ja, verwijder deze notitie' aan; er is niets verwijderd.")
        return
    base = int(st.session_state.get(f"lk_edit_base_{note_id}", 0))
    try:
        notes_store().delete(note_id, expected_version=base, author=_who(note_id), role=_role())
    except notes.StaleNoteError as exc:
        st.session_state[f"lk_del_confirm_{note_id}"] = False
        _stale(section, note_id, exc, "verwijdering")
        return
    except (KeyError, ValueError, notes.NotAllowedError) as exc:
        _say(section, "error", str(exc))
        return
    except (sqlite3.Error, OSError, notes.NotesSchemaError) as exc:
        _say(section, "error", f"De notitie kon niet worden verwijderd: {exc}")
        return
    _close(note_id)
    _say(section, "success", "Notitie verwijderd." + (
        " Terugzetten kan onder 'Verwijderde notities' hieronder." if notes.can_restore(_role())
        else " Een beheerder kan haar terugzetten."), undo=note_id)


def _restore_note_cb(section: str, note_id: int) -> None:
    try:
        notes_store().restore(note_id, author=_who(), role=_role())
    except (KeyError, ValueError, notes.NotAllowedError) as exc:
        _say(section, "error", str(exc))
        return
    except (sqlite3.Error, OSError, notes.NotesSchemaError) as exc:
        _say(section, "error", f"De notitie kon niet worden teruggezet: {exc}")
        return
    _say(section, "success", "Notitie teruggezet.")


def render_worksheet(data: PageData) -> None:
    """Tab 4: the sections of the local-map analysis, each with data context and notes
    (a page of :data:`NOTES_PER_PAGE` per section, newest first)."""
    st.header(f"Werkblad analyse van de lokale kaart · {data.gemeente_name}")
    st.caption("Per onderdeel van de analyse ziet u eerst wat de cijfers zeggen (alleen-lezen) en "
               "daarna uw eigen notities. Notities worden bewaard en blijven staan na afsluiten; "
               "elke wijziging wordt als nieuwe versie bewaard.")
    options = [WHOLE_GEMEENTE] + sorted(data.names, key=lambda c: data.names[c])
    ui.view_param("lk_ws_area", "notities", options, WHOLE_GEMEENTE, what="Het gebied voor de notities",
                  label=lambda c: "de hele gemeente" if c == WHOLE_GEMEENTE else data.names.get(c, c))
    st.selectbox("Notities over", options, key="lk_ws_area", on_change=_reset_pages,
                 format_func=lambda c: "Hele gemeente (alle notities)" if c == WHOLE_GEMEENTE
                 else f"{data.names.get(c, c)} ({c})",
                 help="Kies een gebied om alleen de notities over dat gebied te zien en nieuwe "
                      "notities aan dat gebied te koppelen.")
    area = st.session_state.get("lk_ws_area") or WHOLE_GEMEENTE
    st.session_state["lk_ws_gemeente"] = data.gemeente
    rights = auth.rights(data.gemeente)
    if rights.role is None:
        st.info(rights.message or "U heeft geen toegang tot de notities van deze gemeente.")
        return
    role = rights.role.label
    try:
        store = notes_store()
        store.verify()                 # an emptied or damaged database is said, not "Nog geen notities"
        counts = store.counts(data.gemeente, area_code=area or None)
        deleted = (store.counts(data.gemeente, area_code=area or None, deleted=True)
                   if notes.can_restore(role) else {})
    except (sqlite3.Error, OSError, notes.NotesSchemaError) as exc:
        st.error(f"De notities kunnen nu niet worden gelezen: {exc}")
        return
    for sec in load_lokale_kaart().sections:
        key = sec.id
        with st.container(border=True):
            st.markdown(f"### {md_escape(sec.title)}")
            st.caption(md_escape(sec.prompt))
            st.markdown("**Uit de cijfers**")
            st.text(section_context(key, data))
            total = counts.get(key, 0)
            st.markdown(f"**Notities** ({fmt.integer(total)})")
            _render_message(key)
            if not total:
                st.caption("Nog geen notities" + (f" over {md_escape(data.name(area))}." if area else "."))
            else:
                offset = _page_offset(key, total)
                try:
                    shown = store.list(data.gemeente, key, area or None, newest_first=True,
                                       limit=NOTES_PER_PAGE, offset=offset)
                except (sqlite3.Error, OSError) as exc:
                    st.error(f"De notities kunnen nu niet worden gelezen: {exc}")
                    shown = []
                for n in shown:
                    _render_note(n, key, data, role)
                _render_pager(key, total, "notities")
            if notes.can_write(role):
                _render_add_form(key, data, area, MAX_TEXT)
            if deleted.get(key):
                _render_deleted(store, key, data, area, deleted[key])
    st.download_button("Werkblad downloaden (tekst)", lambda: _worksheet_bytes(data),
                       file_name=f"werkblad_lokale_kaart_{data.gemeente}_{data.year}.txt",
                       mime="text/plain", key="lk_dl_werkblad")


def _worksheet_bytes(data: PageData) -> bytes:
    """The worksheet text with every note of the gemeente; made only when it is downloaded."""
    try:
        all_notes = notes_store().export(data.gemeente)
    except (sqlite3.Error, OSError, notes.NotesSchemaError) as exc:
        return f"De notities van {data.gemeente} konden niet worden gelezen: {exc}\n".encode()
    return worksheet_text(data, all_notes).encode("utf-8")


def _render_message(section: str) -> None:
    msg = st.session_state.pop(_msg_key(section), None)
    if not msg:
        return
    if msg["kind"] == "success":
        st.success(msg["text"])
        undo = msg.get("undo")
        if undo is not None and notes.can_restore(_role()):
            st.button("Ongedaan maken", key=f"lk_undo_{undo}", on_click=_restore_note_cb,
                      args=(section, int(undo)))
        return
    st.error(msg["text"])
    if msg["kind"] == "stale":                          # the newer note: user text, plain text
        st.text(msg["meta"])
        st.text(msg["newer"])
    elif msg["kind"] == "gone":
        st.text(msg["mine"])


def _page_offset(prefix: str, total: int) -> int:
    pages = max(1, -(-total // NOTES_PER_PAGE))
    page = min(max(0, int(st.session_state.get(_page_key(prefix), 0))), pages - 1)
    st.session_state[_page_key(prefix)] = page
    return page * NOTES_PER_PAGE


def _render_pager(prefix: str, total: int, what: str) -> None:
    pages = -(-total // NOTES_PER_PAGE)
    if pages <= 1:
        return
    page = int(st.session_state.get(_page_key(prefix), 0))
    first, last = page * NOTES_PER_PAGE + 1, min(total, (page + 1) * NOTES_PER_PAGE)
    c1, c2, c3 = st.columns([1, 3, 1])
    c1.button("‹ Nieuwere", key=f"lk_prev_{prefix}", disabled=page == 0,
              on_click=_set_page, args=(prefix, page - 1))
    c2.caption(f"{what.capitalize()} {fmt.integer(first)}–{fmt.integer(last)} van {fmt.integer(total)} "
               f"(nieuwste eerst) · pagina {fmt.integer(page + 1)} van {fmt.integer(pages)}")
    c3.button("Oudere ›", key=f"lk_next_{prefix}", disabled=page >= pages - 1,
              on_click=_set_page, args=(prefix, page + 1))


def _render_note(n: dict[str, Any], section: str, data: PageData, role: str) -> None:
    nid, version = int(n["id"]), int(n["version"])
    with st.container(border=True):
        st.text(n["text"])                                     # user text: plain text only
        line = f"— {n.get('author') or 'onbekend'} · {_date(n.get('created_at'))} · {data.name(n.get('area_code'))}"
        if version > 1:
            line += f" · versie {version}, laatst gewijzigd {_date(n.get('updated_at'))}"
            if n.get("updated_by"):
                line += f" door {n['updated_by']}"
        st.text(line)
        is_open = st.session_state.get(f"lk_open_{nid}")
        buttons = []
        if notes.can_write(role):
            buttons.append(("edit", "Sluiten" if is_open == "edit" else "Bewerken of verwijderen"))
        if notes.can_see_history(role) and version > 1:
            buttons.append(("history", "Geschiedenis sluiten" if is_open == "history"
                            else f"Geschiedenis ({version} versies)"))
        for col, (what, label) in zip(st.columns(max(1, len(buttons))), buttons):
            col.button(label, key=f"lk_{what}_open_{nid}", on_click=_open_cb,
                       args=(nid, what, n["text"], version))
        if is_open == "edit" and notes.can_write(role):
            _render_editor(n, section)
        elif is_open == "history":
            _render_history(nid, role)


def _render_editor(n: dict[str, Any], section: str) -> None:
    nid = int(n["id"])
    base = st.session_state.get(f"lk_edit_base_{nid}", n["version"])
    with st.form(key=f"lk_edit_form_{nid}", border=False):
        st.text_area(f"Tekst (u bewerkt versie {base})", key=f"lk_edit_text_{nid}", height=120,
                     help=f"Maximaal {fmt.integer(MAX_TEXT)} tekens. Slaat iemand anders intussen "
                          f"een wijziging op, dan krijgt u die eerst te zien.")
        if _logged_in_name() is None:
            st.text_input("Uw naam of afdeling (optioneel)", key=f"lk_edit_author_{nid}",
                          max_chars=notes.MAX_AUTHOR)
        c1, c2, c3 = st.columns([1, 1, 1])
        c1.form_submit_button("Wijziging opslaan", key=f"lk_edit_save_{nid}",
                              on_click=_edit_note_cb, args=(section, nid))
        c2.checkbox("Ja, verwijder deze notitie", key=f"lk_del_confirm_{nid}")
        c3.form_submit_button("Verwijderen", key=f"lk_del_{nid}",
                              on_click=_delete_note_cb, args=(section, nid))


def _render_history(note_id: int, role: str) -> None:
    try:
        versions = notes_store().history(note_id, role=role)
    except (KeyError, notes.NotAllowedError) as exc:
        st.error(str(exc))
        return
    except (sqlite3.Error, OSError) as exc:
        st.error(f"De geschiedenis kan nu niet worden gelezen: {exc}")
        return
    st.caption("Alle versies, oudste eerst.")
    for v in versions:
        st.text(f"Versie {v['version']} · {notes.ACTIONS.get(v['action'], v['action'])} · "
                f"{v['author'] or 'onbekend'} · {_date(v['changed_at'])}")
        st.text(v["text"])


def _render_deleted(store: NotesRepository, section: str, data: PageData, area: str, total: int) -> None:
    prefix = f"del_{section}"
    with st.expander(f"Verwijderde notities ({fmt.integer(total)})"):
        st.caption("Alleen een beheerder ziet deze notities en kan ze terugzetten.")
        try:
            gone = store.list(data.gemeente, section, area or None, deleted=True, newest_first=True,
                              limit=NOTES_PER_PAGE, offset=_page_offset(prefix, total))
        except (sqlite3.Error, OSError) as exc:
            st.error(f"De verwijderde notities kunnen nu niet worden gelezen: {exc}")
            return
        for n in gone:
            with st.container(border=True):
                st.text(n["text"])
                st.text(f"— {n.get('author') or 'onbekend'} · {data.name(n.get('area_code'))} · verwijderd "
                        f"{_date(n.get('deleted_at'))} door {n.get('deleted_by') or 'onbekend'}")
                st.button("Terugzetten", key=f"lk_restore_{n['id']}", on_click=_restore_note_cb,
                          args=(section, int(n["id"])))
        _render_pager(prefix, total, "verwijderde notities")


def _render_add_form(section: str, data: PageData, area: str, max_text: int) -> None:
    author_key = f"lk_note_author_{section}"
    if author_key not in st.session_state and st.session_state.get("lk_author_last"):
        st.session_state[author_key] = st.session_state["lk_author_last"]
    where = "de hele gemeente" if not area else data.name(area)
    with st.form(key=f"lk_note_form_{section}", clear_on_submit=False):
        st.text_area(f"Nieuwe notitie over {where}", key=f"lk_note_text_{section}", height=100,
                     help=f"Maximaal {fmt.integer(max_text)} tekens. Wordt als gewone tekst bewaard en getoond.")
        if _logged_in_name() is None:
            st.text_input("Uw naam of afdeling (optioneel)", key=author_key, max_chars=notes.MAX_AUTHOR)
        else:
            st.caption(f"Wordt opgeslagen met uw naam: {md_escape(_logged_in_name())}.")
        st.form_submit_button("Notitie toevoegen", key=f"lk_note_add_{section}",
                              on_click=_add_note_cb, args=(section, data.gemeente, data.year))
