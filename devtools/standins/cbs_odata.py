"""Stand-in for the CBS OData v3 API (opendata.cbs.nl) on 127.0.0.1.

Serves registered :class:`CbsTable` s the way CBS does, so the real ``cbsodata`` client
works against it unchanged::

    /ODataFeed/odata/{table}/?$format=json          entity-set listing
    /ODataFeed/odata/{table}/{EntitySet}?$format=json&$filter=..&$select=..&$top=..&$skip=..
    /ODataApi/odata/{table}/...                     the same
    /ODataCatalog/Tables?$format=json               catalogue of the registered tables

Entity sets: ``TableInfos``, ``UntypedDataSet``, ``TypedDataSet``, ``DataProperties``,
``CategoryGroups`` and one per dimension (``WijkenEnBuurten``). Every response carries
``odata.metadata``; long results are paged (``page_size`` rows, default 10000 like CBS) with
an ``odata.nextLink`` that repeats ``$format``/``$filter``/``$select`` and advances ``$skip``.

``UntypedDataSet`` serves numbers as strings (as CBS does); use ``typed=True`` in cbsodata
for numbers. ``None`` is JSON ``null`` in both.

Errors are OData v3 error JSON (``{"odata.error": {...}}``): unknown table/entity set 404,
bad ``$filter``/``$select``/``$top``/``$skip`` 400. Fault injection: see ``_base``.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from devtools.standins._base import HttpError, Response, StandinServer, json_response
from devtools.standins.shared_data import shared_data_dir

__all__ = [
    "CbsTable",
    "CbsODataServer",
    "FilterError",
    "compile_filter",
    "table_from_shared_kwb2024",
    "table_from_generated",
    "KWB2024_DIR",
]

KWB2024_DIR = "kwb_2024_85984NED_odata"
KWB2024_CSV = "85984NED_TypedDataSet_first10000rows.csv"

ODATA_CONTENT_TYPE = (
    "application/json;odata=minimalmetadata;streaming=true;IEEE754Compatible=false;charset=utf-8"
)

# ---------------------------------------------------------------------------------------
# $filter: the OData v3 subset CBS users need
# ---------------------------------------------------------------------------------------
Predicate = Callable[[dict], bool]


class FilterError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)(?![\w])
      | (?P<lpar>\()
      | (?P<rpar>\))
      | (?P<comma>,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)

_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {"startswith", "endswith", "substringof"}


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"Syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, fields: Iterable[str] | None):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.fields = set(fields) if fields is not None else None

    # helpers
    def peek(self, offset: int = 0):
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else (None, None)

    def take(self, kind: str | None = None, value: str | None = None):
        tok = self.peek()
        if tok[0] is None:
            raise FilterError(f"Unexpected end of expression in '{self.text}'.")
        if kind and tok[0] != kind or value and tok[1].lower() != value:
            raise FilterError(f"Syntax error near '{tok[1]}' in '{self.text}'.")
        self.i += 1
        return tok

    def is_kw(self, word: str) -> bool:
        k, v = self.peek()
        return k == "name" and v.lower() == word

    # grammar
    def parse(self) -> Predicate:
        if not self.toks:
            raise FilterError("Empty $filter.")
        pred = self.or_expr()
        if self.i != len(self.toks):
            raise FilterError(f"Syntax error near '{self.peek()[1]}' in '{self.text}'.")
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.is_kw("or"):
            self.take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda row: any(p(row) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.is_kw("and"):
            self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda row: all(p(row) for p in parts)

    def unary(self) -> Predicate:
        if self.is_kw("not"):
            self.take()
            inner = self.unary()
            return lambda row: not inner(row)
        return self.primary()

    def primary(self) -> Predicate:
        kind, value = self.peek()
        if kind == "lpar":
            self.take()
            pred = self.or_expr()
            self.take("rpar")
            return self._maybe_bool_compare(pred)
        if kind == "name" and value.lower() in _FUNCS and self.peek(1)[0] == "lpar":
            return self._maybe_bool_compare(self.function())
        left = self.operand()
        k, op = self.peek()
        if k != "name" or op.lower() not in _COMPARE:
            raise FilterError(f"Expected a comparison operator after operand in '{self.text}'.")
        self.take()
        right = self.operand()
        return _compare(left, op.lower(), right)

    def _maybe_bool_compare(self, pred: Predicate) -> Predicate:
        if self.is_kw("eq") or self.is_kw("ne"):
            op = self.take()[1].lower()
            k, v = self.take("name")
            if v.lower() not in ("true", "false"):
                raise FilterError(f"Boolean expression compared with '{v}'.")
            want = (v.lower() == "true") == (op == "eq")
            return pred if want else (lambda row: not pred(row))
        return pred

    def function(self) -> Predicate:
        name = self.take("name")[1].lower()
        self.take("lpar")
        a = self.operand()
        self.take("comma")
        b = self.operand()
        self.take("rpar")
        if name == "substringof":  # substringof(needle, haystack)
            needle, hay = a, b
            return lambda row: _both_str(hay(row), needle(row), lambda h, n: n in h)
        if name == "startswith":
            return lambda row: _both_str(a(row), b(row), lambda s, p: s.startswith(p))
        return lambda row: _both_str(a(row), b(row), lambda s, p: s.endswith(p))

    def operand(self) -> Callable[[dict], Any]:
        kind, value = self.take()
        if kind == "str":
            lit = value[1:-1].replace("''", "'")
            return lambda row: lit
        if kind == "num":
            v = value.rstrip("mMdDfFlL")
            num: Any = float(v) if any(c in v for c in ".eE") else int(v)
            return lambda row: num
        if kind == "name":
            low = value.lower()
            if low == "null":
                return lambda row: None
            if low in ("true", "false"):
                b = low == "true"
                return lambda row: b
            if low in _FUNCS or low in _COMPARE or low in ("and", "or", "not"):
                raise FilterError(f"Unexpected '{value}' in '{self.text}'.")
            if self.peek()[0] == "lpar":
                raise FilterError(f"Unknown function '{value}' in '{self.text}'.")
            if self.fields is not None and value not in self.fields:
                raise FilterError(f"Could not find a property named '{value}'.")
            return lambda row: row.get(value)
        raise FilterError(f"Syntax error near '{value}' in '{self.text}'.")


def _both_str(a, b, fn) -> bool:
    if a is None or b is None:
        return False
    if not isinstance(a, str) or not isinstance(b, str):
        raise FilterError("String function applied to a non-string value.")
    return fn(a, b)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _compare(left, op: str, right) -> Predicate:
    def pred(row: dict) -> bool:
        a, b = left(row), right(row)
        if a is None or b is None:
            if op == "eq":
                return a is None and b is None
            if op == "ne":
                return not (a is None and b is None)
            return False
        if not (_is_num(a) and _is_num(b)) and type(a) is not type(b):
            raise FilterError(
                f"Operator '{op}' incompatible with operand types "
                f"'{type(a).__name__}' and '{type(b).__name__}'."
            )
        if op == "eq":
            return a == b
        if op == "ne":
            return a != b
        if op == "gt":
            return a > b
        if op == "ge":
            return a >= b
        if op == "lt":
            return a < b
        return a <= b

    return pred


def compile_filter(text: str, fields: Iterable[str] | None = None) -> Predicate:
    """Compile ``text`` to a row predicate. ``fields``: the known property names
    (unknown ones raise FilterError); ``None`` = do not check."""
    return _Parser(text, fields).parse()


# ---------------------------------------------------------------------------------------
# Table model
# ---------------------------------------------------------------------------------------
_ODATA_TYPES = {
    "Topic": "Cbs.OData.Topic",
    "TopicGroup": "Cbs.OData.TopicGroup",
    "GeoDetail": "Cbs.OData.GeoDetail",
    "GeoDimension": "Cbs.OData.GeoDimension",
    "Dimension": "Cbs.OData.Dimension",
    "TimeDimension": "Cbs.OData.TimeDimension",
}

FIXED_SETS = ("TableInfos", "UntypedDataSet", "TypedDataSet", "DataProperties", "CategoryGroups")


@dataclass
class CbsTable:
    """One CBS table as the OData v3 API holds it (raw keys, not titles).

    ``rows`` are TypedDataSet records: dimension columns hold the dimension *Key*
    (e.g. ``"GM0228    "``), text topics keep their padding, missing values are ``None``.
    Treat all pieces as read-only once registered (builders may share them).
    """

    table_id: str
    table_infos: list[dict]
    data_properties: list[dict]
    dimensions: dict[str, list[dict]]
    rows: list[dict]
    category_groups: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._untyped: list[dict] | None = None
        self._fields: dict[str, set[str]] = {}

    @property
    def entity_sets(self) -> list[str]:
        return list(FIXED_SETS) + list(self.dimensions)

    def untyped_rows(self) -> list[dict]:
        with self._lock:
            if self._untyped is None:
                self._untyped = [
                    {k: _untyped_value(v) if k != "ID" else v for k, v in r.items()} for r in self.rows
                ]
            return self._untyped

    def records(self, entity_set: str) -> list[dict]:
        if entity_set == "TableInfos":
            return self.table_infos
        if entity_set == "TypedDataSet":
            return self.rows
        if entity_set == "UntypedDataSet":
            return self.untyped_rows()
        if entity_set == "DataProperties":
            return self.data_properties
        if entity_set == "CategoryGroups":
            return self.category_groups
        return self.dimensions[entity_set]

    def fields(self, entity_set: str) -> set[str]:
        with self._lock:
            if entity_set not in self._fields:
                names: dict[str, None] = {}
                recs = self.records(entity_set) if entity_set != "UntypedDataSet" else self.rows
                for r in recs:
                    names.update(dict.fromkeys(r))
                if entity_set in ("TypedDataSet", "UntypedDataSet"):
                    names.update(dict.fromkeys(["ID", *self.dimensions]))
                    names.update(dict.fromkeys(
                        d["Key"] for d in self.data_properties if d.get("Type") == "Topic"))
                self._fields[entity_set] = set(names)
            return self._fields[entity_set]

    @property
    def title(self) -> str:
        return (self.table_infos[0].get("Title") if self.table_infos else None) or self.table_id


def _untyped_value(v):
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else str(v)
    return str(v)


# ---------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------
_SYSTEM_OPTIONS = {"$format", "$filter", "$select", "$top", "$skip"}


def _odata_error(status: int, message: str) -> Response:
    return json_response(
        {"odata.error": {"code": "", "message": {"lang": "nl-NL", "value": message}}},
        status=status, content_type=ODATA_CONTENT_TYPE,
    )


def _one(query: dict[str, list[str]], name: str) -> str | None:
    vals = query.get(name)
    if not vals:
        return None
    if len(vals) > 1:
        raise HttpError(400, f"Query option '{name}' was specified more than once.")
    return vals[0]


def _nonneg_int(query, name) -> int | None:
    raw = _one(query, name)
    if raw is None:
        return None
    if not re.fullmatch(r"\s*\d+\s*", raw):
        raise HttpError(400, f"Invalid value '{raw}' for query option '{name}'.")
    return int(raw)


class CbsODataServer(StandinServer):
    """Stand-in CBS OData v3 server.

    ``CbsODataServer(tables=(), page_size=10000)``; ``add_table(table)``; ``page_size`` may
    be changed at runtime. ``url`` is the base (``http://127.0.0.1:PORT``, use as
    ``CBS_ODATA_URL``); ``host_port`` is what ``cbsodata.options.catalog_url`` wants
    (with ``use_https = False``).
    """

    def __init__(self, tables: Iterable[CbsTable] = (), page_size: int = 10000,
                 host: str = "127.0.0.1", port: int = 0):
        super().__init__(host=host, port=port)
        self.page_size = int(page_size)
        self._tables: dict[str, CbsTable] = {}
        for t in tables:
            self.add_table(t)

    def add_table(self, table: CbsTable) -> None:
        with self._lock:
            self._tables[table.table_id.upper()] = table

    def remove_table(self, table_id: str) -> None:
        with self._lock:
            self._tables.pop(table_id.upper(), None)

    @property
    def tables(self) -> dict[str, CbsTable]:
        with self._lock:
            return {t.table_id: t for t in self._tables.values()}

    def error_response(self, status: int, message: str) -> Response:
        return _odata_error(status, message)

    # -- routing ---------------------------------------------------------------------
    def route(self, path, query, handler) -> Response:
        unknown = [k for k in query if k.startswith("$") and k not in _SYSTEM_OPTIONS]
        if unknown:
            raise HttpError(400, f"The query parameter '{unknown[0]}' is not supported.")
        fmt = _one(query, "$format")
        if fmt is not None and fmt.lower() != "json":
            raise HttpError(415, f"Unsupported format '{fmt}' (the stand-in serves JSON only).")

        segs = [s for s in path.split("/") if s != ""]
        low = [s.lower() for s in segs]
        if low[:1] == ["odatacatalog"]:
            return self._catalog(segs[1:], query)
        if len(segs) >= 3 and low[0] in ("odatafeed", "odataapi") and low[1] == "odata":
            service = segs[0]
            with self._lock:
                table = self._tables.get(segs[2].upper())
            if table is None:
                raise HttpError(404, f"Table '{segs[2]}' does not exist.")
            if len(segs) == 3:
                return self._listing(service, table)
            if len(segs) == 4:
                return self._entity_set(service, table, segs[3], query)
        raise HttpError(404, f"Resource not found for the segment '{path}'.")

    def _base(self, service: str) -> str:
        return f"{self.url}/{service}/odata"

    def _listing(self, service: str, table: CbsTable) -> Response:
        base = f"{self._base(service)}/{table.table_id}"
        return json_response(
            {"odata.metadata": f"{base}/$metadata",
             "value": [{"name": n, "url": f"{base}/{n}"} for n in table.entity_sets]},
            content_type=ODATA_CONTENT_TYPE,
        )

    def _entity_set(self, service: str, table: CbsTable, name: str, query) -> Response:
        if name.lower() == "$metadata":
            raise HttpError(404, "$metadata is not served by the stand-in.")
        match = [n for n in table.entity_sets if n.lower() == name.lower()]
        if not match:
            raise HttpError(404, f"Resource not found for the segment '{name}'.")
        name = match[0]
        base = f"{self._base(service)}/{table.table_id}"
        records = table.records(name)
        return self._query(records, table.fields(name), query,
                           metadata=f"{base}/$metadata#Cbs.OData.WebAPI.{name}",
                           self_url=f"{base}/{name}")

    def _query(self, records: list[dict], fields: set[str], query, metadata: str,
               self_url: str) -> Response:
        flt = _one(query, "$filter")
        sel = _one(query, "$select")
        top = _nonneg_int(query, "$top")
        skip = _nonneg_int(query, "$skip") or 0

        columns = None
        if sel is not None and sel.strip() not in ("", "*"):
            columns = [c.strip() for c in sel.split(",")]
            for c in columns:
                if c not in fields:
                    raise HttpError(400, f"Could not find a property named '{c}' on type "
                                         f"'Cbs.OData.WebAPI.{self_url.rsplit('/', 1)[-1]}'.")
        if flt is not None and flt.strip():
            try:
                pred = compile_filter(flt, fields)
                selected = [r for r in records if pred(r)]
            except FilterError as exc:
                raise HttpError(400, f"Invalid $filter: {exc}") from exc
        else:
            selected = records

        page = max(1, int(self.page_size))
        end = len(selected) if top is None else min(len(selected), skip + top)
        stop = min(end, skip + page)
        chunk = selected[skip:stop]
        if columns is not None:
            chunk = [{c: r.get(c) for c in columns} for r in chunk]
        body: dict[str, Any] = {"odata.metadata": metadata, "value": chunk}
        if stop < end:
            params = [("$format", "json")]
            if flt:
                params.append(("$filter", flt))
            if sel:
                params.append(("$select", sel))
            if top is not None:
                params.append(("$top", str(end - stop)))
            params.append(("$skip", str(stop)))
            qs = "&".join(f"{k}={quote(v, safe=',()*')}" for k, v in params)
            body["odata.nextLink"] = f"{self_url}?{qs}"
        return json_response(body, content_type=ODATA_CONTENT_TYPE)

    # -- catalogue -------------------------------------------------------------------
    def catalog_records(self) -> list[dict]:
        out = []
        for i, t in enumerate(sorted(self.tables.values(), key=lambda t: t.table_id)):
            info = t.table_infos[0] if t.table_infos else {}
            api = f"{self.url}/ODataApi/odata/{t.table_id}"
            feed = f"{self.url}/ODataFeed/odata/{t.table_id}"
            out.append({
                "ID": i,
                "Title": info.get("Title", t.table_id),
                "ShortTitle": info.get("ShortTitle", info.get("Title", t.table_id)),
                "Identifier": t.table_id,
                "Summary": info.get("Summary", ""),
                "Modified": info.get("Modified"),
                "MetaDataModified": info.get("MetaDataModified", info.get("Modified")),
                "ReasonDelivery": info.get("ReasonDelivery", ""),
                "ExplanatoryText": info.get("ExplanatoryText", ""),
                "OutputStatus": info.get("OutputStatus", "Regulier"),
                "Source": info.get("Source", "CBS."),
                "Language": info.get("Language", "nl"),
                "Catalog": info.get("Catalog", "CBS"),
                "Frequency": info.get("Frequency", ""),
                "Period": info.get("Period", ""),
                "SummaryAndLinks": f"{info.get('Summary', '')}<br /><a href=\"{api}\">{api}</a>"
                                   f"<br /><a href=\"{feed}\">{feed}</a>",
                "ApiUrl": api,
                "FeedUrl": feed,
                "DefaultPresentation": info.get("DefaultPresentation", ""),
                "DefaultSelection": info.get("DefaultSelection", ""),
                "GraphTypes": info.get("GraphTypes", "Table"),
                "RecordCount": len(t.rows),
                "ColumnCount": sum(1 for d in t.data_properties if d.get("Type") == "Topic")
                               + len(t.dimensions),
                "SearchPriority": info.get("SearchPriority", "2"),
            })
        return out

    def _catalog(self, segs: list[str], query) -> Response:
        base = f"{self.url}/ODataCatalog"
        if not segs:
            return json_response(
                {"odata.metadata": f"{base}/$metadata",
                 "value": [{"name": "Tables", "url": f"{base}/Tables"}]},
                content_type=ODATA_CONTENT_TYPE,
            )
        if len(segs) == 1 and segs[0].lower() == "tables":
            recs = self.catalog_records()
            fields = set(recs[0]) if recs else {"Identifier", "Title", "ShortTitle"}
            return self._query(recs, fields, query, metadata=f"{base}/$metadata#Tables",
                               self_url=f"{base}/Tables")
        raise HttpError(404, f"Resource not found for the segment '{segs[0]}'.")


# ---------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------
# Text topics that the DataProperties do not mark as Datatype String.
TEXT_COLUMNS_KWB = frozenset({"Dekkingspercentage_126"})


def _number_converter(prop: Mapping | None) -> Callable[[str], Any]:
    datatype = (prop or {}).get("Datatype")
    unit = (prop or {}).get("Unit")

    def conv(s: str):
        if s == "" or s is None:
            return None
        v = float(s)
        if math.isnan(v):
            return None
        if datatype == "Double":
            return v
        if (datatype == "Long" or (datatype is None and unit == "aantal")) and v.is_integer():
            return int(v)
        return v

    return conv


def _text_converter(s: str):
    return None if s == "" else s


@functools.lru_cache(maxsize=4)
def _load_kwb2024(folder: str) -> CbsTable:
    d = Path(folder)
    table_infos = json.loads((d / "TableInfos.json").read_text(encoding="utf-8"))
    data_properties = json.loads((d / "DataProperties.json").read_text(encoding="utf-8"))
    category_groups = json.loads((d / "CategoryGroups.json").read_text(encoding="utf-8"))
    props = {p["Key"]: p for p in data_properties if p.get("Key")}

    with open(d / KWB2024_CSV, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        header = next(reader)
        convs: list[Callable[[str], Any]] = []
        for col in header:
            p = props.get(col)
            if col == "ID":
                convs.append(int)
            elif col == "WijkenEnBuurten":
                convs.append(str)
            elif col in TEXT_COLUMNS_KWB or (p and p.get("Datatype") == "String"):
                convs.append(_text_converter)
            else:
                convs.append(_number_converter(p))
        i_wb = header.index("WijkenEnBuurten")
        i_code = header.index("Codering_3")
        rows: list[dict] = []
        dim: list[dict] = []
        for rec in reader:
            if not rec:
                continue
            row = {col: conv(val) for col, conv, val in zip(header, convs, rec)}
            key = rec[i_code]  # the padded code is the dimension key
            dim.append({"Key": key, "Title": rec[i_wb], "Description": None,
                        "CategoryGroupID": None})
            row["WijkenEnBuurten"] = key
            rows.append(row)
    return CbsTable(
        table_id=table_infos[0]["Identifier"],
        table_infos=table_infos,
        data_properties=data_properties,
        dimensions={"WijkenEnBuurten": dim},
        rows=rows,
        category_groups=category_groups,
    )


def table_from_shared_kwb2024(shared_dir: str | Path | None = None) -> CbsTable:
    """85984NED (KWB 2024) from ``<shared>/kwb_2024_85984NED_odata`` (first 10,000 rows:
    NL00 + 172 gemeenten Aa en Hunze..Maasdriel with their wijken and buurten).

    Raises FileNotFoundError when the shared data is absent (tests: call
    ``require_shared`` first). The result is cached; do not mutate it.
    """
    folder = Path(shared_dir) if shared_dir is not None else shared_data_dir()
    folder = (folder / KWB2024_DIR).resolve()
    missing = [n for n in ("TableInfos.json", "DataProperties.json", "CategoryGroups.json",
                           KWB2024_CSV) if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"shared KWB 2024 extract incomplete in {folder}: {missing}")
    return _load_kwb2024(str(folder))


def table_from_generated(pieces: Any = None, *, table_id: str | None = None,
                         table_infos: list[dict] | None = None,
                         data_properties: list[dict] | None = None,
                         dimensions: dict[str, list[dict]] | None = None,
                         rows: list[dict] | None = None,
                         category_groups: list[dict] | None = None,
                         validate: bool = True) -> CbsTable:
    """A CbsTable from already-built raw pieces (e.g. from ``buurtmonitor.synthetic``).

    ``pieces`` may be a mapping or an object with attributes ``table_infos``,
    ``data_properties``, ``dimensions``, ``rows`` (and optionally ``table_id``,
    ``category_groups``); keyword arguments override it. ``table_id`` defaults to
    ``table_infos[0]["Identifier"]``. Records are copied; missing ``odata.type`` on
    DataProperties and missing ``ID`` on rows are filled in. With ``validate``, every row
    column must be ``ID``, a dimension or a Topic key, and every dimension value a Key.
    """

    def get(name):
        if pieces is None:
            return None
        if isinstance(pieces, Mapping):
            return pieces.get(name)
        return getattr(pieces, name, None)

    table_infos = copy.deepcopy(table_infos if table_infos is not None else get("table_infos")) or []
    data_properties = copy.deepcopy(
        data_properties if data_properties is not None else get("data_properties")) or []
    dimensions = copy.deepcopy(dimensions if dimensions is not None else get("dimensions")) or {}
    rows = [dict(r) for r in (rows if rows is not None else get("rows")) or []]
    category_groups = copy.deepcopy(
        category_groups if category_groups is not None else get("category_groups")) or []
    table_id = table_id or get("table_id") or (table_infos[0].get("Identifier") if table_infos else None)
    if not table_id:
        raise ValueError("table_from_generated: no table_id and no TableInfos Identifier")
    if not table_infos:
        table_infos = [{"ID": 0, "Identifier": table_id, "Title": table_id, "ShortTitle": table_id}]

    for p in data_properties:
        if "odata.type" not in p and p.get("Type") in _ODATA_TYPES:
            p["odata.type"] = _ODATA_TYPES[p["Type"]]
    for i, r in enumerate(rows):
        if "ID" not in r:
            rows[i] = {"ID": i, **r}

    if validate:
        allowed = {"ID", *dimensions} | {p.get("Key") for p in data_properties if p.get("Type") == "Topic"}
        for r in rows:
            extra = set(r) - allowed
            if extra:
                raise ValueError(f"table_from_generated({table_id}): row columns not in "
                                 f"DataProperties/dimensions: {sorted(extra)[:5]}")
        for dname, recs in dimensions.items():
            keys = {d.get("Key") for d in recs}
            bad = [r[dname] for r in rows if dname in r and r[dname] not in keys]
            if bad:
                raise ValueError(f"table_from_generated({table_id}): {dname} values without a "
                                 f"dimension Key: {bad[:5]}")
    return CbsTable(table_id=table_id, table_infos=table_infos, data_properties=data_properties,
                    dimensions=dimensions, rows=rows, category_groups=category_groups)
