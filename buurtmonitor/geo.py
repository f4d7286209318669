"""Boundaries for the web: simplification without gaps or overlaps, rounding, GeoJSON for
plotly, and a report of codes that do not match between statistics and geometry.

Pure functions, no I/O: callers cache the results (e.g. with ``st.cache_data``).

Neighbouring areas share borders. Simplifying every polygon on its own (``simplify``)
moves a shared border differently on each side and leaves slivers and overlaps on the
map. :func:`simplify_topology` uses :func:`shapely.coverage_simplify` (GEOS >= 3.12),
which simplifies each shared edge once, for both neighbours. It needs a valid *coverage*
(no overlaps, matching edges); where the input is not one (float noise at clipped edges,
slivers) it is first rebuilt from the noded boundary network on a small grid.
"""

from __future__ import annotations

import json
import logging
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import mapping

log = logging.getLogger(__name__)

WEB_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:28992"  # RD New: metres, for tolerances in metres

#: Default simplification tolerance (metres) per level: coarse for the national gemeente map,
#: fine for buurten where borders run along streets.
TOLERANCES_M = {"land": 500.0, "gemeente": 200.0, "wijk": 20.0, "buurt": 10.0}

#: 5 decimals of a degree is about 1.1 m north-south and 0.7 m east-west in the Netherlands.
DEFAULT_DECIMALS = 5


def tolerance_for(level: str) -> float:
    """Simplification tolerance in metres for ``level`` (land|gemeente|wijk|buurt)."""
    try:
        return TOLERANCES_M[level]
    except KeyError:
        raise ValueError(f"Onbekend niveau {level!r}; kies uit {', '.join(TOLERANCES_M)}.") from None


# ----------------------------------------------------------------------------- helpers
def _to_metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        gdf = gdf.set_crs(WEB_CRS)
    if gdf.crs.is_projected:
        return gdf
    return gdf.to_crs(METRIC_CRS)


def _repair_coverage(geoms: np.ndarray, grid: float) -> np.ndarray:
    """Rebuild a polygon coverage from its noded boundaries (snap-rounded to ``grid``).

    Every face of the planar partition goes to the polygon that contains it (the lowest
    index where polygons overlap); thin faces inside no polygon (slivers narrower than a
    metre) go to the neighbour with the longest shared border; wider gaps stay gaps.
    """
    n = len(geoms)
    lines = shapely.union_all(shapely.boundary(geoms), grid_size=grid)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    if len(faces) == 0:
        return geoms
    owner = np.full(len(faces), -1)
    pts = shapely.point_on_surface(faces)
    tree = shapely.STRtree(geoms)
    fi, gi = tree.query(pts, predicate="within")
    for f, g in sorted(zip(fi.tolist(), gi.tolist()), key=lambda t: (t[0], -t[1])):
        owner[f] = g  # the lowest polygon index wins (sorted descending, last write wins)
    orphans = np.flatnonzero(owner < 0)
    if len(orphans):
        width = 2 * shapely.area(faces[orphans]) / np.maximum(shapely.length(faces[orphans]), 1e-12)
        ftree = shapely.STRtree(faces)
        for k, f in enumerate(orphans):
            if width[k] >= 1.0:
                continue
            best, best_len = -1, 0.0
            for nb in ftree.query(faces[f], predicate="intersects"):
                if owner[nb] < 0:
                    continue
                shared = shapely.length(shapely.intersection(shapely.boundary(faces[f]),
                                                             shapely.boundary(faces[nb])))
                if shared > best_len:
                    best, best_len = owner[nb], shared
            if best >= 0:
                owner[f] = best
    out = np.array(geoms, dtype=object)
    for i in range(n):
        mine = faces[owner == i]
        if len(mine):
            out[i] = shapely.union_all(mine, grid_size=grid)
    return out


def simplify_geoms(geoms: Iterable, tolerance_m: float) -> np.ndarray:
    """Coverage simplification of polygons already in metres (see :func:`simplify_topology`)."""
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    if len(geoms) == 0 or tolerance_m <= 0:
        return geoms
    geoms = shapely.make_valid(geoms)
    # make_valid may return collections; keep the polygonal part
    geoms = np.array([g if g.geom_type in ("Polygon", "MultiPolygon") else
                      shapely.union_all([p for p in shapely.get_parts(g)
                                         if p.geom_type in ("Polygon", "MultiPolygon")])
                      for g in geoms], dtype=object)
    if not shapely.coverage_is_valid(geoms):
        grid = float(np.clip(tolerance_m / 20.0, 0.01, 0.5))
        log.info("Grenzen vormen geen sluitende indeling; eerst hersteld op %.2f m", grid)
        geoms = _repair_coverage(geoms, grid)
    simple = shapely.coverage_simplify(geoms, tolerance_m)
    bad = ~shapely.is_valid(simple)
    if bad.any():
        simple[bad] = shapely.make_valid(simple[bad])
    return simple


def simplify_topology(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify polygons so that shared borders stay shared: no gaps, no overlaps.

    ``tolerance_m`` in metres. Works in EPSG:28992 and returns the CRS of the input
    (EPSG:4326 when the input has none). Other columns are kept.
    """
    if gdf.empty:
        return gdf.copy()
    src_crs = gdf.crs or WEB_CRS
    metric = _to_metric(gdf)
    simple = simplify_geoms(metric.geometry.values, tolerance_m)
    out = metric.copy()
    out = out.set_geometry(gpd.GeoSeries(simple, index=out.index, crs=metric.crs))
    return out if out.crs == CRS.from_user_input(src_crs) else out.to_crs(src_crs)


def round_coords(gdf: gpd.GeoDataFrame, decimals: int = DEFAULT_DECIMALS) -> gpd.GeoDataFrame:
    """Round coordinates to ``decimals`` (5 in degrees ≈ 1 m), dropping repeated points and
    keeping polygons valid. Shared vertices round identically, so neighbours stay aligned."""
    if gdf.empty:
        return gdf.copy()
    grid = 10.0 ** (-decimals)
    geoms = shapely.set_precision(gdf.geometry.values, grid)
    # set_precision leaves float noise (0.30000000000000004); round for short JSON numbers
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    out = gdf.copy()
    out[gdf.geometry.name] = geoms
    return out


def prepare_for_web(gdf: gpd.GeoDataFrame, level: str, tolerance_m: float | None = None,
                    decimals: int = DEFAULT_DECIMALS) -> gpd.GeoDataFrame:
    """Simplify (topology-preserving) and round boundaries for a map; EPSG:4326 out.
    Pure: cache the result in the caller."""
    tol = tolerance_for(level) if tolerance_m is None else tolerance_m
    out = simplify_topology(gdf, tol)
    if out.crs is None or out.crs.to_epsg() != 4326:
        out = out.to_crs(WEB_CRS)
    out = round_coords(out, decimals)
    return out[~out.geometry.is_empty & out.geometry.notna()]


def to_geojson(gdf: gpd.GeoDataFrame, id_col: str = "code") -> dict:
    """A compact FeatureCollection for plotly: feature ``id`` = ``id_col``, no properties.
    Use with ``featureidkey="id"`` (plotly's default)."""
    if id_col not in gdf.columns:
        raise KeyError(f"Kolom {id_col!r} ontbreekt in de grenzen.")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(WEB_CRS)
    features = []
    for code, geom in zip(gdf[id_col].tolist(), gdf.geometry.values):
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "id": str(code).strip(), "properties": {},
                         "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def geojson_bytes(fc: dict) -> int:
    """Size of a FeatureCollection as compact JSON (what plotly sends to the browser)."""
    return len(json.dumps(fc, separators=(",", ":")).encode("utf-8"))


def join_report(table_codes: Iterable, geo_codes: Iterable) -> dict:
    """Which codes of the statistics have no geometry, and the other way round.

    ``{"missing_geometry": [...], "missing_statistics": [...], "matched": n}`` (sorted)."""
    def clean(codes):
        out = set()
        for c in codes:
            if c is None or (isinstance(c, float) and np.isnan(c)) or c is pd.NA:
                continue
            s = str(c).strip()
            if s:
                out.add(s)
        return out

    t, g = clean(table_codes), clean(geo_codes)
    return {"missing_geometry": sorted(t - g), "missing_statistics": sorted(g - t),
            "matched": len(t & g)}
