"""What the dashboard and the CLI call: statistics and boundaries for a year and scope,
from the cache, from CBS/PDOK, or from the fictitious demo, with provenance.

Order: cache (unless ``refresh``) -> network (stored in the cache) -> on a network fault the
cached copy with a warning -> a clear error. The demo gemeente never touches the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

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


def web_key(year: int, level: str, gemeente: str | None, tolerance_m: float, decimals: int) -> str:
    """Cache key of boundaries simplified for the web (one entry per zoom: tolerance + decimals)."""
    tol = f"{tolerance_m:g}".replace(".", "p")
    return f"web_{year}_{level}_{gemeente or 'nl'}_t{tol}_d{decimals}_v{WEB_FORMAT}"


#: version of the simplified-boundaries cache entries (bump when the preparation changes)
WEB_FORMAT = 1


# ------------------------------------------------------------------------------ demo
def demo_table(year: int, scope: str) -> AreaTable:
    """The fictitious Voorbeeldgemeente (scope GM9901) or its fictitious 'country' (gemeenten)."""
    raw = synthetic.generate(year)
    meta = TableMeta(year=year, table_id=raw.table_id,
                     table_title=f"Kerncijfers wijken en buurten {year} (fictief)", scheme=raw.scheme,
                     source_kind="demo", source_url="", fictitious=True, scope=scope,
                     fetched_at=datetime.now(UTC).isoformat(timespec="seconds"))
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
def load_table(year: int, scope: str, *, demo: bool = False, refresh: bool = False, store: Store | None = None,
               settings: Settings | None = None, progress: Progress | None = None) -> Loaded:
    """Statistics for ``scope`` (a gemeente code, ``"gemeenten"`` or ``"alle"``) in ``year``;
    ``demo=True``: the fictitious Voorbeeldgemeente's data for that scope."""
    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    if demo or is_demo_scope(scope) or (scope in ("gemeenten", "alle") and demo_mode_only(s, st)):
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


def load_boundaries(year: int, level: str, gemeente: str | None = None, *, demo: bool = False,
                    refresh: bool = False, store: Store | None = None, settings: Settings | None = None,
                    progress: Progress | None = None) -> LoadedGeo:
    """Boundaries (EPSG:4326, columns code/name/level/gemeente_code/geometry) of ``level``
    for one gemeente (wijk/buurt) or all gemeenten (level ``gemeente``); ``demo=True``: the
    fictitious ones."""
    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    national = level == "gemeente" or not gemeente  # all gemeenten, or all wijken/buurten of NL
    if demo or is_demo_scope(gemeente) or (national and demo_mode_only(s, st)):
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


def load_web_boundaries(year: int, level: str, gemeente: str | None = None, *,
                        tolerance_m: float | None = None, decimals: int | None = None,
                        national: bool = False, demo: bool = False, refresh: bool = False,
                        store: Store | None = None, settings: Settings | None = None,
                        progress: Progress | None = None) -> LoadedGeo:
    """Boundaries simplified for a map, computed once and kept in the cache.

    ``national=False``: :func:`buurtmonitor.geo.prepare_for_web` (tolerance per level,
    5 decimals). ``national=True``: :func:`buurtmonitor.geo.prepare_national` (all areas of the
    country on one map: 100 m, 4 decimals, slivers dropped). The simplified frame is stored
    under :func:`web_key` with the checksum of the boundaries it was made from; when those
    change (fetched again) it is made again. The demo (``demo=True`` or a demo gemeente) is
    prepared in memory."""
    from buurtmonitor import geo

    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    tol = (geo.tolerance_for("buurt_nl" if national else level) if tolerance_m is None
           else float(tolerance_m))
    dec = (geo.NATIONAL_DECIMALS if national else geo.DEFAULT_DECIMALS) if decimals is None else int(decimals)
    scope = gemeente if level != "gemeente" else None

    def prepare(gdf):
        if national:
            return geo.prepare_national(gdf, tol, dec)
        return geo.prepare_for_web(gdf, level, tol, dec), {}

    raw_key = geo_key(year, level, scope)
    key = web_key(year, level, scope, tol, dec)
    if not refresh and not demo and not is_demo_scope(gemeente):
        got = st.get_geo(key)
        if got is not None:
            made_from, now = got[1].get("source_checksum"), _checksum(st, raw_key)
            if made_from is None or now is None or made_from == now:
                return LoadedGeo(got[0], got[1], "cache")
    raw = load_boundaries(year, level, gemeente, demo=demo, refresh=refresh, store=st, settings=s,
                          progress=progress)
    if progress:
        progress(0.95, "Grenzen vereenvoudigen voor de kaart")
    web, report = prepare(raw.gdf)
    meta = {**{k: v for k, v in raw.meta.items() if k != "kind"}, "web": {"tolerance_m": tol, "decimals": dec,
                                                                       "national": national, **report}}
    if raw.origin != "demo" and not web.empty:
        meta["source_checksum"] = _checksum(st, raw_key)
        try:
            st.put_geo(key, web, meta)
        except OSError as exc:  # a read-only cache: the map still works
            log.warning("Vereenvoudigde grenzen niet in de cache bewaard: %s", exc)
    web.attrs["provenance"] = meta
    return LoadedGeo(web, meta, raw.origin, raw.warning)


def _checksum(st: Store, key: str) -> str | None:
    """The checksum in the file name of a ParquetStore entry (None for other stores)."""
    path_of = getattr(st, "_path", None)
    if path_of is None:
        return None
    path = path_of(key)
    return path.name.split(".")[1] if path is not None else None


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


def fetch_country_into_cache(year: int, *, settings: Settings | None = None, store: Store | None = None,
                             progress: Progress | None = None) -> dict:
    """Load the whole country into the cache (CLI ``fetch --gemeente NL``): the statistics of
    every area and of all gemeenten, the boundaries of all gemeenten and of all buurten, and
    the buurten simplified for the national map. Run it once after a deployment, and the first
    visitor of "Alle buurten van Nederland" does not wait for PDOK. Nothing is written unless
    every download succeeded."""
    import shapely

    from . import pdok

    s = settings or get_settings()
    st = store or ParquetStore(s.cache_dir)
    report = progress or (lambda f, m: None)
    report(0.0, f"Cijfers van alle gebieden van Nederland {year} ophalen bij CBS")
    every = cbs.load(year, "alle", settings=s)
    report(0.25, f"Cijfers van alle gemeenten {year} ophalen bij CBS")
    gemeenten_table = cbs.load(year, "gemeenten", settings=s)
    report(0.3, "Grenzen van alle gemeenten ophalen bij PDOK")
    gm = pdok.fetch_boundaries(year, "gemeente", gemeente=None, settings=s)
    report(0.4, "Grenzen van alle buurten ophalen bij PDOK (pagina's van 1.000)")
    bu = pdok.fetch_boundaries(year, "buurt", gemeente=None, settings=s,
                               progress=lambda f, m: report(0.4 + 0.35 * f, m))
    st.put_table(table_key(year, "alle"), every)
    st.put_table(table_key(year, "gemeenten"), gemeenten_table)
    st.put_geo(geo_key(year, "gemeente", None), *gm)
    st.put_geo(geo_key(year, "buurt", None), *bu)
    report(0.8, "Buurtgrenzen vereenvoudigen voor de landelijke kaart")
    web = load_web_boundaries(year, "buurt", None, national=True, settings=s, store=st)
    load_web_boundaries(year, "gemeente", None, settings=s, store=st)
    report(1.0, "Klaar")
    return {"rows": len(every.data), "gemeenten": len(gm[0]), "buurten": len(bu[0]),
            "buurten_kaart": len(web.gdf),
            "vertices": int(shapely.get_num_coordinates(bu[0].geometry.values).sum()),
            "vertices_kaart": int(shapely.get_num_coordinates(web.gdf.geometry.values).sum()),
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
