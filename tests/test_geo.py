"""buurtmonitor.geo: topology-preserving simplification, rounding, GeoJSON for plotly."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from buurtmonitor import geo
from buurtmonitor.synthetic import generate
from devtools.standins.pdok import EDE_WIJKEN_2024, GEMEENTEN_2022
from devtools.standins.shared_data import require_shared

#: Largest overlap (m²) tolerated between two simplified neighbours: float noise only.
OVERLAP_EPS_M2 = 0.01


def _ede_wijken() -> gpd.GeoDataFrame:
    shared = require_shared(EDE_WIJKEN_2024)
    gdf = gpd.read_file(shared / EDE_WIJKEN_2024)
    return gpd.GeoDataFrame({"code": gdf["wijkcode"].str.strip(), "name": gdf["wijknaam"]},
                            geometry=gdf.geometry, crs=gdf.crs)


def _synthetic_buurten() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame.from_features(generate(2024).features["buurten"], crs="EPSG:4326")
    return gdf[["buurtcode", "buurtnaam", "geometry"]].rename(columns={"buurtcode": "code",
                                                                       "buurtnaam": "name"})


def _check_no_gaps_no_overlaps(original: gpd.GeoDataFrame, simplified: gpd.GeoDataFrame):
    a = original.to_crs(28992).geometry.values
    b = simplified.to_crs(28992).geometry.values
    assert len(a) == len(b) and shapely.is_valid(b).all() and not shapely.is_empty(b).any()
    ua, ub = shapely.union_all(a), shapely.union_all(b)
    assert abs(ub.area / ua.area - 1) < 0.005
    # no overlaps: the parts add up to the union, and no pair overlaps
    assert abs(shapely.area(b).sum() / ub.area - 1) < 1e-6
    tree = shapely.STRtree(b)
    for i, j in zip(*tree.query(b, predicate="intersects")):
        if i < j:
            assert shapely.intersection(b[i], b[j]).area < OVERLAP_EPS_M2, (i, j)
    # no new gaps: the union has no more holes than before
    holes = lambda u: sum(shapely.get_num_interior_rings(p) for p in shapely.get_parts(u))  # noqa: E731
    assert holes(ub) <= holes(ua)
    # every area keeps roughly its own area
    assert np.allclose(shapely.area(b), shapely.area(a), rtol=0.05)


def _check_rounded(gdf: gpd.GeoDataFrame, decimals: int = 5):
    xy = shapely.get_coordinates(gdf.geometry.values)
    scaled = xy * 10 ** decimals
    assert np.abs(scaled - np.round(scaled)).max() < 1e-6
    assert np.array_equal(xy, np.round(xy, decimals))


def test_ede_wijken_prepare_for_web():
    raw = _ede_wijken()
    assert len(raw) == 17
    web = geo.prepare_for_web(raw, "wijk")
    assert web.crs.to_epsg() == 4326 and list(web["code"]) == list(raw["code"])
    _check_no_gaps_no_overlaps(raw, web)
    _check_rounded(web)
    assert shapely.coverage_is_valid(web.to_crs(28992).geometry.values)
    n_raw = shapely.get_num_coordinates(raw.geometry.values).sum()
    n_web = shapely.get_num_coordinates(web.geometry.values).sum()
    raw_bytes = geo.geojson_bytes(geo.to_geojson(raw))
    web_bytes = geo.geojson_bytes(geo.to_geojson(web))
    print(f"\nEde wijken: {n_raw} -> {n_web} punten, GeoJSON {raw_bytes} -> {web_bytes} bytes "
          f"({web_bytes / raw_bytes:.0%})")
    assert n_web < n_raw / 3 and web_bytes < raw_bytes / 4


def test_synthetic_buurten_sliver_repaired_and_simplified():
    raw = _synthetic_buurten()
    assert len(raw) == 37
    # the demo buurten are clipped Voronoi cells with float noise at the split buurt:
    # not a clean coverage, and a sliver gap inside
    assert not shapely.coverage_is_valid(raw.to_crs(28992).geometry.values)
    web = geo.prepare_for_web(raw, "buurt")
    _check_no_gaps_no_overlaps(raw, web)
    _check_rounded(web)
    assert shapely.coverage_is_valid(web.to_crs(28992).geometry.values)
    raw_bytes = geo.geojson_bytes(geo.to_geojson(raw))
    web_bytes = geo.geojson_bytes(geo.to_geojson(web))
    print(f"\nSynthetische buurten: GeoJSON {raw_bytes} -> {web_bytes} bytes ({web_bytes / raw_bytes:.0%})")
    assert web_bytes < raw_bytes


@pytest.mark.slow
def test_national_gemeenten_200m():
    shared = require_shared(GEMEENTEN_2022)
    g = gpd.read_file(shared / GEMEENTEN_2022)
    raw = gpd.GeoDataFrame({"code": g["statcode"]}, geometry=g.geometry, crs=g.crs)
    web = geo.prepare_for_web(raw, "gemeente")
    _check_rounded(web)
    a, b = raw.to_crs(28992).geometry.values, web.to_crs(28992).geometry.values
    assert abs(shapely.union_all(b).area / shapely.union_all(a).area - 1) < 0.005
    assert abs(shapely.area(b).sum() / shapely.union_all(b).area - 1) < 1e-6
    raw_bytes = geo.geojson_bytes(geo.to_geojson(raw))
    web_bytes = geo.geojson_bytes(geo.to_geojson(web))
    print(f"\nGemeenten 2022: GeoJSON {raw_bytes} -> {web_bytes} bytes ({web_bytes / raw_bytes:.0%})")
    assert web_bytes < raw_bytes / 3


def test_simplify_topology_keeps_crs_and_columns():
    raw = _synthetic_buurten()
    out = geo.simplify_topology(raw, 25)
    assert out.crs == raw.crs and list(out.columns) == list(raw.columns)
    rd = raw.to_crs(28992)
    out_rd = geo.simplify_topology(rd, 25)
    assert out_rd.crs.to_epsg() == 28992
    assert geo.simplify_topology(raw.iloc[:0], 10).empty


def test_independent_simplify_would_leave_gaps_coverage_simplify_does_not():
    """Why coverage simplification: two areas sharing a wiggly border, rings starting at
    different corners (as in real data). Simplifying each on its own opens gaps and
    overlaps; simplify_topology does not."""
    xs = np.linspace(0, 1000, 200)
    wiggle = [(x, 500 + 3 * np.sin(x / 7) + 15 * np.sin(x / 90)) for x in xs]
    south = shapely.Polygon([(0, 0), (1000, 0), *wiggle[::-1]])
    north = shapely.Polygon([(1000, 1000), (0, 1000), *wiggle])
    gdf = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[south, north], crs="EPSG:28992")
    naive = gdf.geometry.simplify(20).values
    assert naive[0].intersection(naive[1]).area > 10
    assert shapely.union_all(naive).area < 1e6 - 10
    good = geo.simplify_topology(gdf, 20).geometry.values
    assert shapely.get_num_coordinates(good).sum() < 40
    assert good[0].intersection(good[1]).area < 1e-6
    assert abs(shapely.union_all(good).area - 1e6) < 1e-3


def test_round_coords():
    g = gpd.GeoDataFrame({"code": ["X"]}, geometry=[box(5.123456789, 52.000001, 5.2, 52.1)],
                         crs="EPSG:4326")
    r = geo.round_coords(g, 5)
    _check_rounded(r)
    assert r.geometry.iloc[0].bounds == (5.12346, 52.0, 5.2, 52.1)
    r3 = geo.round_coords(g, 3)
    _check_rounded(r3, 3)


def test_to_geojson_compact_for_plotly():
    web = geo.prepare_for_web(_synthetic_buurten(), "buurt")
    fc = geo.to_geojson(web)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 37
    f = fc["features"][0]
    assert set(f) == {"type", "id", "properties", "geometry"} and f["properties"] == {}
    assert [f["id"] for f in fc["features"]] == list(web["code"])
    # a projected frame is converted to lon/lat
    fc_rd = geo.to_geojson(web.to_crs(28992))
    x, y = fc_rd["features"][0]["geometry"]["coordinates"][0][0]
    assert 3 < x < 8 and 50 < y < 54
    with pytest.raises(KeyError, match="statcode"):
        geo.to_geojson(web, id_col="statcode")


def test_tolerance_for():
    assert geo.tolerance_for("gemeente") == 200
    assert geo.tolerance_for("wijk") == 20
    assert geo.tolerance_for("buurt") == 10
    assert geo.tolerance_for("gemeente") > geo.tolerance_for("wijk") > geo.tolerance_for("buurt")
    with pytest.raises(ValueError, match="Onbekend niveau"):
        geo.tolerance_for("provincie")


def test_join_report():
    rep = geo.join_report(["GM0228", "WK022801 ", "WK022899", None, np.nan],
                          ["WK022801", "GM0228", "WK022802"])
    assert rep == {"missing_geometry": ["WK022899"], "missing_statistics": ["WK022802"], "matched": 2}
    assert geo.join_report([], []) == {"missing_geometry": [], "missing_statistics": [], "matched": 0}


def test_pure_no_mutation():
    raw = _synthetic_buurten()
    before = raw.geometry.copy()
    geo.prepare_for_web(raw, "buurt")
    assert all(a.equals_exact(b, 0) for a, b in zip(before, raw.geometry))


@pytest.mark.parametrize("level", ["wijk", "buurt"])
def test_prepare_idempotent_enough(level):
    web = geo.prepare_for_web(_synthetic_buurten(), level)
    again = geo.prepare_for_web(web, level)
    for a, b in itertools.islice(zip(web.geometry, again.geometry), 5):
        assert a.symmetric_difference(b).area < 1e-8
