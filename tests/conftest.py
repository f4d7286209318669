"""Shared pytest fixtures: stand-in CBS/PDOK servers, an empty cache, endpoint env vars.

Servers are session-scoped: a test that injects faults or reads ``request_log`` should call
``server.reset()`` first (or use the function-scoped ``cbs_kwb2024``/``pdok_ede`` wrappers,
which reset before and after the test).
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from devtools.postgres_server import pg_bindir, postgres_server
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR, CbsODataServer, table_from_shared_kwb2024
from devtools.standins.pdok import (
    EDE_WIJKEN_2024,
    GEMEENTEN_2022,
    PdokServer,
    features_from_shared_ede_wijken,
    features_from_shared_gemeenten_2022,
)
from devtools.standins.shared_data import REQUIRE_VAR, require_shared

#: modules whose tests start Chromium (static export, packs), run the CLI in subprocesses or build
#: national geometry: every test in them counts as slow. The fast lane
#: (``pytest -m "not browser and not slow"``) leaves them out; CI runs everything.
SLOW_MODULES = {"test_national.py", "test_cli_export.py", "test_page_lokale_kaart.py", "test_briefing.py",
                "test_page_briefing.py", "test_cli.py", "test_export.py", "test_lokale_kaart.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def cbs_kwb2024_server():
    """CBS OData stand-in serving 85984NED (real KWB 2024 extract, first 10,000 rows)."""
    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}")
    with CbsODataServer([table_from_shared_kwb2024(shared)]) as server:
        yield server


@pytest.fixture
def cbs_kwb2024(cbs_kwb2024_server):
    """The session CBS stand-in with faults and request log reset around the test."""
    cbs_kwb2024_server.reset()
    yield cbs_kwb2024_server
    cbs_kwb2024_server.reset()


@pytest.fixture(scope="session")
def pdok_ede_server():
    """PDOK stand-in: wijken-en-buurten-2024/wijken (Ede's 17 wijken) and
    gebiedsindelingen/gemeente_gegeneraliseerd (345 gemeenten of 2022, jaarcode 2022)."""
    shared = require_shared(EDE_WIJKEN_2024, GEMEENTEN_2022)
    server = PdokServer()
    server.add_collection(2024, "wijken", features_from_shared_ede_wijken(shared))
    server.add_gebiedsindeling("gemeente_gegeneraliseerd", features_from_shared_gemeenten_2022(shared))
    with server:
        yield server


@pytest.fixture
def pdok_ede(pdok_ede_server):
    pdok_ede_server.reset()
    yield pdok_ede_server
    pdok_ede_server.reset()


# ------------------------------------------------------------------ PostgreSQL
@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL server for the session (:func:`devtools.postgres_server.postgres_server`):
    its admin URL. Skipped when PostgreSQL is not installed, except in CI (``.ci/run`` sets
    BUURTMONITOR_REQUIRE_SHARED=1), where that is a failure."""
    if pg_bindir() is None:
        why = "PostgreSQL is niet geïnstalleerd (Debian: apt-get install postgresql; make test doet dat als root)"
        if os.environ.get(REQUIRE_VAR) == "1":
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_database(pg_server):
    """``pg_database()`` makes a fresh, empty database on the session's server and returns its
    URL; every database made in the test is dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return pg_server.rsplit("/", 1)[0] + "/" + name

    yield make
    with psycopg.connect(pg_server, autocommit=True) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database):
    """A fresh, empty database on the session's server for one test (dropped afterwards)."""
    return pg_database()


@pytest.fixture
def empty_cache_dir(tmp_path, monkeypatch):
    """An empty cache folder, set as BUURTMONITOR_CACHE_DIR for the test."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def cbs_env(monkeypatch):
    """``cbs_env(cbs=server_or_url, pdok=server_or_url, **env)`` points CBS_ODATA_URL /
    PDOK_URL at stand-ins (objects with ``.url`` or plain URLs), clears
    BUURTMONITOR_OFFLINE and sets any extra env vars (e.g. BUURTMONITOR_RETRIES="1").
    Everything is undone after the test."""

    def apply(cbs=None, pdok=None, **env):
        monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
        if cbs is not None:
            monkeypatch.setenv("CBS_ODATA_URL", getattr(cbs, "url", cbs))
        if pdok is not None:
            monkeypatch.setenv("PDOK_URL", getattr(pdok, "url", pdok))
        for k, v in env.items():
            monkeypatch.setenv(k, str(v))

    return apply


# ------------------------------------------------------------------ page tests (AppTest)
@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    """The app caches loads, boundaries and the demo check per process: every test starts clean."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    """No CBS or PDOK (nothing listens on port 9), an empty cache and notes folder: the app
    runs on the fictitious Voorbeeldgemeente."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def real_env(cbs_kwb2024, monkeypatch, tmp_path):
    """The stand-in CBS server with the real KWB 2024 extract (85984NED); no PDOK."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", cbs_kwb2024.url)
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    return cbs_kwb2024
