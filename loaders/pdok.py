"""Boundaries from PDOK OGC API Features (``PDOK_URL``, default https://api.pdok.nl).

* wijken / buurten of one gemeente (or all): ``/cbs/wijken-en-buurten-{year}/ogc/v1/
  collections/{wijken|buurten}/items?f=json&limit=1000&gemeentecode=GM0228``
* gemeenten (national map): generalised polygons from ``/cbs/gebiedsindelingen/ogc/v1/
  collections/gemeente_gegeneraliseerd/items?f=json&limit=1000&jaarcode={year}``
  (``statcode``/``statnaam``); when that is absent (404, or no features for the year) the
  ``gemeenten`` collection of wijken-en-buurten-{year}.

Pages are followed by their ``links`` ``rel="next"`` (with a page cap and a loop check).
The wijken or buurten of the whole country are asked in ``BUURTMONITOR_PDOK_CONCURRENCY``
(default 4) longitude strips with ``bbox`` (standard OGC API Features; together the strips
cover every longitude), each strip paged by its own ``next`` links, the strips side by side:
at most that many requests are open at a time. An area that crosses a strip border comes
twice and is kept once (by code). Each page becomes a frame as soon as it arrives;
every page is one :func:`loaders.http.get_json` request with the pooled ``"pdok"`` session
(connect/read timeout; a reset, timeout, 429/5xx or truncated page is retried for that page).
Features with ``water == "JA"`` are dropped. :func:`fetch_boundaries` returns
``(GeoDataFrame, provenance)``: EPSG:4326 with ``code, name, level, gemeente_code,
pdok_inwoners, indelingswijziging, geometry``, and a JSON-serialisable dict (also in
``gdf.attrs["provenance"]``) to store with ``ParquetStore.put_geo``.
"""

from __future__ import annotations

import logging
import math
import queue
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin

import geopandas as gpd
import pandas as pd
import requests
import shapely
from pyproj import CRS

from buurtmonitor import formatting

from . import http
from .http import NotFound, SourceUnavailable
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

LEVELS = ("gemeente", "wijk", "buurt")
COLLECTIONS = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}
GENERALISED_GEMEENTEN = "gemeente_gegeneraliseerd"
PAGE_SIZE = 1000
MAX_PAGES = 200
#: approximate longitudes of the 0/8 ... 8/8 quantiles of the buurten of NL: strip borders that
#: give each strip about the same number of areas (only the balance depends on them)
LON_QUANTILES = (3.3, 4.44, 4.76, 5.06, 5.37, 5.73, 5.97, 6.42, 7.3)
COLUMNS = ["code", "name", "level", "gemeente_code", "pdok_inwoners", "indelingswijziging",
           "geometry"]

_CODE_KEYS = {"gemeente": ("gemeentecode", "statcode"), "wijk": ("wijkcode", "statcode"),
              "buurt": ("buurtcode", "statcode")}
_NAME_KEYS = {"gemeente": ("gemeentenaam", "statnaam"), "wijk": ("wijknaam", "statnaam"),
              "buurt": ("buurtnaam", "statnaam")}
_GM_CODE = re.compile(r"^GM\d{4}$")


class PdokUnavailable(SourceUnavailable):
    """PDOK could not be reached or answered unusably (message in Dutch)."""


class _Cancelled(Exception):
    """Another strip of the same layer failed: this one stops after its current page."""


class _NotFound(Exception):
    """404 from PDOK: the dataset or collection does not exist (not retried)."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


# ----------------------------------------------------------------------------- urls
def items_url(base: str, year: int, level: str) -> str:
    return f"{base}/cbs/wijken-en-buurten-{int(year)}/ogc/v1/collections/{COLLECTIONS[level]}/items"


def generalised_url(base: str) -> str:
    return f"{base}/cbs/gebiedsindelingen/ogc/v1/collections/{GENERALISED_GEMEENTEN}/items"


def _with_query(url: str, params: dict[str, Any]) -> str:
    return f"{url}?{urlencode(params)}"


# ----------------------------------------------------------------------------- paging
#: the pool of :func:`loaders.http.session_for` for PDOK
SOURCE = "pdok"


def _get_page(session: requests.Session | None, url: str, settings: Settings) -> tuple[dict, str | None]:
    try:
        body, headers = http.get_json_with_headers(
            url, source=SOURCE, what=f"PDOK-pagina {url}", settings=settings, session=session,
            headers={"Accept": "application/geo+json, application/json"})
    except NotFound:
        raise _NotFound(url) from None
    if not isinstance(body, dict) or not isinstance(body.get("features"), list):
        raise SourceUnavailable("het antwoord is geen GeoJSON FeatureCollection")
    return body, headers.get("Content-Crs")


def fetch_features(url: str, settings: Settings, session: requests.Session | None = None,
                   progress: Progress | None = None, max_pages: int = MAX_PAGES,
                   what: str = "grenzen",
                   on_page: Callable[[list[dict], str | None], Any] | None = None,
                   cancel: threading.Event | None = None) -> tuple[list, str | None, int]:
    """All features of an items URL, following ``next`` links.

    Returns (features, declared CRS or None, number of pages). Raises :class:`_NotFound` on
    a 404 of the first page and :class:`PdokUnavailable` on anything else that fails.
    ``on_page(features, crs)``: called per page; the list then holds its results (one per
    page) instead of the features, so a national layer (~140 MB of GeoJSON) never sits in
    memory as Python dicts all at once. ``cancel``: when set, stop before the next page.
    """
    sess = session
    features: list = []
    n_items = 0
    seen: set[str] = set()
    crs: str | None = None
    pages = 0
    next_url: str | None = url
    while next_url:
        if cancel is not None and cancel.is_set():
            raise _Cancelled()
        if next_url in seen:
            raise PdokUnavailable(
                f"PDOK gaf bij het ophalen van {what} een kringverwijzing in de paginering "
                f"(pagina {pages + 1} verwijst terug naar een eerdere pagina). "
                "De grenzen zijn niet volledig opgehaald.")
        if pages >= max_pages:
            raise PdokUnavailable(
                f"PDOK gaf bij het ophalen van {what} meer dan {max_pages} pagina's; "
                "het ophalen is afgebroken. Probeer het later opnieuw of kies een kleiner gebied.")
        seen.add(next_url)
        try:
            body, header_crs = _get_page(sess, next_url, settings)
        except _NotFound:
            if pages == 0:
                raise
            raise PdokUnavailable(f"PDOK: een vervolgpagina van {what} bestaat niet (404).") from None
        except PdokUnavailable:
            raise
        except SourceUnavailable as exc:
            raise PdokUnavailable(
                f"PDOK ({settings.pdok_url}) is niet bruikbaar bij het ophalen van {what}. {exc}"
            ) from exc
        pages += 1
        if crs is None:
            crs = _declared_crs(body) or _crs_from_header(header_crs)
        n_items += len(body["features"])
        if on_page is None:
            features.extend(body["features"])
        else:
            features.append(on_page(body["features"], crs))
        nxt = next((lk.get("href") for lk in body.get("links") or []
                    if isinstance(lk, dict) and lk.get("rel") == "next" and lk.get("href")), None)
        if nxt and not body["features"]:
            nxt = None  # an empty page with a next link: nothing more to come
        next_url = urljoin(next_url, nxt) if nxt else None
        if progress:
            progress(min(0.9, 0.1 + 0.8 * pages / (pages + 1)),
                     f"{what}: pagina {pages}, {formatting.integer(n_items)} gebieden")
    return features, crs, pages


def national_strips(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` bounding boxes (CRS84 lon/lat) that are longitude strips covering the whole world,
    split where each gets about the same number of buurten of NL."""
    n = max(1, int(n))
    q = LON_QUANTILES
    edges = [-180.0]
    for k in range(1, n):
        pos = k / n * (len(q) - 1)
        i = int(pos)
        edges.append(round(q[i] + (q[min(i + 1, len(q) - 1)] - q[i]) * (pos - i), 3))
    edges.append(180.0)
    return [(edges[i], -90.0, edges[i + 1], 90.0) for i in range(n)]


def fetch_features_concurrently(urls: list[str], settings: Settings, session: requests.Session | None = None,
                                progress: Progress | None = None, max_pages: int = MAX_PAGES,
                                what: str = "grenzen",
                                on_page: Callable[[list[dict], str | None], Any] | None = None,
                                workers: int | None = None) -> tuple[list, str | None, int]:
    """:func:`fetch_features` of every URL (disjoint parts of one layer, e.g. strips), at most
    ``workers`` (default ``settings.pdok_concurrency``) at the same time, each following its
    own ``next`` links. Returns the results of all parts in the order of ``urls`` (page by page),
    the first declared CRS and the number of pages. When one part fails the others stop after
    their current page and the failure is raised. ``progress`` is called from this thread."""
    if len(urls) == 1:
        return fetch_features(urls[0], settings, session, progress, max_pages, what, on_page=on_page)
    cancel = threading.Event()
    events: queue.Queue[int] = queue.Queue()

    def part(url: str) -> tuple[list, str | None, int]:
        def count(page: list[dict], crs: str | None) -> Any:
            events.put(len(page))
            return on_page(page, crs) if on_page is not None else page
        try:
            return fetch_features(url, settings, session, None, max_pages, what, on_page=count, cancel=cancel)
        except BaseException:
            cancel.set()
            raise

    n_workers = max(1, min(len(urls), int(workers or settings.pdok_concurrency)))
    pages = items = 0
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="pdok") as pool:
        futures = [pool.submit(part, u) for u in urls]
        while not all(f.done() for f in futures):
            try:
                items += events.get(timeout=0.1)
            except queue.Empty:
                continue
            pages += 1
            if progress:
                progress(min(0.9, 0.1 + 0.8 * pages / (pages + len(urls))),
                         f"{what}: pagina {pages}, {formatting.integer(items)} gebieden")
        errors = [e for e in (f.exception() for f in futures) if e is not None]
    real = [e for e in errors if not isinstance(e, _Cancelled)]
    if real:
        raise real[0]
    results: list = []
    crs: str | None = None
    total = 0
    for f in futures:
        got, part_crs, n = f.result()
        results.extend(got if on_page is not None else [feat for page in got for feat in page])
        crs = crs or part_crs
        total += n
    return results, crs, total


# ----------------------------------------------------------------------------- crs
def _declared_crs(body: dict) -> str | None:
    crs = body.get("crs")
    if isinstance(crs, dict):
        props = crs.get("properties") or {}
        return props.get("name") or props.get("href")
    if isinstance(crs, str):
        return crs
    return None


def _crs_from_header(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip().strip("<>").strip() or None


def _is_crs84(name: str | None) -> bool:
    if not name:
        return True  # OGC API Features and GeoJSON default
    n = name.upper()
    return "CRS84" in n or n.endswith("OGC:1.3:CRS84")


def frame_from_features(features: list[dict], level: str,
                        crs: str | None = None) -> gpd.GeoDataFrame:
    """PDOK features -> the boundary frame (EPSG:4326, ``COLUMNS``), water dropped.

    ``crs``: the declared CRS (GeoJSON ``crs`` member or ``Content-Crs``); CRS84 when None.
    EPSG:28992 (or any projected CRS) is reprojected. A lat/lon (EPSG:4326 axis order)
    answer is recognised by its coordinates and swapped.
    """
    if level not in LEVELS:
        raise ValueError(f"Onbekend niveau {level!r}; kies uit {', '.join(LEVELS)}.")
    rows, geoms = [], []
    for f in features:
        props = f.get("properties") or {}
        if str(props.get("water") or "").strip().upper() == "JA":
            continue
        code = _first(props, _CODE_KEYS[level])
        if code is None and props.get("jaarstatcode") is not None:
            code = re.sub(r"^\d{4}", "", str(props["jaarstatcode"]).strip())
        if code is None:
            continue
        code = str(code).strip()
        name = _first(props, _NAME_KEYS[level])
        gm = code if level == "gemeente" else _first(props, ("gemeentecode",))
        gm = str(gm).strip() if gm is not None else (f"GM{code[2:6]}" if len(code) >= 6 else None)
        inw = _first(props, ("aantalInwoners", "aantal_inwoners"))
        try:
            inw = float(inw) if inw is not None else math.nan
        except (TypeError, ValueError):
            inw = math.nan
        if inw <= -99990:
            inw = math.nan
        wijz = _first(props, ("indelingswijzigingWijkenEnBuurten", "indelingswijziging_wijken_en_buurten",
                              "indelingswijziging"))
        if wijz is not None:
            try:
                wijz = str(int(float(wijz))) if float(wijz) > -99990 else None
            except (TypeError, ValueError):
                wijz = str(wijz).strip() or None
        rows.append({"code": code, "name": str(name).strip() if name is not None else code,
                     "level": level, "gemeente_code": gm, "pdok_inwoners": inw,
                     "indelingswijziging": wijz})
        geoms.append(f.get("geometry"))
    frame = pd.DataFrame(rows, columns=COLUMNS[:-1])
    geom = [shapely.geometry.shape(g) if g else None for g in geoms]
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geom, crs="EPSG:4326"
                                                            if _is_crs84(crs) else None))
    if not _is_crs84(crs):
        declared = CRS.from_user_input(crs)
        if declared.is_projected:
            gdf = gdf.set_crs(declared, allow_override=True).to_crs("EPSG:4326")
        else:
            gdf = gdf.set_crs("EPSG:4326", allow_override=True)
            if len(gdf) and _looks_lat_lon(gdf):
                gdf = gdf.set_geometry(shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1]))
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf = gdf.drop_duplicates("code").reset_index(drop=True)
    return gdf[COLUMNS]


def _looks_lat_lon(gdf: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = gdf.total_bounds
    return 45 <= minx <= 60 and -5 <= miny and maxy <= 15  # x holds NL latitudes


def _first(props: dict, keys) -> Any:
    for k in keys:
        v = props.get(k)
        if v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v).strip() != "":
            return v
    return None


# ----------------------------------------------------------------------------- public
def fetch_boundaries(year: int, level: str, gemeente: str | None = None,
                     settings: Settings | None = None, progress: Progress | None = None, *,
                     page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES,
                     session: requests.Session | None = None) -> tuple[gpd.GeoDataFrame, dict]:
    """(boundaries, provenance) of ``level`` (gemeente|wijk|buurt) for ``year`` from PDOK.

    ``gemeente`` (e.g. "GM0228") limits wijken/buurten to one gemeente (and gemeenten to
    that one); without it, all of the Netherlands. The GeoDataFrame is in EPSG:4326 with
    columns ``code`` (stripped), ``name``, ``level``, ``gemeente_code``, ``pdok_inwoners``
    (aantalInwoners where PDOK has it), ``indelingswijziging``, ``geometry``. Provenance:
    ``source``, ``source_url``, ``year``, ``level``, ``gemeente``, ``fetched_at``,
    ``n_features``, ``pages``, ``crs`` (JSON-serialisable: the meta for ``put_geo``; also
    in ``gdf.attrs["provenance"]``).

    ``page_size`` is the ``limit`` per request (PDOK allows up to 1000); ``next`` links are
    followed up to ``max_pages``. Raises :class:`PdokUnavailable` (Dutch message) when PDOK
    fails after retries, :class:`LookupError` when it answers but has no areas.
    """
    s = settings or get_settings()
    if level not in LEVELS:
        raise ValueError(f"Onbekend niveau {level!r}; kies uit {', '.join(LEVELS)}.")
    if gemeente is not None:
        gemeente = gemeente.strip().upper()
        if not _GM_CODE.match(gemeente):
            raise ValueError(f"'{gemeente}' is geen gemeentecode (verwacht zoiets als GM0228).")
    if s.offline:
        raise PdokUnavailable("PDOK: offline-modus staat aan (BUURTMONITOR_OFFLINE=1); "
                              "grenzen komen alleen uit de cache.")
    report = progress or (lambda f, m: None)
    limit = max(1, int(page_size))
    label = {"gemeente": "gemeentegrenzen", "wijk": "wijkgrenzen", "buurt": "buurtgrenzen"}[level]
    label += f" {year}" + (f" ({gemeente})" if gemeente else "")
    report(0.05, f"{label} ophalen bij PDOK")

    sess = session
    features: list[dict] = []
    crs = None
    pages = 0
    url = ""
    if level == "gemeente":
        params: dict[str, Any] = {"f": "json", "limit": limit, "jaarcode": int(year)}
        if gemeente:
            params["statcode"] = gemeente
        url = _with_query(generalised_url(s.pdok_url), params)
        try:
            features, crs, pages = fetch_features(url, s, sess, progress, max_pages, label)
        except _NotFound:
            features = []
        if not [f for f in features if str((f.get("properties") or {}).get("water") or "").upper() != "JA"]:
            log.info("Geen gegeneraliseerde gemeentegrenzen voor %s; val terug op wijken-en-buurten", year)
            params = {"f": "json", "limit": limit}
            if gemeente:
                params["gemeentecode"] = gemeente
            url = _with_query(items_url(s.pdok_url, year, "gemeente"), params)
            features, crs, pages = _fetch_or_missing([url], s, sess, progress, max_pages, label, year)
    else:  # wijken/buurten: each page becomes a frame at once (bounded memory)
        params = {"f": "json", "limit": limit}
        if gemeente:
            params["gemeentecode"] = gemeente
        url = _with_query(items_url(s.pdok_url, year, level), params)
        urls = [url]
        if not gemeente and s.pdok_concurrency > 1:   # the whole country: strips side by side
            urls = [_with_query(items_url(s.pdok_url, year, level),
                                {**params, "bbox": ",".join(f"{v:g}" for v in box)})
                    for box in national_strips(s.pdok_concurrency)]
        features, crs, pages = _fetch_or_missing(
            urls, s, sess, progress, max_pages, label, year,
            on_page=lambda feats, page_crs: frame_from_features(feats, level, crs=page_crs))

    if level == "gemeente":
        report(0.92, f"{label}: {formatting.integer(len(features))} gebieden verwerken")
        gdf = frame_from_features(features, level, crs=crs)
    else:
        frames = [f for f in features if len(f)]
        gdf = (frame_from_features([], level) if not frames else
               gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")
               .drop_duplicates("code").reset_index(drop=True))
    if gdf.empty:
        raise LookupError(f"PDOK heeft geen {label}"
                          + (f"; bestaat gemeente {gemeente} in {year}?" if gemeente else "."))
    prov = {"source": "PDOK", "source_url": url, "year": int(year), "boundary_year": features_year(features),
            "level": level,
            "gemeente": gemeente, "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "n_features": int(len(gdf)), "pages": pages, "crs": "EPSG:4326"}
    gdf.attrs["provenance"] = prov
    report(1.0, "Klaar")
    return gdf, prov


def features_year(features) -> int | None:
    """The year the features say they are of (``jaar``/``jaarcode``, or the year in front of
    ``jrstatcode`` such as ``2022GM0228``): the most common one, None when they do not say."""
    years: dict[int, int] = {}
    for f in features:
        if not isinstance(f, dict):  # wijken/buurten arrive as frames: they do not say
            continue
        props = f.get("properties") or {}
        raw = props.get("jaar") or props.get("jaarcode") or str(props.get("jrstatcode") or "")[:4]
        try:
            y = int(raw)
        except (TypeError, ValueError):
            continue
        years[y] = years.get(y, 0) + 1
    return max(years, key=years.__getitem__) if years else None


def _fetch_or_missing(urls, s, sess, progress, max_pages, label, year, on_page=None):
    try:
        return fetch_features_concurrently(urls, s, sess, progress, max_pages, label, on_page=on_page)
    except _NotFound as exc:
        raise PdokUnavailable(f"PDOK kent geen {label} (404 bij {exc.url}); is de dataset "
                              f"'CBS Wijken en Buurten {year}' al gepubliceerd?") from None


def is_reachable(settings: Settings | None = None, timeout: float = 2.0) -> bool:
    """Quick check whether PDOK answers at all (one request, no retries)."""
    s = settings or get_settings()
    if s.offline:
        return False
    return http.is_reachable(f"{s.pdok_url}/cbs/gebiedsindelingen/ogc/v1?f=json", source=SOURCE,
                             timeout=timeout, settings=s)
