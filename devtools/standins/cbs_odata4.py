"""Stand-in for the CBS OData v4 API (``datasets.cbs.nl/odata/v1``) on 127.0.0.1.

Serves registered :class:`V4Table` s the way CBS's v4 service does::

    /CBS/{table}                        service document (the entity sets of the table)
    /CBS/{table}/Properties             table properties (Identifier, Title, ...), a single object
    /CBS/{table}/Observations           long form: Id, Measure, ValueAttribute, Value, one column
                                        per dimension (member Identifiers)
    /CBS/{table}/MeasureCodes           Identifier, Index, Title, Description, MeasureGroupId,
                                        DataType, Unit, Format, Decimals, PresentationType
    /CBS/{table}/Dimensions             Identifier, Title, Description, Kind, MapYear, ReleasePolicy
    /CBS/{table}/{Dimension}Codes       Identifier, Index, Title, Description, DimensionGroupId
    /Datasets                           Identifier, Title of every table

``$filter`` (``eq``/``ne``, ``and``/``or``/``not``, ``startswith(...)``, ``X in ('a','b')``),
``$select``, ``$top`` and ``$skip`` work on every collection; long answers are paged
(``page_size``) with an ``@odata.nextLink`` that repeats the query and advances ``$skip``.
Unknown tables or collections answer 404 (OData v4 error JSON), so a client's v3 -> v4 (or v4
-> v3) fallback can be tested: :meth:`CbsOData4Server.remove_table` makes the server "not have"
a table. Fault injection: see ``_base``.

Identifiers of measures in v4 are codes (``M000001``, made up here, as are the non-region
member identifiers; see :mod:`devtools.standins.origin_extracts`), so clients must resolve
measures by title.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from devtools.standins._base import HttpError, Response, StandinServer, json_response
from devtools.standins.cbs_odata import FilterError, _nonneg_int, _one, compile_filter
from devtools.standins.origin_extracts import DIM_TITLES, OriginExtract

__all__ = ["V4Table", "CbsOData4Server", "v4_table", "rewrite_in"]

_SYSTEM_OPTIONS = {"$filter", "$select", "$top", "$skip", "$format", "$count"}
_IN = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+in\s+\((?P<items>(?:\s*'(?:[^']|'')*'\s*,?)+)\)")


def rewrite_in(text: str) -> str:
    """``X in ('a','b')`` -> ``(X eq 'a' or X eq 'b')`` (the v3 grammar has no ``in``)."""
    def one(m: re.Match) -> str:
        items = re.findall(r"'(?:[^']|'')*'", m.group("items"))
        return "(" + " or ".join(f"{m.group('name')} eq {it}" for it in items) + ")"
    return _IN.sub(one, text)


@dataclass
class V4Table:
    """One table as the v4 API holds it."""

    identifier: str
    properties: dict[str, Any]
    dimensions: list[dict[str, Any]]
    codes: dict[str, list[dict[str, Any]]]          # dimension identifier -> code records
    measure_codes: list[dict[str, Any]]
    observations: list[dict[str, Any]]

    @property
    def entity_sets(self) -> list[str]:
        return ["Observations", "MeasureCodes", "Dimensions", "Properties",
                *[f"{d}Codes" for d in self.codes]]


def v4_table(extract: OriginExtract, *,
             confidential: Callable[[dict[str, Any]], bool] | None = None,
             null_attribute: str = "Impossible") -> V4Table:
    """The extract in v4 form. Region identifiers are unpadded (v4 style); measures get
    made-up identifiers ``M000001``...; an empty cell becomes ``Value: null`` with
    ``ValueAttribute = null_attribute``. ``confidential(observation)`` marks observations as
    suppressed (``Value: null``, ``ValueAttribute: "Confidential"``) to test suppression."""
    numeric = [m for m in extract.measures if m.datatype != "String"]
    mid = {m.key: f"M{i:06d}" for i, m in enumerate(numeric, 1)}
    extract.made_up_keys |= set(mid.values())
    measure_codes = [{"Identifier": mid[m.key], "Index": i, "Title": m.title, "Description": "",
                      "MeasureGroupId": None, "DataType": m.datatype, "Unit": m.unit, "Format": None,
                      "Decimals": m.decimals,
                      "PresentationType": "Relative" if m.unit == "%" else "Absolute"}
                     for i, m in enumerate(numeric, 1)]
    dims = [{"Identifier": d, "Index": i, "Title": DIM_TITLES.get(d, d), "Description": "", "Kind": kind,
             "MapYear": None, "ReleasePolicy": False}
            for i, (d, kind) in enumerate(extract.dimension_kinds.items(), 1)]
    codes = {d: [{"Identifier": k.strip(), "Index": i, "Title": t, "Description": "",
                  "DimensionGroupId": None} for i, (k, t) in enumerate(members, 1)]
             for d, members in extract.dimensions.items()}
    obs: list[dict[str, Any]] = []
    for r in extract.rows:
        base = {d: str(r[d]).strip() for d in extract.dimensions}
        for m in numeric:
            v = r.get(m.key)
            o = {"Id": len(obs), "Measure": mid[m.key], "ValueAttribute": "None",
                 "Value": None if v is None else float(v), **base}
            if v is None:
                o["ValueAttribute"] = null_attribute
            if confidential is not None and confidential(o):
                o["Value"], o["ValueAttribute"] = None, "Confidential"
            obs.append(o)
    props = {"Identifier": extract.table_id, "Title": extract.title, "Language": "nl",
             "Catalog": "CBS", "ObservationCount": len(obs), "Status": "Regulier"}
    return V4Table(identifier=extract.table_id, properties=props, dimensions=dims, codes=codes,
                   measure_codes=measure_codes, observations=obs)


def _error(status: int, message: str) -> Response:
    return json_response({"error": {"code": str(status), "message": message}}, status=status)




class CbsOData4Server(StandinServer):
    """Stand-in CBS OData v4 server. ``url`` + ``/`` is what ``CBS_ODATA4_URL`` wants
    (the catalogue ``CBS`` is part of each path, as at CBS)."""

    def __init__(self, tables: Iterable[V4Table] = (), page_size: int = 10000,
                 host: str = "127.0.0.1", port: int = 0):
        super().__init__(host=host, port=port)
        self.page_size = int(page_size)
        self._tables: dict[str, V4Table] = {}
        self._fields: dict[tuple[str, str], set[str]] = {}
        self._filtered: dict[tuple[str, str, str], list[dict]] = {}
        for t in tables:
            self.add_table(t)

    def add_table(self, table: V4Table) -> None:
        with self._lock:
            self._tables[table.identifier.upper()] = table

    def remove_table(self, identifier: str) -> V4Table | None:
        """Make the server not have a table (404); returns it so it can be added back."""
        with self._lock:
            return self._tables.pop(identifier.upper(), None)

    def error_response(self, status: int, message: str) -> Response:
        return _error(status, message)

    def route(self, path, query, handler) -> Response:
        unknown = [k for k in query if k.startswith("$") and k not in _SYSTEM_OPTIONS]
        if unknown:
            raise HttpError(400, f"The query parameter '{unknown[0]}' is not supported.")
        segs = [s for s in path.split("/") if s]
        if segs == ["Datasets"]:
            with self._lock:
                recs = [{"Identifier": t.identifier, "Title": t.properties.get("Title", "")}
                        for t in self._tables.values()]
            return self._collection(recs, query, f"{self.url}/Datasets", "Datasets")
        if len(segs) < 2 or segs[0] != "CBS":
            raise HttpError(404, f"No resource at '{path}'.")
        with self._lock:
            table = self._tables.get(segs[1].upper())
        if table is None:
            raise HttpError(404, f"Dataset '{segs[1]}' does not exist.")
        base = f"{self.url}/CBS/{table.identifier}"
        if len(segs) == 2:
            return json_response({"@odata.context": f"{base}/$metadata",
                                  "value": [{"name": n, "kind": "EntitySet", "url": n}
                                            for n in table.entity_sets]})
        if len(segs) != 3:
            raise HttpError(404, f"No resource at '{path}'.")
        name = segs[2]
        if name == "Properties":
            return json_response({"@odata.context": f"{base}/$metadata#Properties", **table.properties})
        if name == "Observations":
            recs = table.observations
        elif name == "MeasureCodes":
            recs = table.measure_codes
        elif name == "Dimensions":
            recs = table.dimensions
        elif name.endswith("Codes") and name[: -len("Codes")] in table.codes:
            recs = table.codes[name[: -len("Codes")]]
        else:
            raise HttpError(404, f"No entity set '{name}' in dataset '{table.identifier}'.")
        return self._collection(recs, query, f"{base}/{name}", f"{table.identifier}/{name}")

    def _fields_of(self, cache_key: str, recs: list[dict]) -> set[str]:
        key = (cache_key, str(id(recs)))
        with self._lock:
            got = self._fields.get(key)
        if got is None:
            got = set()
            for r in recs[:1000]:
                got.update(r)
            with self._lock:
                self._fields[key] = got
        return got

    def _collection(self, recs: list[dict], query, self_url: str, cache_key: str) -> Response:
        flt = _one(query, "$filter")
        sel = _one(query, "$select")
        top = _nonneg_int(query, "$top")
        skip = _nonneg_int(query, "$skip") or 0
        fields = self._fields_of(cache_key, recs)
        columns = None
        if sel is not None and sel.strip() not in ("", "*"):
            columns = [c.strip() for c in sel.split(",")]
            bad = [c for c in columns if c not in fields]
            if bad:
                raise HttpError(400, f"Could not find a property named '{bad[0]}'.")
        selected = recs
        if flt:
            memo = (cache_key, str(id(recs)), flt)     # the pages of one query filter once
            with self._lock:
                hit = self._filtered.get(memo)
            if hit is None:
                try:
                    pred = compile_filter(rewrite_in(flt), fields)
                except FilterError as exc:
                    raise HttpError(400, f"Invalid $filter: {exc}") from exc
                hit = [r for r in recs if pred(r)]
                with self._lock:
                    if len(self._filtered) > 32:
                        self._filtered.clear()
                    self._filtered[memo] = hit
            selected = hit
        end = len(selected) if top is None else min(len(selected), skip + top)
        stop = min(end, skip + max(1, self.page_size))
        chunk = selected[skip:stop]
        if columns is not None:
            chunk = [{c: r.get(c) for c in columns} for r in chunk]
        body: dict[str, Any] = {"@odata.context": f"{self_url}/$metadata", "value": chunk}
        if stop < end:
            params = []
            if flt:
                params.append(("$filter", flt))
            if sel:
                params.append(("$select", sel))
            if top is not None:
                params.append(("$top", str(end - stop)))
            params.append(("$skip", str(stop)))
            body["@odata.nextLink"] = self_url + "?" + "&".join(
                f"{k}={quote(v, safe=',()*')}" for k, v in params)
        return json_response(body)
