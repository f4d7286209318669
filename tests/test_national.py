"""All buurten of the Netherlands on one map (buurtmonitor.maps.national) and the performance
machinery behind the Kaart page: simplification for a national zoom, the disk cache of
simplified boundaries, the compact figure with its geometry served as a file, paging PDOK
page by page, and the page itself (demo and stand-ins).

Correctness only: speed is measured in ``bench/run.py``, never asserted here. Size bounds
are computed from the data (areas, vertices), not fixed numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import streamlit as st
from apptest_tools import canvas_data, canvas_elements
from streamlit.testing.v1 import AppTest

from app import static_route
from buurtmonitor import formatting, geo
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps import classes as mapclasses
from buurtmonitor.maps import national
from buurtmonitor.maps.geometry import prepare_geometry
from buurtmonitor.maps.legend import LEGEND_MISSING
from buurtmonitor.model import FICTITIOUS_LABEL
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR, CbsODataServer, table_from_shared_kwb2024
from devtools.standins.pdok import PdokServer
from devtools.standins.shared_data import require_shared
from loaders import static_files
from loaders.cache import ParquetStore

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "pages" / "kaart.py"
from devtools import synth_nl  # noqa: E402  (the benchmark's generator of detailed buurt polygons)

TOPO_2014 = "geo_cbs_topojson_2014_2015/Buurt_2014_layer_q1e3.topojson"


@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> gpd.GeoDataFrame:
    """600 generated buurten with ~100-300 vertices each (a valid coverage), PDOK-like."""
    return synth_nl.generate(600, work=tmp_path_factory.mktemp("synth"), log=lambda m: None)


def _boundaries(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": gdf["buurtcode"], "name": gdf["buurtnaam"],
                             "gemeente_code": gdf["gemeentecode"]}, geometry=gdf.geometry.values, crs=gdf.crs)


def _frame(codes, names, seed=1, missing_every=17) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(codes)
    val = np.round(rng.uniform(0, 60, n), 3)
    miss = np.arange(n) % missing_every == 0
    inw = np.round(rng.uniform(20, 4000, n))
    return pd.DataFrame({"code": list(codes), "name": list(names), "level": "buurt",
                         "value": np.where(miss, np.nan, val), "n": inw,
                         "missing": np.where(miss, "geheim", None), "small_n": inw < 100})


# ------------------------------------------------------------------------------ geometry
def test_prepare_national_simplifies_one_feature_per_buurt(generated):
    raw = _boundaries(generated)
    web, rep = geo.prepare_national(raw)
    assert list(web["code"]) == list(raw["code"])                    # one per buurt, same order
    assert not web.geometry.is_empty.any() and shapely.is_valid(web.geometry.values).all()
    assert set(web.geom_type) <= {"Polygon", "MultiPolygon"}
    n_raw = shapely.get_num_coordinates(raw.geometry.values).sum()
    n_web = shapely.get_num_coordinates(web.geometry.values).sum()
    assert rep["vertices_in"] == n_raw and rep["vertices_out"] == n_web
    assert n_web < n_raw / 5                                          # 100 m at a national zoom
    xy = shapely.get_coordinates(web.geometry.values)
    assert np.array_equal(xy, np.round(xy, geo.NATIONAL_DECIMALS))   # 4 decimals
    # still a coverage: parts add up to the union, and the country keeps its area
    a, b = raw.to_crs(28992).geometry.values, web.to_crs(28992).geometry.values
    ub = shapely.union_all(b)
    assert abs(shapely.area(b).sum() / ub.area - 1) < 0.01
    assert abs(ub.area / shapely.union_all(a).area - 1) < 0.02


def test_prepare_national_keeps_collapsing_areas_and_drops_slivers():
    big = shapely.box(0, 0, 1000, 1000)
    sliver = shapely.box(1000, 0, 1000.5, 3)           # 1.5 m²: a sliver part of "B"
    tiny = shapely.box(2000, 0, 2003, 3)               # a whole area of 9 m²
    gdf = gpd.GeoDataFrame({"code": ["A", "B", "C"], "name": ["a", "b", "c"]},
                           geometry=[big, shapely.MultiPolygon([shapely.box(1000, 500, 1500, 1000), sliver]), tiny],
                           crs="EPSG:28992")
    web, rep = geo.prepare_national(gdf)
    assert list(web["code"]) == ["A", "B", "C"] and not web.geometry.is_empty.any()
    assert web.geometry.iloc[1].geom_type == "Polygon"                # the sliver part is gone
    assert set(web.geom_type) <= {"Polygon", "MultiPolygon"}
    kept = geo.drop_slivers([shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 5.1, 5.1)])], 10.0)
    assert kept[0].geom_type == "Polygon" and kept[0].area == 1       # never empty: the largest part stays


def test_make_valid_survives_what_geos_refuses():
    bad = shapely.from_wkt("MULTIPOLYGON (((1 1, 1 1, 1 1, 1 1)), ((0 0, 2 0, 2 2, 0 2, 0 0)))")
    out = geo.make_valid(np.array([bad, shapely.box(0, 0, 1, 1)], dtype=object))
    assert all(shapely.is_valid(out)) and out[0].area == pytest.approx(4)


def test_real_coarse_2014_topojson_one_feature_per_buurt():
    shared = require_shared(TOPO_2014)
    raw = gpd.read_file("TopoJSON:" + str(shared / TOPO_2014)).set_crs("EPSG:4326")
    assert len(raw) == 11691
    empty = raw.geometry.is_empty
    assert int(empty.sum()) == 545 and int((~raw.geometry.is_valid).sum()) == 1344
    ok = raw[~empty]
    gdf = gpd.GeoDataFrame({"code": ok["statcode"].str.strip(), "name": ok["statnaam"]},
                           geometry=geo.make_valid(ok.geometry.values), crs="EPSG:4326")
    web, rep = geo.prepare_national(gdf)
    assert len(web) == len(gdf) == 11146 and web["code"].is_unique
    assert set(web.geom_type) <= {"Polygon", "MultiPolygon"} and not web.geometry.is_empty.any()
    geometry = national.prepare_geometry(web)
    assert len(geometry.geojson["features"]) == len(gdf)


# ------------------------------------------------------------------------------ figure
def test_national_figure_is_compact_and_geometry_is_a_file(generated, tmp_path):
    raw = _boundaries(generated)
    web, rep = geo.prepare_national(raw)
    geometry = national.prepare_geometry(web, key="test")
    assert geometry.parent is not None and geometry.parent.name == "gemeentegrenzen"
    url = static_files.publish_geojson(geometry, tmp_path)
    assert url.startswith(f"{static_files.URL_PATH}/") and url.endswith(".json")
    assert static_files.publish_geojson(geometry, tmp_path) == url   # content-addressed
    file_fc = json.loads(static_files.static_path(url, tmp_path).read_bytes())
    assert [f["id"] for f in file_fc["features"]] == list(web["code"])       # one feature per buurt
    assert all(f["properties"]["n"] for f in file_fc["features"])           # names for the hover
    frame = _frame(geometry.codes, [geometry.names[c] for c in geometry.codes])
    glyphs = static_files.publish_glyphs(tmp_path)           # the names' glyphs: a served file too
    fig = mapping.choropleth(geometry, frame, "pct_herkomst_buiten_europa", level="buurt_nl",
                             geojson_url=url, compact=True, selected=geometry.codes[3], glyphs=glyphs)
    spec = json.loads(fig.to_json())
    main, miss = spec["data"][0], spec["data"][1]
    assert main["type"] == miss["type"] == "choroplethmap"
    assert main["geojson"] == url and miss["geojson"] == url                 # no geometry inline
    n_missing = int(frame["value"].isna().sum())
    assert len(main["locations"]) == len(frame) - n_missing and len(miss["locations"]) == n_missing
    assert set(main["locations"]) | set(miss["locations"]) == set(geometry.codes)
    assert "%{properties.n}" in main["hovertemplate"] and "geen waarde" in miss["hovertemplate"]
    assert spec["layout"]["meta"]["compact"] is True
    assert any(t.get("name", "").startswith("geselecteerd") for t in spec["data"])
    # size bounds from the data: per area a code and a few numbers; the outlines as float32
    spec_bytes = len(fig.to_json().encode())
    code_len = max(len(c) for c in geometry.codes)
    outline_points = len(geometry.parent.lon)
    bound = len(geometry.codes) * (code_len + 4 + 16) + outline_points * 2 * 4 * 4 / 3 + 25_000
    assert spec_bytes < bound, (spec_bytes, bound)
    file_bytes = static_files.static_path(url, tmp_path).stat().st_size
    vertices = shapely.get_num_coordinates(web.geometry.values).sum()
    name_len = max(len(str(n)) for n in web["name"])
    assert file_bytes < vertices * 20 + len(web) * (110 + code_len + name_len)
    # against the raw GeoJSON with properties (the naive way): far smaller
    raw_bytes = len(json.dumps({"type": "FeatureCollection", "features": synth_nl.features(generated)}))
    assert spec_bytes + file_bytes < raw_bytes / 10


def test_with_inline_geojson_for_exports(generated):
    web, _ = geo.prepare_national(_boundaries(generated))
    geometry = national.prepare_geometry(web)
    frame = _frame(geometry.codes, [geometry.names[c] for c in geometry.codes])
    fig = mapping.choropleth(geometry, frame, "pct_herkomst_buiten_europa", compact=True,
                             geojson_url="buurtmonitor/geo/x.json")
    inline = mapping.with_inline_geojson(fig, geometry)
    for tr in inline.data:
        if tr.type == "choroplethmap":
            assert isinstance(tr.geojson, dict)
            assert [f["id"] for f in tr.geojson["features"]] == [str(c) for c in tr.locations]
    assert isinstance(fig.data[0].geojson, str)                              # the original is untouched


def test_compact_inline_names_and_clicks_on_missing_areas(generated):
    web, _ = geo.prepare_national(_boundaries(generated))
    geometry = national.prepare_geometry(web)
    frame = _frame(geometry.codes, [geometry.names[c] for c in geometry.codes])
    fig = mapping.choropleth(geometry, frame, "pct_herkomst_buiten_europa", compact=True)
    main = fig.data[0]
    feats = main.geojson["features"]
    assert all("n" in f["properties"] for f in feats) and len(feats) == len(main.locations)
    missing = fig.data[1].locations[0]
    event = {"selection": {"points": [{"location": missing, "curve_number": 1}]}}
    assert mapping.clicked_code(event, geometry.codes) == missing
    assert mapping.clicked_code(event) is None                              # curve 1 without codes


def test_gemeente_view_figure_unchanged_contract(generated):
    """The gemeente views keep customdata [code, value], the full hover text and the grey
    hatching; line traces are float32 arrays (compact, NaN between parts)."""
    mine = generated[generated["gemeentecode"] == generated["gemeentecode"].iloc[0]]
    web = geo.prepare_for_web(_boundaries(mine), "buurt")
    geometry = prepare_geometry(web, "buurt")
    frame = _frame(geometry.codes, [geometry.names[c] for c in geometry.codes], missing_every=5)
    fig = mapping.choropleth(geometry, frame, "pct_herkomst_buiten_europa", level="buurt")
    spec = json.loads(fig.to_json())
    main = spec["data"][0]
    assert main["geojson"]["features"] and len(main["customdata"]) == len(geometry.codes)
    values = {cd[0]: cd[1] for cd in main["customdata"]}
    for c, v in zip(frame["code"], frame["value"]):
        assert (values[c] is None) if math.isnan(v) else values[c] == pytest.approx(v)
    assert "Reden:" in main["hovertext"][list(frame["value"].isna()).index(True)]
    hatch = next(t for t in fig.data if t.name.startswith(LEGEND_MISSING) or t.name.startswith("geen gegevens"))
    assert hatch.lon.dtype == np.float32 and np.isnan(hatch.lon).any()
    # the hatching is computed once per set of areas
    assert any(isinstance(k, tuple) and k[0] == "hatch" for k in geometry.cache)


def test_natural_breaks_on_many_values_uses_a_sample():
    rng = np.random.default_rng(3)
    v = np.concatenate([rng.exponential(8, 20_000), [np.nan] * 10])
    c = mapclasses.classify(v, "natural_breaks", 5)
    assert c.k == 5 and c.edges[0] == pytest.approx(np.nanmin(v)) and c.edges[-1] == pytest.approx(np.nanmax(v))
    assert list(c.edges) == sorted(c.edges) and (c.idx[:-10] >= 0).all() and (c.idx[-10:] == -1).all()


# ------------------------------------------------------------------------------ data path
def test_pdok_national_buurten_page_by_page(generated, cbs_env, tmp_path):
    from loaders import pdok, repository
    server = PdokServer()
    server.add_collection(2024, "buurten", synth_nl.features(generated))
    with server, CbsODataServer([]) as cbs:  # CBS answers: not the demo-only mode
        cbs_env(cbs=cbs, pdok=server, BUURTMONITOR_RETRIES="0", BUURTMONITOR_CACHE_DIR=str(tmp_path / "cache"))
        gdf, prov = pdok.fetch_boundaries(2024, "buurt", None, page_size=250)
        # the country in bbox strips side by side (BUURTMONITOR_PDOK_CONCURRENCY, default 4): every
        # strip pages on its own, so at most one part-filled page per strip more than in one go
        assert prov["pages"] == len(server.requests_to("/buurten/items"))
        assert math.ceil(len(generated) / 250) <= prov["pages"] <= math.ceil(len(generated) / 250) + 4
        assert list(gdf.columns) == pdok.COLUMNS and len(gdf) == len(generated) and gdf["code"].is_unique
        # the repository: raw and simplified boundaries in the cache; the second time from there
        first = repository.load_web_boundaries(2024, "buurt", None, national=True)
        assert first.origin == "pdok" and len(first.gdf) == len(generated)
        keys = ParquetStore(tmp_path / "cache").keys()
        assert repository.geo_key(2024, "buurt", None) in keys
        assert any(k.startswith("web_2024_buurt_nl_t100_d4") for k in keys)
        n_requests = len(server.request_log)
        again = repository.load_web_boundaries(2024, "buurt", None, national=True)
        assert again.origin == "cache" and len(server.request_log) == n_requests
        assert again.meta["web"]["vertices_out"] < again.meta["web"]["vertices_in"]
        # boundaries fetched again (new checksum): the simplified entry is made again
        repository.load_boundaries(2024, "buurt", None, refresh=True)
        remade = repository.load_web_boundaries(2024, "buurt", None, national=True)
        assert remade.origin == "cache" and remade.meta["source_checksum"] != again.meta["source_checksum"]


def test_demo_mode_national_buurt_boundaries(monkeypatch, tmp_path):
    from loaders import repository
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    got = repository.load_boundaries(2024, "buurt", None)          # no network, no cache: the demo
    assert got.origin == "demo" and got.gdf["code"].str.startswith("BU99").all()
    demo = repository.load_web_boundaries(2024, "buurt", None, national=True, demo=True)
    assert demo.origin == "demo" and list(demo.gdf["code"]) == list(got.gdf["code"])
    assert demo.meta["fictitious"] and demo.meta["web"]["national"]


def test_demo_keyword_gives_the_fictitious_country_even_with_real_data_in_the_cache(monkeypatch, tmp_path):
    from loaders import repository
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    got = repository.load_table(2024, "alle", demo=True)
    assert got.origin == "demo" and got.table.meta.fictitious
    assert set(got.table.data["level"]) >= {"buurt", "wijk", "gemeente"}
    web = repository.load_web_boundaries(2024, "buurt", None, national=True, demo=True)
    assert web.origin == "demo" and web.gdf["code"].str.startswith("BU99").all()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.parquet"))


# ------------------------------------------------------------------------------ page
def _run(**params) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _figure(at) -> dict:
    charts = at.get("plotly_chart")
    assert charts, "geen kaart op de pagina"
    return json.loads(charts[0].proto.spec)


def test_page_national_buurt_view_in_demo(monkeypatch, tmp_path):
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    at = _run(niveau="buurt_nl")
    assert at.sidebar.radio(key="w_niveau").value == "buurt_nl"
    assert FICTITIOUS_LABEL in "\n".join(str(w.value) for w in at.warning)
    fig = _figure(at)
    main = fig["data"][0]
    from loaders import repository
    demo = repository.demo_boundaries(2024, "buurt", None)
    assert sorted(main["locations"]) == sorted(demo["code"])                 # every demo buurt once
    assert fig["layout"]["meta"]["level"] == "buurt_nl"
    assert any(t.get("name") == "gemeentegrenzen" for t in fig["data"])
    assert "Nederland" in "\n".join(str(c.value) for c in at.caption)
    # another indicator: same geometry, other colours
    at.sidebar.selectbox(key="w_indicator").set_value("pct_herkomst_europa").run()
    assert not at.exception and _figure(at)["layout"]["meta"]["indicator"] == "pct_herkomst_europa"





@pytest.mark.slow
def test_page_national_buurt_view_real_data(monkeypatch, tmp_path):
    """Stand-in CBS (real KWB 2024 extract) and a stand-in PDOK with 3,000 generated buurten
    carrying real codes: the canvas map (from 2,500 areas on), its geometry and the gemeente
    borders served as files, one feature per buurt, data far smaller than the geometry; with
    the canvas switched off the compact plotly figure does the same."""
    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}")
    table = table_from_shared_kwb2024(shared)
    codes = [str(r["Codering_3"]).strip() for r in table.rows if str(r["Codering_3"]).startswith("BU")]
    gdf = synth_nl.generate(3000, real_codes=codes, work=tmp_path / "synth", log=lambda m: None)
    raw_bytes = len(json.dumps({"type": "FeatureCollection", "features": synth_nl.features(gdf)}))
    pdok_server = PdokServer()
    pdok_server.add_collection(2024, "buurten", synth_nl.features(gdf))
    with CbsODataServer([table]) as cbs_server, pdok_server:
        monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
        monkeypatch.setenv("CBS_ODATA_URL", cbs_server.url)
        monkeypatch.setenv("PDOK_URL", pdok_server.url)
        monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
        monkeypatch.setitem(static_route._SERVED, "mounted", True)         # as under `streamlit run`
        params = dict(jaar="2024", gemeente="GM0228", niveau="buurt_nl", indicator="pct_herkomst_buiten_europa")
        at = _run(**params)
        assert not at.get("plotly_chart")                                   # no WebGL map
        data = canvas_data(at)
        assert data["url"].startswith("buurtmonitor/geo/") and data["geojson"] is None
        path = static_files.static_path(data["url"])
        assert path.parent == tmp_path / "cache" / "static" / "geo"         # under the cache, not the code
        fc = json.loads(path.read_bytes())
        assert len(fc["features"]) == 3000 and len({f["id"] for f in fc["features"]}) == 3000
        assert data["codes"] is None                       # per-area lists in the order of the file
        assert data["focus"] == [{"label": "Ede", "prefix": "BU0228"}]   # "Naar Ede" on the map
        assert set(gdf["buurtcode"]) == {f["id"] for f in fc["features"]}
        assert len(data["cls"]) == len(data["txt"]) == len(data["n"]) == 3000
        assert all(0 <= i < 3000 for i in data["small"])
        # the values behind the colours are CBS's: the same as the table tab, area by area
        rows = {str(r["Codering_3"]).strip(): r for r in table.rows}
        ind = load_catalogue().indicators["pct_herkomst_buiten_europa"]
        for code, txt, cls in list(zip([f["id"] for f in fc["features"]], data["txt"], data["cls"]))[:400]:
            r = rows.get(code)
            if cls >= 0:
                pct = 100 * r["BuitenEuropa_19"] / r["AantalInwoners_5"]
                assert txt == formatting.value(pct, ind.unit), (code, txt, pct)
            else:
                assert txt and not txt[0].isdigit()                           # a reason, never 0
        parent = data["parent"]
        assert parent["label"] == "gemeentegrenzen" and parent["url"].startswith("buurtmonitor/geo/")
        lines = json.loads(static_files.static_path(parent["url"]).read_bytes())["lines"]
        assert lines and all(len(part) % 2 == 0 and len(part) >= 4 for part in lines)
        data_bytes = len(canvas_elements(at)[0].proto.json.encode())
        assert data_bytes < 3000 * 40 + 20_000 and data_bytes + path.stat().st_size < raw_bytes / 10
        # the area picker offers the buurten of the gemeente in the sidebar, not all of them
        picker = at.selectbox(key="kaart_gebied")
        assert picker.options and all("BU0228" in o for o in picker.options)

        # the plotly map (canvas off): the compact figure on the same served file
        monkeypatch.setenv("BUURTMONITOR_CANVAS_MIN_AREAS", "100000")
        at = _run(**params)
        fig = _figure(at)
        main = fig["data"][0]
        assert fig["layout"]["meta"]["compact"] is True
        assert main["geojson"] == data["url"]
        on_map = set(main["locations"]) | set(fig["data"][1]["locations"] if fig["data"][1]["type"] == "choroplethmap" else [])
        assert on_map == set(gdf["buurtcode"])
        spec_bytes = len(at.get("plotly_chart")[0].proto.spec.encode())
        assert spec_bytes < 3000 * 40 + 200_000 and spec_bytes + path.stat().st_size < raw_bytes / 10
