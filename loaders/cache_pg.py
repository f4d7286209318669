"""The cache in PostgreSQL, for a team deployment with several app processes
(``BUURTMONITOR_DATABASE_URL=postgresql://…``).

The entries are the same Parquet bytes as in :class:`loaders.cache.ParquetStore` (tables,
frames and boundaries, with their provenance in the Parquet metadata), one row per key in
``buurtmonitor_cache`` with their SHA-256, size, kind and a version that grows with every write.
A write is one ``INSERT … ON CONFLICT DO UPDATE`` in its own transaction, so a reader sees the
old entry or the new one, never half; a row whose bytes do not match their checksum is deleted
and reported as absent (fetched again), as the file store does. :meth:`PgStore.checksums` lists
every entry's checksum in one query, so running servers notice a refresh (``fetch`` from a timer)
without a restart (:func:`loaders.stores.entry_stamp`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pyarrow as pa

from . import pg_pool
from .cache import CacheStore, _safe, arrow_bytes, arrow_from_bytes

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS buurtmonitor_cache (
    key        text PRIMARY KEY,
    kind       text NOT NULL,
    data       bytea NOT NULL,
    sha256     text NOT NULL,
    bytes      bigint NOT NULL,
    meta       jsonb NOT NULL,
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE IF NOT EXISTS buurtmonitor_cache_stamp;
"""
_LOCK_ID = 0x42_4D_43_41  # advisory lock of the schema creation ("BMCA")
_schema_done: set[str] = set()
_schema_lock = threading.Lock()


class StoreUnavailable(OSError):
    """The database cannot be reached or used (message in Dutch; an OSError, like a cache
    folder that cannot be written)."""


def _redacted(url: str) -> str:
    """The URL without its password (for messages)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "de database"
    return f"database {info.get('dbname', '?')} op {info.get('host', 'localhost')}:{info.get('port', 5432)}"


class PgStore(CacheStore):
    """Cache entries in PostgreSQL (see the module doc)."""

    def __init__(self, url: str, *, connect_timeout: float = 5.0):
        self.url = url
        self.connect_timeout = connect_timeout
        self._ensure_schema()

    def _new_connection(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, connect_timeout=max(1, int(self.connect_timeout)),
                                   application_name="buurtmonitor", autocommit=True)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"De gedeelde cache ({_redacted(self.url)}) is niet bereikbaar: "
                                   f"{type(exc).__name__}.") from exc

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        """A pooled connection (:mod:`loaders.pg_pool`) in autocommit mode: every statement of
        this store is a transaction of its own."""
        try:
            with pg_pool.connection(self.url, self._new_connection, kind="cache") as conn:
                yield conn
        except psycopg.Error as exc:
            raise StoreUnavailable(f"De gedeelde cache ({_redacted(self.url)}) gaf een fout: "
                                   f"{type(exc).__name__}.") from exc

    def _ensure_schema(self) -> None:
        with _schema_lock:
            if self.url in _schema_done:
                return
            with self._connect() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))   # several processes at once
                conn.execute(SCHEMA)
            _schema_done.add(self.url)

    # ------------------------------------------------------------------ the backend
    def _write(self, key: str, table: pa.Table, meta: dict) -> None:
        data = arrow_bytes(table, meta)
        digest = hashlib.sha256(data).hexdigest()
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO buurtmonitor_cache (key, kind, data, sha256, bytes, meta, version, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, nextval('buurtmonitor_cache_stamp'), now()) "
                "ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, data = EXCLUDED.data, "
                "sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes, meta = EXCLUDED.meta, "
                "version = EXCLUDED.version, updated_at = now()",
                (_safe(key), str(meta.get("kind", "")), data, digest, len(data),
                 json.dumps(meta, ensure_ascii=False)))

    def _read(self, key: str) -> tuple[pa.Table, dict] | None:
        with self._connect() as conn:
            row = conn.execute("SELECT data, sha256 FROM buurtmonitor_cache WHERE key = %s",
                               (_safe(key),)).fetchone()
        if row is None:
            return None
        data, digest = bytes(row[0]), row[1]
        try:
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError("controlegetal klopt niet")
            return arrow_from_bytes(data)
        except Exception as exc:  # noqa: BLE001 - any damage means: fetch again
            log.warning("Cache-item %s is beschadigd (%s) en wordt opnieuw opgehaald.", key, exc)
            self._delete_if(key, digest)
            return None

    def _delete_if(self, key: str, digest: str) -> None:
        """Delete ``key`` only if it still holds the damaged bytes (not a fresh rewrite)."""
        with self._connect() as conn:
            conn.execute("DELETE FROM buurtmonitor_cache WHERE key = %s AND sha256 = %s", (key, digest))

    def delete(self, key: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM buurtmonitor_cache WHERE key = %s", (_safe(key),))

    def keys(self) -> list[str]:
        with self._connect() as conn:
            return [r[0] for r in conn.execute("SELECT key FROM buurtmonitor_cache ORDER BY key")]

    def size_bytes(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT coalesce(sum(bytes), 0) FROM buurtmonitor_cache").fetchone()
        return int(row[0]) if row else 0

    def meta(self, key: str) -> dict | None:
        with self._connect() as conn:
            row = conn.execute("SELECT meta FROM buurtmonitor_cache WHERE key = %s", (_safe(key),)).fetchone()
        return dict(row[0]) if row else None

    def describe(self) -> str:
        return f"gedeelde cache in {_redacted(self.url)}"

    def checksum(self, key: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute("SELECT sha256 FROM buurtmonitor_cache WHERE key = %s", (_safe(key),)).fetchone()
        return str(row[0])[:16] if row else None

    def checksums(self) -> dict[str, str]:
        with self._connect() as conn:
            return {str(k): str(d)[:16] for k, d in conn.execute("SELECT key, sha256 FROM buurtmonitor_cache")}

    def stamp(self) -> str:
        """Changes with every write (the version sequence grows) and every removal (the count)."""
        with self._connect() as conn:
            row = conn.execute("SELECT coalesce(max(version), 0), count(*) FROM buurtmonitor_cache").fetchone()
        return f"{row[0]}:{row[1]}" if row else "0:0"
