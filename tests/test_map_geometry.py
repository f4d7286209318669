"""MapGeometry (buurtmonitor.maps.geometry): its memo is shared between sessions (the app keeps
one geometry per gemeente and level in ``st.cache_resource``), so it must hold under many
threads at once; and the one Web-Mercator fit of the maps."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import shapely

from buurtmonitor.maps.geometry import CACHE_MAX, MapGeometry, center_zoom, prepare_geometry

THREADS = 24


def _geometry() -> MapGeometry:
    shapes = {f"BU{i:08d}": shapely.box(5 + i * 0.01, 52, 5.01 + i * 0.01, 52.01) for i in range(4)}
    return MapGeometry("buurt", {"type": "FeatureCollection", "features": []}, list(shapes),
                       {c: c for c in shapes}, shapes, (5.0, 52.0, 5.04, 52.01))


def test_one_key_is_computed_once_and_every_thread_gets_the_same_object():
    geom = _geometry()
    calls = []
    start = threading.Barrier(THREADS)

    def make():
        calls.append(threading.get_ident())
        time.sleep(0.02)            # yield mid-way: without the lock every thread computes its own
        return object()

    def worker(_):
        start.wait()
        return geom.cached(("hatch", ("a",)), make)

    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(worker, range(THREADS)))
    assert len(calls) == 1
    assert all(g is got[0] for g in got)


def test_many_keys_from_many_threads_with_eviction_raise_nothing():
    geom = _geometry()
    start = threading.Barrier(THREADS)

    def worker(t):
        start.wait()
        out = []
        for i in range(CACHE_MAX * 2):
            key = ("lines", (t, i)) if i % 2 else ("hatch", (i,))
            out.append((key, geom.cached(key, lambda key=key: (time.sleep(0), key)[1])))
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for rs in pool.map(worker, range(THREADS)) for r in rs]
    assert all(key == value for key, value in results)
    assert len(geom.cache) <= CACHE_MAX and not geom._pending


def test_a_failing_computation_is_not_remembered_and_the_next_caller_tries_again():
    geom = _geometry()

    def boom():
        raise ValueError("kapot")

    with pytest.raises(ValueError):
        geom.cached("x", boom)
    assert geom.cached("x", lambda: 42) == 42 and not geom._pending


def test_a_copy_has_its_own_memo():
    geom = _geometry()
    geom.cached("k", lambda: 1)
    other = dataclasses.replace(geom, key="other")
    assert other.cache == {} and other._lock is not geom._lock
    assert other.cached("k", lambda: 2) == 2 and geom.cached("k", lambda: 3) == 1


def test_center_zoom_fits_the_bounds():
    centre, zoom = center_zoom((5.0, 52.0, 6.0, 52.5))
    assert centre == {"lon": 5.5, "lat": pytest.approx(52.25, abs=0.01)}
    assert 2.0 <= zoom <= 16.0
    # a narrower map zooms out; the clip keeps a single point on a sensible zoom
    assert center_zoom((5.0, 52.0, 6.0, 52.5), 300)[1] < zoom
    assert center_zoom((5.0, 52.0, 5.0, 52.0))[1] == 16.0
    assert center_zoom((5.0, 52.0, 6.0, 52.5), margin=-0.1)[1] == pytest.approx(zoom + 0.25, abs=0.011)


def test_prepare_geometry_of_nothing_is_empty():
    assert prepare_geometry(None, "wijk").empty
