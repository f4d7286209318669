"""The canvas map: what the browser needs to draw a choropleth of thousands of areas on a 2D
canvas (``buurtmonitor/web/canvasmap.js``), the on-screen map for all buurten of the country.

Why a second renderer: plotly's map (MapLibre, WebGL) re-tiles the whole GeoJSON before its
first frame and loads ~4.7 MB of JavaScript; for ~14,000 buurten that took 4.3–4.9 s to a
first paint in headless Chromium. The canvas draws the same GeoJSON file (served once by
Streamlit's static serving, browser-cached) with one fill per colour class. See README,
"Performance".

The spec carries per area (in the order of the GeoJSON features, ``geom.codes``) only a colour
index, the formatted value (or the reason there is none) and the formatted n, plus the indices
of the areas with a small n; codes and names come from the GeoJSON file. Classes,
colours and labels are those of :func:`buurtmonitor.mapping.choropleth`, so the canvas map
and the exported plotly map agree. Pure functions, no Streamlit.
"""

from __future__ import annotations

import json
import math
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors as pcolors

from buurtmonitor.catalogue import Indicator, load_catalogue
from buurtmonitor.maps.choropleth import (
    LEGEND_MISSING,
    LEGEND_SMALL_N,
    MISSING_FILL,
    OUTLINE_COLOUR,
    SELECTED_COLOUR,
    SMALL_N_COLOUR,
    MapGeometry,
    _continuous_scale,
    class_colours,
    classify,
    decimals_for,
    fmt_number,
    fmt_value,
    rows_for,
    short_definition,
    with_reference,
)
from buurtmonitor.model import FICTITIOUS_LABEL, MISSING_LABELS

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
#: colours of a continuous scale (no classes) on the canvas: indistinguishable from smooth
CONTINUOUS_STEPS = 48


@lru_cache(maxsize=1)
def assets() -> tuple[str, str]:
    """(JavaScript, CSS) of the canvas map, read once."""
    return ((WEB_DIR / "canvasmap.js").read_text(encoding="utf-8"),
            (WEB_DIR / "canvasmap.css").read_text(encoding="utf-8"))


def _hex(colour: str) -> str:
    """plotly's 'rgb(r, g, b)' (or '#rrggbb') -> '#rrggbb'."""
    if colour.startswith("#"):
        return colour.lower()
    r, g, b = (int(round(float(x))) for x in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def spec(geom: MapGeometry, frame: pd.DataFrame, indicator: Indicator | str, *, url: str | None = None,
         parent_url: str | None = None,
         method: str = "quantiles", k: int = 5, reference: tuple[str, float] | None = None,
         palette: str | None = None, selected: str | None = None, fictitious: bool = False,
         view_key: str = "", alt: str = "", height: int = 620,
         focus: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The data of one canvas map (JSON-serialisable).

    ``geom``: the areas (their GeoJSON file is at ``url``; without ``url`` the GeoJSON goes
    inline, for small geometries or when static serving is off); ``frame``: indicator rows
    (:func:`buurtmonitor.harmonise.indicator_frame`); ``reference``: (label, value) to centre a
    diverging palette on. The outlines of the level above (``geom.parent``: gemeentegrenzen,
    wijkgrenzen) come from ``parent_url`` (:func:`buurtmonitor.national.publish_lines`) or
    inline. ``focus``: (label, code prefix) pairs the map offers to zoom to ("Naar Ede": the
    buurten whose code starts with BU0228). ``meta`` in the result says what the
    classification became.
    """
    cat = load_catalogue()
    ind = cat.indicators[indicator] if isinstance(indicator, str) else indicator
    rows = rows_for(geom, frame)
    values = rows["value"].astype(float).to_numpy()
    has_value = ~np.isnan(values)
    ref_label, ref_value = reference if reference is not None else (None, None)
    diverging = ref_value is not None and not (isinstance(ref_value, float) and math.isnan(ref_value))
    if not diverging:
        ref_label, ref_value = None, None
    decimals = decimals_for(ind)

    k = max(2, min(int(k), int(has_value.sum()) // 2))
    classes = classify(values, method, k)
    if diverging and classes.k:
        classes = with_reference(classes, values, ref_value)
    unit = ind.unit
    legend: dict[str, Any] = {"title": unit if unit != "aantal" else "aantal", "items": []}
    if diverging:
        legend["subtitle"] = f"midden = {ref_label} ({fmt_value(ref_value, ind)})"
    if classes.k > 0:
        colours = [_hex(c) for c in class_colours(classes, palette, ref_value)]
        cls = np.where(has_value, classes.idx, -1).astype(int)
        legend["items"] = [{"kind": "fill", "colour": c, "label": lab}
                           for c, lab in zip(colours, classes.labels(decimals, with_counts=True))]
    elif has_value.any():  # a continuous scale, in CONTINUOUS_STEPS steps
        vmin, vmax = float(np.nanmin(values)), float(np.nanmax(values))
        if diverging:
            dev = max(abs(vmin - ref_value), abs(vmax - ref_value)) or 1.0
            vmin, vmax = ref_value - dev, ref_value + dev
        scale = _continuous_scale(palette, diverging, vmin, vmax, False)[0]
        ts = np.linspace(0, 1, CONTINUOUS_STEPS)
        colours = [_hex(c) for c in pcolors.sample_colorscale(scale, list(ts))]
        span = (vmax - vmin) or 1.0
        step = np.clip(np.floor((values - vmin) / span * CONTINUOUS_STEPS), 0, CONTINUOUS_STEPS - 1)
        cls = np.where(has_value, np.nan_to_num(step, nan=-1), -1).astype(int)
        from buurtmonitor.maps.choropleth import _nice_ticks
        legend["gradient"] = colours[::4] + [colours[-1]]
        legend["ticks"] = [{"at": round((t - vmin) / span, 4), "label": fmt_number(t, decimals)}
                           for t in _nice_ticks(vmin, vmax, 4)]
    else:
        colours, cls = [], np.full(len(values), -1, dtype=int)

    missing_reasons = rows["missing"].to_numpy(dtype=object)
    txt = [fmt_value(v, ind) if ok else MISSING_LABELS.get(r or "", "geen gegevens")
           for v, ok, r in zip(values, has_value, missing_reasons)]
    ns = pd.to_numeric(rows["n"], errors="coerce").to_numpy(dtype=float)
    n_txt = ["" if math.isnan(n) else fmt_number(n, 0) for n in ns]
    small = (rows["small_n"].to_numpy(dtype=bool) & has_value).astype(int)

    n_missing = int((~has_value).sum())
    if n_missing:
        label = LEGEND_MISSING if "geheim" in set(missing_reasons[~has_value]) else "geen gegevens"
        legend["items"].append({"kind": "missing", "colour": MISSING_FILL, "label": f"{label} ({n_missing})"})
    if small.any():
        legend["items"].append({"kind": "outline", "colour": SMALL_N_COLOUR,
                                "label": f"{LEGEND_SMALL_N} ({int(small.sum())})"})
    parent = None
    if geom.parent is not None and not geom.parent.empty:
        parent = {"label": geom.parent.name or "grenzen", "url": parent_url}
        if not parent_url:
            parent["lines"] = json.loads(geom.parent.json_bytes())["lines"]
        legend["items"].append({"kind": "line", "colour": OUTLINE_COLOUR, "label": parent["label"]})
    sel = selected if selected in geom.shapes else None
    if sel:
        legend["items"].append({"kind": "outline", "colour": SELECTED_COLOUR,
                                "label": f"geselecteerd: {rows.at[sel, 'name']}"})

    n_label = (cat.variables[ind.denominator].label.lower() if ind.kind == "share" and ind.denominator
               else "aantal inwoners")
    return {
        "url": url,
        "geojson": None if url else geom.named_geojson(),
        "geo_key": f"{geom.key}-{len(geom.codes)}-{zlib.crc32(' '.join(geom.codes).encode()):08x}",
        # per-area lists follow geom.codes, which is the order of the features in the GeoJSON
        # (checked once per geometry; otherwise the codes go along and the browser matches them)
        "codes": None if geom.cached("features_in_code_order", lambda: [
            f["id"] for f in geom.geojson["features"]] == list(geom.codes)) else list(geom.codes),
        "cls": cls.tolist(),
        "v": [float(v) if ok else None for v, ok in zip(values, has_value)] if diverging else [],
        "txt": txt,
        "n": n_txt,
        "small": np.flatnonzero(small).tolist(),
        "colours": colours,
        "legend": legend,
        "labels": {"indicator": ind.label, "n_label": n_label, "definition": short_definition(ind.definition),
                   "ref_label": ref_label, "ref_value": ref_value,
                   "ref_text": fmt_value(ref_value, ind) if diverging else None,
                   "not_in_table": MISSING_LABELS.get("niet_in_tabel", "geen gegevens")},
        "selected": sel,
        "parent": parent,
        "bounds": [round(float(b), 5) for b in geom.bounds],
        "view_key": view_key,
        "focus": [{"label": label, "prefix": prefix} for label, prefix in (focus or [])],
        "banner": FICTITIOUS_LABEL if fictitious else "",
        "alt": alt,
        "height": int(height),
        "meta": {"indicator": ind.id, "method": classes.method, "k": classes.k, "reference": ref_value,
                 "codes_missing": n_missing, "areas": len(geom.codes), "renderer": "canvas"},
    }
