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
* Offline by default (a white style of our own, :func:`map_style`: nothing is fetched). An
  online background (CARTO's light tiles as a raster layer) only when the user asks for it;
  when the tiles cannot be loaded the map is still drawn, on white (never a blank map).
* The areas are named on the map (:func:`buurtmonitor.maps.labels.area_labels`: every wijk,
  or on a large map the selected area and the extremes) by a text trace whose glyphs come
  with the figure (:mod:`buurtmonitor.maps.glyphs`), so the names also show offline and in
  the exports. Dark text on light colours, white text on dark ones.
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
from plotly.colors import sample_colorscale

from buurtmonitor import formatting
from buurtmonitor.catalogue import Indicator, load_catalogue
from buurtmonitor.maps.areas import rows_for
from buurtmonitor.maps.classes import DEFAULT_K, DEFAULT_METHOD, continuous_scale, map_classes, to_hex
from buurtmonitor.maps.geometry import Lines, MapGeometry, center_zoom, hatch_lines, lines_from, prepare_geometry
from buurtmonitor.maps.glyphs import FONT_STACK, glyphs_url
from buurtmonitor.maps.labels import AreaLabel, area_labels, decimals, fictitious_annotation, n_label, short_definition
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
#: names of the two backgrounds (``layout.meta["achtergrond"]``)
OFFLINE_STYLE = "white-bg"
ONLINE_STYLE = "carto-positron"
#: the online background: CARTO's light raster tiles (OpenStreetMap data)
ONLINE_TILES = tuple(f"https://{s}.basemaps.cartocdn.com/light_all/{{z}}/{{x}}/{{y}}.png" for s in "abcd")
ONLINE_ATTRIBUTION = "© OpenStreetMap-bijdragers © CARTO"
#: the part of the figure's width the map takes; the colour bar stands right of it
MAP_DOMAIN_X = (0.0, 0.8)
#: text colours of the area names: on light and on dark fills
LABEL_DARK, LABEL_LIGHT = "#111111", "#ffffff"


def map_style(online: bool = False, label_text: str = "", glyphs: str | None = None) -> dict[str, Any]:
    """The MapLibre style of a map: white, with the glyphs of ``label_text`` (the names drawn
    on it, :mod:`buurtmonitor.maps.glyphs`) and, when ``online``, CARTO's tiles as a raster
    layer above the white (if they do not load, the white stays and the map is drawn).
    ``glyphs``: a served glyphs URL template (the screen map); default the inline ``data:`` URL
    (exports, and wherever no file can be served)."""
    style: dict[str, Any] = {
        "version": 8, "name": ONLINE_STYLE if online else OFFLINE_STYLE, "sources": {},
        "layers": [{"id": "white-bg", "type": "background", "paint": {"background-color": "#ffffff"}}]}
    if online:
        style["sources"]["carto"] = {"type": "raster", "tiles": list(ONLINE_TILES), "tileSize": 256,
                                     "attribution": ONLINE_ATTRIBUTION, "maxzoom": 19}
        style["layers"].append({"id": "carto", "type": "raster", "source": "carto"})
    url = glyphs or glyphs_url()        # always: plotly gives every scattermap trace a symbol layer
    if url:
        style["glyphs"] = url
    return style


def _luminance(colour: str) -> float:
    """Relative luminance (WCAG) of a colour."""
    hexa = to_hex(colour).lstrip("#")
    rgb = [int(hexa[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def label_colour(fill: str) -> str:
    """The text colour of a name drawn on ``fill``: the one with the higher contrast."""
    lum = _luminance(fill)
    return LABEL_DARK if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else LABEL_LIGHT


def _fills(legend: Legend, values: np.ndarray, has_value: np.ndarray, palette: str | None) -> list[str]:
    """The fill colour of every area (in the order of ``values``)."""
    classes = legend.classes
    if classes.k > 0:
        return [legend.colours[int(i)] if ok else MISSING_FILL for i, ok in zip(classes.idx, has_value)]
    if legend.value_range is None:
        return [MISSING_FILL] * len(values)
    vmin, vmax = legend.value_range
    scale = continuous_scale(palette, legend.diverging, vmin, vmax)[0]
    span = (vmax - vmin) or 1.0
    ts = [min(1.0, max(0.0, (float(v) - vmin) / span)) if ok else 0.0 for v, ok in zip(values, has_value)]
    sampled = sample_colorscale(scale, ts) if ts else []
    return [c if ok else MISSING_FILL for c, ok in zip(sampled, has_value)]


def label_traces(labels: Sequence[AreaLabel], fills: Mapping[str, str], *, size: int = 11) -> list[dict]:
    """The text traces of the area names (one per text colour), drawn above the areas; the
    selected area and the extremes in a larger size. Not in the legend, no hover."""
    out = []
    for colour in (LABEL_DARK, LABEL_LIGHT):
        mine = [lab for lab in labels if label_colour(fills.get(lab.code, MISSING_FILL)) == colour]
        if not mine:
            continue
        out.append(dict(type="scattermap", mode="text", name="namen", showlegend=False, hoverinfo="skip",
                        lon=[lab.lon for lab in mine], lat=[lab.lat for lab in mine],
                        text=[lab.text for lab in mine], textposition="middle center",
                        textfont={"family": FONT_STACK, "size": size, "color": colour},
                        customdata=[lab.code for lab in mine], meta={"labels": [lab.kind for lab in mine]}))
    return out


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
               hover_extra: Mapping[str, str] | None = None, n_text: str | None = None,
               glyphs: str | None = None, names: bool = False) -> go.Figure:
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
    # the colour bar stands right of the map (MAP_DOMAIN_X), never over the areas
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

    # the names of the areas, above everything else
    # ``names``: the areas named on the map, with the glyphs in the style (the exports). The
    # screen map keeps plotly's own styles: with a style object of our own, every rerun of the
    # page in the browser raised a MapLibre error and clicks no longer selected an area.
    named: list[AreaLabel] = []
    if names:
        named = list(area_labels(rows, geom.shapes, ind, selected=sel))
        fills = dict(zip(geom.codes, _fills(legend, values, has_value, palette)))
        style: Any = map_style(online, "".join(lab.text for lab in named), glyphs=glyphs)
        if "glyphs" in style:
            for trace in label_traces(named, fills):
                fig.add_trace(trace)
    else:
        style = ONLINE_STYLE if online else OFFLINE_STYLE

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
        map={"style": style, "center": center, "zoom": zoom, "uirevision": rev,
             "domain": {"x": list(MAP_DOMAIN_X), "y": [0, 1]}},
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
              "areas": len(geom.codes), "compact": compact, "geojson_url": geojson_url,
              "achtergrond": "online" if online else "geen", "namen": [lab.code for lab in named]},
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
