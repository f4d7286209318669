"""Timeouts and retries with backoff for every network call (private)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import requests

log = logging.getLogger(__name__)
T = TypeVar("T")


class SourceUnavailable(RuntimeError):
    """A data source could not be reached or gave an unusable answer (message in Dutch)."""


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


def describe(exc: BaseException) -> str:
    """A short Dutch description of a network failure."""
    if isinstance(exc, requests.Timeout):
        return "de server antwoordde niet op tijd"
    if isinstance(exc, requests.ConnectionError):
        return "geen verbinding (server onbereikbaar of verbinding verbroken)"
    if isinstance(exc, (json.JSONDecodeError, requests.exceptions.JSONDecodeError)):
        return "het antwoord was onvolledig of geen geldige JSON"
    if isinstance(exc, requests.HTTPError):
        return f"de server gaf een fout ({exc})"
    return f"{type(exc).__name__}: {exc}"


def with_retries(fn: Callable[[], T], *, what: str, retries: int, backoff: float,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``fn``; on a connection reset, timeout, 5xx or truncated JSON try again
    ``retries`` times with exponential backoff, then raise :class:`SourceUnavailable`."""
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
