"""Plotly figures for the views (no Streamlit here): Dutch labels, colour-blind-safe colours
(Okabe-Ito; the origin groups keep the colour from ``data/origin_groups.toml``), the source
line as an annotation under every chart and a clear label on fictitious demo data.

* :func:`composition_bars`  100 % stacked horizontal bars per area, gemeente and Nederland
  in a separate panel below.
* :func:`profile_chart`  dot plot of z-scores with bands at ±1 and ±2 standard deviations.
* :func:`trend_chart`  a line per comparable segment; a line never crosses a change of
  origin classification or a boundary change, which are marked with a labelled vertical line.

Every function takes the DataFrames of :mod:`buurtmonitor.analysis`; the source line and
the fictitious flag come from their ``attrs`` unless passed explicitly.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .analysis import BREAK_SCHEME, MISSING_SHORT, ROLE_AREA, missing_label, series_breaks
from .catalogue import Indicator, load_catalogue
from .formatting import number
from .model import FICTITIOUS_LABEL, LEVEL_LABELS

#: Okabe-Ito (colour-blind safe)
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
OTHER_COLOUR = "#BBBBBB"
OTHER_LABEL = "Overig"
ABOVE_COLOUR, BELOW_COLOUR, AROUND_COLOUR = "#D55E00", "#0072B2", "#777777"
REFERENCE_STYLE = {"gemeente": ("#444444", "dash"), "land": ("#999999", "dot")}
FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=13)


#: assumed chart width in px for estimating how many lines a horizontal legend takes
LEGEND_WIDTH_PX = 560


def _legend_px(fig: go.Figure) -> int:
    """Estimated height in px of a horizontal legend (rows of 22 px, 10 px between groups)."""
    shown = [t for t in fig.data if t.showlegend is not False]
    if not shown:
        return 0
    rows, used, groups = 1, 0, len({t.legendgroup for t in shown if t.legendgroup}) or 1
    for t in shown:
        w = 7 * len(t.name or "") + 45
        if used and used + w > LEGEND_WIDTH_PX:
            rows, used = rows + 1, 0
        used += w
    return 22 * rows + 10 * (groups - 1) + 6


def _wrap(text: str, width: int = 85) -> list[str]:
    """Split a source line into lines of at most ``width`` characters (at spaces)."""
    lines, cur = [], ""
    for word in text.split(" "):
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    return lines + ([cur] if cur else [])


def _finish(fig: go.Figure, *, source: str | None, fictitious: bool, title: str | None,
            height: int, legend_below: bool = False, left: int = 10) -> go.Figure:
    """Title, source line under the chart, fictitious label, common layout.

    ``height`` is the height of the plot area in px; margins are added for the fictitious
    label, the title, the legend (above the plot, or below it with ``legend_below``) and
    the source line, so that nothing overlaps."""
    legend_px = _legend_px(fig)
    fict_px = 26 if fictitious else 0
    title_px = 34 if title else 0
    axis_px = 62  # tick labels and the x-axis title
    top = 10 + fict_px + title_px + (0 if legend_below else legend_px)
    source_lines = _wrap(source) if source else []
    source_px = 8 + 15 * len(source_lines) if source_lines else 0
    bottom = axis_px + (legend_px if legend_below else 0) + source_px + 6
    legend = dict(orientation="h", xanchor="left", x=0, title_text="",
                  **(dict(yanchor="top", y=-axis_px / height) if legend_below
                     else dict(yanchor="bottom", y=1.0)))
    fig.update_layout(
        title=dict(text=title or "", x=0, xanchor="left", xref="container", yref="container",
                   y=1 - (6 + fict_px) / (height + top + bottom), yanchor="top",
                   font=dict(size=16), pad=dict(l=10)),
        font=FONT, height=height + top + bottom,
        margin=dict(l=left, r=20, t=top, b=bottom),
        template="plotly_white", separators=",.", legend=legend,
    )
    if source:
        # from the left edge of the figure, not of the plot area (long axis labels push that right)
        fig.add_annotation(text="<br>".join(source_lines), xref="paper", yref="paper", x=0, y=0,
                           yshift=-(bottom - 4), xshift=-(left - 10),
                           xanchor="left", yanchor="bottom", showarrow=False,
                           font=dict(size=11, color="#555555"), align="left", name="bronregel")
    if fictitious:
        fig.add_annotation(text=f"<b>{FICTITIOUS_LABEL}</b>", xref="paper", yref="paper", x=0, y=1,
                           yshift=top - 4, xanchor="left", yanchor="top", showarrow=False,
                           font=dict(size=12, color="#A03000"), bgcolor="#FFF3E0",
                           bordercolor="#D55E00", borderwidth=1, name="fictief")
    return fig


def _meta(df: pd.DataFrame, source: str | None, fictitious: bool | None) -> tuple[str | None, bool]:
    src = source if source is not None else df.attrs.get("source")
    fic = fictitious if fictitious is not None else bool(df.attrs.get("fictitious", False))
    return src, fic


# ----------------------------------------------------------------------------- composition
def cap_groups(comp: pd.DataFrame, max_series: int = 8) -> pd.DataFrame:
    """Merge the smallest groups into "Overig" so at most ``max_series`` groups remain.

    Groups are ranked by their total count over all rows; the largest ``max_series - 1``
    stay, the rest become one group "Overig" (count and share summed; missing when one of
    the merged groups is missing)."""
    groups = list(dict.fromkeys(comp["group"]))
    if len(groups) <= max_series or max_series < 2:
        return comp
    size = comp.groupby("group", sort=False)["count"].sum(min_count=1).fillna(0)
    keep = set(size.sort_values(ascending=False, kind="stable").index[: max_series - 1])
    kept = comp[comp["group"].isin(keep)]
    rest = comp[~comp["group"].isin(keep)]
    agg = rest.groupby("code", sort=False).agg(
        count=("count", lambda s: s.sum(min_count=len(s))),
        share=("share", lambda s: s.sum(min_count=len(s))),
        missing=("missing", lambda s: next((m for m in s if m), None)))
    first = rest.drop_duplicates("code").set_index("code")
    other = first.assign(group="overig", label=OTHER_LABEL, colour=OTHER_COLOUR, parent=None,
                         count=agg["count"], share=agg["share"], missing=agg["missing"]).reset_index()
    out = pd.concat([kept, other[comp.columns]], ignore_index=True)
    order = {c: i for i, c in enumerate(dict.fromkeys(comp["code"]))}
    gorder = {g: i for i, g in enumerate([g for g in groups if g in keep] + ["overig"])}
    out = out.assign(_a=out["code"].map(order), _g=out["group"].map(gorder))
    out = out.sort_values(["_a", "_g"], kind="stable").drop(columns=["_a", "_g"]).reset_index(drop=True)
    out.attrs.update(comp.attrs)
    return out


def sort_areas(comp: pd.DataFrame, sort_by: str = "name") -> list[str]:
    """Codes of the areas (role gebied) in display order: by name, by code, or by the
    share of group ``sort_by`` (largest first; missing last)."""
    areas = comp[comp["role"] == ROLE_AREA].drop_duplicates("code")
    if sort_by == "code":
        return areas.sort_values("code")["code"].tolist()
    if sort_by in set(comp["group"]):
        sub = comp[(comp["role"] == ROLE_AREA) & (comp["group"] == sort_by)]
        return sub.sort_values(["share", "name"], ascending=[False, True], na_position="last",
                               kind="stable")["code"].tolist()
    return areas.sort_values(["name", "code"], key=lambda s: s.str.lower() if s.name == "name" else s,
                             kind="stable")["code"].tolist()


def composition_bars(comp: pd.DataFrame, sort_by: str = "name", max_series: int = 8, *,
                     value: str = "share", highlight: str | None = None, title: str | None = None,
                     source: str | None = None, fictitious: bool | None = None) -> go.Figure:
    """Stacked horizontal bars of :func:`buurtmonitor.analysis.composition`.

    ``value="share"``: 100 % bars; ``value="count"``: persons. ``sort_by``: "name", "code"
    or a group id (largest share first). Areas are in the upper panel, gemeente and
    Nederland in a separate panel "Ter vergelijking" below. At most ``max_series`` groups
    (the rest merged into "Overig"). Areas whose figures are missing get a text with the
    reason instead of a bar (never a bar of 0). One trace per group and panel; the legend
    shows each group once. ``highlight``: code of an area to mark (▶).
    """
    src, fic = _meta(comp, source, fictitious)
    comp = cap_groups(comp, max_series)
    level = comp.attrs.get("level", "")
    area_codes = sort_areas(comp, sort_by)
    ref_codes = list(dict.fromkeys(comp.loc[comp["role"] != ROLE_AREA, "code"]))
    names = comp.drop_duplicates("code").set_index("code")["name"].to_dict()
    dup = {n for n in names.values() if list(names.values()).count(n) > 1}

    def label(code: str) -> str:
        n = names.get(code, code)
        n = f"{n} ({code})" if n in dup else n
        return f"▶ {n}" if code == highlight else n

    panels = [(area_codes, 1)] + ([(ref_codes, 2)] if ref_codes else [])
    n_areas, n_refs = max(len(area_codes), 1), len(ref_codes)
    rows = len(panels)
    height = max(30 + 24 * (n_areas + n_refs) + (70 if rows > 1 else 0), 200)
    plot_px = height
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=(value == "share"),
        row_heights=[n_areas + 1.0, n_refs + 1.0][:rows],
        vertical_spacing=min(80 / plot_px, 0.3) if rows > 1 else 0.0,
        subplot_titles=["", "Ter vergelijking: gemeente en Nederland"][:rows])
    groups = comp.drop_duplicates("group")[["group", "label", "colour"]].itertuples(index=False)
    vcol = "share" if value == "share" else "count"
    for g in list(groups):
        sub = comp[comp["group"] == g.group].set_index("code")
        for codes, row in panels:
            if not codes:
                continue
            s = sub.loc[codes]
            fig.add_trace(go.Bar(
                orientation="h", x=s[vcol].tolist(), y=[label(c) for c in codes], name=g.label,
                marker=dict(color=g.colour, line=dict(color="white", width=0.5)),
                legendgroup=g.group, showlegend=(row == 1), meta={"group": g.group, "panel": row},
                customdata=list(zip(s["count"], s["share"], s["total"],
                                    [missing_label(m) or "" for m in s["missing"]])),
                hovertemplate=("%{y}<br>" + g.label + ": %{customdata[1]:.1f}% "
                               "(%{customdata[0]:,.0f} van %{customdata[2]:,.0f})<extra></extra>"),
            ), row=row, col=1)
    # missing areas: say why, never draw 0
    tot = comp.groupby("code", sort=False)[vcol].apply(lambda s: s.notna().any())
    for codes, row in panels:
        for c in codes:
            if not tot.get(c, False):
                why = next((m for m in comp.loc[comp["code"] == c, "missing"] if m), None)
                fig.add_annotation(x=0, y=label(c), xref=f"x{'' if row == 1 else row}",
                                   yref=f"y{'' if row == 1 else row}", xanchor="left", showarrow=False,
                                   text=f"geen cijfers: {missing_label(why) or 'niet beschikbaar'}",
                                   font=dict(size=11, color="#555555"), name="ontbreekt")
    for codes, row in panels:
        fig.update_yaxes(categoryorder="array", categoryarray=[label(c) for c in codes][::-1],
                         row=row, col=1, automargin=True)
    xt = "Aandeel (%)" if value == "share" else "Aantal inwoners"
    fig.update_xaxes(title_text=xt, row=rows, col=1)
    if value == "share":
        fig.update_xaxes(range=[0, 100.5], ticksuffix="%")
    fig.update_layout(barmode="stack", bargap=0.25, hovermode="closest")
    fig.update_yaxes(title_text=f"{LEVEL_LABELS.get(level, 'Gebied')}en" if level in ("wijk", "buurt")
                     else "", row=1, col=1)
    return _finish(fig, source=src, fictitious=fic, title=title, height=height)


# ----------------------------------------------------------------------------- profile
def profile_chart(profile_df: pd.DataFrame, *, title: str | None = None, source: str | None = None,
                  fictitious: bool | None = None) -> go.Figure:
    """Dot plot of the z-scores of :func:`buurtmonitor.analysis.profile`.

    One row per indicator (grouped by theme), bands at ±1 and ±2 standard deviations.
    Above the mean (z ≥ 1) and below it (z ≤ −1) have their own colour *and* symbol;
    small n is an open symbol. Indicators without a z-score are listed with the reason.
    """
    src, fic = _meta(profile_df, source, fictitious)
    p = profile_df.reset_index(drop=True)
    ylab = [f"{t}: {lab}" for t, lab in zip(p["theme_label"], p["label"])]
    p = p.assign(_y=ylab)
    zmax = float(p["z"].abs().max()) if p["z"].notna().any() else 0.0
    lim = max(3.0, math.ceil(zmax + 0.5))
    fig = go.Figure()
    fig.add_vrect(x0=-2, x1=2, fillcolor="#E8E8E8", opacity=0.6, line_width=0, layer="below")
    fig.add_vrect(x0=-1, x1=1, fillcolor="#D0D0D0", opacity=0.6, line_width=0, layer="below")
    fig.add_vline(x=0, line_color="#555555", line_width=1)
    has = p["z"].notna()
    cats = [("Boven het gemiddelde (z ≥ 1)", has & (p["z"] >= 1), ABOVE_COLOUR, "triangle-right"),
            ("Rond het gemiddelde (−1 < z < 1)", has & (p["z"].abs() < 1), AROUND_COLOUR, "circle"),
            ("Onder het gemiddelde (z ≤ −1)", has & (p["z"] <= -1), BELOW_COLOUR, "triangle-left")]
    for name, mask, colour, symbol in cats:
        s = p[mask]
        if s.empty:
            continue
        fig.add_trace(go.Scatter(
            x=s["z"].tolist(), y=s["_y"].tolist(), mode="markers", name=name,
            marker=dict(color=colour, size=12,
                        symbol=[symbol + ("-open" if sm else "") for sm in s["small_n"]],
                        line=dict(color=colour, width=2)),
            customdata=list(zip([number(v) for v in s["value"]], s["unit"], s["reading"],
                                [number(v) for v in s["mean"]])),
            hovertemplate=("%{y}<br>waarde %{customdata[0]} %{customdata[1]} "
                           "(gemiddelde gebieden %{customdata[3]})<br>z = %{x:.2f}: %{customdata[2]}"
                           "<extra></extra>")))
    miss = p[~has]
    if not miss.empty:
        fig.add_trace(go.Scatter(
            x=[0.0] * len(miss), y=miss["_y"].tolist(), mode="markers+text", name="Geen z-score",
            marker=dict(color="#999999", size=9, symbol="x-thin-open", line=dict(width=2, color="#999999")),
            text=[r.replace("geen waarde: ", "") for r in miss["reading"]], textposition="middle right",
            textfont=dict(size=11, color="#555555"),
            hovertemplate="%{y}<br>%{text}<extra></extra>"))
    # the labels get a fixed margin (not automargin), so the source line can start at the left edge
    left = min(PROFILE_LABEL_MAX_PX, 24 + 7 * max((len(y) for y in ylab), default=10))
    fig.update_yaxes(categoryorder="array", categoryarray=ylab[::-1], automargin=False)
    fig.update_xaxes(range=[-lim, lim], zeroline=False, dtick=profile_dtick(lim),
                     title_text="z-score: afwijking in standaardafwijkingen")
    height = 40 + 26 * len(p)
    return _finish(fig, source=src, fictitious=fic, title=title, height=max(height, 200), left=left)


#: at most this many px for the indicator labels of a profile chart
PROFILE_LABEL_MAX_PX = 360
#: at most this many tick labels on the z-axis of a profile chart
PROFILE_MAX_TICKS = 13


def profile_dtick(lim: float) -> int:
    """The tick step of a z-axis from ``-lim`` to ``lim``: 1 while that gives at most
    :data:`PROFILE_MAX_TICKS` labels, else 2, 5, 10, ... (a buurt can lie at z = 20)."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if 2 * lim / step + 1 <= PROFILE_MAX_TICKS:
            return step
    return 1000


# ----------------------------------------------------------------------------- trend
def trend_chart(series_df: pd.DataFrame, indicator: Indicator | str | None = None, *,
                area_code: str | None = None, title: str | None = None, source: str | None = None,
                fictitious: bool | None = None) -> go.Figure:
    """Lines of :func:`buurtmonitor.analysis.time_series` (one or more areas, concatenated).

    One trace per area and segment: a line never crosses a change of origin
    classification or a boundary change of that area. The breaks of ``area_code`` (default:
    the first code in the frame) are marked with a dotted vertical line labelled
    "Breuk: herkomst vanaf 2023" or "Grenswijziging". Other areas (gemeente, Nederland) are
    drawn as grey reference lines. Each trace has ``meta = {"code", "segment"}``.
    """
    src, fic = _meta(series_df, source, fictitious)
    cat = load_catalogue()
    ind = cat.indicators.get(indicator) if isinstance(indicator, str) else indicator
    s = series_df.sort_values(["code", "year"], kind="stable")
    codes = list(dict.fromkeys(series_df["code"]))
    main = area_code or series_df.attrs.get("code") or (codes[0] if codes else None)
    fig = go.Figure()
    colour_of: dict[str, str] = {}
    for code in codes:
        a = s[(s["code"] == code) & s["present"]]
        level = a["level"].dropna().iloc[-1] if a["level"].notna().any() else ""
        name = a["name"].dropna().iloc[-1] if a["name"].notna().any() else code
        for seg, part in a.groupby("segment", sort=True):
            lab = part["indicator_label"].dropna()
            lab = lab.iloc[0] if len(lab) else (ind.label if ind else "")
            y0, y1 = int(part["year"].min()), int(part["year"].max())
            period = f"{y0}" if y0 == y1 else f"{y0}–{y1}"
            if code == main:
                colour = colour_of.setdefault(lab, OKABE_ITO[len(colour_of) % len(OKABE_ITO)])
                dash, width, symbol = "solid", 3, "circle"
            else:
                colour, dash = REFERENCE_STYLE.get(level, ("#777777", "dashdot"))
                width, symbol = 2, "square"
            seg_name = f"{part['name'].dropna().iloc[-1] if part['name'].notna().any() else name}"
            fig.add_trace(go.Scatter(
                x=part["year"].astype(int).tolist(), y=part["value"].tolist(), mode="lines+markers",
                name=f"{seg_name} · {lab} ({period})", legendgroup=code,
                line=dict(color=colour, dash=dash, width=width), marker=dict(symbol=symbol, size=8),
                connectgaps=False, meta={"code": code, "segment": int(seg)},
                customdata=list(zip([number(v, 0) for v in part["n"]],
                                    ["klein aantal: onzeker" if sm else "" for sm in part["small_n"]])),
                hovertemplate=(f"{seg_name}<br>{lab}<br>%{{x}}: %{{y:.1f}}"
                               f"{(' ' + ind.unit) if ind and ind.unit != '%' else ''}"
                               "<br>n = %{customdata[0]} %{customdata[1]}<extra></extra>")))
    # break markers for the main area
    if main is not None:
        br = series_breaks(s[s["code"] == main])
        for i, (x, grp) in enumerate(br.groupby("x", sort=True)):
            text = " · ".join(dict.fromkeys(grp["label"]))
            kinds = set(grp["kind"])
            fig.add_vline(x=float(x), line_dash="dot", line_width=2,
                          line_color="#D55E00" if BREAK_SCHEME in kinds else "#CC79A7")
            # labels inside the plot, alternating rows so that neighbouring breaks stay legible
            fig.add_annotation(x=float(x), y=1, yref="paper", yanchor="top", xanchor="left", xshift=3,
                               yshift=-18 * (i % 2), text=text, showarrow=False, name="breuk",
                               font=dict(size=11, color="#333333"), bgcolor="rgba(255,255,255,0.85)")
        # missing values of the main area, with the reason
        gaps = s[(s["code"] == main) & s["value"].isna()]
        for r in gaps.itertuples(index=False):
            fig.add_annotation(x=int(r.year), y=0, yref="paper", yanchor="bottom", showarrow=False,
                               text=MISSING_SHORT.get(r.missing or "", "geen waarde"), textangle=-90,
                               font=dict(size=10, color="#777777"), name="ontbreekt")
    years = sorted(int(y) for y in series_df["year"].unique()) if len(series_df) else []
    if years:
        fig.update_xaxes(range=[years[0] - 0.6, years[-1] + 0.6], tickmode="array", tickvals=years,
                         ticktext=[str(y) for y in years], title_text="Peiljaar")
    units = series_df["unit"].dropna()
    unit = ind.unit if ind else (units.iloc[0] if len(units) else "")
    fig.update_yaxes(title_text=unit, rangemode="tozero" if unit in ("%", "aantal") else "normal")
    vals = series_df["value"].dropna()
    if len(vals):  # headroom for the break labels at the top of the plot
        lo = 0.0 if unit in ("%", "aantal") and vals.min() >= 0 else float(vals.min())
        hi = float(vals.max())
        span = (hi - lo) or abs(hi) or 1.0
        fig.update_yaxes(range=[lo - (0 if lo == 0 else 0.05 * span), hi + 0.22 * span])
    fig.update_layout(hovermode="closest")
    return _finish(fig, source=src, fictitious=fic, title=title, height=340, legend_below=True)


def trace_x_ranges(fig: go.Figure) -> list[tuple[dict[str, Any] | None, float, float]]:
    """(meta, min x, max x) of every line trace: used to check that no line spans a break."""
    out = []
    for t in fig.data:
        if getattr(t, "mode", None) and "lines" in t.mode and t.x is not None and len(t.x):
            xs = [float(x) for x in t.x]
            out.append((t.meta, min(xs), max(xs)))
    return out

