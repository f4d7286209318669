"""Stand-in for PDOK OGC API Features (api.pdok.nl) on 127.0.0.1.

Paths (the server's ``url`` replaces ``https://api.pdok.nl``)::

    /cbs/wijken-en-buurten-{YEAR}/ogc/v1/collections/{gemeenten|wijken|buurten}/items
    /cbs/gebiedsindelingen/ogc/v1/collections/{gemeente_gegeneraliseerd|...}/items
    .../collections, .../collections/{c}, .../collections/{c}/items/{id}

Items take ``f=json`` (default; anything but json/geojson is 400), ``limit`` (default 10,
clamped to 1000 like PDOK, < 1 or non-numeric is 400), ``offset``, ``crs`` (only CRS84 /
EPSG:4326), ``bbox`` and equality filters on feature properties (``gemeentecode=GM0228``,
``wijkcode=...``, ``jaarcode=2024``; ``jaar`` is an alias of ``jaarcode`` where features
have no ``jaar``). Unknown parameters are 400. Answers are GeoJSON FeatureCollections with
``timeStamp``, ``numberReturned`` and ``links`` (``self``, ``next`` when more exist, ``prev``),
all absolute on the server's own address. Fault injection: see ``_base``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from devtools.standins._base import HttpError, Response, StandinServer, json_response
from devtools.standins.shared_data import shared_data_dir

__all__ = [
    "PdokServer",
    "features_from_shared_ede_wijken",
    "features_from_shared_gemeenten_2022",
    "EDE_WIJKEN_2024",
    "GEMEENTEN_2022",
]

EDE_WIJKEN_2024 = "geo_ede_2024_pdok/wijken_2024_gemeente_ede.geojson"
GEMEENTEN_2022 = "geo_gemeenten_2022_pdok/gemeente_gegeneraliseerd_2022.geojson"

GEOJSON = "application/geo+json"
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
_CRS_OK = {
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
}
_STANDARD_PARAMS = {"f", "limit", "offset", "crs", "bbox", "bbox-crs"}
_ALIASES = {"jaar": "jaarcode"}


def _bounds(geom: dict | None) -> tuple[float, float, float, float] | None:
    if not geom:
        return None
    xs: list[float] = []
    ys: list[float] = []

    def walk(c):
        if c and isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for sub in c:
                walk(sub)

    if geom.get("type") == "GeometryCollection":
        bs = [b for b in (_bounds(g) for g in geom.get("geometries", [])) if b]
        if not bs:
            return None
        return (min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))
    walk(geom.get("coordinates") or [])
    if not xs:
        return None
    return (min(xs), min(ys), max(xs), max(ys))


class _Collection:
    def __init__(self, dataset: str, name: str, features: Iterable[dict]):
        self.dataset = dataset
        self.name = name
        self.features = []
        for i, f in enumerate(features):
            f = dict(f)
            f.setdefault("type", "Feature")
            f.setdefault("id", i + 1)
            f["properties"] = dict(f.get("properties") or {})
            self.features.append(f)
        self.bounds = [_bounds(f.get("geometry")) for f in self.features]
        self.properties: set[str] = set()
        for f in self.features:
            self.properties.update(f["properties"])


class PdokServer(StandinServer):
    """Stand-in PDOK OGC API Features server.

    ``PdokServer()``; ``add_collection(year, "wijken", features)`` registers
    ``/cbs/wijken-en-buurten-{year}/ogc/v1/collections/wijken``;
    ``add_gebiedsindeling("gemeente_gegeneraliseerd", features)`` registers
    ``/cbs/gebiedsindelingen/ogc/v1/collections/gemeente_gegeneraliseerd``;
    ``add_dataset_collection(dataset, collection, features)`` is the general form.
    Features of several calls for the same collection are appended.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host=host, port=port)
        self._collections: dict[tuple[str, str], _Collection] = {}

    def add_dataset_collection(self, dataset: str, collection: str, features: Iterable[dict]) -> None:
        with self._lock:
            old = self._collections.get((dataset, collection))
            feats = list(old.features if old else []) + list(features)
            self._collections[(dataset, collection)] = _Collection(dataset, collection, feats)

    def add_collection(self, year: int, collection: str, features: Iterable[dict]) -> None:
        self.add_dataset_collection(f"wijken-en-buurten-{int(year)}", collection, features)

    def add_gebiedsindeling(self, collection: str, features: Iterable[dict]) -> None:
        self.add_dataset_collection("gebiedsindelingen", collection, features)

    def collections(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._collections)

    def items_url(self, dataset_or_year: str | int, collection: str) -> str:
        ds = (f"wijken-en-buurten-{dataset_or_year}" if isinstance(dataset_or_year, int)
              else dataset_or_year)
        return f"{self.url}/cbs/{ds}/ogc/v1/collections/{collection}/items"

    def error_response(self, status: int, message: str) -> Response:
        titles = {400: "Bad Request", 404: "Not Found", 500: "Internal Server Error",
                  503: "Service Unavailable"}
        return json_response(
            {"type": f"https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/{status}",
             "title": titles.get(status, "Error"), "status": status, "detail": message,
             "timeStamp": _now()},
            status=status, content_type="application/problem+json",
        )

    # -- routing ---------------------------------------------------------------------
    def route(self, path, query, handler) -> Response:
        m = re.fullmatch(r"/cbs/([^/]+)/ogc/v1(?:/(.*?))?/?", path)
        if not m:
            raise HttpError(404, f"No API at {path}")
        dataset, rest = m.group(1), (m.group(2) or "")
        with self._lock:
            colls = {c: v for (d, c), v in self._collections.items() if d == dataset}
        if not colls:
            raise HttpError(404, f"No API at /cbs/{dataset}/ogc/v1")
        base = f"{self.url}/cbs/{dataset}/ogc/v1"
        segs = [s for s in rest.split("/") if s]
        if not segs:
            return json_response({"title": dataset, "links": [
                {"rel": "self", "type": "application/json", "href": f"{base}?f=json"},
                {"rel": "data", "type": "application/json", "href": f"{base}/collections?f=json"},
            ]}, content_type="application/json")
        if segs[0] != "collections":
            raise HttpError(404, f"Not found: {path}")
        if len(segs) == 1:
            return json_response({"links": [{"rel": "self", "href": f"{base}/collections?f=json"}],
                                  "collections": [self._coll_meta(base, c) for c in colls.values()]},
                                 content_type="application/json")
        coll = colls.get(segs[1])
        if coll is None:
            raise HttpError(404, f"Collection '{segs[1]}' not found")
        if len(segs) == 2:
            return json_response(self._coll_meta(base, coll), content_type="application/json")
        if segs[2] != "items" or len(segs) > 4:
            raise HttpError(404, f"Not found: {path}")
        if len(segs) == 4:
            for f in coll.features:
                if str(f.get("id")) == segs[3]:
                    return json_response(f, content_type=GEOJSON)
            raise HttpError(404, f"Feature '{segs[3]}' not found")
        return self._items(base, coll, query)

    @staticmethod
    def _coll_meta(base: str, coll: _Collection) -> dict:
        return {"id": coll.name, "title": coll.name, "crs": sorted(_CRS_OK),
                "links": [{"rel": "items", "type": GEOJSON,
                           "href": f"{base}/collections/{coll.name}/items?f=json"}]}

    def _items(self, base: str, coll: _Collection, query: dict[str, list[str]]) -> Response:
        def one(name):
            vals = query.get(name)
            if vals and len(vals) > 1:
                raise HttpError(400, f"parameter '{name}' given more than once")
            return vals[0] if vals else None

        f = one("f")
        if f is not None and f not in ("json", "geojson"):
            raise HttpError(400, f"unsupported format f={f} (stand-in serves json only)")
        limit = one("limit")
        if limit is None or limit == "":
            n = DEFAULT_LIMIT
        elif re.fullmatch(r"\d+", limit) and int(limit) >= 1:
            n = min(int(limit), MAX_LIMIT)
        else:
            raise HttpError(400, f"limit must be a positive integer, got '{limit}'")
        offset = one("offset")
        if offset is None or offset == "":
            start = 0
        elif re.fullmatch(r"\d+", offset):
            start = int(offset)
        else:
            raise HttpError(400, f"offset must be a non-negative integer, got '{offset}'")
        crs = one("crs")
        if crs is not None and crs not in _CRS_OK:
            raise HttpError(400, f"unsupported crs '{crs}' (stand-in: CRS84/EPSG:4326 only)")
        bbox = None
        if one("bbox") is not None:
            try:
                bbox = tuple(float(x) for x in one("bbox").split(","))
            except ValueError:
                bbox = ()
            if len(bbox) != 4:
                raise HttpError(400, "bbox must be minx,miny,maxx,maxy")

        filters: list[tuple[str, str]] = []
        for name in query:
            if name in _STANDARD_PARAMS:
                continue
            prop = name
            if prop not in coll.properties and _ALIASES.get(name) in coll.properties:
                prop = _ALIASES[name]
            if prop not in coll.properties:
                raise HttpError(400, f"unknown query parameter '{name}'")
            filters.append((prop, one(name)))

        selected = []
        for feat, b in zip(coll.features, coll.bounds):
            props = feat["properties"]
            if any(_as_text(props.get(p)) != v for p, v in filters):
                continue
            if bbox is not None and (b is None or b[0] > bbox[2] or b[2] < bbox[0]
                                     or b[1] > bbox[3] or b[3] < bbox[1]):
                continue
            selected.append(feat)

        page = selected[start:start + n]
        items = f"{base}/collections/{coll.name}/items"
        keep = [(k, v) for k, vs in query.items() if k not in ("f", "limit", "offset") for v in vs]

        def link(off: int) -> str:
            params = [("f", "json"), *keep, ("limit", str(n)), ("offset", str(off))]
            return f"{items}?{urlencode(params, quote_via=quote)}"

        links = [{"rel": "self", "type": GEOJSON, "title": "This document as GeoJSON",
                  "href": link(start)}]
        if start + n < len(selected):
            links.append({"rel": "next", "type": GEOJSON, "title": "Next page",
                          "href": link(start + n)})
        if start > 0:
            links.append({"rel": "prev", "type": GEOJSON, "title": "Previous page",
                          "href": link(max(0, start - n))})
        body = {"type": "FeatureCollection", "timeStamp": _now(), "links": links,
                "numberReturned": len(page), "features": page}
        return json_response(body, content_type=GEOJSON,
                             headers={"Content-Crs": "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"})


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _read_features(path: str) -> tuple[dict, ...]:
    with open(path, encoding="utf-8") as fh:
        return tuple(json.load(fh)["features"])


def _fresh(features: Iterable[dict]) -> list[dict]:
    """Copies whose top level and properties may be changed (geometry is shared)."""
    out = []
    for f in features:
        g = dict(f)
        g["properties"] = copy.copy(f.get("properties") or {})
        out.append(g)
    return out


def _shared_file(rel: str, shared_dir: str | Path | None) -> Path:
    base = Path(shared_dir) if shared_dir is not None else shared_data_dir()
    p = (base / rel).resolve()
    if not p.is_file():
        raise FileNotFoundError(f"shared data file missing: {p}")
    return p


def features_from_shared_ede_wijken(shared_dir: str | Path | None = None) -> list[dict]:
    """The 17 PDOK 2024 wijken of GM0228 Ede (properties ``wijkcode``, ``wijknaam``,
    ``gemeentecode``, ``aantalInwoners``, ...), EPSG:4326. Each feature gets an ``id``
    (``wijken.<fid>``) as PDOK features have one."""
    feats = _fresh(_read_features(str(_shared_file(EDE_WIJKEN_2024, shared_dir))))
    for i, f in enumerate(feats):
        f.setdefault("id", f"wijken.{f['properties'].get('fid', i + 1)}")
    return feats


def features_from_shared_gemeenten_2022(shared_dir: str | Path | None = None) -> list[dict]:
    """The 345 gemeenten of 2022 (PDOK gebiedsindelingen ``gemeente_gegeneraliseerd``;
    properties ``statcode``, ``statnaam``, ``jrstatcode``, ``rubriek``, ``id``), with
    ``jaarcode = 2022`` added."""
    feats = _fresh(_read_features(str(_shared_file(GEMEENTEN_2022, shared_dir))))
    for f in feats:
        f["properties"].setdefault("jaarcode", 2022)
    return feats
