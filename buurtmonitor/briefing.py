"""Council briefings: turn a view of the dashboard into an :class:`ExportItem`, and a set
of views into a PDF or PPTX pack. No Streamlit here: the page ``pages/briefing.py``, the
export buttons beside the charts (:mod:`buurtmonitor.ui_export`) and the command line
(``python -m buurtmonitor export``) all call these functions.

Builders (one per view; every one loads what it needs through :class:`Sources`, or takes
a table/figure the caller already has):

* :func:`map_item`           the choropleth of one indicator per wijk or buurt;
* :func:`composition_item`   the origin composition per wijk or buurt (stacked bars);
* :func:`profile_item`       one area against the gemeente (z-scores);
* :func:`trend_item`         one area and indicator over the years (breaks marked);
* :func:`lokale_kaart_item`  segregation and diversity measures, change signals and the
  worksheet notes of the lokale kaart.

Each item carries 2–4 key figures: Dutch sentences computed from the data (never typed
by hand), the indicator definitions, the source line, the CBS table ids and years, the
guidance resources of the catalogue that fit the view, and the fictitious flag of the
demo. The same inputs give the same content.

:func:`build_pack` puts several views into a PDF or PPTX; :func:`export_indicator` is the
CLI export (written atomically: a failure never leaves a half-written file).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from buurtmonitor import analysis, charts, formatting
from buurtmonitor.catalogue import Indicator, load_catalogue
from buurtmonitor.exports.items import (
    ExportItem,
    StaticExportUnavailable,
    build_pdf_pack,
    build_pptx_pack,
    figure_to_html,
    figure_to_image,
    static_export_status,
    table_to_csv,
    table_to_xlsx,
)
from buurtmonitor.harmonise import SMALL_N, available_indicators, indicator_frame
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps.areas import reference_values
from buurtmonitor.maps.geometry import MapGeometry, prepare_geometry
from buurtmonitor.maps.labels import fictitious_annotation, n_label, title_for
from buurtmonitor.model import LEVEL_LABELS, MISSING_LABELS, AreaTable

ProgressCallback = Callable[[float, str], None]

#: view id (= the view ids of the guidance catalogue) -> Dutch name, in pack order
VIEWS: dict[str, str] = {
    "kaart": "Kaart",
    "herkomst": "Herkomst: samenstelling",
    "gebiedsprofiel": "Gebiedsprofiel",
    "ontwikkeling": "Ontwikkeling",
    "lokale_kaart": "Lokale kaart: maten en notities",
}
#: other spellings accepted for a view id
VIEW_ALIASES = {
    "map": "kaart", "herkomst-samenstelling": "herkomst", "herkomst_samenstelling": "herkomst",
    "samenstelling": "herkomst", "composition": "herkomst", "profiel": "gebiedsprofiel",
    "profile": "gebiedsprofiel", "trend": "ontwikkeling", "lokale-kaart": "lokale_kaart",
    "lokale kaart": "lokale_kaart",
}
DEFAULT_INDICATOR = "pct_herkomst_buiten_europa"
#: formats of :func:`export_indicator`
FORMATS = ("png", "svg", "pdf", "csv", "xlsx", "pptx", "html")
#: at most this many areas in the composition chart of an export (all are in the table)
CHART_AREAS = 20
#: guidance resources on the page of a view in a PDF pack (the most relevant first, by
#: catalogue priority). 0: a view keeps its page to itself (figure, key figures,
#: definitions, source) and all resources of the chosen views follow once, on a closing page
PACK_RESOURCES = 0
#: at most this many indicators in the profile chart of an export (all are in the table)
PROFILE_ROWS = 14

_PLURAL = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}


class ExportError(ValueError):
    """An export that cannot be made; ``str(exc)`` is Dutch and meant for the user.

    A :class:`ValueError`, so the command line turns it into a message and a non-zero exit
    code. A missing browser for PNG/SVG/PDF arrives as this error, with the Dutch reason of
    :class:`~buurtmonitor.export.StaticExportUnavailable` and the advice to use HTML."""


# ----------------------------------------------------------------------------- loading
@dataclass
class Sources:
    """Where the builders get tables and boundaries, remembered for one export.

    By default from :mod:`loaders.repository` (cache -> CBS/PDOK -> demo). The dashboard
    passes its own cached loaders: ``table_loader(year, scope) -> AreaTable`` and
    ``geo_loader(year, level, gemeente) -> GeoDataFrame`` already prepared for the web.
    """

    table_loader: Callable[[int, str], AreaTable] | None = None
    geo_loader: Callable[[int, str, str], Any] | None = None
    _tables: dict = field(default_factory=dict, repr=False)
    _geoms: dict = field(default_factory=dict, repr=False)

    def table(self, year: int, scope: str) -> AreaTable:
        key = (int(year), scope)
        if key not in self._tables:
            try:
                if self.table_loader is not None:
                    self._tables[key] = self.table_loader(int(year), scope)
                else:
                    from loaders import repository
                    self._tables[key] = repository.load_table(int(year), scope).table
            except Exception as exc:  # noqa: BLE001 - remembered: not retried within one export
                self._tables[key] = exc
        got = self._tables[key]
        if isinstance(got, Exception):
            raise got
        return got

    def geometry(self, year: int, level: str, gemeente: str) -> MapGeometry:
        """Boundaries of ``level`` in ``gemeente`` as a :class:`~buurtmonitor.maps.geometry.MapGeometry`."""
        key = (int(year), level, gemeente)
        if key not in self._geoms:
            try:
                if self.geo_loader is not None:
                    gdf = self.geo_loader(int(year), level, gemeente)
                else:
                    from buurtmonitor import geo
                    from loaders import repository
                    gdf = geo.prepare_for_web(
                        repository.load_boundaries(int(year), level, gemeente).gdf, level)
                self._geoms[key] = prepare_geometry(gdf, level, key=f"{gemeente}-{level}-{year}")
            except Exception as exc:  # noqa: BLE001
                self._geoms[key] = exc
        got = self._geoms[key]
        if isinstance(got, Exception):
            raise got
        return got


# ----------------------------------------------------------------------------- helpers
def _nl(x: Any, decimals: int = 1) -> str:
    return formatting.number(x, decimals)


def _missing(x: Any) -> bool:
    try:
        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _z(z: float) -> str:
    """A z-score with a real minus sign: "−1,4"."""
    return _nl(z, 1).replace("-", "\u2212")


def _val(x: Any, ind: Indicator) -> str:
    return formatting.value(None if _missing(x) else x, ind.unit)


def normalise_view(view: str) -> str:
    """A view id of :data:`VIEWS` (aliases accepted); ValueError (Dutch) otherwise."""
    v = str(view).strip().lower()
    v = VIEW_ALIASES.get(v, v)
    if v not in VIEWS:
        raise ValueError(f"Onbekende weergave '{view}'. Kies uit: {', '.join(VIEWS)}.")
    return v


def check_indicator(indicator: str, year: int) -> Indicator:
    """The catalogue indicator, or a ValueError with a Dutch message: unknown id (with how
    to list the ids), or an origin indicator of the other classification (the 2022 → 2023
    break, with the indicator to use instead)."""
    cat = load_catalogue()
    ind = cat.indicators.get(str(indicator))
    if ind is None:
        raise ExportError(
            f"Onbekende indicator '{indicator}'. Bekijk de beschikbare id's met: "
            "python -m buurtmonitor indicators")
    scheme = cat.scheme_for_year(int(year))
    if not ind.applies_to(scheme):
        other = analysis.comparable_indicators(ind.id).get(scheme)
        hint = (f" Gebruik voor {year} bijvoorbeeld '{other}' ({cat.indicators[other].label}); "
                "dat is een vergelijkbare, maar niet dezelfde groep." if other else
                f" Kies een indicator van de indeling '{cat.schemes[scheme].label}'"
                " (python -m buurtmonitor indicators).")
        own = ("migratieachtergrond (tot en met 2022)" if ind.scheme == "migratieachtergrond"
               else "herkomst (vanaf 2023)")
        raise ExportError(
            f"Indicator '{ind.id}' ({ind.label}) hoort bij de CBS-indeling naar {own} en bestaat "
            f"niet in {year}. CBS is in 2023 overgestapt van migratieachtergrond (westers / "
            "niet-westers) naar herkomstland (Europa / buiten Europa); de groepen zijn anders "
            "afgebakend en de cijfers van voor en na de breuk 2022 → 2023 zijn niet vergelijkbaar."
            + hint)
    return ind


def _check_level(level: str) -> str:
    if level not in ("wijk", "buurt"):
        raise ExportError(f"Onbekend niveau '{level}': kies wijk of buurt.")
    return level


def gemeente_name(table: AreaTable, gemeente: str) -> str:
    row = table.row(gemeente)
    return str(row["name"]) if row is not None else gemeente


def _definitions(ids: Sequence[str]) -> list[dict]:
    cat = load_catalogue()
    out = []
    for i in dict.fromkeys(ids):
        ind = cat.indicators.get(i)
        if ind is not None:
            out.append({"id": ind.id, "label": ind.label, "definition": ind.definition,
                        "unit": ind.unit})
    return out


def resources(view: str, indicator: str | None = None) -> list[dict]:
    """The guidance resources of the catalogue for ``view`` (and indicator), as dicts with
    ``title``, ``publisher``, ``url`` and ``why`` (why it helps with this view)."""
    return [{"title": r.title, "publisher": r.publisher, "url": r.url,
             "why": r.why.get(view) or r.description}
            for r in load_catalogue().resources_for(view, indicator)]


def _areas_of(table: AreaTable, gemeente: str, level: str) -> pd.DataFrame:
    d = table.data
    return d[(d["level"] == level) & (d["gemeente_code"] == gemeente)]


def _scope_table(table: AreaTable, gemeente: str) -> AreaTable:
    """Only the gemeente, its wijken and buurten, and Nederland."""
    d = table.data
    keep = (d["code"] == gemeente) | (d["gemeente_code"] == gemeente) | (d["level"] == "land")
    return table.select(keep)


def _unavailable_item(view: str, exc: BaseException, year: int, gemeente: str) -> ExportItem:
    """Placeholder for a view that could not be made (the rest of the pack still is)."""
    return ExportItem(
        title=VIEWS.get(view, view), subtitle=f"{gemeente} · {year}",
        key_figures=[f"Deze weergave kon niet worden gemaakt: {exc}"],
        source_line="Bron: CBS, Kerncijfers wijken en buurten", years=[int(year)],
        resources=resources(view))


# ----------------------------------------------------------------------------- kaart
def indicator_table(table: AreaTable, indicator: str, level: str, gemeente: str) -> pd.DataFrame:
    """The indicator per area of ``level`` (code order), then the gemeente and Nederland:
    value, the counts it rests on, n and the reason where a value is missing."""
    cat = load_catalogue()
    ind = cat.indicators[indicator]
    f = indicator_frame(_scope_table(table, gemeente), ind.id)
    areas = f[f["level"] == level].sort_values("code", kind="stable")
    refs = pd.concat([f[f["code"] == gemeente], f[f["level"] == "land"]])
    f = pd.concat([areas, refs], ignore_index=True)
    out = pd.DataFrame({
        "Code": f["code"].values, "Naam": f["name"].values,
        "Soort": f["level"].map(LEVEL_LABELS).values,
        f"{ind.label} ({ind.unit})": f["value"].astype(float).round(1).values,
    })
    if ind.kind == "share":
        out[f"{cat.variables[ind.numerator].label} (aantal)"] = f["numerator"].astype(float).values
    out["n"] = f["n"].astype(float).values
    out["Toelichting"] = [
        MISSING_LABELS.get(m, analysis.missing_label(m)) if m else
        (f"klein aantal (n < {SMALL_N}): onzeker" if s else "")
        for m, s in zip(f["missing"], f["small_n"])]
    return out


def _n_label(ind: Indicator) -> str:
    return n_label(ind, short=True)


def map_key_figures(frame: pd.DataFrame, ind: Indicator, gemeente: str, name: str, level: str,
                    area: str | None = None) -> list[str]:
    """2–4 sentences about the map: gemeente against Nederland, highest and lowest area,
    areas without a value (suppressed), uncertain small numbers."""
    plural = _PLURAL[level]
    out: list[str] = []
    gem = frame[frame["code"] == gemeente]
    nl = frame[frame["level"] == "land"]
    nl_v = float(nl["value"].iloc[0]) if len(nl) and not _missing(nl["value"].iloc[0]) else None
    if len(gem) and not _missing(gem["value"].iloc[0]):
        g = gem.iloc[0]
        counts = ""
        if ind.kind == "share" and not _missing(g["numerator"]) and not _missing(g["n"]):
            counts = f" ({_nl(g['numerator'], 0)} van de {_nl(g['n'], 0)} {_n_label(ind)})"
        s = f"{ind.label} in {name}: {_val(g['value'], ind)}{counts}"
        if nl_v is not None:
            diff = float(g["value"]) - nl_v
            word = "hoger dan" if diff > 0 else ("lager dan" if diff < 0 else "gelijk aan")
            s += f"; dat is {word} in Nederland ({_val(nl_v, ind)})"
        out.append(s + ".")
    elif len(gem):
        why = MISSING_LABELS.get(gem["missing"].iloc[0] or "", "geen gegevens")
        out.append(f"Voor {name} als geheel is er geen waarde voor {ind.label} ({why}).")
    areas = frame[frame["level"] == level]
    has = areas[areas["value"].notna()].sort_values(["value", "code"], kind="stable")
    if len(has) >= 2:
        lo, hi = has.iloc[0], has.sort_values(["value", "code"], ascending=[False, True]).iloc[0]
        s = (f"Hoogste waarde van de {len(has)} {plural} met een waarde: {hi['name']} "
             f"({_val(hi['value'], ind)}); laagste: {lo['name']} ({_val(lo['value'], ind)})")
        if len(gem) and not _missing(gem["value"].iloc[0]):
            above = int((has["value"] > float(gem["value"].iloc[0])).sum())
            s += f". {above} van de {len(has)} {plural} liggen boven het cijfer van de gemeente"
        out.append(s + ".")
    elif len(has) == 1:
        out.append(f"Alleen {has.iloc[0]['name']} heeft een waarde ({_val(has.iloc[0]['value'], ind)}).")
    miss = areas[areas["value"].isna()]
    if len(miss):
        by = miss["missing"].fillna("geen_gegevens").value_counts()
        reasons = ", ".join(f"{n}× {MISSING_LABELS.get(r, analysis.missing_label(r)).split(' (')[0]}"
                            for r, n in sorted(by.items()))
        out.append(f"{len(miss)} van de {len(areas)} {plural} hebben geen waarde ({reasons}); "
                   "die zijn grijs gearceerd en niet als 0 meegeteld.")
    elif len(areas):
        out.append(f"Alle {len(areas)} {plural} hebben een waarde; geen enkele is door CBS "
                   "geheimgehouden.")
    small = areas[areas["small_n"].fillna(False).astype(bool) & areas["value"].notna()]
    if len(small):
        out.append(f"Bij {len(small)} {plural} berust het cijfer op minder dan {SMALL_N} "
                   f"{_n_label(ind)}; die uitkomsten zijn onzeker (oranje rand).")
    elif area and area in set(areas["code"]):
        r = areas[areas["code"] == area].iloc[0]
        v = _val(r["value"], ind) if not _missing(r["value"]) else \
            MISSING_LABELS.get(r["missing"] or "", "geen waarde")
        out.append(f"Uitgelicht op de kaart: {r['name']} ({v}).")
    return out[:4]


def map_item(year: int, gemeente: str, level: str = "wijk", indicator: str = DEFAULT_INDICATOR, *,
             area: str | None = None, sources: Sources | None = None, table: AreaTable | None = None,
             figure: Any = None, map_options: Mapping[str, Any] | None = None) -> ExportItem:
    """The map of one indicator per wijk or buurt of ``gemeente``.

    ``figure``: the map the page shows (else it is drawn here with
    :func:`mapping.choropleth` on the boundaries of :func:`loaders.repository.load_boundaries`).
    Without boundaries the item has no figure and says why; the table is always there.
    ``map_options``: extra arguments for :func:`mapping.choropleth` (method, k, palette, ...).
    """
    ind = check_indicator(indicator, year)
    _check_level(level)
    src = sources or Sources()
    table = table if table is not None else src.table(year, gemeente)
    name = gemeente_name(table, gemeente)
    plural = _PLURAL[level]
    frame = indicator_frame(_scope_table(table, gemeente), ind.id)
    level_frame = frame[frame["level"] == level]
    if level_frame.empty:
        raise LookupError(f"Geen {plural} van {name} in de cijfers van {year}.")
    key_figures = map_key_figures(frame, ind, gemeente, name, level, area)
    fig = figure
    if fig is None:
        try:
            geometry = src.geometry(year, level, gemeente)
            if geometry.empty:
                raise LookupError("geen grenzen gevonden")
            opts = dict(map_options or {})
            fig = mapping.choropleth(
                geometry, level_frame, ind, selected=area, fictitious=table.meta.fictitious,
                source_line=table.meta.source_line(), level=level,
                uirevision=f"export-{gemeente}-{level}", **opts)
        except Exception as exc:  # noqa: BLE001 - no boundaries: the table still goes out
            fig = None
            key_figures = key_figures[:3] + [
                f"De grenzen van de {plural} van {name} ({year}) zijn niet beschikbaar, dus er is "
                f"geen kaart; de cijfers staan in de tabel. ({str(exc).splitlines()[0][:200]})"]
    refs = reference_values(frame, gemeente)
    subtitle = " · ".join([f"{len(level_frame)} {plural}"]
                          + [f"{label} {_val(v, ind)}" for label, v in
                             (refs.get("gemeente", (None, None)), refs.get("nederland", (None, None)))
                             if label is not None])
    return ExportItem.from_meta(
        table.meta,
        title=title_for(ind, level, name, year),
        subtitle=subtitle,
        figure=fig,
        table=indicator_table(table, ind.id, level, gemeente),
        definitions=_definitions([ind.id]),
        key_figures=key_figures,
        resources=resources("kaart", ind.id),
    )


# ----------------------------------------------------------------------------- herkomst
def composition_key_figures(comp: pd.DataFrame, group: str | None, name: str, level: str,
                            year: int, scheme_label: str) -> list[str]:
    plural = _PLURAL[level]
    out: list[str] = []
    groups = list(dict.fromkeys(comp["group"]))
    labels = comp.drop_duplicates("group").set_index("group")["label"].to_dict()

    def parts(code_role: str) -> str:
        sub = comp[comp["role"] == code_role].drop_duplicates("group").set_index("group")
        return ", ".join(f"{labels[g]} {_nl(sub.at[g, 'share'])}%" for g in groups
                         if g in sub.index and not _missing(sub.at[g, "share"]))

    gem = parts(analysis.ROLE_GEMEENTE)
    if gem:
        land = comp[comp["role"] == analysis.ROLE_NEDERLAND].drop_duplicates("group")
        land = [f"{_nl(v)}%" for v in land.set_index("group").reindex(groups)["share"]
                if not _missing(v)]
        out.append(f"Herkomst van de inwoners van {name} ({year}): {gem}"
                   + (f"; in heel Nederland {', '.join(land[:-1])} en {land[-1]}." if len(land) > 1
                      else "."))
    areas = comp[comp["role"] == analysis.ROLE_AREA]
    if group in groups:
        sub = areas[(areas["group"] == group) & areas["share"].notna()]
        sub = sub.sort_values(["share", "code"], ascending=[False, True], kind="stable")
        if len(sub) >= 2:
            hi, lo = sub.iloc[0], sub.iloc[-1]
            out.append(f"Hoogste aandeel {labels[group]}: {hi['name']} ({_nl(hi['share'])}%); "
                       f"laagste: {lo['name']} ({_nl(lo['share'])}%), van de {len(sub)} {plural} "
                       "met cijfers.")
    n_areas = areas["code"].nunique()
    none = areas.groupby("code")["share"].apply(lambda s: s.notna().any())
    missing = int((~none).sum())
    if missing:
        out.append(f"Voor {missing} van de {n_areas} {plural} zijn er geen herkomstcijfers (CBS "
                   "maakt kleine aantallen niet bekend); ze tellen niet als 0.")
    else:
        out.append(f"Alle {n_areas} {plural} hebben herkomstcijfers.")
    if len(out) < 3:
        out.append(f"Indeling {year}: {scheme_label}. De indeling naar herkomst (vanaf 2023) is "
                   "niet vergelijkbaar met de migratieachtergrond tot en met 2022.")
    return out[:4]


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
    src = sources or Sources()
    table = table if table is not None else src.table(year, gemeente)
    table = _scope_table(table, gemeente)
    name = gemeente_name(table, gemeente)
    plural = _PLURAL[level]
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
    # the classification and its groups in one paragraph
    definitions = [{"id": scheme.id, "label": scheme.label, "definition": scheme.note, "unit": ""}]
    return ExportItem.from_meta(
        table.meta,
        title=f"Herkomst per {level}, {name}, {year}",
        subtitle=subtitle,
        figure=fig,
        table=analysis.composition_table(comp),
        definitions=definitions,
        key_figures=composition_key_figures(comp, sort_group, name, level, year, scheme.label),
        resources=resources("herkomst", indicator),
    )


# ----------------------------------------------------------------------------- profiel
def _pick_area(table: AreaTable, gemeente: str, level: str, ind: Indicator,
               area: str | None) -> tuple[str, bool]:
    """(area code, chosen automatically?): ``area`` when it is a wijk/buurt of the
    gemeente, else the area of ``level`` with the highest value of the indicator."""
    d = table.data
    own = d[(d["gemeente_code"] == gemeente) & d["level"].isin(["wijk", "buurt"])]
    if area and area in set(own["code"]):
        return area, False
    f = indicator_frame(table, ind.id)
    f = f[f["code"].isin(_areas_of(table, gemeente, level)["code"]) & f["value"].notna()]
    if (~f["small_n"]).any():  # an area with enough residents says more than a tiny one
        f = f[~f["small_n"]]
    if not f.empty:
        f = f.sort_values(["value", "code"], ascending=[False, True], kind="stable")
        return str(f.iloc[0]["code"]), True
    return gemeente, True


def profile_item(year: int, gemeente: str, level: str = "wijk", indicator: str = DEFAULT_INDICATOR,
                 *, area: str | None = None, sources: Sources | None = None,
                 table: AreaTable | None = None, figure: Any = None,
                 max_rows: int = PROFILE_ROWS) -> ExportItem:
    """One wijk or buurt against the average of the areas of the gemeente (z-scores).

    ``area`` defaults to the area of ``level`` with the highest value of ``indicator``
    (the key figures say so). The chart of an export shows the indicator and the
    ``max_rows`` - 1 indicators that deviate most; the table holds every indicator."""
    ind = check_indicator(indicator, year)
    _check_level(level)
    src = sources or Sources()
    table = table if table is not None else src.table(year, gemeente)
    table = _scope_table(table, gemeente)
    name = gemeente_name(table, gemeente)
    code, automatic = _pick_area(table, gemeente, level, ind, area)
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
        plural = _PLURAL[lvl]
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
    if _missing(me["value"]):
        key.append(f"{area_name}: geen waarde voor {ind.label} ({me['missing_label']}).")
    else:
        refs = []
        if lvl == "buurt" and not _missing(me["wijk"]):
            refs.append(f"wijk {_val(me['wijk'], ind)}")
        if lvl != "gemeente" and not _missing(me["gemeente"]):
            refs.append(f"gemeente {_val(me['gemeente'], ind)}")
        if not _missing(me["nederland"]):
            refs.append(f"Nederland {_val(me['nederland'], ind)}")
        key.append(f"{ind.label} in {area_name}: {_val(me['value'], ind)}"
                   + (f" ({'; '.join(refs)})" if refs else "") + f": {me['reading']}.")
    z = prof[prof["z"].notna()]
    if len(z):
        hi = z.sort_values(["z", "indicator"], ascending=[False, True]).iloc[0]
        lo = z.sort_values(["z", "indicator"], ascending=[True, True]).iloc[0]
        parts = []
        if hi["z"] > 0:
            parts.append(f"het verst boven het gemiddelde ligt {hi['label']} "
                         f"({_val(hi['value'], load_catalogue().indicators[hi['indicator']])}, "
                         f"z = {_z(hi['z'])})")
        if lo["z"] < 0:
            parts.append(f"het verst eronder {lo['label']} "
                         f"({_val(lo['value'], load_catalogue().indicators[lo['indicator']])}, "
                         f"z = {_z(lo['z'])})")
        if parts:
            s = "; ".join(parts)
            key.append(s[0].upper() + s[1:] + ".")
    n_missing = int(prof["value"].isna().sum())
    if n_missing:
        key.append(f"{n_missing} van de {len(prof)} indicatoren hebben geen waarde voor "
                   f"{area_name} (geheim of niet beschikbaar; ontbrekend is niet 0).")
    if automatic and code != gemeente:
        key.append(f"Gekozen gebied: de {LEVEL_LABELS[lvl].lower()} met de hoogste waarde voor "
                   f"{ind.label}. Kies op de kaart een ander gebied om dat te beschrijven.")
    elif lvl == "gemeente":
        key.append("Voor de gemeente zelf is er geen z-score: kies een wijk of buurt.")
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
def load_years(year: int, gemeente: str, sources: Sources | None = None
               ) -> tuple[dict[int, AreaTable], dict[int, str]]:
    """Every available year up to ``year`` ({year: table}) and the years that failed
    ({year: Dutch reason}). ``year`` itself must load."""
    from loaders import repository

    src = sources or Sources()
    tables: dict[int, AreaTable] = {}
    failed: dict[int, str] = {}
    for y in sorted(int(y) for y in repository.available_years(gemeente)):
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


def year_ranges(years) -> str:
    """[2016, 2017, 2018, 2021] -> "2016–2018, 2021"."""
    ys = sorted(int(y) for y in years)
    parts: list[str] = []
    i = 0
    while i < len(ys):
        j = i
        while j + 1 < len(ys) and ys[j + 1] == ys[j] + 1:
            j += 1
        parts.append(str(ys[i]) if i == j else f"{ys[i]}–{ys[j]}")
        i = j + 1
    return ", ".join(parts)


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
        tables, failed = load_years(year, gemeente, sources)
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
                segs.append(f"{first['indicator_label']} {_val(first['value'], p_ind)} in {first['year']}")
            else:
                segs.append(f"{first['indicator_label']} van {_val(first['value'], p_ind)} "
                            f"({first['year']}) naar {_val(last['value'], p_ind)} ({last['year']})")
        key.append(f"{area_name}: " + "; ".join(segs) + ".")
    else:
        key.append(f"{area_name}: geen waarden voor {ind.label} in {years[0]}–{years[-1]}.")
    nl = analysis.time_series(tables, "NL00", ids) if code != "NL00" else series
    last_me = series[(series["year"] == years[-1])]
    last_nl = nl[(nl["year"] == years[-1])]
    if (len(last_me) and len(last_nl) and not _missing(last_me["value"].iloc[0])
            and not _missing(last_nl["value"].iloc[0])):
        key.append(f"In {years[-1]}: {area_name} {_val(last_me['value'].iloc[0], ind)}, Nederland "
                   f"{_val(last_nl['value'].iloc[0], ind)}.")
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


# ----------------------------------------------------------------------------- lokale kaart
def _reading_d(d: float | None) -> str:
    if d is None or not math.isfinite(d):
        return "niet te berekenen"
    return "laag" if d < 0.3 else ("matig" if d < 0.6 else "hoog")


def measures_table(m: dict[str, Any]) -> pd.DataFrame:
    """The measures of :func:`lokale_kaart.measures` as one readable table."""
    from buurtmonitor.lokale_kaart import segregation

    ex = segregation.EXPLANATIONS
    labels = m["labels"]
    a, b = m["pair"]
    rows = [
        {"Onderdeel": "Segregatie", "Maat": f"{ex['dissimilarity']['label']}: {labels[a]} / {labels[b]}",
         "Waarde": m.get("dissimilarity"), "Bereik": ex["dissimilarity"]["range"]},
        {"Onderdeel": "Segregatie", "Maat": ex["multigroup_dissimilarity"]["label"],
         "Waarde": m.get("multigroup_dissimilarity"), "Bereik": ex["multigroup_dissimilarity"]["range"]},
        {"Onderdeel": "Segregatie", "Maat": ex["theil_h"]["label"], "Waarde": m.get("theil_h"),
         "Bereik": ex["theil_h"]["range"]},
    ]
    for g in m["groups"]:
        rows.append({"Onderdeel": "Isolatie", "Maat": f"Isolatie {labels[g]} (xPx)",
                     "Waarde": (m.get("isolation") or {}).get(g), "Bereik": "0 tot 1"})
    for g in m["groups"]:
        rows.append({"Onderdeel": "Samenstelling", "Maat": f"Aandeel {labels[g]} in de gemeente",
                     "Waarde": (m.get("group_shares") or {}).get(g), "Bereik": "0 tot 1"})
    out = pd.DataFrame(rows)
    out["Waarde"] = pd.to_numeric(out["Waarde"], errors="coerce").round(4)
    return out


def measures_figure(m: dict[str, Any], *, source: str = "", fictitious: bool = False):
    """Bar chart of the measures: the three segregation indices on 0–1 with the bands
    laag / matig / hoog, and per group the isolation against its share in the gemeente."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    labels = m["labels"]
    level = m.get("level") or "buurt"
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.2, column_widths=[0.45, 0.55],
                        subplot_titles=["Segregatie-indexen (0 = gemengd, 1 = gescheiden)",
                                        "Isolatie tegen aandeel in de gemeente"])
    names = ["D (twee groepen)", "D (alle groepen)", "Entropie-index H"]
    vals = [m.get("dissimilarity"), m.get("multigroup_dissimilarity"), m.get("theil_h")]
    fig.add_trace(go.Bar(
        orientation="h", y=names[::-1], x=[None if v is None else float(v) for v in vals[::-1]],
        marker_color="#0072B2", name="Index", showlegend=False,
        text=["–" if v is None else _nl(v, 2) for v in vals[::-1]], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=1)
    groups = m["groups"]
    glabels = [labels[g] for g in groups][::-1]
    iso = [(m.get("isolation") or {}).get(g) for g in groups][::-1]
    share = [(m.get("group_shares") or {}).get(g) for g in groups][::-1]
    fig.add_trace(go.Bar(
        orientation="h", y=glabels, x=[None if v is None else 100 * float(v) for v in share],
        name="Aandeel in de hele gemeente", marker_color="#999999",
        text=["–" if v is None else f"{_nl(100 * v, 1)}%" for v in share], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.1f}%<extra>aandeel gemeente</extra>"),
        row=1, col=2)
    fig.add_trace(go.Bar(
        orientation="h", y=glabels, x=[None if v is None else 100 * float(v) for v in iso],
        name=f"Isolatie: aandeel van de eigen groep in de eigen {level}", marker_color="#D55E00",
        text=["–" if v is None else f"{_nl(100 * v, 1)}%" for v in iso], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.1f}%<extra>isolatie</extra>"), row=1, col=2)
    # reading bands of D, behind the bars (after the traces: plotly skips empty subplots)
    for x0, x1, colour, text in ((0, 0.3, "#E3F0DC", "laag"), (0.3, 0.6, "#FFEFCC", "matig"),
                                 (0.6, 1.0, "#F8D7CF", "hoog")):
        fig.add_vrect(x0=x0, x1=x1, fillcolor=colour, opacity=0.8, line_width=0, layer="below",
                      row=1, col=1)
        fig.add_annotation(x=(x0 + x1) / 2, y=0.0, xref="x", yref="y domain", yanchor="bottom",
                           yshift=2, text=text, showarrow=False, font=dict(size=11, color="#444444"),
                           name="band")
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
                      meta={"measures": {"dissimilarity": m.get("dissimilarity"),
                                         "multigroup_dissimilarity": m.get("multigroup_dissimilarity"),
                                         "theil_h": m.get("theil_h")}})
    if source:
        fig.add_annotation(text=source, xref="paper", yref="paper", x=0, y=0, yshift=-78,
                           xanchor="left", yanchor="bottom", showarrow=False,
                           font=dict(size=11, color="#555555"), name="bronregel")
    if fictitious:
        fig.add_annotation(fictitious_annotation(x=0, y=1, yshift=40, xanchor="left", yanchor="bottom", size=12))
    return fig


def _first_sentence(text: str) -> str:
    """"Eerste zin. Tweede zin." -> "Eerste zin." (the full explanation is on the page)."""
    m = re.match(r"(.+?[.!?])(\s+[A-Z(]|$)", str(text).strip(), flags=re.S)
    return m.group(1) if m else str(text).strip()


def _notes_for(gemeente: str, names: Mapping[str, str], store: Any = None) -> list[dict]:
    from loaders.notes import NotesStore

    store = store if store is not None else NotesStore()
    out = []
    for n in store.export(gemeente):
        area = n.get("area_code")
        where = [names.get(area, area)] if area else []
        if n.get("year"):
            where.append(str(n["year"]))
        out.append({"section": n.get("section_title") or n.get("section"),
                    "area": " · ".join(str(w) for w in where if w), "text": n["text"]})
    return out


def _change_sentence(year: int, gemeente: str, level: str, table: AreaTable,
                     src: Sources) -> str | None:
    from buurtmonitor.lokale_kaart import change
    from buurtmonitor.lokale_kaart import indices as lokale_kaart
    from loaders import repository

    plural = _PLURAL[level]
    prev = lokale_kaart.previous_comparable_year(int(year), list(repository.available_years(gemeente)))
    if prev is None:
        return ("Geen veranderingssignalen: er is geen eerder jaar met dezelfde herkomstindeling "
                "(de breuk 2022 → 2023 wordt bewust niet overbrugd).")
    try:
        earlier = src.table(prev, gemeente)
        res = lokale_kaart.change_signals(earlier, table, gemeente, level)
    except change.SchemeBreakError as exc:
        return str(exc)
    except Exception:  # noqa: BLE001 - optional part of the item
        return (f"Geen veranderingssignalen {prev} → {year}: de cijfers van {prev} konden niet "
                "worden geladen.")
    areas = res.areas
    n_sig = int((areas["status"] == change.STATUS_SIGNAL).sum()) if len(areas) else 0
    return (f"Veranderingssignalen {prev} → {year}: {n_sig} van de {len(areas)} {plural} vallen op "
            "door een sterke verschuiving in samenstelling of inwonertal (zie de pagina Lokale kaart).")


def lokale_kaart_item(year: int, gemeente: str, level: str = "wijk",
                      indicator: str | None = DEFAULT_INDICATOR, *, sources: Sources | None = None,
                      table: AreaTable | None = None, national: AreaTable | None = None,
                      notes_store: Any = None, measures: dict[str, Any] | None = None) -> ExportItem:
    """Segregation and diversity measures of the lokale kaart, the change signals against
    the previous year of the same origin classification, and the worksheet notes of the
    gemeente (verbatim, from :meth:`loaders.notes.NotesStore.export`)."""
    from buurtmonitor.lokale_kaart import indices as lokale_kaart
    from buurtmonitor.lokale_kaart import segregation

    _check_level(level)
    src = sources or Sources()
    table = table if table is not None else src.table(year, gemeente)
    name = gemeente_name(table, gemeente)
    plural = _PLURAL[level]
    m = measures if measures is not None else lokale_kaart.measures(
        table, gemeente, level, national=national, check_with_pysal=False)
    ex = segregation.EXPLANATIONS
    labels = m["labels"]
    a, b = m["pair"]
    key: list[str] = []
    d = m.get("dissimilarity")
    if d is not None:
        s = (f"Ongelijkheidsindex D ({labels[a]} / {labels[b]}) over {m['n_areas']} {plural}: "
             f"{_nl(d, 2)}, {_reading_d(d)} (onder 0,3 laag, boven 0,6 hoog)")
        nat = (m.get("national") or {}).get("dissimilarity") or {}
        if nat.get("rank"):
            s += f"; plaats {nat['rank']} van {nat['of']} gemeenten"
        key.append(s + ".")
    h = m.get("theil_h")
    if h is not None:
        key.append(f"Entropie-index H: {_nl(h, 2)}; meergroeps-D: "
                   f"{_nl(m.get('multigroup_dissimilarity'), 2)}.")
    iso = (m.get("isolation") or {}).get(b)
    share = (m.get("group_shares") or {}).get(b)
    if iso is not None and share is not None:
        key.append(f"Iemand met {labels[b]} woont gemiddeld in een {level} waar "
                   f"{_nl(100 * iso, 1)}% tot dezelfde groep hoort; in de hele gemeente is dat "
                   f"{_nl(100 * share, 1)}%.")
    change_line = _change_sentence(year, gemeente, level, table, src)
    if change_line:
        key.append(change_line)
    if not key:
        key = list(m.get("warnings") or ["De maten konden niet worden berekend."])
    names = {str(c): str(n) for c, n in zip(table.data["code"], table.data["name"])}
    defs = [{"id": k, "label": ex[k]["label"],
             "definition": f"{_first_sentence(ex[k]['explanation'])} Bereik: "
                           f"{ex[k].get('range', '0 tot 1')}.",
             "unit": "index"}
            for k in ("dissimilarity", "multigroup_dissimilarity", "theil_h", "isolation")
            if k in ex]
    fig = measures_figure(m, source=table.meta.source_line(), fictitious=table.meta.fictitious)
    return ExportItem.from_meta(
        table.meta,
        title=f"Lokale kaart: segregatie en diversiteit, {name}, {year}",
        subtitle=f"Berekend over {m['n_areas']} {plural} met volledige gegevens "
                 f"(van de {m['n_areas_input']})",
        figure=fig,
        table=measures_table(m),
        definitions=defs,
        key_figures=key[:4],
        resources=resources("lokale_kaart", indicator),
        notes=_notes_for(gemeente, names, notes_store),
    )


# ----------------------------------------------------------------------------- packs
BUILDERS: dict[str, Callable[..., ExportItem]] = {
    "kaart": map_item, "herkomst": composition_item, "gebiedsprofiel": profile_item,
    "ontwikkeling": trend_item, "lokale_kaart": lokale_kaart_item,
}


def _call(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    if progress is not None:
        try:
            progress(max(0.0, min(1.0, fraction)), message)
        except Exception:  # noqa: BLE001 - a broken progress bar must not break the export
            pass


def build_items(views: Sequence[str], year: int, gemeente: str, level: str = "wijk",
                indicator: str = DEFAULT_INDICATOR, area: str | None = None, *,
                sources: Sources | None = None, notes_store: Any = None,
                progress: ProgressCallback | None = None,
                max_resources: int | None = None) -> list[ExportItem]:
    """One item per view, in the order given. A view that cannot be made becomes a page
    that says why (the other views still go out); a wrong indicator or level raises.
    Each item keeps its ``max_resources`` most relevant guidance resources (None = all)."""
    check_indicator(indicator, year)
    _check_level(level)
    views = list(dict.fromkeys(normalise_view(v) for v in views))
    src = sources or Sources()
    items = []
    for i, view in enumerate(views):
        _call(progress, i / max(len(views), 1), f"Weergave {i + 1} van {len(views)}: {VIEWS[view]}")
        kwargs: dict[str, Any] = {"sources": src}
        if view in ("kaart", "herkomst", "gebiedsprofiel", "ontwikkeling"):
            kwargs["area"] = area
        if view == "lokale_kaart":
            kwargs["notes_store"] = notes_store
        try:
            item = BUILDERS[view](year, gemeente, level, indicator, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this view only
            item = _unavailable_item(view, exc, year, gemeente)
        if max_resources is not None:
            item.resources = item.resources[:max_resources]
        items.append(item)
    _call(progress, 1.0, "Weergaven klaar")
    return items


def pack_title(year: int, name: str) -> str:
    return f"Raadsbriefing {name} {year}"


def pack_resources(items: Sequence[ExportItem]) -> list[dict]:
    """Every guidance resource of ``items`` once, in order of first appearance; ``why`` is
    the catalogue's reason for a briefing where it has one, else that of the first view."""
    by_title = {r.title: r for r in load_catalogue().resources}
    out: dict[tuple[str, str], dict] = {}
    for item in items:
        for r in item.resources:
            key = (r.get("url", ""), r.get("title", ""))
            if key not in out:
                res = by_title.get(r.get("title", ""))
                why = (res.why.get("briefing") if res is not None else None) or r.get("why", "")
                out[key] = {**r, "why": why}
    return list(out.values())


def resources_item(items: Sequence[ExportItem]) -> ExportItem | None:
    """The closing page of a PDF pack: every guidance resource of the views, once."""
    res = pack_resources(items)
    if not res:
        return None
    first = items[0]
    return ExportItem(
        title="Handreikingen bij deze briefing",
        subtitle="Wat u kunt lezen of gebruiken bij het gesprek over deze cijfers; bij elke "
                 "handreiking staat waarom die hier helpt",
        source_line=first.source_line, table_ids=[], years=[],
        resources=res, fictitious=any(i.fictitious for i in items))


def pdf_items(items: Sequence[ExportItem], per_view: int | None = PACK_RESOURCES) -> list[ExportItem]:
    """The pages of a PDF pack: each view with its ``per_view`` most relevant resources
    (None = all, and no closing page), then one closing page with all resources once."""
    from dataclasses import replace

    out = [replace(i, resources=list(i.resources[:per_view] if per_view is not None else i.resources))
           for i in items]
    closing = resources_item(items) if per_view is not None else None
    return out + ([closing] if closing is not None else [])


def build_pack(views: Sequence[str], year: int, gemeente: str, level: str = "wijk",
               indicator: str = DEFAULT_INDICATOR, area: str | None = None, fmt: str = "pdf",
               progress: ProgressCallback | None = None, exported_at: datetime | None = None, *,
               title: str | None = None, sources: Sources | None = None, notes_store: Any = None,
               items: Sequence[ExportItem] | None = None) -> bytes:
    """A briefing pack of ``views`` as PDF (``fmt="pdf"``) or PPTX (``fmt="pptx"``).

    PDF: a title page with contents, a page per view and a closing page with every
    guidance resource of the chosen views once (why it helps). PPTX: a title slide and one
    slide per view; definitions and the view's resources in the slide notes.

    ``progress(fraction, message)`` is called while the views are gathered (first 40 %,
    unless ``items`` are given) and per figure while the pack is made. ``items``: views
    already built (e.g. for the preview on the page) instead of building them again. The
    same inputs with the same ``exported_at`` give the same content."""
    fmt = fmt.lower()
    if fmt not in ("pdf", "pptx"):
        raise ValueError(f"Onbekend formaat '{fmt}': kies pdf of pptx.")
    src = sources or Sources()
    start = 0.0
    if items is None:
        start = 0.4
        items = build_items(views, year, gemeente, level, indicator, area, sources=src,
                            notes_store=notes_store,
                            progress=lambda f, msg: _call(progress, 0.4 * f, msg))
    items = list(items)
    try:
        name = gemeente_name(src.table(year, gemeente), gemeente)
    except Exception:  # noqa: BLE001
        name = gemeente
    title = (title or "").strip() or pack_title(year, name)
    when = exported_at or datetime.now()

    def pack_progress(f: float, msg: str) -> None:
        _call(progress, start + (1.0 - start) * f, msg)

    if fmt == "pdf":
        return build_pdf_pack(pdf_items(items), title, name, int(year), exported_at=when,
                              progress=pack_progress)
    # PPTX: one slide per view; definitions and every resource go into the slide notes
    return build_pptx_pack(items, title, name, int(year), exported_at=when, progress=pack_progress)


# ----------------------------------------------------------------------------- CLI export
def _write_atomic(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out`` through a temporary file in the same folder and
    ``os.replace``: readers see the old file or the complete new one, never a part."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"De map '{folder}' bestaat niet; maak die eerst aan of kies een "
                          "andere plek voor --out.")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _static_or_explain(item: ExportItem, fmt: str, **kwargs: Any) -> bytes:
    try:
        return figure_to_image(item, fmt, **kwargs)
    except StaticExportUnavailable as exc:
        raise ExportError(f"{exc} Gebruik --format html voor een interactieve kaart die zonder "
                          "browser wordt gemaakt, of --format csv/xlsx voor de tabel.") from exc


def export_bytes(year: int, gemeente: str, indicator: str, level: str = "wijk",
                 fmt: str = "png", *, exported_at: datetime | None = None,
                 sources: Sources | None = None) -> bytes:
    """The bytes of :func:`export_indicator` (nothing is written)."""
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ExportError(f"Onbekend formaat '{fmt}': kies uit {', '.join(FORMATS)}.")
    check_indicator(indicator, year)
    _check_level(level)
    if fmt in ("png", "svg", "pdf", "pptx"):
        reason = static_export_status()
        if reason and fmt != "pptx":
            raise ExportError(f"{reason} Gebruik --format html voor een interactieve kaart die "
                              "zonder browser wordt gemaakt, of --format csv/xlsx voor de tabel.")
    src = sources or Sources()
    when = exported_at or datetime.now()
    item = map_item(year, gemeente, level, indicator, sources=src)
    if fmt == "csv":
        return table_to_csv(item)
    if fmt == "xlsx":
        return table_to_xlsx(item, exported_at=when)
    if fmt == "html":
        return figure_to_html(item, exported_at=when)
    if fmt == "pptx":
        items = [item, composition_item(year, gemeente, level, indicator, sources=src)]
        return build_pack(["kaart", "herkomst"], year, gemeente, level, indicator, fmt="pptx",
                          exported_at=when, sources=src, items=items,
                          title=item.title)
    if item.figure is None:
        raise ExportError(item.key_figures[-1] + " Kies --format csv of --format xlsx.")
    return _static_or_explain(item, fmt, exported_at=when)


def export_indicator(year: int, gemeente: str, indicator: str, level: str = "wijk",
                     fmt: str = "png", out: str | os.PathLike = "export.png", *,
                     exported_at: datetime | None = None) -> Path:
    """CLI ``export``: the map of ``indicator`` per wijk/buurt of ``gemeente`` as png, svg or
    pdf; its table as csv or xlsx; a deck (map + herkomst, one slide each) as pptx; or the
    interactive page as html (no browser needed).

    Written atomically to ``out``. Errors are :class:`ExportError` (a ValueError) with a
    Dutch message: unknown indicator, an indicator of the other origin classification,
    no browser for png/svg/pdf (use html)."""
    out = Path(out)
    data = export_bytes(int(year), gemeente, indicator, level, fmt, exported_at=exported_at)
    _write_atomic(out, data)
    return out
