"""The choropleth map: classification, colour-blind-safe palettes, and one plotly figure.

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
  (served by Streamlit's static serving, cached by plotly per URL) and the figure carries
  only codes, colours and hover text. A rerun for another indicator then re-sends a few
  hundred kB instead of the geometry. Without it the geometry is inline (exports, tests).
* Line traces (outlines, hatching) are float32 arrays with NaN gaps (compact base64 in the
  figure JSON, no per-point validation by plotly), and the hatching and outlines of a set
  of areas are computed once per geometry (:attr:`MapGeometry.cache`).
* With many areas (``compact``, default from :data:`COMPACT_MIN_AREAS`, e.g. all ~14,000
  buurten of the country) the hover is a template plus one short label per area, missing /
  small-n / selected areas are outlined by extra choropleth traces on the same GeoJSON URL
  (no line geometry in the figure), and natural breaks are computed on a sample.

Pure functions, no Streamlit: the page and ``buurtmonitor.ui`` call these.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors as pcolors
import plotly.graph_objects as go
import shapely

from buurtmonitor.catalogue import Indicator, load_catalogue
from buurtmonitor.harmonise import SMALL_N
from buurtmonitor.model import FICTITIOUS_LABEL, LEVEL_LABELS, MISSING_LABELS

# ----------------------------------------------------------------------------- options
METHODS = {
    "quantiles": "Kwantielen (evenveel gebieden per klasse)",
    "natural_breaks": "Natuurlijke grenzen (Fisher-Jenks)",
    "equal_interval": "Gelijke intervallen",
    "continuous": "Doorlopende kleurschaal (geen klassen)",
}
DEFAULT_METHOD = "quantiles"
DEFAULT_K = 5
K_RANGE = (3, 7)
#: From this many areas on, the figure is built in its compact form (see the module doc).
COMPACT_MIN_AREAS = 2500
#: Natural breaks (O(n²k)) on at most this many values; above it on an even sample of the
#: sorted values (as mapclassify's FisherJenksSampled does).
JENKS_MAX_VALUES = 1500

#: Sequential palettes (all colour-blind safe). name -> (label, plotly colour scale);
#: ``_r`` = reversed so that a higher value is darker.
SEQUENTIAL_PALETTES = {
    "viridis": ("Viridis (geel → paars)", "viridis_r"),
    "cividis": ("Cividis (geel → blauw)", "cividis_r"),
    "blauw": ("Blauwtinten (ColorBrewer Blues)", "Blues"),
    "geelgroenblauw": ("Geel-groen-blauw (ColorBrewer YlGnBu)", "YlGnBu"),
}
#: Diverging palettes centred on a reference (ColorBrewer, colour-blind safe).
DIVERGING_PALETTES = {
    "oranjepaars": ("Oranje ↔ paars (ColorBrewer PuOr)", "PuOr"),
    "roodblauw": ("Rood ↔ blauw (ColorBrewer RdBu)", "RdBu"),
    "bruinblauwgroen": ("Bruin ↔ blauwgroen (ColorBrewer BrBG)", "BrBG"),
}
DEFAULT_SEQUENTIAL = "viridis"
DEFAULT_DIVERGING = "oranjepaars"

MISSING_FILL = "#d9d9d9"
MISSING_HATCH = "#8a8a8a"
SMALL_N_COLOUR = "#d55e00"     # Okabe-Ito vermillion
SELECTED_COLOUR = "#000000"
OUTLINE_COLOUR = "#3a3a3a"
AREA_LINE_COLOUR = "#ffffff"

OFFLINE_STYLE = "white-bg"
ONLINE_STYLE = "carto-positron"
LEGEND_MISSING = "geen gegevens / geheim"
LEGEND_SMALL_N = f"klein aantal (n < {SMALL_N}): onzeker"


# ----------------------------------------------------------------------------- numbers
def fmt_number(value: float | None, decimals: int = 1) -> str:
    """Dutch number format: ``12345.67`` -> ``"12.345,7"``; missing -> ``"–"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    s = f"{value:,.{decimals}f}"
    return s.replace(",", "\u00a0").replace(".", ",").replace("\u00a0", ".")


def decimals_for(indicator: Indicator) -> int:
    return 0 if indicator.unit == "aantal" else 1


def fmt_value(value: float | None, indicator: Indicator) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = indicator.unit
    num = fmt_number(value, decimals_for(indicator))
    if unit == "%":
        return f"{num}%"
    if unit == "aantal":
        return num
    return f"{num} {unit}"


def short_definition(text: str, limit: int = 110) -> str:
    """First sentence of a definition, cut at ``limit`` characters."""
    first = text.split(". ")[0].strip().rstrip(".")
    if len(first) > limit:
        first = first[: limit - 1].rsplit(" ", 1)[0] + "…"
    return first


# ----------------------------------------------------------------------------- classes
@dataclass(frozen=True)
class Classes:
    """A classification of values.

    ``edges``: k+1 class edges from the minimum to the maximum (continuous: [min, max]).
    ``idx``: class number per input value (0..k-1), -1 where the value is missing.
    ``k``: number of classes (0 for ``continuous``).
    """

    method: str
    edges: tuple[float, ...]
    idx: np.ndarray = field(repr=False)
    k: int

    @property
    def counts(self) -> list[int]:
        return [int((self.idx == i).sum()) for i in range(self.k)]

    def labels(self, decimals: int = 1, with_counts: bool = False) -> list[str]:
        out = []
        counts = self.counts if with_counts else None
        for i in range(self.k):
            a, b = fmt_number(self.edges[i], decimals), fmt_number(self.edges[i + 1], decimals)
            lab = a if a == b else f"{a} – {b}"
            if counts is not None:
                lab += f" ({counts[i]})"
            out.append(lab)
        return out


def _assign(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Class number by upper edges (a value equal to an edge goes to the lower class)."""
    k = len(edges) - 1
    idx = np.full(len(values), -1, dtype=int)
    ok = ~np.isnan(values)
    if k <= 0 or not ok.any():
        return idx
    uppers = np.asarray(edges[1:], dtype=float)
    cls = np.searchsorted(uppers, values[ok], side="left")
    idx[ok] = np.clip(cls, 0, k - 1)
    return idx


def classify(values: Iterable[float], method: str = DEFAULT_METHOD, k: int = DEFAULT_K) -> Classes:
    """Classify ``values`` (NaN = missing, ignored) into ``k`` classes.

    ``method``: ``quantiles``, ``natural_breaks`` (Fisher-Jenks, the algorithm of
    ``mapclassify.FisherJenks``: :func:`fisher_jenks_bins`),
    ``equal_interval`` or ``continuous`` (no classes). With fewer distinct values than
    ``k`` there are fewer classes; duplicate edges (ties in quantiles) are merged.
    """
    if method not in METHODS:
        raise ValueError(f"Onbekende indeling {method!r}; kies uit {', '.join(METHODS)}.")
    v = np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values, dtype=float)
    ok = v[~np.isnan(v)]
    if ok.size == 0:
        return Classes(method, (), np.full(len(v), -1, dtype=int), 0)
    lo, hi = float(ok.min()), float(ok.max())
    if method == "continuous":
        return Classes(method, (lo, hi), np.full(len(v), -1, dtype=int), 0)
    n_unique = len(np.unique(ok))
    k = int(max(1, min(k, n_unique)))
    if k == 1 or lo == hi:
        edges = [lo, hi]
    elif method == "equal_interval":
        edges = list(np.linspace(lo, hi, k + 1))
    elif method == "quantiles":
        edges = [lo] + [float(b) for b in quantile_bins(ok, k)]
    else:
        sample = ok
        if ok.size > JENKS_MAX_VALUES:  # an even sample of the sorted values, both ends kept
            srt = np.sort(ok)
            sample = srt[np.unique(np.linspace(0, srt.size - 1, JENKS_MAX_VALUES).round().astype(int))]
        edges = [lo] + [float(b) for b in fisher_jenks_bins(sample, k)]
    edges = _dedupe(edges)
    edges[-1] = max(edges[-1], hi)
    return Classes(method, tuple(float(e) for e in edges), _assign(v, edges), len(edges) - 1)


def quantile_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` quantile classes, as ``mapclassify.Quantiles`` (ties merged)."""
    p = np.arange(1, k + 1) * (100.0 / k)
    p[-1] = min(p[-1], 100.0)
    return np.unique(np.percentile(np.asarray(values, dtype=float), p))


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` Fisher-Jenks (natural breaks) classes.

    The exact dynamic programme of ``mapclassify.FisherJenks`` (Jenks' optimal classification,
    minimal within-class squared deviation), vectorised with numpy in float64. mapclassify
    compiles its numba version when it is imported, which costs about 9 s at the first map;
    ``tests/test_page_kaart.py`` checks that both give the same breaks. O(n² k): fine for the
    wijken/buurten of a gemeente and the ~340 gemeenten of the national map.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        return np.array([])
    k = int(min(k, n))
    if k <= 1:
        return np.array([x[-1]])
    csum = np.concatenate([[0.0], np.cumsum(x)])
    csq = np.concatenate([[0.0], np.cumsum(x * x)])
    lower = np.ones((n + 1, k + 1), dtype=np.int64)          # start (1-based) of the last class
    cost = np.full((n + 1, k + 1), np.inf)                    # minimal total deviation
    cost[1, 1:] = 0.0
    for last in range(2, n + 1):
        starts = np.arange(1, last + 1)                        # i3: first value of the last class
        width = last - starts + 1
        s1 = csum[last] - csum[starts - 1]
        dev = (csq[last] - csq[starts - 1]) - s1 * s1 / width
        cost[last, 1] = dev[0]
        lower[last, 1] = 1
        if last >= 2:
            cand_starts = starts[1:]                           # the last class starts after value 1
            cand_dev = dev[1:]
            for j in range(2, k + 1):
                total = cand_dev + cost[cand_starts - 1, j - 1]
                best = int(np.argmin(total))                   # ties: the earliest start, as mapclassify
                cost[last, j] = total[best]
                lower[last, j] = cand_starts[best]
    bins = np.empty(k)
    bins[k - 1] = x[-1]
    end = n
    for j in range(k, 1, -1):
        start = lower[end, j]
        bins[j - 2] = x[start - 2]
        end = start - 1
    return bins


def _dedupe(edges: Sequence[float]) -> list[float]:
    out: list[float] = []
    for i, e in enumerate(edges):
        # the first class may hold only the minimum (Fisher-Jenks puts an outlier alone)
        if not out or e > out[-1] + 1e-12 * max(1.0, abs(e)) or (i == 1 and len(edges) > 2):
            out.append(float(e))
    if len(out) == 1:
        out.append(out[0])
    return out


def with_reference(classes: Classes, values: Iterable[float], reference: float) -> Classes:
    """Add ``reference`` as a class edge (when inside the range), so no class straddles it."""
    if classes.k == 0 or reference is None or math.isnan(reference):
        return classes
    edges = list(classes.edges)
    lo, hi = edges[0], edges[-1]
    span = max(hi - lo, 1e-9)
    if not (lo < reference < hi) or any(abs(e - reference) < span * 1e-6 for e in edges):
        return classes
    edges = sorted(edges + [float(reference)])
    v = np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values, dtype=float)
    return Classes(classes.method, tuple(edges), _assign(v, edges), len(edges) - 1)


# ----------------------------------------------------------------------------- palettes
def palette_options(diverging: bool) -> dict[str, str]:
    src = DIVERGING_PALETTES if diverging else SEQUENTIAL_PALETTES
    return {k: v[0] for k, v in src.items()}


def _scale(palette: str | None, diverging: bool) -> list:
    src = DIVERGING_PALETTES if diverging else SEQUENTIAL_PALETTES
    default = DEFAULT_DIVERGING if diverging else DEFAULT_SEQUENTIAL
    name = src.get(palette or default, src[default])[1]
    return pcolors.get_colorscale(name)


def _sample(scale: list, ts: Sequence[float]) -> list[str]:
    return [pcolors.sample_colorscale(scale, [float(np.clip(t, 0, 1))])[0] for t in ts]


def class_colours(classes: Classes, palette: str | None = None, reference: float | None = None) -> list[str]:
    """One colour per class: sequential from light to dark, or diverging around ``reference``
    (classes below it in one hue, above it in the other, paler nearer the reference)."""
    k = classes.k
    if k == 0:
        return []
    if reference is None:
        scale = _scale(palette, diverging=False)
        lo = 0.15 if (palette or DEFAULT_SEQUENTIAL) in ("blauw", "geelgroenblauw") else 0.0
        ts = [0.5] if k == 1 else list(np.linspace(lo, 1.0, k))
        return _sample(scale, ts)
    scale = _scale(palette, diverging=True)
    edges = classes.edges
    dev = max(abs(edges[0] - reference), abs(edges[-1] - reference)) or 1.0
    ts = []
    for i in range(k):
        mid = (edges[i] + edges[i + 1]) / 2
        d = (mid - reference) / dev
        ts.append(0.5 + math.copysign(0.12 + 0.38 * min(abs(d), 1.0), d if d != 0 else 1.0))
    return _sample(scale, ts)


# ----------------------------------------------------------------------------- geometry
@dataclass
class Lines:
    """Line geometry for a ``Scattermap`` trace: lon/lat lists with ``None`` between parts."""

    lon: list
    lat: list
    name: str = ""

    @property
    def empty(self) -> bool:
        return not len(self.lon)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) as float32 arrays with NaN between parts (computed once): compact in the
        figure JSON (base64) and not validated point by point by plotly."""
        got = self.__dict__.get("_arrays")
        if got is None:
            lon = np.array([np.nan if v is None else v for v in self.lon], dtype=np.float32)
            lat = np.array([np.nan if v is None else v for v in self.lat], dtype=np.float32)
            got = self.__dict__["_arrays"] = (lon, lat)
        return got

    def json_bytes(self) -> bytes:
        """``{"name": ..., "lines": [[lon, lat, lon, lat, ...], ...]}`` (4 decimals), compact
        JSON for the canvas map (computed once)."""
        got = self.__dict__.get("_json")
        if got is None:
            import json
            parts, cur = [], []
            for x, y in zip(self.lon, self.lat):
                if x is None or y is None or (isinstance(x, float) and math.isnan(x)):
                    if len(cur) >= 4:
                        parts.append(cur)
                    cur = []
                else:
                    cur += [round(float(x), 4), round(float(y), 4)]
            if len(cur) >= 4:
                parts.append(cur)
            got = self.__dict__["_json"] = json.dumps({"name": self.name, "lines": parts}, separators=(",", ":"),
                                                      ensure_ascii=False).encode("utf-8")
        return got


def _lines_from(geoms: Iterable, name: str = "") -> Lines:
    lon: list = []
    lat: list = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        b = g.boundary if g.geom_type in ("Polygon", "MultiPolygon") else g
        for part in shapely.get_parts(b):
            if part.is_empty:
                continue
            for ring in ([part] if part.geom_type in ("LineString", "LinearRing") else shapely.get_parts(part)):
                xy = np.asarray(ring.coords)
                if len(xy) < 2:
                    continue
                lon.extend(np.round(xy[:, 0], 5).tolist())
                lat.extend(np.round(xy[:, 1], 5).tolist())
                lon.append(None)
                lat.append(None)
    return Lines(lon, lat, name)


@dataclass
class MapGeometry:
    """Boundaries prepared once per gemeente + level: the GeoJSON for plotly, the shapes per
    code (for outlines and hatching), the bounds, and the outlines of the level above."""

    level: str
    geojson: dict
    codes: list[str]
    names: dict[str, str]
    shapes: dict[str, Any]
    bounds: tuple[float, float, float, float]
    parent: Lines | None = None
    key: str = ""
    #: derived pieces computed once per geometry (hatching, outlines, GeoJSON file bytes)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        return not self.codes

    def cached(self, key: Any, make):
        """``make()`` once per ``key`` for this geometry (bounded: at most 64 entries)."""
        try:
            return self.cache[key]
        except KeyError:
            pass
        if len(self.cache) >= 64:
            for k in [k for k in self.cache if isinstance(k, tuple) and k and k[0] in ("hatch", "lines")][:16]:
                self.cache.pop(k, None)
        value = self.cache[key] = make()
        return value

    def named_geojson(self) -> dict:
        """The GeoJSON with the area name as property ``n`` (for ``%{properties.n}`` in a hover
        template). Computed once; shares the geometry with :attr:`geojson`."""
        def make() -> dict:
            feats = [{**f, "properties": {"n": str(self.names.get(f["id"], f["id"]))}}
                     for f in self.geojson["features"]]
            return {"type": "FeatureCollection", "features": feats}
        return self.cached("named_geojson", make)

    def geojson_file(self) -> bytes:
        """:meth:`named_geojson` as compact bytes, for serving as a file (see ``geojson_url`` of
        :func:`choropleth`). Computed once."""
        def make() -> bytes:
            import json
            return json.dumps(self.named_geojson(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self.cached("geojson_file", make)

    def subset_geojson(self, codes: Sequence[str]) -> dict:
        """A FeatureCollection (with names) of only ``codes``."""
        by_id = self.cached("features_by_id", lambda: {f["id"]: f for f in self.named_geojson()["features"]})
        return {"type": "FeatureCollection", "features": [by_id[c] for c in codes if c in by_id]}

    def geojson_size(self) -> int:
        """Bytes of the inline GeoJSON (compact JSON), computed once."""
        from buurtmonitor import geo
        return self.cached("geojson_size", lambda: geo.geojson_bytes(self.geojson))


def _geojson(gdf) -> dict:
    try:
        from buurtmonitor import geo
        return geo.to_geojson(gdf, id_col="code")
    except (ImportError, AttributeError):  # pragma: no cover - geo.py is part of the project
        from shapely.geometry import mapping
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": str(c).strip(), "properties": {}, "geometry": mapping(g)}
            for c, g in zip(gdf["code"], gdf.geometry) if g is not None and not g.is_empty]}


def parent_outlines(gdf, level: str) -> Lines | None:
    """Outlines of the level above for orientation: the gemeente around its wijken, the wijken
    around their buurten. None for the national gemeente map."""
    if gdf is None or len(gdf) == 0 or level == "gemeente":
        return None
    geoms = gdf.geometry.values
    codes = gdf["code"].astype(str).str.strip()
    if level == "wijk":
        groups = {"gemeente": list(geoms)}
        name = "gemeentegrens"
    elif level == "buurt":
        wijk = "WK" + codes.str[2:8]
        groups: dict[str, list] = {}
        for w, g in zip(wijk, geoms):
            groups.setdefault(w, []).append(g)
        name = "wijkgrenzen"
    else:
        return None
    merged = [shapely.union_all(shapely.make_valid(np.asarray(gs, dtype=object)), grid_size=1e-6)
              for gs in groups.values()]
    if len(merged) > 1:  # each border between two wijken once, not once per side
        network = shapely.union_all(shapely.boundary(np.asarray(merged, dtype=object)), grid_size=1e-6)
        return _lines_from([shapely.line_merge(network)], name)
    return _lines_from(merged, name)


def prepare_geometry(gdf, level: str, *, key: str = "") -> MapGeometry:
    """Boundaries (EPSG:4326, columns ``code``, ``name``, ``geometry``; already simplified by
    ``geo.prepare_for_web``) -> :class:`MapGeometry`."""
    if gdf is None or len(gdf) == 0:
        return MapGeometry(level, {"type": "FeatureCollection", "features": []}, [], {}, {},
                           (3.3, 50.7, 7.3, 53.6), None, key)
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    gdf["code"] = gdf["code"].astype(str).str.strip()
    gdf = gdf.drop_duplicates("code")
    names = dict(zip(gdf["code"], gdf["name"] if "name" in gdf else gdf["code"]))
    minx, miny, maxx, maxy = (float(x) for x in gdf.total_bounds)
    return MapGeometry(level=level, geojson=_geojson(gdf), codes=gdf["code"].tolist(), names=names,
                       shapes=dict(zip(gdf["code"], gdf.geometry.values)), bounds=(minx, miny, maxx, maxy),
                       parent=parent_outlines(gdf, level), key=key)


def center_zoom(bounds: Sequence[float], width_px: int = 600, height_px: int = 600) -> tuple[dict, float]:
    """Centre and zoom that fit ``bounds`` (minx, miny, maxx, maxy) in a map of about
    ``width_px`` × ``height_px`` (Web Mercator)."""
    minx, miny, maxx, maxy = bounds
    lon = (minx + maxx) / 2

    def merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    y0, y1 = merc(miny), merc(maxy)
    lat = math.degrees(2 * math.atan(math.exp((y0 + y1) / 2)) - math.pi / 2)
    dx = max(maxx - minx, 1e-4)
    dy = max(y1 - y0, 1e-6)
    # MapLibre (plotly's map) uses 512-px tiles: at zoom z the world is 512·2^z px wide
    zx = math.log2(width_px * 360.0 / (512.0 * dx))
    zy = math.log2(height_px * 2 * math.pi / (512.0 * dy))
    zoom = float(np.clip(min(zx, zy) - 0.15, 2.0, 16.0))
    return {"lon": round(lon, 5), "lat": round(lat, 5)}, round(zoom, 2)


def hatch_lines(shapes: Iterable, bounds: Sequence[float], n: int = 90) -> Lines:
    """Diagonal hatching clipped to ``shapes`` (plus their outlines), spaced by the map extent."""
    geoms = [g for g in shapes if g is not None and not g.is_empty]
    if not geoms:
        return Lines([], [], LEGEND_MISSING)
    area = shapely.union_all(np.asarray(geoms, dtype=object))
    minx, miny, maxx, maxy = bounds
    step = max(maxx - minx, maxy - miny) / n
    gx0, gy0, gx1, gy1 = area.bounds
    h = gy1 - gy0
    starts = np.arange(gx0 - h, gx1 + step, step)
    diag = [shapely.LineString([(x, gy0), (x + h, gy1)]) for x in starts]
    clipped = shapely.intersection(np.asarray(diag, dtype=object), area)
    lines = _lines_from([g for g in clipped if not g.is_empty])
    edge = _lines_from(geoms)
    return Lines(lines.lon + edge.lon, lines.lat + edge.lat, LEGEND_MISSING)


# ----------------------------------------------------------------------------- references
def reference_values(frame: pd.DataFrame, gemeente: str | None) -> dict[str, tuple[str, float]]:
    """{"gemeente": (name, value), "nederland": ("Nederland", value)} from an indicator frame
    that holds the gemeente and land rows (where present and not missing)."""
    out: dict[str, tuple[str, float]] = {}
    if gemeente:
        g = frame[(frame["code"] == gemeente)]
        if len(g) and pd.notna(g["value"].iloc[0]):
            out["gemeente"] = (str(g["name"].iloc[0]), float(g["value"].iloc[0]))
    nl = frame[frame["level"] == "land"]
    if len(nl) and pd.notna(nl["value"].iloc[0]):
        out["nederland"] = ("Nederland", float(nl["value"].iloc[0]))
    return out


def summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts for the "wat zie je" text: areas, with a value, missing by reason, small n."""
    missing = frame["missing"].dropna()
    n = pd.to_numeric(frame["n"], errors="coerce")
    return {
        "areas": int(len(frame)),
        "with_value": int(frame["value"].notna().sum()),
        "missing": int(frame["value"].isna().sum()),
        "missing_by_reason": {k: int(v) for k, v in missing.value_counts().items()},
        "small_n": int(frame["small_n"].fillna(False).astype(bool).sum()),
        "n_total": float(n.sum()) if n.notna().any() else float("nan"),
        "min": float(frame["value"].min()) if frame["value"].notna().any() else float("nan"),
        "max": float(frame["value"].max()) if frame["value"].notna().any() else float("nan"),
    }


# ----------------------------------------------------------------------------- figure
def _esc(s: Any) -> str:
    return html.escape(str(s), quote=False)


def _hover(row: Mapping, indicator: Indicator, n_label: str, definition: str, ref_text: str) -> str:
    name, code = _esc(row.get("name") or ""), _esc(row["code"])
    lines = [f"<b>{name}</b> ({code})"]
    value = row.get("value")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        reason = MISSING_LABELS.get(row.get("missing") or "", "geen gegevens")
        lines.append(f"{_esc(indicator.label)}: <b>geen waarde</b>")
        lines.append(f"Reden: {_esc(reason)}")
    else:
        lines.append(f"{_esc(indicator.label)}: <b>{_esc(fmt_value(value, indicator))}</b>{ref_text}")
    n = row.get("n")
    if n is not None and not (isinstance(n, float) and math.isnan(n)):
        small = " – klein aantal, onzeker" if row.get("small_n") else ""
        lines.append(f"n = {fmt_number(n, 0)} ({_esc(n_label)}){small}")
    if definition:  # (the choropleth puts the definition in the hover template, once)
        lines.append(f"<i>{_esc(definition)}</i>")
    return "<br>".join(lines)


def _discrete_scale(colours: list[str], with_missing: bool) -> tuple[list, float, float]:
    steps = ([MISSING_FILL] if with_missing else []) + colours
    n = len(steps)
    scale = []
    for j, c in enumerate(steps):
        scale += [[j / n, c], [(j + 1) / n, c]]
    lo = -1.5 if with_missing else -0.5
    return scale, lo, len(colours) - 0.5


def _continuous_scale(palette: str | None, diverging: bool, zmin: float, zmax: float,
                      with_missing: bool) -> tuple[list, float, float, float | None]:
    """Colour scale over [zmin, zmax]; with missing values a grey step below zmin.
    Returns (scale, lo, hi, missing_z)."""
    base = _scale(palette, diverging)
    if not diverging and (palette or DEFAULT_SEQUENTIAL) in ("blauw", "geelgroenblauw"):
        base = [[t, c] for t, c in zip(np.linspace(0, 1, 9), pcolors.sample_colorscale(base, list(np.linspace(0.15, 1, 9))))]
    span = (zmax - zmin) or 1.0
    if not with_missing:
        return [[float(t), c] for t, c in base], zmin, zmax, None
    gap = span * 0.07
    lo = zmin - gap
    s = gap / (zmax - lo)
    scale = [[0.0, MISSING_FILL], [s, MISSING_FILL]] + [[s + (1 - s) * float(t), c] for t, c in base]
    return scale, lo, zmax, zmin - gap / 2


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [round(t, 10) for t in np.arange(start, hi + step * 1e-9, step)]


def rows_for(geom: MapGeometry, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per code of the geometry (index = code; columns name, value, missing, n,
    small_n). Areas without statistics get missing = ``niet_in_tabel``, never 0."""
    f = frame.reindex(columns=["code", "name", "value", "missing", "n", "small_n"]).copy()
    f["code"] = f["code"].astype(str).str.strip()
    f = f.drop_duplicates("code").set_index("code")
    rows = f.reindex(geom.codes)
    if rows["name"].isna().any():
        rows["name"] = rows["name"].fillna(pd.Series(geom.names)).fillna(pd.Series(rows.index, index=rows.index))
    no_row = rows["value"].isna() & rows["missing"].isna()
    rows.loc[no_row, "missing"] = "niet_in_tabel"
    rows["small_n"] = rows["small_n"].fillna(False).astype(bool)
    return rows


def choropleth(gdf_web, frame: pd.DataFrame, indicator: Indicator | str, *,
               method: str = DEFAULT_METHOD, k: int = DEFAULT_K,
               reference: float | tuple[str, float] | None = None,
               outlines=None, selected: str | None = None, fictitious: bool = False,
               source_line: str = "", palette: str | None = None, online: bool = False,
               level: str | None = None, uirevision: str | None = None, title: str = "",
               height: int = 620, geojson_url: str | None = None,
               compact: bool | None = None) -> go.Figure:
    """The choropleth of one indicator.

    ``gdf_web``: boundaries prepared for the web (GeoDataFrame) or a :class:`MapGeometry`.
    ``frame``: :func:`buurtmonitor.harmonise.indicator_frame` rows of the areas to colour
    (other rows are ignored). ``reference``: a value (or ``(label, value)``) to centre a
    diverging palette on; None = sequential. ``outlines``: :class:`Lines`, a GeoDataFrame /
    GeoSeries of polygons, or None (the MapGeometry's parent outlines when given a
    MapGeometry). ``online``: use a tiled background (fetched from CARTO).
    ``geojson_url``: where the browser fetches the geometry (the bytes of
    :meth:`MapGeometry.geojson_file`, e.g. ``app/static/geo/<hash>.json``) instead of
    carrying it inline; for a static export use :func:`with_inline_geojson` first.
    ``compact``: the form for many areas (None: from :data:`COMPACT_MIN_AREAS` areas on).
    """
    cat = load_catalogue()
    ind = cat.indicators[indicator] if isinstance(indicator, str) else indicator
    geom = gdf_web if isinstance(gdf_web, MapGeometry) else prepare_geometry(gdf_web, level or "")
    level = level or geom.level
    compact = len(geom.codes) >= COMPACT_MIN_AREAS if compact is None else bool(compact)
    ref_label, ref_value = (None, None)
    if isinstance(reference, tuple):
        ref_label, ref_value = reference
    elif reference is not None and not (isinstance(reference, float) and math.isnan(reference)):
        ref_label, ref_value = "referentie", float(reference)
    diverging = ref_value is not None

    rows = rows_for(geom, frame)
    values = rows["value"].astype(float).to_numpy()
    has_value = ~np.isnan(values)
    with_missing = bool((~has_value).any())

    decimals = decimals_for(ind)
    unit = ind.unit
    if ind.kind == "share" and ind.denominator:
        n_label = cat.variables[ind.denominator].label.lower()
    else:
        n_label = "aantal inwoners"
    definition = short_definition(ind.definition)

    # colours
    colorbar: dict[str, Any] = {"title": {"text": _esc(unit if unit != "aantal" else "aantal"), "side": "top"},
                                "thickness": 14, "len": 0.75, "x": 1.0, "xanchor": "right", "xpad": 6,
                                "bgcolor": "rgba(255,255,255,0.85)", "outlinewidth": 0}
    # compact: missing areas are a trace of their own (grey, with their reason in the hover)
    grey_step = with_missing and not compact
    # at most one class per two areas with a value (six wijken: three classes, not five of one)
    k = max(2, min(int(k), int(has_value.sum()) // 2))
    classes = classify(values, method, k)
    if diverging and classes.k:
        classes = with_reference(classes, values, ref_value)
    if classes.k > 0:
        colours = class_colours(classes, palette, ref_value)
        scale, zmin, zmax = _discrete_scale(colours, grey_step)
        z = np.where(has_value, classes.idx, -1).astype(np.int8)
        labels = classes.labels(decimals, with_counts=True)
        tickvals = ([-1] if grey_step else []) + list(range(classes.k))
        ticktext = (["geen gegevens"] if grey_step else []) + labels
        colorbar.update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    elif has_value.any():
        vmin, vmax = float(np.nanmin(values)), float(np.nanmax(values))
        if diverging:
            dev = max(abs(vmin - ref_value), abs(vmax - ref_value)) or 1.0
            vmin, vmax = ref_value - dev, ref_value + dev
        scale, zmin, zmax, missing_z = _continuous_scale(palette, diverging, vmin, vmax, grey_step)
        z = np.where(has_value, values, missing_z if missing_z is not None else vmin)
        ticks = _nice_ticks(vmin, vmax)
        tickvals = ([missing_z] if grey_step else []) + ticks
        ticktext = (["geen gegevens"] if grey_step else []) + [fmt_number(t, decimals) for t in ticks]
        colorbar.update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    else:  # nothing to colour: every area grey
        scale, zmin, zmax = [[0, MISSING_FILL], [1, MISSING_FILL]], -1.5, -0.5
        z = np.full(len(values), -1, dtype=np.int8)
        colorbar.update(tickmode="array", tickvals=[-1], ticktext=["geen gegevens"])
    if diverging:
        colorbar["title"]["text"] = (f"{_esc(unit)}<br><sup>midden = {_esc(ref_label)}"
                                     f" ({_esc(fmt_value(ref_value, ind))})</sup>")

    ref_texts = []
    for v in values:
        if diverging and not math.isnan(v):
            diff = v - ref_value
            word = "hoger dan" if diff > 0 else ("lager dan" if diff < 0 else "gelijk aan")
            ref_texts.append(f"<br>{word} {_esc(ref_label)} ({_esc(fmt_value(ref_value, ind))})")
        else:
            ref_texts.append("")

    fig = _new_figure()
    miss_codes = [c for c, ok in zip(geom.codes, has_value) if not ok]
    small = [c for c, s, ok in zip(geom.codes, rows["small_n"], has_value) if s and ok]
    if compact:
        _compact_traces(fig, geom, rows, values, has_value, z, scale, zmin, zmax, colorbar, ind,
                        n_label, definition, ref_label, ref_value, geojson_url)
    else:
        hover = [_hover({"code": c, **r}, ind, n_label, "", rt)
                 for c, r, rt in zip(geom.codes, rows.reset_index(drop=True).to_dict("records"), ref_texts)]
        fig.add_trace(dict(type="choroplethmap",
            geojson=geojson_url or geom.geojson, featureidkey="id", z=z,
            locations=geom.cached("codes_array", lambda: np.asarray(geom.codes, dtype=str)),
            colorscale=scale, zmin=zmin, zmax=zmax, autocolorscale=False, showscale=True,
            colorbar=colorbar, marker={"opacity": 0.88, "line": {"width": 0.6, "color": AREA_LINE_COLOUR}},
            selected={"marker": {"opacity": 0.88}}, unselected={"marker": {"opacity": 0.88}},
            hovertext=hover, hovertemplate=f"%{{hovertext}}<br><i>{_esc(definition)}</i><extra></extra>",
            # [code, value]: the code for click events, the exact value for exports and tests
            customdata=[[c, (None if math.isnan(v) else float(v))] for c, v in zip(geom.codes, values)],
            name=ind.label, showlegend=False,
        ))

    # orientation outlines of the level above
    if outlines is None and isinstance(gdf_web, MapGeometry):
        outlines = geom.parent
    if outlines is not None and not isinstance(outlines, Lines):
        outlines = _lines_from(getattr(outlines, "geometry", outlines), "grenzen")
    if outlines is not None and not outlines.empty:
        lon, lat = outlines.arrays()
        fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                    line={"width": 1.0 if compact else 1.6, "color": OUTLINE_COLOUR},
                                    hoverinfo="skip", name=outlines.name or "grenzen", showlegend=True))
    # missing: grey and hatched, with a legend entry (compact: a grey trace of its own, above)
    if with_missing and not compact:
        reasons = rows.loc[miss_codes, "missing"].dropna().unique().tolist()
        label = LEGEND_MISSING if "geheim" in reasons or not reasons else "geen gegevens"
        hatch = geom.cached(("hatch", tuple(miss_codes)),
                            lambda: hatch_lines([geom.shapes[c] for c in miss_codes], geom.bounds))
        lon, lat = hatch.arrays()
        fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                    line={"width": 1.0, "color": MISSING_HATCH}, hoverinfo="skip",
                                    name=f"{label} ({len(miss_codes)})", showlegend=True))
    # small n
    if small:
        name = f"{LEGEND_SMALL_N} ({len(small)})"
        if compact:
            fig.add_trace(_outline_trace(geojson_url or geom.subset_geojson(small), small,
                                         SMALL_N_COLOUR, 1.8, name))
        else:
            ln = geom.cached(("lines", tuple(small)), lambda: _lines_from([geom.shapes[c] for c in small]))
            lon, lat = ln.arrays()
            fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                        line={"width": 2.4, "color": SMALL_N_COLOUR}, hoverinfo="skip",
                                        name=name, showlegend=True))
    # the selected area
    if selected and selected in geom.shapes:
        nm = rows.at[selected, "name"] if selected in rows.index else selected
        name = f"geselecteerd: {_esc(nm)}"
        if compact and geojson_url:
            fig.add_trace(_outline_trace(geojson_url, [selected], SELECTED_COLOUR, 3.5, name))
        else:
            ln = geom.cached(("lines", (selected,)), lambda: _lines_from([geom.shapes[selected]]))
            lon, lat = ln.arrays()
            fig.add_trace(dict(type="scattermap", lon=lon, lat=lat, mode="lines",
                                        line={"width": 4, "color": SELECTED_COLOUR}, hoverinfo="skip",
                                        name=name, showlegend=True))

    center, zoom = center_zoom(geom.bounds)
    rev = uirevision or f"kaart-{geom.key or level}"
    annotations = []
    if source_line:
        annotations.append({"text": _esc(source_line), "xref": "paper", "yref": "paper", "x": 0, "y": 0,
                            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 11, "color": "#333"}, "bgcolor": "rgba(255,255,255,0.8)"})
    if fictitious:
        annotations.append({"text": f"<b>{_esc(FICTITIOUS_LABEL)}</b>", "xref": "paper", "yref": "paper",
                            "x": 0.5, "y": 1, "xanchor": "center", "yanchor": "top", "showarrow": False,
                            "font": {"size": 13, "color": "#7a0000"}, "bgcolor": "rgba(255,236,179,0.92)",
                            "bordercolor": "#7a0000", "borderwidth": 1})
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
                    colorbar: dict, ind: Indicator, n_label: str, definition: str,
                    ref_label: str | None, ref_value: float | None, url: str | None) -> None:
    """The two choropleth traces of a map with thousands of areas: the areas with a value
    (trace 0: ``customdata`` = float32 ``[value, n]``, formatted by a hover template, so no
    text per area) and the areas without one (trace 1, grey, the reason in the hover, with a
    legend entry). Names come from the GeoJSON (``%{properties.n}``)."""
    d = decimals_for(ind)
    unit = ind.unit
    suffix = "%" if unit == "%" else ("" if unit == "aantal" else f" {_esc(unit)}")
    codes = geom.cached("codes_array", lambda: np.asarray(geom.codes, dtype=str))
    ns = pd.to_numeric(rows["n"], errors="coerce").to_numpy(dtype=float)
    head = "<b>%{properties.n}</b> (%{location})"
    tail = f"<br><i>{_esc(definition)}</i><extra></extra>"
    ref = (f"<br><sup>midden van de kleuren: {_esc(ref_label)} ({_esc(fmt_value(ref_value, ind))})</sup>"
           if ref_value is not None else "")
    n_line = f"<br>n = %{{customdata[1]:,.0f}} ({_esc(n_label)})" if ind.kind == "share" else ""
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
    if has_value.all():
        return
    missing = codes[~has_value]
    reasons = rows["missing"].to_numpy(dtype=object)[~has_value]
    why = [MISSING_LABELS.get(r or "", "geen gegevens") for r in reasons]
    label = LEGEND_MISSING if "geheim" in set(reasons) or not any(reasons) else "geen gegevens"
    fig.add_trace(dict(type="choroplethmap",
        geojson=url or geom.subset_geojson(missing), locations=missing, featureidkey="id",
        z=np.zeros(len(missing), dtype=np.int8), colorscale=[[0, MISSING_FILL], [1, MISSING_FILL]],
        showscale=False, marker={"opacity": 0.88, "line": {"width": 0.6, "color": MISSING_HATCH}},
        hovertext=np.asarray(why, dtype=str), hovertemplate=f"{head}<br>{_esc(ind.label)}: <b>geen waarde</b><br>Reden: %{{hovertext}}{tail}",
        name=f"{label} ({len(missing)})", showlegend=True,
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
    (for static export and HTML downloads, which cannot fetch ``app/static/...``). Overlay
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


def title_for(indicator: Indicator, level: str, place: str, year: int) -> str:
    """"Herkomst buiten Europa per wijk, Ede, 2024"."""
    return f"{indicator.label} per {LEVEL_LABELS.get(level, level).lower()}, {place}, {year}"
