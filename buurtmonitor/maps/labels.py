"""Texts of a map: numbers with their unit, the short definition, the title.

Shared by the plotly map, the canvas map and the council briefing, so a value reads the same
on each of them. Pure functions, no I/O.
"""

from __future__ import annotations

import math

from buurtmonitor.catalogue import Indicator
from buurtmonitor.model import LEVEL_LABELS


def fmt_number(value: float | None, decimals: int = 1) -> str:
    """Dutch number format: ``12345.67`` -> ``"12.345,7"``; missing -> ``"–"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    s = f"{value:,.{decimals}f}"
    return s.replace(",", "\u00a0").replace(".", ",").replace("\u00a0", ".")


def decimals_for(indicator: Indicator) -> int:
    return 0 if indicator.unit == "aantal" else 1


def fmt_value(value: float | None, indicator: Indicator) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = indicator.unit
    num = fmt_number(value, decimals_for(indicator))
    if unit == "%":
        return f"{num}%"
    if unit == "aantal":
        return num
    return f"{num} {unit}"


def short_definition(text: str, limit: int = 110) -> str:
    """First sentence of a definition, cut at ``limit`` characters."""
    first = text.split(". ")[0].strip().rstrip(".")
    if len(first) > limit:
        first = first[: limit - 1].rsplit(" ", 1)[0] + "…"
    return first


def title_for(indicator: Indicator, level: str, place: str, year: int) -> str:
    """"Herkomst buiten Europa per wijk, Ede, 2024"."""
    return f"{indicator.label} per {LEVEL_LABELS.get(level, level).lower()}, {place}, {year}"
