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
from collections.abc import Iterable

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
#: fine for buurten where borders run along streets. ``buurt_nl``: all buurten of the country
#: on one map (a national zoom: one screen pixel is ~500 m there).
TOLERANCES_M = {"land": 500.0, "gemeente": 200.0, "wijk": 20.0, "buurt": 10.0, "buurt_nl": 100.0}

#: 5 decimals of a degree is about 1.1 m north-south and 0.7 m east-west in the Netherlands.
DEFAULT_DECIMALS = 5
#: The national buurt map: 4 decimals (~11 m x 7 m), enough at a national zoom.
NATIONAL_DECIMALS = 4


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


def make_valid(geoms: Iterable) -> np.ndarray:
    """``shapely.make_valid`` that survives the odd geometry GEOS refuses (e.g. a ring of one
    repeated point in a quantised TopoJSON: "Overlay input is mixed-dimension"): those are
    repaired one by one with the ``structure`` method, or ``buffer(0)``."""
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    try:
        return shapely.make_valid(geoms)
    except shapely.errors.GEOSException:
        pass
    out = geoms.copy()
    for i, g in enumerate(geoms):
        if g is None:
            continue
        for fix in (shapely.make_valid, lambda x: shapely.make_valid(x, method="structure"),
                    lambda x: x.buffer(0)):
            try:
                out[i] = fix(g)
                break
            except shapely.errors.GEOSException:
                continue
    return out


def simplify_geoms(geoms: Iterable, tolerance_m: float) -> np.ndarray:
    """Coverage simplification of polygons already in metres (see :func:`simplify_topology`)."""
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    if len(geoms) == 0 or tolerance_m <= 0:
        return geoms
    bad = ~shapely.is_valid(geoms)
    if bad.any():  # (only the invalid ones: no copy of a national layer that is valid)
        geoms = geoms.copy()
        geoms[bad] = make_valid(geoms[bad])
    # make_valid may return collections; keep the polygonal part
    odd = ~np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_missing(geoms)  # not (Multi)Polygon
    if odd.any():
        geoms = geoms.copy()
        polys = [shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")])
                 for g in geoms[odd]]
        # an area collapsed to a line or point (e.g. a quantised TopoJSON) has no polygon left
        geoms[odd] = [p if p.geom_type in ("Polygon", "MultiPolygon") else shapely.Polygon() for p in polys]
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


def to_geojson(gdf: gpd.GeoDataFrame, id_col: str = "code", *, name_col: str | None = None) -> dict:
    """A compact FeatureCollection for plotly: feature ``id`` = ``id_col``, no properties
    (with ``name_col``: one property ``n`` = the name, for a hover template that reads
    ``%{properties.n}`` from a GeoJSON served as a file). Use with ``featureidkey="id"``
    (plotly's default)."""
    if id_col not in gdf.columns:
        raise KeyError(f"Kolom {id_col!r} ontbreekt in de grenzen.")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(WEB_CRS)
    names = gdf[name_col].tolist() if name_col and name_col in gdf.columns else None
    features = []
    for i, (code, geom) in enumerate(zip(gdf[id_col].tolist(), gdf.geometry.values)):
        if geom is None or geom.is_empty:
            continue
        props = {"n": str(names[i])} if names is not None else {}
        features.append({"type": "Feature", "id": str(code).strip(), "properties": props,
                         "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def geojson_dumps(fc: dict) -> bytes:
    """A FeatureCollection as compact JSON bytes (UTF-8)."""
    return json.dumps(fc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def geojson_bytes(fc: dict) -> int:
    """Size of a FeatureCollection as compact JSON (what plotly sends to the browser)."""
    return len(json.dumps(fc, separators=(",", ":")).encode("utf-8"))


# ----------------------------------------------------------------------------- national zoom
def drop_slivers(geoms: Iterable, min_area: float) -> np.ndarray:
    """Remove polygon parts and holes smaller than ``min_area`` (in the units of the
    geometries, e.g. m² in EPSG:28992). The largest part of every geometry is always kept,
    so no geometry becomes empty."""
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    out = geoms.copy()
    if min_area <= 0:
        return out
    for i, g in enumerate(geoms):
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        parts = list(shapely.get_parts(g))
        small_hole = any(shapely.area(shapely.Polygon(r)) < min_area for p in parts for r in p.interiors)
        if len(parts) == 1 and not small_hole:
            continue
        areas = shapely.area(np.asarray(parts, dtype=object))
        keep = [p for p, a in zip(parts, areas) if a >= min_area] or [parts[int(np.argmax(areas))]]
        cleaned = []
        for p in keep:
            holes = [r for r in p.interiors if shapely.area(shapely.Polygon(r)) >= min_area]
            cleaned.append(shapely.Polygon(p.exterior, holes) if len(holes) != len(p.interiors) else p)
        out[i] = cleaned[0] if len(cleaned) == 1 else shapely.MultiPolygon(cleaned)
    return out


def prepare_national(gdf: gpd.GeoDataFrame, tolerance_m: float | None = None,
                     decimals: int = NATIONAL_DECIMALS, min_area_m2: float | None = None
                     ) -> tuple[gpd.GeoDataFrame, dict]:
    """Boundaries of many areas for one national map (e.g. all ~14,000 buurten):
    topology-preserving simplification with a coarse tolerance (default 100 m), parts and
    holes smaller than ``min_area_m2`` dropped (default (tolerance/2)²), coordinates rounded
    to ``decimals`` (default 4). Exactly one non-empty geometry per input row with a
    geometry: an area that would vanish keeps a small rounded copy of itself.
    Returns (EPSG:4326 frame, report with counts)."""
    tol = tolerance_for("buurt_nl") if tolerance_m is None else float(tolerance_m)
    min_area = (tol / 2) ** 2 if min_area_m2 is None else float(min_area_m2)
    src = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    report = {"areas_in": int(len(gdf)), "without_geometry": int(len(gdf) - len(src)),
              "tolerance_m": tol, "decimals": int(decimals), "min_area_m2": min_area,
              "vertices_in": int(shapely.get_num_coordinates(src.geometry.values).sum())}
    if src.empty:
        return src.copy(), {**report, "areas_out": 0, "vertices_out": 0, "kept_small": 0}
    metric = _to_metric(src)
    simple = simplify_geoms(metric.geometry.values, tol)
    simple = drop_slivers(simple, min_area)
    out = metric.copy()
    out = out.set_geometry(gpd.GeoSeries(simple, index=out.index, crs=metric.crs)).to_crs(WEB_CRS)
    out = round_coords(out, decimals)
    lost = (out.geometry.isna() | out.geometry.is_empty).to_numpy()
    if lost.any():  # tiny areas: their own outline, rounded finer
        orig = src.to_crs(WEB_CRS).geometry.values[lost]
        fine = shapely.set_precision(make_valid(orig), 10.0 ** -(decimals + 1))
        still = shapely.is_empty(fine) | ~np.isin(shapely.get_type_id(fine), (3, 6))
        if still.any():  # collapsed to a line or point: a thin polygon around it
            fine[still] = shapely.set_precision(
                shapely.buffer(orig[still], 10.0 ** -decimals, quad_segs=1), 10.0 ** -(decimals + 1))
        geom = out.geometry.values.copy()
        geom[lost] = fine
        out = out.set_geometry(gpd.GeoSeries(geom, index=out.index, crs=WEB_CRS))
    report.update(areas_out=int(len(out)), kept_small=int(lost.sum()),
                  vertices_out=int(shapely.get_num_coordinates(out.geometry.values).sum()))
    return out, report


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
