"""Static-export timings: browser cold start and warm PNG export of a map.

    python bench/bench_export.py

``run()`` returns a dict (seconds) and prints a short table:

* ``cold_start_s``: starting the headless Chromium (kaleido) from nothing;
* ``first_map_png_s``: the first map PNG right after that;
* ``warm_map_png_median_s``: median of 10 PNG exports (>= 2400 px wide) of a small
  choropleth map (3 polygons) with a warm browser, image cache cleared each time;
* ``warm_map100_png_median_s``: the same for a map of 100 buurt-like polygons;
* ``warm_bar_png_median_s``, ``warm_map_svg_median_s``, ``warm_map_pdf_median_s``.

Skips (returns ``{"skipped": reason}``) when no browser is available.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time

import plotly.graph_objects as go

from buurtmonitor.exports import static as export_static
from buurtmonitor.exports.items import ExportItem, figure_to_image

SOURCE = "Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED); grenzen: CBS/Kadaster via PDOK"
N_WARM = 10


def _polygon(cx: float, cy: float, r: float, n: int = 40) -> list:
    ring = [[cx + r * 1.6 * math.cos(2 * math.pi * k / n) * (1 + 0.15 * math.sin(5 * k)),
             cy + r * math.sin(2 * math.pi * k / n) * (1 + 0.15 * math.cos(3 * k))]
            for k in range(n)]
    return [ring + [ring[0]]]


def map_figure(n_side: int) -> go.Figure:
    feats, ids, z = [], [], []
    for i in range(n_side):
        for j in range(max(1, n_side if n_side > 3 else 1)):
            code = f"BU{i:02d}{j:02d}"
            feats.append({"type": "Feature", "id": code, "properties": {},
                          "geometry": {"type": "Polygon",
                                       "coordinates": _polygon(5.6 + i * 0.012, 52.0 + j * 0.008,
                                                               0.0045)}})
            ids.append(code)
            z.append((i * 7 + j * 13) % 50)
    fig = go.Figure(go.Choroplethmap(geojson={"type": "FeatureCollection", "features": feats},
                                     locations=ids, z=z, colorscale="Blues",
                                     marker_line_color="white", colorbar_title="%"))
    lon = 5.6 + (n_side - 1) * 0.006
    lat = 52.0 + ((n_side - 1) * 0.004 if n_side > 3 else 0)
    fig.update_layout(map=dict(style="white-bg", center=dict(lat=lat, lon=lon),
                               zoom=12.5 if n_side <= 3 else 11.2),
                      margin=dict(l=0, r=0, t=0, b=0))
    return fig


def bar_figure() -> go.Figure:
    return go.Figure(go.Bar(x=[f"Buurt {i}" for i in range(20)], y=[(i * 7) % 31 for i in range(20)]))


def _median(item: ExportItem, fmt: str, n: int = N_WARM) -> float:
    times = []
    for _ in range(n):
        export_static._CACHE.clear()
        t = time.perf_counter()
        figure_to_image(item, fmt)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run() -> dict:
    reason = export_static.static_export_status()
    if reason:
        print(f"overgeslagen: {reason}")
        return {"skipped": reason}
    export_static.shutdown()
    export_static._CACHE.clear()
    small = ExportItem(title="Herkomst buiten Europa", subtitle="Ede · 2024 · buurten",
                       figure=map_figure(3), source_line=SOURCE)
    t = time.perf_counter()
    export_static.warm_up()
    cold = time.perf_counter() - t
    t = time.perf_counter()
    png = figure_to_image(small, "png")
    first = time.perf_counter() - t
    big = ExportItem(title="Herkomst buiten Europa (100 buurten)", subtitle="Ede · 2024",
                     figure=map_figure(10), source_line=SOURCE)
    bar = ExportItem(title="Staafdiagram", figure=bar_figure(), source_line=SOURCE)
    result = {
        "cold_start_s": round(cold, 3),
        "first_map_png_s": round(first, 3),
        "warm_map_png_median_s": round(_median(small, "png"), 3),
        "warm_map100_png_median_s": round(_median(big, "png"), 3),
        "warm_bar_png_median_s": round(_median(bar, "png"), 3),
        "warm_map_svg_median_s": round(_median(small, "svg", 5), 3),
        "warm_map_pdf_median_s": round(_median(small, "pdf", 3), 3),
        "png_bytes": len(png),
        "fast_path": export_static._ENGINE.fast_path if export_static._ENGINE else None,
    }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return result


if __name__ == "__main__":
    out = run()
    if "--json" in sys.argv:
        print(json.dumps(out))
