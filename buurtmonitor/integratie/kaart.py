"""Figures by origin group on the Kaart page, as rows a choropleth can colour.

* **The gap map** (level "alle gemeenten"): for one indicator, group, year and CBS table, every
  gemeente's gap to the reference group (herkomst Nederland) in procentpunten, with the
  group's and the reference group's value, n and the gemeente's rank among all gemeenten
  (:func:`gap_map`; the ranks are :func:`buurtmonitor.integratie.measures.rank_gaps`).
* **Own data per wijk or buurt** (:func:`own_map`): one own indicator of one group in one year,
  with the small-number rule kept (a hidden value stays missing, ``klein_aantal``, never 0).

Both give a frame with the columns the map code expects (``code, name, level, value,
missing, n, small_n``) plus readable extra columns, and an :class:`~buurtmonitor.catalogue.Indicator`
that describes what is coloured. Pure functions: the data come from :func:`loaders.by_origin.load_by_origin`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from buurtmonitor import formatting
from buurtmonitor.catalogue import Indicator
from buurtmonitor.model import MISSING_LABELS, MISSING_NOT_IN_TABLE

from .catalogue import IndicatorDef, OriginCatalogue, load_origin_catalogue
from .measures import MISSING_NO_REFERENCE, GapRank, gap_table, rank_gaps

#: the theme id of the figures by origin (not a KWB theme)
THEME = "integratie"
#: columns of a map frame (as :func:`buurtmonitor.harmonise.indicator_frame` for one level)
MAP_COLUMNS = ["code", "name", "level", "value", "missing", "n", "small_n"]
#: how many years away the boundaries of a map may be from the year of the figures
BOUNDARY_YEAR_SPAN = 3
#: the default of the gap map
DEFAULT_INDICATOR = "netto_arbeidsparticipatie"
DEFAULT_GROUP = "herkomst_buiten_europa"
#: the start of the source line of a gemeente's own figures
OWN_SOURCE_PREFIX = "Bron: eigen gegevens van "


def reason_label(catalogue: OriginCatalogue | None = None):
    """A function reason key -> Dutch label: the by-origin labels of the catalogue, then the
    labels of :data:`buurtmonitor.model.MISSING_LABELS` (``niet_in_tabel``, ...)."""
    cat = catalogue or load_origin_catalogue()
    labels = {**MISSING_LABELS, **cat.missing_labels}

    def label(reason: str | None) -> str:
        return "" if reason is None else labels.get(reason, reason)

    return label


def lower_first(text: str) -> str:
    """``"Herkomst buiten Europa"`` -> ``"herkomst buiten Europa"`` (for use inside a sentence)."""
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def _f(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


# ------------------------------------------------------------------------------ choices
def gap_indicators(catalogue: OriginCatalogue | None = None) -> dict[str, list[str]]:
    """Indicator id -> the gemeente tables of the catalogue that measure it, for every
    indicator that has a gap (percentages and amounts; counts have none), catalogue order."""
    cat = catalogue or load_origin_catalogue()
    out: dict[str, list[str]] = {}
    for t in cat.tables.values():
        if t.level != "gemeente":
            continue
        for iid in t.indicator_ids:
            ind = cat.indicators.get(iid)
            if ind is not None and ind.gap_unit is not None:
                out.setdefault(iid, []).append(t.id)
    return out


def default_table(indicator: str, catalogue: OriginCatalogue | None = None) -> str:
    """The table of ``indicator`` with the newest year (the first in the catalogue on a tie)."""
    cat = catalogue or load_origin_catalogue()
    tables = gap_indicators(cat).get(indicator)
    if not tables:
        raise KeyError(f"Voor {indicator} is geen tabel per gemeente in de catalogus.")
    return max(tables, key=lambda t: (max(cat.table(t).years, default=0), -tables.index(t)))


def years_in(frame: pd.DataFrame, indicator: str, table_id: str | None = None) -> list[int]:
    """The years with gemeente figures of ``indicator``, newest first."""
    sel = frame[(frame["indicator"] == indicator) & (frame["level"] == "gemeente")]
    if table_id is not None:
        sel = sel[sel["table_id"] == table_id]
    return sorted({int(y) for y in sel["year"].dropna()}, reverse=True)


def groups_in(frame: pd.DataFrame, indicator: str, year: int, *, table_id: str | None = None,
              catalogue: OriginCatalogue | None = None) -> list[str]:
    """The groups of ``frame`` with at least one gap for ``indicator`` in ``year`` (catalogue
    order; the reference group and the total left out)."""
    cat = catalogue or load_origin_catalogue()
    sel = frame if table_id is None else frame[frame["table_id"] == table_id]
    t = gap_table(sel, indicator, year=year, catalogue=cat)
    have = set(t.loc[t["gap"].notna(), "group"])
    return [g for g in cat.groups if g in have]


def own_rows(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """The own-data rows (``api == "eigen"``) of ``level`` (wijk or buurt)."""
    if frame.empty:
        return frame
    return frame[(frame["api"] == "eigen") & (frame["level"] == level)]


def own_choices(frame: pd.DataFrame, level: str, catalogue: OriginCatalogue | None = None) -> list[tuple[str, str]]:
    """``(indicator, group)`` pairs of own data at ``level``, in catalogue order."""
    cat = catalogue or load_origin_catalogue()
    rows = own_rows(frame, level)
    pairs = set(zip(rows["indicator"], rows["group"]))
    order_i = {k: i for i, k in enumerate(cat.indicators)}
    order_g = {k: i for i, k in enumerate(cat.groups)}
    return sorted(pairs, key=lambda p: (order_i.get(p[0], 999), order_g.get(p[1], 999)))


def own_label(indicator: str, group: str, catalogue: OriginCatalogue | None = None) -> str:
    """``"Eigen gegevens — Bijstand, herkomst buiten Europa"``."""
    cat = catalogue or load_origin_catalogue()
    ind = cat.indicators[indicator].label if indicator in cat.indicators else indicator
    grp = cat.groups[group].label if group in cat.groups else group
    return f"Eigen gegevens — {ind}, {lower_first(grp)}"


# ------------------------------------------------------------------------------ gap map
@dataclass(frozen=True)
class GapMap:
    """The gap of one group for every gemeente of one table and year.

    ``frame``: :data:`MAP_COLUMNS` (``value`` = the gap, ``n`` = the group's n) plus
    ``group_value``, ``reference_value``, ``rank``, ``of``. ``ranks``: code -> :class:`GapRank`.
    ``country_gap``: the gap in the whole country (None when unknown).
    """

    indicator: IndicatorDef
    group: str
    group_label: str
    reference_group: str
    reference_label: str
    year: int
    table_id: str
    frame: pd.DataFrame
    ranks: dict[str, GapRank] = field(default_factory=dict)
    country_gap: float | None = None
    country_value: float | None = None
    country_reference_value: float | None = None

    @property
    def ranked(self) -> int:
        """Number of gemeenten with a gap (the ``of`` of every rank)."""
        return int(self.frame["value"].notna().sum())

    @property
    def unit(self) -> str:
        """The unit of the gap as shown (``"procentpunt"`` for percentages)."""
        return "procentpunt" if self.indicator.gap_unit == "pp" else (self.indicator.gap_unit or "")

    @property
    def title(self) -> str:
        """``"Netto arbeidsparticipatie: herkomst buiten Europa min herkomst Nederland"``."""
        return (f"{self.indicator.label}: {lower_first(self.group_label)} min "
                f"{lower_first(self.reference_label)}")

    def map_indicator(self) -> Indicator:
        """What the choropleth colours: the gap, in procentpunt (or the amount's unit)."""
        better = {"higher": " Een negatief verschil is een achterstand van de groep.",
                  "lower": " Een positief verschil is een achterstand van de groep."}.get(self.indicator.better, "")
        definition = (f"Verschil in {self.indicator.label.lower()}: {lower_first(self.group_label)} min "
                      f"{lower_first(self.reference_label)}, per gemeente, {self.year} ({self.table_id})."
                      f"{better} {self.indicator.definition}").strip()
        return Indicator(id=f"verschil_{self.indicator.id}_{self.group}", label=f"Verschil {self.indicator.label.lower()}",
                         theme=THEME, kind="value", unit=self.unit, definition=definition)

    def value_text(self, x: object) -> str:
        """A value of the indicator itself (``"61%"``)."""
        return indicator_value(x, self.indicator)

    def gap_text(self, x: object) -> str:
        """A gap (``"−14 procentpunt"``)."""
        return gap_value(x, self.indicator)

    def hover(self, missing_label) -> dict[str, str]:
        """code -> plain-text lines for the map's hover: value, reference value, gap, n, rank."""
        out = {}
        for r in self.frame.itertuples(index=False):
            lines = [f"{self.group_label}: {self.value_text(r.group_value)}",
                     f"{self.reference_label}: {self.value_text(r.reference_value)}"]
            if _f(r.value) is not None:
                lines.append(f"Verschil: {self.gap_text(r.value)}")
                lines.append(f"Plaats {formatting.integer(r.rank)} van {formatting.integer(r.of)}")
            else:
                lines.append(f"Verschil: geen gegevens ({missing_label(r.missing)})")
            out[str(r.code)] = "\n".join(lines)
        return out

    def table(self, missing_label) -> pd.DataFrame:
        """The readable table beside the map (rank order, gemeenten without a gap last)."""
        f = self.frame.sort_values(["rank", "code"], na_position="last")
        unit = self.indicator.unit
        return pd.DataFrame({
            "Plaats": f["rank"].astype("Int64"),
            "Code": f["code"], "Gemeente": f["name"],
            f"{self.group_label} ({unit})": f["group_value"].round(self.indicator.decimals + 1),
            f"{self.reference_label} ({unit})": f["reference_value"].round(self.indicator.decimals + 1),
            f"Verschil ({self.unit})": f["value"].round(self.indicator.decimals + 1),
            "n": f["n"],
            "Toelichting": [missing_label(m) if m else "" for m in f["missing"]],
        }).reset_index(drop=True)


def indicator_value(x: object, indicator: IndicatorDef) -> str:
    """A value of a by-origin indicator in Dutch (``"61%"``, ``"31,5 x 1 000 euro"``); ``"–"``."""
    return formatting.value(x, indicator.unit, indicator.decimals)


def gap_value(x: object, indicator: IndicatorDef) -> str:
    """A gap in Dutch, with its sign (``"−14 procentpunt"``); ``"–"`` when missing."""
    if _f(x) is None:
        return formatting.MISSING
    if indicator.gap_unit == "pp":
        return formatting.pp(x, indicator.decimals, sign=True)
    return f"{formatting.number(x, max(indicator.decimals, 1), sign=True)} {indicator.unit}".rstrip()


def gap_map(frame: pd.DataFrame, indicator: str, group: str, year: int, *, table_id: str,
            catalogue: OriginCatalogue | None = None) -> GapMap:
    """The :class:`GapMap` of ``group``'s ``indicator`` in ``year`` from table ``table_id``.

    Every gemeente of the table is in the frame: with a gap and a rank, or without (the reason
    in ``missing``: the group's value is hidden or empty, or the reference value is missing).
    """
    cat = catalogue or load_origin_catalogue()
    ind = cat.indicators[indicator]
    sel = frame[frame["table_id"] == table_id]
    t = gap_table(sel, indicator, year=year, groups=[group], catalogue=cat)
    ranks = {r.gemeente_code: r for r in rank_gaps(sel, indicator, group, year, table_id=table_id, catalogue=cat)}
    ref = cat.reference_group(str(t["scheme"].iloc[0])) if len(t) else _reference_for(cat, sel)
    rows = pd.DataFrame({
        "code": t["gemeente_code"].astype(str), "name": t["gemeente_name"].astype(str), "level": "gemeente",
        "value": t["gap"].astype(float),
        "missing": [None if pd.notna(g) else (m or MISSING_NO_REFERENCE) for m, g in zip(t["missing"], t["gap"])],
        "n": t["n"].astype(float), "small_n": False,
        "group_value": t["value"].astype(float), "reference_value": t["reference_value"].astype(float),
    })
    # gemeenten of the table without a row of the group: in the frame too, as missing
    others = sel[(sel["level"] == "gemeente") & (sel["indicator"] == indicator) & (sel["year"] == year)
                 & ~sel["gemeente_code"].isin(set(rows["code"]))].drop_duplicates("gemeente_code")
    if len(others):
        absent = pd.DataFrame({"code": others["gemeente_code"].astype(str), "name": others["gemeente_name"].astype(str),
                               "level": "gemeente", "value": float("nan"), "missing": MISSING_NOT_IN_TABLE,
                               "n": float("nan"), "small_n": False, "group_value": float("nan"),
                               "reference_value": [_value_of(sel[(sel["gemeente_code"] == c) & (sel["year"] == year)
                                                                 & (sel["indicator"] == indicator)], ref)
                                                   for c in others["gemeente_code"]]})
        absent["reference_value"] = absent["reference_value"].astype(float)
        rows = pd.concat([rows, absent], ignore_index=True).sort_values("code", kind="stable")
    rows["rank"] = [ranks[c].rank if c in ranks else None for c in rows["code"]]
    rows["rank"] = pd.to_numeric(rows["rank"], errors="coerce")
    rows["of"] = [ranks[c].of if c in ranks else None for c in rows["code"]]
    country = sel[(sel["level"] == "land") & (sel["indicator"] == indicator) & (sel["year"] == year)]
    c_val = _value_of(country, group)
    c_ref = _value_of(country, ref)
    c_gap = None if c_val is None or c_ref is None else c_val - c_ref
    return GapMap(indicator=ind, group=group, group_label=cat.groups[group].label if group in cat.groups else group,
                  reference_group=ref, reference_label=cat.groups[ref].label if ref in cat.groups else ref,
                  year=int(year), table_id=table_id, frame=rows.reset_index(drop=True), ranks=ranks,
                  country_gap=c_gap, country_value=c_val, country_reference_value=c_ref)


def _reference_for(cat: OriginCatalogue, frame: pd.DataFrame) -> str:
    schemes = sorted(frame["scheme"].dropna().unique().tolist())
    return cat.reference_group(schemes[0] if schemes else "herkomst")


def _value_of(rows: pd.DataFrame, group: str) -> float | None:
    got = rows[rows["group"] == group]
    return _f(got["value"].iloc[0]) if len(got) else None


def rank_sentence(gm: GapMap, gemeente: str, name: str, missing_label) -> str:
    """The chosen gemeente's place in words, e.g. "Ede: plaats 42 van 341 gemeenten. De netto
    arbeidsparticipatie van inwoners met herkomst buiten Europa is 61%, 14 procentpunt lager
    dan van inwoners met herkomst Nederland (75%). Plaats 1 is de grootste achterstand ..."."""
    row = gm.frame[gm.frame["code"] == gemeente]
    label = gm.indicator.label
    label_in = label[:1].lower() + label[1:]
    who, ref_who = _inhabitants(gm.group_label), _inhabitants(gm.reference_label)
    if row.empty:
        return (f"{name} ({gemeente}) staat niet in tabel {gm.table_id} van {gm.year}: "
                "de gemeente had toen misschien een andere code (gemeentelijke herindeling).")
    r = row.iloc[0]
    if _f(r["value"]) is None:
        return (f"{name}: geen plaats in de rangorde, want het verschil ontbreekt "
                f"({missing_label(r['missing'])}).")
    gap = float(r["value"])
    word = "hoger" if gap > 0 else "lager"
    size = gap_value(abs(gap), gm.indicator).lstrip("+")
    if gap == 0:
        what = f"even hoog als van {ref_who} ({gm.value_text(r['reference_value'])})"
    else:
        what = f"{size} {word} dan van {ref_who} ({gm.value_text(r['reference_value'])})"
    worst = {"higher": "de grootste achterstand (het laagste cijfer ten opzichte van "
                       f"{lower_first(gm.reference_label)})",
             "lower": "de grootste achterstand (het hoogste cijfer ten opzichte van "
                      f"{lower_first(gm.reference_label)})"}.get(gm.indicator.better,
                                                                  "het meest negatieve verschil")
    text = (f"{name}: plaats {formatting.integer(r['rank'])} van {formatting.integer(r['of'])} gemeenten. "
            f"De {label_in} van {who} is in {gm.year} {gm.value_text(r['group_value'])}, {what}. "
            f"Plaats 1 is {worst}.")
    if gm.country_gap is not None:
        text += f" In heel Nederland is het verschil {gap_value(gm.country_gap, gm.indicator)}."
    return text


def _inhabitants(group_label: str) -> str:
    """``"Herkomst buiten Europa"`` -> ``"inwoners met herkomst buiten Europa"``."""
    g = lower_first(group_label)
    if g.startswith(("herkomst", "migratieachtergrond", "nederlandse achtergrond")) or " achtergrond" in g:
        return f"inwoners met {g}"
    return f"de groep {g}"


# ------------------------------------------------------------------------------ own data
@dataclass(frozen=True)
class OwnMap:
    """One own indicator of one group per wijk or buurt in one year."""

    indicator: IndicatorDef
    group: str
    label: str
    year: int
    level: str
    frame: pd.DataFrame
    sources: tuple[str, ...]
    table_ids: tuple[str, ...]

    def map_indicator(self) -> Indicator:
        return Indicator(id=f"eigen_{self.indicator.id}_{self.group}", label=self.label, theme=THEME,
                         kind="value", unit=self.indicator.unit, definition=self.indicator.definition
                         or self.label)

    @property
    def source_line(self) -> str:
        """``"Bron: eigen gegevens van O&S Ede 2024"`` (the sources the file names, as text)."""
        return OWN_SOURCE_PREFIX + "; ".join(self.sources or ("onbekende bron",))

    def indicator_text(self, x: object) -> str:
        """A value of the indicator in Dutch (``"12%"``)."""
        return indicator_value(x, self.indicator)

    def table(self, missing_label) -> pd.DataFrame:
        f = self.frame.sort_values("code")
        return pd.DataFrame({
            "Code": f["code"], "Naam": f["name"],
            f"{self.label} ({self.indicator.unit})": f["value"].round(self.indicator.decimals + 1),
            "n": f["n"],
            "Toelichting": [missing_label(m) if m else "" for m in f["missing"]],
        }).reset_index(drop=True)


def own_years(frame: pd.DataFrame, level: str, indicator: str, group: str) -> list[int]:
    rows = own_rows(frame, level)
    rows = rows[(rows["indicator"] == indicator) & (rows["group"] == group)]
    return sorted({int(y) for y in rows["year"]}, reverse=True)


def own_map(frame: pd.DataFrame, indicator: str, group: str, year: int, level: str, *,
            catalogue: OriginCatalogue | None = None) -> OwnMap:
    """The :class:`OwnMap` of ``group``'s own ``indicator`` per ``level`` in ``year``. A value
    under the small-number rule stays missing with its reason (``klein_aantal``)."""
    cat = catalogue or load_origin_catalogue()
    rows = own_rows(frame, level)
    rows = rows[(rows["indicator"] == indicator) & (rows["group"] == group) & (rows["year"] == year)]
    rows = rows.drop_duplicates("area_code", keep="last")
    out = pd.DataFrame({
        "code": rows["area_code"].astype(str), "name": rows["area_name"].astype(str), "level": level,
        "value": rows["value"].astype(float),
        "missing": [None if pd.notna(v) else (m or "leeg") for v, m in zip(rows["value"], rows["missing"])],
        "n": rows["n"].astype(float), "small_n": False,
    }).reset_index(drop=True)
    return OwnMap(indicator=cat.indicators[indicator], group=group, label=own_label(indicator, group, cat),
                  year=int(year), level=level, frame=out,
                  sources=tuple(sorted({str(s) for s in rows["source"].dropna()})),
                  table_ids=tuple(sorted({str(t) for t in rows["table_id"].dropna()})))


# ------------------------------------------------------------------------------ boundaries
def boundary_years(year: int, span: int = BOUNDARY_YEAR_SPAN, extra: Iterable[int] = ()) -> list[int]:
    """The years to try for the boundaries of figures of ``year``: that year, then the nearest
    ones (the later first on a tie: it holds the mergers the figures may already use), then
    ``extra`` years that are not yet in the list."""
    out = [int(year)]
    for d in range(1, span + 1):
        out += [int(year) + d, int(year) - d]
    out += [int(y) for y in extra if int(y) not in out]
    return out


def boundary_note(data_year: int, boundary_year: int, level_plural: str = "gemeenten") -> str | None:
    """One line when the boundaries are of another year than the figures, else None."""
    if int(data_year) == int(boundary_year):
        return None
    return (f"De cijfers zijn van {data_year}; de kaart gebruikt de grenzen van de {level_plural} van "
            f"{boundary_year} (de dichtstbijzijnde beschikbare jaargang).")


def unmatched(frame: pd.DataFrame, codes_on_map: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(areas of the figures without a boundary on the map as ``(code, name)``, codes on the map
    without a row in the figures). Neither is dropped silently: the page lists both."""
    on_map = set(codes_on_map)
    have = set(frame["code"])
    no_shape = [(str(c), str(n)) for c, n in zip(frame["code"], frame["name"]) if c not in on_map]
    no_data = sorted(str(c) for c in on_map - have)
    return sorted(no_shape), no_data
