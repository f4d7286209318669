"""The naive baseline the benchmarks compare against: what a first version of such a map
typically does.

* geometry: the GeoJSON as the source gives it: unsimplified, full precision, every
  property kept (PDOK buurten carry dozens), inline in the figure;
* a fresh figure on every rerun (``plotly.express``-style: hover text per area with the
  name and the value), matched on ``properties.<code key>``;
* no cache: statistics and boundaries are fetched from the source on every rerun.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import plotly.graph_objects as go


def figure(fc: dict, codes: Sequence[str], values: Iterable[float], names: Sequence[str], *,
           id_key: str, label: str = "waarde", center: dict | None = None, zoom: float = 6.2) -> go.Figure:
    """A choropleth of ``values`` on the raw FeatureCollection ``fc`` (``id_key`` e.g.
    ``properties.buurtcode``)."""
    vals = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]
    hover = [f"<b>{n}</b> ({c})<br>{label}: {'geen waarde' if v is None else f'{v:.1f}'}"
             for c, n, v in zip(codes, names, vals)]
    fig = go.Figure(go.Choroplethmap(
        geojson=fc, featureidkey=id_key, locations=list(codes), z=vals, colorscale="Viridis",
        marker={"opacity": 0.85, "line": {"width": 0.5, "color": "white"}},
        hovertext=hover, hoverinfo="text", colorbar={"title": {"text": label}}))
    fig.update_layout(map={"style": "white-bg", "center": center or {"lon": 5.3, "lat": 52.15}, "zoom": zoom},
                      margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=620)
    return fig
