"""Fictitious own data of the Voorbeeldgemeente: indicators by origin group in the import format.

Everything here is made up, and says so in the ``bron`` of every row. The rows follow the
import format of ``docs/eigen-gegevens.md`` exactly (teller/noemer counts, ``eenheid``,
``bron``) for the gemeente, its wijken and its buurten, with the demo's real area codes and
group sizes (from :func:`buurtmonitor.synthetic.generate`), so the denominators are plausible
and small buurt groups fall under the small-number rule as real data would. The demo's own data
is these rows run through the same check as an import (:func:`demo_own_data`).
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pandas as pd

from buurtmonitor import synthetic
from buurtmonitor.harmonise import harmonise_odata
from buurtmonitor.model import AreaTable, TableMeta

from .own_catalogue import load_own_catalogue
from .own_data import AreaIndex, ImportReport, ParsedFile, validate

EXAMPLE_YEARS = (2023, 2024)
EXAMPLE_SOURCE = "FICTIEF voorbeeld: verzonnen cijfers van de Voorbeeldgemeente (Buurtmonitor), geen echte gegevens"
DEMO_SET_ID = "eigen_GM9901_fictief"

#: countries of origin, only for the gemeente (small groups): (group that contains it, share of it)
GEMEENTE_ONLY_GROUPS = {"syrie": ("buiten_europa", 0.08), "eritrea": ("buiten_europa", 0.03),
                        "polen": ("europa", 0.22)}
#: base rate per indicator and group (%, or x 1 000 euro for income) in the gemeente
BASE = {
    "netto_arbeidsparticipatie": {"nederland": 72.0, "europa": 69.0, "buiten_europa": 59.0, "syrie": 36.0,
                                  "eritrea": 40.0, "polen": 76.0},
    "werkloosheid": {"nederland": 3.0, "europa": 4.6, "buiten_europa": 8.2, "syrie": 17.0, "eritrea": 15.0,
                     "polen": 4.0},
    "bijstand": {"nederland": 2.1, "europa": 4.2, "buiten_europa": 10.5, "syrie": 42.0, "eritrea": 48.0,
                 "polen": 2.8},
    "laag_inkomen": {"nederland": 6.0, "europa": 10.5, "buiten_europa": 17.5, "syrie": 44.0, "eritrea": 46.0,
                     "polen": 9.0},
    "startkwalificatie": {"nederland": 86.0, "europa": 80.0, "buiten_europa": 74.0, "syrie": 58.0,
                          "eritrea": 55.0, "polen": 82.0},
    "voortijdig_schoolverlaters": {"nederland": 1.4, "europa": 2.4, "buiten_europa": 3.3, "syrie": 6.5,
                                   "eritrea": 7.0, "polen": 2.2},
    "gemiddeld_inkomen": {"nederland": 36.0, "europa": 32.0, "buiten_europa": 26.5, "syrie": 17.5,
                          "eritrea": 17.0, "polen": 28.0},
}
#: the part of a group the denominator counts (persons 15-75, 18-AOW, young people, ...)
BASE_SHARE = {"netto_arbeidsparticipatie": 0.72, "werkloosheid": 0.50, "bijstand": 0.60, "laag_inkomen": 0.95,
              "startkwalificatie": 0.06, "voortijdig_schoolverlaters": 0.14, "gemiddeld_inkomen": 0.45}
#: how strongly a deprived area (many residents of non-European origin) shifts the rate
AREA_EFFECT = {"netto_arbeidsparticipatie": -12.0, "werkloosheid": 4.0, "bijstand": 6.0, "laag_inkomen": 9.0,
               "startkwalificatie": -8.0, "voortijdig_schoolverlaters": 1.5, "gemiddeld_inkomen": -6.0}
_GROUP_VARIABLE = {"totaal": "inwoners", "nederland": "herkomst_nederland", "europa": "herkomst_europa",
                   "buiten_europa": "herkomst_buiten_europa"}


@functools.lru_cache(maxsize=8)
def demo_table(year: int) -> AreaTable:
    """The harmonised fictitious KWB table of ``year`` (the Voorbeeldgemeente and its areas)."""
    raw = synthetic.generate(year)
    meta = TableMeta(year=year, table_id=raw.table_id, table_title=f"Kerncijfers wijken en buurten {year} (fictief)",
                     scheme=raw.scheme, source_kind="demo", fictitious=True, scope=synthetic.DEMO_GEMEENTE)
    table = harmonise_odata(raw.rows_with_titles(), raw.data_properties, meta)
    d = table.data
    num = synthetic.DEMO_GEMEENTE[2:]
    keep = (d["code"] == synthetic.DEMO_GEMEENTE) | d["code"].str.startswith(("WK" + num, "BU" + num))
    return table.select(keep)


def demo_area_index(years: tuple[int, ...] = EXAMPLE_YEARS) -> AreaIndex:
    """The Voorbeeldgemeente's area codes and names per year, as an import checks against."""
    names = {}
    for y in years:
        d = demo_table(y).data
        names[y] = {str(c): str(n) for c, n in zip(d["code"], d["name"])}
    return AreaIndex(names, synthetic.DEMO_GEMEENTE)


def _noise(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(map(str, key)).encode()))


def _rate(indicator: str, group: str, deprivation: float, rng: np.random.Generator) -> float:
    base = BASE[indicator][group]
    value = base + AREA_EFFECT[indicator] * deprivation * (base / BASE[indicator]["buiten_europa"]) ** 0.5
    value += rng.normal(0, 0.05 * base + 0.1)
    hi = 200.0 if indicator == "gemiddeld_inkomen" else 99.5
    return float(np.clip(value, 0.1, hi))


def _buurt_cells(year: int) -> dict[tuple[str, str, str], tuple[float, int]]:
    """(buurt, group, indicator) -> (rate or teller, noemer) for every buurt of ``year``."""
    cat = load_own_catalogue()
    d = demo_table(year).data.set_index("code")
    gm = d.loc[synthetic.DEMO_GEMEENTE]
    gm_be = float(gm["herkomst_buiten_europa"] / gm["inwoners"])
    out: dict[tuple[str, str, str], tuple[float, int]] = {}
    for code in sorted(c for c in d.index if c.startswith("BU")):
        a = d.loc[code]
        inw = float(a["inwoners"])
        sizes = {}
        for g, var in _GROUP_VARIABLE.items():
            v = a.get(var)
            # a buurt whose origin counts CBS suppresses: the gemeente's shares of its residents
            sizes[g] = float(v) if pd.notna(v) else inw * float(gm[var] / gm["inwoners"])
        share_be = sizes["buiten_europa"] / inw if inw else gm_be
        deprivation = float(np.clip((share_be - gm_be) * 4, -1, 1.5))
        for ind in cat.indicators.values():
            for g in ("nederland", "europa", "buiten_europa"):
                rng = _noise(code, year, g, ind.id)
                noemer = int(round(sizes[g] * BASE_SHARE[ind.id] * rng.uniform(0.95, 1.05)))
                rate = _rate(ind.id, g, deprivation, rng)
                first = round(rate, 1) if ind.kind == "value" else min(noemer, int(round(noemer * rate / ind.unit.scale)))
                out[(code, g, ind.id)] = (first, noemer)
    return out


def example_records(years: tuple[int, ...] = EXAMPLE_YEARS) -> list[dict]:
    """Rows in the import format for the Voorbeeldgemeente: gemeente, wijken and buurten,
    every indicator of the catalogue, the groups of the herkomst scheme plus ``totaal`` (and
    at the gemeente Syrië, Eritrea and Polen). Buurt figures are invented; wijk and gemeente
    figures are their sums (teller/noemer) or weighted means (waarde), as a real source's
    would be. Deterministic.

    Returns
    -------
    list of dict
        One dict per row with the columns of the import format.
    """
    cat = load_own_catalogue()
    rows: list[dict] = []
    exclusive = ("nederland", "europa", "buiten_europa")
    for year in years:
        if synthetic.scheme_for(year) != "herkomst":
            raise ValueError(f"Het voorbeeld gebruikt de herkomstindeling (vanaf 2023), niet {year}.")
        cells = _buurt_cells(year)
        codes = list(demo_table(year).data["code"])
        order = sorted(codes, key=lambda c: ({"GM": 0, "WK": 1, "BU": 2}[c[:2]], c))
        for code in order:
            parts = sorted({b for b, _, _ in cells if b.startswith("BU" + code[2:])})
            for ind in cat.indicators.values():
                sums: dict[str, tuple[float, int]] = {}
                for g in exclusive:
                    firsts = [cells[(b, g, ind.id)] for b in parts]
                    noemer = sum(n for _, n in firsts)
                    if ind.kind == "value":
                        first = round(sum(v * n for v, n in firsts) / noemer, 1) if noemer else firsts[0][0]
                    else:
                        first = sum(v for v, _ in firsts)
                    sums[g] = (first, noemer)
                groups = {g: sums[g] for g in exclusive}
                noemer_t = sum(n for _, n in sums.values())
                if ind.kind == "value":
                    groups["totaal"] = (round(sum(v * n for v, n in sums.values()) / noemer_t, 1)
                                        if noemer_t else sums["nederland"][0], noemer_t)
                else:
                    groups["totaal"] = (sum(v for v, _ in sums.values()), noemer_t)
                if code == synthetic.DEMO_GEMEENTE:
                    for g, (parent, part) in GEMEENTE_ONLY_GROUPS.items():
                        rng = _noise(code, year, g, ind.id)
                        noemer = int(round(sums[parent][1] * part))
                        rate = _rate(ind.id, g, 0.0, rng)
                        groups[g] = (round(rate, 1) if ind.kind == "value"
                                     else min(noemer, int(round(noemer * rate / ind.unit.scale))), noemer)
                for g in ("totaal", *exclusive, *GEMEENTE_ONLY_GROUPS):
                    if g in groups:
                        rows.append(_row(code, year, g, ind.id, ind.kind, ind.unit.label, groups[g]))
    return rows


def _row(code: str, year: int, group: str, indicator: str, kind: str, unit: str,
         cell: tuple[float, int]) -> dict:
    first, noemer = cell
    row: dict = {"gebiedscode": code, "jaar": year, "herkomstgroep": group, "indicator": indicator,
                 "teller": None, "noemer": noemer, "waarde": None, "eenheid": unit, "bron": EXAMPLE_SOURCE,
                 "opmerking": None}
    if kind == "value":
        row["waarde"] = float(first)
    else:
        row["teller"] = int(first)
    return row


@functools.lru_cache(maxsize=1)
def demo_own_data() -> ImportReport:
    """The Voorbeeldgemeente's own data: :func:`example_records` checked like an import.

    Returns
    -------
    ImportReport
        Without errors; ``frame`` is the fictitious by-origin long frame.
    """
    report = validate(ParsedFile.from_records(example_records()), demo_area_index(), set_id=DEMO_SET_ID)
    if not report.ok:  # the generator and the check disagree: a bug, never shown as data
        raise RuntimeError("Fictieve eigen gegevens kloppen niet: " + "; ".join(map(str, report.errors[:5])))
    return report
