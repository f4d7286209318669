"""Gaps, trends and ranks on a harmonised frame (:mod:`buurtmonitor.integratie.harmonise`).

* the gap of a group to the reference group (``herkomst_nederland`` for the herkomst scheme,
  ``nederlandse_achtergrond`` for migratieachtergrond) in the same gemeente and year:
  ``value - value_reference``, in procentpunten for percentages (:class:`GapRow`);
* the same group against the whole country (``value - value_country``) and the country's own
  gap, so a gemeente's gap can be read against the national one;
* the series of a group (or of its gap) over the available years (:class:`GroupIndicatorSeries`);
* the rank of every gemeente's gap among all gemeenten of the table (:class:`GapRank`).

The scheme break: herkomst (CBS from 2023 on) and migratieachtergrond (until 2022) are never
compared. Every function works on one scheme and raises :class:`SchemeBreakError` when a
selection mixes them; :func:`split_schemes` gives the parts.

Counts (``kind = "count"``) have no gaps. A missing value (suppressed, empty, small number)
gives a missing gap, never 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .catalogue import OriginCatalogue, load_origin_catalogue

MISSING_NO_REFERENCE = "referentie_ontbreekt"


class SchemeBreakError(ValueError):
    """Figures of the herkomst and migratieachtergrond schemes were to be compared (Dutch)."""


def schemes_in(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["scheme"].dropna().unique().tolist())


def assert_one_scheme(frame: pd.DataFrame) -> str:
    """The one scheme of ``frame``; :class:`SchemeBreakError` when there are two."""
    found = schemes_in(frame)
    if len(found) > 1:
        raise SchemeBreakError(
            "Herkomst (CBS-indeling vanaf 2023) en migratieachtergrond (tot en met 2022) zijn "
            "verschillende indelingen en worden niet met elkaar vergeleken.")
    if not found:
        raise ValueError("Geen cijfers om te vergelijken.")
    return found[0]


def split_schemes(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``frame`` per scheme (each part can be compared within itself)."""
    return {s: frame[frame["scheme"] == s] for s in schemes_in(frame)}


def _f(x: object) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


@dataclass(frozen=True)
class GapRow:
    """One group in one gemeente and year, against the reference group and the country.

    ``gap = value - reference_value`` (same gemeente and year); ``gap_to_country = value -
    country_value`` (same group, the whole country); ``country_gap = country_value -
    country_reference_value`` (the national gap). ``gap_unit`` is ``"pp"`` for percentages.
    A gap is None when either side is missing; ``missing`` then says why (the value's own
    reason, or ``referentie_ontbreekt``).
    """

    gemeente_code: str
    gemeente_name: str
    year: int | None
    indicator: str
    group: str
    value: float | None
    n: float | None
    reference_group: str
    reference_value: float | None
    gap: float | None
    country_value: float | None
    gap_to_country: float | None
    country_gap: float | None
    gap_unit: str
    scheme: str
    table_id: str
    missing: str | None = None


GAP_COLUMNS = list(GapRow.__dataclass_fields__)


def gap_table(frame: pd.DataFrame, indicator: str, *, year: int | None = None,
              groups: list[str] | None = None, catalogue: OriginCatalogue | None = None) -> pd.DataFrame:
    """The gaps of ``indicator`` for every gemeente, year and group of ``frame`` (one scheme).

    Parameters
    ----------
    frame
        A harmonised frame (may hold several tables of one scheme; the country rows are used
        for the national comparison).
    indicator
        A ``percentage`` or ``amount`` indicator id.
    year
        Only this year (default: every year).
    groups
        Only these groups (default: every group except the reference group and ``totaal``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAP_COLUMNS`, one row per gemeente, year and group.
    """
    cat = catalogue or load_origin_catalogue()
    ind = cat.indicators[indicator]
    if ind.gap_unit is None:
        raise ValueError(f"{ind.label} is een aantal; daarvoor worden geen verschillen berekend.")
    sel = frame[frame["indicator"] == indicator]
    if year is not None:
        sel = sel[sel["year"] == year]
    if sel.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    scheme = assert_one_scheme(sel)
    ref = cat.reference_group(scheme)
    keys = ["table_id", "gemeente_code", "year"]
    refs = sel[sel["group"] == ref][[*keys, "value"]].rename(columns={"value": "reference_value"})
    country = sel[sel["level"] == "land"]
    c_vals = country[["table_id", "year", "group", "value"]].rename(columns={"value": "country_value"})
    c_ref = country[country["group"] == ref][["table_id", "year", "value"]].rename(
        columns={"value": "country_reference_value"})
    rows = sel[(sel["level"] == "gemeente") & (sel["group"] != ref)]
    rows = rows[rows["group"].isin(groups)] if groups is not None else rows[rows["group"] != "totaal"]
    out = (rows.merge(refs, how="left", on=keys)
               .merge(c_vals, how="left", on=["table_id", "year", "group"])
               .merge(c_ref, how="left", on=["table_id", "year"]))
    out["gap"] = out["value"] - out["reference_value"]
    out["gap_to_country"] = out["value"] - out["country_value"]
    out["country_gap"] = out["country_value"] - out["country_reference_value"]
    no_ref = out["value"].notna() & out["reference_value"].isna()
    out["missing"] = out["missing"].where(~no_ref, MISSING_NO_REFERENCE)
    out["reference_group"] = ref
    out["gap_unit"] = ind.gap_unit
    out = out.reindex(columns=GAP_COLUMNS)
    for col in ("value", "n", "reference_value", "gap", "country_value", "gap_to_country", "country_gap"):
        out[col] = out[col].astype(float)
    out["missing"] = out["missing"].astype(object).where(out["missing"].notna(), None)
    return out.sort_values(["gemeente_code", "group", "year"], kind="stable").reset_index(drop=True)


def _none(v: object) -> object:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if math.isnan(float(v)) else float(v)
    return v


def gap_rows(frame: pd.DataFrame, indicator: str, *, gemeente: str | None = None, year: int | None = None,
             groups: list[str] | None = None, catalogue: OriginCatalogue | None = None) -> list[GapRow]:
    """:func:`gap_table` as :class:`GapRow` s (optionally for one gemeente)."""
    t = gap_table(frame, indicator, year=year, groups=groups, catalogue=catalogue)
    if gemeente is not None:
        t = t[t["gemeente_code"] == gemeente]
    return [GapRow(**{k: _none(v) for k, v in rec.items()}) for rec in t.to_dict("records")]  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ series
@dataclass(frozen=True)
class SeriesPoint:
    year: int
    value: float | None
    n: float | None = None
    missing: str | None = None


@dataclass(frozen=True)
class GroupIndicatorSeries:
    """One group's indicator (or gap) in one gemeente over the available years (one scheme).

    ``points`` are in year order, a missing year keeps its reason. ``change`` is the last
    available value minus the first; ``slope`` the least-squares change per year over the
    available points (None with fewer than two).
    """

    gemeente_code: str
    gemeente_name: str
    indicator: str
    group: str
    unit: str
    scheme: str
    table_id: str
    points: tuple[SeriesPoint, ...]
    is_gap: bool = False

    @property
    def available(self) -> list[SeriesPoint]:
        return [p for p in self.points if p.value is not None]

    @property
    def years(self) -> list[int]:
        return [p.year for p in self.points]

    @property
    def values(self) -> list[float | None]:
        return [p.value for p in self.points]

    @property
    def change(self) -> float | None:
        av = self.available
        if len(av) < 2:
            return None
        return float(av[-1].value) - float(av[0].value)  # type: ignore[arg-type]

    @property
    def slope(self) -> float | None:
        av = self.available
        if len(av) < 2:
            return None
        x = np.array([p.year for p in av], dtype=float)
        y = np.array([p.value for p in av], dtype=float)
        return float(np.polyfit(x, y, 1)[0])


def series(frame: pd.DataFrame, gemeente: str, indicator: str, group: str, *,
           table_id: str | None = None) -> GroupIndicatorSeries:
    """The yearly values of ``group``'s ``indicator`` in ``gemeente`` (``NL01`` = the country).

    With several tables holding the indicator, pass ``table_id``; a selection that mixes the
    schemes raises :class:`SchemeBreakError`.
    """
    sel = frame[(frame["gemeente_code"] == gemeente) & (frame["indicator"] == indicator)
                & (frame["group"] == group) & frame["year"].notna()]
    if table_id is not None:
        sel = sel[sel["table_id"] == table_id]
    if sel.empty:
        raise KeyError(f"Geen cijfers voor {indicator} van groep {group} in {gemeente}.")
    scheme = assert_one_scheme(sel)
    tables = sel["table_id"].unique().tolist()
    if len(tables) > 1:
        raise ValueError(f"{indicator} staat in meerdere tabellen ({', '.join(tables)}): kies er een.")
    sel = sel.sort_values("year")
    pts = tuple(SeriesPoint(year=int(r.year), value=_f(r.value), n=_f(r.n),
                            missing=None if r.missing is None else str(r.missing))
                for r in sel.itertuples(index=False))
    first = sel.iloc[0]
    return GroupIndicatorSeries(gemeente_code=gemeente, gemeente_name=str(first["gemeente_name"]),
                                indicator=indicator, group=group, unit=str(first["unit"]), scheme=scheme,
                                table_id=tables[0], points=pts)


def gap_series(frame: pd.DataFrame, gemeente: str, indicator: str, group: str, *,
               table_id: str | None = None, catalogue: OriginCatalogue | None = None) -> GroupIndicatorSeries:
    """The yearly gap of ``group`` to the reference group in ``gemeente`` (unit ``pp`` for
    percentages); a year without a gap keeps the reason."""
    sel = frame if table_id is None else frame[frame["table_id"] == table_id]
    t = gap_table(sel, indicator, groups=[group], catalogue=catalogue)
    t = t[(t["gemeente_code"] == gemeente) & t["year"].notna()].sort_values("year")
    if t.empty:
        raise KeyError(f"Geen verschillen voor {indicator} van groep {group} in {gemeente}.")
    tables = t["table_id"].unique().tolist()
    if len(tables) > 1:
        raise ValueError(f"{indicator} staat in meerdere tabellen ({', '.join(tables)}): kies er een.")
    pts = tuple(SeriesPoint(year=int(r.year), value=_f(r.gap), n=_f(r.n), missing=r.missing)
                for r in t.itertuples(index=False))
    first = t.iloc[0]
    return GroupIndicatorSeries(gemeente_code=gemeente, gemeente_name=str(first["gemeente_name"]),
                                indicator=indicator, group=group, unit=str(first["gap_unit"]),
                                scheme=str(first["scheme"]), table_id=tables[0], points=pts, is_gap=True)


# ------------------------------------------------------------------------------ ranks
@dataclass(frozen=True)
class GapRank:
    """A gemeente's gap among all gemeenten with a gap for the same indicator, group and year.

    ``rank`` 1 is the largest disadvantage of the group: the most negative gap for an indicator
    where higher is better (``better = "higher"`` in the catalogue, e.g. participation), the most
    positive where lower is better (flexible contracts), the most negative where neither
    (``"none"``). Ties share the lowest rank. ``of`` is the number of gemeenten with a gap;
    ``percentile`` the share (0-100) of those gemeenten where the group is better off.
    Gemeenten without a gap have ``rank = None`` and keep the reason in ``missing``.
    """

    gemeente_code: str
    gemeente_name: str
    gap: float | None
    rank: int | None
    of: int
    percentile: float | None
    missing: str | None = None


def rank_gaps(frame: pd.DataFrame, indicator: str, group: str, year: int, *,
              table_id: str | None = None, catalogue: OriginCatalogue | None = None) -> list[GapRank]:
    """Every gemeente of the frame with its gap rank (see :class:`GapRank`), rank order first,
    gemeenten without a gap last (by code)."""
    cat = catalogue or load_origin_catalogue()
    sel = frame if table_id is None else frame[frame["table_id"] == table_id]
    t = gap_table(sel, indicator, year=year, groups=[group], catalogue=cat)
    if t["table_id"].nunique() > 1:
        raise ValueError(f"{indicator} staat in meerdere tabellen: kies er een.")
    have = t[t["gap"].notna()].copy()
    of = len(have)
    # disadvantage: larger = worse off than the reference group
    have["_worse"] = have["gap"] if cat.indicators[indicator].better == "lower" else -have["gap"]
    have["rank"] = have["_worse"].rank(method="min", ascending=False).astype(int)
    better_off = have["_worse"].apply(lambda w: int((have["_worse"] < w).sum()))
    have["percentile"] = 100.0 * better_off / of if of else np.nan
    have = have.sort_values(["rank", "gemeente_code"])
    out = [GapRank(gemeente_code=r.gemeente_code, gemeente_name=r.gemeente_name, gap=float(r.gap),
                   rank=int(r.rank), of=of, percentile=float(r.percentile))
           for r in have.itertuples(index=False)]
    rest = t[t["gap"].isna()].sort_values("gemeente_code")
    out += [GapRank(gemeente_code=r.gemeente_code, gemeente_name=r.gemeente_name, gap=None, rank=None, of=of,
                    percentile=None, missing=r.missing or MISSING_NO_REFERENCE)
            for r in rest.itertuples(index=False)]
    return out
