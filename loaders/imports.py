"""Importers for CBS download files, for networks that block the CBS/PDOK APIs.

* :func:`read_kwb_file`: the "Kerncijfers wijken en buurten" download ``kwb-YYYY.xlsx`` or
  its CSV form (``,`` or ``;``), short column names (``gwb_code_10``, ``regio``, ``recs``,
  ``a_inw``, ``a_nl_all`` ...) mapped to catalogue variables through their ``kwb`` names.
* :func:`read_wijkbuurtkaart`: the Wijk- en Buurtkaart GeoPackage (layers gemeenten /
  wijken / buurten, or old names such as ``CBS_Buurten``), attributes mapped through the
  catalogue's ``wbk`` names (case and ``_`` ignored), percentages turned into counts with
  ``wbk_pct_of``; geometry reprojected to EPSG:4326.
* :func:`read_any`: dispatch on the file extension.

Missing stays missing: ``.`` is "geheim", an empty cell "leeg", a negative sentinel
(-99995, -99997, ...) "geen_gegevens". All errors are :class:`ImportFileError` with a Dutch
message (a missing file is also a :class:`FileNotFoundError`).

The kwb files of 2019-2025 are read in each year's layout. Their quirks, handled by
:func:`read_kwb_file` (column names) and :func:`parse_kwb_cell` (values):

* column names can carry trailing spaces (kwb-2024); names are stripped and matched with
  case, ``_`` and spaces ignored;
* values can carry leading spaces; ``.`` (also written ``       .``) is suppressed
  ("geheim"); a blank cell and a lone ``,`` (kwb-2022) are empty ("leeg"), never 0;
* decimal commas and points are mixed within one file and one column (``12,5`` and
  ``12.5``). A value with one separator is ambiguous (``1.234``): it is read in the file's
  convention (:func:`kwb_number_convention`), which for the CBS files is "the separator is
  the decimal separator" (they use no thousands separators), so ``1.234`` is 1.234, never 1
  and never 1234. Only when the file itself shows thousands separators (``1.234.567`` or
  ``1.234,5``) are separators followed by three digits read as thousands.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from buurtmonitor.catalogue import Catalogue, load_catalogue
from buurtmonitor.harmonise import build_table, concat_tables
from buurtmonitor.model import AreaTable, TableMeta

log = logging.getLogger(__name__)

DERIVED_FROM_PCT = "afgeleid uit percentage"
KWB_EXTENSIONS = (".xlsx", ".xlsm", ".csv", ".txt")
GEO_EXTENSIONS = (".gpkg", ".geojson", ".json")
LEVEL_ORDER = {"land": 0, "gemeente": 1, "wijk": 2, "buurt": 3}
_LEVEL_WORDS = {"land": "land", "nederland": "land", "gemeente": "gemeente", "wijk": "wijk",
                "buurt": "buurt"}
_PREFIX = {"land": "NL", "gemeente": "GM", "wijk": "WK", "buurt": "BU"}
_GM_CODE = re.compile(r"^GM\d{4}$")


class ImportFileError(ValueError):
    """A file cannot be imported (message in Dutch, for the user)."""


class MissingImportFile(ImportFileError, FileNotFoundError):
    """The file does not exist."""


# ----------------------------------------------------------------------------- shared
def _norm(name: str) -> str:
    """Column name key: case and underscores (and spaces, hyphens) ignored."""
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def _check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise MissingImportFile(f"Het bestand '{p.name}' bestaat niet (gezocht: {p}).")
    if p.is_dir():
        raise ImportFileError(f"'{p.name}' is een map, geen bestand.")
    return p


def _year_from_name(name: str) -> int | None:
    m = re.search(r"kwb[-_ ]?((?:19|20)\d{2})", name, re.I)
    if m:
        return int(m.group(1))
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", name)
    return int(m.group(1)) if m else None


def _strip_series(s: pd.Series) -> pd.Series:
    out = s.astype(object).map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                               else str(v).strip())
    return out.where(out.map(lambda v: v not in (None, "", "nan")), None)


def _code_text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip().upper()
    return s or None


def _wijziging(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    if s in ("", "."):
        return None
    try:
        f = float(s.replace(",", "."))
    except ValueError:
        return s
    if f <= -99990:
        return None
    return str(int(f)) if f.is_integer() else s


def _meta(year: int, file: Path, kind: str, cat: Catalogue, scope: str,
          resolved: dict[str, str], units: dict[str, str]) -> TableMeta:
    t = cat.table_for_year(year)
    return TableMeta(year=year, table_id=file.name,
                     table_title=cat.title_pattern.format(year=year),
                     scheme=t.scheme if t else cat.scheme_for_year(year), source_kind=kind,
                     source_url=file.name,
                     fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                     fictitious=False, scope=scope, resolved_keys=resolved, units=units)


def _scope(codes_gm: pd.Series, levels: pd.Series) -> str:
    gms = {g for g, lv in zip(codes_gm, levels) if g and lv != "land"}
    if len(gms) == 1:
        return next(iter(gms))
    if set(levels) <= {"land", "gemeente"}:
        return "gemeenten"
    return "bestand"


def _fill_gemeente_names(table: AreaTable) -> AreaTable:
    d = table.data
    gm = d["level"] == "gemeente"
    d.loc[gm, "gemeente_name"] = d.loc[gm, "gemeente_name"].fillna(d.loc[gm, "name"])
    names = dict(zip(d.loc[gm, "code"], d.loc[gm, "name"]))
    miss = d["gemeente_name"].isna() & d["gemeente_code"].notna()
    d.loc[miss, "gemeente_name"] = d.loc[miss, "gemeente_code"].map(names)
    return table


# ----------------------------------------------------------------------------- kwb files
_CODE_COLUMNS = ("gwb_code_10", "gwb_code", "codering", "code", "regiocode")

#: kwb columns that are rates per 1,000 inhabitants although their name starts with ``p_``
#: (births ``p_geb``, deaths ``p_ste``): never read as a percentage.
KWB_PER_1000 = ("p_geb", "p_ste")
PER_1000 = "per 1 000 inwoners"

#: number conventions of a kwb file (see :func:`kwb_number_convention`)
DECIMAL_ANY = "decimal"               # ',' and '.' are both the decimal separator (CBS kwb)
DOT_THOUSANDS = "dot_thousands"       # 1.234.567,5
COMMA_THOUSANDS = "comma_thousands"   # 1,234,567.5

_SUPPRESSED = "."
_PLAIN = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")
_GROUPED_DOT = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_ONE_GROUP_DOT = re.compile(r"^[+-]?\d{1,3}\.\d{3}$")
_ONE_GROUP_COMMA = re.compile(r"^[+-]?\d{1,3},\d{3}$")


def _cell_text(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    return str(raw).replace("\u00a0", " ").strip()


def kwb_number_convention(cells: Iterable[Any]) -> str:
    """The number convention a kwb file shows in its cells.

    Parameters
    ----------
    cells : iterable
        Raw cells of the file's value columns (a :class:`pandas.Series` is scanned
        vectorised).

    Returns
    -------
    str
        :data:`DOT_THOUSANDS` when a cell is unambiguously written with thousands dots
        (``1.234.567`` or ``1.234,5``), :data:`COMMA_THOUSANDS` for ``1,234,567`` or
        ``1,234.5``, else :data:`DECIMAL_ANY` (the CBS kwb files: ``,`` and ``.`` are both
        decimal separators, mixed within a column).
    """
    if isinstance(cells, pd.Series):
        text = cells if isinstance(cells.dtype, pd.StringDtype) else _column_text(cells)
        cells = text[text.str.count(r"[.,]").fillna(0) >= 2].tolist()
    for raw in cells:
        s = _cell_text(raw)
        if not s or s.count(".") + s.count(",") < 2:
            continue
        s = s.replace(" ", "")
        if _GROUPED_DOT.match(s):
            return DOT_THOUSANDS
        if _GROUPED_COMMA.match(s):
            return COMMA_THOUSANDS
    return DECIMAL_ANY


def parse_kwb_cell(raw: Any, convention: str = DECIMAL_ANY) -> float | str | None:
    """One cell of a kwb file -> a float, ``"."`` (suppressed) or ``None`` (empty).

    Parameters
    ----------
    raw : Any
        The cell as read (text; Excel numbers arrive as their text form, NaN when blank).
    convention : str
        The file's number convention (:func:`kwb_number_convention`).

    Returns
    -------
    float | str | None
        The number; ``"."`` for a suppressed cell (``.``, ``       .``): missing with reason
        "geheim"; ``None`` for a blank cell, a lone ``,`` or text that is no number: missing
        with reason "leeg". Never 0 for a missing value. Negative sentinels (-99995 ...) are
        returned as numbers; the harmonisation marks them "geen_gegevens".
    """
    s = _cell_text(raw)
    if s is None:
        return None
    s = s.replace(" ", "")
    if s == _SUPPRESSED:
        return _SUPPRESSED
    if s in ("", ","):
        return None
    if convention == DOT_THOUSANDS and (_GROUPED_DOT.match(s) or _ONE_GROUP_DOT.match(s)):
        s = s.replace(".", "").replace(",", ".")
    elif convention == COMMA_THOUSANDS and (_GROUPED_COMMA.match(s) or _ONE_GROUP_COMMA.match(s)):
        s = s.replace(",", "")
    elif _GROUPED_DOT.match(s) and ("," in s or s.count(".") > 1):
        s = s.replace(".", "").replace(",", ".")       # 1.234,5 / 1.234.567: unambiguous
    elif _GROUPED_COMMA.match(s) and ("." in s or s.count(",") > 1):
        s = s.replace(",", "")                          # 1,234.5 / 1,234,567
    elif _PLAIN.match(s):
        s = s.replace(",", ".")                         # 12,5 / 12.5 / 1.234 (decimal)
    else:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _column_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text (NBSP included); NA where blank. Inner spaces stay: such
    cells are left to :func:`parse_kwb_cell`."""
    return values.astype("string").str.strip()


def _parse_kwb_column(values: pd.Series, convention: str, text: pd.Series | None = None) -> pd.Series:
    """:func:`parse_kwb_cell` for a whole column: plain numbers (``12``, ``12,5``, ``12.5``)
    vectorised, the rare other forms cell by cell. ``text``: ``_column_text(values)``."""
    text = _column_text(values) if text is None else text
    out = np.full(len(text), None, dtype=object)
    plain = text.str.fullmatch(_PLAIN.pattern).fillna(False).to_numpy(dtype=bool)
    if convention == DOT_THOUSANDS:
        plain &= ~text.str.fullmatch(_ONE_GROUP_DOT.pattern).fillna(False).to_numpy(dtype=bool)
    elif convention == COMMA_THOUSANDS:
        plain &= ~text.str.fullmatch(_ONE_GROUP_COMMA.pattern).fillna(False).to_numpy(dtype=bool)
    if plain.any():
        out[plain] = text[plain].str.replace(",", ".", regex=False).astype("float64").tolist()
    rest = ~plain & ~text.isna().to_numpy() & ~text.isin(["", ",", _SUPPRESSED]).to_numpy(dtype=bool)
    for i in np.flatnonzero(rest):
        out[i] = parse_kwb_cell(values.iloc[i], convention)
    suppressed = (text == _SUPPRESSED).fillna(False).to_numpy(dtype=bool)
    if not suppressed.any() and not any(v == _SUPPRESSED for v in out[rest]):
        # no "geheim" cell: a float column (NaN = "leeg"), which the harmonisation reads
        # vectorised
        return pd.Series(out, index=values.index, dtype=object).astype(float)
    out[suppressed] = _SUPPRESSED
    return pd.Series(out, index=values.index, dtype=object)


def _sniff_separator(path: Path, encoding: str) -> str:
    with path.open("r", encoding=encoding, newline="") as fh:
        head = ""
        for line in fh:
            if line.strip():
                head = line
                break
    if not head:
        raise ImportFileError(f"'{path.name}' is leeg.")
    counts = {sep: head.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=lambda k: counts[k])
    if counts[sep] == 0:
        raise ImportFileError(f"In '{path.name}' is geen scheidingsteken (, of ;) gevonden: "
                              "is dit wel een CSV-bestand?")
    return sep


def _read_csv(path: Path) -> pd.DataFrame:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            sep = _sniff_separator(path, enc)
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=enc,
                               quoting=csv.QUOTE_MINIMAL, skipinitialspace=False)
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            raise ImportFileError(f"'{path.name}' kon niet als CSV worden gelezen: {exc}") from exc
    raise ImportFileError(f"De tekenset van '{path.name}' wordt niet herkend (verwacht UTF-8).")


def _find_code_column(cols: dict[str, str]) -> str | None:
    """``cols``: normalised name -> real name."""
    for c in _CODE_COLUMNS:
        if _norm(c) in cols:
            return cols[_norm(c)]
    return None


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - zip/xml errors of a damaged file
        raise ImportFileError(f"'{path.name}' kon niet als Excel-bestand (.xlsx) worden geopend: "
                              f"{exc}") from exc
    with book:
        first = None
        for sheet in book.sheet_names:
            frame = pd.read_excel(book, sheet_name=sheet, dtype=str)
            first = frame if first is None else first
            cols = {_norm(c): c for c in frame.columns}
            if _find_code_column(cols) or "gwbcode8" in cols:
                return frame
    return first if first is not None else pd.DataFrame()


def _kwb_codes(frame: pd.DataFrame, cols: dict[str, str], name: str) -> pd.Series:
    code_col = _find_code_column(cols)
    if code_col is not None:
        return frame[code_col].map(_code_text)
    # gwb_code_8 (digits only) + recs: build the prefixed code
    if "gwbcode8" in cols and "recs" in cols:
        lv = frame[cols["recs"]].map(lambda v: _LEVEL_WORDS.get(str(v).strip().lower()))
        raw = frame[cols["gwbcode8"]].map(_code_text)
        return pd.Series([(_PREFIX[lvl] + c if lvl in _PREFIX and c else None) if lvl != "land" else "NL00"
                          for lvl, c in zip(lv, raw)], index=frame.index, dtype=object)
    raise ImportFileError(
        f"In '{name}' staat geen kolom met gebiedscodes (verwacht 'gwb_code_10' met codes als "
        "GM0344, WK034401, BU03440101). Is dit wel een CBS-bestand 'Kerncijfers wijken en buurten'?")


def read_kwb_file(path: str | Path, year: int | None = None, gemeente: str | None = None,
                  catalogue: Catalogue | None = None) -> AreaTable:
    """Read a CBS download ``kwb-YYYY.xlsx`` / ``.csv`` into a harmonised AreaTable.

    Parameters
    ----------
    path : str or Path
        The file (``.xlsx``/``.xlsm``, or ``.csv``/``.txt`` separated by ``;``, ``,`` or tab).
    year : int, optional
        Taken from the file name (``kwb-2024...``) when not given.
    gemeente : str, optional
        A gemeente code (e.g. "GM0344"): keep only that gemeente, its wijken and buurten
        (and the Nederland row).
    catalogue : Catalogue, optional
        Default: the packaged catalogue. Each variable is read from the first of its ``kwb``
        names found in the header (stripped; case, ``_`` and spaces ignored).

    Returns
    -------
    AreaTable
        Cells read with :func:`parse_kwb_cell` in the file's number convention; missing
        values keep their reason ("geheim", "leeg", "geen_gegevens"), variables the file
        lacks are "niet_in_tabel". ``meta.resolved_keys`` names the column of each variable.

    Raises
    ------
    ImportFileError
        With a Dutch message (a missing file: :class:`MissingImportFile`).
    """
    p = _check_file(path)
    ext = p.suffix.lower()
    if ext == ".xls":
        raise ImportFileError(
            f"'{p.name}' is een oud Excel-bestand (.xls); dat wordt niet ondersteund. Open het in "
            "Excel of LibreOffice en sla het op als .xlsx of .csv, of download de .xlsx-versie bij CBS.")
    if ext not in KWB_EXTENSIONS:
        raise ImportFileError(f"'{p.name}' is geen KWB-bestand (verwacht .xlsx of .csv).")
    cat = catalogue or load_catalogue()
    if year is None:
        year = _year_from_name(p.name)
        if year is None:
            raise ImportFileError(
                f"Het jaar van '{p.name}' staat niet in de bestandsnaam (zoals kwb-2024.xlsx); "
                "geef het jaar op.")
    year = int(year)
    frame = _read_xlsx(p) if ext in (".xlsx", ".xlsm") else _read_csv(p)
    kind = "kwb-xlsx" if ext in (".xlsx", ".xlsm") else "kwb-csv"
    frame = frame.rename(columns=lambda c: str(c).strip())
    if frame.empty:
        raise ImportFileError(f"'{p.name}' bevat geen rijen.")
    cols = {_norm(c): c for c in frame.columns}
    codes = _kwb_codes(frame, cols, p.name)
    keep = codes.notna()
    frame, codes = frame[keep].reset_index(drop=True), codes[keep].reset_index(drop=True)
    if frame.empty:
        raise ImportFileError(f"'{p.name}' bevat geen rijen met een gebiedscode.")

    def col(*names: str) -> pd.Series | None:
        for n in names:
            if _norm(n) in cols:
                return _strip_series(frame[cols[_norm(n)]])
        return None

    ids = pd.DataFrame({"code": codes})
    names = col("regio", "regio_naam", "naam", "wijkenenbuurten")
    ids["name"] = names.fillna(codes) if names is not None else codes
    recs = col("recs", "soortregio", "soort_regio")
    if recs is not None:
        ids["level"] = recs.map(lambda v: _LEVEL_WORDS.get(str(v).lower()) if v else None)
    else:
        ids["level"] = None
    ids.loc[ids["code"].str.startswith("NL"), "level"] = "land"
    gm_naam = col("gm_naam", "gemeentenaam")
    ids["gemeente_name"] = gm_naam if gm_naam is not None else None
    wbi = col("ind_wbi", "indelingswijziging")
    ids["indelingswijziging"] = wbi.map(_wijziging) if wbi is not None else None

    found: dict[str, tuple[str, str]] = {}   # variable id -> (catalogue name, column)
    for var in cat.source_variables():
        for key in var.kwb:
            if _norm(key) in cols:
                found[var.id] = (key, cols[_norm(key)])
                break
    texts = {vid: _column_text(frame[src]) for vid, (_, src) in found.items()}
    convention = DECIMAL_ANY
    for text in texts.values():
        convention = kwb_number_convention(text)
        if convention != DECIMAL_ANY:
            break
    if convention != DECIMAL_ANY:
        log.info("%s: getallen met duizendtalscheiding (%s)", p.name, convention)
    raw: dict[str, pd.Series] = {}
    pct_base: dict[str, str] = {}
    resolved: dict[str, str] = {}
    units: dict[str, str] = {}
    for vid, (key, src) in found.items():
        var = cat.variables[vid]
        raw[vid] = _parse_kwb_column(frame[src], convention, texts[vid])
        resolved[vid] = src
        if key.lower() in KWB_PER_1000:
            units[vid] = PER_1000
        elif key.lower().startswith("p_") and var.unit == "aantal":
            pct_base[vid] = var.wbk_pct_of or "inwoners"
            units[vid] = DERIVED_FROM_PCT
        else:
            units[vid] = var.unit
    if "inwoners" not in raw:
        log.warning("%s heeft geen kolom a_inw (inwoners)", p.name)
    if not raw:
        raise ImportFileError(
            f"In '{p.name}' is geen enkele bekende KWB-kolom gevonden (zoals a_inw, a_nl_all).")
    gm = gemeente.strip().upper() if gemeente else None
    table = build_table(ids, raw, _meta(year, p, kind, cat, "", resolved, units),
                        pct_base=pct_base, catalogue=cat)
    table = _fill_gemeente_names(table)
    if gm:
        mask = (table.data["gemeente_code"] == gm) | (table.data["level"] == "land")
        if not (table.data["code"] == gm).any() and not (table.data["gemeente_code"] == gm).any():
            raise ImportFileError(f"Gemeente {gm} komt niet voor in '{p.name}'.")
        table = table.select(mask)
        table.data = table.data.reset_index(drop=True)
        table.missing = table.missing.reset_index(drop=True)
    scope = _scope(table.data["gemeente_code"], table.data["level"])
    table.meta = TableMeta(**{**table.meta.to_dict(), "scope": scope})
    return table


# ----------------------------------------------------------------------------- gpkg
_LAYER_LEVEL = (("buurt", "buurt"), ("wijk", "wijk"), ("gemeente", "gemeente"))
_CODE_FIELDS = {"buurt": ("buurtcode",), "wijk": ("wijkcode",), "gemeente": ("gemeentecode",)}
_NAME_FIELDS = {"buurt": ("buurtnaam",), "wijk": ("wijknaam",), "gemeente": ("gemeentenaam",)}


def _layer_level(name: str) -> str | None:
    n = name.lower()
    hits = [lvl for word, lvl in _LAYER_LEVEL if word in n]
    return hits[0] if len(hits) == 1 else None


def _level_from_fields(fields: list[str]) -> str | None:
    norm = {_norm(f) for f in fields}
    for lvl in ("buurt", "wijk", "gemeente"):
        if _CODE_FIELDS[lvl][0] in norm:
            return lvl
    return None


def _pick_layers(path: Path, level: str | None) -> list[tuple[str, str]]:
    """[(layer, level)] to read, in the order gemeente, wijk, buurt."""
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - GDAL errors of a damaged or foreign file
        raise ImportFileError(f"'{path.name}' kon niet als GeoPackage/GeoJSON worden gelezen: "
                              f"{exc}") from exc
    found: dict[str, str] = {}
    for layer in layers:
        lvl = _layer_level(layer)
        if lvl is None:
            try:
                fields = list(pyogrio.read_info(path, layer=layer)["fields"])
            except Exception:  # noqa: BLE001
                fields = []
            lvl = _level_from_fields(fields)
        if lvl and lvl not in found:
            found[lvl] = layer
    if level is not None:
        if level not in ("gemeente", "wijk", "buurt"):
            raise ImportFileError(f"Onbekend niveau {level!r}; kies gemeente, wijk of buurt.")
        if level not in found:
            raise ImportFileError(f"'{path.name}' heeft geen laag met {level}en "
                                  f"(lagen: {', '.join(layers) or 'geen'}).")
        return [(found[level], level)]
    if not found:
        raise ImportFileError(f"In '{path.name}' is geen laag met gemeenten, wijken of buurten "
                              f"gevonden (lagen: {', '.join(layers) or 'geen'}).")
    return [(found[lvl], lvl) for lvl in ("gemeente", "wijk", "buurt") if lvl in found]


def _field(fields: dict[str, str], *names: str) -> str | None:
    for n in names:
        if _norm(n) in fields:
            return fields[_norm(n)]
    return None


def _read_layer(path: Path, layer: str, level: str, gemeente: str | None) -> gpd.GeoDataFrame:
    where = None
    if gemeente:
        info = pyogrio.read_info(path, layer=layer)
        gm_field = _field({_norm(f): f for f in info["fields"]}, "gemeentecode")
        if gm_field is not None:
            where = f"\"{gm_field}\" = '{gemeente}'"
    gdf = gpd.read_file(path, layer=layer, engine="pyogrio", where=where)
    fields = {_norm(c): c for c in gdf.columns if c != gdf.geometry.name}
    water = _field(fields, "water")
    if water is not None:
        gdf = gdf[gdf[water].astype(str).str.strip().str.upper() != "JA"]
    code_f = _field(fields, *_CODE_FIELDS[level])
    if code_f is not None:
        codes = gdf[code_f].map(_code_text)
    elif _field(fields, "statcode") is not None:
        codes = gdf[_field(fields, "statcode")].map(_code_text)
    elif _field(fields, "jaarstatcode") is not None:
        codes = gdf[_field(fields, "jaarstatcode")].map(
            lambda v: re.sub(r"^\d{4}", "", _code_text(v) or "") or None)
    else:
        raise ImportFileError(f"Laag '{layer}' van '{path.name}' heeft geen kolom met "
                              f"gebiedscodes ({_CODE_FIELDS[level][0]}, statcode of jaarstatcode).")
    gdf = gdf.assign(__code=codes.values)
    gdf = gdf[gdf["__code"].notna()]
    if gemeente:
        gm = gdf["__code"].str[2:6].radd("GM") if level != "gemeente" else gdf["__code"]
        gm_f = _field(fields, "gemeentecode")
        if gm_f is not None:
            gm = gdf[gm_f].map(_code_text).fillna(gm)
        gdf = gdf[gm == gemeente]
    return gdf


def _year_from_layer(gdf: gpd.GeoDataFrame) -> int | None:
    fields = {_norm(c): c for c in gdf.columns if c != gdf.geometry.name}
    f = _field(fields, "jaar", "jaarcode")
    if f is not None:
        vals = pd.to_numeric(gdf[f], errors="coerce").dropna()
        if len(vals):
            return int(vals.iloc[0])
    f = _field(fields, "jaarstatcode")
    if f is not None:
        for v in gdf[f].dropna():
            m = re.match(r"^((?:19|20)\d{2})", str(v).strip())
            if m:
                return int(m.group(1))
    return None


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds if len(gdf) else (0, 0, 0, 0)
        gdf = gdf.set_crs("EPSG:28992" if maxx > 1000 or maxy > 1000 else "EPSG:4326")
    if gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    return gdf


def read_wijkbuurtkaart(path: str | Path, year: int | None = None, level: str | None = None,
                        gemeente: str | None = None, catalogue: Catalogue | None = None
                        ) -> tuple[AreaTable, gpd.GeoDataFrame]:
    """Read a Wijk- en Buurtkaart GeoPackage (or a PDOK GeoJSON export).

    ``level`` (gemeente|wijk|buurt) picks one layer; without it every recognised layer is
    read. ``gemeente`` (e.g. "GM0228") keeps that gemeente only. Returns the AreaTable and
    the boundaries (EPSG:4326; ``code, name, level, gemeente_code, geometry``) in the same
    order.
    """
    p = _check_file(path)
    if p.suffix.lower() not in GEO_EXTENSIONS:
        raise ImportFileError(f"'{p.name}' is geen GeoPackage (.gpkg) of GeoJSON.")
    cat = catalogue or load_catalogue()
    gm = None
    if gemeente:
        gm = gemeente.strip().upper()
        if not _GM_CODE.match(gm):
            raise ImportFileError(f"'{gemeente}' is geen gemeentecode (verwacht zoiets als GM0228).")
    frames = [(lvl, _read_layer(p, layer, lvl, gm)) for layer, lvl in _pick_layers(p, level)]
    frames = [(lvl, f) for lvl, f in frames if len(f)]
    if not frames:
        raise ImportFileError(f"'{p.name}' bevat geen gebieden"
                              + (f" van gemeente {gm}." if gm else "."))
    if year is None:
        year = next((y for y in (_year_from_layer(f) for _, f in frames) if y), None) \
            or _year_from_name(p.name)
        if year is None:
            raise ImportFileError(f"Het jaar van '{p.name}' is niet te bepalen (geen kolom 'jaar' of "
                                  "'jaarstatcode', niet in de bestandsnaam); geef het jaar op.")
    year = int(year)

    # one mapping for all layers: variable id -> attribute name (first wbk name present)
    resolved: dict[str, str] = {}
    units: dict[str, str] = {}
    per_layer: list[tuple[str, gpd.GeoDataFrame, dict[str, str]]] = []
    for lvl, f in frames:
        fields = {_norm(c): c for c in f.columns if c != f.geometry.name}
        mapping: dict[str, str] = {}
        for var in cat.source_variables():
            for key in var.wbk:
                if _norm(key) in fields:
                    mapping[var.id] = fields[_norm(key)]
                    break
        for vid, attr in mapping.items():
            resolved.setdefault(vid, attr)
            var = cat.variables[vid]
            units.setdefault(vid, DERIVED_FROM_PCT if var.wbk_pct_of else var.unit)
        per_layer.append((lvl, f, mapping))
    if not resolved:
        log.warning("%s: geen bekende attributen gevonden", p.name)

    tables, geos = [], []
    base_meta = _meta(year, p, "gpkg", cat, "", resolved, units)
    for lvl, f, mapping in per_layer:
        f = f.reset_index(drop=True)
        fields = {_norm(c): c for c in f.columns if c != f.geometry.name}
        codes = f["__code"].astype(str)
        name_f = _field(fields, *_NAME_FIELDS[lvl], "statnaam")
        names = _strip_series(f[name_f]).fillna(codes) if name_f else codes
        ids = pd.DataFrame({"code": codes, "name": names, "level": lvl})
        gm_f = _field(fields, "gemeentecode")
        ids["gemeente_code"] = (codes if lvl == "gemeente" else
                                (f[gm_f].map(_code_text) if gm_f else codes.str[2:6].radd("GM")))
        gmn = _field(fields, "gemeentenaam")
        ids["gemeente_name"] = _strip_series(f[gmn]) if gmn else None
        wf = next((fields[k] for k in fields if k.startswith("indelingswijziging")), None)
        ids["indelingswijziging"] = f[wf].map(_wijziging) if wf else None
        raw = {vid: f[attr] for vid, attr in mapping.items()}
        pct = {vid: base for vid in mapping if (base := cat.variables[vid].wbk_pct_of)}
        tables.append(build_table(ids, raw, base_meta, pct_base=pct, catalogue=cat))
        g = gpd.GeoDataFrame(ids[["code", "name", "level", "gemeente_code"]].copy(),
                             geometry=f.geometry.values, crs=f.crs)
        geos.append(_to_wgs84(g))
    table = concat_tables(tables) if len(tables) > 1 else tables[0]
    table = _fill_gemeente_names(table)
    table.meta = TableMeta(**{**base_meta.to_dict(),
                              "scope": _scope(table.data["gemeente_code"], table.data["level"])})
    geo = pd.concat(geos, ignore_index=True)
    geo = gpd.GeoDataFrame(geo, geometry="geometry", crs="EPSG:4326")
    geo = geo.drop_duplicates("code").reset_index(drop=True)
    table.data = table.data.reset_index(drop=True)
    table.missing = table.missing.reset_index(drop=True)
    return table, geo


# ----------------------------------------------------------------------------- dispatch
def read_any(path: str | Path, year: int | None = None, level: str | None = None,
             gemeente: str | None = None, catalogue: Catalogue | None = None
             ) -> tuple[AreaTable, gpd.GeoDataFrame | None]:
    """Read a CBS download by its extension: ``.xlsx``/``.csv`` -> (table, None);
    ``.gpkg``/``.geojson`` -> (table, boundaries)."""
    p = _check_file(path)
    ext = p.suffix.lower()
    if ext in KWB_EXTENSIONS or ext == ".xls":
        return read_kwb_file(p, year=year, gemeente=gemeente, catalogue=catalogue), None
    if ext in GEO_EXTENSIONS:
        return read_wijkbuurtkaart(p, year=year, level=level, gemeente=gemeente, catalogue=catalogue)
    if ext == ".zip":
        raise ImportFileError(f"'{p.name}' is een zip-bestand: pak het eerst uit en kies dan het "
                              ".xlsx-, .csv- of .gpkg-bestand dat erin zit.")
    if ext in (".shp", ".dbf", ".shx"):
        raise ImportFileError(f"'{p.name}' is een shapefile; gebruik de GeoPackage (.gpkg) van de "
                              "Wijk- en Buurtkaart.")
    raise ImportFileError(
        f"Het bestandstype '{ext or '(geen extensie)'}' van '{p.name}' wordt niet ondersteund. "
        "Gebruik kwb-JJJJ.xlsx of .csv (Kerncijfers wijken en buurten) of de GeoPackage (.gpkg) "
        "van de Wijk- en Buurtkaart.")
