"""Generated CBS download files ``kwb-YYYY.xlsx`` and ``kwb-YYYY.csv`` in the layout of each
year 2019-2025, with known values, for the tests of :func:`loaders.imports.read_kwb_file`.

Nothing here is real data: the areas are fictitious (gemeenten ``GM7001`` Proefstad and
``GM7002`` Lytsedoarp-Fryslân, never ``GM99xx``, which the app reserves for its demo) and the
values come from a seeded random generator. What is real is the *form* of the files:

* the column names CBS uses that year (:func:`layout`): the migratieachtergrond counts
  ``a_w_all``, ``a_nw_all``, ``a_marok``, ``a_antaru``, ``a_suri``, ``a_tur``, ``a_ov_nw`` up
  to 2022 and the herkomst counts ``a_nl_all`` ... ``a_gbl_ne`` from 2023; education
  ``a_opl_lg``/``a_opl_md``/``a_opl_hg`` (2019-2022, 2025) or ``a_opl_bvm``/``a_opl_hvm``/
  ``a_opl_hw`` (2023, 2024); births and deaths ``p_geb``/``p_ste`` per 1,000 inhabitants;
  three kwb-2024 names with a trailing space (``a_nb_won ``, ``p_won_m ``, ``p_won_ev ``);
* the cell forms: suppressed values as ``.`` and as ``       .``, values with leading spaces,
  decimal commas and points mixed within one column (``1,9`` and ``1.9``), lone ``,`` cells
  (kwb-2022), blank cells; in the xlsx most values are Excel numbers and ``.`` is text, as
  in the CBS files, and some numbers are text with leading spaces.

The CSV is ``;``-separated; its encoding is cp1252 up to 2021 and UTF-8 with BOM after, a
choice of this generator so that both encodings the reader accepts are exercised.

:func:`write_kwb_files` writes both files and returns what a correct reader must give back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)

SUPPRESSED = "geheim"   # = buurtmonitor.model.MISSING_SUPPRESSED
EMPTY = "leeg"          # = buurtmonitor.model.MISSING_EMPTY

ID_COLUMNS = ["gwb_code_10", "gwb_code_8", "regio", "gm_naam", "recs", "gwb_code", "ind_wbi"]
MIGRATIE = {"westers": "a_w_all", "niet_westers": "a_nw_all", "marokko": "a_marok",
            "antillen_aruba": "a_antaru", "suriname": "a_suri", "turkije": "a_tur",
            "overig_niet_westers": "a_ov_nw"}
HERKOMST = {"herkomst_nederland": "a_nl_all", "herkomst_europa": "a_eur_al",
            "herkomst_buiten_europa": "a_neu_al", "geb_nl_herkomst_nederland": "a_geb_nl",
            "geb_nl_herkomst_europa": "a_geb_eu", "geb_nl_herkomst_buiten_europa": "a_geb_ne",
            "geb_buiten_nl_herkomst_europa": "a_gbl_eu",
            "geb_buiten_nl_herkomst_buiten_europa": "a_gbl_ne"}
EDUCATION_OLD = {"opleiding_laag": "a_opl_lg", "opleiding_midden": "a_opl_md",
                 "opleiding_hoog": "a_opl_hg"}
EDUCATION_2023 = {"opleiding_laag": "a_opl_bvm", "opleiding_midden": "a_opl_hvm",
                  "opleiding_hoog": "a_opl_hw"}
#: kwb-2024 headers that CBS writes with a trailing space (no catalogue variable reads them)
TRAILING_SPACE_2024 = ("a_nb_won ", "p_won_m ", "p_won_ev ")

# (code, name, recs)
AREAS = [
    ("NL00", "Nederland", "Land"),
    ("GM7001", "Proefstad", "Gemeente"),
    ("WK700101", "Centrum", "Wijk"),
    ("BU70010101", "Binnenstad", "Buurt"),
    ("BU70010102", "Stationskwartier", "Buurt"),
    ("BU70010103", "Havenhoofd", "Buurt"),          # tiny: origin and education suppressed
    ("WK700102", "Noord", "Wijk"),
    ("BU70010201", "Oude Molen", "Buurt"),
    ("BU70010202", "De Weide", "Buurt"),
    ("GM7002", "Lytsedoarp-Fryslân", "Gemeente"),
    ("WK700201", "Lytsedoarp", "Wijk"),
    ("BU70020101", "Doarp", "Buurt"),
    ("BU70020102", "Bûtengebiet", "Buurt"),
]
TINY = "BU70010103"


def education_columns(year: int) -> dict[str, str]:
    """Variable id -> education column name of that year's layout."""
    return EDUCATION_2023 if year in (2023, 2024) else EDUCATION_OLD


def origin_columns(year: int) -> dict[str, str]:
    """Variable id -> origin column name of that year's layout."""
    return MIGRATIE if year <= 2022 else HERKOMST


def layout(year: int) -> list[str]:
    """The header names of the kwb file of ``year`` as CBS writes them (subset of columns)."""
    cols = ID_COLUMNS + ["a_inw", "a_man", "a_vrouw", "a_00_14", "a_15_24", "a_25_44", "a_45_64",
                         "a_65_oo"]
    cols += list(origin_columns(year).values())
    cols += ["a_geb", "p_geb", "a_ste", "p_ste", "a_hh", "a_1p_hh", "a_hh_z_k", "a_hh_m_k",
             "g_hhgro", "bev_dich", "a_woning"]
    if year == 2024:
        cols += [TRAILING_SPACE_2024[0]]
    cols += ["g_wozbag", "p_koopw", "p_huurw", "p_wcorpw"]
    if year == 2024:
        cols += list(TRAILING_SPACE_2024[1:])
    cols += list(education_columns(year).values())
    cols += ["p_arb_pp", "g_ink_pi", "p_hh_lkk", "p_hh_osm", "a_soz_wb", "a_soz_ao", "a_soz_ww",
             "p_jz_tn", "p_wmo_t"]
    return cols


@dataclass
class GeneratedKwb:
    """Two generated files of one year and what a reader must give back from them."""

    year: int
    xlsx: Path
    csv: Path
    #: variable id -> the column it comes from, exactly as in the header (trailing spaces kept)
    columns: dict[str, str]
    #: index = area code; one column per checked variable id; NaN where missing
    expected: pd.DataFrame
    #: (code, variable id) -> missing reason, for every NaN in ``expected``
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the cells as written to the CSV (text, index = code, columns = header names)
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def origin(self) -> dict[str, str]:
        return origin_columns(self.year)

    @property
    def education(self) -> dict[str, str]:
        return education_columns(self.year)


def _split(rng: np.random.Generator, total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` non-negative integers that add up to it."""
    w = rng.dirichlet(np.ones(parts))
    out = np.floor(w * total).astype(int)
    out[0] += total - out.sum()
    return [int(v) for v in out]


def _values(year: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numbers per area (index = code) for every generated column, and the column map."""
    rows = []
    for code, _, recs in AREAS:
        size = {"Land": 17_000_000, "Gemeente": 60_000, "Wijk": 9_000, "Buurt": 2_000}[recs]
        inw = int(rng.integers(size // 2, size)) if code != TINY else 15
        r: dict[str, float] = {"a_inw": inw}
        man = int(inw * rng.uniform(0.47, 0.52))
        r.update({"a_man": man, "a_vrouw": inw - man})
        for col, v in zip(("a_00_14", "a_15_24", "a_25_44", "a_45_64", "a_65_oo"), _split(rng, inw, 5)):
            r[col] = v
        if year <= 2022:
            westers, niet_westers = _split(rng, int(inw * rng.uniform(0.2, 0.6)), 2)
            sub = _split(rng, niet_westers, 5)
            r.update({"a_w_all": westers, "a_nw_all": niet_westers, "a_marok": sub[0],
                      "a_antaru": sub[1], "a_suri": sub[2], "a_tur": sub[3], "a_ov_nw": sub[4]})
        else:
            nl, eu, neu = _split(rng, inw, 3)
            geb_eu, gbl_eu = _split(rng, eu, 2)
            geb_ne, gbl_ne = _split(rng, neu, 2)
            r.update({"a_nl_all": nl, "a_eur_al": eu, "a_neu_al": neu, "a_geb_nl": nl,
                      "a_geb_eu": geb_eu, "a_geb_ne": geb_ne, "a_gbl_eu": gbl_eu, "a_gbl_ne": gbl_ne})
        births, deaths = int(inw * rng.uniform(0.006, 0.014)), int(inw * rng.uniform(0.004, 0.012))
        r.update({"a_geb": births, "p_geb": round(1000 * births / inw), "a_ste": deaths,
                  "p_ste": round(1000 * deaths / inw)})
        hh = int(inw / rng.uniform(1.7, 2.6))
        r.update({"a_hh": hh, "a_1p_hh": int(hh * rng.uniform(0.2, 0.6)),
                  "a_hh_z_k": int(hh * rng.uniform(0.2, 0.3)), "a_hh_m_k": int(hh * rng.uniform(0.2, 0.4)),
                  "g_hhgro": round(inw / hh, 1), "bev_dich": int(rng.integers(50, 9000)),
                  "a_woning": int(hh * rng.uniform(0.95, 1.05)), "g_wozbag": int(rng.integers(150, 700))})
        koop = int(rng.integers(10, 90))
        r.update({"p_koopw": koop, "p_huurw": 100 - koop, "p_wcorpw": int(rng.integers(0, 100 - koop + 1))})
        if year == 2024:
            r.update({"a_nb_won ": int(rng.integers(0, 300)), "p_won_m ": int(rng.integers(0, 100)),
                      "p_won_ev ": int(rng.integers(0, 100))})
        lg, md, hg = _split(rng, int(inw * 0.7), 3)
        edu = education_columns(year)
        r.update({edu["opleiding_laag"]: lg, edu["opleiding_midden"]: md, edu["opleiding_hoog"]: hg})
        r.update({"p_arb_pp": round(float(rng.uniform(55, 80)), 1), "g_ink_pi": round(float(rng.uniform(25, 45)), 1),
                  "p_hh_lkk": round(float(rng.uniform(2, 20)), 1), "p_hh_osm": round(float(rng.uniform(2, 15)), 1),
                  "a_soz_wb": int(inw * rng.uniform(0, 0.05)), "a_soz_ao": int(inw * rng.uniform(0, 0.06)),
                  "a_soz_ww": int(inw * rng.uniform(0, 0.02)), "p_jz_tn": round(float(rng.uniform(5, 20)), 1),
                  "p_wmo_t": int(rng.integers(30, 150))})
        rows.append(r)
    values = pd.DataFrame(rows, index=[a[0] for a in AREAS], dtype=float)
    columns = {"inwoners": "a_inw", **origin_columns(year), **education_columns(year),
               "gem_huishoudensgrootte": "g_hhgro", "huishoudens": "a_hh", "woz": "g_wozbag",
               "nettoarbeidsparticipatie": "p_arb_pp", "bijstand": "a_soz_wb", "wmo_per_1000": "p_wmo_t"}
    return values, columns


def _missing_cells(year: int) -> dict[tuple[str, str], str]:
    """(code, column) -> the text CBS writes for a missing value in that cell."""
    dot = "       ." if year >= 2023 else "."
    cells: dict[tuple[str, str], str] = {}
    for col in list(origin_columns(year).values()) + list(education_columns(year).values()):
        cells[(TINY, col)] = dot                         # a tiny buurt: suppressed
    cells[(TINY, "g_hhgro")] = "."
    cells[("BU70020102", "a_soz_wb")] = "       ."
    cells[("BU70020101", "g_wozbag")] = ""               # blank
    if year == 2022:                                     # lone commas of kwb-2022
        cells[("BU70010201", "g_hhgro")] = ","
        cells[("BU70020102", education_columns(year)["opleiding_midden"])] = ","
        cells[("BU70010202", "a_tur")] = ","
        cells[("WK700201", "a_suri")] = ","
    return cells


def _text(v: float, decimal_comma: bool) -> str:
    s = str(int(v)) if float(v).is_integer() else repr(float(v))
    return s.replace(".", ",") if decimal_comma else s


def write_kwb_files(folder: str | Path, year: int, seed: int | None = None,
                    stem: str | None = None) -> GeneratedKwb:
    """Write ``kwb-<year>.xlsx`` and ``kwb-<year>.csv`` in ``folder``.

    Parameters
    ----------
    folder : str or Path
        Where to write (created if needed).
    year : int
        One of :data:`YEARS`; decides the layout.
    seed : int, optional
        Seed of the values (default: the year).
    stem : str, optional
        File name without extension (default ``kwb-<year>``).

    Returns
    -------
    GeneratedKwb
        The paths and the expected values and missing reasons per area and variable.
    """
    if year not in YEARS:
        raise ValueError(f"no kwb layout for {year} (known: {YEARS})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(year if seed is None else seed)
    values, columns = _values(year, rng)
    missing = _missing_cells(year)
    header = layout(year)
    value_cols = [c for c in header if c not in ID_COLUMNS]
    assert set(value_cols) == set(values.columns), set(value_cols) ^ set(values.columns)

    csv_cells: dict[str, list[str]] = {c: [] for c in header}
    xlsx_cells: dict[str, list[object]] = {c: [] for c in header}
    for i, (code, name, recs) in enumerate(AREAS):
        gm = {"NL00": "Nederland"}.get(code) or next(a[1] for a in AREAS if a[0] == "GM" + code[2:6])
        ids = {"gwb_code_10": code, "gwb_code_8": "0000" if code == "NL00" else code[2:],
               "regio": name, "gm_naam": gm, "recs": recs, "gwb_code": code,
               "ind_wbi": "." if code == "NL00" else "1"}
        for col in ID_COLUMNS:
            csv_cells[col].append(ids[col])
            xlsx_cells[col].append(ids[col])
        for j, col in enumerate(value_cols):
            if (code, col) in missing:
                text = missing[(code, col)]
                csv_cells[col].append(text)
                xlsx_cells[col].append(text if text else None)
                continue
            v = float(values.at[code, col])
            comma = (i + j) % 2 == 0             # decimal commas and points mixed in one column
            csv_cells[col].append(_text(v, comma).rjust(8))   # leading spaces, as CBS pads
            if not float(v).is_integer() and comma:
                xlsx_cells[col].append(_text(v, True))            # text "1,9"
            elif (i + j) % 5 == 0:
                xlsx_cells[col].append("  " + _text(v, False))    # text with leading spaces
            else:
                xlsx_cells[col].append(int(v) if float(v).is_integer() else float(v))

    stem = stem or f"kwb-{year}"
    xlsx = folder / f"{stem}.xlsx"
    pd.DataFrame(xlsx_cells, columns=header, dtype=object).to_excel(
        xlsx, index=False, sheet_name=f"kwb-{year}")
    csv = folder / f"{stem}.csv"
    lines = [";".join(header)] + [";".join(csv_cells[c][r] for c in header) for r in range(len(AREAS))]
    encoding = "cp1252" if year <= 2021 else "utf-8-sig"
    csv.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))

    expected = pd.DataFrame(index=values.index)
    reasons: dict[tuple[str, str], str] = {}
    for vid, col in columns.items():
        exp = values[col].copy()
        for (code, c), text in missing.items():
            if c == col:
                exp[code] = math.nan
                reasons[(code, vid)] = SUPPRESSED if text.strip() == "." else EMPTY
        expected[vid] = exp
    if year <= 2022:   # derived: inwoners - westers - niet_westers
        expected["nederlandse_achtergrond"] = (expected["inwoners"] - expected["westers"]
                                               - expected["niet_westers"])
        for code in expected.index[expected["nederlandse_achtergrond"].isna()]:
            reasons[(code, "nederlandse_achtergrond")] = next(
                reasons[(code, t)] for t in ("inwoners", "westers", "niet_westers") if (code, t) in reasons)
    cells = pd.DataFrame(csv_cells, columns=header, index=values.index)
    return GeneratedKwb(year=year, xlsx=xlsx, csv=csv, columns=columns, expected=expected,
                        reasons=reasons, cells=cells)
