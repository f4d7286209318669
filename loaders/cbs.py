"""KWB tables from CBS OData v3: table registry, metadata, one gemeente, all gemeenten.

Two clients, no lock:

* the **data** (``TypedDataSet`` with ``$filter``/``$select``, paged by ``odata.nextLink``)
  and the titles of the dimension keys go through :func:`loaders.http.get_json` with the
  pooled ``"cbs"`` session: a reset, timeout, 429/5xx or truncated page is retried for that
  one request, not for the whole multi-page download, and no session waits for another;
* the **metadata** (catalogue, ``TableInfos``, ``DataProperties``: one small answer each)
  through ``cbsodata``, each call wrapped by :func:`loaders.http.with_retries`. cbsodata
  makes its own ``Session`` per request and cannot be given the pooled one, which is why it
  no longer fetches the data pages.

cbsodata 1.3.5 quirks handled here:

* ``typed=False`` (the default) fetches the *TypedDataSet*: the flag is inverted. We ask
  for ``TypedDataSet`` by name (numbers as numbers, not strings).
* ``catalog(use_https=False)`` is ignored and ``use_https`` is a process-wide option: it is
  set (to the same value for every call of a process, from ``CBS_ODATA_URL``) before a call,
  never saved, restored or guarded by a lock; the host is passed per call
  (``catalog_url=``).
* no timeout or retry unless passed: every call gets ``timeout=`` and goes through
  :func:`loaders.http.with_retries`.
* ``get_data`` replaces dimension keys by their titles (and downloads every dimension in
  full to do so): we fetch the titles of the selected keys only (the same ``$filter`` on
  ``Key``) and replace them the same way, so the codes are read from ``Codering_N``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import cbsodata

from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.harmonise import harmonise_odata, select_keys
from buurtmonitor.model import AreaTable, TableMeta

from . import http
from .http import SourceUnavailable, with_retries
from .settings import Settings, get_settings

Progress = Callable[[float, str], None]
#: the pool of :func:`loaders.http.session_for` for CBS OData v3
SOURCE = "cbs"
#: DataProperties types whose columns hold dimension keys (replaced by their titles)
DIMENSION_TYPES = frozenset({"Dimension", "GeoDimension", "GeoDetail", "TimeDimension"})
#: a download of more pages than this is broken off (10,000 rows a page: far above any KWB table)
MAX_PAGES = 500


class CbsUnavailable(SourceUnavailable):
    """CBS could not be reached or answered unusably."""


class UnknownYear(ValueError):
    """No KWB table is known for a year."""


def _call(fn, *args, settings: Settings, what: str, **kwargs):
    """A cbsodata metadata call with timeout and retries, for the endpoint of ``settings``."""
    if settings.offline:
        raise CbsUnavailable(f"{what}: offline-modus staat aan (BUURTMONITOR_OFFLINE=1)")
    use_https, host = settings.cbs_scheme_and_host
    kwargs["timeout"] = (settings.connect_timeout, settings.timeout)
    kwargs["catalog_url"] = host

    def once():
        if cbsodata.options.use_https != use_https:   # one value per process: no lock, no restore
            cbsodata.options.use_https = use_https
        return fn(*args, **kwargs)
    try:
        return with_retries(once, what=what, retries=settings.retries, backoff=settings.backoff)
    except SourceUnavailable as exc:
        raise CbsUnavailable(f"CBS ({settings.cbs_odata_url}) is niet bruikbaar. {exc}") from exc


def _pages(url: str, params: dict[str, str], settings: Settings, what: str) -> list[dict]:
    """Every record of an OData v3 entity set (:func:`loaders.http.get_pages`), with the CBS
    error of this module."""
    try:
        return http.get_pages(url, source=SOURCE, what=what, params=params, settings=settings,
                              max_pages=MAX_PAGES)
    except SourceUnavailable as exc:
        raise CbsUnavailable(f"CBS ({settings.cbs_odata_url}) is niet bruikbaar. {exc}") from exc


def table_url(table_id: str, settings: Settings | None = None) -> str:
    s = settings or get_settings()
    return f"{s.cbs_odata_url}/ODataFeed/odata/{table_id}"


def discover_tables(settings: Settings | None = None) -> dict[int, str]:
    """KWB table ids per year from the CBS catalogue ("Kerncijfers wijken en buurten <jaar>")."""
    s = settings or get_settings()
    rows = _call(cbsodata.get_table_list, settings=s, what="CBS-catalogus ophalen",
                 filters="substringof('Kerncijfers wijken en buurten',Title)",
                 select=["Identifier", "Title", "Period"])
    found: dict[int, str] = {}
    for r in rows:
        title = (r.get("Title") or "").strip()
        if not title.startswith("Kerncijfers wijken en buurten "):
            continue
        tail = title.rsplit(" ", 1)[-1]
        if tail.isdigit():
            found[int(tail)] = r["Identifier"].strip()
    return found


def table_id_for_year(year: int, settings: Settings | None = None, discover: bool = False) -> str:
    """The KWB table id for ``year``: from the registry, or from the CBS catalogue."""
    cat = load_catalogue()
    t = cat.table_for_year(year)
    if t and t.id and not discover:
        return t.id
    try:
        found = discover_tables(settings)
    except CbsUnavailable:
        found = {}
    if year in found:
        return found[year]
    if t and t.id:
        return t.id
    raise UnknownYear(f"Voor {year} is geen KWB-tabel bekend, en de CBS-catalogus noemt er geen.")


def get_metadata(table_id: str, settings: Settings | None = None) -> tuple[dict, list[dict]]:
    """(TableInfos record, DataProperties list) of a table."""
    s = settings or get_settings()
    info = _call(cbsodata.get_info, table_id, settings=s, what=f"Tabelinformatie {table_id}")
    props = _call(cbsodata.get_meta, table_id, "DataProperties", settings=s,
                  what=f"DataProperties {table_id}")
    if not props:
        raise CbsUnavailable(f"CBS gaf geen DataProperties voor tabel {table_id}.")
    return info or {}, props


def _filter_for(scope: str) -> str | None:
    if scope == "alle":
        return None  # every area of the country (used for national comparisons)
    if scope == "gemeenten":
        return "startswith(WijkenEnBuurten,'NL00') or startswith(WijkenEnBuurten,'GM')"
    code = scope.strip().upper()
    if not (len(code) == 6 and code.startswith("GM") and code[2:].isdigit()):
        raise ValueError(f"'{scope}' is geen gemeentecode (verwacht zoiets als GM0228).")
    num = code[2:]
    return (f"startswith(WijkenEnBuurten,'NL00') or startswith(WijkenEnBuurten,'{code}') "
            f"or startswith(WijkenEnBuurten,'WK{num}') or startswith(WijkenEnBuurten,'BU{num}')")


def load(year: int, scope: str, settings: Settings | None = None,
         progress: Progress | None = None) -> AreaTable:
    """Load one KWB year for ``scope`` = a gemeente code (its row, wijken, buurten and the
    Nederland row), ``"gemeenten"`` (every gemeente and Nederland) or ``"alle"`` (every
    area of the country, for national comparisons of buurt-level measures), harmonised.

    Uses ``$filter`` and ``$select`` so a gemeente does not download the whole table.
    """
    s = settings or get_settings()
    cat = load_catalogue()
    report = progress or (lambda f, m: None)
    report(0.05, f"CBS-tabel voor {year} zoeken")
    table_id = table_id_for_year(year, s)
    report(0.15, f"Metadata van {table_id} ophalen")
    info, props = get_metadata(table_id, s)
    select = select_keys(props, cat)
    report(0.35, f"Cijfers ophalen ({ {'gemeenten': 'alle gemeenten', 'alle': 'heel Nederland'}.get(scope, scope)})")
    rows = get_rows(table_id, props, select, _filter_for(scope), s)
    if scope not in ("gemeenten", "alle") and not any(
            str(r.get(next((k for k in select if k.startswith("Codering")), "Codering_3")) or "").strip()
            == scope.upper() for r in rows):
        raise LookupError(f"Gemeente {scope} komt niet voor in {table_id} ({year}).")
    report(0.8, "Cijfers harmoniseren")
    meta = TableMeta(year=year, table_id=table_id,
                     table_title=(info.get("Title") or f"Kerncijfers wijken en buurten {year}").strip(),
                     scheme=cat.scheme_for_year(year), source_kind="cbs-odata",
                     source_url=table_url(table_id, s),
                     fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                     scope=scope)
    table = harmonise_odata(rows, props, meta, cat)
    report(1.0, "Klaar")
    return table


def get_rows(table_id: str, data_properties: list[dict], select: list[str], filters: str | None,
             settings: Settings | None = None) -> list[dict]:
    """The ``TypedDataSet`` rows of ``table_id`` matching ``filters`` with the ``select``
    columns, dimension keys replaced by their titles (as ``cbsodata.get_data`` returns them).

    Parameters
    ----------
    table_id
        e.g. ``"85984NED"``.
    data_properties
        The table's DataProperties (to know the dimension columns).
    select
        Column keys for ``$select``.
    filters
        An OData ``$filter`` on the geo dimension (``WijkenEnBuurten``), or None for all rows.
    settings
        Endpoint, timeouts, retries.

    Raises
    ------
    CbsUnavailable
        When a page cannot be fetched after its retries (Dutch message).
    """
    s = settings or get_settings()
    if s.offline:
        raise CbsUnavailable(f"Cijfers {table_id}: offline-modus staat aan (BUURTMONITOR_OFFLINE=1)")
    base = table_url(table_id, s)
    params = {"$format": "json", "$select": ",".join(select)}
    if filters:
        params["$filter"] = filters
    rows = _pages(f"{base}/TypedDataSet", params, s, f"Cijfers {table_id}")
    wanted = set(select)
    for dim in [p["Key"] for p in data_properties if p.get("Type") in DIMENSION_TYPES and p.get("Key") in wanted]:
        dparams = {"$format": "json", "$select": "Key,Title"}
        if filters and f"({dim}," in filters:
            dparams["$filter"] = filters.replace(f"({dim},", "(Key,")
        titles: dict[Any, Any] = {r.get("Key"): r.get("Title")
                                  for r in _pages(f"{base}/{dim}", dparams, s, f"Namen ({dim}) {table_id}")}
        for r in rows:
            if dim in r and r[dim] in titles:
                r[dim] = titles[r[dim]]
    return rows


def is_reachable(settings: Settings | None = None, timeout: float = 2.0) -> bool:
    """Quick check whether the CBS OData service answers at all (one request, no retries)."""
    s = settings or get_settings()
    if s.offline:
        return False
    return http.is_reachable(f"{s.cbs_odata_url}/ODataCatalog/Tables?$format=json&$top=1",
                             source=SOURCE, timeout=timeout, settings=s)
