"""Browser measurements: a Streamlit server (with its process for memory sampling), first
paint of a map in headless Chromium (Playwright, the Debian chromium; never downloads a
browser), and peak memory of the server process tree.

First paint = time from navigation start until area polygons are *drawn*: an init script
polls (every 20 ms) and records ``performance.now()`` (which counts from the navigation
start) as soon as either MapLibre (plotly's map) reports a rendered ``fill`` feature in a small
box around one of a few points of the map, or the canvas map (``buurtmonitor/web/
canvasmap.js``) has coloured pixels at one of those points (read back with getImageData).
The probe itself is cheap (a few pixels, not all features).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

PROBE = r"""
(() => {
  const marks = window.__bm = {};
  const mark = (k) => { if (!(k in marks)) marks[k] = performance.now(); };
  const spots = [[0.5, 0.5], [0.4, 0.45], [0.6, 0.55], [0.5, 0.35], [0.5, 0.65], [0.45, 0.6]];
  const canvases = () => {  // the canvas map lives in a shadow root (Streamlit custom component)
    const out = [];
    for (const host of document.querySelectorAll('[data-testid="stMain"] *'))
      if (host.shadowRoot) out.push(...host.shadowRoot.querySelectorAll('canvas.bm-canvas'));
    return out;
  };
  const tick = () => {
    try {
      if (document.querySelector('[data-testid="stMain"] h1')) mark('title');
      const gd = document.querySelector('.js-plotly-plot');
      const m = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
                && gd._fullLayout.map._subplot.map;
      if (gd) mark('plot');
      if (m) {
        const c = m.getCanvas(), w = c.clientWidth, h = c.clientHeight;
        for (const [a, b] of spots) {
          const x = a * w, y = b * h;
          if (m.queryRenderedFeatures([[x - 3, y - 3], [x + 3, y + 3]])
                .some(f => f.layer && f.layer.type === 'fill')) { mark('painted'); break; }
        }
      }
      for (const c of canvases()) {  // drawn = coloured (not white, not empty) pixels on it
        mark('plot');
        if (!c.width || !c.height) continue;
        const ctx = c.getContext('2d');
        for (const [a, b] of spots) {
          const px = ctx.getImageData(Math.floor(a * c.width) - 3, Math.floor(b * c.height) - 3, 7, 7).data;
          let coloured = false;
          for (let i = 0; i < px.length; i += 4)
            if (px[i + 3] > 0 && (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235)) { coloured = true; break; }
          if (coloured) { mark('painted'); marks.renderer = 'canvas'; break; }
        }
      }
    } catch (e) { marks.error = String(e); }
    if (!('painted' in marks)) setTimeout(tick, 20);
  };
  setTimeout(tick, 20);
})();
"""


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium ontbreekt ({CHROMIUM}); installeer het Debian-pakket chromium of zet BROWSER_PATH"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python-pakket playwright ontbreekt"
    return None


def streamlit_server(script: str, env: dict[str, str], log_path: Path | None = None,
                     timeout: float = 90.0):
    """(base URL, process) of ``streamlit run <script>`` as a context manager; the process group
    is stopped after. The same launcher as the browser tests (``devtools/streamlit_server.py``)."""
    from devtools.streamlit_server import streamlit_process
    return streamlit_process(env, script=script, log_path=log_path, timeout=timeout)


class TreeMemory:
    """Samples the RSS of a process and all its children (sum) every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += p.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last = self.rss()
            self.peak = max(self.peak, self.last)
            self._stop.wait(self.interval)

    def reset_peak(self) -> None:
        self.peak = self.rss()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)


def first_visible(context, url: str, timeout_s: float = 60.0) -> dict:
    """The floor: open ``url`` (a bare page) in a new page of ``context``; {'painted_s'} = time from
    navigation start until its title (h1) and its line of text are in the document."""
    page = context.new_page()
    page.add_init_script(PROBE)
    out: dict = {"painted_s": None}
    try:
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        try:
            seen = page.wait_for_function(
                "() => (document.querySelector('[data-testid=\"stMain\"] h1') && document.querySelector("
                "'[data-testid=\"stMain\"] [data-testid=\"stMarkdownContainer\"] p')) ? performance.now() : false",
                timeout=timeout_s * 1000, polling=20)
            out["painted_s"] = round(seen.json_value() / 1000.0, 3)
        except Exception:  # noqa: BLE001 - timed out: report None
            pass
    finally:
        page.close()
    return out


def first_paint(context, url: str, timeout_s: float = 60.0) -> dict:
    """Open ``url`` in a new page of ``context``; {'painted_s', 'title_s', 'plot_s', 'renderer'}
    (painted_s None when the map was not drawn within ``timeout_s``)."""
    page = context.new_page()
    page.add_init_script(PROBE)
    out: dict = {"painted_s": None}
    try:
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        try:
            page.wait_for_function("() => window.__bm && 'painted' in window.__bm",
                                   timeout=timeout_s * 1000, polling=100)
        except Exception:  # noqa: BLE001 - timed out: report None
            pass
        marks = page.evaluate("() => window.__bm || {}")
        for k in ("title", "plot", "painted"):
            if isinstance(marks.get(k), (int, float)):
                out[f"{k}_s"] = round(marks[k] / 1000.0, 3)
        out["renderer"] = marks.get("renderer", "plotly")
        if marks.get("error"):
            out["error"] = marks["error"]
        steps = page.evaluate("() => window.__bmCanvasTimes || null")  # the canvas map's own steps
        if steps:
            out["canvas_steps_ms"] = steps
    finally:
        page.close()
    return out
