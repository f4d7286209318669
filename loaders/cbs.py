"""KWB tables through ``cbsodata``: table registry, metadata, one gemeente, all gemeenten.

cbsodata 1.3.5 quirks handled here:

* ``typed=False`` (the default) fetches the *TypedDataSet*: the flag is inverted.
* ``catalog(use_https=False)`` is ignored: we set ``cbsodata.options.use_https`` ourselves.
* no timeout or retry unless passed: every call gets ``timeout=`` and goes through
  :func:`loaders._http.with_retries`.
* dimension keys are replaced by titles: codes are read from ``Codering_N``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import cbsodata

from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.harmonise import harmonise_odata, select_keys
from buurtmonitor.model import AreaTable, TableMeta

from ._http import SourceUnavailable, with_retries
from .settings import Settings, get_settings

_OPTIONS_LOCK = threading.RLock()
Progress = Callable[[float, str], None]


class CbsUnavailable(SourceUnavailable):
    """CBS could not be reached or answered unusably."""


class UnknownYear(ValueError):
    """No KWB table is known for a year."""


@contextlib.contextmanager
def _cbs_endpoint(settings: Settings) -> Iterator[None]:
    """Point cbsodata's global options at ``CBS_ODATA_URL`` for the duration of a call."""
    use_https, host = settings.cbs_scheme_and_host
    with _OPTIONS_LOCK:
        old_url, old_https = cbsodata.options.catalog_url, cbsodata.options.use_https
        cbsodata.options.catalog_url = host
        cbsodata.options.use_https = use_https
        try:
            yield
        finally:
            cbsodata.options.catalog_url = old_url
            cbsodata.options.use_https = old_https


def _call(fn, *args, settings: Settings, what: str, **kwargs):
    if settings.offline:
        raise CbsUnavailable(f"{what}: offline-modus staat aan (BUURTMONITOR_OFFLINE=1)")
    kwargs["timeout"] = (settings.connect_timeout, settings.timeout)

    def once():
        with _cbs_endpoint(settings):
            return fn(*args, **kwargs)
    try:
        return with_retries(once, what=what, retries=settings.retries, backoff=settings.backoff)
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
    rows = _call(cbsodata.get_data, table_id, settings=s, what=f"Cijfers {table_id}",
                 filters=_filter_for(scope), select=select)
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


def is_reachable(settings: Settings | None = None, timeout: float = 2.0) -> bool:
    """Quick check whether the CBS OData service answers at all."""
    import requests
    s = settings or get_settings()
    if s.offline:
        return False
    try:
        r = requests.get(f"{s.cbs_odata_url}/ODataCatalog/Tables?$format=json&$top=1", timeout=timeout)
        return r.status_code < 500
    except requests.RequestException:
        return False
