"""Detailed origin per gemeente: countries of origin, born in NL or abroad, change per year.

Works on the harmonised frame of CBS table 85458NED (*Bevolking; herkomstland, geboorteland,
leeftijd, regio, 1 januari*), as :func:`loaders.cbs_origin.load_origin_table` gives it. The
catalogue (``data/origin_tables.toml``) names the countries (groups with ``country = true``),
keeps born in NL / born abroad as the indicators :data:`BORN_NL` and :data:`BORN_ABROAD`, and
sets the threshold ``rules.country_group_min``: a country of origin is *a group in the gemeente*
from that many inhabitants (50) on 1 January.

A value that is missing stays missing with its reason (CBS left it empty, or the loaded data
does not hold it: :data:`MISSING_NOT_LOADED`); it is never 0. Every number a visitor reads goes
through :mod:`buurtmonitor.formatting`.

* :func:`countries_view` — the N largest countries of origin, the overview groups
  (herkomst Nederland / buiten Nederland / Europa / buiten Europa), share of inhabitants, born in
  NL vs abroad, change against the year before.
* :func:`yearly_counts` — one group's count per year (2022 → 2023 → 2024) with the change.
* :func:`group_status` — whether a country (``"eritrea"``) is a group in the gemeente, with
  the reason in words; ``"onbekend"`` when the loaded data has no country detail.
* :func:`situations` — the guidance situations that hold (``herkomstgroep_<land>``), for
  :meth:`buurtmonitor.catalogue.Catalogue.resources_for`.
* :func:`display_table`, :func:`csv_table`, :func:`countries_figure` — what the view shows.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from buurtmonitor import formatting
from buurtmonitor.charts import _finish
from buurtmonitor.model import SOURCE_CBS

from .catalogue import FILE_NAME, OriginCatalogue, load_origin_catalogue

TABLE_ID = "85458NED"
POPULATION = "bevolking"
BORN_NL = "bevolking_geboren_in_nederland"
BORN_ABROAD = "bevolking_geboren_buiten_nederland"
#: the value is not in the loaded data (e.g. a truncated extract); label in the catalogue
MISSING_NOT_LOADED = "niet_geladen"
#: the overview groups, in the order they are shown (those present in the frame)
OVERVIEW_GROUPS = ("totaal", "herkomst_nederland", "herkomst_buiten_nederland", "herkomst_europa",
                   "herkomst_buiten_europa")
#: situation id of guidance tied to a country of origin being a group in the gemeente
SITUATION_PREFIX = "herkomstgroep_"
STATE_GROUP, STATE_NO_GROUP, STATE_UNKNOWN = "groep", "geen_groep", "onbekend"
BORN_NL_COLOUR, BORN_ABROAD_COLOUR, UNSPLIT_COLOUR = "#0072B2", "#E69F00", "#BBBBBB"


@dataclass(frozen=True)
class Cell:
    """One count: ``value`` (None when missing) and why it is missing."""

    value: float | None
    missing: str | None = None

    def text(self, catalogue: OriginCatalogue | None = None) -> str:
        """``"1.234"``, or the Dutch reason it is missing (never ``"0"``)."""
        if self.value is not None:
            return formatting.integer(self.value)
        cat = catalogue or load_origin_catalogue()
        return cat.missing_label(self.missing or MISSING_NOT_LOADED)


@dataclass(frozen=True)
class OriginRow:
    """One origin group (a country or an overview group) in one gemeente and year."""

    group: str
    label: str
    is_country: bool
    parent: str | None
    count: Cell
    share: float | None                 # % of all inhabitants
    born_nl: Cell
    born_abroad: Cell
    previous: Cell                      # the count a year earlier (missing in the first year)
    previous_year: int | None

    @property
    def change(self) -> float | None:
        """The count minus that of a year earlier; None when either is missing."""
        if self.count.value is None or self.previous.value is None:
            return None
        return self.count.value - self.previous.value

    @property
    def share_born_abroad(self) -> float | None:
        """Born abroad as % of the group (None when a part is missing)."""
        if self.born_abroad.value is None or not self.count.value:
            return None
        return 100.0 * self.born_abroad.value / self.count.value


@dataclass(frozen=True)
class CountriesView:
    """What the Herkomstlanden view shows for one gemeente and year."""

    gemeente: str
    gemeente_name: str
    year: int
    years: tuple[int, ...]
    inhabitants: Cell
    overview: tuple[OriginRow, ...]
    countries: tuple[OriginRow, ...]    # the largest countries, largest first
    n_countries: int                    # countries with a count in this gemeente and year
    has_country_detail: bool            # the loaded data splits herkomst by country at all
    group_min: float
    year_note: str | None = None        # set when the asked year is not in the data
    table_id: str = TABLE_ID
    #: countries in the data whose count is missing this year: (name, Dutch reason)
    missing_countries: tuple[tuple[str, str], ...] = ()

    def missing_line(self) -> str | None:
        """One Dutch line naming the countries without a count (None when there are none)."""
        if not self.missing_countries:
            return None
        names = ", ".join(f"{n} ({why})" for n, why in self.missing_countries)
        return f"Zonder aantal op 1 januari {self.year} (niet in de grafiek of de rangorde): {names}."


@dataclass(frozen=True)
class YearCount:
    year: int
    count: Cell
    change: float | None                # against the year before (None for the first or a gap)


@dataclass(frozen=True)
class GroupStatus:
    """Whether one country of origin is a group in the gemeente, and why."""

    country: str
    label: str                          # "Eritrea"
    state: str                          # STATE_GROUP | STATE_NO_GROUP | STATE_UNKNOWN
    count: Cell
    year: int
    reason: str                         # one Dutch sentence


# ------------------------------------------------------------------------------ helpers
def country_name(group_label: str) -> str:
    """``"Herkomst Eritrea"`` -> ``"Eritrea"``."""
    return group_label.removeprefix("Herkomst ").strip()


def _sel(frame: pd.DataFrame, gemeente: str) -> pd.DataFrame:
    f = frame[(frame["gemeente_code"] == gemeente) & (frame["table_id"].str.upper() == TABLE_ID)]
    return f[f["indicator"].isin((POPULATION, BORN_NL, BORN_ABROAD))]


def _cell(f: pd.DataFrame, year: int | None, group: str, indicator: str) -> Cell:
    if year is None:
        return Cell(None, MISSING_NOT_LOADED)
    hit = f[(f["year"] == year) & (f["group"] == group) & (f["indicator"] == indicator)]
    if hit.empty:
        return Cell(None, MISSING_NOT_LOADED)
    v = formatting.to_float(hit.iloc[0]["value"])
    return Cell(v, None if v is not None else (hit.iloc[0]["missing"] or MISSING_NOT_LOADED))


def available_years(frame: pd.DataFrame, gemeente: str) -> list[int]:
    """The years of 85458NED in ``frame`` for ``gemeente`` (ascending)."""
    f = _sel(frame, gemeente)
    return sorted(int(y) for y in f["year"].dropna().unique())


def resolve_year(years: list[int], year: int | None) -> tuple[int, str | None]:
    """The year to show and, when it is not the asked one, a Dutch line saying so."""
    if not years:
        raise ValueError("Er zijn geen cijfers naar herkomstland voor deze gemeente.")
    if year is None:
        return years[-1], None
    if year in years:
        return year, None
    shown = min(years, key=lambda y: (abs(y - year), -y))
    return shown, (f"Voor {year} zijn er geen cijfers naar herkomstland (tabel {TABLE_ID} begint op "
                   f"1 januari {years[0]}); getoond: 1 januari {shown}.")


def _row(f: pd.DataFrame, cat: OriginCatalogue, group: str, year: int, years: list[int],
         inhabitants: Cell) -> OriginRow:
    g = cat.groups[group]
    count = _cell(f, year, group, POPULATION)
    earlier = [y for y in years if y < year]
    prev_year = earlier[-1] if earlier else None
    share = (100.0 * count.value / inhabitants.value
             if count.value is not None and inhabitants.value else None)
    return OriginRow(group=group, label=g.label, is_country=g.country, parent=g.parent, count=count,
                     share=share, born_nl=_cell(f, year, group, BORN_NL),
                     born_abroad=_cell(f, year, group, BORN_ABROAD),
                     previous=_cell(f, prev_year, group, POPULATION), previous_year=prev_year)


# ------------------------------------------------------------------------------ views
def countries_view(frame: pd.DataFrame, gemeente: str, year: int | None = None, *, top: int = 10,
                   catalogue: OriginCatalogue | None = None) -> CountriesView:
    """The largest countries of origin of ``gemeente`` in ``year`` (default: the latest).

    Raises
    ------
    ValueError
        The frame holds no 85458NED figures for the gemeente (Dutch message).
    """
    cat = catalogue or load_origin_catalogue()
    f = _sel(frame, gemeente)
    if f.empty:
        raise ValueError(f"Er zijn geen cijfers naar herkomstland (tabel {TABLE_ID}) voor gemeente {gemeente}.")
    years = available_years(frame, gemeente)
    shown, note = resolve_year(years, year)
    name = str(f.iloc[0]["gemeente_name"])
    inhabitants = _cell(f, shown, "totaal", POPULATION)
    present = set(f["group"])
    overview = tuple(_row(f, cat, g, shown, years, inhabitants) for g in OVERVIEW_GROUPS
                     if g in present and g in cat.groups)
    country_ids = [g for g in cat.countries if g in present]
    rows = [_row(f, cat, g, shown, years, inhabitants) for g in country_ids]
    with_count = [r for r in rows if r.count.value is not None]
    with_count.sort(key=lambda r: (-(r.count.value or 0.0), r.label))
    without = tuple((country_name(r.label), r.count.text(cat)) for r in rows if r.count.value is None)
    return CountriesView(gemeente=gemeente, gemeente_name=name, year=shown, years=tuple(years),
                         inhabitants=inhabitants, overview=overview, countries=tuple(with_count[:top]),
                         n_countries=len(with_count), has_country_detail=bool(country_ids),
                         group_min=cat.rules.country_group_min, year_note=note, missing_countries=without)


def yearly_counts(frame: pd.DataFrame, gemeente: str, group: str, indicator: str = POPULATION) -> list[YearCount]:
    """``group``'s count per year of 85458NED (2022, 2023, 2024), each with the change against
    the year before (None for the first year or when either count is missing)."""
    f = _sel(frame, gemeente)
    out: list[YearCount] = []
    prev: Cell | None = None
    for y in available_years(frame, gemeente):
        c = _cell(f, y, group, indicator)
        change = (c.value - prev.value if prev is not None and c.value is not None
                  and prev.value is not None else None)
        out.append(YearCount(year=y, count=c, change=change))
        prev = c
    return out


def group_status(frame: pd.DataFrame, gemeente: str, year: int | None, country: str, *,
                 catalogue: OriginCatalogue | None = None, view: CountriesView | None = None) -> GroupStatus:
    """Whether ``country`` (a group id with ``country = true``, e.g. ``"eritrea"``) is a group
    in ``gemeente``: at least ``rules.country_group_min`` inhabitants with that herkomstland.

    ``state`` is ``"onbekend"`` when the loaded data does not split herkomst by country, or the
    count is missing; the ``reason`` says which, in one Dutch sentence.
    """
    cat = catalogue or load_origin_catalogue()
    g = cat.groups[country]
    if not g.country:
        raise ValueError(f"{country} is geen herkomstland in {FILE_NAME}")
    land = country_name(g.label)
    view = view or countries_view(frame, gemeente, year, top=0, catalogue=cat)
    f = _sel(frame, gemeente)
    minimum = formatting.integer(cat.rules.country_group_min)
    place, when = view.gemeente_name, f"1 januari {view.year}"
    if not view.has_country_detail:
        return GroupStatus(country, land, STATE_UNKNOWN, Cell(None, MISSING_NOT_LOADED), view.year,
                           f"De geladen cijfers van {place} zijn niet uitgesplitst naar herkomstland; "
                           f"of {land} daar een herkomstgroep is, is er niet uit af te leiden.")
    count = _cell(f, view.year, country, POPULATION)
    if count.value is None:
        return GroupStatus(country, land, STATE_UNKNOWN, count, view.year,
                           f"Het aantal inwoners van {place} met herkomst {land} op {when} is "
                           f"{count.text(cat)}.")
    n = formatting.integer(count.value)
    if count.value >= cat.rules.country_group_min:
        born = _cell(f, view.year, country, BORN_ABROAD)
        extra = f", van wie {formatting.integer(born.value)} buiten Nederland geboren" if born.value is not None else ""
        prev = [y for y in view.years if y < view.year]
        change = ""
        if prev:
            p = _cell(f, prev[-1], country, POPULATION)
            if p.value is not None:
                change = (f"; een jaar eerder {formatting.integer(p.value)} "
                          f"({formatting.number(count.value - p.value, 0, sign=True)})")
        return GroupStatus(country, land, STATE_GROUP, count, view.year,
                           f"In {place} wonen op {when} {n} inwoners met herkomst {land}{extra}{change}: "
                           f"ten minste {minimum}, dus een herkomstgroep in de gemeente.")
    return GroupStatus(country, land, STATE_NO_GROUP, count, view.year,
                       f"In {place} wonen op {when} {n} inwoners met herkomst {land}: minder dan {minimum}, "
                       "dus geen herkomstgroep in de zin van deze monitor.")



def situations(frame: pd.DataFrame, gemeente: str, year: int | None, *,
               catalogue: OriginCatalogue | None = None) -> dict[str, str]:
    """The guidance situations that hold: ``{"herkomstgroep_<land>": reason}`` for every
    country of origin that is a group in the gemeente (see :func:`group_status`)."""
    cat = catalogue or load_origin_catalogue()
    f = _sel(frame, gemeente)
    present = set(f["group"])
    out: dict[str, str] = {}
    if f.empty:
        return out
    view = countries_view(frame, gemeente, year, top=0, catalogue=cat)
    for gid in cat.countries:
        if gid not in present:
            continue
        st = group_status(frame, gemeente, year, gid, catalogue=cat, view=view)
        if st.state == STATE_GROUP:
            out[SITUATION_PREFIX + gid] = st.reason
    return out


# ------------------------------------------------------------------------------ output
def _share_text(v: float | None) -> str:
    return formatting.MISSING if v is None else f"{formatting.number(v, 1)}%"


def _change_text(r: OriginRow) -> str:
    if r.previous_year is None:
        return "eerste jaar"
    ch = r.change
    return formatting.number(ch, 0, sign=True) if ch is not None else formatting.MISSING


def _group_text(r: OriginRow, minimum: float) -> str:
    if r.count.value is None:
        return "onbekend"
    return "ja" if r.count.value >= minimum else "nee"


def _rows(view: CountriesView) -> list[OriginRow]:
    return [*view.overview, *view.countries]


def display_table(view: CountriesView, *, catalogue: OriginCatalogue | None = None) -> pd.DataFrame:
    """The table beside the chart: one row per overview group and per shown country, every
    cell as Dutch text, a missing count as its reason (never 0)."""
    cat = catalogue or load_origin_catalogue()
    prev = f"Verschil met 1 januari {view.year - 1}"
    recs = []
    for r in _rows(view):
        recs.append({
            "Herkomst": country_name(r.label) if r.is_country else r.label,
            "Soort": "herkomstland" if r.is_country else "overzicht",
            "Inwoners": r.count.text(cat),
            "Aandeel van alle inwoners": _share_text(r.share),
            "Geboren in Nederland": r.born_nl.text(cat),
            "Geboren buiten Nederland": r.born_abroad.text(cat),
            prev: _change_text(r),
            "Herkomstgroep (≥ " + formatting.integer(view.group_min) + ")":
                _group_text(r, view.group_min) if r.is_country else "",
        })
    return pd.DataFrame.from_records(recs)


def csv_table(view: CountriesView, *, catalogue: OriginCatalogue | None = None) -> pd.DataFrame:
    """The same rows for a CSV download: numbers as numbers (empty when missing) and the reason
    beside each missing count."""
    cat = catalogue or load_origin_catalogue()
    recs = []
    for r in _rows(view):
        why = [f"{what}: {c.text(cat)}" for what, c in (("inwoners", r.count), ("geboren in NL", r.born_nl),
                                                          ("geboren buiten NL", r.born_abroad)) if c.value is None]
        recs.append({"gemeente": view.gemeente, "jaar": view.year, "groep": r.group,
                     "herkomst": country_name(r.label) if r.is_country else r.label,
                     "inwoners": r.count.value, "aandeel_pct": r.share, "geboren_in_nl": r.born_nl.value,
                     "geboren_buiten_nl": r.born_abroad.value, "verschil_vorig_jaar": r.change,
                     "toelichting": "; ".join(why), "tabel": view.table_id})
    return pd.DataFrame.from_records(recs)


def changes_table(frame: pd.DataFrame, view: CountriesView, *,
                  catalogue: OriginCatalogue | None = None) -> pd.DataFrame:
    """Change per year (the newcomers view): per overview group and shown country, the
    inhabitants and those born abroad on 1 January of every year, and the change from year to
    year. Growth of those born abroad approximates newcomers (net of arrivals, departures and
    deaths); it is not a count of newcomers. Every cell Dutch text; a missing count its reason."""
    cat = catalogue or load_origin_catalogue()
    rows = [r for r in _rows(view) if r.group != "totaal"]
    recs = []
    for r in rows:
        for indicator, what in ((POPULATION, "inwoners"), (BORN_ABROAD, "geboren buiten Nederland")):
            series = yearly_counts(frame, view.gemeente, r.group, indicator)
            if indicator == BORN_ABROAD and r.group == "herkomst_nederland" \
                    and all(c.count.value is None for c in series):
                continue                  # CBS leaves it empty: herkomst Nederland is born in NL
            rec = {"Herkomst": country_name(r.label) if r.is_country else r.label, "Telling": what}
            for i, c in enumerate(series):
                rec[f"1 jan {c.year}"] = c.count.text(cat)
                if i:
                    rec[f"{series[i - 1].year}→{c.year}"] = (formatting.number(c.change, 0, sign=True)
                                                            if c.change is not None else formatting.MISSING)
            recs.append(rec)
    return pd.DataFrame.from_records(recs)


def source_line(table_title: str | None = None) -> str:
    """``"Bron: CBS, 85458NED"`` (with the table title when known)."""
    return f"{SOURCE_CBS}, {TABLE_ID}" + (f" ({table_title})" if table_title else "")


def summary_sentence(view: CountriesView) -> str:
    """One Dutch sentence with the key figures of the view."""
    place, when = view.gemeente_name, f"1 januari {view.year}"
    tot = view.inhabitants.value
    buiten = next((r for r in view.overview if r.group == "herkomst_buiten_nederland"), None)
    parts = [f"{place} telt op {when} {formatting.integer(tot)} inwoners" if tot is not None
             else f"Het aantal inwoners van {place} op {when} ontbreekt"]
    if buiten is not None and buiten.count.value is not None:
        s = f"; {formatting.integer(buiten.count.value)} van hen ({_share_text(buiten.share)}) hebben een herkomst buiten Nederland"
        if buiten.born_abroad.value is not None:
            s += f", van wie {formatting.integer(buiten.born_abroad.value)} buiten Nederland geboren"
        parts.append(s)
    if view.countries:
        big = view.countries[0]
        parts.append(f". Het grootste herkomstland buiten Nederland is {country_name(big.label)} "
                     f"({formatting.integer(big.count.value)} inwoners)")
    return "".join(parts) + "."


def countries_figure(view: CountriesView, *, source: str | None = None, fictitious: bool = False) -> go.Figure:
    """Horizontal bars: the shown countries (or, without country detail, the overview groups
    herkomst Nederland / buiten Nederland), split into born in NL and born abroad where both
    parts are known; a group whose split is missing is one grey bar. Groups without a count
    are left out of the chart (the table names them)."""
    rows = list(view.countries) if view.countries else [
        r for r in view.overview if r.group in ("herkomst_nederland", "herkomst_buiten_nederland")]
    rows = [r for r in rows if r.count.value is not None][::-1]          # largest on top
    names = [html.escape(country_name(r.label) if r.is_country else r.label) for r in rows]
    split = [r.born_nl.value is not None and r.born_abroad.value is not None for r in rows]

    def hover(r: OriginRow) -> str:
        return (f"{html.escape(country_name(r.label) if r.is_country else r.label)}: "
                f"{formatting.integer(r.count.value)} inwoners ({_share_text(r.share)})")

    fig = go.Figure()
    fig.add_bar(y=names, x=[r.born_nl.value if s else None for r, s in zip(rows, split)], orientation="h",
                name="Geboren in Nederland", marker_color=BORN_NL_COLOUR,
                hovertext=[hover(r) + f"<br>geboren in Nederland: {formatting.integer(r.born_nl.value)}"
                           for r in rows], hoverinfo="text")
    fig.add_bar(y=names, x=[r.born_abroad.value if s else None for r, s in zip(rows, split)], orientation="h",
                name="Geboren buiten Nederland", marker_color=BORN_ABROAD_COLOUR,
                hovertext=[hover(r) + f"<br>geboren buiten Nederland: {formatting.integer(r.born_abroad.value)}"
                           for r in rows], hoverinfo="text")
    if not all(split):
        fig.add_bar(y=names, x=[None if s else r.count.value for r, s in zip(rows, split)], orientation="h",
                    name="Geboorteland niet bekend", marker_color=UNSPLIT_COLOUR,
                    hovertext=[hover(r) for r in rows], hoverinfo="text")
    what = (f"De {len(rows)} grootste herkomstlanden" if view.countries
            else "Herkomst Nederland en buiten Nederland")
    title = f"{what} in {html.escape(view.gemeente_name)}, 1 januari {view.year}"
    fig.update_layout(barmode="stack", xaxis_title="inwoners", yaxis_title="", legend_traceorder="normal")
    fig.update_xaxes(tickformat=",d", rangemode="tozero")
    return _finish(fig, source=source or source_line(), fictitious=fictitious, title=title,
                   height=max(160, 34 * len(rows) + 40))

