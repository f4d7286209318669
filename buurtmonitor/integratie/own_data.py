"""Validation and harmonisation of a gemeente's own figures by origin group ("eigen gegevens").

Pure: it takes rows that :mod:`loaders.own_data` has read from a CSV or XLSX file (or that a
generator made) and the area codes of the gemeente's KWB table, checks every row, and gives an
:class:`ImportReport`: every error with the row number as the user sees it in the file, the
warnings, and (only when there is no error at all) the harmonised long frame. The format is
documented in ``docs/eigen-gegevens.md``.

The long frame has the columns of the CBS by-origin frame (:data:`LONG_COLUMNS`) plus
:data:`OWN_EXTRA_COLUMNS`. Small numbers: a value that rests on fewer than :data:`MIN_N`
persons (its ``noemer``) is kept as missing with reason :data:`MISSING_SMALL_N`; its value,
teller and noemer are not kept, so it can never be shown as 0 or as the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pandas as pd

from buurtmonitor import formatting
from buurtmonitor.catalogue import load_catalogue

from .own_catalogue import OwnCatalogue, OwnIndicator, load_own_catalogue

#: a value resting on fewer persons (its noemer) than this is not shown: "te klein aantal"
#: (the minimum the Buurtmonitor Integratie used)
MIN_N = 10
#: the reason in the ``missing`` column for a value below :data:`MIN_N`
MISSING_SMALL_N = "te klein aantal"
#: the ``api`` column of rows that come from an import of own data
API_OWN = "eigen"

#: columns of the by-origin long frame shared with the CBS side
LONG_COLUMNS = ("gemeente_code", "gemeente_name", "year", "group", "indicator", "value", "n", "unit",
                "table_id", "api", "missing")
#: columns own data adds to the long frame
OWN_EXTRA_COLUMNS = ("area_code", "area_name", "level", "source", "numerator", "denominator", "note")
FRAME_COLUMNS = LONG_COLUMNS + OWN_EXTRA_COLUMNS

#: the columns of the import format, in the documented order
FILE_COLUMNS = ("gebiedscode", "jaar", "herkomstgroep", "indicator", "teller", "noemer", "waarde",
                "eenheid", "bron", "opmerking")
REQUIRED_COLUMNS = ("gebiedscode", "jaar", "herkomstgroep", "indicator", "eenheid", "bron")
NUMBER_COLUMNS = ("teller", "noemer", "waarde")
MAX_TEXT = 300                  # characters in bron / opmerking
MAX_DIGITS = 15                 # significant digits a number may have (a double keeps 15 exactly)
MAX_ABS = 1e15                  # larger numbers are refused (no count or share is that large)
YEAR_RANGE = (1990, 2100)
LEVELS = {"GM": "gemeente", "WK": "wijk", "BU": "buurt"}
_CODE = re.compile(r"(GM\d{4}|WK\d{6}|BU\d{8})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


# ============================================================================ inputs
@dataclass(frozen=True)
class ParsedRow:
    """One data row of a file: its number as the user sees it (header included) and its cells."""

    number: int
    cells: tuple[object, ...]


@dataclass(frozen=True)
class ParsedFile:
    """A file's header and data rows, as read (cells are str, int, float, None, ...)."""

    header: tuple[str, ...]
    rows: tuple[ParsedRow, ...]
    header_row: int = 1

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]]) -> ParsedFile:
        """Rows given as dicts with the column names of :data:`FILE_COLUMNS` (row 1 = header)."""
        rows = tuple(ParsedRow(i + 2, tuple(r.get(c) for c in FILE_COLUMNS)) for i, r in enumerate(records))
        return cls(header=FILE_COLUMNS, rows=rows)


@dataclass(frozen=True)
class AreaIndex:
    """The areas an import may name, per year: ``names[year][code] = name`` (from the KWB table
    of the gemeente; gemeente, wijk and buurt codes)."""

    names: Mapping[int, Mapping[str, str]]
    gemeente: str = ""

    def label(self) -> str:
        """How messages name the gemeente: ``"Ede (GM0228)"`` (or ``"de gemeente"``)."""
        if not self.gemeente:
            return "de gemeente"
        name = next((n.get(self.gemeente) for n in self.names.values() if n.get(self.gemeente)), None)
        return f"{name} ({self.gemeente})" if name else self.gemeente

    def name(self, year: int, code: str) -> str | None:
        return self.names.get(year, {}).get(code)

    def has_year(self, year: int) -> bool:
        return year in self.names


# ============================================================================ results
@dataclass(frozen=True)
class RowMessage:
    """A problem in one row (``row`` = number in the file; 0 = the file as a whole)."""

    row: int
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"Rij {self.row}" if self.row else "Bestand"
        col = f" (kolom {self.column})" if self.column else ""
        return f"{where}{col}: {self.message}"


@dataclass(frozen=True)
class ImportReport:
    """What validating a file gave.

    ``frame`` is the harmonised long frame (:data:`FRAME_COLUMNS`) and is empty whenever there
    is any error: on an error nothing is imported.
    """

    errors: tuple[RowMessage, ...]
    warnings: tuple[str, ...]
    rows_read: int
    rows_accepted: int
    small_n: int
    frame: pd.DataFrame = field(repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def gemeenten(self) -> list[str]:
        return sorted(self.frame["gemeente_code"].unique()) if len(self.frame) else []

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.frame["year"].unique()) if len(self.frame) else []

    @property
    def indicators(self) -> list[str]:
        return sorted(self.frame["indicator"].unique()) if len(self.frame) else []

    def summary(self) -> str:
        """One Dutch paragraph: what was accepted (or how many errors there are)."""
        if self.errors:
            return (f"{formatting.integer(len(self.errors))} fout(en) in {formatting.integer(self.rows_read)} "
                    "rijen; er is niets ingelezen.")
        f = self.frame
        levels = ", ".join(f"{lv} {formatting.integer(int((f['level'] == lv).sum()))}"
                           for lv in ("gemeente", "wijk", "buurt") if (f["level"] == lv).any())
        return (f"{formatting.integer(self.rows_accepted)} rijen goedgekeurd (niveau {levels}); jaren "
                f"{', '.join(map(str, self.years))}; indicatoren {', '.join(self.indicators)}; "
                f"{formatting.integer(self.small_n)} waarde(n) op minder dan {MIN_N} personen "
                f"getoond als '{MISSING_SMALL_N}'.")


def empty_frame() -> pd.DataFrame:
    """A long frame without rows, with the columns and dtypes of a harmonised one."""
    return _frame([])


# ============================================================================ numbers
class NumberError(ValueError):
    """A cell is not a usable number (message in Dutch)."""


_PLAIN = re.compile(r"[+-]?\d+")
_ONE_SEP = re.compile(r"[+-]?(\d+)([.,])(\d+)")
_AMBIGUOUS = re.compile(r"[+-]?[1-9]\d{0,2}[.,]\d{3}")
_DOT_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?")
_COMMA_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?")
_SCIENTIFIC = re.compile(r"[+-]?\d+([.,]\d+)?[eE][+-]?\d+")
_NON_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "-nan", "+nan"}


def _clean_number_text(text: str) -> str:
    t = text.strip().replace("\u2212", "-").replace("\u00a0", "")
    if t.endswith("%"):
        t = t[:-1].strip()
    return t


def decimal_evidence(text: str) -> str | None:
    """Which decimal mark a number text proves: ``","``, ``"."`` or None (no proof)."""
    t = _clean_number_text(text)
    if _AMBIGUOUS.fullmatch(t) or _PLAIN.fullmatch(t):
        return None
    if _DOT_GROUPS.fullmatch(t):
        return ","
    if _COMMA_GROUPS.fullmatch(t):
        return "."
    m = _ONE_SEP.fullmatch(t)
    if m:
        return m.group(2)
    return None


def parse_number(cell: object, decimal: str | None = None) -> float | None:
    """A cell as a finite float (None when empty).

    Parameters
    ----------
    cell : object
        A str (decimal comma or point, thousands dots/commas), int or float.
    decimal : {",", ".", None}
        The decimal mark the file uses, when known: it decides ``1.234`` and ``1,234``;
        without it such a number is refused.

    Raises
    ------
    NumberError
        When the cell is not a finite number of at most :data:`MAX_DIGITS` digits.
    """
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise NumberError(f"'{cell}' is geen getal")
    if isinstance(cell, (datetime, date, time)):
        raise NumberError(f"'{cell}' is een datum of tijd, geen getal")
    if isinstance(cell, int):
        if abs(cell) >= MAX_ABS:
            raise NumberError(f"{cell} is te groot (meer dan {MAX_DIGITS} cijfers)")
        return float(cell)
    if isinstance(cell, float):
        if not math.isfinite(cell):
            raise NumberError("geen eindig getal (oneindig of 'NaN')")
        if abs(cell) >= MAX_ABS:
            raise NumberError(f"{cell:g} is te groot (meer dan {MAX_DIGITS} cijfers)")
        return cell
    text = _clean_number_text(str(cell))
    if not text:
        return None
    shown = str(cell).strip()
    if text.casefold() in _NON_FINITE:
        raise NumberError(f"'{shown}' is geen eindig getal")
    if sum(ch.isdigit() for ch in text.split("e")[0].split("E")[0]) > MAX_DIGITS:
        raise NumberError(f"'{shown}' heeft te veel cijfers (meer dan {MAX_DIGITS})")
    if _PLAIN.fullmatch(text):
        value = float(text)
    elif _AMBIGUOUS.fullmatch(text):
        sep = "." if "." in text else ","
        if decimal is None:
            mark = "punt" if sep == "." else "komma"
            raise NumberError(
                f"'{shown}' is niet eenduidig: {text.replace(sep, '')} (met de {mark} als duizendtalscheiding) "
                f"of {text.replace(sep, ',')} (met de {mark} als decimaalteken)? Schrijf het getal zonder "
                "duizendtalscheiding, of gebruik één decimaalteken in het hele bestand")
        value = float(text.replace(",", ".") if sep == decimal else text.replace(sep, ""))
    elif _DOT_GROUPS.fullmatch(text):
        value = float(text.replace(".", "").replace(",", "."))
    elif _COMMA_GROUPS.fullmatch(text):
        value = float(text.replace(",", ""))
    elif _ONE_SEP.fullmatch(text):
        value = float(text.replace(",", "."))
    elif _SCIENTIFIC.fullmatch(text):
        value = float(text.replace(",", "."))
    else:
        raise NumberError(f"'{shown}' is geen getal")
    if not math.isfinite(value):
        raise NumberError(f"'{shown}' is geen eindig getal")
    if abs(value) >= MAX_ABS:
        raise NumberError(f"'{shown}' is te groot (meer dan {MAX_DIGITS} cijfers)")
    return value


def file_decimal(parsed: ParsedFile, columns: Sequence[int]) -> tuple[str | None, bool]:
    """The decimal mark the number cells of a file prove, and whether they contradict each
    other (both a comma and a point proven: then an ambiguous number stays refused)."""
    seen: set[str] = set()
    for row in parsed.rows:
        for i in columns:
            cell = row.cells[i] if i < len(row.cells) else None
            if isinstance(cell, str):
                ev = decimal_evidence(cell)
                if ev:
                    seen.add(ev)
    if len(seen) == 1:
        return next(iter(seen)), False
    return None, len(seen) > 1


# ============================================================================ validation
def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return _CONTROL.sub(" ", str(cell)).strip()


def _year(cell: object) -> int:
    if isinstance(cell, bool) or cell is None:
        raise ValueError
    if isinstance(cell, float):
        if not cell.is_integer():
            raise ValueError
        cell = int(cell)
    text = str(cell).strip()
    if not re.fullmatch(r"\d{4}", text):
        raise ValueError
    y = int(text)
    if not YEAR_RANGE[0] <= y <= YEAR_RANGE[1]:
        raise ValueError
    return y


def _header_key(name: object) -> str:
    return _text(name).lstrip("\ufeff").strip().casefold()


def validate(parsed: ParsedFile, areas: AreaIndex, *, set_id: str = "",
             catalogue: OwnCatalogue | None = None) -> ImportReport:
    """Check every row of ``parsed`` and harmonise it (all or nothing).

    Parameters
    ----------
    parsed : ParsedFile
        Header and rows as read from the file.
    areas : AreaIndex
        The gemeente's area codes (and names) per year, from its KWB table.
    set_id : str
        Written to the ``table_id`` column (the id of the imported set).
    catalogue : OwnCatalogue, optional
        Indicators, units and groups (default: the packaged catalogue).

    Returns
    -------
    ImportReport
        Every error (with the row number in the file) and warning; the harmonised frame only
        when there is no error.
    """
    cat = catalogue or load_own_catalogue()
    errors: list[RowMessage] = []
    warnings: list[str] = []
    keys = [_header_key(h) for h in parsed.header]
    index: dict[str, int] = {}
    for i, k in enumerate(keys):
        if not k:
            continue
        if k in index:
            errors.append(RowMessage(parsed.header_row, f"de kolom '{k}' staat twee keer in de kopregel"))
        index.setdefault(k, i)
    missing_cols = [c for c in REQUIRED_COLUMNS if c not in index]
    if missing_cols:
        errors.append(RowMessage(parsed.header_row, "de kopregel mist de kolom(men) "
                                 + ", ".join(f"'{c}'" for c in missing_cols)
                                 + f" (verwacht: {', '.join(FILE_COLUMNS)})"))
    if "waarde" not in index and not ("teller" in index and "noemer" in index):
        errors.append(RowMessage(parsed.header_row, "de kopregel heeft geen kolom 'waarde' en ook niet "
                                 "de kolommen 'teller' en 'noemer'"))
    unused = [h for h, k in zip(parsed.header, keys) if k and k not in FILE_COLUMNS]
    if unused:
        warnings.append("Deze kolommen worden niet gebruikt: " + ", ".join(f"'{_text(h)}'" for h in unused) + ".")
    if errors:
        return _report(errors, warnings, len(parsed.rows), [], 0)

    def cell(row: ParsedRow, name: str) -> object:
        i = index.get(name)
        if i is None or i >= len(row.cells):
            return None
        v = row.cells[i]
        return None if isinstance(v, str) and not v.strip() else v

    decimal, contradictory = file_decimal(parsed, [index[c] for c in NUMBER_COLUMNS if c in index])
    schemes = load_catalogue()
    seen: dict[tuple[str, int, str, str], int] = {}
    records: list[dict] = []
    no_n = small_n = 0
    other_scheme: dict[tuple[str, str], int] = {}
    rows_read = 0
    for row in parsed.rows:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in row.cells):
            continue
        rows_read += 1
        row_errors: list[RowMessage] = []

        def err(message: str, column: str | None = None, _row: ParsedRow = row,
                _errs: list[RowMessage] = row_errors) -> None:
            _errs.append(RowMessage(_row.number, message, column))

        # ---- identification
        code = _text(cell(row, "gebiedscode")).upper().replace(" ", "")
        year: int | None = None
        raw_year = cell(row, "jaar")
        if raw_year is None:
            err("jaar ontbreekt", "jaar")
        else:
            try:
                year = _year(raw_year)
            except ValueError:
                err(f"'{_text(raw_year)}' is geen jaartal ({YEAR_RANGE[0]}–{YEAR_RANGE[1]})", "jaar")
        if not code:
            err("gebiedscode ontbreekt", "gebiedscode")
        elif not _CODE.fullmatch(code):
            err(f"'{_text(cell(row, 'gebiedscode'))}' is geen gebiedscode (verwacht GM + 4 cijfers, WK + 6 "
                "of BU + 8, zoals GM0228, WK022801, BU02280101)", "gebiedscode")
        elif year is not None:
            if not areas.has_year(year):
                err(f"voor {year} is geen CBS-gebiedsindeling van {areas.label()} beschikbaar", "jaar")
            elif areas.name(year, code) is None:
                other = "GM" + code[2:6]
                hint = (f" (de code hoort bij gemeente {other})"
                        if areas.gemeente and other != areas.gemeente else "")
                err(f"gebiedscode {code} bestaat niet in de CBS-gebiedsindeling {year} van {areas.label()}{hint}",
                    "gebiedscode")
        raw_group = _text(cell(row, "herkomstgroep"))
        group = cat.find_group(raw_group) if raw_group else None
        if not raw_group:
            err("herkomstgroep ontbreekt", "herkomstgroep")
        elif group is None:
            err(f"onbekende herkomstgroep '{raw_group}' (gebruik een id of naam uit de catalogus; "
                f"bekend: {', '.join(cat.groups)})", "herkomstgroep")
        raw_ind = _text(cell(row, "indicator"))
        ind = cat.find_indicator(raw_ind) if raw_ind else None
        if not raw_ind:
            err("indicator ontbreekt", "indicator")
        elif ind is None:
            err(f"onbekende indicator '{raw_ind}' (bekend: {', '.join(cat.indicators)})", "indicator")
        raw_unit = _text(cell(row, "eenheid"))
        if not raw_unit:
            err("eenheid ontbreekt", "eenheid")
        elif ind is not None and not ind.unit.matches(raw_unit):
            err(f"eenheid '{raw_unit}' past niet bij indicator {ind.id} (verwacht: '{ind.unit.label}')", "eenheid")
        source = _text(cell(row, "bron"))
        if not source:
            err("bron ontbreekt", "bron")
        elif len(source) > MAX_TEXT:
            err(f"bron is langer dan {MAX_TEXT} tekens", "bron")
        note = _text(cell(row, "opmerking"))
        if len(note) > MAX_TEXT:
            err(f"opmerking is langer dan {MAX_TEXT} tekens", "opmerking")

        # ---- numbers
        nums: dict[str, float | None] = {}
        for col in NUMBER_COLUMNS:
            try:
                nums[col] = parse_number(cell(row, col), decimal)
            except NumberError as exc:
                msg = str(exc)
                if contradictory and "niet eenduidig" in msg:
                    msg += " (het bestand gebruikt zowel een komma als een punt als decimaalteken)"
                err(msg, col)
                nums[col] = math.nan  # marks a bad cell: no follow-up messages about it
            raw_num = cell(row, col)
            if isinstance(raw_num, str) and raw_num.strip().endswith("%") and not math.isnan(nums[col] or 0):
                if col != "waarde":
                    err(f"'{raw_num.strip()}': een {col} is een aantal personen, geen percentage", col)
                    nums[col] = math.nan
                elif ind is not None and ind.unit.label != "%":
                    err(f"'{raw_num.strip()}' is een percentage, maar de eenheid van {ind.id} is "
                        f"'{ind.unit.label}'", col)
                    nums[col] = math.nan
        teller, noemer, waarde = nums["teller"], nums["noemer"], nums["waarde"]
        bad = any(v is not None and math.isnan(v) for v in nums.values())
        value: float | None = None
        for col in ("teller", "noemer"):
            v = nums[col]
            if v is not None and v < 0:
                err(f"{col} is negatief ({formatting.number(v, 0)}); een aantal personen kan niet "
                    "negatief zijn", col)
                bad = True
        if not bad and ind is not None:
            value = _value(ind, teller, noemer, waarde, err)
        if value is not None and ind is not None:
            lo, hi = ind.unit.min, ind.unit.max
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                rng = f"{formatting.number(lo, 0)}–{formatting.number(hi, 0)}"
                err(f"waarde {formatting.number(value, 2)} ligt buiten het bereik van de eenheid "
                    f"'{ind.unit.label}' ({rng})", "waarde" if waarde is not None else "teller")

        # ---- duplicates
        if code and year is not None and group is not None and ind is not None:
            key = (code, year, group.id, ind.id)
            if key in seen:
                err(f"dubbel: {code}, {year}, {group.id}, {ind.id} staat ook in rij {seen[key]}")
            else:
                seen[key] = row.number

        if row_errors:
            errors.extend(row_errors)
            continue
        assert year is not None and group is not None and ind is not None
        scheme = schemes.scheme_for_year(year)
        if group.scheme is not None and group.scheme != scheme:
            other_scheme[(group.id, group.scheme)] = other_scheme.get((group.id, group.scheme), 0) + 1
        n = noemer
        missing = None
        if n is None:
            no_n += 1
        elif n < MIN_N:
            small_n += 1
            missing = MISSING_SMALL_N
        gm = "GM" + code[2:6]
        records.append({
            "gemeente_code": gm, "gemeente_name": areas.name(year, gm) or "", "year": year,
            "group": group.id, "indicator": ind.id,
            "value": None if missing else value, "n": None if missing else n, "unit": ind.unit.label,
            "table_id": set_id, "api": API_OWN, "missing": missing,
            "area_code": code, "area_name": areas.name(year, code) or "", "level": LEVELS[code[:2]],
            "source": source, "numerator": None if missing else teller,
            "denominator": None if missing else noemer, "note": note or None,
        })
    if rows_read == 0 and not errors:
        errors.append(RowMessage(0, "het bestand bevat geen gegevensrijen onder de kopregel"))
    if small_n:
        warnings.append(f"{formatting.integer(small_n)} waarde(n) rusten op minder dan {MIN_N} personen; "
                        f"die worden getoond als '{MISSING_SMALL_N}', niet als getal.")
    if no_n:
        warnings.append(f"{formatting.integer(no_n)} rij(en) hebben geen noemer: daar kan niet worden "
                        f"gecontroleerd of de waarde op minstens {MIN_N} personen rust.")
    for (gid, sid), count in sorted(other_scheme.items()):
        warnings.append(f"Herkomstgroep {gid} hoort bij de CBS-indeling '{sid}', die voor het jaar van "
                        f"{formatting.integer(count)} rij(en) niet geldt; vergelijk zulke cijfers niet "
                        "zonder meer met CBS-cijfers van dat jaar.")
    return _report(errors, warnings, rows_read, records, small_n)


def _value(ind: OwnIndicator, teller: float | None, noemer: float | None, waarde: float | None,
           err) -> float | None:
    """The value of a row from teller/noemer or waarde; reports a wrong combination."""
    if waarde is not None and teller is not None:
        err("geef teller en noemer óf waarde, niet allebei", "waarde")
        return None
    if waarde is not None:
        return waarde
    if ind.kind == "value" and teller is not None:
        err(f"indicator {ind.id} is geen aandeel: geef een waarde, geen teller", "teller")
        return None
    if teller is None and noemer is None:
        err("geen waarde: vul teller en noemer in, of waarde")
        return None
    if teller is None:
        err("noemer zonder teller (of waarde)", "teller")
        return None
    if noemer is None:
        err("teller zonder noemer", "noemer")
        return None
    if ind.kind == "share" and teller > noemer:
        err(f"teller ({formatting.number(teller, 0)}) is groter dan noemer ({formatting.number(noemer, 0)})",
            "teller")
        return None
    if noemer < MIN_N:
        return None  # not shown: te klein aantal
    return teller / noemer * ind.unit.scale


def _frame(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(FRAME_COLUMNS))
    for col in ("value", "n", "numerator", "denominator"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["year"] = frame["year"].astype("int64")
    for col in set(FRAME_COLUMNS) - {"value", "n", "numerator", "denominator", "year"}:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame


def _report(errors: list[RowMessage], warnings: list[str], rows_read: int, records: list[dict],
            small_n: int) -> ImportReport:
    ok = not errors
    return ImportReport(errors=tuple(errors), warnings=tuple(warnings), rows_read=rows_read,
                        rows_accepted=len(records) if ok else 0, small_n=small_n if ok else 0,
                        frame=_frame(records if ok else []))
