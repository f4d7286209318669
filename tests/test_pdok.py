"""loaders.pdok against the PDOK stand-in: paging, gemeenten with fallback, water, CRS,
retries and failures."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
import shapely

from buurtmonitor.synthetic import generate
from devtools.standins.pdok import EDE_WIJKEN_2024, PdokServer
from devtools.standins.shared_data import require_shared
from loaders import pdok
from loaders.http import SourceUnavailable
from loaders.settings import get_settings

NL_BOUNDS = (3.2, 50.7, 7.3, 53.6)


def _settings():
    """Settings for tests with a fake session: online, no retries, no waiting."""
    return dataclasses.replace(get_settings(), offline=False, retries=0, backoff=0.0)


def _in_nl(gdf) -> bool:
    minx, miny, maxx, maxy = gdf.total_bounds
    return NL_BOUNDS[0] <= minx and maxx <= NL_BOUNDS[2] and NL_BOUNDS[1] <= miny and maxy <= NL_BOUNDS[3]


@pytest.fixture
def fast_retries(cbs_env):
    """Point PDOK_URL at a server; retries without waiting."""
    def apply(server, retries=2):
        cbs_env(pdok=server, BUURTMONITOR_BACKOFF="0", BUURTMONITOR_RETRIES=str(retries),
                BUURTMONITOR_TIMEOUT="5")
    return apply


@pytest.fixture
def ede_file_wijken():
    shared = require_shared(EDE_WIJKEN_2024)
    with open(shared / EDE_WIJKEN_2024, encoding="utf-8") as fh:
        return json.load(fh)["features"]


def test_ede_wijken_follow_next_links(pdok_ede, fast_retries, ede_file_wijken):
    fast_retries(pdok_ede)
    progress = []
    gdf, prov = pdok.fetch_boundaries(
        2024, "wijk", gemeente="GM0228", page_size=5, progress=lambda f, m: progress.append((f, m)))
    # 17 wijken in pages of 5: four requests, each the next link of the one before
    reqs = pdok_ede.requests_to("/collections/wijken/items")
    assert len(reqs) == 4
    assert "gemeentecode=GM0228" in reqs[0] and "limit=5" in reqs[0]
    assert [f"offset={o}" in r for o, r in zip((5, 10, 15), reqs[1:])] == [True] * 3
    assert list(gdf.columns) == pdok.COLUMNS
    assert len(gdf) == 17 and gdf["code"].is_unique
    expected = {f["properties"]["wijkcode"]: f["properties"] for f in ede_file_wijken}
    assert set(gdf["code"]) == set(expected)
    for row in gdf.itertuples():
        p = expected[row.code]
        assert row.name == p["wijknaam"] and row.level == "wijk" and row.gemeente_code == "GM0228"
        assert row.pdok_inwoners == p["aantalInwoners"]
        assert row.indelingswijziging == str(p["indelingswijzigingWijkenEnBuurten"])
    assert gdf.crs.to_epsg() == 4326 and _in_nl(gdf) and gdf.is_valid.all()
    # geometry unchanged (CRS84 in, EPSG:4326 out)
    src = shapely.geometry.shape(next(f for f in ede_file_wijken
                                      if f["properties"]["wijkcode"] == "WK022801")["geometry"])
    assert gdf.set_index("code").geometry["WK022801"].equals_exact(src, 1e-12)
    assert prov["n_features"] == 17 and prov["year"] == 2024 and prov["level"] == "wijk"
    assert prov["gemeente"] == "GM0228" and prov["pages"] == 4 and prov["fetched_at"]
    assert prov["source_url"].startswith(pdok_ede.url + "/cbs/wijken-en-buurten-2024/")
    assert gdf.attrs["provenance"] == prov
    assert progress and progress[-1][0] == 1.0


def test_default_limit_is_1000_and_single_page(pdok_ede, fast_retries):
    fast_retries(pdok_ede)
    gdf, _ = pdok.fetch_boundaries(2024, "wijk", gemeente="gm0228")
    assert len(gdf) == 17
    reqs = pdok_ede.requests_to("/collections/wijken/items")
    assert len(reqs) == 1 and "limit=1000" in reqs[0] and "f=json" in reqs[0]


def test_national_gemeenten_generalised(pdok_ede, fast_retries):
    fast_retries(pdok_ede)
    gdf, _ = pdok.fetch_boundaries(2022, "gemeente", page_size=100)
    assert len(gdf) == 345 and gdf["code"].str.fullmatch(r"GM\d{4}").all()
    assert (gdf["code"] == gdf["gemeente_code"]).all() and (gdf["level"] == "gemeente").all()
    assert gdf.set_index("code").loc["GM0228", "name"] == "Ede"
    reqs = pdok_ede.requests_to("gemeente_gegeneraliseerd/items")
    assert len(reqs) == 4 and "jaarcode=2022" in reqs[0]
    assert _in_nl(gdf)


def _synthetic_gemeenten_with_water() -> list[dict]:
    feats = [dict(f, properties=dict(f["properties"])) for f in generate(2024).features["gemeenten"]]
    water = dict(feats[1], properties={**feats[1]["properties"], "gemeentecode": "GM9999",
                                       "gemeentenaam": "Water", "water": "JA"})
    return feats + [water]


def test_gemeenten_fall_back_to_wijken_en_buurten_on_404(fast_retries):
    server = PdokServer()
    server.add_collection(2024, "gemeenten", _synthetic_gemeenten_with_water())
    with server:
        fast_retries(server)
        gdf, _ = pdok.fetch_boundaries(2024, "gemeente")
        assert server.requests_to("gemeente_gegeneraliseerd")  # tried first, 404
        assert server.requests_to("wijken-en-buurten-2024/ogc/v1/collections/gemeenten/items")
    assert len(gdf) == 12 and "GM9999" not in set(gdf["code"])  # water dropped
    assert gdf.set_index("code").loc["GM9901", "name"] == "Voorbeeldgemeente"
    assert gdf.set_index("code").loc["GM9901", "pdok_inwoners"] > 0


def test_gemeenten_fall_back_when_year_not_in_gebiedsindelingen(pdok_ede, fast_retries):
    """The stand-in has generalised gemeenten for 2022 only and no 2024 gemeenten collection:
    2024 gives an empty answer, then a 404 on the fallback -> a clear error."""
    fast_retries(pdok_ede)
    with pytest.raises(pdok.PdokUnavailable, match="PDOK kent geen gemeentegrenzen 2024"):
        pdok.fetch_boundaries(2024, "gemeente")
    assert pdok_ede.requests_to("jaarcode=2024")


def test_buurten_water_dropped_and_unknown_gemeente(fast_retries):
    feats = [dict(f, properties=dict(f["properties"])) for f in generate(2024).features["buurten"]]
    feats[0]["properties"]["water"] = "JA"
    server = PdokServer()
    server.add_collection(2024, "buurten", feats)
    with server:
        fast_retries(server)
        gdf, _ = pdok.fetch_boundaries(2024, "buurt", gemeente="GM9901", page_size=10)
        assert len(server.requests_to("/buurten/items")) == 4
        with pytest.raises(LookupError, match="GM0001"):
            pdok.fetch_boundaries(2024, "buurt", gemeente="GM0001")
    assert len(gdf) == len(feats) - 1 and feats[0]["properties"]["buurtcode"] not in set(gdf["code"])
    assert (gdf["gemeente_code"] == "GM9901").all()
    assert gdf["name"].str.len().gt(0).all()


@pytest.mark.slow
def test_retry_after_500_then_success(pdok_ede, fast_retries):
    fast_retries(pdok_ede, retries=2)
    pdok_ede.fail_next(1, "500", path_contains="offset=5")
    pdok_ede.fail_next(1, "truncated", path_contains="offset=10")
    gdf, _ = pdok.fetch_boundaries(2024, "wijk", gemeente="GM0228", page_size=5)
    assert len(gdf) == 17
    assert len(pdok_ede.requests_to("offset=5")) == 2 and len(pdok_ede.requests_to("offset=10")) == 2


def test_persistent_failure_is_pdok_unavailable_in_dutch(pdok_ede, fast_retries):
    fast_retries(pdok_ede, retries=1)
    pdok_ede.fail_next(10, "503")
    with pytest.raises(pdok.PdokUnavailable) as info:
        pdok.fetch_boundaries(2024, "wijk", gemeente="GM0228")
    msg = str(info.value)
    assert isinstance(info.value, SourceUnavailable)
    assert "PDOK" in msg and "niet bruikbaar" in msg and "na 2 pogingen" in msg
    assert len(pdok_ede.requests_to("/wijken/items")) == 2


def test_connection_refused_is_pdok_unavailable(fast_retries):
    server = PdokServer().start()
    url = server.url
    server.stop()
    fast_retries(url, retries=0)
    with pytest.raises(pdok.PdokUnavailable, match="geen verbinding"):
        pdok.fetch_boundaries(2024, "wijk", gemeente="GM0228")


def test_offline_mode_makes_no_request(pdok_ede, fast_retries, monkeypatch):
    fast_retries(pdok_ede)
    monkeypatch.setenv("BUURTMONITOR_OFFLINE", "1")
    with pytest.raises(pdok.PdokUnavailable, match="offline"):
        pdok.fetch_boundaries(2024, "wijk", gemeente="GM0228")
    assert pdok_ede.request_log == []


def test_bad_arguments():
    with pytest.raises(ValueError, match="niveau"):
        pdok.fetch_boundaries(2024, "provincie")
    with pytest.raises(ValueError, match="gemeentecode"):
        pdok.fetch_boundaries(2024, "wijk", gemeente="Ede")


class _FakeResponse:
    def __init__(self, body, status=200):
        self._body, self.status_code, self.headers = body, status, {}
        self.content = json.dumps(body).encode()

    def raise_for_status(self):
        pass

    def json(self):
        return self._body


class _LoopSession:
    """Every page links to the same next page: the loader must stop."""

    def __init__(self, feature):
        self.feature, self.calls = feature, 0

    def get(self, url, timeout=None, headers=None, **kw):
        assert timeout is not None
        self.calls += 1
        return _FakeResponse({"type": "FeatureCollection", "features": [self.feature],
                              "links": [{"rel": "next", "href": "/items?offset=1"}]})


def test_pagination_loop_and_page_cap():
    feat = generate(2024).features["wijken"][0]
    s = dataclasses.replace(_settings(), pdok_concurrency=1)   # one request at a time: exact counts
    sess = _LoopSession(feat)
    with pytest.raises(pdok.PdokUnavailable, match="kringverwijzing"):
        pdok.fetch_boundaries(2024, "wijk", settings=s, session=sess)
    assert sess.calls == 2

    class Endless(_LoopSession):
        def get(self, url, timeout=None, headers=None, **kw):
            self.calls += 1
            return _FakeResponse({"type": "FeatureCollection", "features": [self.feature],
                                  "links": [{"rel": "next", "href": f"/items?offset={self.calls}"}]})

    sess = Endless(feat)
    with pytest.raises(pdok.PdokUnavailable, match="meer dan 3 pagina"):
        pdok.fetch_boundaries(2024, "wijk", settings=s, session=sess, max_pages=3)
    assert sess.calls == 3

    # the national layer in 4 strips side by side: the loop check holds per strip, the others stop
    sess = _LoopSession(feat)
    with pytest.raises(pdok.PdokUnavailable, match="kringverwijzing"):
        pdok.fetch_boundaries(2024, "wijk", settings=dataclasses.replace(s, pdok_concurrency=4), session=sess)
    assert 2 <= sess.calls <= 8


def test_not_geojson_is_unavailable():
    class Html:
        def get(self, url, timeout=None, headers=None, **kw):
            return _FakeResponse(["not", "a", "collection"])

    with pytest.raises(pdok.PdokUnavailable, match="geen GeoJSON"):
        pdok.fetch_boundaries(2024, "wijk", settings=_settings(), session=Html())


def test_rd_new_crs_member_is_reprojected():
    """A PDOK answer in EPSG:28992 (``crs`` member, as with ``crs=`` or older exports)."""
    import geopandas as gpd

    feats = generate(2024).features["wijken"]
    src = gpd.GeoDataFrame.from_features(feats, crs=4326)
    rd = src.to_crs(28992)
    rd_feats = [{"type": "Feature", "properties": f["properties"],
                 "geometry": shapely.geometry.mapping(g)} for f, g in zip(feats, rd.geometry)]
    out = pdok.frame_from_features(rd_feats, "wijk", crs="urn:ogc:def:crs:EPSG::28992")
    assert out.crs.to_epsg() == 4326 and len(out) == 6
    for a, b in zip(out.geometry, src.geometry):
        assert a.symmetric_difference(b).area < 1e-9
    # lat/lon axis order (EPSG:4326 by the letter) is recognised and swapped
    latlon = [{"type": "Feature", "properties": f["properties"],
               "geometry": shapely.geometry.mapping(shapely.transform(g, lambda xy: xy[:, ::-1]))}
              for f, g in zip(feats, src.geometry)]
    out = pdok.frame_from_features(latlon, "wijk", crs="http://www.opengis.net/def/crs/EPSG/0/4326")
    assert _in_nl(out)
    assert out.geometry.iloc[0].equals_exact(src.geometry.iloc[0], 1e-12)


def test_boundaries_round_trip_through_the_cache(pdok_ede, fast_retries, tmp_path):
    from loaders.cache import ParquetStore

    fast_retries(pdok_ede)
    gdf, prov = pdok.fetch_boundaries(2024, "wijk", gemeente="GM0228")
    store = ParquetStore(tmp_path)
    store.put_geo("pdok_wijk_2024_GM0228", gdf, prov)
    back, meta = store.get_geo("pdok_wijk_2024_GM0228")
    assert meta["n_features"] == 17 and meta["source_url"] == prov["source_url"]
    assert back.crs.to_epsg() == 4326 and list(back["code"]) == list(gdf["code"])
    assert list(back["pdok_inwoners"]) == list(gdf["pdok_inwoners"])
    assert all(a.equals_exact(b, 0) for a, b in zip(back.geometry, gdf.geometry))


# ------------------------------------------------------------------------------ strips side by side
def test_strips_cover_every_longitude():
    for n in range(1, 9):
        strips = pdok.national_strips(n)
        assert len(strips) == n and strips[0][0] == -180.0 and strips[-1][2] == 180.0
        assert all(a[2] == b[0] for a, b in zip(strips, strips[1:]))      # no gap between strips
        assert all(b[1] == -90.0 and b[3] == 90.0 and b[0] < b[2] for b in strips)


class _CountingPdok(PdokServer):
    """The PDOK stand-in, each answer held 0.3 s, counting the requests open at the same time."""

    def __init__(self):
        super().__init__()
        self.open = self.most_open = 0

    def route(self, path, query, handler):
        with self._lock:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
        try:
            time.sleep(0.3)
            return super().route(path, query, handler)
        finally:
            with self._lock:
                self.open -= 1


@pytest.fixture(scope="module")
def national_buurten(tmp_path_factory):
    """600 generated buurten over the whole country (PDOK-like properties)."""
    from devtools import synth_nl
    return synth_nl.generate(600, work=tmp_path_factory.mktemp("synth"), log=lambda m: None)


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_national_buurten_in_strips_side_by_side(national_buurten, fast_retries, concurrency, monkeypatch):
    """All buurten of the country, asked in ``BUURTMONITOR_PDOK_CONCURRENCY`` bbox strips at the
    same time, pages of 100: every buurt exactly once with the geometry PDOK sent, never more
    requests open than the bound, and with a bound above 1 more than one at a time."""
    from devtools import synth_nl
    server = _CountingPdok()
    server.add_collection(2024, "buurten", synth_nl.features(national_buurten))
    with server:
        fast_retries(server)
        monkeypatch.setenv("BUURTMONITOR_PDOK_CONCURRENCY", str(concurrency))
        gdf, meta = pdok.fetch_boundaries(2024, "buurt", page_size=100)
        log = server.requests_to("/buurten/items")
    assert sorted(gdf["code"]) == sorted(national_buurten["buurtcode"]) and gdf["code"].is_unique
    want = national_buurten.set_index("buurtcode").geometry
    assert all(g.equals(want[c]) for c, g in zip(gdf["code"], gdf.geometry))
    assert server.most_open <= concurrency
    if concurrency > 1:
        assert server.most_open > 1
        assert len({r.split("bbox=")[1].split("&")[0] for r in log if "offset" not in r}) == concurrency
    else:
        assert not any("bbox" in r for r in log)
    assert meta["pages"] == len(log) and meta["n_features"] == 600


@pytest.mark.slow
def test_one_failing_strip_fails_the_layer_and_stops_the_others(national_buurten, fast_retries, monkeypatch):
    from devtools import synth_nl
    server = PdokServer()
    server.add_collection(2024, "buurten", synth_nl.features(national_buurten))
    with server:
        fast_retries(server, retries=0)
        monkeypatch.setenv("BUURTMONITOR_PDOK_CONCURRENCY", "4")
        server.fail_next(1, "500", path_contains="offset=30")    # the 4th page of one strip
        with pytest.raises(pdok.PdokUnavailable, match="niet bruikbaar"):
            pdok.fetch_boundaries(2024, "buurt", page_size=10)
        pages = len(server.requests_to("/buurten/items"))
    assert pages < 30                     # of about 64: the other strips stopped as well
