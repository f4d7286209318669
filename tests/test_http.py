"""The pooled, per-request retrying HTTP layer (loaders.http) against a stand-in server."""

from __future__ import annotations

import threading
import time

import pytest

from devtools.standins._base import HttpError, StandinServer, json_response
from loaders import http
from loaders.settings import get_settings


class Echo(StandinServer):
    """Answers ``/n/<i>`` with ``{"i": i}``; ``/slow`` after a second; ``/missing`` 404."""

    def route(self, path, query, handler):
        if path == "/missing":
            raise HttpError(404, "not here")
        if path == "/slow":
            time.sleep(1.0)
        if path == "/retry-after":
            return json_response({"error": True}, status=503, headers={"Retry-After": "1"})
        return json_response({"path": path})


@pytest.fixture
def echo(monkeypatch):
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "3")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0.01")
    monkeypatch.setenv("BUURTMONITOR_TIMEOUT", "5")
    with Echo() as server:
        yield server


def test_a_transient_error_is_retried_for_that_request_only(echo):
    echo.fail_next(2, "503", path_contains="/n/2")
    s = get_settings()
    got = [http.get_json(f"{echo.url}/n/{i}", source="t", what="test", settings=s)["path"] for i in range(4)]
    assert got == ["/n/0", "/n/1", "/n/2", "/n/3"]
    # /n/2 three times (two 503s, then the answer); every other page exactly once
    assert [r for r in echo.request_log] == ["/n/0", "/n/1", "/n/2", "/n/2", "/n/2", "/n/3"]


def test_a_truncated_body_and_a_reset_are_retried(echo):
    echo.fail_next(1, "truncated", path_contains="/n/1")
    echo.fail_next(1, "reset", path_contains="/n/2")
    s = get_settings()
    assert http.get_json(f"{echo.url}/n/1", source="t", what="test", settings=s) == {"path": "/n/1"}
    assert http.get_json(f"{echo.url}/n/2", source="t", what="test", settings=s) == {"path": "/n/2"}


@pytest.mark.slow
def test_thirty_percent_random_faults_are_survived(echo, monkeypatch):
    """30 % random 503s and resets: every one of 60 requests succeeds (the default 4 retries
    per request: a request fails only after five faults in a row, p = 0.3^5 = 0.24 %)."""
    monkeypatch.delenv("BUURTMONITOR_RETRIES")
    assert get_settings().retries == 4
    echo.fail_randomly(0.3, ("503", "reset"), seed=7)
    s = get_settings()
    ok = sum(http.get_json(f"{echo.url}/n/{i}", source="t", what="test", settings=s)["path"] == f"/n/{i}"
             for i in range(60))
    assert ok == 60
    assert len(echo.request_log) > 60          # faults were really injected


@pytest.mark.slow
def test_retry_after_is_honoured(echo, monkeypatch):
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "1")
    t0 = time.monotonic()
    with pytest.raises(http.SourceUnavailable) as info:
        http.get_json(f"{echo.url}/retry-after", source="t2", what="Cijfers", settings=get_settings())
    assert time.monotonic() - t0 >= 0.9        # waited the server's Retry-After: 1 once
    assert echo.request_log == ["/retry-after", "/retry-after"]
    assert "HTTP 503" in str(info.value) and str(info.value).startswith("Cijfers")


def test_404_is_not_retried_and_says_so(echo):
    with pytest.raises(http.NotFound) as info:
        http.get_json(f"{echo.url}/missing", source="t", what="Tabel X", settings=get_settings())
    assert echo.request_log == ["/missing"]
    assert "niet gevonden" in str(info.value)


def test_unreachable_server_is_a_dutch_message(monkeypatch):
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
    with pytest.raises(http.SourceUnavailable) as info:
        http.get_json("http://127.0.0.1:9/x", source="t3", what="CBS", settings=get_settings())
    assert "geen verbinding" in str(info.value)


def test_offline_mode_never_goes_out(echo, monkeypatch):
    monkeypatch.setenv("BUURTMONITOR_OFFLINE", "1")
    with pytest.raises(http.SourceUnavailable, match="offline"):
        http.get_json(f"{echo.url}/n/1", source="t", what="CBS", settings=get_settings())
    assert echo.request_log == []


@pytest.mark.slow
def test_one_slow_request_does_not_hold_up_another(echo):
    """Two threads on one source's session: the fast request is not queued behind the slow."""
    s = get_settings()
    done: dict[str, float] = {}

    def fetch(path):
        t0 = time.monotonic()
        http.get_json(f"{echo.url}{path}", source="shared", what="t", settings=s)
        done[path] = time.monotonic() - t0

    slow = threading.Thread(target=fetch, args=("/slow",))
    slow.start()
    time.sleep(0.1)
    fetch("/n/1")
    slow.join()
    assert done["/n/1"] < 0.5 < done["/slow"]
