"""CBS tables by origin group (``data/origin_tables.toml``): fetch through OData v3 or v4,
harmonise, cache.

:func:`load_origin_table` is the one entry point: cache first (unless ``refresh``), then the
API the catalogue names first, then the other one when the first does not have the table
(HTTP 404) or cannot be reached. The result says which API served it
(:class:`~buurtmonitor.integratie.model.OriginProvenance`: ``api``, url, fetched_at, table id
and title). A harmonised frame is written to the cache only when the whole load succeeded
(every page of every request), through the cache (:func:`loaders.stores.open_cache`) with its checksums
and atomic rename.

The v3 path talks to ``{CBS_ODATA_URL}/ODataApi/odata/{table}/`` directly through
:func:`loaders.http.get_json` (``source="cbs"``): ``TableInfos``, ``DataProperties``, one
entity set per dimension (``Key``/``Title``), and ``TypedDataSet`` with ``$filter`` on the
region keys and the total members and ``$select`` of the needed columns, following
``odata.nextLink``. cbsodata is not used here: it swaps keys for titles, which is exactly what
the region codes must not lose.

Cache entries are stored as an :class:`~buurtmonitor.model.AreaTable` (the frame without
``missing`` as ``data``, ``missing`` as the one column ``value`` of ``missing``, provenance in
its :class:`~buurtmonitor.model.TableMeta`), so the store's integrity rules apply unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from buurtmonitor.integratie.catalogue import OriginCatalogue, OriginTableSpec, load_origin_catalogue
from buurtmonitor.integratie.harmonise import (
    Code,
    CodeLists,
    DimensionInfo,
    MeasureInfo,
    Resolution,
    harmonise,
    normalise_frame,
    observations_from_v3,
    observations_from_v4,
    resolve,
    scope_regions,
)
from buurtmonitor.integratie.model import API_LABELS, OriginProvenance
from buurtmonitor.model import AreaTable, TableMeta

from . import cbs_v4
from .cache import Store
from .http import NotFound, SourceUnavailable, get_pages
from .settings import Settings, get_settings
from .stores import open_cache

log = logging.getLogger(__name__)
SOURCE_V3 = "cbs"
MAX_PAGES = 10_000
SCOPES_HELP = "een gemeentecode (GM0228) of 'gemeenten'"


@dataclass(frozen=True)
class LoadedOrigin:
    """A harmonised table by origin (:data:`buurtmonitor.integratie.harmonise.FRAME_COLUMNS`)
    with its provenance; ``origin`` is ``"cache"`` or ``"bron"``; ``warning`` a Dutch note for
    the visitor (e.g. which API served it after a fallback), or None."""

    frame: pd.DataFrame
    provenance: OriginProvenance
    origin: str
    warning: str | None = None


# ------------------------------------------------------------------------------ v3
def v3_url(table_id: str, settings: Settings | None = None) -> str:
    s = settings or get_settings()
    return f"{s.cbs_odata_url}/ODataApi/odata/{table_id}"


def _v3_collection(url: str, *, what: str, params: dict[str, Any] | None, settings: Settings) -> list[dict]:
    return get_pages(url, source=SOURCE_V3, what=what, params={"$format": "json", **(params or {})},
                     settings=settings, max_pages=MAX_PAGES)


def v3_code_lists(table_id: str, settings: Settings | None = None) -> CodeLists:
    """TableInfos, DataProperties and every dimension's code list (Key/Title) in neutral form."""
    s = settings or get_settings()
    base = v3_url(table_id, s)
    infos = _v3_collection(f"{base}/TableInfos", what=f"Tabelinformatie {table_id} (CBS OData v3)",
                           params=None, settings=s)
    props = _v3_collection(f"{base}/DataProperties", what=f"DataProperties {table_id} (CBS OData v3)",
                           params=None, settings=s)
    dims = tuple(DimensionInfo(key=str(p["Key"]), title=str(p.get("Title") or p["Key"]), kind=str(p["Type"]))
                 for p in props if str(p.get("Type", "")).endswith("Dimension"))
    codes = {d.key: tuple(Code(key=str(c["Key"]), title=str(c.get("Title") or c["Key"]))
                          for c in _v3_collection(f"{base}/{d.key}", settings=s, params=None,
                                                  what=f"Codelijst {d.key} van {table_id} (CBS OData v3)"))
             for d in dims}
    measures = tuple(MeasureInfo(key=str(p["Key"]), title=str(p.get("Title") or ""), unit=str(p.get("Unit") or ""),
                                 decimals=None if p.get("Decimals") is None else int(p["Decimals"]))
                     for p in props if p.get("Type") == "Topic")
    info = infos[0] if infos else {}
    return CodeLists(table_id=str(info.get("Identifier") or table_id), title=str(info.get("Title") or table_id),
                     dimensions=dims, codes=codes, measures=measures)


def _v3_filter(res: Resolution, regions: list[str], scope: str, cat: OriginCatalogue) -> str:
    reg = res.dims["region"]
    if scope == "gemeenten":
        country = [r for r in regions if r.strip().startswith(cat.rules.country_prefix)]
        region = cbs_v4.either(cbs_v4.startswith(reg, cat.rules.gemeente_prefix),
                               *[cbs_v4.eq(reg, r) for r in country])
    else:
        region = cbs_v4.either(*[cbs_v4.eq(reg, r) for r in regions])
    return cbs_v4.both(region, *[cbs_v4.either(*[cbs_v4.eq(k, v) for v in vs])
                                 for k, vs in res.selected_members.items()])


def _fetch_v3(spec: OriginTableSpec, scope: str, s: Settings, cat: OriginCatalogue):
    lists = v3_code_lists(spec.id, s)
    res = resolve(spec, lists)
    regions = scope_regions(res, scope, cat.rules)
    select = ["ID", *dict.fromkeys(res.dims.values()), *res.measure_keys]
    rows = _v3_collection(f"{v3_url(spec.id, s)}/TypedDataSet", settings=s,
                          what=f"Cijfers van {spec.id} (CBS OData v3)",
                          params={"$filter": _v3_filter(res, regions, scope, cat), "$select": ",".join(select)})
    return res, observations_from_v3(rows, res), v3_url(spec.id, s)


def _v4_filter(res: Resolution, regions: list[str], scope: str, cat: OriginCatalogue) -> str:
    reg = res.dims["region"]
    regions = [r.strip() for r in regions]
    if scope == "gemeenten":
        country = [r for r in regions if r.startswith(cat.rules.country_prefix)]
        region = cbs_v4.either(cbs_v4.startswith(reg, cat.rules.gemeente_prefix),
                               *[cbs_v4.eq(reg, r) for r in country])
    else:
        region = cbs_v4.any_of(reg, regions)
    return cbs_v4.both(cbs_v4.any_of("Measure", res.measure_keys), region,
                       *[cbs_v4.any_of(k, [v.strip() for v in vs]) for k, vs in res.selected_members.items()])


def _fetch_v4(spec: OriginTableSpec, scope: str, s: Settings, cat: OriginCatalogue):
    lists = cbs_v4.code_lists(spec.id, s)
    res = resolve(spec, lists)
    regions = scope_regions(res, scope, cat.rules)
    obs = cbs_v4.observations(spec.id, filter=_v4_filter(res, regions, scope, cat), settings=s)
    return res, observations_from_v4(obs, res), cbs_v4.dataset_url(spec.id, s)


_FETCHERS = {"v3": _fetch_v3, "v4": _fetch_v4}


# ------------------------------------------------------------------------------ public
def _check_scope(scope: str, cat: OriginCatalogue) -> None:
    if scope != "gemeenten" and not (scope.startswith(cat.rules.gemeente_prefix) and scope[2:].isdigit()):
        raise ValueError(f"Onbekend gebied {scope!r}: kies {SCOPES_HELP}.")


def fetch_origin_table(table_id: str, scope: str, *, settings: Settings | None = None,
                       catalogue: OriginCatalogue | None = None, api: str | None = None) -> LoadedOrigin:
    """Fetch and harmonise one table for ``scope`` from CBS (no cache).

    Parameters
    ----------
    table_id
        A table of ``data/origin_tables.toml`` (``"85512NED"``).
    scope
        A gemeente code (``"GM0228"``: that gemeente and the country) or ``"gemeenten"``
        (every gemeente of the table and the country).
    api
        Force one API (``"v3"``/``"v4"``, no fallback); default: the catalogue's ``api`` first,
        then the other one.

    Raises
    ------
    NotFound
        Neither API has the table.
    SourceUnavailable
        Both APIs failed (the Dutch message names both reasons).
    ResolveError
        The table's code lists do not fit its catalogue entry.
    """
    s = settings or get_settings()
    cat = catalogue or load_origin_catalogue()
    spec = cat.table(table_id)
    _check_scope(scope, cat)
    order = [api] if api else [spec.api, *[a for a in _FETCHERS if a != spec.api]]
    failures: list[tuple[str, SourceUnavailable]] = []
    for which in order:
        try:
            res, obs, url = _FETCHERS[which](spec, scope, s, cat)
        except SourceUnavailable as exc:
            log.warning("Tabel %s via %s: %s", spec.id, API_LABELS[which], exc)
            failures.append((which, exc))
            continue
        frame = harmonise(obs, res, api=which, catalogue=cat)
        if frame.empty:
            raise SourceUnavailable(f"Tabel {spec.id} gaf via {API_LABELS[which]} geen cijfers voor {scope}.")
        fallback = ""
        if failures:
            first, why = failures[0]
            reden = "kent de tabel niet (HTTP 404)" if isinstance(why, NotFound) else "was niet bruikbaar"
            fallback = f"{API_LABELS[first]} {reden}; de cijfers komen via {API_LABELS[which]}."
        prov = OriginProvenance(table_id=spec.id, table_title=res.table_title or spec.title, api=which, url=url,
                                fetched_at=datetime.now(UTC).isoformat(timespec="seconds"), scope=scope,
                                scheme=spec.scheme, fallback=fallback)
        return LoadedOrigin(frame=frame, provenance=prov, origin="bron", warning=fallback or None)
    reasons = " ".join(f"{API_LABELS[w]}: {e}" for w, e in failures)
    if failures and all(isinstance(e, NotFound) for _, e in failures):
        raise NotFound(f"Tabel {spec.id} bestaat niet bij CBS. {reasons}")
    raise SourceUnavailable(f"Tabel {spec.id} ({spec.title}) kon niet bij CBS worden opgehaald. {reasons}")


def cache_key(table_id: str, scope: str) -> str:
    return f"origin_{table_id}_{scope}"


def _to_area_table(loaded: LoadedOrigin) -> AreaTable:
    frame, p = loaded.frame, loaded.provenance
    years = [int(y) for y in frame["year"].dropna().unique()]
    meta = TableMeta(year=max(years) if years else 0, table_id=p.table_id, table_title=p.table_title,
                     scheme=p.scheme, source_kind=f"cbs-odata-{p.api}", source_url=p.url,
                     fetched_at=p.fetched_at, scope=p.scope,
                     resolved_keys={"api": p.api, "fallback": p.fallback})
    data = frame.drop(columns=["missing"]).reset_index(drop=True)
    missing = pd.DataFrame({"value": frame["missing"].reset_index(drop=True).astype(object)})
    return AreaTable(data=data, missing=missing, meta=meta)


def _from_area_table(table: AreaTable) -> LoadedOrigin:
    m = table.meta
    frame = table.data.copy()
    frame["missing"] = table.missing["value"].values
    prov = OriginProvenance(table_id=m.table_id, table_title=m.table_title,
                            api=m.resolved_keys.get("api", m.source_kind.rsplit("-", 1)[-1]),
                            url=m.source_url, fetched_at=m.fetched_at, scope=m.scope, scheme=m.scheme,
                            fallback=m.resolved_keys.get("fallback", ""))
    return LoadedOrigin(frame=normalise_frame(frame), provenance=prov, origin="cache")


def load_origin_table(table_id: str, scope: str, *, refresh: bool = False, store: Store | None = None,
                      settings: Settings | None = None, catalogue: OriginCatalogue | None = None) -> LoadedOrigin:
    """The harmonised table ``table_id`` for ``scope``: from the cache, else from CBS.

    ``refresh=True`` skips the cache (and replaces the entry after a complete load). A load
    that fails leaves the cache as it was. See :func:`fetch_origin_table` for ``scope`` and
    the exceptions.
    """
    cat = catalogue or load_origin_catalogue()
    spec = cat.table(table_id)
    _check_scope(scope, cat)
    st = store if store is not None else open_cache(settings or get_settings())
    key = cache_key(spec.id, scope)
    if not refresh:
        cached = st.get_table(key)
        if cached is not None:
            return _from_area_table(cached)
    loaded = fetch_origin_table(spec.id, scope, settings=settings, catalogue=cat)
    st.put_table(key, _to_area_table(loaded))
    return loaded
