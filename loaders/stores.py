"""The one place that chooses the cache backend of this installation.

Without ``BUURTMONITOR_DATABASE_URL`` the cache is the Parquet folder
(:class:`loaders.cache.ParquetStore`, ``BUURTMONITOR_CACHE_DIR``), the embedded default. With a
``postgresql://…`` URL it is :class:`loaders.cache_pg.PgStore` in that database, shared by every
app process and by the scheduled ``fetch``. (The notes backend is chosen the same way in
:func:`loaders.notes.open_store`.)

:func:`cache_stamp` is what running servers use to notice a refresh written by another process
(the ``fetch`` of a timer): a value that changes with every write to the cache, read at most once
per :data:`STAMP_MAX_AGE` seconds per process.
"""

from __future__ import annotations

import threading
import time

from .cache import CacheStore, ParquetStore
from .cache_pg import PgStore
from .settings import Settings, get_settings

#: how long a process trusts the last stamp it read (seconds): a refresh is seen within this time
STAMP_MAX_AGE = 5.0

_stamp_lock = threading.Lock()
_stamps: dict[str, tuple[float, str]] = {}


def open_cache(settings: Settings | None = None) -> CacheStore:
    """The cache of this installation: PostgreSQL when ``database_url`` is set, else the Parquet
    folder ``cache_dir``."""
    s = settings or get_settings()
    if s.database_url:
        return PgStore(s.database_url, connect_timeout=s.connect_timeout)
    return ParquetStore(s.cache_dir)


def _where(s: Settings) -> str:
    return f"pg:{s.database_url}" if s.database_url else f"dir:{s.cache_dir}"


def cache_stamp(settings: Settings | None = None, *, max_age: float | None = None) -> str:
    """The cache's current stamp (:meth:`loaders.cache.CacheStore.stamp`), at most ``max_age``
    seconds old (default :data:`STAMP_MAX_AGE`). When the store cannot be read the stamp is
    ``"?"``: the callers then keep what they have."""
    s = settings or get_settings()
    age = STAMP_MAX_AGE if max_age is None else max_age
    where = _where(s)
    now = time.monotonic()
    with _stamp_lock:
        hit = _stamps.get(where)
        if hit is not None and now - hit[0] < age:
            return hit[1]
    try:
        stamp = open_cache(s).stamp()
    except Exception:  # noqa: BLE001 - an unreachable store is reported where it is read
        stamp = "?"
    with _stamp_lock:
        _stamps[where] = (now, stamp)
    return stamp
