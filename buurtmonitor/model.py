"""The shapes every loader produces and every view consumes.

An :class:`AreaTable` holds one KWB year for a set of areas: one row per area, the
harmonised variables from ``data/indicators.toml`` as float columns (NaN = missing),
and beside it a frame with *why* a value is missing (suppressed by CBS, empty, a
negative sentinel). Missing is never 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

LEVELS = ("land", "gemeente", "wijk", "buurt")
LEVEL_LABELS = {"land": "Nederland", "gemeente": "Gemeente", "wijk": "Wijk", "buurt": "Buurt"}

#: Columns that describe an area (everything else in ``AreaTable.data`` is a variable).
ID_COLUMNS = ["code", "name", "level", "gemeente_code", "gemeente_name", "wijk_code",
              "year", "indelingswijziging"]

# Why a value is missing. Keys are stored; labels are shown.
MISSING_SUPPRESSED = "geheim"        # CBS '.' : suppressed/unreliable
MISSING_EMPTY = "leeg"               # null / empty cell in the source
MISSING_SENTINEL = "geen_gegevens"   # PDOK/gpkg negative sentinel (-99995, -99997, ...)
MISSING_NOT_IN_TABLE = "niet_in_tabel"  # the variable does not exist in this year's table
MISSING_ZERO_DENOMINATOR = "noemer_nul"
MISSING_SMALL_AREA = "klein_gebied"   # hidden by the small-area rule (buurtmonitor.small_areas)
MISSING_LABELS = {
    MISSING_SUPPRESSED: "geheim of onbetrouwbaar (CBS: '.')",
    MISSING_EMPTY: "niet beschikbaar (leeg bij CBS)",
    MISSING_SENTINEL: "geen gegevens (CBS-code voor ontbrekend)",
    MISSING_NOT_IN_TABLE: "niet in de CBS-tabel van dit jaar",
    MISSING_ZERO_DENOMINATOR: "niet te berekenen (noemer is 0)",
    MISSING_SMALL_AREA: "te klein gebied: niet getoond",
}

SOURCE_CBS = "Bron: CBS"
FICTITIOUS_LABEL = "FICTIEVE VOORBEELDGEGEVENS – geen echte cijfers"


@dataclass(frozen=True)
class TableMeta:
    """Provenance of an :class:`AreaTable`."""

    year: int
    table_id: str                 # e.g. "85984NED" (or "kwb-2024.xlsx", "demo")
    table_title: str              # e.g. "Kerncijfers wijken en buurten 2024"
    scheme: str                   # "herkomst" | "migratieachtergrond"
    source_kind: str              # "cbs-odata" | "kwb-xlsx" | "kwb-csv" | "gpkg" | "demo"
    source_url: str = ""
    fetched_at: str = ""          # ISO timestamp (UTC)
    fictitious: bool = False
    scope: str = ""               # "GM0228" | "gemeenten"
    resolved_keys: dict[str, str] = field(default_factory=dict)  # variable id -> CBS key
    units: dict[str, str] = field(default_factory=dict)          # variable id -> CBS unit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TableMeta:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def source_line(self) -> str:
        """"Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED); grenzen: CBS/Kadaster via PDOK"."""
        if self.fictitious:
            return f"{FICTITIOUS_LABEL} · gegenereerd door Buurtmonitor, jaar {self.year}"
        tid = f" ({self.table_id})" if self.table_id else ""
        return (f"{SOURCE_CBS}, Kerncijfers wijken en buurten {self.year}{tid}; "
                f"grenzen: CBS/Kadaster via PDOK")


@dataclass
class AreaTable:
    """One KWB year for a set of areas.

    ``data``: columns :data:`ID_COLUMNS` + one float column per variable id.
    ``missing``: same index, one object column per variable id: a MISSING_* key where
    the value in ``data`` is NaN, else None.
    """

    data: pd.DataFrame
    missing: pd.DataFrame
    meta: TableMeta

    @property
    def variables(self) -> list[str]:
        return [c for c in self.data.columns if c not in ID_COLUMNS]

    def level(self, level: str) -> AreaTable:
        mask = self.data["level"] == level
        return replace(self, data=self.data[mask], missing=self.missing[mask])

    def select(self, mask: pd.Series) -> AreaTable:
        return replace(self, data=self.data[mask], missing=self.missing[mask])

    def row(self, code: str) -> pd.Series | None:
        hit = self.data[self.data["code"] == code]
        return None if hit.empty else hit.iloc[0]

    def missing_reason(self, code: str, variable: str) -> str | None:
        idx = self.data.index[self.data["code"] == code]
        if len(idx) == 0 or variable not in self.missing.columns:
            return None
        return self.missing.at[idx[0], variable]
