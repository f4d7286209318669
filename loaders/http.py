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

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .settings import Settings, get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

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

    def get_retry_after(self, response: Any) -> float | None:
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
        if resp is None:  # e.g. cbsodata's re-raised error: its text names the status
            return f"de server gaf een fout ({exc})"
        return f"de server gaf een fout (HTTP {resp.status_code})"
    return f"{type(exc).__name__}: {exc}"


def _send(url: str, *, source: str, what: str, params: dict[str, Any] | None, settings: Settings,
          stream: bool, headers: dict[str, str] | None,
          session: requests.Session | None) -> requests.Response:
    """One GET with the pooled session's retries; a body cut off while it was read
    (``ChunkedEncodingError``/``ContentDecodingError``) is raised as is, so that
    :func:`get_json_with_headers` can fetch it again."""
    if settings.offline:
        raise SourceUnavailable(f"{what}: offline-modus staat aan (BUURTMONITOR_OFFLINE=1)")
    sess = session if session is not None else session_for(source, settings)
    try:
        resp = sess.get(url, params=params, timeout=(settings.connect_timeout, settings.timeout),
                        stream=stream, headers=headers)
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
        raise
    except requests.RequestException as exc:
        raise SourceUnavailable(f"{what}: {describe(exc)}") from exc
    if resp.status_code == 404:
        raise NotFound(f"{what}: niet gevonden (HTTP 404)")
    if resp.status_code >= 400:
        err = requests.HTTPError(response=resp)
        raise SourceUnavailable(f"{what}: {describe(err)}{_attempts(resp)}") from err
    return resp


def _attempts(resp: requests.Response) -> str:
    """`` (na N pogingen)`` when urllib3 retried the request before this answer."""
    history = getattr(getattr(resp.raw, "retries", None), "history", None) or ()
    return f" (na {len(history) + 1} pogingen)" if history else ""


def get(url: str, *, source: str, what: str, params: dict[str, Any] | None = None,
        settings: Settings | None = None, stream: bool = False,
        headers: dict[str, str] | None = None,
        session: requests.Session | None = None) -> requests.Response:
    """GET ``url`` through the pooled session of ``source``.

    Parameters
    ----------
    url, params
        The request; ``params`` are encoded into the query string.
    source
        The pool to use (``"cbs"``, ``"pdok"``, ...).
    what
        Dutch description of what is fetched; it starts every error message.
    settings
        Timeouts, retries and the offline switch (default: :func:`get_settings`).
    stream, headers
        Passed to ``requests``.
    session
        Another session (tests); the pooled one of ``source`` when None.

    Raises
    ------
    NotFound
        On HTTP 404 (not retried).
    SourceUnavailable
        On anything else that is not a 2xx after the retries.
    """
    s = settings or get_settings()
    try:
        return _send(url, source=source, what=what, params=params, settings=s, stream=stream,
                     headers=headers, session=session)
    except requests.RequestException as exc:
        raise SourceUnavailable(f"{what}: {describe(exc)}") from exc


def get_json_with_headers(url: str, *, source: str, what: str, params: dict[str, Any] | None = None,
                          settings: Settings | None = None, headers: dict[str, str] | None = None,
                          session: requests.Session | None = None,
                          sleep: Callable[[float], None] = time.sleep) -> tuple[Any, Mapping[str, str]]:
    """(parsed JSON body, response headers) of a GET, see :func:`get_json`."""
    s = settings or get_settings()
    last: BaseException | None = None
    for attempt in range(max(0, int(s.retries)) + 1):
        try:
            resp = _send(url, source=source, what=what, params=params, settings=s, stream=False,
                         headers=headers, session=session)
            return resp.json(), resp.headers
        except (ValueError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:   # JSONDecodeError is a ValueError
            last = exc
            if attempt < s.retries:
                wait = s.backoff * (2 ** attempt)
                log.warning("%s: onvolledig antwoord, poging %d over %.1fs", what, attempt + 2, wait)
                sleep(wait)
    assert last is not None
    raise SourceUnavailable(f"{what}: {describe(last)} (na {int(s.retries) + 1} pogingen)") from last


def get_json(url: str, *, source: str, what: str, params: dict[str, Any] | None = None,
             settings: Settings | None = None, headers: dict[str, str] | None = None,
             session: requests.Session | None = None,
             sleep: Callable[[float], None] = time.sleep) -> Any:
    """:func:`get` and parse the body as JSON; a truncated, cut-off or invalid body is fetched
    again (this request only) up to ``BUURTMONITOR_RETRIES`` times.

    Returns
    -------
    Any
        The parsed JSON.

    Raises
    ------
    NotFound, SourceUnavailable
        As :func:`get`; also when the body stays unusable.
    """
    return get_json_with_headers(url, source=source, what=what, params=params, settings=settings,
                                 headers=headers, session=session, sleep=sleep)[0]


def is_reachable(url: str, *, source: str, timeout: float = 2.0, settings: Settings | None = None) -> bool:
    """Whether ``url`` answers below HTTP 500 within ``timeout`` seconds, tried once (a quick
    check for the start page; False in offline mode)."""
    s = settings or get_settings()
    quick = dataclasses.replace(s, retries=0, timeout=float(timeout),
                                connect_timeout=min(float(timeout), s.connect_timeout))
    try:
        get(url, source=f"{source}-check", what="bereikbaarheid", settings=quick)
    except NotFound:
        return True
    except SourceUnavailable as exc:
        cause = exc.__cause__
        resp = getattr(cause, "response", None)
        return resp is not None and resp.status_code < 500
    return True


# ------------------------------------------------------------------ calls made by other clients
def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, (requests.ConnectionError, requests.Timeout,
                        requests.exceptions.ChunkedEncodingError, json.JSONDecodeError,
                        requests.exceptions.JSONDecodeError)):
        return True
    if isinstance(exc, requests.HTTPError):
        resp = exc.response
        if resp is None:  # cbsodata re-raises HTTPError without the response: read the text
            return any(f" {c} " in f" {exc} " or f"{c} Server Error" in str(exc) for c in range(500, 600))
        return resp.status_code >= 500 or resp.status_code == 429
    return False


def with_retries(fn: Callable[[], T], *, what: str, retries: int, backoff: float,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``fn`` (a request made by another client, e.g. cbsodata, that cannot be given the
    pooled session) and on a connection reset, timeout, 429/5xx or truncated JSON call it
    again ``retries`` times with exponential backoff.

    Raises
    ------
    SourceUnavailable
        When the retries are used up, or on another HTTP error (Dutch message).
    """
    last: BaseException | None = None
    for attempt in range(retries + 1):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below
            if not _retryable(exc):
                if isinstance(exc, requests.HTTPError):
                    raise SourceUnavailable(f"{what}: {describe(exc)}") from exc
                raise
            last = exc
            if attempt < retries:
                wait = backoff * (2 ** attempt)
                log.warning("%s mislukt (%s), poging %d van %d over %.1fs", what, describe(exc),
                            attempt + 2, retries + 1, wait)
                sleep(wait)
    assert last is not None
    raise SourceUnavailable(f"{what}: {describe(last)} (na {retries + 1} pogingen)") from last


def get_pages(url: str, *, source: str, what: str, params: dict[str, Any] | None = None,
              settings: Settings | None = None, next_key: str = "odata.nextLink",
              max_pages: int = 10_000) -> list[dict[str, Any]]:
    """Every record of an OData collection (v3: ``next_key="odata.nextLink"``, v4:
    ``"@odata.nextLink"``), page after page; each page is one :func:`get_json` request,
    retried on its own. Raises :class:`SourceUnavailable` (Dutch) when a page fails after its
    retries, the answer is not a collection, or the paging loops or runs past ``max_pages``;
    nothing partial is returned."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    next_url, next_params = url, params
    for _ in range(max_pages):
        body = get_json(next_url, source=source, what=what, params=next_params, settings=settings)
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise SourceUnavailable(f"{what}: het antwoord is geen OData-lijst")
        out.extend(body["value"])
        link = body.get(next_key)
        if not link:
            return out
        if not isinstance(link, str) or link in seen:
            raise SourceUnavailable(f"{what}: de paginering verwijst terug naar een eerdere pagina")
        seen.add(link)
        next_url, next_params = link, None   # the next link carries the query
    raise SourceUnavailable(f"{what}: meer dan {max_pages} pagina's; het ophalen is afgebroken")
