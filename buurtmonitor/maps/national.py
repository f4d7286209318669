"""All buurten of the Netherlands on one map (Kaart page, level "Alle buurten van Nederland").

Naive GeoJSON cannot carry this in plotly: the ~14,000 buurten of PDOK at full detail are
~140 MB of GeoJSON. The data path here:

* statistics: ``repository.load_table(year, "alle")`` (every area of the country), or the
  fictitious areas of the demo when the Voorbeeldgemeente is chosen;
* boundaries: ``repository.load_web_boundaries(year, "buurt", None, national=True)``: the
  PDOK buurten of the whole country (paged), simplified once for a national zoom by
  :func:`buurtmonitor.geo.prepare_national` (100 m coverage simplification, slivers dropped,
  4 decimals: ~4 MB for 14,000 buurten) and kept in the cache, raw and simplified;
* the map: :func:`prepare_geometry` gives a :class:`~buurtmonitor.maps.geometry.MapGeometry` with the
  gemeente borders (not the ~3,000 wijk borders) as orientation; :func:`publish_geojson`
  writes its GeoJSON once to ``static/geo/<hash>.json`` (content-addressed, git-ignored),
  which Streamlit serves at ``app/static/geo/<hash>.json``; the figure refers to it by URL,
  so the browser fetches the geometry once and a rerun only re-sends colours and labels.

The Streamlit caching (one MapGeometry per year in the process) lives in ``buurtmonitor.ui``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from buurtmonitor import geo
from buurtmonitor.maps.geometry import Lines, MapGeometry, lines_from
from buurtmonitor.maps.geometry import prepare_geometry as prepare_level_geometry

log = logging.getLogger(__name__)

LEVEL = "buurt_nl"
LABEL = "Alle buurten van Nederland"
#: the project's ``static`` folder, served by Streamlit at ``app/static/`` (enableStaticServing)
PROJECT_DIR = Path(__file__).resolve().parents[2]
STATIC_DIR = PROJECT_DIR / "static" / "geo"
STATIC_URL = "app/static/geo"
#: keep at most this many GeoJSON files in ``static/geo`` (oldest removed first)
STATIC_KEEP = 200
#: simplification of the gemeente borders drawn over the national buurt map (metres)
OUTLINE_TOLERANCE_M = 200.0


def is_demo(gemeente: str | None) -> bool:
    from loaders import repository
    return repository.is_demo_scope(gemeente)


def load_table(year: int, gemeente: str | None = None):
    """``repository.Loaded`` with every area of the country (buurten, wijken, gemeenten, NL);
    the demo's fictitious 'country' when ``gemeente`` is the Voorbeeldgemeente."""
    from loaders import repository
    if is_demo(gemeente):
        return repository.Loaded(repository.demo_table(year, "alle"), "demo")
    return repository.load_table(year, "alle")


def load_boundaries(year: int, gemeente: str | None = None, **kw):
    """``repository.LoadedGeo``: every buurt of the country, simplified for a national zoom
    (from the cache after the first time)."""
    from loaders import repository
    if is_demo(gemeente):
        raw = repository.demo_boundaries(year, "buurt", None)
        web, report = geo.prepare_national(raw)
        return repository.LoadedGeo(web, {"fictitious": True, "web": report}, "demo")
    return repository.load_web_boundaries(year, "buurt", None, national=True, **kw)


# ----------------------------------------------------------------------------- geometry
def gemeente_outlines(gdf: gpd.GeoDataFrame, tolerance_m: float = OUTLINE_TOLERANCE_M) -> Lines:
    """The borders between gemeenten (and the outer border), each drawn once, simplified."""
    if gdf.empty:
        return Lines([], [], "gemeentegrenzen")
    gm = (gdf["gemeente_code"] if "gemeente_code" in gdf.columns
          else "GM" + gdf["code"].astype(str).str[2:6]).astype(str).to_numpy()
    geoms = gdf.geometry.values
    merged = []
    for code in np.unique(gm):
        parts = np.asarray(geoms[gm == code], dtype=object)
        try:  # the buurten form a coverage: its union is fast (and only drawn as lines)
            merged.append(shapely.coverage_union_all(parts))
        except shapely.errors.GEOSException:
            merged.append(shapely.union_all(shapely.make_valid(parts), grid_size=10.0 ** -geo.NATIONAL_DECIMALS))
    # every border once: node the boundaries of all gemeenten together
    network = shapely.union_all(shapely.boundary(np.asarray(merged, dtype=object)),
                                grid_size=10.0 ** -geo.NATIONAL_DECIMALS)
    lines = shapely.line_merge(network)
    deg = tolerance_m / 111_000.0
    simple = shapely.simplify(lines, deg, preserve_topology=False)
    out = lines_from([simple], "gemeentegrenzen")
    out.lon = [None if v is None else round(v, geo.NATIONAL_DECIMALS) for v in out.lon]
    out.lat = [None if v is None else round(v, geo.NATIONAL_DECIMALS) for v in out.lat]
    return out


def prepare_geometry(gdf: gpd.GeoDataFrame, *, key: str = "") -> MapGeometry:
    """The national buurt geometry for the maps (level ``buurt``), with the gemeente borders
    as orientation outlines."""
    if gdf is None or len(gdf) == 0:
        return prepare_level_geometry(gdf, "buurt", key=key)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    gdf["code"] = gdf["code"].astype(str).str.strip()
    gdf = gdf.drop_duplicates("code")
    names = dict(zip(gdf["code"], gdf["name"] if "name" in gdf else gdf["code"]))
    minx, miny, maxx, maxy = (float(x) for x in gdf.total_bounds)
    return MapGeometry(level="buurt", geojson=geo.to_geojson(gdf, id_col="code"),
                       codes=gdf["code"].tolist(), names=names,
                       shapes=dict(zip(gdf["code"], gdf.geometry.values)),
                       bounds=(minx, miny, maxx, maxy), parent=gemeente_outlines(gdf), key=key)


# ----------------------------------------------------------------------------- static file
def publish_geojson(geometry: MapGeometry, static_dir: Path | None = None) -> str:
    """Write the GeoJSON of ``geometry`` (with names) once to ``static/geo/<sha256>.json`` and
    return its URL relative to the app (``app/static/geo/<sha256>.json``). Content-addressed:
    the same geometry always gives the same URL, so browsers and plotly may cache it."""
    return publish_bytes(geometry.geojson_file(), static_dir, name=geometry.cached(
                             "geojson_file_name",
                             lambda: hashlib.sha256(geometry.geojson_file()).hexdigest()[:20] + ".json"))


def publish_lines(lines: Lines, static_dir: Path | None = None) -> str:
    """Write outline ``lines`` once as ``{"name": ..., "lines": [[lon, lat, lon, lat, ...], ...]}``
    (4 decimals) to ``static/geo/<sha256>.json``; its URL (for the canvas map)."""
    return publish_bytes(lines.json_bytes(), static_dir)


def publish_bytes(data: bytes, static_dir: Path | None = None, *, name: str | None = None) -> str:
    """Write ``data`` once (atomically) to ``static/geo/<name or sha256>.json``; its app URL."""
    folder = Path(static_dir) if static_dir is not None else STATIC_DIR
    name = name or hashlib.sha256(data).hexdigest()[:20] + ".json"
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".geo.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder, keep=STATIC_KEEP)
    return f"{STATIC_URL}/{name}"


def _prune(folder: Path, keep: int) -> None:
    try:
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for p in files[keep:]:
        p.unlink(missing_ok=True)


def static_path(url: str, static_dir: Path | None = None) -> Path:
    """The file behind a URL of :func:`publish_geojson`."""
    folder = Path(static_dir) if static_dir is not None else STATIC_DIR
    return folder / url.rsplit("/", 1)[-1]
