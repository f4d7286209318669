"""One pooled HTTP session per source, retrying per request (urllib3 ``Retry``).

Every network call of the project goes through :func:`get_json` / :func:`get` with a session
from :func:`session_for`: connections are pooled per source (CBS v3, CBS v4, PDOK, ...), each
request has the configured (connect, read) timeout, and a connection reset, a timeout, a 429
or a 5xx is retried *for that request* with exponential backoff, honouring ``Retry-After``
(capped, so one answer cannot stall a page). A truncated or non-JSON body is retried the same
way. What is left after the retries becomes :class:`SourceUnavailable` with a Dutch message.

No lock is held here: sessions are shared between threads (urllib3's pool is thread-safe),
so one slow download never holds up another session's request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .settings import Settings, get_settings

log = logging.getLogger(__name__)

#: statuses retried per request (``Retry-After`` honoured for 429 and 503)
RETRY_STATUSES = (429, 500, 502, 503, 504)
#: at most this many seconds of ``Retry-After`` are honoured per retry
RETRY_AFTER_CAP = 10.0
#: connections kept per host in one source's pool
POOL_SIZE = 16


class SourceUnavailable(RuntimeError):
    """A data source could not be reached or gave an unusable answer (message in Dutch)."""


class NotFound(SourceUnavailable):
    """The source answered, but has no such resource (HTTP 404)."""


class _CappedRetry(Retry):
    """urllib3 ``Retry`` that honours ``Retry-After`` up to :data:`RETRY_AFTER_CAP` seconds."""

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        after = super().get_retry_after(response)
        return None if after is None else min(after, RETRY_AFTER_CAP)


def retry_policy(settings: Settings) -> Retry:
    """The per-request retry policy of ``settings`` (``BUURTMONITOR_RETRIES``, backoff)."""
    n = max(0, int(settings.retries))
    return _CappedRetry(total=n, connect=n, read=n, status=n, other=0,
                        backoff_factor=settings.backoff, backoff_max=30.0,
                        status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "HEAD"}),
                        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False)


_SESSIONS: dict[tuple[str, int, float], requests.Session] = {}
_SESSIONS_LOCK = threading.Lock()   # guards the dict only; never held during a request


def session_for(source: str, settings: Settings | None = None) -> requests.Session:
    """The pooled session of ``source`` (e.g. ``"cbs"``, ``"cbs4"``, ``"pdok"``) for the retry
    settings in force; made once per process and shared by all threads."""
    s = settings or get_settings()
    key = (source, int(s.retries), float(s.backoff))
    with _SESSIONS_LOCK:
        sess = _SESSIONS.get(key)
        if sess is None:
            sess = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=retry_policy(s))
            sess.mount("http://", adapter)
            sess.mount("https://", adapter)
            sess.headers["User-Agent"] = "Buurtmonitor"
            _SESSIONS[key] = sess
    return sess


def describe(exc: BaseException) -> str:
    """A short Dutch description of a network failure."""
    if isinstance(exc, requests.Timeout):
        return "de server antwoordde niet op tijd"
    if isinstance(exc, requests.exceptions.RetryError):
        return "de server bleef een fout geven"
    if isinstance(exc, requests.ConnectionError):
        return "geen verbinding (server onbereikbaar of verbinding verbroken)"
    if isinstance(exc, (json.JSONDecodeError, requests.exceptions.JSONDecodeError,
                        requests.exceptions.ChunkedEncodingError)):
        return "het antwoord was onvolledig of geen geldige JSON"
    if isinstance(exc, requests.HTTPError):
        resp = exc.response
        code = resp.status_code if resp is not None else "?"
        return f"de server gaf een fout (HTTP {code})"
    return f"{type(exc).__name__}: {exc}"


def get(url: str, *, source: str, what: str, params: dict[str, Any] | None = None,
        settings: Settings | None = None, stream: bool = False) -> requests.Response:
    """GET ``url`` through the pooled session of ``source``; raises :class:`NotFound` on 404
    and :class:`SourceUnavailable` on anything else that is not a 2xx after the retries."""
    s = settings or get_settings()
    if s.offline:
        raise SourceUnavailable(f"{what}: offline-modus staat aan (BUURTMONITOR_OFFLINE=1)")
    try:
        resp = session_for(source, s).get(url, params=params, timeout=(s.connect_timeout, s.timeout),
                                          stream=stream)
    except requests.RequestException as exc:
        raise SourceUnavailable(f"{what}: {describe(exc)}") from exc
    if resp.status_code == 404:
        raise NotFound(f"{what}: niet gevonden (HTTP 404)")
    if resp.status_code >= 400:
        err = requests.HTTPError(response=resp)
        raise SourceUnavailable(f"{what}: {describe(err)}") from err
    return resp


def get_json(url: str, *, source: str, what: str, params: dict[str, Any] | None = None,
             settings: Settings | None = None, sleep: Callable[[float], None] = time.sleep) -> Any:
    """:func:`get` and parse the body as JSON; a truncated or invalid body is fetched again
    (this request only) up to ``BUURTMONITOR_RETRIES`` times."""
    s = settings or get_settings()
    last: BaseException | None = None
    for attempt in range(max(0, int(s.retries)) + 1):
        try:
            resp = get(url, source=source, what=what, params=params, settings=s)
            return resp.json()
        except (ValueError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:   # JSONDecodeError is a ValueError
            last = exc
            if attempt < s.retries:
                wait = s.backoff * (2 ** attempt)
                log.warning("%s: onvolledig antwoord, poging %d over %.1fs", what, attempt + 2, wait)
                sleep(wait)
    assert last is not None
    raise SourceUnavailable(f"{what}: {describe(last)} (na {int(s.retries) + 1} pogingen)") from last
