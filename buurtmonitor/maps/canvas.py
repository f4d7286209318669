"""The canvas map: what the browser needs to draw a choropleth of thousands of areas on a 2D
canvas (``buurtmonitor/web/canvasmap.js``), the on-screen map for all buurten of the country.

Why a second renderer: plotly's map (MapLibre, WebGL) re-tiles the whole GeoJSON before its
first frame and loads ~4.7 MB of JavaScript; for ~14,000 buurten that took 4.3–4.9 s to a
first paint in headless Chromium. The canvas draws the same GeoJSON file (served once from
the cache folder, browser-cached: ``app.static_route``) with one fill per colour class. See README,
"Performance".

The spec carries per area (in the order of the GeoJSON features, ``geom.codes``) only a colour
index, the formatted value (or the reason there is none) and the formatted n, plus the indices
of the areas with a small n; codes and names come from the GeoJSON file. Its legend is drawn
from the same :class:`~buurtmonitor.maps.legend.Legend` as the plotly map of
:func:`buurtmonitor.maps.choropleth.choropleth` (classes, colours, labels, counts), so the
canvas map and the exported plotly map agree. Pure functions, no Streamlit.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors as pcolors

from buurtmonitor import formatting
from buurtmonitor.catalogue import Indicator, load_catalogue
from buurtmonitor.maps.areas import rows_for
from buurtmonitor.maps.classes import continuous_scale, map_classes, to_hex
from buurtmonitor.maps.geometry import MapGeometry
from buurtmonitor.maps.labels import fictitious_note, n_label, short_definition
from buurtmonitor.maps.legend import Legend, build_legend, reference_pair
from buurtmonitor.model import MISSING_LABELS

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
#: colours of a continuous scale (no classes) on the canvas: indistinguishable from smooth
CONTINUOUS_STEPS = 48


@lru_cache(maxsize=1)
def assets() -> tuple[str, str]:
    """(JavaScript, CSS) of the canvas map, read once."""
    return ((WEB_DIR / "canvasmap.js").read_text(encoding="utf-8"),
            (WEB_DIR / "canvasmap.css").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class CanvasSpec:
    """Everything one canvas map needs, as canvasmap.js reads it (:meth:`component_data`).

    Per-area lists (``cls``: colour index or -1, ``v``: values of a diverging map, ``txt``:
    formatted value or the reason there is none, ``n``: formatted n) follow the order of the
    GeoJSON features; ``codes`` is None when that is the order of the geometry's codes, else
    the codes in that order. ``small``: indices of the areas with a small n. ``meta``: what the
    classification became (as the plotly figure's ``layout.meta``); it stays on the server.
    """

    url: str | None
    geojson: dict | None
    geo_key: str
    codes: list[str] | None
    cls: list[int]
    v: list[float | None]
    txt: list[str]
    n: list[str]
    small: list[int]
    colours: list[str]
    legend: dict[str, Any]
    labels: dict[str, Any]
    selected: str | None
    parent: dict[str, Any] | None
    bounds: list[float]
    view_key: str
    focus: list[dict[str, str]]
    banner: str
    alt: str
    height: int
    meta: dict[str, Any] = field(compare=False)

    def component_data(self) -> dict[str, Any]:
        """The JSON-serialisable dict the Streamlit component receives (everything but ``meta``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "meta"}


def spec(geom: MapGeometry, frame: pd.DataFrame, indicator: Indicator | str, *, url: str | None = None,
         parent_url: str | None = None,
         method: str = "quantiles", k: int = 5, reference: tuple[str, float] | None = None,
         palette: str | None = None, selected: str | None = None, fictitious: bool = False,
         view_key: str = "", alt: str = "", height: int = 620,
         focus: list[tuple[str, str]] | None = None) -> CanvasSpec:
    """The data of one canvas map (:class:`CanvasSpec`).

    ``geom``: the areas (their GeoJSON file is at ``url``; without ``url`` the GeoJSON goes
    inline, for small geometries or when the files are not served); ``frame``: indicator rows
    (:func:`buurtmonitor.harmonise.indicator_frame`); ``reference``: (label, value) to centre a
    diverging palette on. The outlines of the level above (``geom.parent``: gemeentegrenzen,
    wijkgrenzen) come from ``parent_url`` (``loaders.static_files.publish_lines``) or
    inline. ``focus``: (label, code prefix) pairs the map offers to zoom to ("Naar Ede": the
    buurten whose code starts with BU0228). :attr:`CanvasSpec.meta` says what the
    classification became.
    """
    cat = load_catalogue()
    ind = cat.indicators[indicator] if isinstance(indicator, str) else indicator
    rows = rows_for(geom, frame)
    values = rows["value"].astype(float).to_numpy()
    has_value = ~np.isnan(values)
    ref = reference_pair(reference)
    ref_label, ref_value = ref if ref is not None else (None, None)
    diverging = ref is not None
    outlines = geom.parent if geom.parent is not None and not geom.parent.empty else None
    sel = selected if selected in geom.shapes else None
    legend = build_legend(rows, ind, map_classes(values, method, k, ref_value), palette=palette,
                          reference=ref, parent_label=(outlines.name or "grenzen") if outlines is not None else None,
                          selected=sel)
    classes = legend.classes
    colours, cls = _colour_steps(legend, values, has_value, palette)

    missing_reasons = rows["missing"].to_numpy(dtype=object)
    txt = [formatting.value(v, ind.unit) if ok else MISSING_LABELS.get(r or "", "geen gegevens")
           for v, ok, r in zip(values, has_value, missing_reasons)]
    ns = pd.to_numeric(rows["n"], errors="coerce").to_numpy(dtype=float)
    n_txt = ["" if math.isnan(n) else formatting.integer(n) for n in ns]
    small = (rows["small_n"].to_numpy(dtype=bool) & has_value).astype(int)
    n_missing = int((~has_value).sum())
    parent = None
    if outlines is not None:
        parent = {"label": outlines.name or "grenzen", "url": parent_url}
        if not parent_url:
            parent["lines"] = json.loads(outlines.json_bytes())["lines"]

    return CanvasSpec(
        url=url,
        geojson=None if url else geom.named_geojson(),
        geo_key=f"{geom.key}-{len(geom.codes)}-{zlib.crc32(' '.join(geom.codes).encode()):08x}",
        # per-area lists follow geom.codes, which is the order of the features in the GeoJSON
        # (checked once per geometry; otherwise the codes go along and the browser matches them)
        codes=None if geom.cached("features_in_code_order", lambda: [
            f["id"] for f in geom.geojson["features"]] == list(geom.codes)) else list(geom.codes),
        cls=cls.tolist(),
        v=[float(v) if ok else None for v, ok in zip(values, has_value)] if diverging else [],
        txt=txt,
        n=n_txt,
        small=np.flatnonzero(small).tolist(),
        colours=colours,
        legend=legend_data(legend, colours),
        labels={"indicator": ind.label, "n_label": n_label(ind, cat), "definition": short_definition(ind.definition),
                "ref_label": ref_label, "ref_value": ref_value,
                "ref_text": formatting.value(ref_value, ind.unit) if diverging else None,
                "not_in_table": MISSING_LABELS.get("niet_in_tabel", "geen gegevens")},
        selected=sel,
        parent=parent,
        bounds=[round(float(b), 5) for b in geom.bounds],
        view_key=view_key,
        focus=[{"label": label, "prefix": prefix} for label, prefix in (focus or [])],
        banner=fictitious_note(fictitious),
        alt=alt,
        height=int(height),
        meta={"indicator": ind.id, "method": classes.method, "k": classes.k, "reference": ref_value,
              "codes_missing": n_missing, "areas": len(geom.codes), "renderer": "canvas"},
    )


#: the legend item kinds of canvasmap.js per :class:`LegendEntry` kind
_CANVAS_KIND = {"class": "fill", "missing": "missing", "small_n": "outline", "outline": "line",
                "selected": "outline"}


def _colour_steps(legend: Legend, values: np.ndarray, has_value: np.ndarray,
                  palette: str | None) -> tuple[list[str], np.ndarray]:
    """(colours, colour index per area): the classes of ``legend``, or a continuous scale in
    :data:`CONTINUOUS_STEPS` steps; -1 where an area has no value."""
    if legend.classes.k > 0:
        return ([to_hex(c) for c in legend.colours],
                np.where(has_value, legend.classes.idx, -1).astype(int))
    if legend.value_range is None:
        return [], np.full(len(values), -1, dtype=int)
    vmin, vmax = legend.value_range
    scale = continuous_scale(palette, legend.diverging, vmin, vmax)[0]
    ts = np.linspace(0, 1, CONTINUOUS_STEPS)
    colours = [to_hex(c) for c in pcolors.sample_colorscale(scale, list(ts))]
    span = (vmax - vmin) or 1.0
    step = np.clip(np.floor((values - vmin) / span * CONTINUOUS_STEPS), 0, CONTINUOUS_STEPS - 1)
    return colours, np.where(has_value, np.nan_to_num(step, nan=-1), -1).astype(int)


def legend_data(legend: Legend, colours: list[str]) -> dict[str, Any]:
    """The legend as canvasmap.js reads it: title, subtitle, items (kind, colour, label) and,
    for a continuous scale, the gradient and its ticks."""
    out: dict[str, Any] = {"title": legend.title, "items": []}
    if legend.subtitle:
        out["subtitle"] = legend.subtitle
    if legend.value_range is not None and colours:
        vmin, vmax = legend.value_range
        span = (vmax - vmin) or 1.0
        out["gradient"] = colours[::4] + [colours[-1]]
        out["ticks"] = [{"at": round((t - vmin) / span, 4), "label": label} for t, label in legend.ticks(4)]
    out["items"] = [{"kind": _CANVAS_KIND[e.kind], "colour": to_hex(e.colour), "label": e.text}
                    for e in legend.entries]
    return out
