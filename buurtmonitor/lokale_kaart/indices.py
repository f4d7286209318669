"""The lokale-kaart analysis for one gemeente: segregation and diversity measures set
against all gemeenten, change signals between two years of the same scheme, and spatial
clusters. Glue between the tables handed in and :mod:`segregation`, :mod:`change`; used by
the page, the briefing and ``python -m buurtmonitor indices``."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import pandas as pd

from buurtmonitor.catalogue import load_catalogue, load_lokale_kaart
from buurtmonitor.lokale_kaart import change, segregation
from buurtmonitor.lokale_kaart.segregation import SegregationMeasures
from buurtmonitor.model import AreaTable

#: the two groups of the two-group dissimilarity index, per scheme
PAIRS = {"herkomst": ("herkomst_nederland", "herkomst_buiten_europa"),
         "migratieachtergrond": ("nederlandse_achtergrond", "niet_westers")}


def origin_counts(table: AreaTable, level: str) -> tuple[pd.DataFrame, pd.Series, dict[str, str]]:
    """(counts of the exclusive origin groups per area, inwoners, labels) for ``level``."""
    cat = load_catalogue()
    scheme = cat.schemes[table.meta.scheme]
    groups = scheme.exclusive_groups
    d = table.data[table.data["level"] == level].set_index("code")
    counts = d[[g.variable for g in groups]].astype(float)
    labels = {g.variable: segregation.group_label(g.variable) for g in groups}
    return counts, d["inwoners"].astype(float), labels


@dataclass(frozen=True)
class GemeenteMeasures(SegregationMeasures):
    """:class:`~segregation.SegregationMeasures` of one gemeente over its ``level`` areas
    (each area with its ``name``), with where they come from and, when every area of the
    country was handed in, the :class:`~segregation.NationalComparison`. ``national_error``:
    a Dutch line when that comparison could not be made (set by the page)."""

    gemeente: str = ""
    year: int = 0
    level: str = ""
    scheme: str = ""
    source: str = ""
    fictitious: bool = False
    national: segregation.NationalComparison | None = None
    national_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form: the output of ``python -m buurtmonitor indices --format json``."""
        out = self._core_dict(with_names=True)
        out.update({"gemeente": self.gemeente, "year": self.year, "level": self.level,
                    "scheme": self.scheme, "source": self.source, "fictitious": self.fictitious,
                    "national": self.national.to_dict() if self.national is not None else None})
        return out


def national_comparison(value_of: SegregationMeasures, national: AreaTable, level: str,
                        pair: tuple[str, str]) -> segregation.NationalComparison:
    """``value_of`` among all gemeenten of ``national`` (every area of the country), on
    ``level``: the same closed forms per gemeente, gemeenten with at least two areas."""
    a, b = pair
    nat_counts, _nat_total, _ = origin_counts(national, level)
    gm_codes = national.data[national.data["level"] == level].set_index("code")["gemeente_code"]
    by_gm = segregation.split_by_gemeente(nat_counts, gm_codes.reindex(nat_counts.index))
    dist = segregation.measures_for_gemeenten(by_gm, a, b)
    dist = dist[dist["n_areas"] >= 2]
    keys = segregation.NATIONAL_MEASURES
    return segregation.NationalComparison(
        ranks={k: segregation.rank_against(value_of.value(k), dist[k]) for k in keys},
        n_gemeenten=int(len(dist)), median={k: float(dist[k].median()) for k in keys})


def measures(table: AreaTable, gemeente: str, level: str,
             national: AreaTable | None = None) -> GemeenteMeasures:
    """All segregation/diversity measures for ``gemeente`` over its ``level`` areas, with the
    rank among all gemeenten when ``national`` (every area of the country) is given.

    Raises
    ------
    LookupError
        When ``table`` has no ``level`` areas of ``gemeente``.
    """
    scheme = table.meta.scheme
    a, b = PAIRS[scheme]
    sub = table.select(table.data["gemeente_code"] == gemeente)
    counts, total, labels = origin_counts(sub, level)
    if counts.empty:
        raise LookupError(f"Geen {level}en gevonden voor {gemeente} in {table.meta.year}.")
    base = segregation.compute_all(counts, a, b, total=total, labels=labels)
    names = sub.data.set_index("code")["name"]
    areas = tuple(replace(area, name=names.get(area.code)) for area in base.areas)
    core = {f.name: getattr(base, f.name) for f in fields(SegregationMeasures)}
    core["areas"] = areas
    nat = national_comparison(base, national, level, (a, b)) if national is not None else None
    return GemeenteMeasures(**core, gemeente=gemeente, year=table.meta.year, level=level,
                            scheme=scheme, source=table.meta.source_line(),
                            fictitious=table.meta.fictitious, national=nat)


def change_signals(table_a: AreaTable, table_b: AreaTable, gemeente: str, level: str,
                   **thresholds) -> change.ChangeResult:
    """Change signals between two years for the ``level`` areas of ``gemeente``; raises
    :class:`change.SchemeBreakError` across the 2022→2023 break."""
    sub_a = table_a.select(table_a.data["gemeente_code"] == gemeente)
    sub_b = table_b.select(table_b.data["gemeente_code"] == gemeente)
    ca, ta, labels = origin_counts(sub_a, level)
    cb, tb, _ = origin_counts(sub_b, level) if table_b.meta.scheme == table_a.meta.scheme else (ca, ta, labels)
    return change.compare_years(ca, cb, year_a=table_a.meta.year, year_b=table_b.meta.year,
                                scheme_a=table_a.meta.scheme, scheme_b=table_b.meta.scheme,
                                total_a=ta, total_b=tb, labels=labels, **thresholds)


def previous_comparable_year(year: int, years: list[int]) -> int | None:
    """The latest earlier year of the same origin scheme, or None at a scheme break."""
    cat = load_catalogue()
    scheme = cat.scheme_for_year(year)
    earlier = [y for y in years if y < year and cat.scheme_for_year(y) == scheme]
    return max(earlier) if earlier else None


def format_indices(result: GemeenteMeasures) -> str:
    """Plain-text rendering for the terminal (Dutch)."""
    ex = load_lokale_kaart().measures
    lines = [f"Segregatie en diversiteit · {result.gemeente} · {result.year} · {result.level}en "
             f"({result.n_areas} gebieden, {len(result.dropped)} weggelaten)",
             f"Groepen: {', '.join(result.labels[g] for g in result.groups)}"]
    a, b = result.pair

    def fmt(v):
        return "–" if v is None else f"{v:.4f}"
    lines.append(f"Ongelijkheidsindex D ({result.labels[a]} / {result.labels[b]}): {fmt(result.dissimilarity)}")
    lines.append(f"Meergroeps-D: {fmt(result.multigroup_dissimilarity)}")
    lines.append(f"Theils H (entropie-index): {fmt(result.theil_h)}")
    for g, v in result.isolation.items():
        lines.append(f"Isolatie {result.labels[g]}: {fmt(v)}")
    if result.national is not None:
        for key in segregation.NATIONAL_MEASURES:
            lines.append(f"  {ex[key].label if key in ex else key}: {result.national.ranks[key].text}")
    for w in result.warnings:
        lines.append(f"Let op: {w}")
    lines.append(result.caveat)
    lines.append(result.source)
    return "\n".join(lines)
