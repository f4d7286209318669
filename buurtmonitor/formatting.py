"""Numbers, percentages and labels the Dutch way: the one formatter of the project.

Every table, grid, legend, hover text, CSV/XLSX cell, sentence and export uses these
functions, so a number reads the same everywhere: thousands with a dot, decimals with a
comma (``12.345,7``), a real minus sign (``−1,4``), a missing value as ``–`` (never 0).

Examples
--------
>>> number(12345.67)
'12.345,7'
>>> number(-1.44, 1)
'−1,4'
>>> percent(0.177)
'17,7%'
>>> value(61.0, "%")
'61,0%'
>>> value(299000, "euro", decimals=0)
'€ 299.000'
>>> pp(-14.2)
'−14,2 procentpunt'
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"
MINUS = "\u2212"
#: plurals of the area levels, as a sentence needs them
LEVEL_PLURALS = {"land": "landen", "gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}


def to_float(x: Any) -> float | None:
    """``x`` as a finite float, or None when it is missing, not a number or infinite."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def is_missing(x: Any) -> bool:
    """True for None, NaN, pandas NA and anything that is not a finite number."""
    return to_float(x) is None


def number(x: Any, decimals: int = 1, *, sign: bool = False) -> str:
    """Dutch number: ``12345.67`` -> ``"12.345,7"``; missing -> ``"–"``.

    Parameters
    ----------
    x : number or None
    decimals : int
        Digits after the comma.
    sign : bool
        Write ``+`` before a positive number (for differences).
    """
    f = to_float(x)
    if f is None:
        return MISSING
    s = f"{abs(f):,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    if f < 0 and s.strip("0,.") != "":
        return MINUS + s
    if sign and f > 0 and s.strip("0,.") != "":
        return "+" + s
    return s


def integer(x: Any) -> str:
    """A whole number: ``10210.0`` -> ``"10.210"``."""
    return number(x, 0)


def smart(x: Any, decimals: int = 1) -> str:
    """A whole number without decimals, any other with ``decimals`` (table cells)."""
    f = to_float(x)
    if f is None:
        return MISSING
    return number(f, 0 if float(f).is_integer() else decimals)


def percent(fraction: Any, decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.177`` -> ``"17,7%"``."""
    f = to_float(fraction)
    return MISSING if f is None else f"{number(100.0 * f, decimals)}%"


def pp(diff: Any, decimals: int = 1, *, sign: bool = False) -> str:
    """A difference of percentages: ``-14.2`` -> ``"−14,2 procentpunt"``."""
    f = to_float(diff)
    return MISSING if f is None else f"{number(f, decimals, sign=sign)} procentpunt"


def index(x: Any) -> str:
    """A 0–1 index as shown beside the segregation measures (three decimals: ``0,326``)."""
    return number(x, 3)


def z_score(z: Any) -> str:
    """A z-score with a real minus sign and one decimal: ``−1,4``."""
    return number(z, 1, sign=True)


#: units that CBS publishes scaled -> (factor, the unit as people read it): a WOZ value of
#: ``299.0`` "x 1 000 euro" is read as "€ 299.000"
SCALED_UNITS = {"x 1 000 euro": (1000.0, "euro"), "x 1000 euro": (1000.0, "euro")}
#: units as people write them in a sentence or a column header
UNIT_WORDS = {"per 1 000 inwoners": "per 1.000 inwoners", "euro": "€", "aantal": "aantal"}


def readable(x: Any, unit: str) -> tuple[float | None, str]:
    """``(value, unit)`` as people read them: ``(299.0, "x 1 000 euro")`` ->
    ``(299000.0, "euro")``; other units unchanged; a missing value -> ``(None, unit)``."""
    f = to_float(x)
    factor, plain = SCALED_UNITS.get(unit, (1.0, unit))
    return (None if f is None else f * factor), plain


def unit_label(unit: str) -> str:
    """A unit as a column header or axis title shows it: ``"x 1 000 euro"`` -> ``"€"``,
    ``"per 1 000 inwoners"`` -> ``"per 1.000 inwoners"``, ``"%"`` -> ``"%"``."""
    plain = SCALED_UNITS.get(unit, (1.0, unit))[1]
    return UNIT_WORDS.get(plain, plain)


def decimals_for_unit(unit: str) -> int:
    """Decimals an indicator of ``unit`` is shown with."""
    return 0 if unit in ("aantal", "euro", "personen", "huishoudens", "woningen") else 1


def value(x: Any, unit: str, decimals: int | None = None) -> str:
    """A value with its unit as people read it: ``"61,0%"``, ``"€ 299.000"`` (also for
    ``value(299.0, "x 1 000 euro")``), ``"12.345"``, ``"3,4 per 1.000 inwoners"``; missing
    -> ``"–"``."""
    f, unit = readable(x, unit)
    if f is None:
        return MISSING
    d = decimals_for_unit(unit) if decimals is None else decimals
    num = number(f, d)
    if unit == "%":
        return f"{num}%"
    if unit in ("aantal", ""):
        return num
    if unit == "euro":
        return f"€ {num}"
    return f"{num} {UNIT_WORDS.get(unit, unit)}"


def level_plural(level: str) -> str:
    """``"wijk"`` -> ``"wijken"``."""
    return LEVEL_PLURALS.get(level, level)


def csv_number(x: Any) -> str:
    """A number in a Dutch CSV cell (``;``-separated): decimal comma, no thousands dot, a
    whole number without ``,0`` (``10210``, ``27,8``); missing -> empty."""
    f = to_float(x)
    if f is None:
        return ""
    if float(f).is_integer():
        return str(int(f))
    text = f"{f:.10f}".rstrip("0").rstrip(".")
    return (text if text not in ("", "-0") else "0").replace(".", ",")
