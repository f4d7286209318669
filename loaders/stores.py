"""The one place that chooses the cache backend of this installation.

Without ``BUURTMONITOR_DATABASE_URL`` the cache is the Parquet folder
(:class:`loaders.cache.ParquetStore`, ``BUURTMONITOR_CACHE_DIR``), the embedded default. With a
``postgresql://…`` URL it is :class:`loaders.cache_pg.PgStore` in that database, shared by every
app process and by the scheduled ``fetch``. (The notes backend is chosen the same way in
:func:`loaders.notes.open_store`.)

:func:`entry_stamp` is what running servers use to notice a refresh written by another process
(the ``fetch`` of a timer): the checksum of one entry as the store has it now, from a listing of
every entry's checksum read at most once per :data:`STAMP_MAX_AGE` seconds per process (one
directory listing, or one query). The app puts it in the keys of its in-memory caches, so only
the entries that changed are read again.
"""

from __future__ import annotations

import threading
import time

from .cache import CacheStore, ParquetStore
from .cache_pg import PgStore
from .settings import Settings, get_settings

#: how long a process trusts the last listing of checksums (seconds): a refresh is seen within this time
STAMP_MAX_AGE = 5.0

_stamp_lock = threading.Lock()
_listings: dict[str, tuple[float, dict[str, str] | None]] = {}


def open_cache(settings: Settings | None = None) -> CacheStore:
    """The cache of this installation: PostgreSQL when ``database_url`` is set, else the Parquet
    folder ``cache_dir``."""
    s = settings or get_settings()
    if s.database_url:
        return PgStore(s.database_url, connect_timeout=s.connect_timeout)
    return ParquetStore(s.cache_dir)


def _where(s: Settings) -> str:
    return f"pg:{s.database_url}" if s.database_url else f"dir:{s.cache_dir}"


def entry_stamp(key: str, settings: Settings | None = None, *, max_age: float | None = None) -> str:
    """The checksum of cache entry ``key`` now (``"-"`` when absent, ``"?"`` when the store cannot
    be listed), from a listing at most ``max_age`` seconds old (default :data:`STAMP_MAX_AGE`)."""
    s = settings or get_settings()
    age = STAMP_MAX_AGE if max_age is None else max_age
    where = _where(s)
    now = time.monotonic()
    with _stamp_lock:
        hit = _listings.get(where)
    if hit is None or now - hit[0] >= age:
        try:
            listing: dict[str, str] | None = open_cache(s).checksums()
        except Exception:  # noqa: BLE001 - an unreachable store is reported where it is read
            listing = None         # remembered too: a store that is down is not asked on every call
        hit = (now, listing)
        with _stamp_lock:
            _listings[where] = hit
    return "?" if hit[1] is None else hit[1].get(key, "-")
