"""The cache: round trips, atomic publication, damage detection, checksums and stamps.

The generic tests run against every backend in :data:`BACKENDS`: the Parquet folder (the
embedded default) and PostgreSQL (:class:`loaders.cache_pg.PgStore`, on the session's
throwaway server with a fresh database per test). Damage is done per backend (bytes flipped in
the file, or in the ``bytea`` of the row) through :func:`_damage`."""

from __future__ import annotations

import io
import multiprocessing as mp
import time

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from shapely.geometry import box

from app import ui
from loaders import repository, stores
from loaders.cache import CacheStore, ParquetStore
from loaders.cache_pg import PgStore, StoreUnavailable
from loaders.demo import demo_table
from loaders.settings import get_settings

BACKENDS = ("parquet", "postgresql")


@pytest.fixture
def table():
    return demo_table(2024, "GM9901")


@pytest.fixture(params=BACKENDS)
def make_store(request, tmp_path):
    """A factory of stores on one fresh location of the backend (a second one = another process)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        return lambda: PgStore(url)
    return lambda: ParquetStore(tmp_path)


@pytest.fixture
def store(make_store) -> CacheStore:
    return make_store()


def _raw(st: CacheStore, key: str) -> bytes:
    """The stored bytes of ``key``."""
    if isinstance(st, PgStore):
        with psycopg.connect(st.url) as conn:
            row = conn.execute("SELECT data FROM buurtmonitor_cache WHERE key = %s", (key,)).fetchone()
        return bytes(row[0])
    assert isinstance(st, ParquetStore)
    (path,) = st.root.glob(f"{key}.*.parquet")
    return path.read_bytes()


def _damage(st: CacheStore, key: str, change) -> None:
    """Replace the stored bytes of ``key`` by ``change(bytes)``, behind the store's back."""
    data = change(_raw(st, key))
    if isinstance(st, PgStore):
        with psycopg.connect(st.url) as conn:
            conn.execute("UPDATE buurtmonitor_cache SET data = %s WHERE key = %s", (data, key))
        return
    assert isinstance(st, ParquetStore)
    (path,) = st.root.glob(f"{key}.*.parquet")
    path.write_bytes(data)


def _entries(st: CacheStore, key: str) -> int:
    """How many stored copies of ``key`` there are (files or rows)."""
    if isinstance(st, PgStore):
        with psycopg.connect(st.url) as conn:
            return int(conn.execute("SELECT count(*) FROM buurtmonitor_cache WHERE key = %s", (key,)).fetchone()[0])
    assert isinstance(st, ParquetStore)
    return len(list(st.root.glob(f"{key}.*.parquet")))


@pytest.mark.slow
def test_table_round_trip(store, table):
    store.put_table("kwb_2024_GM9901", table)
    got = store.get_table("kwb_2024_GM9901")
    pd.testing.assert_frame_equal(table.data.reset_index(drop=True), got.data, check_dtype=False)
    a = table.missing.reset_index(drop=True).fillna("-")
    b = got.missing.fillna("-")
    assert (a.values == b.values).all()
    assert got.meta == table.meta                                  # provenance kept
    assert store.keys() == ["kwb_2024_GM9901"]
    assert store.meta("kwb_2024_GM9901")["kind"] == "table"
    assert store.size_bytes() > 1000
    assert store.get_table("kwb_2024_GM0000") is None


def test_parquet_files_are_world_readable(tmp_path, table):
    st = ParquetStore(tmp_path)
    st.put_table("kwb_2024_GM9901", table)
    assert (tmp_path / next(tmp_path.glob("*.parquet")).name).stat().st_mode & 0o044


def test_rewrite_replaces_old_entry(store, table):
    store.put_table("k", table)
    store.put_table("k", table.select(table.data["level"] != "buurt"))
    assert _entries(store, "k") == 1
    assert (store.get_table("k").data["level"] != "buurt").all()


@pytest.mark.slow
@pytest.mark.parametrize("where", [0.02, 0.25, 0.5, 0.75, 0.98])
def test_any_flipped_byte_is_detected(store, table, where):
    store.put_table("k", table)

    def flip(raw: bytes) -> bytes:
        b = bytearray(raw)
        b[int(len(b) * where)] ^= 0x01
        return bytes(b)

    _damage(store, "k", flip)
    assert store.get_table("k") is None                            # never served
    assert _entries(store, "k") == 0 and store.keys() == []        # removed: fetched again


@pytest.mark.slow
def test_truncated_entry_is_detected(store, table):
    store.put_table("k", table)
    _damage(store, "k", lambda raw: raw[:1000])
    assert store.get_table("k") is None
    assert store.keys() == []


def test_leftover_temp_files_are_not_entries(tmp_path, table):
    st = ParquetStore(tmp_path)
    st.put_table("k", table)
    (tmp_path / ".k.abc.tmp").write_bytes(b"half a write")
    assert st.keys() == ["k"]
    assert "k" in st.checksums() and len(st.checksums()) == 1


def test_geo_round_trip(store):
    gdf = gpd.GeoDataFrame({"code": ["WK000101", "WK000102"], "name": ["A", "B"], "level": "wijk"},
                           geometry=[box(5, 52, 5.1, 52.1), box(5.1, 52, 5.2, 52.1)], crs="EPSG:4326")
    store.put_geo("geo_2024_wijk_GM0001", gdf, {"source_url": "http://x", "fetched_at": "2026-11-30"})
    got, meta = store.get_geo("geo_2024_wijk_GM0001")
    assert list(got["code"]) == ["WK000101", "WK000102"]
    assert got.crs.to_epsg() == 4326
    assert got.geometry.geom_equals(gdf.geometry).all()
    assert meta["source_url"] == "http://x" and meta["kind"] == "geo"
    # the stored bytes are GeoParquet: geopandas reads them directly
    assert list(gpd.read_parquet(io.BytesIO(_raw(store, "geo_2024_wijk_GM0001")))["code"]) == ["WK000101", "WK000102"]


def test_frame_round_trip_with_provenance(store):
    frame = pd.DataFrame({"area_code": ["BU1", None], "value": [1.5, None]})
    store.put_frame("eigen_GM0228_x", frame, {"provenance": "eigen gegevens van O&S"})
    got, meta = store.get_frame("eigen_GM0228_x")
    assert list(got["area_code"]) == ["BU1", None] and meta["provenance"] == "eigen gegevens van O&S"
    store.delete("eigen_GM0228_x")
    assert store.get_frame("eigen_GM0228_x") is None and store.keys() == []


@pytest.mark.slow
def test_checksums_and_stamp_follow_every_write(store, table):
    assert store.checksums() == {} and store.checksum("k") is None
    s0 = store.stamp()
    store.put_table("k", table)
    c1, s1 = store.checksum("k"), store.stamp()
    assert store.checksums() == {"k": c1} and s1 != s0
    store.put_table("k", table.select(table.data["level"] != "buurt"))      # other content
    assert store.checksum("k") != c1 and store.stamp() != s1
    s2 = store.stamp()
    store.put_table("other", table)
    s3 = store.stamp()
    store.delete("other")
    assert len({s0, s1, s2, s3}) == 4 and store.stamp() != s3


def _rewrite(make_store, key: str, table) -> None:
    make_store().put_table(key, table)


@pytest.mark.slow
def test_a_write_by_another_process_is_seen_by_entry_stamp(make_store, table, monkeypatch, tmp_path):
    """What running servers use: the stamp of an entry changes after another process (a
    scheduled fetch) rewrote it, once the listing is older than STAMP_MAX_AGE."""
    st = make_store()
    if isinstance(st, PgStore):
        monkeypatch.setenv("BUURTMONITOR_DATABASE_URL", st.url)
    else:
        monkeypatch.delenv("BUURTMONITOR_DATABASE_URL", raising=False)
        monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(st.root))
    assert isinstance(stores.open_cache(), type(st))
    st.put_table("kwb_2024_GM0228", table)
    before = stores.entry_stamp("kwb_2024_GM0228", max_age=0)
    assert before == st.checksum("kwb_2024_GM0228")
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_rewrite, args=(make_store, "kwb_2024_GM0228", table.select(table.data["level"] != "buurt")))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert stores.entry_stamp("kwb_2024_GM0228", max_age=3600) == before     # a fresh listing is trusted
    after = stores.entry_stamp("kwb_2024_GM0228", max_age=0)
    assert after != before and after == st.checksum("kwb_2024_GM0228")
    assert stores.entry_stamp("kwb_2024_GM9999", max_age=0) == "-"


def test_open_cache_chooses_by_database_url(monkeypatch, tmp_path):
    monkeypatch.delenv("BUURTMONITOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "c"))
    st = stores.open_cache()
    assert isinstance(st, ParquetStore) and st.root == tmp_path / "c"
    monkeypatch.setenv("BUURTMONITOR_DATABASE_URL", "  ")
    assert get_settings().database_url is None


def test_unreachable_database_is_a_dutch_message_without_the_password():
    with pytest.raises(StoreUnavailable, match="niet bereikbaar") as err:
        PgStore("postgresql://bm:geheim123@127.0.0.1:9/buurtmonitor", connect_timeout=1)
    assert "geheim123" not in str(err.value) and "127.0.0.1:9" in str(err.value)
    assert stores.entry_stamp("k", stores.Settings(**{**get_settings().__dict__,
                                                      "database_url": "postgresql://x@127.0.0.1:9/x"}),
                              max_age=0) == "?"


@pytest.mark.slow
def test_a_refresh_reaches_the_app_caches_without_a_restart(make_store, table, monkeypatch):
    """The dashboard's in-memory caches (app.ui.load_table, st.cache_data) serve a table that
    another process rewrote, within STAMP_MAX_AGE, without clearing or restarting anything;
    an entry that did not change is not read again."""
    st = make_store()
    if isinstance(st, PgStore):
        monkeypatch.setenv("BUURTMONITOR_DATABASE_URL", st.url)
    else:
        monkeypatch.delenv("BUURTMONITOR_DATABASE_URL", raising=False)
        monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(st.root))
    monkeypatch.setenv("BUURTMONITOR_OFFLINE", "1")
    monkeypatch.setattr(stores, "STAMP_MAX_AGE", 0.3)
    reads = []
    real = repository.load_table
    monkeypatch.setattr(repository, "load_table", lambda *a, **kw: reads.append(a) or real(*a, **kw))
    st.put_table("kwb_2024_GM0228", table)
    st.put_table("kwb_2023_GM0228", table)
    first, origin, _ = ui.load_table(2024, "GM0228")
    ui.load_table(2023, "GM0228")
    ui.load_table(2024, "GM0228")
    assert origin == "cache" and (first.data["level"] == "buurt").any()
    assert len(reads) == 2                                          # the second call is served from memory
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_rewrite, args=(make_store, "kwb_2024_GM0228", table.select(table.data["level"] != "buurt")))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    time.sleep(0.4)                                                 # older than STAMP_MAX_AGE
    fresh, origin, _ = ui.load_table(2024, "GM0228")
    assert origin == "cache" and not (fresh.data["level"] == "buurt").any()     # the refresh, no restart
    ui.load_table(2023, "GM0228")
    assert reads == [(2024, "GM0228"), (2023, "GM0228"), (2024, "GM0228")]    # 2023 unchanged: not read again
