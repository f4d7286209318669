"""The briefing item "Integratie naar herkomst": how origin groups in a gemeente are doing
against inwoners met herkomst Nederland and against the whole country.

:func:`integratie_item` builds one :class:`~buurtmonitor.exports.items.ExportItem` from the
by-origin data of a gemeente (what :func:`loaders.by_origin.load_by_origin` returns, handed in
or loaded through ``sources.by_origin``):

* key figures in words (:func:`buurtmonitor.integratie.sentences.key_figures`): the headline
  gap with the national gap, the other groups, the trend, what is not published;
* a gap chart (:func:`gap_figure`): per group the gap to the reference group in the gemeente
  (bars) and in the whole country (diamonds); a group without a figure is named, never 0;
* a compact table for the pack (:func:`compact_table`, ``summary_table`` of the item) and
  the full table of every indicator, group and year for CSV/XLSX
  (:func:`buurtmonitor.integratie.table.export_table`);
* the source line with the table ids (CBS, or the gemeente's own data), the fictitious flag
  of the demo, the definitions of the indicators.

Pure: no loading here (the application layer hands in the loader).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from buurtmonitor import formatting as fmt
from buurtmonitor.briefing.common import Sources, need_sources, resources
from buurtmonitor.exports.items import ExportItem
from buurtmonitor.integratie.catalogue import OriginCatalogue, load_origin_catalogue
from buurtmonitor.integratie.sentences import (
    KeyFigures,
    gap_text,
    group_short,
    key_figures,
    reference_name,
    value_text,
)
from buurtmonitor.integratie.table import export_table, indicator_rows
from buurtmonitor.maps.labels import fictitious_annotation
from buurtmonitor.model import SOURCE_CBS

VIEW = "integratie"
TITLE = "Integratie naar herkomst"
#: bar colours: a group worse off than the reference group, better off, no difference
WORSE, BETTER, EVEN = "#D55E00", "#0072B2", "#999999"


class ByOrigin(Protocol):
    """What the item needs of :class:`loaders.by_origin.LoadedByOrigin`."""

    frame: pd.DataFrame
    sources: Sequence[Any]
    own_sources: Sequence[str]
    problems: Sequence[Any]
    warnings: Sequence[str]
    fictitious: bool


def source_line(loaded: ByOrigin, table_ids: Sequence[str]) -> str:
    """"Bron: CBS, <titel> (85512NED, via CBS OData v3); <titel> (86008NED, …)" for the CBS
    tables among ``table_ids``, then the own-data lines of the gemeente's own figures used."""
    ids = set(table_ids)
    cbs = [p.source_line() for p in loaded.sources if p.table_id in ids]
    prefix = f"{SOURCE_CBS}, "
    parts = []
    if cbs:
        parts.append(prefix + "; ".join(s.removeprefix(prefix) for s in cbs))
    frame = loaded.frame
    own = frame[(frame["api"] == "eigen") & frame["table_id"].isin(ids)]["source"].dropna().unique().tolist()
    parts += sorted(str(s) for s in own)
    return "; ".join(parts) or SOURCE_CBS


def compact_table(kf: KeyFigures, catalogue: OriginCatalogue | None = None) -> pd.DataFrame:
    """The headline indicator in the chosen year, one row per group (reference group first,
    the total last): value, n, gap, the same group in Nederland and the national gap, and why a
    value is missing. Cells are text, formatted the Dutch way."""
    cat = catalogue or load_origin_catalogue()
    ind = cat.indicators[kf.indicator]
    unit = "procentpunt" if ind.gap_unit == "pp" else ind.unit
    ref = _cap(reference_name(kf.reference_group, cat))
    rows = [{"Groep": f"{ref} (referentie)", "Waarde": value_text(kf.reference_value, ind),
             "n": fmt.integer(kf.reference_n), f"Verschil ({unit})": "",
             "Nederland": "", f"Verschil in Nederland ({unit})": "", "Toelichting": ""}]
    ref_country = next((r.country_value - r.country_gap for r in kf.rows
                        if r.country_value is not None and r.country_gap is not None), None)
    rows[0]["Nederland"] = value_text(ref_country, ind)
    for r in kf.rows:
        rows.append({
            "Groep": group_short(r.group, cat), "Waarde": value_text(r.value, ind), "n": fmt.integer(r.n),
            f"Verschil ({unit})": fmt.number(r.gap, ind.decimals, sign=True),
            "Nederland": value_text(r.country_value, ind),
            f"Verschil in Nederland ({unit})": fmt.number(r.country_gap, ind.decimals, sign=True),
            "Toelichting": cat.missing_label(r.missing)})
    out = pd.DataFrame(rows)
    if all(r.country_value is None for r in kf.rows):   # own data without national figures
        out = out.drop(columns=["Nederland", f"Verschil in Nederland ({unit})"])
    if not out["Toelichting"].astype(bool).any():
        out = out.drop(columns=["Toelichting"])
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def gap_figure(kf: KeyFigures, *, source: str = "", fictitious: bool = False,
               catalogue: OriginCatalogue | None = None):
    """Horizontal bars: the gap of every group to the reference group in the gemeente (in
    procentpunt for percentages), diamonds for the same gap in the whole country. A group
    without a figure gets no bar and the label "geen cijfer"."""
    import plotly.graph_objects as go

    cat = catalogue or load_origin_catalogue()
    ind = cat.indicators[kf.indicator]
    rows = [r for r in kf.rows if r.group != "totaal"][::-1]
    labels = [html.escape(group_short(r.group, cat), quote=False).replace(" (", "<br>(", 1)
              for r in rows]           # long labels on two lines
    gaps = [r.gap for r in rows]
    better_lower = ind.better == "lower"

    def colour(g: float | None) -> str:
        if g is None or round(g, ind.decimals) == 0:
            return EVEN
        worse = g > 0 if better_lower else g < 0
        return WORSE if worse and ind.better != "none" else (BETTER if ind.better != "none" else EVEN)

    text = [f"{value_text(r.value, ind)} ({fmt.number(r.gap, ind.decimals, sign=True)})" if r.gap is not None
            else ("geen cijfer" if r.value is None else f"{value_text(r.value, ind)} (geen vergelijking)")
            for r in rows]
    ref = reference_name(kf.reference_group, cat)
    unit = "procentpunt" if ind.gap_unit == "pp" else ind.unit
    country = [r.country_gap for r in rows]
    known = [float(g) for g in gaps + country if g is not None]
    span = max([abs(g) for g in known] or [1.0]) or 1.0
    low = min([0.0, *known]) - 0.08 * span
    right = max([0.0, *known]) + 0.12 * span        # the column of values starts here
    fig = go.Figure()
    fig.add_trace(go.Bar(
        orientation="h", y=labels, x=[0.0 if g is None else float(g) for g in gaps],
        marker_color=[colour(g) for g in gaps], name=html.escape(f"{kf.gemeente_name} {kf.year}", quote=False),
        customdata=[html.escape(t, quote=False) for t in text],
        hovertemplate="%{y}: %{customdata}<extra></extra>"))
    if any(c is not None for c in country):
        fig.add_trace(go.Scatter(
            y=labels, x=[None if c is None else float(c) for c in country], mode="markers",
            marker=dict(symbol="diamond", size=11, color="#222222", line=dict(color="white", width=1)),
            name=f"Nederland {kf.year}", customdata=[gap_text(c, ind, sign=True) for c in country],
            hovertemplate="%{y}, Nederland: %{customdata}<extra></extra>"))
    # the value and the gap of each group as a column right of the bars (never over a bar)
    fig.add_trace(go.Scatter(
        y=labels, x=[right] * len(labels), mode="text", text=[html.escape(t, quote=False) for t in text],
        textposition="middle right", showlegend=False, hoverinfo="skip", cliponaxis=False,
        textfont=dict(size=12, color="#222222")))
    fig.add_vline(x=0, line_color="#333333", line_width=1.5)
    fig.update_xaxes(range=[low, right + 0.55 * span], zeroline=False,
                     title_text=html.escape(f"verschil met {ref} ({kf.gemeente_name}: "
                                            f"{value_text(kf.reference_value, ind)}), in {unit}", quote=False))
    fig.update_yaxes(automargin=True)
    fig.update_layout(
        template="plotly_white", separators=",.", bargap=0.35, height=460,
        font=dict(family="Source Sans Pro, Arial, sans-serif", size=13),
        title=dict(text=html.escape(f"{ind.label}: verschil met {ref}", quote=False), x=0, xanchor="left"),
        legend=dict(orientation="h", x=1.0, xanchor="right", y=-0.22, yanchor="top"),
        margin=dict(l=10, r=30, t=60, b=90))
    if source:
        fig.add_annotation(text=html.escape(source, quote=False), xref="paper", yref="paper", x=0, y=0,
                           yshift=-88, xanchor="left", yanchor="bottom", showarrow=False,
                           font=dict(size=11, color="#555555"), name="bronregel")
    if fictitious:
        fig.add_annotation(fictitious_annotation(x=0, y=1, yshift=40, xanchor="left", yanchor="bottom", size=12))
    return fig


def _definitions(kf: KeyFigures, cat: OriginCatalogue) -> list[dict]:
    ind = cat.indicators[kf.indicator]
    defs = [{"id": ind.id, "label": ind.label, "definition": ind.definition, "unit": ind.unit}]
    ref = reference_name(kf.reference_group, cat)
    defs.append({"id": "verschil", "label": f"Verschil met {ref}", "unit": "",
                 "definition": f"Het cijfer van een groep min dat van {ref} in dezelfde gemeente en hetzelfde "
                               "jaar; bij percentages in procentpunten. Het verschil in Nederland is hetzelfde "
                               "voor het hele land. Cijfers naar herkomst (de huidige CBS-indeling) en naar "
                               "migratieachtergrond (de oude indeling) worden nooit met elkaar vergeleken."})
    return defs


def integratie_item(year: int, gemeente: str, level: str = "wijk", indicator: str | None = None, *,
                    sources: Sources | None = None, loaded: ByOrigin | None = None,
                    origin_indicator: str | None = None, group: str | None = None,
                    catalogue: OriginCatalogue | None = None) -> ExportItem:
    """The Integratie view of ``gemeente`` for a briefing of ``year``.

    Parameters
    ----------
    year, gemeente
        The briefing's year and gemeente; the figures are of the latest year up to ``year``
        with figures by origin (the subtitle says so when that is another year).
    level, indicator
        The briefing's level and KWB indicator (other views use them; this one does not).
    sources, loaded
        ``loaded``: the by-origin data of the gemeente; else ``sources.by_origin(gemeente)``.
    origin_indicator, group
        The indicator and the headline group (default: netto arbeidsparticipatie and herkomst
        buiten Europa, where the data have them).

    Raises
    ------
    LookupError
        The gemeente has no comparable figures by origin (Dutch message; a pack then shows a
        page that says so).
    """
    cat = catalogue or load_origin_catalogue()
    data = loaded if loaded is not None else need_sources(sources, "the figures by origin").by_origin(gemeente)
    frame = data.frame
    mine = frame[(frame["gemeente_code"] == gemeente) & (frame["level"] == "gemeente")]
    name = str(mine["gemeente_name"].dropna().iloc[0]) if len(mine) and mine["gemeente_name"].notna().any() \
        else gemeente
    kf = key_figures(frame, gemeente, year=int(year), indicator=origin_indicator, group=group,
                     catalogue=cat, place=name)
    if kf is None:
        failed = [p.table_id for p in data.problems]
        why = (f": de CBS-tabellen {', '.join(failed)} konden niet worden geladen" if failed else "")
        raise LookupError(f"Voor {name} zijn er geen cijfers naar herkomst om te vergelijken{why}.")
    ind = cat.indicators[kf.indicator]
    rows = indicator_rows(frame, gemeente, catalogue=cat)
    rows = rows[rows["scheme"] == kf.scheme] if not rows.empty else rows
    table_ids = list(dict.fromkeys([kf.table_id, *rows["table_id"].tolist()]))
    line = source_line(data, table_ids)
    subtitle = f"{ind.label} per herkomstgroep tegen {reference_name(kf.reference_group, cat)}, {kf.year}"
    if kf.year_note:   # another year than the briefing's: said in the subtitle of page and figure
        subtitle += (f" (het {'laatste' if kf.year < int(year) else 'eerste'} jaar met deze cijfers; "
                     f"gevraagd: {year})")
    years = sorted({int(y) for y in rows["year"].dropna()}) if not rows.empty else [kf.year]
    sentences = list(kf.sentences)
    extra = [str(p.message) for p in data.problems] + [str(w) for w in data.warnings]
    if extra and len(sentences) >= 4:
        sentences[-1] = sentences[-1] + " " + " ".join(extra)
    elif extra:
        sentences.append(" ".join(extra))
    res = resources(VIEW) or resources("herkomst")
    if not any(r.group == "eritrea" and r.value is not None for r in kf.rows):
        # the handreiking for Eritrean newcomers only where Eritrea is a group of the figures
        res = [r for r in res if "eritre" not in f"{r.get('title', '')}".lower()]
    return ExportItem(
        title=f"{TITLE}: {name}, {kf.year}",
        subtitle=subtitle,
        figure=gap_figure(kf, source=line, fictitious=data.fictitious, catalogue=cat),
        table=export_table(rows),
        summary_table=compact_table(kf, cat),
        definitions=_definitions(kf, cat),
        key_figures=sentences[:4],
        source_line=line,
        table_ids=table_ids,
        years=years,
        resources=res,
        fictitious=bool(data.fictitious),
    )
