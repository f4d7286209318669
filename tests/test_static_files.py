"""The map files the browser fetches by URL (loaders.static_files, app.static_route): written
once, content-addressed, under the cache folder (never the code folder, which may be
read-only), and served by the route dashboard.py gives st.App, cached by the browser for good."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import shapely
from starlette.requests import Request

from app import maps as app_maps
from app import static_route
from buurtmonitor.maps.geometry import Lines, MapGeometry
from devtools.streamlit_server import streamlit_process
from loaders import static_files
from loaders.files import UnsafeTarget

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _in_code_folder(url: str) -> bool:
    """Whether a published file also lies in the code folder (where the old code wrote it)."""
    return (ROOT / "static" / "geo" / url.rsplit("/", 1)[-1]).exists()


def _geometry(n: int = 30) -> MapGeometry:
    shapes = {f"BU{i:08d}": shapely.box(5 + i * 0.01, 52, 5.01 + i * 0.01, 52.01) for i in range(n)}
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": c, "properties": {}, "geometry": shapely.geometry.mapping(g)}
        for c, g in shapes.items()]}
    return MapGeometry("buurt", fc, list(shapes), {c: f"Buurt {c[-2:]}" for c in shapes}, shapes,
                       (5.0, 52.0, 5.0 + n * 0.01, 52.01), Lines([5.0, 5.1, None], [52.0, 52.0, None], "grens"))


def test_files_go_under_the_cache_folder_content_addressed(cache):
    geometry = _geometry()
    url = static_files.publish_geojson(geometry)
    assert url.startswith(f"{static_files.URL_PATH}/") and static_files.NAME.match(url.rsplit("/", 1)[1])
    path = static_files.static_path(url)
    assert path is not None and path.parent == cache / "static" / "geo"
    assert json.loads(path.read_bytes()) == json.loads(json.dumps(geometry.named_geojson()))
    mtime = path.stat().st_mtime_ns
    assert static_files.publish_geojson(geometry) == url and path.stat().st_mtime_ns == mtime  # written once
    assert static_files.publish_lines(geometry.parent) != url
    assert not _in_code_folder(url)                                    # nothing in the code folder
    assert not list((cache / "static" / "geo").glob(".*.tmp"))          # atomic: no leftovers


def test_names_outside_the_content_addresses_are_refused(cache):
    assert static_files.static_path("buurtmonitor/geo/../../etc/passwd") is None
    assert static_files.static_path("buurtmonitor/geo/abc.json") is None
    with pytest.raises(ValueError):
        static_files.publish_bytes(b"{}", name="../x.json")
    # a symlink planted where a file would go is never written through
    folder = static_files.static_dir()
    folder.mkdir(parents=True)
    name = static_files.file_name(b"{}")
    os.symlink(cache / "elsewhere.json", folder / name)
    with pytest.raises(UnsafeTarget):
        static_files.publish_bytes(b"{}")
    assert not (cache / "elsewhere.json").exists()


def test_old_files_are_pruned(cache, monkeypatch):
    monkeypatch.setattr(static_files, "KEEP", 3)
    urls = [static_files.publish_bytes(json.dumps({"i": i}).encode()) for i in range(6)]
    left = sorted(p.name for p in static_files.static_dir().iterdir())
    assert len(left) == 3 and urls[-1].rsplit("/", 1)[1] in left


def test_the_app_serves_a_url_only_when_the_route_is_mounted(cache, monkeypatch):
    geometry = _geometry()
    monkeypatch.setenv("BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES", "0")
    monkeypatch.setitem(static_route._SERVED, "mounted", False)
    assert app_maps.geojson_url(geometry) is None                      # no route: inline
    assert not cache.exists()
    monkeypatch.setitem(static_route._SERVED, "mounted", True)
    url = app_maps.geojson_url(geometry)
    assert url and static_files.static_path(url).is_file()
    spec = app_maps.canvas_map_spec(geometry, _frame(geometry), "pct_herkomst_buiten_europa")
    assert spec.url == url and spec.geojson is None and spec.parent["url"].startswith("buurtmonitor/geo/")
    monkeypatch.setenv("BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES", "100000000")
    assert app_maps.geojson_url(geometry) is None                      # small: inline


def test_a_read_only_cache_folder_keeps_the_geometry_inline(cache, monkeypatch):
    monkeypatch.setenv("BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES", "0")
    monkeypatch.setitem(static_route._SERVED, "mounted", True)

    def refuse(*a, **k):
        raise PermissionError("alleen-lezen")
    monkeypatch.setattr(static_files, "write_atomic", refuse)
    assert app_maps.geojson_url(_geometry()) is None


def _frame(geometry: MapGeometry):
    import pandas as pd
    return pd.DataFrame({"code": geometry.codes, "name": [geometry.names[c] for c in geometry.codes],
                         "level": "buurt", "value": [float(i) for i in range(len(geometry.codes))],
                         "n": 500.0, "missing": None, "small_n": False})


def _get(path: str) -> tuple[int, dict, bytes]:
    scope = {"type": "http", "method": "GET", "path": f"/{path}", "headers": [],
             "path_params": {"name": path.rsplit("/", 1)[-1]}, "query_string": b""}
    response = asyncio.run(static_route.geo_file(Request(scope)))
    body = b""
    if hasattr(response, "path"):
        body = Path(response.path).read_bytes()
    return response.status_code, dict(response.headers), body


def test_the_route_serves_published_files_with_a_long_cache(cache):
    url = static_files.publish_bytes(b'{"a": 1}')
    status, headers, body = _get(url)
    assert status == 200 and body == b'{"a": 1}'
    assert headers["cache-control"] == static_route.CACHE_CONTROL and "immutable" in headers["cache-control"]
    assert headers["content-type"].startswith("application/json")
    assert _get("buurtmonitor/geo/ffffffffffffffffffff.json")[0] == 404
    assert _get("buurtmonitor/geo/..%2fsecret.json")[0] == 404


@pytest.mark.slow
def test_streamlit_run_mounts_the_route(tmp_path):
    """``streamlit run dashboard.py`` finds dashboard.app (st.App) and serves the cache folder's
    map files beside Streamlit's own routes, gzipped on the wire."""
    cache = tmp_path / "cache"
    data = json.dumps({"type": "FeatureCollection", "features": [{"id": str(i)} for i in range(300)]}).encode()
    url_path = static_files.publish_bytes(data, cache / "static" / "geo")
    with streamlit_process({"BUURTMONITOR_CACHE_DIR": str(cache)}) as (url, _proc):
        req = urllib.request.Request(f"{url}/{url_path}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=20) as r:
            raw = r.read()
            assert r.status == 200 and r.headers["Cache-Control"] == static_route.CACHE_CONTROL
            body = gzip.decompress(raw) if r.headers.get("Content-Encoding") == "gzip" else raw
            assert r.headers.get("Content-Encoding") == "gzip" and len(raw) < len(data)
        assert body == data
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}/{static_files.URL_PATH}/ffffffffffffffffffff.json", timeout=20)
        assert err.value.code == 404
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=20) as r:
            assert r.read() == b"ok"
    assert not _in_code_folder(url_path)
