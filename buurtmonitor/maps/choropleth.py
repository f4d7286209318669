"""The plotly choropleth: one figure of one indicator on a :class:`MapGeometry`.

Classes and colours come from :mod:`buurtmonitor.maps.classes`, the legend from
:func:`buurtmonitor.maps.legend.build_legend` (the same model the canvas map draws), the
geometry from :mod:`buurtmonitor.maps.geometry`.

Design:

* The geometry goes into the figure **once**, as one GeoJSON FeatureCollection on one
  ``go.Choroplethmap`` trace whose feature ids are the area codes. Between indicators only
  the colours (``z``), the hover text and the colour bar change, so the geometry can be
  prepared and cached once per gemeente and level (:func:`prepare_geometry`).
* Missing values are never drawn as 0: the main trace paints them light grey (a grey step
  in the colour scale labelled "geen gegevens") and a separate grey hatch trace, with its
  own legend entry, lies over them. The hover says why (geheim, leeg, ...).
* Areas with a small n (uncertain shares) get a coloured outline with a legend entry, the
  selected area a thick black outline; the outlines of the level above (the gemeente
  around its wijken, the wijken around their buurten) are drawn for orientation.
* Offline by default (``map_style="white-bg"``: no tiles are fetched). An online
  background (``carto-positron``) only when the user asks for it.
* ``uirevision`` is a stable string per gemeente and level, so zoom and pan survive reruns.

Performance (see README, "Performance"):

* The page may pass ``geojson_url``: the GeoJSON is then a file the browser fetches once
  (cached by the browser and by plotly per URL) and the figure carries only codes, colours
  and hover text. A rerun for another indicator then re-sends a few hundred kB instead of
  the geometry. Without it the geometry is inline (exports, tests).
* Line traces (outlines, hatching) are float32 arrays with NaN gaps (compact base64 in the
  figure JSON, no per-point validation by plotly), and the hatching and outlines of a set
  of areas are computed once per geometry (:meth:`MapGeometry.cached`).
* With many areas (``compact``, default from :data:`COMPACT_MIN_AREAS`, e.g. all ~14,000
  buurten of the country) the hover is a template plus one short label per area, missing /
  small-n / selected areas are outlined by extra choropleth traces on the same GeoJSON URL
  (no line geometry in the figure), and natural breaks are computed on a sample.

Pure functions, no Streamlit.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from buurtmonitor import formatting
from buurtmonitor.catalogue import Indicator, load_catalogue
from buurtmonitor.maps.areas import rows_for
from buurtmonitor.maps.classes import DEFAULT_K, DEFAULT_METHOD, continuous_scale, map_classes
from buurtmonitor.maps.geometry import Lines, MapGeometry, center_zoom, hatch_lines, lines_from, prepare_geometry
from buurtmonitor.maps.labels import decimals, fictitious_annotation, n_label, short_definition
from buurtmonitor.maps.legend import (
    AREA_LINE_COLOUR,
    LEGEND_NO_DATA,
    MISSING_FILL,
    MISSING_HATCH,
    Legend,
    build_legend,
    reference_pair,
)
from buurtmonitor.model import MISSING_LABELS

#: From this many areas on, the figure is built in its compact form (see the module doc).
COMPACT_MIN_AREAS = 2500
OFFLINE_STYLE = "white-bg"
ONLINE_STYLE = "carto-positron"


def _esc(s: Any) -> str:
    return html.escape(str(s), quote=False)


def _hover(row: Mapping, indicator: Indicator, n_text: str, definition: str, ref_text: str,
           labels: Mapping[str, str] = MISSING_LABELS) -> str:
    name, code = _esc(row.get("name") or ""), _esc(row["code"])
    lines = [f"<b>{name}</b> ({code})"]
    value = row.get("value")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        reason = labels.get(row.get("missing") or "", "geen gegevens")
        lines.append(f"{_esc(indicator.label)}: <b>geen waarde</b>")
        lines.append(f"Reden: {_esc(reason)}{ref_text}")
    else:
        lines.append(f"{_esc(indicator.label)}: <b>{_esc(formatting.value(value, indicator.unit))}</b>{ref_text}")
    n = row.get("n")
    if n is not None and not (isinstance(n, float) and math.isnan(n)):
        small = " – klein aantal, onzeker" if row.get("small_n") else ""
        lines.append(f"n = {formatting.integer(n)} ({_esc(n_text)}){small}")
    if definition:  # (the choropleth puts the definition in the hover template, once)
        lines.append(f"<i>{_esc(definition)}</i>")
    return "<br>".join(lines)


def _discrete_scale(colours: Sequence[str], with_missing: bool) -> tuple[list, float, float]:
    steps = ([MISSING_FILL] if with_missing else []) + list(colours)
    n = len(steps)
    scale = []
    for j, c in enumerate(steps):
        scale += [[j / n, c], [(j + 1) / n, c]]
    lo = -1.5 if with_missing else -0.5
    return scale, lo, len(colours) - 0.5


def _colours(legend: Legend, values: np.ndarray, has_value: np.ndarray, palette: str | None,
             grey_step: bool, colorbar: dict) -> tuple[list, float, float, np.ndarray]:
    """(colour scale, zmin, zmax, z) of the main trace; the colour bar ticks from ``legend``."""
    classes = legend.classes
    if classes.k > 0:
        scale, zmin, zmax = _discrete_scale(legend.colours, grey_step)
        z = np.where(has_value, classes.idx, -1).astype(np.int8)
        tickvals: list = ([-1] if grey_step else []) + list(range(classes.k))
        ticktext = ([LEGEND_NO_DATA] if grey_step else []) + [e.text for e in legend.of("class")]
        colorbar.update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    elif legend.value_range is not None:
        vmin, vmax = legend.value_range
        scale, zmin, zmax, missing_z = continuous_scale(palette, legend.diverging, vmin, vmax,
                                                        MISSING_FILL if grey_step else None)
        z = np.where(has_value, values, missing_z if missing_z is not None else vmin)
        ticks = legend.ticks()
        tickvals = ([missing_z] if grey_step else []) + [t for t, _ in ticks]
        ticktext = ([LEGEND_NO_DATA] if grey_step else []) + [label for _, label in ticks]
        colorbar.update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    else:  # nothing to colour: every area grey
        scale, zmin, zmax = [[0, MISSING_FILL], [1, MISSING_FILL]], -1.5, -0.5
        z = np.full(len(values), -1, dtype=np.int8)
        colorbar.update(tickmode="array", tickvals=[-1], ticktext=[LEGEND_NO_DATA])
    return scale, zmin, zmax, z


def choropleth(gdf_web, frame: pd.DataFrame, indicator: Indicator | str, *,
               method: str = DEFAULT_METHOD, k: int = DEFAULT_K,
               reference: float | tuple[str, float] | None = None,
               outlines=None, selected: str | None = None, fictitious: bool = False,
               source_line: str = "", palette: str | None = None, online: bool = False,
               level: str | None = None, uirevision: str | None = None, title: str = "",
               height: int = 620, geojson_url: str | None = None,
               compact: bool | None = None, missing_labels: Mapping[str, str] | None = None,
               hover_extra: Mapping[str, str] | None = None, n_text: str | None = None) -> go.Figure:
    """The choropleth of one indicator.

    ``gdf_web``: boundaries prepared for the web (GeoDataFrame) or a :class:`MapGeometry`.
    ``frame``: :func:`buurtmonitor.harmonise.indicator_frame` rows of the areas to colour
    (other rows are ignored). ``reference``: a value (or ``(label, value)``) to centre a
    diverging palette on; None = sequential. ``outlines``: :class:`Lines`, a GeoDataFrame /
    GeoSeries of polygons, or None (the MapGeometry's parent outlines when given a
    MapGeometry). ``online``: use a tiled background (fetched from CARTO).
    ``geojson_url``: where the browser fetches the geometry (the bytes of
    :meth:`MapGeometry.geojson_file`) instead of carrying it inline; for a static export use
    :func:`with_inline_geojson` first.
    ``compact``: the form for many areas (None: from :data:`COMPACT_MIN_AREAS` areas on).
    ``missing_labels``: reason key -> Dutch label, over :data:`~buurtmonitor.model.MISSING_LABELS`
    (e.g. the by-origin reasons such as ``klein_aantal``). ``hover_extra``: code -> plain-text
    lines (escaped here) shown in the hover instead of the comparison with ``reference``.
    ``n_text``: what n counts, instead of :func:`~buurtmonitor.maps.labels.n_label`.
    """
    cat = load_catalogue()
    ind = cat.indicators[indicator] if isinstance(indicator, str) else indicator
    geom = gdf_web if isinstance(gdf_web, MapGeometry) else prepare_geometry(gdf_web, level or "")
    level = level or geom.level
    compact = len(geom.codes) >= COMPACT_MIN_AREAS if compact is None else bool(compact)
    ref = reference_pair(reference)
    ref_label, ref_value = ref if ref is not None else (None, None)
    diverging = ref is not None

    rows = rows_for(geom, frame)
    values = rows["value"].astype(float).to_numpy()
    has_value = ~np.isnan(values)
    with_missing = bool((~has_value).any())

    unit = ind.unit
    n_text = n_text or n_label(ind, cat)
    labels = {**MISSING_LABELS, **(missing_labels or {})}
    definition = short_definition(ind.definition)

    # orientation outlines of the level above
    if outlines is None and isinstance(gdf_web, MapGeometry):
        outlines = geom.parent
    if outlines is not None and not isinstance(outlines, Lines):
        outlines = lines_from(getattr(outlines, "geometry", outlines), "grenzen")
    if outlines is not None and outlines.empty:
        outlines = None
    sel = selected if selected and selected in geom.shapes else None
    legend = build_legend(rows, ind, map_classes(values, method, k, ref_value), palette=palette,
                          reference=ref, parent_label=(outlines.name or "grenzen") if outlines is not None else None,
                          selected=sel)
    classes = legend.classes

    # colours
    colorbar: dict[str, Any] = {"title": {"text": _esc(legend.title), "side": "top"},
                                "thickness": 14, "len": 0.75, "x": 1.0, "xanchor": "right", "xpad": 6,
                                "bgcolor": "rgba(255,255,255,0.85)", "outlinewidth": 0}
    # compact: missing areas are a trace of their own (grey, with their reason in the hover)
    grey_step = with_missing and not compact
    scale, zmin, zmax, z = _colours(legend, values, has_value, palette, grey_step, colorbar)
    if diverging:
        colorbar["title"]["text"] = f"{_esc(unit)}<br><sup>{_esc(legend.subtitle)}</sup>"

    ref_texts = []
    for code, v in zip(geom.codes, values):
        if hover_extra is not None:
            extra = hover_extra.get(code)
            ref_texts.append("".join(f"<br>{_esc(line)}" for line in extra.split("\n")) if extra else "")
        elif diverging and not math.isnan(v):
            diff = v - ref_value
            word = "hoger dan" if diff > 0 else ("lager dan" if diff < 0 else "gelijk aan")
            ref_texts.append(f"<br>{word} {_esc(ref_label)} ({_esc(formatting.value(ref_value, ind.unit))})")
        else:
            ref_texts.append("")

    fig = _new_figure()
    miss_codes = [c for c, ok in zip(geom.codes, has_value) if not ok]
    small = [c for c, s, ok in zip(geom.codes, rows["small_n"], has_value) if s and ok]
    if compact:
        _compact_traces(fig, geom, rows, values, has_value, z, scale, zmin, zmax, colorbar, ind,
                        n_text, definition, legend, geojson_url, labels)
    else:
        hover = [_hover({"code": c, **r}, ind, n_text, "", rt, labels)
                 for c, r, rt in zip(geom.codes, rows.reset_index(drop=True).to_dict("records"), ref_texts)]
        fig.add_trace(dict(type="choroplethmap",
            geojson=geojson_url or geom.geojson, featureidkey="id", z=z,
            locations=geom.codes_array(),
            colorscale=scale, zmin=zmin, zmax=zmax, autocolorscale=False, showscale=True,
            colorbar=colorbar, marker={"opacity": 0.88, "line": {"width": 0.6, "color": AREA_LINE_COLOUR}},
            selected={"marker": {"opacity": 0.88}}, unselected={"marker": {"opacity": 0.88}},
            hovertext=hover, hovertemplate=f"%{{hovertext}}<br><i>{_esc(definition)}</i><extra></extra>",
            # [code, value]: the code for click events, the exact value for exports and tests
            customdata=[[c, (None if math.isnan(v) else float(v))] for c, v in zip(geom.codes, values)],
            name=ind.label, showlegend=False,
        ))

    parent_entry = legend.first("outline")
    if outlines is not None and parent_entry is not None:
        lon, lat = outlines.arrays()
        fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                    line={"width": 1.0 if compact else 1.6, "color": parent_entry.colour},
                                    hoverinfo="skip", name=parent_entry.label, showlegend=True))
    # missing: grey and hatched, with a legend entry (compact: a grey trace of its own, above)
    missing_entry = legend.first("missing")
    if missing_entry is not None and not compact:
        hatch = geom.cached(("hatch", tuple(miss_codes)),
                            lambda: hatch_lines([geom.shapes[c] for c in miss_codes], geom.bounds))
        lon, lat = hatch.arrays()
        fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                    line={"width": 1.0, "color": MISSING_HATCH}, hoverinfo="skip",
                                    name=missing_entry.text, showlegend=True))
    # small n
    small_entry = legend.first("small_n")
    if small_entry is not None:
        if compact:
            fig.add_trace(_outline_trace(geojson_url or geom.subset_geojson(small), small,
                                         small_entry.colour, 1.8, small_entry.text))
        else:
            ln = geom.cached(("lines", tuple(small)), lambda: lines_from([geom.shapes[c] for c in small]))
            lon, lat = ln.arrays()
            fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                        line={"width": 2.4, "color": small_entry.colour}, hoverinfo="skip",
                                        name=small_entry.text, showlegend=True))
    # the selected area
    selected_entry = legend.first("selected")
    if sel is not None and selected_entry is not None:
        name = _esc(selected_entry.label)
        if compact and geojson_url:
            fig.add_trace(_outline_trace(geojson_url, [sel], selected_entry.colour, 3.5, name))
        else:
            ln = geom.cached(("lines", (sel,)), lambda: lines_from([geom.shapes[sel]]))
            lon, lat = ln.arrays()
            fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                        line={"width": 4, "color": selected_entry.colour}, hoverinfo="skip",
                                        name=name, showlegend=True))

    center, zoom = center_zoom(geom.bounds)
    rev = uirevision or f"kaart-{geom.key or level}"
    annotations = []
    if source_line:
        annotations.append({"text": _esc(source_line), "xref": "paper", "yref": "paper", "x": 0, "y": 0,
                            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 11, "color": "#333"}, "bgcolor": "rgba(255,255,255,0.8)"})
    if fictitious:
        annotations.append(fictitious_annotation())
    fig.update_layout(
        map={"style": ONLINE_STYLE if online else OFFLINE_STYLE, "center": center, "zoom": zoom,
             "uirevision": rev},
        uirevision=rev, height=height, separators=",.",
        margin={"l": 0, "r": 0, "t": 36 if title else 0, "b": 0},
        title={"text": _esc(title), "x": 0, "xanchor": "left", "font": {"size": 15}} if title else None,
        legend={"x": 0.01, "y": 0.97 if fictitious else 0.99, "xanchor": "left", "yanchor": "top",
                "bgcolor": "rgba(255,255,255,0.85)", "bordercolor": "#bbb", "borderwidth": 1,
                "font": {"size": 12}},
        annotations=annotations, font={"size": 13}, clickmode="event+select", dragmode="pan",
        hoverlabel={"bgcolor": "white", "font": {"size": 13}, "align": "left"},
        meta={"indicator": ind.id, "level": level, "method": classes.method, "k": classes.k,
              "reference": ref_value, "codes_missing": int((~has_value).sum()),
              "areas": len(geom.codes), "compact": compact, "geojson_url": geojson_url},
    )
    return fig


def _new_figure() -> go.Figure:
    """An empty figure that does not validate what is added: the traces are built here (and
    tested), and plotly's per-item validation of lists costs more than the rest of a rerun."""
    try:
        return go.Figure(_validate=False)
    except TypeError:  # pragma: no cover - a plotly without the switch
        return go.Figure()


def _compact_traces(fig: go.Figure, geom: MapGeometry, rows: pd.DataFrame, values: np.ndarray,
                    has_value: np.ndarray, z: np.ndarray, scale: list, zmin: float, zmax: float,
                    colorbar: dict, ind: Indicator, n_text: str, definition: str,
                    legend: Legend, url: str | None,
                    labels: Mapping[str, str] = MISSING_LABELS) -> None:
    """The two choropleth traces of a map with thousands of areas: the areas with a value
    (trace 0: ``customdata`` = float32 ``[value, n]``, formatted by a hover template, so no
    text per area) and the areas without one (trace 1, grey, the reason in the hover, with a
    legend entry). Names come from the GeoJSON (``%{properties.n}``)."""
    d = decimals(ind)
    unit = ind.unit
    suffix = "%" if unit == "%" else ("" if unit == "aantal" else f" {_esc(unit)}")
    codes = geom.codes_array()
    ns = pd.to_numeric(rows["n"], errors="coerce").to_numpy(dtype=float)
    head = "<b>%{properties.n}</b> (%{location})"
    tail = f"<br><i>{_esc(definition)}</i><extra></extra>"
    ref = (f"<br><sup>midden van de kleuren: {_esc(legend.reference[0])} "
           f"({_esc(formatting.value(legend.reference[1], ind.unit))})</sup>" if legend.reference is not None else "")
    n_line = f"<br>n = %{{customdata[1]:,.0f}} ({_esc(n_text)})" if ind.kind == "share" else ""
    with_value = codes[has_value]  # a numpy array: plotly does not validate it item by item
    fig.add_trace(dict(type="choroplethmap",
        geojson=url or (geom.named_geojson() if has_value.all() else geom.subset_geojson(with_value)),
        locations=with_value, featureidkey="id", z=z[has_value],
        colorscale=scale, zmin=zmin, zmax=zmax, autocolorscale=False, showscale=bool(has_value.any()),
        colorbar=colorbar, marker={"opacity": 0.88, "line": {"width": 0.25, "color": "rgba(255,255,255,0.7)"}},
        selected={"marker": {"opacity": 0.88}}, unselected={"marker": {"opacity": 0.88}},
        customdata=np.column_stack([values[has_value], ns[has_value]]).astype(np.float32),
        hovertemplate=(f"{head}<br>{_esc(ind.label)}: <b>%{{customdata[0]:,.{d}f}}{suffix}</b>"
                       f"{n_line}{ref}{tail}"),
        name=ind.label, showlegend=False,
    ))
    missing_entry = legend.first("missing")
    if missing_entry is None:
        return
    missing = codes[~has_value]
    reasons = rows["missing"].to_numpy(dtype=object)[~has_value]
    why = [labels.get(r or "", "geen gegevens") for r in reasons]
    fig.add_trace(dict(type="choroplethmap",
        geojson=url or geom.subset_geojson(missing), locations=missing, featureidkey="id",
        z=np.zeros(len(missing), dtype=np.int8), colorscale=[[0, MISSING_FILL], [1, MISSING_FILL]],
        showscale=False, marker={"opacity": 0.88, "line": {"width": 0.6, "color": MISSING_HATCH}},
        hovertext=np.asarray(why, dtype=str), hovertemplate=f"{head}<br>{_esc(ind.label)}: <b>geen waarde</b><br>Reden: %{{hovertext}}{tail}",
        name=missing_entry.text, showlegend=True,
    ))


def _outline_trace(url, codes: list[str], colour: str, width: float, name: str) -> dict:
    """Outlines of ``codes`` from the GeoJSON at ``url`` (transparent fill), with a legend entry."""
    clear = "rgba(0,0,0,0)"
    return dict(type="choroplethmap", geojson=url, locations=np.asarray(codes, dtype=str), featureidkey="id",
                z=np.zeros(len(codes), dtype=np.int8), colorscale=[[0, clear], [1, clear]],
                showscale=False, marker={"opacity": 1, "line": {"width": width, "color": colour}},
                hoverinfo="skip", name=name, showlegend=True)


def with_inline_geojson(fig: go.Figure, geometry: MapGeometry) -> go.Figure:
    """A copy of ``fig`` whose choropleth traces carry the geometry inline instead of a URL
    (for static export and HTML downloads, which cannot fetch a served file). Overlay
    traces get only the features they show."""
    out = go.Figure(fig)
    for tr in out.data:
        if tr.type != "choroplethmap" or not isinstance(tr.geojson, str):
            continue
        locs = [str(c) for c in tr.locations] if tr.locations is not None else []
        tr.geojson = (geometry.named_geojson() if len(locs) == len(geometry.codes)
                      else geometry.subset_geojson(locs))
    return out


# ----------------------------------------------------------------------------- events
def clicked_code(event: Any, codes: Sequence[str] | None = None) -> str | None:
    """The area code of the (first) clicked area in the event of
    ``st.plotly_chart(..., on_select="rerun", selection_mode="points")``; None if none.

    Reads ``location`` (choroplethmap), else ``customdata``, else ``point_index`` into ``codes``.
    Only points of the main (choropleth) trace, curve 0, count.
    """
    if not event:
        return None
    try:
        sel = event["selection"] if "selection" in event else getattr(event, "selection", None)
    except (TypeError, KeyError):
        sel = getattr(event, "selection", None)
    if not sel:
        return None
    points = sel.get("points") if hasattr(sel, "get") else getattr(sel, "points", None)
    for p in points or []:
        curve = p.get("curve_number", p.get("curveNumber", 0))
        loc = p.get("location")
        if curve not in (0, None):
            # compact maps: the areas without a value are a second choropleth trace
            if loc and codes is not None and str(loc) in set(codes):
                return str(loc)
            continue
        if loc:
            return str(loc)
        cd = p.get("customdata")
        if isinstance(cd, (list, tuple)) and cd:
            return str(cd[0])
        if isinstance(cd, str) and cd:
            return cd
        idx = p.get("point_index", p.get("pointIndex", p.get("point_number")))
        if codes is not None and idx is not None and 0 <= int(idx) < len(codes):
            return str(codes[int(idx)])
    return None
