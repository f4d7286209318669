"""All buurten of the Netherlands on one map (Kaart page, level "Alle buurten van Nederland").

Naive GeoJSON cannot carry this in plotly: the ~14,000 buurten of PDOK at full detail are
~140 MB of GeoJSON. The data path:

* statistics: ``repository.load_table(year, "alle", demo=...)`` (every area of the country,
  or the fictitious areas of the demo when the Voorbeeldgemeente is chosen);
* boundaries: ``repository.load_web_boundaries(year, "buurt", None, national=True, demo=...)``:
  the PDOK buurten of the whole country (paged), simplified once for a national zoom by
  :func:`buurtmonitor.geo.prepare_national` (100 m coverage simplification, slivers dropped,
  4 decimals: ~4 MB for 14,000 buurten) and kept in the cache, raw and simplified;
* the map: :func:`prepare_geometry` here gives a
  :class:`~buurtmonitor.maps.geometry.MapGeometry` with the gemeente borders (not the ~3,000
  wijk borders) as orientation; ``loaders.static_files`` writes its GeoJSON once,
  content-addressed, under the cache folder and the app serves it by URL, so the browser
  fetches the geometry once and a rerun only re-sends colours and labels.

The loading and the Streamlit caching (one MapGeometry per year in the process) live in
``app.maps``. Pure functions, no I/O.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from buurtmonitor import geo
from buurtmonitor.maps.geometry import Lines, MapGeometry, lines_from
from buurtmonitor.maps.geometry import prepare_geometry as prepare_level_geometry

LEVEL = "buurt_nl"
LABEL = "Alle buurten van Nederland"
#: simplification of the gemeente borders drawn over the national buurt map (metres)
OUTLINE_TOLERANCE_M = 200.0


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
