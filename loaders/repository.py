"""THE data path: statistics and boundaries for a year and scope, from the cache, from
CBS/PDOK, or from the fictitious demo, with provenance. The dashboard (through the cached
wrappers in :mod:`app.ui`), the CLI, the briefing pack and the bench all call it.

Order, decided here and nowhere else: the demo when asked for (``demo=True`` or a demo
gemeente code such as ``GM9901``; it never touches the network or the cache) -> the cache
(unless ``refresh``) -> the source (stored in the cache) -> on a fault of the source the
cached copy with a warning -> :class:`DataUnavailable` (Dutch message). When neither the
cache nor CBS can give any real data (:func:`demo_mode_only`), the national scopes are
served by the demo (labelled fictitious in every view).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from buurtmonitor import geo
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.model import AreaTable

from . import cbs, pdok
from .cache import Store
from .demo import DEMO_GEMEENTE, DEMO_NAME, DEMO_YEARS, check_scope, demo_boundaries, demo_table, is_demo_scope
from .http import SourceUnavailable
from .settings import Settings, get_settings
from .stores import open_cache

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]

#: names of the demo source kept here for the callers of this module
__all__ = ["DEMO_GEMEENTE", "DEMO_NAME", "DEMO_YEARS", "CountryFetchReport", "DataUnavailable", "FetchReport", "Loaded", "LoadedGeo",
           "available_years", "cached_scopes", "demo_boundaries", "demo_mode_only", "demo_table",
           "fetch_country_into_cache", "fetch_into_cache", "gemeenten", "is_demo_scope", "load_boundaries",
           "load_table", "load_web_boundaries"]


class DataUnavailable(RuntimeError):
    """Neither the cache nor the source can give what was asked (message in Dutch)."""


@dataclass
class Loaded:
    """A table with where it came from: ``origin`` is ``"cache"``, ``"cbs"`` or ``"demo"``;
    ``warning`` (Dutch) says when it is not what was asked for (e.g. the cached copy while
    CBS is down)."""

    table: AreaTable
    origin: str
    warning: str | None = None


@dataclass
class LoadedGeo:
    """Boundaries (EPSG:4326) with their provenance ``meta`` (JSON-serialisable), ``origin``
    (``"cache"``, ``"pdok"`` or ``"demo"``) and a Dutch ``warning`` as in :class:`Loaded`."""

    gdf: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    origin: str = "pdok"
    warning: str | None = None


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


# ------------------------------------------------------------------------------ tables
def _store(s: Settings, store: Store | None) -> Store:
    return store if store is not None else open_cache(s)


def load_table(year: int, scope: str, *, demo: bool = False, refresh: bool = False,
               store: Store | None = None, settings: Settings | None = None,
               progress: Progress | None = None) -> Loaded:
    """Statistics of ``scope`` in ``year``.

    Parameters
    ----------
    year
        The KWB year.
    scope
        A gemeente code (``GM0228``: its row, wijken, buurten and the Nederland row),
        ``"gemeenten"`` (every gemeente and Nederland) or ``"alle"`` (every area of the country).
    demo
        The fictitious data of that scope (the Voorbeeldgemeente's "country" for
        ``gemeenten``/``alle``); implied by a demo gemeente code such as ``GM9901``.
    refresh
        Skip the cache and ask the source (the cache is still the fallback).
    store, settings, progress
        The cache (default: the Parquet store of ``settings``), the settings (default: from
        the environment) and a ``progress(fraction, Dutch message)`` callback.

    Returns
    -------
    Loaded

    Raises
    ------
    DataUnavailable
        CBS fails and nothing is cached (Dutch message).
    LookupError, ValueError
        An unknown gemeente or year; ``demo=True`` with a real gemeente code.
    """
    s = settings or get_settings()
    st = _store(s, store)
    if demo or is_demo_scope(scope):
        return Loaded(demo_table(year, check_scope(scope)), "demo")
    if scope in ("gemeenten", "alle") and demo_mode_only(s, st):
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
    """Boundaries at full detail of ``level`` (gemeente|wijk|buurt).

    Parameters
    ----------
    year, level
        The year and level.
    gemeente
        Wijken/buurten of one gemeente; None (or level ``gemeente``) = all of the country.
    demo
        The fictitious boundaries (implied by a demo gemeente code).
    refresh, store, settings, progress
        As in :func:`load_table`.

    Returns
    -------
    LoadedGeo
        EPSG:4326 with columns ``code, name, level, gemeente_code, geometry`` (PDOK adds
        ``pdok_inwoners, indelingswijziging``).
    """
    s = settings or get_settings()
    st = _store(s, store)
    national = level == "gemeente" or not gemeente  # all gemeenten, or all wijken/buurten of NL
    if demo or is_demo_scope(gemeente) or (national and demo_mode_only(s, st)):
        if gemeente and level != "gemeente":
            check_scope(gemeente)
        return LoadedGeo(demo_boundaries(year, level, gemeente), {"fictitious": True}, "demo")
    key = geo_key(year, level, gemeente if level != "gemeente" else None)
    if not refresh:
        got = st.get_geo(key)
        if got is not None:
            return LoadedGeo(got[0], got[1], "cache")
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
                        national: bool = False, demo: bool = False,
                        tolerance_m: float | None = None, decimals: int | None = None,
                        refresh: bool = False, store: Store | None = None,
                        settings: Settings | None = None, progress: Progress | None = None) -> LoadedGeo:
    """Boundaries simplified for a map, computed once and kept in the cache.

    ``national=False``: :func:`buurtmonitor.geo.prepare_for_web` (tolerance per level,
    5 decimals). ``national=True``: :func:`buurtmonitor.geo.prepare_national` (all areas of the
    country on one map: 100 m, 4 decimals, slivers dropped). The simplified frame is stored
    under :func:`web_key` with the checksum of the boundaries it was made from; when those
    change (fetched again) it is made again. ``national=True`` with level ``buurt`` and no
    gemeente: every buurt of NL for a national zoom. ``demo=True`` (or a demo gemeente code):
    the fictitious boundaries, prepared in memory (never cached)."""
    s = settings or get_settings()
    st = _store(s, store)
    demo = demo or is_demo_scope(gemeente)
    tol = (geo.tolerance_for("buurt_nl" if national else level) if tolerance_m is None
           else float(tolerance_m))
    dec = (geo.NATIONAL_DECIMALS if national else geo.DEFAULT_DECIMALS) if decimals is None else int(decimals)
    scope = gemeente if level != "gemeente" else None

    def prepare(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict]:
        if national:
            return geo.prepare_national(gdf, tol, dec)
        return geo.prepare_for_web(gdf, level, tol, dec), {}

    raw_key = geo_key(year, level, scope)
    key = web_key(year, level, scope, tol, dec)
    if not refresh and not demo:
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
    """The checksum of the stored entry ``key`` (None for a store that keeps none)."""
    checksum = getattr(st, "checksum", None)
    return checksum(key) if checksum is not None else None


@dataclass(frozen=True)
class FetchReport:
    """What :func:`fetch_into_cache` stored: table rows, wijken, buurten, cache size."""

    rows: int
    wijken: int
    buurten: int
    cache_bytes: int


@dataclass(frozen=True)
class CountryFetchReport:
    """What :func:`fetch_country_into_cache` stored; ``vertices``: of all buurt boundaries,
    ``vertices_kaart``/``buurten_kaart``: of the ones simplified for the national map."""

    rows: int
    gemeenten: int
    buurten: int
    buurten_kaart: int
    vertices: int
    vertices_kaart: int
    cache_bytes: int


def fetch_into_cache(year: int, gemeente: str, *, settings: Settings | None = None,
                     store: Store | None = None, progress: Progress | None = None) -> FetchReport:
    """Load statistics and wijk/buurt boundaries of one gemeente into the cache (CLI ``fetch``).
    Nothing is written unless everything loaded."""
    s = settings or get_settings()
    st = _store(s, store)
    report = progress or (lambda f, m: None)
    report(0.0, f"Cijfers {gemeente} {year} ophalen bij CBS")
    table = cbs.load(year, gemeente, settings=s)
    geos = {}
    for i, level in enumerate(("wijk", "buurt")):
        report(0.4 + 0.3 * i, f"Grenzen ({level}en) ophalen bij PDOK")
        geos[level] = pdok.fetch_boundaries(year, level, gemeente=gemeente, settings=s)
    st.put_table(table_key(year, gemeente), table)
    for level, (gdf, meta) in geos.items():
        st.put_geo(geo_key(year, level, gemeente), gdf, meta)
    report(1.0, "Klaar")
    return FetchReport(rows=len(table.data), wijken=len(geos["wijk"][0]), buurten=len(geos["buurt"][0]),
                       cache_bytes=int(st.size_bytes()))


def fetch_country_into_cache(year: int, *, settings: Settings | None = None, store: Store | None = None,
                             progress: Progress | None = None) -> CountryFetchReport:
    """Load the whole country into the cache (CLI ``fetch --gemeente NL``): the statistics of
    every area and of all gemeenten, the boundaries of all gemeenten and of all buurten, and
    the buurten simplified for the national map. Run it once after a deployment, and the first
    visitor of "Alle buurten van Nederland" does not wait for PDOK. Nothing is written unless
    every download succeeded."""
    s = settings or get_settings()
    st = _store(s, store)
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
    return CountryFetchReport(
        rows=len(every.data), gemeenten=len(gm[0]), buurten=len(bu[0]), buurten_kaart=len(web.gdf),
        vertices=int(shapely.get_num_coordinates(bu[0].geometry.values).sum()),
        vertices_kaart=int(shapely.get_num_coordinates(web.gdf.geometry.values).sum()),
        cache_bytes=int(st.size_bytes()))


# ------------------------------------------------------------------------------ modes
def demo_mode_only(settings: Settings | None = None, store: Store | None = None) -> bool:
    """True when neither CBS nor the cache can give real data: the app then opens on the demo."""
    s = settings or get_settings()
    st = _store(s, store)
    if any(k.startswith("kwb_") for k in st.keys()):
        return False
    return not cbs.is_reachable(s)


def gemeenten(year: int, **kw) -> pd.DataFrame:
    """code, name of every gemeente in ``year`` (from the all-gemeenten table)."""
    loaded = load_table(year, "gemeenten", **kw)
    d = loaded.table.data
    return d[d["level"] == "gemeente"][["code", "name"]].sort_values("name").reset_index(drop=True)


def cached_scopes(store: Store | None = None, *, settings: Settings | None = None) -> list[tuple[int, str]]:
    """(year, scope) of every table in the cache."""
    st = _store(settings or get_settings(), store)
    out = []
    for k in st.keys():
        if k.startswith("kwb_"):
            _, year, scope = k.split("_", 2)
            out.append((int(year), scope))
    return sorted(out)


def available_years(scope: str, *, demo: bool = False) -> list[int]:
    """The years that can be shown for ``scope``: the demo's years for the demo, else every
    year of the table registry (``data/kwb_tables.toml``)."""
    if demo or is_demo_scope(scope):
        return list(DEMO_YEARS)
    return [y for y in load_catalogue().years]
