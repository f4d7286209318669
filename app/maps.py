"""The maps of the app: the geometry of a map (prepared once per process and shared between
sessions), where the browser fetches a large geometry, and the canvas map component.

The Kaart page calls these; the geometry itself is :mod:`buurtmonitor.maps`, the data come
from :mod:`loaders.repository`, the served files from :mod:`loaders.static_files` and
:mod:`app.static_route`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pandas as pd
import streamlit as st

from app import static_route, ui
from buurtmonitor.catalogue import Indicator
from buurtmonitor.maps import canvas as canvasmap
from buurtmonitor.maps import national
from buurtmonitor.maps.canvas import CanvasSpec
from buurtmonitor.maps.geometry import MapGeometry, prepare_geometry
from loaders import repository, static_files
from loaders.settings import get_settings

log = logging.getLogger(__name__)

#: A map's GeoJSON up to this size goes inline in the figure; a larger one is served once as
#: a file (see :func:`geojson_url`), so reruns do not re-send the geometry. Env
#: BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES overrides it (0 = always a file).
INLINE_GEOJSON_MAX_BYTES = 150_000
#: from this many areas on the Kaart page draws the map on a canvas (buurtmonitor.maps.canvas)
#: instead of plotly's WebGL map; env BUURTMONITOR_CANVAS_MIN_AREAS overrides it (0 = always)
CANVAS_MIN_AREAS = 2500


def map_geometry(year: int, level: str, gemeente: str | None) -> tuple[MapGeometry, str, str | None]:
    """(MapGeometry, origin, warning): boundaries prepared once per year + gemeente + level
    (GeoJSON, shapes, bounds, parent outlines). Shared between sessions, read-only (its memo
    is thread-safe). ``level="buurt_nl"``: every buurt of the country (the demo's when
    ``gemeente`` is the Voorbeeldgemeente), one shared geometry whatever the gemeente. Keyed
    on the checksum of the cached boundaries (:func:`app.ui.geo_stamp`): a refresh is seen
    without a restart."""
    stamp = ui.geo_stamp(year, level, gemeente)
    if level == national.LEVEL:
        return national_geometry(year, repository.is_demo_scope(gemeente), stamp)
    return _map_geometry(year, level, gemeente, stamp)


@st.cache_resource(show_spinner=False, max_entries=32)
def _map_geometry(year: int, level: str, gemeente: str | None, stamp: str) -> tuple[MapGeometry, str, str | None]:
    gdf, origin, warning = ui.load_geo(year, level, gemeente)
    key = f"{'NL' if level == 'gemeente' else gemeente}-{level}-{year}"
    return prepare_geometry(gdf, level, key=key), origin, warning


@st.cache_resource(show_spinner=False, max_entries=4)
def national_geometry(year: int, demo: bool, stamp: str = "") -> tuple[MapGeometry, str, str | None]:
    """(MapGeometry, origin, warning) of all buurten of NL (or of the demo), simplified for a
    national zoom; computed once per process (and once on disk)."""
    got = repository.load_web_boundaries(year, "buurt", None, national=True, demo=demo)
    geometry = national.prepare_geometry(got.gdf, key=f"NL-buurt_nl-{year}{'-demo' if demo else ''}")
    return geometry, got.origin, got.warning


def geojson_url(geometry: MapGeometry | None, *, served: bool | None = None) -> str | None:
    """Where the browser fetches a large map geometry (``buurtmonitor/geo/<hash>.json`` under
    the cache folder, written once), or None to keep a small one inline in the figure; also
    None when the files are not served in this process (``served``: default
    :func:`app.static_route.is_served`) or the cache folder is not writable."""
    if geometry is None or geometry.empty or geometry.geojson_size() <= inline_geojson_max_bytes():
        return None
    if not (static_route.is_served() if served is None else served):
        return None
    try:
        return static_files.publish_geojson(geometry)
    except (OSError, ValueError) as exc:  # inline still works
        log.warning("Kaartgeometrie niet als bestand bewaard, dus inline: %s", exc)
        return None


def glyphs_url(*, served: bool | None = None) -> str | None:
    """Where the browser fetches the glyphs of the area names on a plotly map (a file under the
    cache folder, written once, cached by the browser), or None to carry them inline in the
    figure (about 140 kB) when the files are not served or cannot be written."""
    if not (static_route.is_served() if served is None else served):
        return None
    try:
        return static_files.publish_glyphs()
    except (OSError, ValueError) as exc:  # inline still works
        log.warning("Lettertekens van de kaart niet als bestand bewaard, dus inline: %s", exc)
        return None


def _env_int(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


def inline_geojson_max_bytes() -> int:
    """:data:`INLINE_GEOJSON_MAX_BYTES`, or ``BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES`` when set."""
    return _env_int("BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES", INLINE_GEOJSON_MAX_BYTES)


def canvas_min_areas() -> int:
    """:data:`CANVAS_MIN_AREAS`, or ``BUURTMONITOR_CANVAS_MIN_AREAS`` when set to a number."""
    return _env_int("BUURTMONITOR_CANVAS_MIN_AREAS", CANVAS_MIN_AREAS)


def use_canvas_map(geometry: MapGeometry | None) -> bool:
    """Whether the Kaart page shows ``geometry`` as a canvas map (thousands of areas); plotly's
    map otherwise (and always for exports and the online background)."""
    return geometry is not None and not geometry.empty and len(geometry.codes) >= canvas_min_areas()


def canvas_map_spec(geometry: MapGeometry, frame: pd.DataFrame, indicator: Indicator | str, *,
                    served: bool | None = None, **options: Any) -> CanvasSpec:
    """:func:`buurtmonitor.maps.canvas.spec` with the geometry and the outlines of the level
    above as served files where possible (inline otherwise)."""
    url = geojson_url(geometry, served=served)
    parent_url = None
    if url and geometry.parent is not None and not geometry.parent.empty:
        try:
            parent_url = static_files.publish_lines(geometry.parent)
        except (OSError, ValueError) as exc:  # inline still works
            log.warning("Grenslijnen niet als bestand bewaard, dus inline: %s", exc)
    return canvasmap.spec(geometry, frame, indicator, url=url, parent_url=parent_url, **options)


@st.cache_resource
def _canvas_component():
    js, css = canvasmap.assets()
    return st.components.v2.component("buurtmonitor.canvasmap", js=js, css=css)


def canvas_map(spec: CanvasSpec, *, key: str) -> str | None:
    """Mount the canvas map of ``spec`` (:func:`buurtmonitor.maps.canvas.spec`); the code of a
    newly clicked area, else None."""
    result = _canvas_component()(key=key, data=spec.component_data(), height=spec.height + 2,
                                 on_clicked_change=lambda: None)
    clicked = result.get("clicked") if hasattr(result, "get") else getattr(result, "clicked", None)
    return str(clicked) if clicked else None


#: said under a map with the online background: what happens when the tiles do not load
ONLINE_BACKGROUND_NOTE = ("Online achtergrond: kaarttegels van CARTO (© OpenStreetMap-bijdragers) via internet. "
                          "Lukt dat niet, dan blijft de kaart zichtbaar op een witte achtergrond.")
#: said instead when the app runs without network (BUURTMONITOR_OFFLINE)
ONLINE_BACKGROUND_OFFLINE = ("De online achtergrond is niet beschikbaar: Buurtmonitor werkt hier zonder internet. "
                             "De kaart wordt zonder achtergrond getoond.")


def background(online: bool) -> tuple[bool, str | None]:
    """(whether the map gets the online background, the Dutch line to show with it): without
    network (``BUURTMONITOR_OFFLINE``) the map falls back to no background and says so; with
    it the tiles are a layer over white (:func:`buurtmonitor.maps.choropleth.map_style`), so a
    tile server that cannot be reached leaves the map drawn, and the line says that too."""
    if not online:
        return False, None
    if get_settings().offline:
        return False, ONLINE_BACKGROUND_OFFLINE
    return True, ONLINE_BACKGROUND_NOTE
