"""The Parquet/GeoParquet cache: round trips, atomic publication, damage detection."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from loaders.cache import ParquetStore
from loaders.demo import demo_table


@pytest.fixture
def table():
    return demo_table(2024, "GM9901")


def test_table_round_trip(tmp_path, table):
    st = ParquetStore(tmp_path)
    st.put_table("kwb_2024_GM9901", table)
    got = st.get_table("kwb_2024_GM9901")
    pd.testing.assert_frame_equal(table.data.reset_index(drop=True), got.data, check_dtype=False)
    a = table.missing.reset_index(drop=True).fillna("-")
    b = got.missing.fillna("-")
    assert (a.values == b.values).all()
    assert got.meta == table.meta
    assert st.keys() == ["kwb_2024_GM9901"]
    assert (tmp_path / next(tmp_path.glob("*.parquet")).name).stat().st_mode & 0o044


def test_rewrite_replaces_old_file(tmp_path, table):
    st = ParquetStore(tmp_path)
    st.put_table("k", table)
    st.put_table("k", table.select(table.data["level"] != "buurt"))
    assert len(list(tmp_path.glob("k.*.parquet"))) == 1
    assert (st.get_table("k").data["level"] != "buurt").all()


@pytest.mark.parametrize("where", [0.02, 0.25, 0.5, 0.75, 0.98])
def test_any_flipped_byte_is_detected(tmp_path, table, where):
    st = ParquetStore(tmp_path)
    st.put_table("k", table)
    (path,) = tmp_path.glob("k.*.parquet")
    raw = bytearray(path.read_bytes())
    raw[int(len(raw) * where)] ^= 0x01
    path.write_bytes(bytes(raw))
    assert st.get_table("k") is None
    assert not path.exists()


def test_truncated_and_leftover_temp_files(tmp_path, table):
    st = ParquetStore(tmp_path)
    st.put_table("k", table)
    (path,) = tmp_path.glob("k.*.parquet")
    path.write_bytes(path.read_bytes()[:1000])
    (tmp_path / ".k.abc.tmp").write_bytes(b"half a write")
    assert st.get_table("k") is None
    assert st.keys() == []


def test_geo_round_trip(tmp_path):
    st = ParquetStore(tmp_path)
    gdf = gpd.GeoDataFrame({"code": ["WK000101", "WK000102"], "name": ["A", "B"], "level": "wijk"},
                           geometry=[box(5, 52, 5.1, 52.1), box(5.1, 52, 5.2, 52.1)], crs="EPSG:4326")
    st.put_geo("geo_2024_wijk_GM0001", gdf, {"source_url": "http://x", "fetched_at": "2026-11-30"})
    got, meta = st.get_geo("geo_2024_wijk_GM0001")
    assert list(got["code"]) == ["WK000101", "WK000102"]
    assert got.crs.to_epsg() == 4326
    assert got.geometry.geom_equals(gdf.geometry).all()
    assert meta["source_url"] == "http://x"
    # it is GeoParquet: geopandas reads it directly
    (path,) = tmp_path.glob("geo_*.parquet")
    assert list(gpd.read_parquet(path)["code"]) == ["WK000101", "WK000102"]
