"""Boundaries prepared once for the web maps: :class:`MapGeometry` (GeoJSON, shapes per code,
bounds, the outlines of the level above), line geometry (:class:`Lines`) for outlines and
hatching, and the one Web-Mercator fit (:func:`center_zoom`) of every plotly map.

Pure functions, no I/O: the boundaries come from ``loaders.repository``.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import shapely
from shapely.geometry import mapping as shape_mapping

from buurtmonitor import geo

T = TypeVar("T")

#: plotly maps are drawn in the main column (3/4 of a wide page): fit the areas in about this
#: many pixels, so nothing is cut off on a laptop screen
MAP_FIT_WIDTH_PX = 600
#: at most this many derived pieces per geometry (:meth:`MapGeometry.cached`)
CACHE_MAX = 64
#: name of the hatching of areas without a value
HATCH_NAME = "geen gegevens / geheim"


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
            parts: list[list[float]] = []
            cur: list[float] = []
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


def lines_from(geoms: Iterable, name: str = "") -> Lines:
    """The boundaries of polygons (or the lines themselves) as :class:`Lines`, 5 decimals."""
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
    #: the year the boundaries are of, where the source says (PDOK ``jaarcode``/``jrstatcode``)
    year: int | None = None
    #: derived pieces computed once per geometry (hatching, outlines, GeoJSON file bytes)
    cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _pending: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        return not self.codes

    def cached(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()`` once per ``key`` for this geometry (bounded: at most :data:`CACHE_MAX`
        entries; hatching and outlines are dropped first).

        Thread-safe: the app shares one geometry between all sessions (``st.cache_resource``).
        The memo is read and written under a lock; ``make()`` runs outside it (a national
        GeoJSON file takes a second), and a second caller of the same key waits for the first
        instead of computing it again. When ``make()`` raises, the waiters try themselves.
        """
        while True:
            with self._lock:
                if key in self.cache:
                    return self.cache[key]
                waiting = self._pending.get(key)
                if waiting is None:
                    pending = self._pending[key] = threading.Event()
                    break
            waiting.wait()
        try:
            value = make()
        except BaseException:
            with self._lock:
                self._pending.pop(key, None)
            pending.set()
            raise
        with self._lock:
            if len(self.cache) >= CACHE_MAX:
                for k in [k for k in self.cache if isinstance(k, tuple) and k and k[0] in ("hatch", "lines")][:16]:
                    self.cache.pop(k, None)
            self.cache[key] = value
            self._pending.pop(key, None)
        pending.set()
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
        """:meth:`named_geojson` as compact bytes, for serving as a file (the ``geojson_url`` of
        :func:`buurtmonitor.maps.choropleth.choropleth`). Computed once."""
        def make() -> bytes:
            return json.dumps(self.named_geojson(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self.cached("geojson_file", make)

    def subset_geojson(self, codes: Sequence[str]) -> dict:
        """A FeatureCollection (with names) of only ``codes``."""
        by_id = self.cached("features_by_id", lambda: {f["id"]: f for f in self.named_geojson()["features"]})
        return {"type": "FeatureCollection", "features": [by_id[c] for c in codes if c in by_id]}

    def geojson_size(self) -> int:
        """Bytes of the inline GeoJSON (compact JSON), computed once."""
        return self.cached("geojson_size", lambda: geo.geojson_bytes(self.geojson))

    def codes_array(self) -> np.ndarray:
        """:attr:`codes` as a numpy string array (computed once)."""
        return self.cached("codes_array", lambda: np.asarray(self.codes, dtype=str))


def _geojson(gdf) -> dict:
    try:
        return geo.to_geojson(gdf, id_col="code")
    except AttributeError:  # pragma: no cover - a frame without the columns geo expects
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": str(c).strip(), "properties": {}, "geometry": shape_mapping(g)}
            for c, g in zip(gdf["code"], gdf.geometry) if g is not None and not g.is_empty]}


def parent_outlines(gdf, level: str) -> Lines | None:
    """Outlines of the level above for orientation: the gemeente around its wijken, the wijken
    around their buurten. None for the national gemeente map."""
    if gdf is None or len(gdf) == 0 or level == "gemeente":
        return None
    geoms = gdf.geometry.values
    codes = gdf["code"].astype(str).str.strip()
    groups: dict[str, list] = {}
    if level == "wijk":
        groups = {"gemeente": list(geoms)}
        name = "gemeentegrens"
    elif level == "buurt":
        wijk = "WK" + codes.str[2:8]
        for w, g in zip(wijk, geoms):
            groups.setdefault(w, []).append(g)
        name = "wijkgrenzen"
    else:
        return None
    merged = [shapely.union_all(shapely.make_valid(np.asarray(gs, dtype=object)), grid_size=1e-6)
              for gs in groups.values()]
    if len(merged) > 1:  # each border between two wijken once, not once per side
        network = shapely.union_all(shapely.boundary(np.asarray(merged, dtype=object)), grid_size=1e-6)
        return lines_from([shapely.line_merge(network)], name)
    return lines_from(merged, name)


def prepare_geometry(gdf, level: str, *, key: str = "") -> MapGeometry:
    """Boundaries (EPSG:4326, columns ``code``, ``name``, ``geometry``; already simplified by
    ``geo.prepare_for_web``) -> :class:`MapGeometry`."""
    if gdf is None or len(gdf) == 0:
        return MapGeometry(level, {"type": "FeatureCollection", "features": []}, [], {}, {},
                           (3.3, 50.7, 7.3, 53.6), None, key)
    boundary_year = (gdf.attrs.get("provenance") or {}).get("boundary_year")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    gdf["code"] = gdf["code"].astype(str).str.strip()
    gdf = gdf.drop_duplicates("code")
    names = dict(zip(gdf["code"], gdf["name"] if "name" in gdf else gdf["code"]))
    minx, miny, maxx, maxy = (float(x) for x in gdf.total_bounds)
    return MapGeometry(level=level, geojson=_geojson(gdf), codes=gdf["code"].tolist(), names=names,
                       shapes=dict(zip(gdf["code"], gdf.geometry.values)), bounds=(minx, miny, maxx, maxy),
                       parent=parent_outlines(gdf, level), key=key,
                       year=boundary_year)


def center_zoom(bounds: Sequence[float], width_px: int = MAP_FIT_WIDTH_PX, height_px: int = 600, *,
                margin: float = 0.15, min_zoom: float = 2.0, max_zoom: float = 16.0) -> tuple[dict, float]:
    """Centre and zoom that fit ``bounds`` (minx, miny, maxx, maxy) in a map of about
    ``width_px`` × ``height_px`` (Web Mercator).

    Parameters
    ----------
    bounds : sequence of float
        minx, miny, maxx, maxy in degrees.
    width_px, height_px : int
        The size of the map to fit in.
    margin : float
        Zoom levels taken off the exact fit (negative: closer than the exact fit).
    min_zoom, max_zoom : float
        The zoom is clipped to this range.

    Returns
    -------
    tuple
        ``({"lon": ..., "lat": ...}, zoom)`` for plotly's ``layout.map``.
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
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
    zoom = float(np.clip(min(zx, zy) - margin, min_zoom, max_zoom))
    return {"lon": round(lon, 5), "lat": round(lat, 5)}, round(zoom, 2)


def hatch_lines(shapes: Iterable, bounds: Sequence[float], n: int = 90) -> Lines:
    """Diagonal hatching clipped to ``shapes`` (plus their outlines), spaced by the map extent."""
    geoms = [g for g in shapes if g is not None and not g.is_empty]
    if not geoms:
        return Lines([], [], HATCH_NAME)
    area = shapely.union_all(np.asarray(geoms, dtype=object))
    minx, miny, maxx, maxy = bounds
    step = max(maxx - minx, maxy - miny) / n
    gx0, gy0, gx1, gy1 = area.bounds
    h = gy1 - gy0
    starts = np.arange(gx0 - h, gx1 + step, step)
    diag = [shapely.LineString([(x, gy0), (x + h, gy1)]) for x in starts]
    clipped = shapely.intersection(np.asarray(diag, dtype=object), area)
    lines = lines_from([g for g in clipped if not g.is_empty])
    edge = lines_from(geoms)
    return Lines(lines.lon + edge.lon, lines.lat + edge.lat, HATCH_NAME)
