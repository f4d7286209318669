"""The trend chart of the Integratie page: one origin group against the reference group over the
years of one bron (one origin scheme), in the gemeente (solid) and in the whole country (dotted).

The conventions of :mod:`buurtmonitor.charts`: Dutch number format, colour-blind-safe colours,
the source line under the chart, the fictitious label on demo data. A missing year is a gap in
the line with its reason written at the bottom, never a 0. When the same indicator exists in the
other origin scheme (in another bron), the break is marked with a dotted vertical line at the
edge of the drawn years; the other scheme's figures are not drawn (they are not comparable).
"""

from __future__ import annotations

import plotly.graph_objects as go

from buurtmonitor.charts import OKABE_ITO, _finish
from buurtmonitor.formatting import number

from .catalogue import OriginCatalogue, load_origin_catalogue
from .measures import SeriesPoint
from .presenters import SCHEME_SHORT, Trend, group_label, n_text

GROUP_COLOUR, REFERENCE_COLOUR = OKABE_ITO[3], OKABE_ITO[0]
SHORT_REASON = {"klein_aantal": "te weinig personen", "geheim": "geheim", "leeg": "geen cijfer",
                "referentie_ontbreekt": "geen vergelijking"}


def _trace(points: tuple[SeriesPoint, ...], name: str, colour: str, *, country: bool, unit: str,
           decimals: int, meta: dict) -> go.Scatter:
    xs = [p.year for p in points]
    ys = [p.value for p in points]
    texts = [number(v, decimals) if v is not None else "" for v in ys]
    return go.Scatter(
        x=xs, y=ys, mode="lines+markers", name=name, connectgaps=False, meta=meta,
        line=dict(color=colour, width=2 if country else 3, dash="dot" if country else "solid"),
        marker=dict(size=6 if country else 8, symbol="circle-open" if country else "circle"),
        customdata=[[t, n_text(p.n)] for t, p in zip(texts, points)],
        hovertemplate=(f"{name}<br>%{{x}}: %{{customdata[0]}}{'%' if unit == '%' else ' ' + unit}"
                       "<br>n = %{customdata[1]}<extra></extra>"))


def trend_figure(t: Trend, *, source: str | None = None, fictitious: bool = False, title: str | None = None,
                 cat: OriginCatalogue | None = None) -> go.Figure:
    """The figure of :class:`~buurtmonitor.integratie.presenters.Trend`. Each trace has
    ``meta = {"group", "area"}`` (``area`` = ``"gemeente"`` or ``"land"``)."""
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[t.indicator]
    fig = go.Figure()
    same = t.group == t.reference
    pairs = [(t.group_points, t.country_group_points, t.group, GROUP_COLOUR)]
    if not same:
        pairs.append((t.reference_points, t.country_reference_points, t.reference, REFERENCE_COLOUR))
    for local, national, group, colour in pairs:
        label = group_label(group, cat)
        if local:
            fig.add_trace(_trace(local, f"{label} · {t.gemeente_name}", colour, country=False, unit=ind.unit,
                                 decimals=ind.decimals, meta={"group": group, "area": "gemeente"}))
        if national:
            fig.add_trace(_trace(national, f"{label} · Nederland", colour, country=True, unit=ind.unit,
                                 decimals=ind.decimals, meta={"group": group, "area": "land"}))
    years = t.years
    for p in t.group_points + (() if same else t.reference_points):
        if p.value is None:
            fig.add_annotation(x=p.year, y=0, yref="paper", yanchor="bottom", showarrow=False, textangle=-90,
                               text=SHORT_REASON.get(p.missing or "", "geen cijfer"), name="ontbreekt",
                               font=dict(size=10, color="#777777"))
    if t.other_scheme_years and years:
        before = [y for y in t.other_scheme_years if y < years[0]]
        after = [y for y in t.other_scheme_years if y > years[-1]]
        other = SCHEME_SHORT.get(t.other_scheme or "", t.other_scheme or "")
        for x, text in ([(years[0] - 0.5, f"Breuk: vóór {years[0]} {other}")] if before else []) + \
                       ([(years[-1] + 0.5, f"Breuk: na {years[-1]} {other}")] if after else []):
            fig.add_vline(x=x, line_dash="dot", line_width=2, line_color="#D55E00")
            fig.add_annotation(x=x, y=1, yref="paper", yanchor="top", xanchor="left", xshift=3, showarrow=False,
                               text=text, name="breuk", font=dict(size=11, color="#333333"),
                               bgcolor="rgba(255,255,255,0.85)")
    if years:
        lo = years[0] - (1.0 if t.other_scheme_years and min(t.other_scheme_years) < years[0] else 0.5)
        hi = years[-1] + (1.0 if t.other_scheme_years and max(t.other_scheme_years) > years[-1] else 0.5)
        fig.update_xaxes(range=[lo, hi], tickmode="array", tickvals=years, ticktext=[str(y) for y in years],
                         title_text="Jaar")
    vals = [p.value for p in t.group_points + t.reference_points + t.country_group_points
            + t.country_reference_points if p.value is not None]
    if vals:  # the range of the values (a 0 baseline would flatten the gap), with room at the top
        lo, hi = min(vals), max(vals)
        span = max(hi - lo, 10.0 if ind.unit == "%" else abs(hi) * 0.1 or 1.0)
        low, high = lo - 0.3 * span, hi + 0.3 * span
        if ind.unit == "%":
            low, high = max(0.0, 5 * (low // 5)), min(100.0, high)
        fig.update_yaxes(range=[low, high])
    fig.update_yaxes(title_text=ind.unit, tickformat=",d" if ind.decimals == 0 else ",.1f")
    fig.update_layout(hovermode="closest")
    return _finish(fig, source=source, fictitious=fictitious, title=title, height=300, legend_below=True)
