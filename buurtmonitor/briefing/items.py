"""The items of a council briefing: one view of the dashboard as an :class:`ExportItem`
(figure, table, key figures, definitions, source, guidance), built from the tables handed in
or loaded through :class:`~buurtmonitor.briefing.common.Sources`.

* :func:`map_item`           the choropleth of one indicator per wijk or buurt;
* :func:`composition_item`   the origin composition per wijk or buurt (stacked bars);
* :func:`profile_item`       one area against the gemeente (z-scores);
* :func:`trend_item`         one area and indicator over the years (breaks marked);
* :func:`lokale_kaart_item`  segregation and diversity measures, change signals and the
  worksheet notes of the lokale kaart.

The same inputs give the same content.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace as dataclass_replace
from typing import Any

import numpy as np
import pandas as pd

from buurtmonitor import analysis, charts, small_areas
from buurtmonitor import formatting as fmt
from buurtmonitor.briefing.common import (
    CHART_AREAS,
    DEFAULT_INDICATOR,
    PROFILE_ROWS,
    Sources,
    _check_level,
    _definitions,
    _missing,
    _scope_table,
    check_indicator,
    first_sentence,
    gemeente_name,
    need_sources,
    resources,
)
from buurtmonitor.briefing.sentences import (
    change_sentence,
    composition_key_figures,
    lokale_kaart_key_figures,
    map_key_figures,
    year_ranges,
)
from buurtmonitor.catalogue import load_catalogue, load_lokale_kaart
from buurtmonitor.exports.items import ExportItem
from buurtmonitor.harmonise import SMALL_N, available_indicators, indicator_frame
from buurtmonitor.lokale_kaart import change, interpretation, presenters
from buurtmonitor.lokale_kaart import indices as lokale_kaart
from buurtmonitor.lokale_kaart.indices import GemeenteMeasures
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps.areas import reference_values
from buurtmonitor.maps.labels import fictitious_annotation, n_label, title_for
from buurtmonitor.model import LEVEL_LABELS, MISSING_LABELS, MISSING_SMALL_AREA, AreaTable


# ----------------------------------------------------------------------------- kaart
def indicator_table(table: AreaTable, indicator: str, level: str, gemeente: str) -> pd.DataFrame:
    """The indicator per area of ``level`` (code order), then the gemeente and Nederland:
    value (in the unit as people read it: euro, not "x 1 000 euro"), the counts it rests on,
    n and what n counts ("n telt": inwoners, huishoudens, woningen), and the reason where a
    value is missing (including the small-area rule)."""
    cat = load_catalogue()
    ind = cat.indicators[indicator]
    f = indicator_frame(_scope_table(table, gemeente), ind.id)
    areas = f[f["level"] == level].sort_values("code", kind="stable")
    refs = pd.concat([f[f["code"] == gemeente], f[f["level"] == "land"]])
    f = pd.concat([areas, refs], ignore_index=True)
    factor = fmt.readable(1.0, ind.unit)[0] or 1.0   # "x 1 000 euro": shown in euro
    out = pd.DataFrame({
        "Code": f["code"].values, "Naam": f["name"].values,
        "Soort": f["level"].map(LEVEL_LABELS).values,
        f"{ind.label} ({fmt.unit_label(ind.unit)})":
            (f["value"].astype(float) * factor).round(1 if factor == 1.0 else 0).values,
    })
    if ind.kind == "share" and ind.numerator:
        out[f"{cat.variables[ind.numerator].label} (aantal)"] = f["numerator"].astype(float).values
    out["n"] = f["n"].astype(float).values
    out["n telt"] = n_label(ind, short=True)
    out["Toelichting"] = [
        MISSING_LABELS.get(m, analysis.missing_label(m)) if m else
        (f"klein aantal (n < {SMALL_N}): onzeker" if s else "")
        for m, s in zip(f["missing"], f["small_n"])]
    return out


def area_table(table: AreaTable, indicator: str, level: str, gemeente: str) -> pd.DataFrame:
    """The compact per-area table of a map in a pack: every area of ``level`` by name, its value
    as the map shows it, n and a note (why a value is missing, a small n), then the gemeente and
    Nederland. Text cells, formatted by :mod:`buurtmonitor.formatting`."""
    cat = load_catalogue()
    ind = cat.indicators[indicator]
    f = indicator_frame(_scope_table(table, gemeente), ind.id)
    areas = f[f["level"] == level].sort_values("name", kind="stable", key=lambda s: s.astype(str).str.lower())
    f = pd.concat([areas, f[f["code"] == gemeente], f[f["level"] == "land"]], ignore_index=True)
    return pd.DataFrame({
        LEVEL_LABELS.get(level, level): [str(x) for x in f["name"]],
        f"{ind.label}": [fmt.value(v, ind.unit) if pd.notna(v) else "–" for v in f["value"]],
        "n": [fmt.integer(n) if pd.notna(n) else "" for n in f["n"]],
        "Toelichting": [
            MISSING_LABELS.get(m, analysis.missing_label(m)).split(" (")[0] if m else
            ("klein aantal, onzeker" if s else "") for m, s in zip(f["missing"], f["small_n"])],
    })


def map_item(year: int, gemeente: str, level: str = "wijk", indicator: str = DEFAULT_INDICATOR, *,
             area: str | None = None, sources: Sources | None = None, table: AreaTable | None = None,
             figure: Any = None, map_options: Mapping[str, Any] | None = None) -> ExportItem:
    """The map of one indicator per wijk or buurt of ``gemeente``.

    ``figure``: the map the page shows (else it is drawn here with
    :func:`mapping.choropleth` on the boundaries of ``sources.geometry``).
    Without boundaries the item has no figure and says why; the table is always there.
    ``map_options``: extra arguments for :func:`mapping.choropleth` (method, k, palette, ...).
    """
    ind = check_indicator(indicator, year)
    _check_level(level)
    src = sources
    table = table if table is not None else need_sources(src, "the table").table(year, gemeente)
    name = gemeente_name(table, gemeente)
    plural = fmt.level_plural(level)
    frame = indicator_frame(_scope_table(table, gemeente), ind.id)
    level_frame = frame[frame["level"] == level]
    if level_frame.empty:
        raise LookupError(f"Geen {plural} van {name} in de cijfers van {year}.")
    key_figures = map_key_figures(frame, ind, gemeente, name, level, area)
    fig = figure
    if fig is None:
        try:
            if src is None:
                raise LookupError("geen bron voor grenzen opgegeven")
            geometry = src.geometry(year, level, gemeente)
            if geometry.empty:
                raise LookupError("geen grenzen gevonden")
            opts = dict(map_options or {})
            fig = mapping.choropleth(
                geometry, level_frame, ind, selected=area, fictitious=table.meta.fictitious,
                source_line=table.meta.source_line(), level=level,
                uirevision=f"export-{gemeente}-{level}", names=True, **opts)
        except Exception as exc:  # noqa: BLE001 - no boundaries: the table still goes out
            fig = None
            key_figures = key_figures[:3] + [
                f"De grenzen van de {plural} van {name} ({year}) zijn niet beschikbaar, dus er is "
                f"geen kaart; de cijfers staan in de tabel. ({str(exc).splitlines()[0][:200]})"]
    refs = reference_values(frame, gemeente)
    subtitle = " · ".join([f"{len(level_frame)} {plural}"]
                          + [f"{label} {fmt.value(v, ind.unit)}" for label, v in
                             (refs.get("gemeente", (None, None)), refs.get("nederland", (None, None)))
                             if label is not None])
    return ExportItem.from_meta(
        table.meta,
        title=title_for(ind, level, name, year),
        subtitle=subtitle,
        figure=fig,
        table=indicator_table(table, ind.id, level, gemeente),
        area_table=area_table(table, ind.id, level, gemeente),
        definitions=_definitions([ind.id]),
        key_figures=key_figures,
        resources=resources("kaart", ind.id),
    )


def composition_item(year: int, gemeente: str, level: str = "wijk",
                     indicator: str | None = DEFAULT_INDICATOR, *, area: str | None = None,
                     detail: bool = False, value: str = "share", sort_by: str | None = None,
                     sources: Sources | None = None, table: AreaTable | None = None,
                     figure: Any = None, max_areas: int = CHART_AREAS) -> ExportItem:
    """The origin composition per wijk or buurt, with the gemeente and Nederland.

    The chart of an export shows at most ``max_areas`` areas (those with the largest share
    of the group of ``indicator``, or of ``sort_by``); the table holds them all. ``figure``:
    the chart the page shows, exported as it is."""
    _check_level(level)
    cat = load_catalogue()
    table = table if table is not None else need_sources(sources, "the table").table(year, gemeente)
    table = _scope_table(table, gemeente)
    name = gemeente_name(table, gemeente)
    plural = fmt.level_plural(level)
    scheme = cat.schemes[table.meta.scheme]
    comp = analysis.composition(table, level, detail=detail)
    if comp[comp["role"] == analysis.ROLE_AREA].empty:
        raise LookupError(f"Geen {plural} van {name} in de cijfers van {year}.")
    group_ids = [g.id for g in analysis.scheme_groups(scheme, detail)]
    group = analysis.group_for_indicator(indicator, scheme)
    if sort_by is None:
        sort_by = group if group in group_ids else (group_ids[-1] if group_ids else "name")
    sort_group = sort_by if sort_by in group_ids else group
    areas = comp[comp["role"] == analysis.ROLE_AREA]
    n_areas = areas["code"].nunique()
    subtitle = f"Aandeel per herkomstgroep, {n_areas} {plural}, gemeente en Nederland"
    fig = figure
    if fig is None:
        chart = comp
        if n_areas > max_areas:
            key = sort_by if sort_by in group_ids else (group_ids[-1] if group_ids else "name")
            keep = set(charts.sort_areas(comp, key)[:max_areas])
            chart = comp[(comp["role"] != analysis.ROLE_AREA) | comp["code"].isin(keep)]
            chart.attrs.update(comp.attrs)
            label = next((g.label for g in scheme.groups if g.id == key), "")
            subtitle = (f"De {max_areas} {plural} met het hoogste aandeel {label} (van {n_areas}); "
                        "alle gebieden staan in de tabel")
        fig = charts.composition_bars(chart, sort_by=sort_by, value=value, highlight=area,
                                      title=None)
        # an export image is smaller than the screen: keep every area labelled
        fig.update_yaxes(tickmode="linear", dtick=1, tickfont=dict(size=11))
    if value == "share" and hasattr(fig, "for_each_xaxis"):
        # on the chart itself: the axis title says which denominator the bars use
        fig.for_each_xaxis(lambda ax: ax.update(title_text=COMPOSITION_AXIS_TITLE)
                           if ax.title.text == "Aandeel (%)" else None)
    # the text and the table use the definition of the indicators (share of all inwoners)
    per_inhabitant = shares_of_inhabitants(comp)
    # the classification and its groups in one paragraph
    definitions = [{"id": scheme.id, "label": scheme.label,
                    "definition": f"{scheme.note} {COMPOSITION_DENOMINATOR_NOTE}", "unit": ""}]
    return ExportItem.from_meta(
        table.meta,
        title=f"Herkomst per {level}, {name}, {year}",
        subtitle=subtitle,
        figure=fig,
        table=composition_table(per_inhabitant),
        definitions=definitions,
        key_figures=composition_key_figures(per_inhabitant, sort_group, name, level, year, scheme.label),
        resources=resources("herkomst", indicator),
    )


#: the one place where the pack uses another denominator than the indicator definition: the
#: axis title of the stacked bars, and the definition on the page of the view
COMPOSITION_AXIS_TITLE = "Aandeel (%) van de som van de herkomstgroepen; in tekst en tabel: van alle inwoners"
COMPOSITION_DENOMINATOR_NOTE = (
    "Aandelen in de figuur: van de som van de herkomstgroepen, zodat elke balk optelt tot 100%. "
    "In de tekst en de tabel: van alle inwoners, zoals elders in deze briefing; door de afronding "
    "van CBS op vijftallen kan dat enkele tienden verschillen.")


def shares_of_inhabitants(comp: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.composition` with ``share`` = count / inwoners × 100, the definition of
    the origin indicators (``data/indicators.toml``), instead of the share of the sum of
    the groups that a stacked bar needs. Shares hidden or missing stay missing."""
    out = comp.copy()
    inw = pd.to_numeric(out["inwoners"], errors="coerce")
    share = pd.to_numeric(out["count"], errors="coerce") / inw.where(inw > 0) * 100.0
    out["share"] = share.where(out["share"].notna())
    out["total"] = inw
    out.attrs.update(comp.attrs)
    return out


def composition_table(per_inhabitant: pd.DataFrame) -> pd.DataFrame:
    """The table of the composition item: per area the inwoners, the count and the share of
    all inwoners of each group (:func:`shares_of_inhabitants`)."""
    out = analysis.composition_table(per_inhabitant)
    return out.rename(columns={"Totaal": "Inwoners", **{c: c.replace("(%)", "(% van de inwoners)")
                                                       for c in out.columns if c.endswith("(%)")}})


# ----------------------------------------------------------------------------- profiel
def _pick_area(table: AreaTable, gemeente: str, area: str | None) -> tuple[str, bool]:
    """(area code, chosen automatically?): ``area`` when it is a wijk/buurt of the
    gemeente, else the gemeente itself. Never an area picked by its value: a default that
    singles out a wijk by (say) its origin share would put it in the spotlight of a council
    without anyone having chosen it."""
    d = table.data
    own = d[(d["gemeente_code"] == gemeente) & d["level"].isin(["wijk", "buurt"])]
    if area and area in set(own["code"]):
        return area, False
    return gemeente, True


def profile_item(year: int, gemeente: str, level: str = "wijk", indicator: str = DEFAULT_INDICATOR,
                 *, area: str | None = None, sources: Sources | None = None,
                 table: AreaTable | None = None, figure: Any = None,
                 max_rows: int = PROFILE_ROWS) -> ExportItem:
    """One wijk or buurt against the average of the areas of the gemeente (z-scores).

    Without ``area`` (a wijk or buurt of the gemeente) the profile is that of the gemeente
    as a whole against Nederland (the key figures say so), never an area picked by its
    value. The chart of an export shows the indicator and the
    ``max_rows`` - 1 indicators that deviate most; the table holds every indicator."""
    ind = check_indicator(indicator, year)
    _check_level(level)
    table = table if table is not None else need_sources(sources, "the table").table(year, gemeente)
    table = _scope_table(table, gemeente)
    name = gemeente_name(table, gemeente)
    code, automatic = _pick_area(table, gemeente, area)
    inds = [i.id for i in available_indicators(table)]
    if ind.id not in inds:
        inds = [ind.id] + inds
    prof = analysis.profile(table, code, inds)
    a = prof.attrs
    lvl = a["level"]
    area_name = a["name"]
    fig = figure
    subtitle = f"{LEVEL_LABELS[lvl]} in {name}"
    if lvl in ("wijk", "buurt"):
        plural = fmt.level_plural(lvl)
        subtitle = (f"{LEVEL_LABELS[lvl]} {area_name} tegen het gemiddelde van de {plural} van "
                    f"{name} (z-scores)")
        if fig is None:
            shown = prof
            if len(prof) > max_rows:
                order = prof["z"].abs().fillna(-1.0)
                order[prof["indicator"] == ind.id] = np.inf
                keep = set(order.sort_values(ascending=False, kind="stable").index[:max_rows])
                shown = prof.loc[sorted(keep)]
                shown.attrs.update(prof.attrs)
                subtitle += f"; de {max_rows} meest afwijkende indicatoren, alle in de tabel"
            fig = charts.profile_chart(shown, title=None)
    me = prof[prof["indicator"] == ind.id].iloc[0]
    key: list[str] = []
    hidden = prof[prof["missing"] == MISSING_SMALL_AREA]
    if lvl in ("wijk", "buurt") and len(hidden):
        row = table.row(code)
        inw = row["inwoners"] if row is not None else None
        key.append(f"{area_name} is een klein gebied ({fmt.integer(inw)} inwoners): "
                   f"{len(hidden)} aandelen en gemiddelden worden niet getoond. "
                   + small_areas.rule_text())
    if _missing(me["value"]):
        key.append(f"{area_name}: geen waarde voor {ind.label} ({me['missing_label']}).")
    else:
        refs = []
        if lvl == "buurt" and not _missing(me["wijk"]):
            refs.append(f"wijk {fmt.value(me['wijk'], ind.unit)}")
        if lvl != "gemeente" and not _missing(me["gemeente"]):
            refs.append(f"gemeente {fmt.value(me['gemeente'], ind.unit)}")
        if not _missing(me["nederland"]):
            refs.append(f"Nederland {fmt.value(me['nederland'], ind.unit)}")
        reading = f": {me['reading']}" if lvl != "gemeente" and me["reading"] else ""
        key.append(f"{ind.label} in {area_name}: {fmt.value(me['value'], ind.unit)}"
                   + (f" ({'; '.join(refs)})" if refs else "") + f"{reading}.")
    z = prof[prof["z"].notna()]
    if len(z):
        hi = z.sort_values(["z", "indicator"], ascending=[False, True]).iloc[0]
        lo = z.sort_values(["z", "indicator"], ascending=[True, True]).iloc[0]
        parts = []
        if hi["z"] > 0:
            parts.append(f"het verst boven het gemiddelde ligt {hi['label']} "
                         f"({fmt.value(hi['value'], load_catalogue().indicators[hi['indicator']].unit)}, "
                         f"z = {fmt.z_score(hi['z'])})")
        if lo["z"] < 0:
            parts.append(f"het verst eronder {lo['label']} "
                         f"({fmt.value(lo['value'], load_catalogue().indicators[lo['indicator']].unit)}, "
                         f"z = {fmt.z_score(lo['z'])})")
        if parts:
            s = "; ".join(parts)
            key.append(s[0].upper() + s[1:] + ".")
    n_missing = int(prof["value"].isna().sum())
    if n_missing:
        key.append(f"{n_missing} van de {len(prof)} indicatoren hebben geen waarde voor "
                   f"{area_name} (geheim, niet beschikbaar of te klein gebied; ontbrekend is niet 0).")
    if automatic:
        key.append(f"Geen wijk of buurt gekozen: dit profiel beschrijft {area_name} als geheel "
                   "(zonder z-scores). Kies op de kaart of in de zijbalk een gebied voor een "
                   "profiel van dat gebied.")
    return ExportItem.from_meta(
        table.meta,
        title=f"Gebiedsprofiel {area_name}, {year}",
        subtitle=subtitle,
        figure=fig,
        table=analysis.profile_table(prof),
        definitions=_definitions([ind.id]),
        key_figures=key[:4],
        resources=resources("gebiedsprofiel", ind.id),
    )


# ----------------------------------------------------------------------------- ontwikkeling
def tables_up_to(year: int, gemeente: str, sources: Sources
                 ) -> tuple[dict[int, AreaTable], dict[int, str]]:
    """Every available year up to ``year`` ({year: table}) and the years that failed
    ({year: Dutch reason}), from ``sources``. ``year`` itself must load."""
    src = sources
    tables: dict[int, AreaTable] = {}
    failed: dict[int, str] = {}
    for y in src.available_years(gemeente):
        if y > int(year):
            continue
        try:
            tables[y] = _scope_table(src.table(y, gemeente), gemeente)
        except Exception as exc:  # noqa: BLE001 - listed, the other years still count
            if y == int(year):
                raise
            failed[y] = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    if int(year) not in tables:
        tables[int(year)] = _scope_table(src.table(int(year), gemeente), gemeente)
    return tables, failed


def trend_item(year: int, gemeente: str, level: str = "wijk", indicator: str = DEFAULT_INDICATOR, *,
               area: str | None = None, sources: Sources | None = None,
               tables: Mapping[int, AreaTable] | None = None, figure: Any = None,
               indicators: Mapping[str, str] | None = None, compare: bool = True) -> ExportItem:
    """One area (default: the gemeente) and indicator over every loaded year up to
    ``year``, with the gemeente and Nederland (``compare``); origin indicators are followed
    with their counterpart across the 2022 → 2023 break as separate segments.

    ``tables``: the years the page loaded; ``indicators``: {scheme: indicator id} as
    chosen on the page (default :func:`analysis.comparable_indicators`)."""
    ind = check_indicator(indicator, year)
    cat = load_catalogue()
    failed: dict[int, str] = {}
    if tables is None:
        tables, failed = tables_up_to(year, gemeente, need_sources(sources, "the years"))
    tables = dict(tables)
    latest = tables[max(tables)]
    name = gemeente_name(latest, gemeente)
    known = set().union(*(set(t.data["code"]) for t in tables.values()))
    code = area if area and area in known else gemeente
    if indicators:
        ids: dict[str, str] = dict(indicators)
    elif ind.scheme is None:
        ids = {s: ind.id for s in cat.schemes}
    else:
        ids = analysis.comparable_indicators(ind.id)
    series = analysis.time_series(tables, code, ids)
    parts = [series] + ([analysis.time_series(tables, ref, ids)
                         for ref in dict.fromkeys([gemeente, "NL00"]) if ref != code]
                        if compare else [])
    everything = analysis.combine_series(parts)
    source = analysis.combined_source_line(tables.values())
    fictitious = any(t.meta.fictitious for t in tables.values())
    area_name = series.attrs.get("name", code)
    shown = " / ".join(dict.fromkeys(cat.indicators[i].label for i in ids.values()
                                     if i in cat.indicators))
    fig = figure if figure is not None else charts.trend_chart(
        everything, ind, area_code=code, source=source, fictitious=fictitious, title=None)
    years = sorted(tables)
    key: list[str] = []
    s = series[series["value"].notna()]
    if len(s):
        segs = []
        for _, part in s.groupby("segment", sort=True):
            part = part.sort_values("year")
            first, last = part.iloc[0], part.iloc[-1]
            p_ind = cat.indicators.get(first["indicator"]) or ind
            if first["year"] == last["year"]:
                segs.append(f"{first['indicator_label']} {fmt.value(first['value'], p_ind.unit)} in {first['year']}")
            else:
                segs.append(f"{first['indicator_label']} van {fmt.value(first['value'], p_ind.unit)} "
                            f"({first['year']}) naar {fmt.value(last['value'], p_ind.unit)} ({last['year']})")
        key.append(f"{area_name}: " + "; ".join(segs) + ".")
    else:
        key.append(f"{area_name}: geen waarden voor {ind.label} in {years[0]}–{years[-1]}.")
    nl = analysis.time_series(tables, "NL00", ids) if code != "NL00" else series
    last_me = series[(series["year"] == years[-1])]
    last_nl = nl[(nl["year"] == years[-1])]
    if (len(last_me) and len(last_nl) and not _missing(last_me["value"].iloc[0])
            and not _missing(last_nl["value"].iloc[0])):
        key.append(f"In {years[-1]}: {area_name} {fmt.value(last_me['value'].iloc[0], ind.unit)}, Nederland "
                   f"{fmt.value(last_nl['value'].iloc[0], ind.unit)}.")
    breaks = analysis.series_breaks(series)
    if not breaks.empty:
        labels = "; ".join(f"{r.label} (tussen {r.prev_year} en {r.year})"
                           for r in breaks.drop_duplicates(["year", "kind"]).itertuples())
        key.append(f"De lijn loopt niet door over: {labels}. Cijfers van voor en na zo'n breuk "
                   "zijn niet vergelijkbaar.")
    if failed:
        key.append(f"Niet geladen: {year_ranges(failed)} (de reeks toont de andere jaren).")
    return ExportItem(
        title=f"Ontwikkeling {ind.label}, {area_name}, {years[0]}–{years[-1]}"
        if len(years) > 1 else f"Ontwikkeling {ind.label}, {area_name}, {years[0]}",
        subtitle=(f"{shown} per jaar" if not compare else
                  f"{shown} per jaar, met {name} en Nederland ter vergelijking"
                  if code != gemeente else f"{shown} per jaar, met Nederland ter vergelijking"),
        figure=fig,
        table=analysis.series_table(everything),
        definitions=_definitions(list(ids.values())),
        key_figures=key[:4],
        source_line=source,
        table_ids=[tables[y].meta.table_id for y in years if tables[y].meta.table_id],
        years=years,
        resources=resources("ontwikkeling", ind.id),
        fictitious=fictitious,
    )


def measures_table(m: GemeenteMeasures) -> pd.DataFrame:
    """The measures of :func:`lokale_kaart.measures` as one readable table."""
    ex = load_lokale_kaart().measures
    labels = m.labels
    a, b = m.pair
    rows = [
        {"Onderdeel": "Segregatie", "Maat": f"{ex['dissimilarity'].label}: {labels[a]} / {labels[b]}",
         "Waarde": m.dissimilarity, "Bereik": ex["dissimilarity"].range},
        {"Onderdeel": "Segregatie", "Maat": ex["multigroup_dissimilarity"].label,
         "Waarde": m.multigroup_dissimilarity, "Bereik": ex["multigroup_dissimilarity"].range},
        {"Onderdeel": "Segregatie", "Maat": ex["theil_h"].label, "Waarde": m.theil_h,
         "Bereik": ex["theil_h"].range},
    ]
    for g in m.groups:
        rows.append({"Onderdeel": "Isolatie", "Maat": f"Isolatie {labels[g]} (xPx)",
                     "Waarde": m.isolation.get(g), "Bereik": "0 tot 1"})
    for g in m.groups:
        rows.append({"Onderdeel": "Samenstelling", "Maat": f"Aandeel {labels[g]} in de gemeente",
                     "Waarde": m.group_shares.get(g), "Bereik": "0 tot 1"})
    out = pd.DataFrame(rows)
    out["Waarde"] = pd.to_numeric(out["Waarde"], errors="coerce").round(4)
    return out


def measures_figure(m: GemeenteMeasures, *, source: str = "", fictitious: bool = False):
    """Bar chart of the measures: the three segregation indices on 0–1, each with its own
    reading bands behind its bar and its national place beside it, and per group the
    isolation against its share in the gemeente."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    labels = m.labels
    level = m.level or "buurt"
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.2, column_widths=[0.45, 0.55],
                        subplot_titles=["Segregatie-indexen (0 = gemengd, 1 = gescheiden)",
                                        "Isolatie tegen aandeel in de gemeente"])
    names = ["D (twee groepen)", "D (alle groepen)", "Entropie-index H"]
    keys = ["dissimilarity", "multigroup_dissimilarity", "theil_h"]
    vals = [m.dissimilarity, m.multigroup_dissimilarity, m.theil_h]
    readings = [presenters.reading(m, k) for k in keys]
    texts = ["–" if v is None else fmt.index(v) for v in vals]
    # the national place under each name (the words of the Lokale kaart page)
    names = [f"{n}<br><span style='font-size:11px'>{r.rank_text()}</span>" if r.has_rank else n
             for n, r in zip(names, readings)]
    fig.add_trace(go.Bar(
        orientation="h", y=names[::-1], x=[None if v is None else float(v) for v in vals[::-1]],
        marker_color="#0072B2", name="Index", showlegend=False, width=0.5,
        text=texts[::-1], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=1)
    groups = m.groups
    glabels = [labels[g] for g in groups][::-1]
    iso = [m.isolation.get(g) for g in groups][::-1]
    share = [m.group_shares.get(g) for g in groups][::-1]
    fig.add_trace(go.Bar(
        orientation="h", y=glabels, x=[None if v is None else 100 * float(v) for v in share],
        name="Aandeel in de hele gemeente", marker_color="#999999",
        text=["–" if v is None else f"{fmt.number(100 * v, 1)}%" for v in share], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.1f}%<extra>aandeel gemeente</extra>"),
        row=1, col=2)
    fig.add_trace(go.Bar(
        orientation="h", y=glabels, x=[None if v is None else 100 * float(v) for v in iso],
        name=f"Isolatie: aandeel van de eigen groep in de eigen {level}", marker_color="#D55E00",
        text=["–" if v is None else f"{fmt.number(100 * v, 1)}%" for v in iso], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.1f}%<extra>isolatie</extra>"), row=1, col=2)
    # each index its own reading bands (interpretation.bands), behind its own bar only, in
    # greys: a rule of thumb, not a judgement; the bar text carries the national place
    for row_i, key in enumerate(keys[::-1]):
        for j, (x0, x1, word) in enumerate(interpretation.bands(key)):
            fig.add_shape(type="rect", x0=x0, x1=x1, y0=row_i - 0.45, y1=row_i + 0.45, xref="x", yref="y",
                          fillcolor=interpretation.BAND_FILLS[j % len(interpretation.BAND_FILLS)],
                          line_width=0, layer="below", name=f"band {key} {word}")
            fig.add_annotation(x=(x0 + x1) / 2, y=row_i + 0.45, xref="x", yref="y", yanchor="top",
                               text=word, showarrow=False, font=dict(size=10, color="#444444"),
                               name=f"band {key}")
    fig.update_xaxes(range=[0, 1.0], dtick=0.2, row=1, col=1, title_text="index (0–1)")
    hi = max([100 * float(v) for v in iso + share if v is not None] or [100.0])
    fig.update_xaxes(range=[0, min(100.0, hi * 1.2) or 100.0], row=1, col=2, ticksuffix="%",
                     title_text="procent van de inwoners")
    fig.update_yaxes(automargin=True)
    fig.update_layout(barmode="group", bargap=0.3, template="plotly_white", separators=",.",
                      font=dict(family="Source Sans Pro, Arial, sans-serif", size=13),
                      legend=dict(orientation="h", x=1.0, xanchor="right", y=-0.2, yanchor="top",
                                  traceorder="reversed"),
                      margin=dict(l=10, r=30, t=60, b=80), height=440,
                      meta={"measures": {"dissimilarity": m.dissimilarity,
                                         "multigroup_dissimilarity": m.multigroup_dissimilarity,
                                         "theil_h": m.theil_h}})
    if source:
        fig.add_annotation(text=source, xref="paper", yref="paper", x=0, y=0, yshift=-78,
                           xanchor="left", yanchor="bottom", showarrow=False,
                           font=dict(size=11, color="#555555"), name="bronregel")
    if fictitious:
        fig.add_annotation(fictitious_annotation(x=0, y=1, yshift=40, xanchor="left", yanchor="bottom", size=12))
    return fig


def notes_for(notes: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> list[dict]:
    """The worksheet notes of a gemeente (as :meth:`loaders.notes.NotesStore.export` gives
    them) as the item shows them: section title, where (area name, year) and the text,
    verbatim."""
    out = []
    for n in notes:
        area = n.get("area_code")
        where = [names.get(area, area)] if area else []
        if n.get("year"):
            where.append(str(n["year"]))
        out.append({"section": n.get("section_title") or n.get("section"),
                    "area": " · ".join(str(w) for w in where if w), "text": n["text"]})
    return out


def _change_line(year: int, gemeente: str, level: str, table: AreaTable, src: Sources) -> str:
    prev = lokale_kaart.previous_comparable_year(int(year), src.available_years(gemeente))
    if prev is None:
        return change_sentence(year, level, None)
    try:
        earlier = src.table(prev, gemeente)
        res = lokale_kaart.change_signals(earlier, table, gemeente, level)
    except change.SchemeBreakError as exc:
        return change_sentence(year, level, prev, error=str(exc))
    except Exception:  # noqa: BLE001 - optional part of the item
        return change_sentence(year, level, prev, error="")
    return change_sentence(year, level, prev, res)


def lokale_kaart_item(year: int, gemeente: str, level: str = "wijk",
                      indicator: str | None = DEFAULT_INDICATOR, *, sources: Sources | None = None,
                      table: AreaTable | None = None, national: AreaTable | None = None,
                      measures: GemeenteMeasures | None = None,
                      note_sections: Collection[str] = ()) -> ExportItem:
    """Segregation and diversity measures of the lokale kaart (read against all gemeenten
    as on the Lokale kaart page: ``national``, else ``sources.table(year, "alle")`` for real
    data), the change signals against the previous year of the same origin classification,
    and the worksheet notes of the sections in ``note_sections`` (verbatim, from
    ``sources.notes``). No section is included unless it is named: notes go into a pack only
    when the user ticks them."""
    _check_level(level)
    src = need_sources(sources, "the earlier years and the notes")
    table = table if table is not None else src.table(year, gemeente)
    name = gemeente_name(table, gemeente)
    plural = fmt.level_plural(level)
    if measures is None:
        national_error = None
        if national is None and not table.meta.fictitious:
            try:
                national = src.table(year, "alle")
            except Exception:  # noqa: BLE001 - the comparison is optional; the item says so
                national_error = (f"De cijfers van alle gemeenten in {year} konden niet worden geladen, "
                                  "dus er is geen landelijke vergelijking.")
        m = lokale_kaart.measures(table, gemeente, level, national=national)
        if national_error:
            m = dataclass_replace(m, national_error=national_error)
    else:
        m = measures
    ex = load_lokale_kaart().measures
    key = lokale_kaart_key_figures(m, level, _change_line(year, gemeente, level, table, src))
    names = {str(c): str(n) for c, n in zip(table.data["code"], table.data["name"])}
    defs = [{"id": k, "label": ex[k].label,
             "definition": f"{first_sentence(ex[k].explanation)} Bereik: "
                           f"{ex[k].range}.",
             "unit": "index"}
            for k in ("dissimilarity", "multigroup_dissimilarity", "theil_h", "isolation")
            if k in ex]
    fig = measures_figure(m, source=table.meta.source_line(), fictitious=table.meta.fictitious)
    wanted = set(note_sections)
    notes = [n for n in src.notes(gemeente) if n.get("section") in wanted] if wanted else []
    return ExportItem.from_meta(
        table.meta,
        title=f"Lokale kaart: segregatie en diversiteit, {name}, {year}",
        subtitle=f"Berekend over {m.n_areas} {plural} met volledige gegevens "
                 f"(van de {m.n_areas_input})",
        figure=fig,
        table=measures_table(m),
        definitions=defs,
        key_figures=key[:4],
        resources=resources("lokale_kaart", indicator),
        notes=notes_for(notes, names),
    )
