"""A thin client for the CBS OData v4 API (``{CBS_ODATA4_URL}/CBS/{table}/...``).

Every request goes through :func:`loaders.http.get_json` with ``source="cbs4"``: pooled
session, the configured timeouts, per-request retries (``Retry-After`` honoured), Dutch errors
(:class:`~loaders.http.SourceUnavailable`, :class:`~loaders.http.NotFound` for HTTP 404).

The v4 shapes (as served by ``datasets.cbs.nl/odata/v1`` and the ``cbsodata4`` clients):

* ``/Observations``: long form, one record per value: ``Id``, ``Measure`` (a measure code),
  ``ValueAttribute`` (``"None"`` or why a value is missing), ``Value``, and one column per
  dimension holding the member ``Identifier``;
* ``/MeasureCodes``: ``Identifier``, ``Index``, ``Title``, ``Description``, ``MeasureGroupId``,
  ``DataType``, ``Unit``, ``Format``, ``Decimals``, ``PresentationType``;
* ``/Dimensions``: ``Identifier``, ``Title``, ``Description``, ``Kind`` (``Dimension``,
  ``GeoDimension``, ``TimeDimension``, ...), ``MapYear``, ``ReleasePolicy``;
* ``/{Dimension}Codes``: ``Identifier``, ``Index``, ``Title``, ``Description``, ``DimensionGroupId``;
* ``/Properties``: one object with ``Identifier``, ``Title``, ...

Collections are paged by the server: :func:`get_collection` follows ``@odata.nextLink``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from buurtmonitor.integratie.harmonise import Code, CodeLists, DimensionInfo, MeasureInfo

from .http import SourceUnavailable, get_json, get_pages
from .settings import Settings, get_settings

SOURCE = "cbs4"
#: a safety stop for a server whose nextLink never ends
MAX_PAGES = 10_000


# ------------------------------------------------------------------------------ $filter
def quote_literal(value: str) -> str:
    """An OData string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + str(value).replace("'", "''") + "'"


def eq(field: str, value: str) -> str:
    return f"{field} eq {quote_literal(value)}"


def startswith(field: str, prefix: str) -> str:
    return f"startswith({field},{quote_literal(prefix)})"


def any_of(field: str, values: Iterable[str]) -> str:
    """``field in ('a','b')`` (v4) for two or more values, ``field eq 'a'`` for one."""
    vals = list(values)
    if not vals:
        raise ValueError("any_of: geen waarden")
    if len(vals) == 1:
        return eq(field, vals[0])
    return f"{field} in ({','.join(quote_literal(v) for v in vals)})"


def either(*clauses: str) -> str:
    """``(a or b)``; the clauses that are empty are left out."""
    parts = [c for c in clauses if c]
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def both(*clauses: str) -> str:
    """``a and b``; the clauses that are empty are left out (combine ``or`` with :func:`either`,
    which brackets them)."""
    return " and ".join(c for c in clauses if c)


# ------------------------------------------------------------------------------ requests
def dataset_url(table_id: str, settings: Settings | None = None) -> str:
    s = settings or get_settings()
    return f"{s.cbs_odata4_url}/CBS/{table_id}"


def get_collection(url: str, *, what: str, params: dict[str, Any] | None = None,
                   settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every record of a v4 collection, following ``@odata.nextLink`` page after page.

    Raises :class:`SourceUnavailable` (Dutch) when a page fails after its retries or the
    answer is not a collection; nothing partial is returned.
    """
    return get_pages(url, source=SOURCE, what=what, params=params, settings=settings or get_settings(),
                     next_key="@odata.nextLink", max_pages=MAX_PAGES)


def properties(table_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """The table's ``Properties`` object (``Identifier``, ``Title``, ...)."""
    body = get_json(f"{dataset_url(table_id, settings)}/Properties", source=SOURCE,
                    what=f"Tabelinformatie {table_id} (CBS OData v4)", settings=settings)
    if not isinstance(body, dict):
        raise SourceUnavailable(f"Tabelinformatie {table_id} (CBS OData v4): onverwacht antwoord")
    return body


def measure_codes(table_id: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    return get_collection(f"{dataset_url(table_id, settings)}/MeasureCodes",
                          what=f"Onderwerpen van {table_id} (CBS OData v4)", settings=settings)


def dimensions(table_id: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    return get_collection(f"{dataset_url(table_id, settings)}/Dimensions",
                          what=f"Dimensies van {table_id} (CBS OData v4)", settings=settings)


def dimension_codes(table_id: str, dimension: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    return get_collection(f"{dataset_url(table_id, settings)}/{dimension}Codes",
                          what=f"Codelijst {dimension} van {table_id} (CBS OData v4)", settings=settings)


def observations(table_id: str, *, filter: str | None = None, select: Iterable[str] | None = None,
                 settings: Settings | None = None) -> list[dict[str, Any]]:
    """The table's ``Observations`` (long form), with an optional ``$filter`` / ``$select``."""
    params: dict[str, Any] = {}
    if filter:
        params["$filter"] = filter
    if select:
        params["$select"] = ",".join(select)
    return get_collection(f"{dataset_url(table_id, settings)}/Observations",
                          what=f"Cijfers van {table_id} (CBS OData v4)", params=params or None,
                          settings=settings)


def code_lists(table_id: str, settings: Settings | None = None) -> CodeLists:
    """Properties, Dimensions, every ``{Dimension}Codes`` and MeasureCodes in neutral form."""
    props = properties(table_id, settings)
    dims = dimensions(table_id, settings)
    infos = tuple(DimensionInfo(key=str(d["Identifier"]), title=str(d.get("Title") or d["Identifier"]),
                                kind=str(d.get("Kind") or "Dimension")) for d in dims)
    codes = {d.key: tuple(Code(key=str(c["Identifier"]), title=str(c.get("Title") or c["Identifier"]))
                          for c in dimension_codes(table_id, d.key, settings)) for d in infos}
    measures = tuple(MeasureInfo(key=str(m["Identifier"]), title=str(m.get("Title") or ""),
                                 unit=str(m.get("Unit") or ""),
                                 decimals=None if m.get("Decimals") is None else int(m["Decimals"]))
                     for m in measure_codes(table_id, settings))
    return CodeLists(table_id=str(props.get("Identifier") or table_id),
                     title=str(props.get("Title") or table_id), dimensions=infos, codes=codes,
                     measures=measures)
