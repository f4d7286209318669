"""Files the browser fetches by URL: the GeoJSON of a large map and the outlines drawn over it.

They are written once, content-addressed (``<sha256 prefix>.json``: the same geometry always
has the same name, so a browser may cache a file for good), under the cache folder:
``<BUURTMONITOR_CACHE_DIR>/static/geo/``. Never in the code folder, which may be read-only.
The app serves that folder at :data:`URL_PATH` (:mod:`app.static_route`); this module only
writes and finds the files (through :func:`loaders.files.write_atomic`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from buurtmonitor.maps import glyphs
from buurtmonitor.maps.geometry import Lines, MapGeometry
from loaders.files import write_atomic
from loaders.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: the folder under the cache folder
SUBDIR = Path("static") / "geo"
#: URL path (relative to the app's base URL) the files are served at
URL_PATH = "buurtmonitor/geo"
#: keep at most this many files (the oldest are removed first)
KEEP = 200
#: a published file name: 20 hex digits of its SHA-256 and ``.json``
NAME = re.compile(r"^[0-9a-f]{20}\.(json|pbf)$")


def static_dir(settings: Settings | None = None) -> Path:
    """``<cache folder>/static/geo`` of ``settings`` (default: the current settings)."""
    return (settings or get_settings()).cache_dir / SUBDIR


def file_name(data: bytes) -> str:
    """The content address of ``data``: ``<20 hex digits of its SHA-256>.json``."""
    return hashlib.sha256(data).hexdigest()[:20] + ".json"


def publish_bytes(data: bytes, folder: Path | None = None, *, name: str | None = None) -> str:
    """Write ``data`` once (atomically) to ``<folder>/<name or content address>`` and return its
    URL relative to the app (``buurtmonitor/geo/<name>``). An existing file is left alone.

    Parameters
    ----------
    data : bytes
    folder : Path, optional
        Default :func:`static_dir`.
    name : str, optional
        The content address when the caller already knows it.
    """
    target_dir = Path(folder) if folder is not None else static_dir()
    name = name or file_name(data)
    if not NAME.match(name):
        raise ValueError(f"Ongeldige bestandsnaam {name!r}.")
    path = target_dir / name
    if not path.exists():
        write_atomic(path, data)
        _prune(target_dir, keep=KEEP)
    return f"{URL_PATH}/{name}"


def publish_glyphs(folder: Path | None = None) -> str | None:
    """The glyphs of the area names (:func:`buurtmonitor.maps.glyphs.glyphs_pbf`) as a served file;
    the URL template a MapLibre style's ``glyphs`` needs (``{fontstack}``/``{range}`` in the query,
    which the route ignores: every range gets the same file). None without a font."""
    data = glyphs.glyphs_pbf(glyphs.CHARACTERS)
    if not data:
        return None
    name = hashlib.sha256(data).hexdigest()[:20] + ".pbf"
    return publish_bytes(data, folder, name=name) + "?{fontstack}/{range}"


def publish_geojson(geometry: MapGeometry, folder: Path | None = None) -> str:
    """Publish the GeoJSON of ``geometry`` (with names, :meth:`MapGeometry.geojson_file`); its URL."""
    data = geometry.geojson_file()
    return publish_bytes(data, folder, name=geometry.cached("geojson_file_name", lambda: file_name(data)))


def publish_lines(lines: Lines, folder: Path | None = None) -> str:
    """Publish outline ``lines`` as ``{"name": ..., "lines": [[lon, lat, ...], ...]}``
    (:meth:`Lines.json_bytes`, for the canvas map); its URL."""
    return publish_bytes(lines.json_bytes(), folder)


def static_path(url_or_name: str, folder: Path | None = None) -> Path | None:
    """The file behind a URL (or name) of :func:`publish_bytes`; None when the name is not one
    this module writes (so a request can never reach another file)."""
    name = url_or_name.rsplit("/", 1)[-1]
    if not NAME.match(name):
        return None
    return (Path(folder) if folder is not None else static_dir()) / name


def _prune(folder: Path, keep: int) -> None:
    try:
        files = sorted((p for p in folder.iterdir() if NAME.match(p.name)),
                       key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError as exc:
        log.warning("Kaartbestanden niet opgeruimd: %s", exc)
        return
    for p in files[keep:]:
        p.unlink(missing_ok=True)
