"""A generated, full-detail set of ~14,000 buurt polygons over a land-like outline of the
Netherlands, for the benchmarks (``bench/run.py``). Nothing here is real geography.

* Seeds: uniform over the outline plus dense clusters around ~25 city centres (urban buurten
  are small, rural ones large), and a ring of "sea" seeds outside the outline whose cells
  are dropped, so the outer border follows a jagged, coast-like line.
* Cells: the Voronoi diagram of the seeds (in RD New metres). Every cell edge is densified
  and jittered *as a function of the edge alone*, so neighbours share exactly the same
  vertices: the result is a valid coverage (no gaps, no overlaps), like the real
  Wijk- en Buurtkaart. A buurt gets ~100-300 vertices, so the raw GeoJSON with a PDOK-like
  set of properties is ~100+ MB, like the real national buurt layer.
* Codes: cells are ordered along a Hilbert curve, so consecutive codes (one gemeente, one
  wijk) are neighbours on the map. ``real_codes`` (e.g. the buurten of the KWB 2024 extract)
  are used first; the rest get fictitious codes ``BU70xxwwbb`` of fictitious gemeenten
  ``GM70xx`` (never ``GM99xx``, which the app reserves for its demo).

``generate()`` writes ``<work>/nl_buurten_<n>_v<version>.parquet`` (WKB in EPSG:4326 plus
properties) once and reuses it; ``raw_geojson_path()`` writes the naive raw GeoJSON
(full precision, all properties) once.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

VERSION = 1
WORK = Path(__file__).resolve().parents[1] / "bench" / ".work"

#: A rough, hand-drawn land outline of the Netherlands (lon, lat), without the Wadden islands.
NL_OUTLINE = [
    (3.37, 51.38), (3.55, 51.30), (3.86, 51.24), (4.24, 51.36), (4.40, 51.40), (4.75, 51.45),
    (5.05, 51.46), (5.25, 51.30), (5.55, 51.26), (5.85, 51.14), (5.65, 50.87), (5.69, 50.76),
    (6.02, 50.76), (6.08, 50.92), (5.90, 51.05), (6.17, 51.17), (6.07, 51.34), (6.22, 51.38),
    (6.10, 51.60), (5.95, 51.74), (6.15, 51.84), (6.45, 51.86), (6.72, 51.90), (6.83, 51.98),
    (6.69, 52.06), (7.06, 52.24), (7.05, 52.40), (6.70, 52.49), (7.07, 52.65), (7.00, 52.90),
    (7.21, 53.24), (6.90, 53.35), (6.60, 53.42), (6.20, 53.41), (5.90, 53.38), (5.60, 53.30),
    (5.40, 53.10), (5.25, 52.98), (5.05, 52.93), (4.78, 52.96), (4.70, 52.85), (4.62, 52.60),
    (4.55, 52.43), (4.42, 52.22), (4.20, 52.04), (4.05, 51.96), (3.88, 51.80), (3.70, 51.72),
    (3.47, 51.56), (3.37, 51.38),
]
#: A lake (IJsselmeer-like) inside the outline: no buurten there.
NL_LAKE = [(5.05, 52.72), (5.30, 52.70), (5.40, 52.86), (5.40, 53.02), (5.20, 53.00),
           (5.08, 52.90), (5.05, 52.72)]
#: (lon, lat, relative size) of city clusters
CITIES = [
    (4.90, 52.37, 5.0), (4.48, 51.92, 4.0), (4.30, 52.07, 3.6), (5.12, 52.09, 2.8),
    (5.47, 51.44, 1.9), (6.57, 53.22, 1.8), (5.09, 51.56, 1.7), (5.22, 52.37, 1.6),
    (4.78, 51.59, 1.5), (5.86, 51.84, 1.5), (5.97, 52.21, 1.4), (5.90, 51.98, 1.4),
    (4.64, 52.38, 1.4), (6.89, 52.22, 1.3), (5.39, 52.16, 1.3), (6.09, 52.51, 1.1),
    (4.49, 52.16, 1.1), (5.69, 50.85, 1.0), (4.69, 51.81, 1.0), (5.80, 53.20, 1.0),
    (5.30, 51.69, 1.0), (4.49, 52.06, 0.9), (5.66, 52.04, 0.9), (6.16, 52.25, 0.8),
    (4.36, 52.01, 0.8),
]
N_DEFAULT = 14_000
TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


# ----------------------------------------------------------------------------- helpers
def _land_rd() -> shapely.Polygon:
    def rd(ring):
        x, y = TO_RD.transform([p[0] for p in ring], [p[1] for p in ring])
        return list(zip(x, y))
    return shapely.Polygon(rd(NL_OUTLINE), [rd(NL_LAKE)])


def _sample_inside(poly, n: int, draw, rng) -> np.ndarray:
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        pts = draw(max(256, 2 * (n - got)))
        ok = shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
        pts = pts[ok][: n - got]
        out.append(pts)
        got += len(pts)
    return np.vstack(out)


def _seeds(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, shapely.Polygon]:
    """(land seeds (n, 2), sea seeds, land polygon), RD metres."""
    land = _land_rd()
    shapely.prepare(land)
    minx, miny, maxx, maxy = land.bounds
    n_urban = int(n * 0.45)
    uniform = _sample_inside(land, n - n_urban,
                             lambda k: np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)]), rng)
    cx, cy = (np.asarray(v) for v in TO_RD.transform([c[0] for c in CITIES], [c[1] for c in CITIES]))
    w = np.array([c[2] for c in CITIES])
    w = w / w.sum()

    def urban(k):
        i = rng.choice(len(CITIES), size=k, p=w)
        sigma = 2500 + 1800 * np.sqrt(np.array([CITIES[j][2] for j in i]))
        return np.column_stack([cx[i] + rng.normal(0, 1, k) * sigma, cy[i] + rng.normal(0, 1, k) * sigma])
    cities = _sample_inside(land, n_urban, urban, rng)
    seeds = np.vstack([uniform, cities])
    # sea seeds: a grid outside the land (jittered), so the coast follows the outline
    step = 2500.0
    gx, gy = np.meshgrid(np.arange(minx - 10_000, maxx + 10_000, step), np.arange(miny - 10_000, maxy + 10_000, step))
    sea = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-step * 0.3, step * 0.3, (gx.size, 2))
    sea = sea[~shapely.contains_xy(land.buffer(600), sea[:, 0], sea[:, 1])]
    return seeds, sea, land


def _hilbert_index(x: np.ndarray, y: np.ndarray, order: int = 16) -> np.ndarray:
    """Index along a Hilbert curve of points scaled to [0, 2^order)."""
    n = 1 << order
    xi = ((x - x.min()) / max(np.ptp(x), 1e-9) * (n - 1)).astype(np.int64)
    yi = ((y - y.min()) / max(np.ptp(y), 1e-9) * (n - 1)).astype(np.int64)
    d = np.zeros_like(xi)
    s = n >> 1
    while s > 0:
        rx = ((xi & s) > 0).astype(np.int64)
        ry = ((yi & s) > 0).astype(np.int64)
        d += s * s * ((3 * rx) ^ ry)
        # rotate
        flip = ry == 0
        swap_x = np.where(flip & (rx == 1), s - 1 - xi, xi)
        swap_y = np.where(flip & (rx == 1), s - 1 - yi, yi)
        xi, yi = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


def _edge_points(p: tuple[float, float], q: tuple[float, float]) -> np.ndarray:
    """Interior points of the edge p->q: densified and jittered as a function of the
    (unordered) edge alone, so both neighbouring cells get identical vertices."""
    a, b = (p, q) if p <= q else (q, p)
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    n = int(np.clip(round(14 + length / 50.0), 4, 60))
    if length < 1e-6:
        return np.empty((0, 2))
    h = hashlib.blake2b(f"{ax:.3f},{ay:.3f},{bx:.3f},{by:.3f}".encode(), digest_size=8).digest()
    rng = np.random.default_rng(int.from_bytes(h, "little"))
    t = np.arange(1, n + 1) / (n + 1)
    amp = min(0.05 * length, 25.0)
    f1, f2 = rng.uniform(1.0, 3.0), rng.uniform(3.0, 7.0)
    ph1, ph2 = rng.uniform(0, 2 * math.pi, 2)
    wave = (np.sin(2 * math.pi * f1 * t + ph1) + 0.5 * np.sin(2 * math.pi * f2 * t + ph2)
            + 0.25 * rng.uniform(-1, 1, n))
    off = amp * np.sin(math.pi * t) * wave / 1.75
    nx, ny = -dy / length, dx / length
    pts = np.column_stack([ax + t * dx + off * nx, ay + t * dy + off * ny])
    return pts if (p, q) == (a, b) else pts[::-1]


def _detail_ring(coords: np.ndarray) -> np.ndarray:
    out = []
    for i in range(len(coords) - 1):
        p, q = (float(coords[i][0]), float(coords[i][1])), (float(coords[i + 1][0]), float(coords[i + 1][1]))
        out.append(np.array([p]))
        out.append(_edge_points(p, q))
    out.append(coords[-1:])
    return np.vstack(out)


def _detail(cell: shapely.Polygon) -> shapely.Polygon:
    shell = _detail_ring(np.asarray(cell.exterior.coords))
    holes = [_detail_ring(np.asarray(r.coords)) for r in cell.interiors]
    return shapely.Polygon(shell, holes)


# ----------------------------------------------------------------------------- codes
def _fictitious_codes(n: int, first_gm: int = 7000) -> list[tuple[str, str, str]]:
    """(buurtcode, wijkcode, gemeentecode) for ``n`` fictitious buurten: gemeenten of ~40
    buurten in wijken of ~8."""
    out = []
    gm, wk, bu = first_gm, 1, 1
    per_wijk, per_gm = 8, 40
    in_gm = 0
    for _ in range(n):
        out.append((f"BU{gm:04d}{wk:02d}{bu:02d}", f"WK{gm:04d}{wk:02d}", f"GM{gm:04d}"))
        bu += 1
        in_gm += 1
        if bu > per_wijk:
            bu, wk = 1, wk + 1
        if in_gm >= per_gm:
            gm, wk, bu, in_gm = gm + 1, 1, 1, 0
    return out


def codes_for(n: int, real_codes: Sequence[str] = ()) -> list[tuple[str, str, str]]:
    """(buurt, wijk, gemeente) codes: the real buurt codes first (sorted), then fictitious ones."""
    real = sorted({c.strip() for c in real_codes if str(c).startswith("BU")})[:n]
    out = [(c, "WK" + c[2:8], "GM" + c[2:6]) for c in real]
    return out + _fictitious_codes(n - len(out))


# ----------------------------------------------------------------------------- main
def generate(n: int = N_DEFAULT, *, real_codes: Sequence[str] = (), names: dict[str, str] | None = None,
             seed: int = 14_000, work: Path = WORK, log=print) -> gpd.GeoDataFrame:
    """The generated buurten (EPSG:4326): columns ``buurtcode, buurtnaam, wijkcode,
    gemeentecode, gemeentenaam, n_vertices`` + PDOK-like properties, geometry. Cached in
    ``work`` (keyed by n, seed, version and the code list)."""
    key = hashlib.sha256(json.dumps([n, seed, VERSION, sorted(real_codes)]).encode()).hexdigest()[:10]
    path = work / f"nl_buurten_{n}_{key}.parquet"
    if path.exists():
        return gpd.read_parquet(path)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    seeds, sea, land = _seeds(n, rng)
    allpts = np.vstack([seeds, sea])
    cells = shapely.voronoi_polygons(shapely.multipoints(allpts),
                                     extend_to=shapely.box(*shapely.multipoints(allpts).envelope.buffer(20_000).bounds))
    cells = np.asarray(shapely.get_parts(cells))
    # match cells to seeds (voronoi_polygons does not keep the order)
    tree = shapely.STRtree(cells)
    pi, ci = tree.query(shapely.points(seeds), predicate="within")
    order = np.full(len(seeds), -1)
    order[pi] = ci
    assert (order >= 0).all(), "a seed without a cell"
    land_cells = cells[order]
    log(f"  voronoi: {len(land_cells)} cellen ({time.perf_counter() - t0:.1f} s)")
    detailed = np.array([_detail(c) for c in land_cells], dtype=object)
    bad = ~shapely.is_valid(detailed)
    if bad.any():  # a jittered edge crossing its neighbour: fall back to the plain cell there
        log(f"  {int(bad.sum())} cellen met een kruisende rand: gerepareerd")
        detailed[bad] = shapely.make_valid(detailed[bad])
    log(f"  detail: {int(shapely.get_num_coordinates(detailed).sum()):,} punten "
        f"({time.perf_counter() - t0:.1f} s)")
    cen = shapely.centroid(land_cells)
    hx, hy = shapely.get_x(cen), shapely.get_y(cen)
    ordering = np.argsort(_hilbert_index(hx, hy), kind="stable")
    detailed = detailed[ordering]
    codes = codes_for(n, real_codes)
    names = names or {}
    wgs = shapely.transform(detailed, lambda xy: np.column_stack(TO_WGS.transform(xy[:, 0], xy[:, 1])))
    prng = np.random.default_rng(seed + 1)
    inw = np.round(prng.lognormal(7.2, 1.0, n) / 5) * 5
    frame = pd.DataFrame({
        "buurtcode": [c[0] for c in codes], "buurtnaam": [names.get(c[0], f"Buurt {c[0][2:]}") for c in codes],
        "wijkcode": [c[1] for c in codes], "gemeentecode": [c[2] for c in codes],
        "gemeentenaam": [names.get(c[2], f"Gemeente {c[2][2:]}") for c in codes],
        "jaar": 2024, "water": "NEE", "aantalInwoners": inw.astype(int),
        "n_vertices": shapely.get_num_coordinates(wgs),
    })
    # a PDOK-like payload of statistics per feature (the real layer has ~220 properties)
    for i in range(48):
        frame[f"kenmerk{i:02d}"] = np.round(prng.uniform(0, 1000, n), 1)
    gdf = gpd.GeoDataFrame(frame, geometry=wgs, crs="EPSG:4326")
    work.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    gdf.to_parquet(tmp)
    tmp.replace(path)
    log(f"  gegenereerd in {time.perf_counter() - t0:.1f} s -> {path.name}")
    return gdf


def features(gdf: gpd.GeoDataFrame, *, with_properties: bool = True) -> list[dict]:
    """PDOK-style GeoJSON features (full precision)."""
    props = [c for c in gdf.columns if c not in ("geometry", "n_vertices")]
    geo = json.loads(gpd.GeoSeries(gdf.geometry.values).to_json(to_wgs84=False, drop_id=True))["features"]
    recs = gdf[props].to_dict("records") if with_properties else [{} for _ in range(len(gdf))]
    out = []
    for i, (g, p) in enumerate(zip(geo, recs)):
        out.append({"type": "Feature", "id": f"buurten.{i + 1}",
                    "properties": {k: (v.item() if hasattr(v, "item") else v) for k, v in p.items()},
                    "geometry": g["geometry"]})
    return out


def raw_geojson_path(gdf: gpd.GeoDataFrame, work: Path = WORK, name: str = "raw") -> Path:
    """The naive raw GeoJSON (full precision, all properties), written once."""
    key = hashlib.sha256(pd.util.hash_pandas_object(gdf["buurtcode"]).values.tobytes()
                         + str(len(gdf)).encode()).hexdigest()[:10]
    path = work / f"nl_buurten_{name}_{key}.geojson"
    if not path.exists():
        fc = {"type": "FeatureCollection", "features": features(gdf)}
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(fc, fh, separators=(",", ":"))
        tmp.replace(path)
    return path


def dissolve(gdf: gpd.GeoDataFrame, by: str) -> gpd.GeoDataFrame:
    """Union of the buurten per ``by`` (coverage union: exact, fast)."""
    parts = []
    for key, grp in gdf.groupby(by, sort=True):
        parts.append((key, shapely.coverage_union_all(grp.geometry.values)))
    return gpd.GeoDataFrame({by: [p[0] for p in parts]}, geometry=[p[1] for p in parts], crs=gdf.crs)


if __name__ == "__main__":  # python bench/synth_nl.py [n]
    import sys
    g = generate(int(sys.argv[1]) if len(sys.argv) > 1 else N_DEFAULT)
    nv = g["n_vertices"]
    print(f"{len(g)} buurten; punten per buurt: mediaan {int(nv.median())}, p5 {int(nv.quantile(.05))}, "
          f"p95 {int(nv.quantile(.95))}; valide: {int(shapely.is_valid(g.geometry.values).sum())}")
