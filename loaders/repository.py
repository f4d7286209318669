"""What the dashboard and the CLI call: statistics and boundaries for a year and scope,
from the cache, from CBS/PDOK, or from the fictitious demo, with provenance.

Order: cache (unless ``refresh``) -> network (stored in the cache) -> on a network fault the
cached copy with a warning -> a clear error. The demo gemeente never touches the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable

import geopandas as gpd
import pandas as pd

from buurtmonitor import synthetic
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.harmonise import harmonise_odata
from buurtmonitor.model import AreaTable, TableMeta

from . import cbs
from ._http import SourceUnavailable
from .cache import ParquetStore, Store
from .settings import Settings, get_settings

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]

DEMO_GEMEENTE = synthetic.DEMO_GEMEENTE
DEMO_NAME = synthetic.DEMO_NAME


class DataUnavailable(RuntimeError):
    """Neither the cache nor the source can give what was asked (message in Dutch)."""


@dataclass
class Loaded:
    table: AreaTable
    origin: str                 # "cache" | "cbs" | "demo"
    warning: str | None = None


@dataclass
class LoadedGeo:
    gdf: gpd.GeoDataFrame
    meta: dict
    origin: str
    warning: str | None = None


def is_demo_scope(scope: str | None) -> bool:
    return bool(scope) and (scope == DEMO_GEMEENTE or scope.startswith("GM99"))


def table_key(year: int, scope: str) -> str:
    return f"kwb_{year}_{scope}"


def geo_key(year: int, level: str, gemeente: str | None) -> str:
    return f"geo_{year}_{level}_{gemeente or 'nl'}"


# ------------------------------------------------------------------------------ demo
def demo_table(year: int, scope: str) -> AreaTable:
    """The fictitious Voorbeeldgemeente (scope GM9901) or its fictitious 'country' (gemeenten)."""
    raw = synthetic.generate(year)
    meta = TableMeta(year=year, table_id=raw.table_id,
                     table_title=f"Kerncijfers wijken en buurten {year} (fictief)", scheme=raw.scheme,
                     source_kind="demo", source_url="", fictitious=True, scope=scope,
                     fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    table = harmonise_odata(raw.rows_with_titles(), raw.data_properties, meta)
    d = table.data
    if scope == "gemeenten":
        mask = d["level"].isin(["land", "gemeente"])
    elif scope == "alle":
        mask = d["level"].notna()
    else:
        num = scope[2:]
        mask = (d["level"] == "land") | (d["code"] == scope) | d["code"].str.startswith(("WK" + num, "BU" + num))
    return table.select(mask)


def demo_boundaries(year: int, level: str, gemeente: str | None = None) -> gpd.GeoDataFrame:
    raw = synthetic.generate(year)
    key = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}[level]
    feats = raw.features[key]
    gdf = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")
    gdf["code"] = gdf[f"{level}code"]
    gdf["name"] = gdf[f"{level}naam"]
    gdf["level"] = level
    gdf = gdf[["code", "name", "level", "gemeentecode", "geometry"]].rename(columns={"gemeentecode": "gemeente_code"})
    if gemeente and level != "gemeente":
        gdf = gdf[gdf["gemeente_code"] == gemeente]
    return gdf.reset_index(drop=True)


# ------------------------------------------------------------------------------ tables
def load_table(year: int, scope: str, *, refresh: bool = False, store: Store | None = None,
               settings: Settings | None = None, progress: Progress | None = None) -> Loaded:
    """Statistics for ``scope`` (a gemeente code, or ``"gemeenten"``) in ``year``."""
    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    if is_demo_scope(scope) or (scope in ("gemeenten", "alle") and demo_mode_only(s, st)):
        return Loaded(demo_table(year, scope), "demo")
    key = table_key(year, scope)
    if not refresh:
        cached = st.get_table(key)
        if cached is not None:
            return Loaded(cached, "cache")
    try:
        table = cbs.load(year, scope, settings=s, progress=progress)
    except SourceUnavailable as exc:
        cached = st.get_table(key)
        if cached is not None:
            return Loaded(cached, "cache", f"CBS is nu niet bereikbaar; de cijfers komen uit de cache "
                                           f"van {cached.meta.fetched_at[:10]}. ({exc})")
        raise DataUnavailable(str(exc)) from exc
    st.put_table(key, table)
    return Loaded(table, "cbs")


def load_boundaries(year: int, level: str, gemeente: str | None = None, *, refresh: bool = False,
                    store: Store | None = None, settings: Settings | None = None,
                    progress: Progress | None = None) -> LoadedGeo:
    """Boundaries (EPSG:4326, columns code/name/level/gemeente_code/geometry) of ``level``
    for one gemeente (wijk/buurt) or all gemeenten (level ``gemeente``)."""
    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    if is_demo_scope(gemeente) or (level == "gemeente" and demo_mode_only(s, st)):
        return LoadedGeo(demo_boundaries(year, level, gemeente), {"fictitious": True}, "demo")
    key = geo_key(year, level, gemeente if level != "gemeente" else None)
    if not refresh:
        got = st.get_geo(key)
        if got is not None:
            return LoadedGeo(got[0], got[1], "cache")
    from . import pdok  # network I/O lives there
    try:
        gdf, meta = pdok.fetch_boundaries(year, level, gemeente=gemeente if level != "gemeente" else None,
                                          settings=s, progress=progress)
    except SourceUnavailable as exc:
        got = st.get_geo(key)
        if got is not None:
            return LoadedGeo(got[0], got[1], "cache", f"PDOK is nu niet bereikbaar; grenzen uit de cache. ({exc})")
        raise DataUnavailable(str(exc)) from exc
    st.put_geo(key, gdf, meta)
    return LoadedGeo(gdf, meta, "pdok")


def fetch_into_cache(year: int, gemeente: str, *, settings: Settings | None = None,
                     store: Store | None = None, progress: Progress | None = None) -> dict:
    """Load statistics and wijk/buurt boundaries of one gemeente into the cache (CLI ``fetch``).
    Nothing is written unless everything loaded."""
    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    report = progress or (lambda f, m: None)
    report(0.0, f"Cijfers {gemeente} {year} ophalen bij CBS")
    table = cbs.load(year, gemeente, settings=s)
    from . import pdok
    geos = {}
    for i, level in enumerate(("wijk", "buurt")):
        report(0.4 + 0.3 * i, f"Grenzen ({level}en) ophalen bij PDOK")
        geos[level] = pdok.fetch_boundaries(year, level, gemeente=gemeente, settings=s)
    st.put_table(table_key(year, gemeente), table)
    for level, (gdf, meta) in geos.items():
        st.put_geo(geo_key(year, level, gemeente), gdf, meta)
    report(1.0, "Klaar")
    return {"rows": len(table.data), "wijken": len(geos["wijk"][0]), "buurten": len(geos["buurt"][0]),
            "cache_bytes": st.size_bytes()}


# ------------------------------------------------------------------------------ modes
def demo_mode_only(settings: Settings | None = None, store: Store | None = None) -> bool:
    """True when neither CBS nor the cache can give real data: the app then opens on the demo."""
    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    if any(k.startswith("kwb_") for k in st.keys()):
        return False
    return not cbs.is_reachable(s)


def gemeenten(year: int, **kw) -> pd.DataFrame:
    """code, name of every gemeente in ``year`` (from the all-gemeenten table)."""
    loaded = load_table(year, "gemeenten", **kw)
    d = loaded.table.data
    return d[d["level"] == "gemeente"][["code", "name"]].sort_values("name").reset_index(drop=True)


def cached_scopes(store: Store | None = None) -> list[tuple[int, str]]:
    st = store or ParquetStore()
    out = []
    for k in st.keys():
        if k.startswith("kwb_"):
            _, year, scope = k.split("_", 2)
            out.append((int(year), scope))
    return sorted(out)


def available_years(scope: str) -> list[int]:
    if is_demo_scope(scope):
        return list(synthetic.DEMO_YEARS)
    return [y for y in load_catalogue().years]
