"""The on-disk cache behind a small storage interface.

:class:`ParquetStore` keeps every entry in one Parquet (tables) or GeoParquet (boundaries)
file with its provenance (source URL, table id, fetched at) in the file's metadata, plus per-page
checksums (Parquet CRC). Writes go to a temporary file that is renamed into place, so a
reader never sees half an entry; an entry that fails to read or to match its checksum is
removed and reported as absent, so it is fetched again, never served.

The file name carries a SHA-256 prefix of the file's bytes (``kwb_2024_GM0228.<hash>.parquet``):
one atomic rename publishes an entry together with its checksum, and any change to the bytes
(bit rot, a partial copy) is detected on read. Parquet page checksums are written as well.

:class:`CacheStore` holds what every backend shares: how a table, a frame or a set of
boundaries becomes one Arrow table with its provenance, and back. A backend keeps Parquet bytes
under a key and checks them on read. :class:`ParquetStore` is the embedded default (a folder);
:class:`loaders.cache_pg.PgStore` keeps the same bytes and checksums in PostgreSQL for a team
deployment (:func:`loaders.stores.open_cache` chooses by ``BUURTMONITOR_DATABASE_URL``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from buurtmonitor.model import AreaTable, TableMeta

from .settings import get_settings

log = logging.getLogger(__name__)
_MISSING_PREFIX = "__missing__"
_META_KEY = b"buurtmonitor"
FORMAT_VERSION = 1

class Store(Protocol):
    """What the repository needs from a cache."""

    def get_table(self, key: str) -> AreaTable | None: ...
    def put_table(self, key: str, table: AreaTable) -> None: ...
    def get_geo(self, key: str) -> tuple[gpd.GeoDataFrame, dict] | None: ...
    def put_geo(self, key: str, gdf: gpd.GeoDataFrame, meta: dict) -> None: ...
    def keys(self) -> list[str]: ...
    def size_bytes(self) -> int: ...

def _safe(key: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", key):
        raise ValueError(f"Ongeldige cachesleutel: {key!r}")
    return key

def arrow_bytes(table: pa.Table, meta: dict) -> bytes:
    """``table`` with ``meta`` (plus format version and row count) as Parquet bytes (zstd,
    page checksums)."""
    meta = {**meta, "format_version": FORMAT_VERSION, "rows": table.num_rows}
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[_META_KEY] = json.dumps(meta, ensure_ascii=False).encode()
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(schema_meta), sink, compression="zstd",
                   write_page_checksum=True)
    return sink.getvalue().to_pybytes()

def arrow_from_bytes(data: bytes) -> tuple[pa.Table, dict]:
    """The table and meta of :func:`arrow_bytes` (:class:`ValueError` when damaged or old)."""
    table = pq.read_table(pa.BufferReader(data), page_checksum_verification=True)
    meta = json.loads(table.schema.metadata[_META_KEY])
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError("oude cache-indeling")
    plain = table.replace_schema_metadata(
        {k: v for k, v in (table.schema.metadata or {}).items() if k != _META_KEY})
    if plain.num_rows != meta.get("rows"):
        raise ValueError("aantal rijen klopt niet")
    return plain, meta

class CacheStore:
    """Tables, frames and boundaries as Parquet entries with their provenance.

    A backend implements ``_write`` (publish the bytes of one entry atomically), ``_read``
    (the entry, or None when absent or damaged: a damaged entry is removed), ``delete``,
    ``keys``, ``size_bytes``, ``meta`` and ``describe``.
    """

    def _write(self, key: str, table: pa.Table, meta: dict) -> None:
        raise NotImplementedError

    def _read(self, key: str) -> tuple[pa.Table, dict] | None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def keys(self) -> list[str]:
        raise NotImplementedError

    def size_bytes(self) -> int:
        raise NotImplementedError

    def meta(self, key: str) -> dict | None:
        raise NotImplementedError

    def describe(self) -> str:
        """Where the entries are, in Dutch (for messages and the CLI)."""
        raise NotImplementedError

    def checksum(self, key: str) -> str | None:
        """A short checksum of the stored bytes of ``key`` (None when absent): changes when the
        entry is written again with other content."""
        raise NotImplementedError

    def checksums(self) -> dict[str, str]:
        """{key: :meth:`checksum`} of every entry, in one listing (see :func:`loaders.stores.entry_stamp`)."""
        raise NotImplementedError

    def stamp(self) -> str:
        """A value that changes with every write or removal of an entry ("has anything been
        refreshed since")."""
        raise NotImplementedError

    # ------------------------------------------------------------------ tables
    def put_table(self, key: str, table: AreaTable) -> None:
        frame = table.data.reset_index(drop=True).copy()
        for col in table.missing.columns:
            frame[_MISSING_PREFIX + col] = table.missing[col].reset_index(drop=True).astype(object)
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].astype("string")
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        self._write(key, arrow, {"kind": "table", "table_meta": table.meta.to_dict()})

    def get_table(self, key: str) -> AreaTable | None:
        got = self._read(key)
        if got is None:
            return None
        arrow, meta = got
        frame = arrow.to_pandas()
        miss_cols = [c for c in frame.columns if c.startswith(_MISSING_PREFIX)]
        missing = frame[miss_cols].rename(columns=lambda c: c[len(_MISSING_PREFIX):])
        missing = missing.astype(object).where(missing.notna(), None)
        data = frame.drop(columns=miss_cols)
        for col in data.columns:
            if str(data[col].dtype) in ("string", "str"):
                data[col] = data[col].astype(object).where(data[col].notna(), None)
        return AreaTable(data=data, missing=missing, meta=TableMeta.from_dict(meta["table_meta"]))

    # ------------------------------------------------------------------ plain frames
    def put_frame(self, key: str, frame: pd.DataFrame, meta: dict) -> None:
        """Store a plain (long) frame with its provenance ``meta`` (one atomic entry)."""
        frame = frame.reset_index(drop=True).copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].astype("string")
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        self._write(key, arrow, {**meta, "kind": "frame"})

    def get_frame(self, key: str) -> tuple[pd.DataFrame, dict] | None:
        """A frame stored by :meth:`put_frame` and its meta, or None (absent or damaged)."""
        got = self._read(key)
        if got is None:
            return None
        arrow, meta = got
        frame = arrow.to_pandas()
        for col in frame.columns:
            if str(frame[col].dtype) in ("string", "str"):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame, meta

    # ------------------------------------------------------------------ geometry
    def put_geo(self, key: str, gdf: gpd.GeoDataFrame, meta: dict) -> None:
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].astype("string")
        frame["geometry"] = shapely.to_wkb(gdf.geometry.values)
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        crs = gdf.crs.to_json_dict() if gdf.crs is not None else None
        geo = {"version": "1.0.0", "primary_column": "geometry",
               "columns": {"geometry": {"encoding": "WKB", "geometry_types": [], "crs": crs}}}
        arrow = arrow.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
        self._write(key, arrow, {"kind": "geo", **meta})

    def get_geo(self, key: str) -> tuple[gpd.GeoDataFrame, dict] | None:
        got = self._read(key)
        if got is None:
            return None
        arrow, meta = got
        geo = json.loads((arrow.schema.metadata or {}).get(b"geo", b"{}") or b"{}")
        crs = (geo.get("columns", {}).get("geometry", {}) or {}).get("crs") or "EPSG:4326"
        frame = arrow.to_pandas()
        geom = shapely.from_wkb(frame.pop("geometry").values)
        for col in frame.columns:
            if str(frame[col].dtype) in ("string", "str"):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return gpd.GeoDataFrame(frame, geometry=geom, crs=crs), meta

def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ParquetStore(CacheStore):
    """A folder of Parquet/GeoParquet files (default ``BUURTMONITOR_CACHE_DIR``)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else get_settings().cache_dir

    # ------------------------------------------------------------------ generic
    def _paths(self, key: str) -> list[Path]:
        """Every file of ``key``, newest first."""
        if not self.root.exists():
            return []
        found = [p for p in self.root.glob(f"{_safe(key)}.*.parquet") if p.name.count(".") == 2]
        return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)

    def _path(self, key: str) -> Path | None:
        paths = self._paths(key)
        return paths[0] if paths else None

    def _write(self, key: str, table: pa.Table, meta: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = arrow_bytes(table, meta)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            digest = hashlib.sha256(data)
            final = self.root / f"{key}.{digest.hexdigest()[:16]}.parquet"
            old = [p for p in self._paths(key) if p != final]
            os.replace(tmp, final)
            _fsync_dir(self.root)             # the rename itself survives a power cut
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for p in old:
            p.unlink(missing_ok=True)

    def _read(self, key: str) -> tuple[pa.Table, dict] | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest()[:16] != path.name.split(".")[1]:
                raise ValueError("controlegetal klopt niet")
            plain, meta = arrow_from_bytes(data)
        except Exception as exc:  # noqa: BLE001 - any damage means: fetch again
            log.warning("Cache-item %s is beschadigd (%s) en wordt opnieuw opgehaald.", key, exc)
            path.unlink(missing_ok=True)
            return None
        return plain, meta

    def delete(self, key: str) -> None:
        for p in self._paths(key):
            p.unlink(missing_ok=True)

    def keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted({p.name.split(".")[0] for p in self.root.glob("*.*.parquet")})

    def size_bytes(self) -> int:
        if not self.root.exists():
            return 0
        return sum(p.stat().st_size for p in self.root.glob("*.parquet"))

    def meta(self, key: str) -> dict | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return json.loads(pq.read_schema(path).metadata[_META_KEY])
        except Exception:  # noqa: BLE001
            return None

    def describe(self) -> str:
        return f"cachemap {self.root}"

    def checksum(self, key: str) -> str | None:
        path = self._path(key)
        return path.name.split(".")[1] if path is not None else None

    def _names(self) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self.root)
                          if e.name.endswith(".parquet") and e.name.count(".") == 2)
        except OSError:
            return []

    def checksums(self) -> dict[str, str]:
        """From the file names alone (one directory listing, no file is read)."""
        return {name.split(".")[0]: name.split(".")[1] for name in self._names()}

    def stamp(self) -> str:
        """A digest of the names of the entries: each name carries its content's checksum, so
        any write or removal changes it."""
        names = self._names()
        return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16] if names else "0"

def default_store() -> ParquetStore:
    return ParquetStore()
