"""Static images of one view (PNG/SVG/PDF) and the interactive HTML fallback.

Import from :mod:`buurtmonitor.export`; this module holds the image half of it.

Rendering uses kaleido 1.x, which drives a headless Chromium. One :class:`kaleido.Kaleido`
(its documented browser object: ``open()``, ``calc_fig()``, ``close()``) is kept open on
its own asyncio loop in a background thread, so the browser stays warm between exports.
PDF, and PNG/SVG whenever the fast path below is off or fails, are ``Kaleido.calc_fig``.

The fast path (PNG and SVG), a measured exception to "public API only": kaleido's
``calc_fig`` reloads its tab after every image and plotly.js' ``toImage`` waits a fixed
500 ms for every map, so each map image builds a new MapLibre map and WebGL context
(expensive with software rendering). Here the figure is drawn in the kaleido tab with
``Plotly.react`` on a graph div that is kept between calls, we wait until every map is idle,
then ``Plotly.Snapshot`` (toSVG, svgToImg) exactly as ``Plotly.toImage`` does; the bytes are
the same as a fresh render. Warm exports measured with ``bench/bench_export.py``, two
interleaved runs each on the shared 2-core machine (load average 8-10; medians in s):

==========================  ===============  ===================
image                       fast path        ``calc_fig`` only
==========================  ===============  ===================
map PNG, 3 polygons         1.01 / 1.76      4.26 / 6.20
map PNG, 100 polygons       4.19 / 4.68      4.84 / 4.97
map SVG, 3 polygons         1.10 / 1.30      4.02 / 3.25
bar chart PNG               0.23 / 0.23      0.55 / 0.41
==========================  ===============  ===================

(unloaded earlier: 0.36 s / 0.84 s for 3 / 100 polygons.) It uses kaleido internals
(``Kaleido.tabs_ready``, the tab's ``send_command``/``reload``) and plotly.js internals
(``Plotly.Snapshot``, ``_fullLayout``), so it is pinned: it runs only with the versions in
:data:`FAST_PATH_VERSIONS` (the ones in ``requirements.txt``, tested in
``tests/test_export.py``); with any other version every image goes through ``calc_fig``.
After three failures in a row it switches itself off for the process.

The export Chromium is started with the flags that stop its background networking
(:data:`QUIET_FLAGS`; without them one start, one export and 15 s idle made 48 DNS queries
to outside hosts, measured with strace: accounts.google.com, update.googleapis.com, start.duckduckgo.com,
optimizationguide-pa.googleapis.com, clients2.google.com; with them none), through the
public ``browser_cls`` argument that kaleido passes on to choreographer's ``Browser``: a
``choreographer.browsers.Chromium`` whose command line gets them.

The browser is the one in ``BROWSER_PATH``; when that is unset and ``/usr/bin/chromium``
exists, that is used (and put into ``BROWSER_PATH`` for kaleido). Without a browser every
image call raises :class:`StaticExportUnavailable` with a Dutch message; the view can then
offer :func:`figure_to_html` instead.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import hashlib
import html
import importlib.metadata
import json
import logging
import math
import os
import re
import shutil
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from buurtmonitor.model import FICTITIOUS_LABEL, SOURCE_CBS, TableMeta

_log = logging.getLogger(__name__)

DEFAULT_BROWSER = "/usr/bin/chromium"
MIN_PNG_WIDTH = 2400          # print resolution: A4 width at ~300 dpi
START_TIMEOUT = 60.0          # seconds to start the browser
RENDER_TIMEOUT = 60.0         # seconds for one image
_RELOAD_EVERY = 50            # fast-path renders before the tab is reloaded (frees memory)
#: Resolution of the MapLibre map layer in PNG/SVG. 1.0 draws the map at layout pixels
#: and lets the PNG scaling enlarge it (edges slightly soft at 2400 px, ~0.4 s faster per
#: map with software WebGL); None draws it at the output scale (sharpest).
MAP_PIXEL_RATIO: float | None = 1.0
#: the fast path runs only with exactly these versions (pinned in requirements.txt)
FAST_PATH_VERSIONS = {"kaleido": "1.5.0", "choreographer": "1.4.0", "plotly": "7.1.0"}
#: added to choreographer's Chromium command line: no background networking of any kind
#: (component/variation updates, sync, safe browsing, DNS prefetch, QUIC, metrics)
QUIET_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--dns-prefetch-disable",
    "--no-pings",
    "--metrics-recording-only",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying",
    # what is still asked for in headless mode with the flags above (measured with strace on
    # Debian's chromium): sign-in, component updates, the default search engine. Resolved to
    # nothing; the tile hosts of an online map background stay reachable.
    "--host-resolver-rules=MAP accounts.google.com ~NOTFOUND, MAP *.googleapis.com ~NOTFOUND, "
    "MAP *.gvt1.com ~NOTFOUND, MAP clients*.google.com ~NOTFOUND, MAP *.duckduckgo.com ~NOTFOUND",
)

ProgressCallback = Callable[[float, str], None]


# ----------------------------------------------------------------------------- the item
@dataclass
class ExportItem:
    """Everything an export needs to know about one view.

    ``definitions``: dicts with keys ``id``, ``label``, ``definition``, ``unit``.
    ``resources``: dicts with ``title``, ``publisher``, ``url``, ``why``.
    ``notes``: worksheet notes, dicts with ``section``, ``area``, ``text`` (shown verbatim).
    ``summary_table``: a small table (text cells) a PDF pack prints under the key figures,
    beside a figure; ``table`` stays the full table of the CSV/XLSX export.
    ``fictitious``: every export then carries :data:`FICTITIOUS_LABEL` visibly.
    ``area_table``: the compact per-area table of a map (text cells: area, value, n, note),
    printed by the packs beside the map so every area can be found by name.
    """

    title: str
    subtitle: str = ""                       # e.g. "Ede · 2024 · buurten"
    figure: Any = None                       # plotly go.Figure or None
    table: pd.DataFrame | None = None        # what the view shows
    definitions: list[dict] = field(default_factory=list)
    key_figures: list[str] = field(default_factory=list)
    source_line: str = ""
    table_ids: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    fictitious: bool = False
    summary_table: pd.DataFrame | None = None
    area_table: pd.DataFrame | None = None

    @classmethod
    def from_meta(cls, meta: TableMeta, **kwargs: Any) -> ExportItem:
        """An item whose source line, table id, year and fictitious flag come from ``meta``."""
        kwargs.setdefault("source_line", meta.source_line())
        kwargs.setdefault("table_ids", [meta.table_id] if meta.table_id else [])
        kwargs.setdefault("years", [meta.year])
        kwargs.setdefault("fictitious", meta.fictitious)
        return cls(**kwargs)


def alt_text(item: ExportItem, *, max_chars: int = 1000) -> str:
    """The text alternative of an item's picture in a PDF or PPTX: what it shows (title and
    subtitle), its key figures, that the numbers are in the table, the source; fictitious data
    say so first. Never a file name."""
    parts = [FICTITIOUS_LABEL + "." if item.fictitious else "", f"Figuur: {item.title.strip()}."]
    if item.subtitle:
        parts.append(f"{item.subtitle.strip()}.")
    if item.key_figures:
        parts.append("Kerncijfers: " + "; ".join(k.strip().rstrip(".") for k in item.key_figures) + ".")
    if item.table is not None and not item.table.empty:
        parts.append("De cijfers staan ook in de tabel bij deze figuur.")
    if item.source_line:
        parts.append(item.source_line.strip().rstrip(".") + ".")
    text = " ".join(p for p in parts if p)
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


class StaticExportUnavailable(RuntimeError):
    """No static image can be made (no browser, or the browser failed). ``str(e)`` is Dutch
    and meant for the user; offer :func:`figure_to_html` instead."""


def export_date_text(exported_at: datetime | None = None) -> str:
    """'Geëxporteerd op 30-11-2026'."""
    return f"Geëxporteerd op {(exported_at or datetime.now()):%d-%m-%Y}"


# ----------------------------------------------------------------------------- browser
def _browser_path() -> str | None:
    """The browser kaleido will use (sets BROWSER_PATH to /usr/bin/chromium if unset)."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env
    if Path(DEFAULT_BROWSER).is_file():
        os.environ["BROWSER_PATH"] = DEFAULT_BROWSER
        return DEFAULT_BROWSER
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def static_export_status() -> str | None:
    """None when static export can run, else the Dutch reason why not (no browser started)."""
    try:
        import kaleido  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import problem means: not available
        return ("Statische export (PNG/SVG/PDF) is niet beschikbaar: het pakket kaleido "
                f"ontbreekt of werkt niet ({exc}). Download de figuur als interactieve HTML.")
    path = _browser_path()
    if not path:
        return ("Statische export (PNG/SVG/PDF) is niet beschikbaar: er is geen Chromium-browser "
                "gevonden. Installeer Chromium (bijvoorbeeld 'apt-get install chromium') of zet "
                "BROWSER_PATH naar de browser. Download de figuur zolang als interactieve HTML.")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        return ("Statische export (PNG/SVG/PDF) is niet beschikbaar: de browser in BROWSER_PATH "
                f"({path}) bestaat niet of is niet uitvoerbaar. Installeer Chromium of corrigeer "
                "BROWSER_PATH. Download de figuur zolang als interactieve HTML.")
    return None


# Runs inside the kaleido page (plotly.js is loaded there). Same steps as Plotly.toImage
# (plot static, redraw colour bars, toSVG, svgToImg) but (1) without its fixed 500 ms wait
# for maps: we wait until every MapLibre map is idle instead, and (2) on a graph div that
# is kept between calls and updated with Plotly.react, so a MapLibre map (and its WebGL
# context and compiled shaders, expensive with software rendering) is reused. Map and
# non-map figures get separate divs; a div is rebuilt when size or pixel ratio change,
# and dropped after any error.
_RENDER_JS = r"""
async function(figJson, width, height, scale, format, mapPixelRatio) {
  const fig = JSON.parse(figJson);
  const data = fig.data || [];
  const dpr = mapPixelRatio || scale;
  // MapLibre sizes its canvas by devicePixelRatio.
  Object.defineProperty(window, 'devicePixelRatio', {configurable: true, get: () => dpr});
  const MAP_TYPES = ['choroplethmap', 'scattermap', 'densitymap'];
  const kind = data.some((t) => MAP_TYPES.includes(t.type)) ? 'map' : 'plain';
  const sig = [width, height, dpr].join('x');
  const store = window.__buurtmonitor || (window.__buurtmonitor = {});
  const drop = (slot) => {
    try { Plotly.purge(slot.gd); } catch (e) { /* ignore */ }
    slot.gd.remove();
  };
  let slot = store[kind];
  if (slot && slot.sig !== sig) { drop(slot); slot = null; }
  if (!slot) {
    const div = document.createElement('div');
    div.style.position = 'absolute';
    div.style.left = '-5000px';
    div.style.top = '0px';
    document.body.appendChild(div);
    slot = store[kind] = {gd: div, sig: sig};
  }
  const gd = slot.gd;
  try {
    const layout = Object.assign({}, fig.layout || {}, {width: width, height: height});
    const config = Object.assign({plotGlPixelRatio: scale * 2}, fig.config || {},
                                 {staticPlot: true, _exportedPlot: true});
    await Plotly.react(gd, data, layout, config);
    Plotly.Snapshot.getRedrawFunc(gd)();
    const fl = gd._fullLayout;
    const ids = (fl._subplots && fl._subplots.map) || [];
    await Promise.all(ids.map((id) => new Promise((resolve) => {
      const sub = fl[id] && fl[id]._subplot;
      const map = sub && sub.map;
      if (!map) { resolve(); return; }
      const started = performance.now();
      const wait = () => {
        map.once('idle', () => {
          if (map.loaded() || performance.now() - started > 20000) { resolve(); } else { wait(); }
        });
        map.triggerRepaint();
      };
      wait();
      setTimeout(resolve, 25000);
    })));
    const svg = Plotly.Snapshot.toSVG(gd, format, scale);
    if (format === 'svg') return JSON.stringify({svg: svg});
    const canvas = document.createElement('canvas');
    const url = await Plotly.Snapshot.svgToImg({format: 'png', width: width, height: height,
                                                scale: scale, canvas: canvas, svg: svg,
                                                promise: true});
    return JSON.stringify({png: url.replace(/^data:image\/png;base64,/, '')});
  } catch (err) {
    drop(slot);
    delete store[kind];
    throw err;
  }
}
"""


def quiet_browser_class() -> type:
    """choreographer's ``Chromium`` with :data:`QUIET_FLAGS` added to its command line (for
    ``Kaleido(browser_cls=...)``; imported lazily, like kaleido)."""
    from choreographer.browsers import Chromium

    class QuietChromium(Chromium):
        """Chromium without background networking (no outside DNS queries)."""

        def get_cli(self) -> list[str]:
            cli = list(super().get_cli())
            return cli + [flag for flag in QUIET_FLAGS if flag not in cli]

    return QuietChromium


def fast_path_supported() -> bool:
    """Whether the installed kaleido, choreographer and plotly are the versions the fast
    path was written and tested for (:data:`FAST_PATH_VERSIONS`)."""
    try:
        return all(importlib.metadata.version(name) == version
                   for name, version in FAST_PATH_VERSIONS.items())
    except importlib.metadata.PackageNotFoundError:
        return False


class _Engine:
    """One warm headless Chromium (via kaleido) on its own asyncio loop and thread."""

    def __init__(self, browser: str) -> None:
        self.browser = browser
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="buurtmonitor-kaleido", daemon=True)
        self._thread.start()
        self._k: Any = None
        self.fast_path = fast_path_supported()
        self._fast_failures = 0
        self._since_reload = 0
        self.closed = False
        try:
            self._call(self._open(), START_TIMEOUT)
        except BaseException:
            self.close()
            raise

    # -- plumbing
    def _call(self, coro: Any, timeout: float) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout)
        except TimeoutError:
            fut.cancel()
            raise

    async def _open(self) -> None:
        import kaleido

        # mathjax=False: the default MathJax comes from a CDN, which would stall offline.
        k = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, mathjax=False, path=self.browser,
                            browser_cls=quiet_browser_class())
        await k.open()
        self._k = k

    async def _close(self) -> None:
        if self._k is not None:
            await self._k.close()
            self._k = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self._k is not None and self._loop.is_running():
                self._call(self._close(), 20)
        except Exception:  # noqa: BLE001 - best effort on shutdown
            _log.debug("closing the export browser failed", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- rendering
    async def _fast(self, fig_json: str, width: int, height: int, scale: float, fmt: str) -> bytes:
        k = self._k
        ktab = await k.tabs_ready.get()
        ok = False
        try:
            tab = ktab.tab
            ref = await tab.send_command("Runtime.evaluate", params={
                "expression": "globalThis", "objectGroup": "buurtmonitor"})
            object_id = ref["result"]["result"]["objectId"]
            res = await tab.send_command("Runtime.callFunctionOn", params={
                "functionDeclaration": _RENDER_JS,
                "objectId": object_id,
                "arguments": [{"value": fig_json}, {"value": width}, {"value": height},
                              {"value": scale}, {"value": fmt},
                              {"value": MAP_PIXEL_RATIO}],
                "awaitPromise": True,
                "returnByValue": True,
            })
            await tab.send_command("Runtime.releaseObjectGroup",
                                   params={"objectGroup": "buurtmonitor"})
            if "error" in res:
                raise RuntimeError(f"devtools: {res['error']}")
            result = res.get("result", {})
            if "exceptionDetails" in result:
                details = result["exceptionDetails"]
                msg = details.get("exception", {}).get("description") or details.get("text")
                raise RuntimeError(f"javascript: {msg}")
            payload = json.loads(result["result"]["value"])
            ok = True
            if fmt == "svg":
                return payload["svg"].encode("utf-8")
            return base64.b64decode(payload["png"])
        finally:
            self._since_reload += 1
            # a map with names (a text layer with its own glyphs) fails when it is updated in
            # place by the next map: the tab is reloaded after it
            named_map = '"mode":"text"' in fig_json and '"glyphs"' in fig_json
            if not ok or named_map or self._since_reload >= _RELOAD_EVERY:
                self._since_reload = 0
                try:
                    await ktab.reload()
                except Exception:  # noqa: BLE001
                    _log.debug("tab reload failed", exc_info=True)
            await k.tabs_ready.put(ktab)

    async def _kaleido(self, fig_dict: dict, width: int, height: int, scale: float,
                       fmt: str) -> bytes:
        return await self._k.calc_fig(
            fig_dict, opts={"format": fmt, "width": width, "height": height, "scale": scale})

    def render(self, fig_json: str, fmt: str, width: int, height: int, scale: float) -> bytes:
        if fmt in ("png", "svg") and self.fast_path:
            try:
                out = self._call(asyncio.wait_for(
                    self._fast(fig_json, width, height, scale, fmt), RENDER_TIMEOUT),
                    RENDER_TIMEOUT + 10)
                self._fast_failures = 0
                return out
            except TimeoutError:
                raise
            except Exception:  # noqa: BLE001 - try kaleido's own path below
                _log.warning("snelle export mislukt; terugval op kaleido.calc_fig", exc_info=True)
                self._fast_failures += 1
                if self._fast_failures >= 3:
                    self.fast_path = False
        return self._call(self._kaleido(json.loads(fig_json), width, height, scale, fmt),
                          RENDER_TIMEOUT + 10)


_ENGINE: _Engine | None = None
_ENGINE_LOCK = threading.RLock()


def _engine() -> _Engine:
    global _ENGINE
    reason = static_export_status()
    if reason:
        raise StaticExportUnavailable(reason)
    browser = _browser_path()
    assert browser is not None  # static_export_status() found it
    with _ENGINE_LOCK:
        if _ENGINE is not None and (_ENGINE.closed or _ENGINE.browser != browser):
            _ENGINE.close()
            _ENGINE = None
        if _ENGINE is None:
            try:
                _ENGINE = _Engine(browser)
            except Exception as exc:  # noqa: BLE001
                raise StaticExportUnavailable(
                    "Statische export (PNG/SVG/PDF) is niet beschikbaar: de browser "
                    f"({browser}) kon niet worden gestart ({type(exc).__name__}: {exc}). "
                    "Download de figuur als interactieve HTML.") from exc
        return _ENGINE


def warm_up() -> None:
    """Start the export browser now (first export otherwise pays ~2 s). Raises
    :class:`StaticExportUnavailable` when there is no browser."""
    _engine()


def shutdown() -> None:
    """Stop the export browser (it restarts on the next export)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is not None:
            _ENGINE.close()
            _ENGINE = None


atexit.register(shutdown)


# ----------------------------------------------------------------------------- decoration
def _esc(text: str) -> str:
    """Plotly interprets a little HTML in text; show user text literally."""
    return html.escape(str(text), quote=False)


def _wrap(text: str, width_chars: int) -> str:
    lines = textwrap.wrap(str(text), max(20, width_chars)) or [""]
    return "<br>".join(_esc(line) for line in lines)


_OWN_ANNOTATION_NAMES = {"bronregel", "bron", "fictief", "source", "fictitious"}


def _drop_own_annotations(fig, item: ExportItem) -> None:
    """Remove the view's own source line / fictitious label annotations (the export adds
    its own, placed for the export size): by name, or by text."""
    source = html.unescape(item.source_line or "").strip()
    keep = []
    for ann in fig.layout.annotations:
        text = html.unescape(re.sub(r"<[^>]+>", "", str(ann.text or ""))).strip()
        if (ann.name in _OWN_ANNOTATION_NAMES or FICTITIOUS_LABEL in text
                or text.startswith(SOURCE_CBS) or (source and source in text)):
            continue
        keep.append(ann)
    fig.layout.annotations = keep


def _coords(obj, out: list) -> None:
    """All [lon, lat] pairs in a GeoJSON coordinates array."""
    if isinstance(obj, (list, tuple)):
        if len(obj) >= 2 and all(isinstance(v, (int, float)) for v in obj[:2]):
            out.append((float(obj[0]), float(obj[1])))
        else:
            for part in obj:
                _coords(part, out)


def _map_points(fig, subplot: str) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for tr in fig.data:
        if (getattr(tr, "subplot", None) or "map") != subplot:
            continue
        if tr.type == "choroplethmap" and isinstance(tr.geojson, dict):
            wanted = {str(x) for x in (tr.locations if tr.locations is not None else [])}
            key = tr.featureidkey or "id"
            feats = tr.geojson.get("features", [tr.geojson])
            for f in feats:
                fid = f.get("id") if key == "id" else f.get("properties", {}).get(key.split(".")[-1])
                if wanted and str(fid) not in wanted:
                    continue
                _coords((f.get("geometry") or {}).get("coordinates"), pts)
        elif tr.type in ("scattermap", "densitymap") and tr.lon is not None and tr.lat is not None:
            for lon, lat in zip(tr.lon, tr.lat):
                if lon is not None and lat is not None and math.isfinite(lon) and math.isfinite(lat):
                    pts.append((float(lon), float(lat)))
    return [(x, y) for x, y in pts if -180 <= x <= 180 and -85 < y < 85]


def _fit_maps(fig, plot_w: float, plot_h: float, padding: float = 0.05) -> None:
    """Centre and zoom every MapLibre subplot on its data for the export's plot area (the
    view's zoom was chosen for the screen, not for this image size)."""
    for name in [k for k in fig.layout if k == "map" or (k.startswith("map") and k[3:].isdigit())]:
        pts = _map_points(fig, name)
        if len(pts) < 2:
            continue
        sub = fig.layout[name]
        dom_x = sub.domain.x or (0, 1)
        dom_y = sub.domain.y or (0, 1)
        w = plot_w * (dom_x[1] - dom_x[0]) * (1 - 2 * padding)
        h = plot_h * (dom_y[1] - dom_y[0]) * (1 - 2 * padding)
        merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # noqa: E731
        lons = [p[0] for p in pts]
        ys = [merc(p[1]) for p in pts]
        dx = (max(lons) - min(lons)) / 360 or 1e-6
        dy = (max(ys) - min(ys)) / (2 * math.pi) or 1e-6
        zoom = math.log2(min(w / (512 * dx), h / (512 * dy)))
        cy = (max(ys) + min(ys)) / 2
        center = dict(lon=(max(lons) + min(lons)) / 2,
                      lat=math.degrees(2 * math.atan(math.exp(cy)) - math.pi / 2))
        sub.update(center=center, zoom=max(0.0, min(zoom, 18.0)))


def decorate_figure(item: ExportItem, width: int = 1400, height: int = 900,
                    exported_at: datetime | None = None, fit_maps: bool = True):
    """A copy of ``item.figure`` carrying title, subtitle, source line, export date and
    (for demo data) the fictitious label, laid out for a ``width`` x ``height`` image.

    The view's own source/fictitious annotations are replaced by the export's, and maps
    are re-centred and zoomed on their data for this image size (``fit_maps``)."""
    import plotly.graph_objects as go

    # go.Figure(fig) builds a new figure from a deep copy of fig's data: the caller's
    # figure is never touched.
    fig = go.Figure(item.figure) if item.figure is not None else go.Figure()
    lay = fig.layout
    pad = 24
    title_size = max(18, round(width / 58))
    sub_size = max(13, round(title_size * 0.62))
    foot_size = max(11, round(width / 110))
    fict = bool(item.fictitious)

    # Title and subtitle sit at fixed positions from the top of the image (container
    # coordinates), so they stay put whatever the legend or colour bar does. The
    # fictitious label is a red line of the subtitle for the same reason.
    sub_lines = [_esc(item.subtitle)] if item.subtitle else []
    if fict:
        sub_lines.append(f'<span style="color:#b00020"><b>{_esc(FICTITIOUS_LABEL)}</b></span>')
    title_lines = textwrap.wrap(str(item.title), max(20, int((width - 2 * pad) / (title_size * 0.56))))
    title_html = "<br>".join(f"<b>{_esc(line)}</b>" for line in title_lines or [""])
    top = (pad + len(title_lines or [""]) * (title_size + 8) + 2
           + len(sub_lines) * (sub_size + 7) + 22)
    legend = lay.legend
    horizontal = legend.orientation == "h"
    if horizontal and legend.y is not None and legend.y >= 1:
        top += 34  # legend above the plot area: keep it clear of the subtitle
    chars = int((width - 2 * pad) / (foot_size * 0.56))
    source = item.source_line or SOURCE_CBS
    # Source and date both left-aligned: the right edge of the plot area moves when a
    # legend or colour bar widens the right margin, the left edge does not.
    footer_html = _wrap(source, chars) + "<br>" + _esc(export_date_text(exported_at))
    n_lines = footer_html.count("<br>") + 1
    foot_h = n_lines * (foot_size + 6)

    margin = lay.margin
    old_b = margin.b if margin.b is not None else 50
    old_l = margin.l if margin.l is not None else 60
    old_r = margin.r if margin.r is not None else 40
    left, right = max(old_l, pad), max(old_r, pad)
    bottom = max(old_b, 20) + foot_h + 24
    if horizontal and (legend.y is None or legend.y < 0):
        bottom += 40  # legend below the plot area (plotly's default for "h"): room above the source
    fig.update_layout(
        width=width, height=height,
        margin=dict(t=top, b=bottom, l=left, r=right),
        title=dict(
            text=title_html, x=pad / width, xref="container", xanchor="left",
            y=1 - pad / height, yref="container", yanchor="top",
            font=dict(size=title_size, color="#1a1a1a"),
            subtitle=dict(text="<br>".join(sub_lines), font=dict(size=sub_size, color="#555555")),
        ),
    )
    if lay.paper_bgcolor is None:
        fig.update_layout(paper_bgcolor="white")
    _drop_own_annotations(fig, item)
    if fit_maps:
        _fit_maps(fig, width - left - right, height - top - bottom)
    notes = [
        dict(text=footer_html, xref="paper", yref="paper", x=0, y=0, xanchor="left",
             yanchor="bottom", xshift=-(left - pad), yshift=-(bottom - 14), align="left",
             showarrow=False, font=dict(size=foot_size, color="#333333")),
    ]
    if fict:
        notes.append(dict(text="<b>FICTIEF</b>", xref="paper", yref="paper", x=0.5, y=0.5,
                          showarrow=False, textangle=-25, opacity=0.08,
                          font=dict(size=round(height / 6), color="#b00020")))
    for ann in notes:
        fig.add_annotation(**ann)
    return fig


# ----------------------------------------------------------------------------- images
_CACHE: OrderedDict[str, bytes] = OrderedDict()
_CACHE_SIZE = 24
_CACHE_LOCK = threading.Lock()


def figure_to_image(item: ExportItem, fmt: str = "png", width: int = 1400, height: int = 900,
                    scale: float | None = None, exported_at: datetime | None = None) -> bytes:
    """The view as a self-describing image: ``fmt`` is ``"png"``, ``"svg"`` or ``"pdf"``.

    The image carries title, subtitle, legend, source line, export date and, for demo
    data, the fictitious label. PNG is scaled to at least 2400 px wide (print resolution).
    ``item.figure`` is not changed. Raises :class:`StaticExportUnavailable` (Dutch
    message) when no image can be made; use :func:`figure_to_html` then.
    """
    fmt = fmt.lower()
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"Onbekend formaat {fmt!r}: kies png, svg of pdf.")
    if item.figure is None:
        raise ValueError("Deze weergave heeft geen figuur; exporteer de tabel (CSV/XLSX).")
    reason = static_export_status()
    if reason:
        raise StaticExportUnavailable(reason)
    if fmt == "png":
        scale = max(float(scale or 1), math.ceil(MIN_PNG_WIDTH / width * 1000) / 1000)
    else:
        scale = float(scale or 1)
    fig = decorate_figure(item, width, height, exported_at)
    import plotly.io as pio

    fig_json = pio.to_json(fig, validate=False, engine="json")
    key = hashlib.sha256(f"{fmt}|{width}|{height}|{scale}|{MAP_PIXEL_RATIO}|".encode()
                         + fig_json.encode()).hexdigest()
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    engine = _engine()
    try:
        out = engine.render(fig_json, fmt, width, height, scale)
    except StaticExportUnavailable:
        raise
    except TimeoutError as exc:
        shutdown()
        raise StaticExportUnavailable(
            "De afbeelding kon niet op tijd worden gemaakt (de browser reageerde niet binnen "
            f"{RENDER_TIMEOUT:.0f} seconden). Probeer het opnieuw of download de interactieve "
            "HTML.") from exc
    except Exception as exc:  # noqa: BLE001
        shutdown()  # the browser may have died: start afresh next time
        raise StaticExportUnavailable(
            f"De afbeelding kon niet worden gemaakt ({type(exc).__name__}: {exc}). "
            "Download de figuur als interactieve HTML.") from exc
    with _CACHE_LOCK:
        _CACHE[key] = out
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return out


# ----------------------------------------------------------------------------- HTML
_HTML_PAGE = """<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5rem; color: #1a1a1a; }}
h1 {{ font-size: 1.5rem; margin: 0 0 .25rem 0; }}
.sub {{ color: #555; margin: 0 0 1rem 0; }}
.fictief {{ border: 2px solid #b00020; background: #fde8ea; color: #b00020; font-weight: bold;
           padding: .5rem .75rem; margin: 0 0 1rem 0; }}
.bron {{ font-size: .85rem; color: #333; margin-top: 1rem; }}
ul {{ margin-top: .25rem; }}
table {{ border-collapse: collapse; font-size: .85rem; }}
td, th {{ border: 1px solid #ccc; padding: .2rem .4rem; }}
</style>
</head>
<body>
{banner}<h1>{title}</h1>
<p class="sub">{subtitle}</p>
{figure}
{key_figures}
<p class="bron">{source}<br>{date}</p>
{table}
</body>
</html>
"""


def figure_to_html(item: ExportItem, exported_at: datetime | None = None) -> bytes:
    """A self-contained interactive HTML page (plotly.js inlined, works offline) with
    title, subtitle, the figure, key figures, source line and export date. All user text
    is escaped. Works without a browser on the server: the fallback for static export."""
    esc = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    banner = (f'<p class="fictief">{esc(FICTITIOUS_LABEL)}</p>\n' if item.fictitious else "")
    figure_html = ""
    if item.figure is not None:
        import plotly.graph_objects as go
        import plotly.io as pio

        fig = go.Figure(item.figure)
        fig.update_layout(width=None, height=None, autosize=True)
        figure_html = pio.to_html(fig, full_html=False, include_plotlyjs=True,
                                  div_id="buurtmonitor-figuur", default_height="640px",
                                  default_width="100%", validate=False)
    kf = ""
    if item.key_figures:
        kf = "<ul>\n" + "\n".join(f"<li>{esc(s)}</li>" for s in item.key_figures) + "\n</ul>"
    table_html = ""
    if item.table is not None and not item.table.empty:
        table_html = ("<details><summary>Tabel</summary>\n"
                      + item.table.to_html(index=False, na_rep="", escape=True, border=0)
                      + "\n</details>")
    page = _HTML_PAGE.format(
        title=esc(item.title), subtitle=esc(item.subtitle), banner=banner, figure=figure_html,
        key_figures=kf, source=esc(item.source_line or SOURCE_CBS),
        date=esc(export_date_text(exported_at)), table=table_html)
    return page.encode("utf-8")
