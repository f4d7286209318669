"""Serving the map files of the cache folder to the browser (Streamlit 1.67, ``st.App``).

The large map GeoJSON and outline files (:mod:`loaders.static_files`) live under the cache
folder, ``<BUURTMONITOR_CACHE_DIR>/static/geo/``, and the browser fetches them by URL
(``buurtmonitor/geo/<sha256>.json``). Why a route of our own, and not one of Streamlit's ways:

* ``server.enableStaticServing`` serves only ``<main script folder>/static``: the code folder,
  which may be read-only (a package install, a container image). Writing there was the defect.
* the media file manager (``runtime.media_file_mgr``) keeps files in memory per session and
  script run, and its ``/media`` responses carry no ``Cache-Control``: the browser would not
  keep a 4 MB geometry between visits, and the files would not be on disk for the next process.
* custom component v2 assets are served from an ``asset_dir`` declared in a package's
  ``pyproject.toml``, again inside the installed code.
* ``st.App`` (Streamlit's ASGI app) takes extra Starlette routes. ``streamlit run dashboard.py``
  finds the ``app`` in ``dashboard.py`` and serves it with this route beside Streamlit's own.
  The files are read from disk per request, so every session and every worker process sees
  the same files; names are content addresses, so a response may be cached for a year
  (``immutable``) and the browser fetches a geometry once. Streamlit's gzip middleware
  compresses it on the wire.

:func:`is_served` tells the app whether the route is mounted in this process; without it (a
test run without a server, an embedding without ``st.App``) the maps carry their geometry
inline.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from streamlit import config

from loaders import static_files

#: one year, never revalidated: a name is the hash of the content
CACHE_CONTROL = "public, max-age=31536000, immutable"
_SERVED = {"mounted": False}


def _base_path() -> str:
    """Streamlit's ``server.baseUrlPath`` as ``/path`` (or ``""``)."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


async def geo_file(request: Request) -> Response:
    """``GET <base>/buurtmonitor/geo/<name>``: a published map file, or 404."""
    path = static_files.static_path(str(request.path_params.get("name", "")))
    if path is None or not path.is_file():
        return PlainTextResponse("niet gevonden", status_code=404)
    media = "application/x-protobuf" if path.suffix == ".pbf" else "application/json"
    return FileResponse(path, media_type=media, headers={"Cache-Control": CACHE_CONTROL})


def routes() -> list[BaseRoute]:
    """The routes ``dashboard.py`` gives ``st.App``; marks the files as served in this process."""
    _SERVED["mounted"] = True
    return [Route(f"{_base_path()}/{static_files.URL_PATH}/{{name}}", geo_file, methods=["GET", "HEAD"])]


def is_served() -> bool:
    """Whether this process serves :data:`loaders.static_files.URL_PATH` (see the module doc)."""
    return _SERVED["mounted"]


def file_for(url: str) -> Path | None:
    """The file behind a served URL (tests, bench)."""
    return static_files.static_path(url)
