"""loaders.repository, the one data path: the demo keyword, the demo never touching the
network or the cache, typed fetch reports."""

from __future__ import annotations

import pandas as pd
import pytest

from loaders import demo, repository
from loaders.cache import ParquetStore
from loaders.cache_pg import PgStore


@pytest.fixture
def cbs_watched(cbs_kwb2024, cbs_env, empty_cache_dir):
    """CBS (and PDOK) at the stand-in, whose request log shows any network use."""
    cbs_env(cbs=cbs_kwb2024, pdok=cbs_kwb2024, BUURTMONITOR_RETRIES="0")
    return cbs_kwb2024


@pytest.mark.parametrize("scope", ["alle", "gemeenten", "GM9901"])
def test_demo_keyword_gives_the_fictitious_data_of_the_scope(cbs_watched, empty_cache_dir, scope):
    got = repository.load_table(2024, scope, demo=True)
    assert got.origin == "demo" and got.table.meta.fictitious and got.warning is None
    levels = set(got.table.data["level"])
    codes = set(got.table.data["code"])
    assert all(c.startswith(("NL", "GM99", "WK99", "BU99")) for c in codes), sorted(codes)[:5]
    if scope == "gemeenten":
        assert levels == {"land", "gemeente"} and len(codes) > 2
    elif scope == "alle":
        assert {"land", "gemeente", "wijk", "buurt"} <= levels
        assert len({c for c in codes if c.startswith("GM")}) > 1      # the fictitious "country"
    else:
        assert {c[:6] for c in codes if c.startswith("BU")} == {"BU9901"}
    assert cbs_watched.request_log == [] and list(empty_cache_dir.iterdir()) == []


def test_a_demo_gemeente_code_implies_the_demo(cbs_watched, empty_cache_dir):
    got = repository.load_table(2024, demo.DEMO_GEMEENTE)
    assert got.origin == "demo" and got.table.row("GM9901")["name"] == demo.DEMO_NAME
    assert cbs_watched.request_log == []


def test_the_demo_never_stands_in_for_a_real_gemeente():
    with pytest.raises(ValueError, match="fictieve demo"):
        repository.load_table(2024, "GM0228", demo=True)
    with pytest.raises(ValueError, match="fictieve demo"):
        repository.load_boundaries(2024, "wijk", "GM0228", demo=True)


@pytest.mark.slow
def test_without_demo_a_real_gemeente_comes_from_cbs_then_the_cache(cbs_watched, empty_cache_dir):
    first = repository.load_table(2024, "GM0228")
    again = repository.load_table(2024, "GM0228")
    assert (first.origin, again.origin) == ("cbs", "cache")
    assert not first.table.meta.fictitious
    assert repository.cached_scopes() == [(2024, "GM0228")]


def test_national_demo_boundaries_are_prepared_in_memory(cbs_watched, empty_cache_dir):
    web = repository.load_web_boundaries(2024, "buurt", None, national=True, demo=True)
    assert web.origin == "demo" and web.meta["fictitious"] is True
    assert web.meta["web"]["national"] is True
    raw = demo.demo_boundaries(2024, "buurt", None)
    assert set(web.gdf["code"]) <= set(raw["code"]) and len(web.gdf) > 0
    assert web.gdf.crs.to_epsg() == 4326
    wijken = repository.load_web_boundaries(2024, "wijk", "GM9901")
    assert wijken.origin == "demo" and set(wijken.gdf["gemeente_code"]) == {"GM9901"}
    assert cbs_watched.request_log == [] and ParquetStore(empty_cache_dir).keys() == []


def test_years_of_the_demo():
    assert repository.available_years("GM0228", demo=True) == list(demo.DEMO_YEARS)
    assert repository.available_years("GM9901") == list(demo.DEMO_YEARS)
    assert 2024 in repository.available_years("GM0228")


@pytest.mark.slow
def test_the_shared_store_serves_every_process_and_survives_cbs_down(cbs_kwb2024, pdok_ede, cbs_env,
                                                                     empty_cache_dir, pg_url, monkeypatch):
    """With BUURTMONITOR_DATABASE_URL the one data path keeps tables and boundaries in PostgreSQL
    (nothing in the cache folder); another process finds them there, also when CBS is down; the
    simplified map boundaries are made once and remade only when their source changes."""
    cbs_env(cbs=cbs_kwb2024, pdok=pdok_ede, BUURTMONITOR_RETRIES="0", BUURTMONITOR_DATABASE_URL=pg_url)
    first = repository.load_table(2024, "GM0228")
    geo = repository.load_boundaries(2024, "wijk", "GM0228")
    web = repository.load_web_boundaries(2024, "wijk", "GM0228")
    assert (first.origin, geo.origin, web.origin) == ("cbs", "pdok", "cache")   # web: made from the cached raw
    assert list(empty_cache_dir.iterdir()) == []
    shared = PgStore(pg_url)
    assert {"kwb_2024_GM0228", "geo_2024_wijk_GM0228"} <= set(shared.keys())
    assert web.meta["source_checksum"] == shared.checksum("geo_2024_wijk_GM0228")
    cbs_kwb2024.reset()
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")        # CBS and PDOK down now
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    again = repository.load_table(2024, "GM0228")
    assert again.origin == "cache"
    pd.testing.assert_frame_equal(again.table.data, first.table.data.reset_index(drop=True), check_dtype=False)
    assert again.table.meta == first.table.meta                          # provenance kept
    assert repository.load_web_boundaries(2024, "wijk", "GM0228").origin == "cache"
    assert repository.cached_scopes() == [(2024, "GM0228")]
    assert not repository.demo_mode_only()
