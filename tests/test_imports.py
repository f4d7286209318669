"""loaders.imports: CBS download files (kwb xlsx/csv) and the Wijk- en Buurtkaart GeoPackage."""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from buurtmonitor.catalogue import Variable, load_catalogue
from buurtmonitor.model import MISSING_EMPTY, MISSING_NOT_IN_TABLE, MISSING_SENTINEL, MISSING_SUPPRESSED
from buurtmonitor.synthetic import generate
from devtools import kwb_files
from devtools.standins.pdok import EDE_WIJKEN_2024
from devtools.standins.shared_data import require_shared
from loaders import imports
from loaders.imports import DERIVED_FROM_PCT, ImportFileError, MissingImportFile

UTRECHT_XLSX = "kwb_utrecht_2024/kwb-2024-gemeente-utrecht.xlsx"
UTRECHT_CSV = "kwb_utrecht_2024/kwb-2024-gemeente-utrecht.csv"
UTRECHT_2023_XLSX = "kwb_utrecht_2023/kwb-2023-gemeente-utrecht.xlsx"
EDUCATION = ("opleiding_laag", "opleiding_midden", "opleiding_hoog")
ERMELO_GPKG = "geo_ermelo_2021_pdok/cbs_buurten_2021_gemeente_ermelo.gpkg"
NL_BOUNDS = (3.2, 50.7, 7.3, 53.6)
ORIGIN_2024 = {"inwoners": "a_inw", "herkomst_nederland": "a_nl_all", "herkomst_europa": "a_eur_al",
               "herkomst_buiten_europa": "a_neu_al"}


def _in_nl(gdf) -> bool:
    minx, miny, maxx, maxy = gdf.total_bounds
    return NL_BOUNDS[0] <= minx and maxx <= NL_BOUNDS[2] and NL_BOUNDS[1] <= miny and maxy <= NL_BOUNDS[3]


def _num(s: str | float | None) -> float:
    if s is None or (isinstance(s, float) and math.isnan(s)) or str(s).strip() in ("", "."):
        return math.nan
    return float(s)


# ============================================================================ kwb files
@pytest.fixture(scope="module")
def utrecht_raw() -> pd.DataFrame:
    shared = require_shared(UTRECHT_XLSX)
    return pd.read_excel(shared / UTRECHT_XLSX, dtype=str)


@pytest.fixture(scope="module")
def utrecht_xlsx():
    shared = require_shared(UTRECHT_XLSX)
    return imports.read_kwb_file(shared / UTRECHT_XLSX)


def _check_utrecht(table, raw: pd.DataFrame):
    d = table.data
    assert len(d) == 122 and d["code"].is_unique
    assert d["level"].value_counts().to_dict() == {"buurt": 111, "wijk": 10, "gemeente": 1}
    gm = table.row("GM0344")
    assert gm["name"] == "Utrecht" and gm["gemeente_name"] == "Utrecht"
    assert (gm["inwoners"], gm["herkomst_nederland"], gm["herkomst_europa"],
            gm["herkomst_buiten_europa"]) == (374238, 223593, 40368, 110277)
    assert table.row("WK034401")["inwoners"] == 29710
    assert table.row("WK034401")["name"] == "Wijk 01 West"
    # every wijk and buurt: inwoners and the three origin counts exactly as in the file
    by_code = raw.set_index(raw["gwb_code_10"].str.strip())
    for row in d.itertuples():
        src = by_code.loc[row.code]
        for var, col in ORIGIN_2024.items():
            expected = _num(src[col])
            got = getattr(row, var)
            assert (math.isnan(got) and math.isnan(expected)) or got == expected, (row.code, var)
    assert (d["gemeente_code"] == "GM0344").all()
    bu = d[d["level"] == "buurt"]
    assert (bu["wijk_code"] == "WK" + bu["code"].str[2:8]).all()
    assert d.loc[d["level"] != "buurt", "wijk_code"].isna().all()
    assert (d["indelingswijziging"] == "1").all() and (d["year"] == 2024).all()
    # '.' is suppressed ("geheim"), never 0
    assert math.isnan(table.row("BU03440911")["gem_huishoudensgrootte"])
    assert table.missing_reason("BU03440911", "gem_huishoudensgrootte") == MISSING_SUPPRESSED
    assert table.row("BU03440111")["gem_huishoudensgrootte"] == 1.6
    assert d["woz"].isna().all() and (table.missing["woz"] == MISSING_SUPPRESSED).all()
    n_dots = int((raw[[c for c in raw.columns if c in table.meta.resolved_keys.values()]] == ".").sum().sum())
    n_geheim = int((table.missing[list(table.meta.resolved_keys)] == MISSING_SUPPRESSED).sum().sum())
    assert n_geheim == n_dots > 0
    for var in table.meta.resolved_keys:
        assert not ((d[var] == 0) & (table.missing[var] == MISSING_SUPPRESSED)).any()
    # old-scheme variables are not in this table
    assert d["westers"].isna().all() and (table.missing["westers"] == MISSING_NOT_IN_TABLE).all()
    # derived variable: geb_buiten_nl = europa + buiten europa
    wk = table.row("WK034401")
    assert wk["geb_buiten_nl"] == wk["geb_buiten_nl_herkomst_europa"] + wk["geb_buiten_nl_herkomst_buiten_europa"]
    m = table.meta
    assert (m.year, m.scheme, m.fictitious, m.scope) == (2024, "herkomst", False, "GM0344")
    assert m.resolved_keys["herkomst_europa"] == "a_eur_al" and m.units["inwoners"] == "aantal"
    assert "Kerncijfers wijken en buurten 2024" in m.source_line()


@pytest.mark.slow
def test_utrecht_xlsx(utrecht_xlsx, utrecht_raw):
    _check_utrecht(utrecht_xlsx, utrecht_raw)
    assert utrecht_xlsx.meta.source_kind == "kwb-xlsx"
    assert utrecht_xlsx.meta.table_id == "kwb-2024-gemeente-utrecht.xlsx"


@pytest.mark.slow
def test_utrecht_csv_twin_gives_the_same_table(utrecht_xlsx, utrecht_raw):
    shared = require_shared(UTRECHT_CSV)
    csv_table = imports.read_kwb_file(shared / UTRECHT_CSV)
    _check_utrecht(csv_table, utrecht_raw)
    assert csv_table.meta.source_kind == "kwb-csv"
    assert csv_table.meta.table_id == "kwb-2024-gemeente-utrecht.csv"
    pd.testing.assert_frame_equal(csv_table.data, utrecht_xlsx.data)
    pd.testing.assert_frame_equal(csv_table.missing, utrecht_xlsx.missing)


def test_semicolon_csv_decimal_comma_cp1252_alphanumeric_codes(tmp_path):
    lines = [
        "gwb_code_10;regio;gm_naam;recs;ind_wbi;a_inw;a_nl_all;a_eur_al;a_neu_al;g_hhgro",
        "NL00;Nederland;Nederland;Land;.;17942942;.;.;.;2,1",
        "GM0363  ;Amsterdam;Amsterdam;Gemeente;1;931298;;120000;400000;1,8",
        "WK0363AA;  Burgwallen-Oude Zijde ;Amsterdam;Wijk;1;4335;2000;800;1535;1,5",
        "BU0363AA01;Kop Zeedijk;Amsterdam;Buurt;1;1000;.;200;300;1,4",
        "GM1900;Súdwest-Fryslân;Súdwest-Fryslân;Gemeente;1;90000;80000;6000;4000;2,3",
    ]
    path = tmp_path / "kwb-2024-selectie.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    t = imports.read_kwb_file(path)
    d = t.data.set_index("code")
    assert list(d.index) == ["NL00", "GM0363", "WK0363AA", "BU0363AA01", "GM1900"]
    assert d.loc["NL00", "level"] == "land" and d.loc["NL00", "gemeente_code"] is None
    assert d.loc["WK0363AA", "name"] == "Burgwallen-Oude Zijde"
    assert d.loc["WK0363AA", "gemeente_code"] == "GM0363"
    assert d.loc["BU0363AA01", "wijk_code"] == "WK0363AA"
    assert d.loc["BU0363AA01", "gemeente_name"] == "Amsterdam"
    assert d.loc["GM1900", "name"] == "Súdwest-Fryslân"
    assert d.loc["NL00", "inwoners"] == 17942942 and d.loc["NL00", "gem_huishoudensgrootte"] == 2.1
    assert d.loc["WK0363AA", "gem_huishoudensgrootte"] == 1.5
    assert t.missing_reason("GM0363", "herkomst_nederland") == MISSING_EMPTY
    assert t.missing_reason("BU0363AA01", "herkomst_nederland") == MISSING_SUPPRESSED
    assert t.meta.scope == "bestand"
    # one gemeente out of a national file (plus the Nederland row)
    one = imports.read_kwb_file(path, gemeente="gm0363")
    assert list(one.data["code"]) == ["NL00", "GM0363", "WK0363AA", "BU0363AA01"]
    assert one.meta.scope == "GM0363" and list(one.data.index) == [0, 1, 2, 3]
    with pytest.raises(ImportFileError, match="GM0999 komt niet voor"):
        imports.read_kwb_file(path, gemeente="GM0999")


KWB_2019 = pd.DataFrame({
    "gwb_code_10": ["GM0599", "WK059901", "BU05990101", "BU05990102", "WK059902", "BU05990201"],
    "gwb_code_8": ["0599", "059901", "05990101", "05990102", "059902", "05990201"],
    "regio": ["Rotterdam", "Stadscentrum", "Cool", "CS-kwartier", "Delfshaven", "Delfshaven"],
    "gm_naam": ["Rotterdam"] * 6,
    "recs": ["Gemeente", "Wijk", "Buurt", "Buurt", "Wijk", "Buurt"],
    "ind_wbi": [1, 1, 1, 3, 1, 1],
    "a_inw": [638712, 35595, 4525, 20, 75000, 4000],
    "a_w_all": [74542, 7340, 1070, ".", 8000, 500],
    "a_nw_all": [246123, 10585, 1145, ".", 40000, 2800],
    "a_marok": [44795, 1015, 95, ".", 9000, 600],
    "a_antaru": [23335, 850, 90, ".", 2500, 150],
    "a_suri": [52519, 1710, 205, ".", 7000, 400],
    "a_tur": [47773, 1370, 110, ".", 9500, 700],
    "a_ov_nw": [77701, 5640, 645, ".", None, 950],
    "g_hhgro": [2.0, 1.5, 1.4, ".", 2.2, 2.5],
    "g_gewsek": [9.1, 20.3, 25.0, ".", 8.4, 7.7],
})


def test_kwb_2019_xlsx_migratieachtergrond(tmp_path):
    path = tmp_path / "kwb-2019.xlsx"
    KWB_2019.to_excel(path, index=False, sheet_name="KWB2019")  # numbers as numbers, '.' as text
    t = imports.read_kwb_file(path)
    assert t.meta.year == 2019 and t.meta.scheme == "migratieachtergrond"
    assert t.meta.source_kind == "kwb-xlsx" and t.meta.scope == "GM0599"
    d = t.data.set_index("code")
    src = KWB_2019.set_index("gwb_code_10")
    cols = {"inwoners": "a_inw", "westers": "a_w_all", "niet_westers": "a_nw_all", "marokko": "a_marok",
            "antillen_aruba": "a_antaru", "suriname": "a_suri", "turkije": "a_tur",
            "overig_niet_westers": "a_ov_nw", "gem_huishoudensgrootte": "g_hhgro",
            "geweld_per_1000": "g_gewsek"}
    for code in src.index:
        for var, col in cols.items():
            exp, got = _num(src.loc[code, col]), d.loc[code, var]
            assert (math.isnan(exp) and math.isnan(got)) or got == exp, (code, var)
    assert t.missing_reason("BU05990102", "westers") == MISSING_SUPPRESSED
    assert t.missing_reason("WK059902", "overig_niet_westers") == MISSING_EMPTY
    assert d.loc["BU05990102", "indelingswijziging"] == "3"
    assert d.loc["BU05990101", "nederlandse_achtergrond"] == 4525 - 1070 - 1145
    assert math.isnan(d.loc["BU05990102", "nederlandse_achtergrond"])
    assert t.missing_reason("BU05990102", "nederlandse_achtergrond") == MISSING_SUPPRESSED
    assert (t.missing["herkomst_nederland"] == MISSING_NOT_IN_TABLE).all()


def test_old_percentage_columns_become_counts(tmp_path):
    """Old kwb files (before 2017) give p_west_al / p_n_w_al: percentages of inwoners."""
    frame = pd.DataFrame({
        "gwb_code_10": ["GM0014", "WK001400", "BU00140000"],
        "regio": ["Groningen", "Centrum", "Binnenstad-Noord"],
        "recs": ["Gemeente", "Wijk", "Buurt"],
        "a_inw": ["200952", "20000", "."],
        "p_west_al": ["7", "10", "12"],
        "p_n_w_al": ["9", "", "5"],
        "p_marokko": ["1", "0", "."],
    })
    path = tmp_path / "kwb-2015.csv"
    frame.to_csv(path, index=False)
    t = imports.read_kwb_file(path)
    d = t.data.set_index("code")
    assert d.loc["GM0014", "westers"] == round(200952 * 0.07)
    assert d.loc["GM0014", "niet_westers"] == round(200952 * 0.09)
    assert d.loc["WK001400", "westers"] == 2000 and d.loc["WK001400", "marokko"] == 0
    assert t.missing_reason("WK001400", "niet_westers") == MISSING_EMPTY
    # no inwoners -> no count, with the reason of the base
    assert math.isnan(d.loc["BU00140000", "westers"])
    assert t.missing_reason("BU00140000", "westers") == MISSING_SUPPRESSED
    assert t.meta.units["westers"] == DERIVED_FROM_PCT and t.meta.resolved_keys["westers"] == "p_west_al"
    assert t.meta.scheme == "migratieachtergrond"


def test_kwb_errors(tmp_path):
    with pytest.raises(MissingImportFile, match="bestaat niet") as info:
        imports.read_kwb_file(tmp_path / "kwb-2024.xlsx")
    assert isinstance(info.value, FileNotFoundError)
    xls = tmp_path / "kwb-2019.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportFileError, match=r"\.xls.*niet ondersteund"):
        imports.read_kwb_file(xls)
    noyear = tmp_path / "kerncijfers.csv"
    noyear.write_text("gwb_code_10,a_inw\nGM0344,10\n")
    with pytest.raises(ImportFileError, match="jaar"):
        imports.read_kwb_file(noyear)
    assert imports.read_kwb_file(noyear, year=2024).row("GM0344")["inwoners"] == 10
    nocode = tmp_path / "kwb-2024.csv"
    nocode.write_text("naam;inwoners\nUtrecht;10\n")
    with pytest.raises(ImportFileError, match="geen kolom met gebiedscodes"):
        imports.read_kwb_file(nocode)
    empty = tmp_path / "kwb-2023.csv"
    empty.write_text("")
    with pytest.raises(ImportFileError, match="leeg"):
        imports.read_kwb_file(empty)
    bad = tmp_path / "kwb-2022.xlsx"
    bad.write_text("geen excel")
    with pytest.raises(ImportFileError, match="Excel"):
        imports.read_kwb_file(bad)


def test_gwb_code_8_with_recs(tmp_path):
    path = tmp_path / "kwb-2024.csv"
    pd.DataFrame({"gwb_code_8": ["0344", "034401", "03440111"], "recs": ["Gemeente", "Wijk", "Buurt"],
                  "regio": ["Utrecht", "West", "Welgelegen"], "a_inw": ["1", "2", "3"]}
                 ).to_csv(path, index=False)
    t = imports.read_kwb_file(path)
    assert list(t.data["code"]) == ["GM0344", "WK034401", "BU03440111"]


# ============================================================================ kwb files of every year
@pytest.mark.parametrize("raw,expected", [
    ("12,5", 12.5), ("12.5", 12.5), ("   1810", 1810.0), ("0", 0.0), (" 0 ", 0.0), ("1e-05", 1e-05),
    ("17942942.0", 17942942.0), (",5", 0.5), ("-99995", -99995.0),
    # one separator is ambiguous: the CBS convention (it is the decimal separator), never 1
    ("1.234", 1.234), ("1,234", 1.234),
    # unambiguous thousands separators are read as such in any file
    ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("1.234.567", 1234567.0), ("1,234,567", 1234567.0),
    (".", "."), ("       .", "."), ("\u00a0.", "."),                  # suppressed
    (",", None), ("", None), ("   ", None), (None, None), (math.nan, None),  # empty
    ("abc", None), ("1.2.3", None), ("12,5,", None),                 # no number: empty, not 0
])
def test_parse_kwb_cell(raw, expected):
    assert imports.parse_kwb_cell(raw) == expected


def test_number_convention_of_the_file():
    assert imports.kwb_number_convention(["12,5", "12.5", "1.234", ".", ",", None]) == imports.DECIMAL_ANY
    dots = imports.kwb_number_convention(["12,5", "1.234.567"])
    assert dots == imports.DOT_THOUSANDS
    assert imports.parse_kwb_cell("1.234", dots) == 1234.0 and imports.parse_kwb_cell("12,5", dots) == 12.5
    commas = imports.kwb_number_convention(["1,234,567", "7"])
    assert commas == imports.COMMA_THOUSANDS
    assert imports.parse_kwb_cell("1,234", commas) == 1234.0 and imports.parse_kwb_cell("2.5", commas) == 2.5


def test_thousands_dots_in_a_file_decide_its_ambiguous_values(tmp_path):
    path = tmp_path / "kwb-2021.csv"
    path.write_text("gwb_code_10;a_inw;a_hh;g_hhgro\n"
                    "GM7001;1.234.567;1.234;2,1\n"
                    "WK700101;   12.345;   5.678;1,9\n", encoding="utf-8")
    t = imports.read_kwb_file(path)
    assert t.row("GM7001")["inwoners"] == 1234567 and t.row("GM7001")["huishoudens"] == 1234
    assert t.row("WK700101")["inwoners"] == 12345 and t.row("WK700101")["gem_huishoudensgrootte"] == 1.9


@pytest.mark.parametrize("extra,convention", [
    ([], imports.DECIMAL_ANY),
    (["1.234.567", "1.234,5"], imports.DOT_THOUSANDS),
    (["1,234,567", "1,234.5"], imports.COMMA_THOUSANDS),
], ids=["decimal", "dots", "commas"])
def test_whole_columns_read_as_cell_by_cell(tmp_path, extra, convention):
    """The column-wise reading gives what parse_kwb_cell gives per cell, in each convention."""
    cells = ["12,5", "12.5", "   1810", "0", "1e-05", ",5", "-99995", "1.234", "1,234", ".",
             "       .", ",", "", "abc", "1.2.3", "1 234", "+5", "-3,5", "5.", "7,"] + extra
    codes = [f"BU7001{i:04d}" for i in range(len(cells))]
    for with_dots in (True, False):
        col = cells if with_dots else [c for c in cells if c.strip() != "."]
        path = tmp_path / f"kwb-2021-{with_dots}.csv"
        path.write_text("gwb_code_10;a_inw\n" + "".join(f"{c};{v}\n" for c, v in zip(codes, col)),
                        encoding="utf-8")
        t = imports.read_kwb_file(path)
        assert imports.kwb_number_convention(col) == convention
        for i, raw in enumerate(col):
            want = imports.parse_kwb_cell(raw, convention)
            got, reason = t.data.at[i, "inwoners"], t.missing.at[i, "inwoners"]
            if want is None:
                assert math.isnan(got) and reason == MISSING_EMPTY, raw
            elif want == ".":
                assert math.isnan(got) and reason == MISSING_SUPPRESSED, raw
            elif want <= -99990:
                assert math.isnan(got) and reason == MISSING_SENTINEL, raw
            else:
                assert got == want and reason is None, (raw, got, want)


def _check_generated(table, gen: kwb_files.GeneratedKwb) -> None:
    cat = load_catalogue()
    scheme = "migratieachtergrond" if gen.year <= 2022 else "herkomst"
    assert table.meta.year == gen.year and table.meta.scheme == scheme
    assert list(table.data["code"]) == [a[0] for a in kwb_files.AREAS]
    origin = [g.variable for g in cat.schemes[scheme].groups]
    assert set(origin) <= set(gen.expected.columns)
    data = table.data.set_index("code")
    missing = table.missing.set_index(table.data["code"])
    for var in gen.expected.columns:
        for code in gen.expected.index:
            want, got = gen.expected.at[code, var], data.at[code, var]
            reason = missing.at[code, var]
            if math.isnan(want):
                assert math.isnan(got) and reason == gen.reasons[(code, var)], (gen.year, code, var, got)
            else:
                assert got == want and reason is None, (gen.year, code, var, got, want)
    # the catalogue name of each variable is the one of that year's layout
    for var, col in gen.columns.items():
        assert table.meta.resolved_keys[var] == col.strip(), (gen.year, var)
    if scheme == "migratieachtergrond":
        for var in ("turkije", "suriname"):
            assert table.data[var].notna().sum() >= len(table.data) - 2, var
        assert (table.missing["herkomst_nederland"] == MISSING_NOT_IN_TABLE).all()
    else:
        for var in ("turkije", "suriname", "westers"):
            assert (table.missing[var] == MISSING_NOT_IN_TABLE).all()
    for var in EDUCATION:
        assert table.data[var].notna().sum() >= len(table.data) - 2, var
    # suppressed and empty cells are missing with their reason, never 0
    for (code, var), reason in gen.reasons.items():
        assert reason in (MISSING_SUPPRESSED, MISSING_EMPTY)
        assert table.missing_reason(code, var) == reason
    assert sum(r == MISSING_SUPPRESSED for r in gen.reasons.values()) >= 5
    t = table.row(kwb_files.TINY)
    assert all(math.isnan(t[v]) for v in origin + list(EDUCATION))


@pytest.mark.slow
@pytest.mark.parametrize("year", kwb_files.YEARS)
def test_generated_kwb_file_of_every_year(tmp_path, year):
    gen = kwb_files.write_kwb_files(tmp_path, year)
    xlsx, csv = imports.read_kwb_file(gen.xlsx), imports.read_kwb_file(gen.csv)
    _check_generated(xlsx, gen)
    _check_generated(csv, gen)
    assert (xlsx.meta.source_kind, csv.meta.source_kind) == ("kwb-xlsx", "kwb-csv")
    pd.testing.assert_frame_equal(xlsx.data, csv.data)
    pd.testing.assert_frame_equal(xlsx.missing, csv.missing)
    assert xlsx.meta.scope == "bestand"
    one = imports.read_kwb_file(gen.csv, gemeente="GM7002")
    assert list(one.data["code"]) == ["NL00", "GM7002", "WK700201", "BU70020101", "BU70020102"]
    assert one.row("GM7002")["name"] == "Lytsedoarp-Fryslân"


def test_kwb_2022_lone_commas_and_both_groups(tmp_path):
    """The defect found: a kwb-2022.xlsx as CBS publishes it lost Turkije and Suriname."""
    gen = kwb_files.write_kwb_files(tmp_path, 2022)
    assert gen.cells.at["BU70010202", "a_tur"] == "," and gen.cells.at["WK700201", "a_suri"] == ","
    t = imports.read_kwb_file(gen.xlsx)
    assert t.meta.resolved_keys["turkije"] == "a_tur" and t.meta.resolved_keys["suriname"] == "a_suri"
    gm = t.row("GM7001")
    assert gm["turkije"] == gen.expected.at["GM7001", "turkije"] > 0
    assert gm["suriname"] == gen.expected.at["GM7001", "suriname"] > 0
    for code, var in (("BU70010202", "turkije"), ("WK700201", "suriname"), ("BU70010201", "gem_huishoudensgrootte"),
                      ("BU70020102", "opleiding_midden")):
        assert math.isnan(t.row(code)[var]) and t.missing_reason(code, var) == MISSING_EMPTY


@pytest.mark.slow
def test_kwb_2024_trailing_spaces_in_headers(tmp_path):
    gen = kwb_files.write_kwb_files(tmp_path, 2024)
    header = gen.cells.columns
    assert [c for c in header if c != c.strip()] == list(kwb_files.TRAILING_SPACE_2024)
    # no catalogue variable reads these three; a catalogue that does must find them
    cat = load_catalogue()
    extra = {"nieuwbouw": Variable("nieuwbouw", "Nieuwbouwwoningen", "aantal", kwb=("a_nb_won",)),
             "won_m": Variable("won_m", "Woningen m", "%", kwb=("p_won_m",)),
             "won_ev": Variable("won_ev", "Woningen ev", "%", kwb=("p_won_ev",))}
    wider = dataclasses.replace(cat, variables={**cat.variables, **extra})
    for path in (gen.xlsx, gen.csv):
        t = imports.read_kwb_file(path, catalogue=wider)
        for var, col in zip(extra, kwb_files.TRAILING_SPACE_2024):
            assert t.meta.resolved_keys[var] == col.strip()
            want = [float(gen.cells.at[c, col]) for c in gen.expected.index]
            assert t.data[var].tolist() == want, (path.suffix, var)
        for var in EDUCATION:
            assert t.meta.resolved_keys[var] in ("a_opl_bvm", "a_opl_hvm", "a_opl_hw")


def test_births_and_deaths_are_per_1000_never_percentages(tmp_path):
    cat = load_catalogue()
    for var in cat.variables.values():
        if set(var.kwb) & set(imports.KWB_PER_1000):
            assert var.unit == imports.PER_1000, var.id
    gen = kwb_files.write_kwb_files(tmp_path, 2021)
    extra = {"geboorte_per_1000": Variable("geboorte_per_1000", "Geboorte", "aantal", kwb=("p_geb",))}
    t = imports.read_kwb_file(gen.csv, catalogue=dataclasses.replace(cat, variables={**cat.variables, **extra}))
    assert t.meta.units["geboorte_per_1000"] == imports.PER_1000
    assert t.data["geboorte_per_1000"].tolist() == [float(v) for v in gen.cells["p_geb"]]


@pytest.mark.slow
def test_real_utrecht_2023_education_and_herkomst():
    shared = require_shared(UTRECHT_2023_XLSX)
    raw = pd.read_excel(shared / UTRECHT_2023_XLSX, dtype=str)
    t = imports.read_kwb_file(shared / UTRECHT_2023_XLSX)
    assert t.meta.year == 2023 and t.meta.scheme == "herkomst" and t.meta.scope == "GM0344"
    assert len(t.data) == 122
    gm = t.row("GM0344")
    assert (gm["inwoners"], gm["herkomst_nederland"], gm["herkomst_europa"],
            gm["herkomst_buiten_europa"]) == (367947, 222298, 38274, 107375)
    # this (early) release names education a_opl_lg/md/hg and suppresses it everywhere
    assert [t.meta.resolved_keys[v] for v in EDUCATION] == ["a_opl_lg", "a_opl_md", "a_opl_hg"]
    assert (raw[["a_opl_lg", "a_opl_md", "a_opl_hg"]] == ".").all().all()
    for var in EDUCATION + ("opleiding_totaal",):
        assert t.data[var].isna().all() and (t.missing[var] == MISSING_SUPPRESSED).all(), var
    # Turkije and Suriname do not exist in the herkomst scheme
    for var in ("turkije", "suriname"):
        assert (t.missing[var] == MISSING_NOT_IN_TABLE).all()
    by_code = raw.set_index(raw["gwb_code_10"].str.strip())
    for row in t.data.itertuples():
        for var, col in ORIGIN_2024.items():
            assert getattr(row, var) == _num(by_code.at[row.code, col]), (row.code, var)
    assert t.row("BU03440111")["gem_huishoudensgrootte"] == 1.6


@pytest.mark.slow
def test_real_utrecht_2024_education_and_padded_cells(tmp_path, utrecht_xlsx, utrecht_raw):
    t = utrecht_xlsx
    assert [t.meta.resolved_keys[v] for v in EDUCATION] == ["a_opl_lg", "a_opl_md", "a_opl_hg"]
    for var in EDUCATION:
        assert t.data[var].isna().all() and (t.missing[var] == MISSING_SUPPRESSED).all(), var
    # this extract has 121 columns without a_nb_won / p_won_m / p_won_ev and no padded header;
    # the same real cells with kwb-2024 header spaces and CBS-padded values read the same
    assert not {c.strip() for c in kwb_files.TRAILING_SPACE_2024} & set(utrecht_raw.columns)
    padded = utrecht_raw.copy()
    padded.columns = [c if c.startswith("gwb_code") else c + " " for c in padded.columns]
    padded = padded.map(lambda v: v if pd.isna(v) else (
        "       ." if v == "." else v.rjust(10) if v[:1].isdigit() else v))
    path = tmp_path / "kwb-2024-utrecht-padded.csv"
    padded.to_csv(path, sep=";", index=False)
    again = imports.read_kwb_file(path)
    pd.testing.assert_frame_equal(again.data, t.data)
    pd.testing.assert_frame_equal(again.missing, t.missing)


# ============================================================================ GeoPackage
def test_ermelo_gpkg_2021_old_names():
    shared = require_shared(ERMELO_GPKG)
    path = shared / ERMELO_GPKG
    table, gdf = imports.read_wijkbuurtkaart(path)
    d = table.data
    # 17 features, one of them the water buurt BU02339997 (water = JA): dropped
    orig = gpd.read_file(path)
    assert len(orig) == 17 and list(orig.loc[orig["water"] == "JA", "buurtcode"]) == ["BU02339997"]
    assert len(d) == 16 and "BU02339997" not in set(d["code"])
    assert (d["level"] == "buurt").all() and (d["gemeente_code"] == "GM0233").all()
    assert d["code"].str.fullmatch(r"BU0233\d{4}").all()
    assert (d["gemeente_name"] == "Ermelo").all()
    assert table.meta.year == 2021 and table.meta.scheme == "migratieachtergrond"
    assert table.meta.source_kind == "gpkg" and table.meta.table_id == path.name
    assert table.meta.resolved_keys["westers"] == "percentage_westerse_migratieachtergrond"
    assert table.meta.resolved_keys["overig_niet_westers"] == \
        "percentage_overige_nietwestersemigratieachtergrond"
    assert table.meta.units["westers"] == DERIVED_FROM_PCT
    # the early 2021 release has no values: missing, never 0
    for var in ("inwoners", "westers", "niet_westers", "marokko", "turkije", "suriname",
                "antillen_aruba", "overig_niet_westers", "nederlandse_achtergrond"):
        assert d[var].isna().all(), var
        assert table.missing[var].notna().all(), var
    assert (table.missing["westers"] == MISSING_EMPTY).all()
    # geometry: EPSG:28992 -> 4326, same shapes
    assert gdf.crs.to_epsg() == 4326 and _in_nl(gdf) and len(gdf) == 16
    assert list(gdf["code"]) == list(d["code"])
    orig = orig[orig["water"] != "JA"].to_crs(28992)
    back = gdf.to_crs(28992)
    assert np.allclose(back.area.values, orig.area.values, rtol=1e-6)
    with pytest.raises(ImportFileError, match="geen laag met wijken"):
        imports.read_wijkbuurtkaart(path, level="wijk")
    with pytest.raises(ImportFileError, match="geen gebieden van gemeente GM0228"):
        imports.read_wijkbuurtkaart(path, gemeente="GM0228")


def _synthetic_gpkg(path):
    """A Wijk- en Buurtkaart-like GeoPackage from the demo features: EPSG:28992, snake_case
    attributes, negative sentinels, percentages. Returns the attribute frames per level."""
    feats = generate(2024).features
    rng = np.random.default_rng(42)
    frames = {}
    for layer, level in (("gemeenten", "gemeente"), ("wijken", "wijk"), ("buurten", "buurt")):
        gdf = gpd.GeoDataFrame.from_features(feats[layer], crs="EPSG:4326")
        n = len(gdf)
        inw = rng.integers(50, 5000, n).astype(np.int64)
        pct_nl = rng.integers(30, 90, n).astype(np.int64)
        pct_be = rng.integers(1, 40, n).astype(np.int64)
        hh = (inw / 2).astype(np.int64)
        pct_1p = rng.integers(20, 60, n).astype(np.int64)
        woz = rng.integers(150, 600, n).astype(np.int64)
        inw[1] = -99997        # no data for the number of residents
        pct_nl[2] = -99995     # no data for one percentage
        woz[3] = -99999997
        attrs = {"aantal_inwoners": inw, "percentage_met_herkomstland_nederland": pct_nl,
                 "percentage_met_herkomstland_buiten_europa": pct_be, "aantal_huishoudens": hh,
                 "percentage_eenpersoonshuishoudens": pct_1p, "gemiddelde_woz_waarde_woning": woz,
                 "indelingswijziging_wijken_en_buurten": np.ones(n, dtype=np.int64),
                 "water": ["NEE"] * n}
        out = gpd.GeoDataFrame(attrs, geometry=gdf.geometry.values, crs="EPSG:4326")
        code = gdf[f"{level}code"].values
        if level == "gemeente":   # like the gebiedsindelingen: jaarstatcode + statnaam only
            out.insert(0, "jaarstatcode", ["2024" + c for c in code])
            out.insert(1, "statnaam", gdf["gemeentenaam"].values)
        else:
            out.insert(0, f"{level}code", code)
            out.insert(1, f"{level}naam", gdf[f"{level}naam"].values)
            out.insert(2, "gemeentecode", gdf["gemeentecode"].values)
            out.insert(3, "gemeentenaam", gdf["gemeentenaam"].values)
        if level == "buurt":      # a water-only buurt, to be dropped
            water = out.iloc[[0]].copy()
            water[f"{level}code"] = "BU99019999"
            water["water"] = "JA"
            out = pd.concat([out, water], ignore_index=True)
        out.to_crs(28992).to_file(path, layer=layer, driver="GPKG")
        frames[level] = out
    return frames


@pytest.mark.slow
def test_generated_gpkg_value_by_value(tmp_path):
    path = tmp_path / "wijkenbuurten_2024_v1.gpkg"
    frames = _synthetic_gpkg(path)
    table, gdf = imports.read_wijkbuurtkaart(path)
    d = table.data.set_index("code")
    assert table.meta.year == 2024 and table.meta.scheme == "herkomst" and table.meta.scope == "bestand"
    assert "BU99019999" not in d.index and "BU99019999" not in set(gdf["code"])
    n_expected = sum(len(f) for f in frames.values()) - 1
    assert len(d) == n_expected and len(gdf) == n_expected
    assert list(gdf["code"]) == list(table.data["code"])
    assert list(table.data["level"].unique()) == ["gemeente", "wijk", "buurt"]
    assert table.meta.units["herkomst_nederland"] == DERIVED_FROM_PCT
    assert table.meta.units["inwoners"] == "aantal" and table.meta.units["woz"] == "x 1 000 euro"
    checked = 0
    for level, f in frames.items():
        for _, src in f.iterrows():
            if src["water"] == "JA":
                continue
            code = src["jaarstatcode"][4:] if level == "gemeente" else src[f"{level}code"]
            row = d.loc[code]
            reason = table.missing.loc[table.data.index[table.data["code"] == code][0]]
            assert row["level"] == level
            assert row["name"] == (src["statnaam"] if level == "gemeente" else src[f"{level}naam"])
            assert row["indelingswijziging"] == "1"
            inw = src["aantal_inwoners"]
            if inw < 0:
                assert math.isnan(row["inwoners"]) and reason["inwoners"] == MISSING_SENTINEL
                assert math.isnan(row["herkomst_nederland"])
                assert reason["herkomst_nederland"] == MISSING_SENTINEL
            else:
                assert row["inwoners"] == inw and reason["inwoners"] is None
                if src["percentage_met_herkomstland_nederland"] < 0:
                    assert math.isnan(row["herkomst_nederland"])
                    assert reason["herkomst_nederland"] == MISSING_SENTINEL
                else:
                    assert row["herkomst_nederland"] == round(
                        src["percentage_met_herkomstland_nederland"] / 100 * inw)
                assert row["herkomst_buiten_europa"] == round(
                    src["percentage_met_herkomstland_buiten_europa"] / 100 * inw)
            hh = src["aantal_huishoudens"]
            assert row["huishoudens"] == hh
            assert row["eenpersoonshuishoudens"] == round(src["percentage_eenpersoonshuishoudens"] / 100 * hh)
            if src["gemiddelde_woz_waarde_woning"] < 0:
                assert math.isnan(row["woz"]) and reason["woz"] == MISSING_SENTINEL
            else:
                assert row["woz"] == src["gemiddelde_woz_waarde_woning"]
            assert reason["herkomst_europa"] == MISSING_NOT_IN_TABLE
            checked += 1
    assert checked == n_expected
    # gemeente codes: from jaarstatcode (year stripped) and from gemeentecode
    assert d.loc["GM9901", "name"] == "Voorbeeldgemeente" and d.loc["GM9901", "gemeente_code"] == "GM9901"
    assert (d.loc[d["level"] != "gemeente", "gemeente_code"] == "GM9901").all()
    assert (d.loc[d["level"] == "buurt", "gemeente_name"] == "Voorbeeldgemeente").all()
    # geometry: written in RD, back in 4326, the same shapes
    assert gdf.crs.to_epsg() == 4326 and _in_nl(gdf)
    src_geo = pd.concat([f for f in frames.values()])
    src_geo = src_geo[src_geo["water"] != "JA"]
    for a, b in zip(gdf.geometry.values, src_geo.geometry.values):
        assert a.symmetric_difference(b).area < 1e-6 * max(b.area, 1e-9) + 1e-12


@pytest.mark.slow
def test_generated_gpkg_level_and_gemeente(tmp_path):
    path = tmp_path / "wijkenbuurten_2024.gpkg"
    _synthetic_gpkg(path)
    t, g = imports.read_wijkbuurtkaart(path, level="wijk")
    assert (t.data["level"] == "wijk").all() and len(t.data) == 6 and len(g) == 6
    t, g = imports.read_wijkbuurtkaart(path, gemeente="GM9901")
    assert set(t.data["gemeente_code"]) == {"GM9901"} and t.meta.scope == "GM9901"
    assert t.data["level"].value_counts().to_dict() == {"buurt": 37, "wijk": 6, "gemeente": 1}
    t, _ = imports.read_wijkbuurtkaart(path, level="gemeente", year=2023)
    assert len(t.data) == 12 and t.meta.year == 2023 and t.meta.scope == "gemeenten"
    with pytest.raises(ImportFileError, match="Onbekend niveau"):
        imports.read_wijkbuurtkaart(path, level="provincie")
    with pytest.raises(ImportFileError, match="gemeentecode"):
        imports.read_wijkbuurtkaart(path, gemeente="Ede")


def test_pdok_geojson_export_camel_case():
    """The real PDOK 2024 wijken of Ede (camelCase attributes, CRS84) through read_any."""
    shared = require_shared(EDE_WIJKEN_2024)
    raw = gpd.read_file(shared / EDE_WIJKEN_2024)
    table, gdf = imports.read_any(shared / EDE_WIJKEN_2024)
    d = table.data.set_index("code")
    assert len(d) == 17 and table.meta.year == 2024 and table.meta.scheme == "herkomst"
    assert table.meta.resolved_keys["herkomst_nederland"] == "percentageMetHerkomstlandNederland"
    for _, src in raw.iterrows():
        row = d.loc[src["wijkcode"]]
        inw = src["aantalInwoners"]
        assert row["inwoners"] == inw and row["name"] == src["wijknaam"]
        assert row["herkomst_nederland"] == round(src["percentageMetHerkomstlandNederland"] / 100 * inw)
        assert row["herkomst_buiten_europa"] == round(src["percentageMetHerkomstlandBuitenEuropa"] / 100 * inw)
    assert gdf.crs.to_epsg() == 4326 and _in_nl(gdf)


# ============================================================================ read_any
@pytest.mark.slow
def test_read_any_dispatch_and_errors(tmp_path):
    xlsx = tmp_path / "kwb-2019.xlsx"
    KWB_2019.to_excel(xlsx, index=False)
    table, geo = imports.read_any(xlsx)
    assert geo is None and len(table.data) == 6
    gpkg = tmp_path / "buurten_2024.gpkg"
    _synthetic_gpkg(gpkg)
    table, geo = imports.read_any(gpkg, level="buurt")
    assert len(geo) == len(table.data) == 37
    with pytest.raises(MissingImportFile, match="bestaat niet"):
        imports.read_any(tmp_path / "weg.gpkg")
    for name, pattern in (("kaart.pdf", "wordt niet ondersteund"), ("kwb-2024.zip", "pak het eerst uit"),
                          ("buurten.shp", "shapefile"), ("zonder_extensie", "niet ondersteund")):
        (tmp_path / name).write_bytes(b"x")
        with pytest.raises(ImportFileError, match=pattern):
            imports.read_any(tmp_path / name)
    notgeo = tmp_path / "kapot.gpkg"
    notgeo.write_bytes(b"not a geopackage")
    with pytest.raises(ImportFileError, match="niet als GeoPackage"):
        imports.read_any(notgeo)
    nocodes = tmp_path / "punten_2024.gpkg"
    gpd.GeoDataFrame({"buurtnaam": ["x"]}, geometry=[shapely.Point(5, 52)], crs=4326).to_file(
        nocodes, layer="buurten", driver="GPKG")
    with pytest.raises(ImportFileError, match="geen kolom met gebiedscodes"):
        imports.read_any(nocodes)
