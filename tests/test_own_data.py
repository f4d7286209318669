"""Own figures by origin group ("eigen gegevens"): the check, the import, the cache, the CLI,
the fictitious example. Row numbers in messages are the ones a user sees in the file."""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from buurtmonitor.integratie import own_data as od
from buurtmonitor.integratie import synthetic as own_synthetic
from buurtmonitor.integratie.own_catalogue import load_own_catalogue
from loaders import own_data as io_od
from loaders import repository
from loaders.cache import ParquetStore

REPO = Path(__file__).resolve().parents[1]
AREAS = od.AreaIndex({
    2023: {"GM9901": "Voorbeeldgemeente", "WK990101": "Noorderkwartier", "BU99010101": "Lindelaan 1.1"},
    2024: {"GM9901": "Voorbeeldgemeente", "WK990101": "Noorderkwartier", "BU99010101": "Lindelaan 1.1",
           "BU99010190": "Lindelaan 1.2 Oost"},
}, "GM9901")


def rec(**kw) -> dict:
    base = {"gebiedscode": "WK990101", "jaar": "2024", "herkomstgroep": "buiten_europa", "indicator": "bijstand",
            "teller": "120", "noemer": "1000", "waarde": None, "eenheid": "%", "bron": "O&S Voorbeeldgemeente",
            "opmerking": None}
    base.update(kw)
    return base


def good_records() -> list[dict]:
    return [
        rec(gebiedscode="GM9901", herkomstgroep="totaal", teller="3000", noemer="60000"),
        rec(),
        rec(herkomstgroep="nederland", teller="40", noemer="2000"),
        rec(gebiedscode="BU99010101", herkomstgroep="Syrië", indicator="werkloosheid", teller="3", noemer="8"),
        rec(gebiedscode="BU99010101", herkomstgroep="europa", indicator="gemiddeld_inkomen", teller=None,
            noemer="250", waarde="31,5", eenheid="x 1 000 euro"),
    ]


def check(records, areas=AREAS) -> od.ImportReport:
    return od.validate(od.ParsedFile.from_records(records), areas)


# ============================================================================ the check
def test_a_valid_file_gives_the_long_frame():
    r = check(good_records())
    assert r.ok and r.rows_accepted == 5 and r.rows_read == 5
    f = r.frame
    assert list(f.columns) == list(od.FRAME_COLUMNS)
    assert set(od.LONG_COLUMNS) <= set(f.columns)
    row = f[(f["area_code"] == "WK990101") & (f["group"] == "buiten_europa")].iloc[0]
    assert row["value"] == pytest.approx(12.0) and row["n"] == 1000 and row["numerator"] == 120
    assert row["level"] == "wijk" and row["gemeente_code"] == "GM9901" and row["gemeente_name"] == "Voorbeeldgemeente"
    assert row["area_name"] == "Noorderkwartier" and row["unit"] == "%" and row["api"] == od.API_OWN
    assert row["source"] == "O&S Voorbeeldgemeente" and row["missing"] is None and row["year"] == 2024
    assert set(f["group"]) == {"totaal", "buiten_europa", "nederland", "syrie", "europa"}
    inc = f[f["indicator"] == "gemiddeld_inkomen"].iloc[0]
    assert inc["value"] == pytest.approx(31.5) and inc["unit"] == "x 1 000 euro" and math.isnan(inc["numerator"])


def test_one_bad_row_imports_nothing_and_names_that_row():
    records = good_records()
    records.insert(3, rec(herkomstgroep="marsmannetjes"))   # data row 4 = file row 5
    r = check(records)
    assert not r.ok and r.frame.empty and r.rows_accepted == 0
    assert [e.row for e in r.errors] == [5]
    assert str(r.errors[0]).startswith("Rij 5 (kolom herkomstgroep): onbekende herkomstgroep 'marsmannetjes'")
    assert "er is niets ingelezen" in r.summary()


@pytest.mark.parametrize("change, column, message", [
    ({"gebiedscode": "BU99019999"}, "gebiedscode", "bestaat niet in de CBS-gebiedsindeling 2024 van Voorbeeldgemeente (GM9901)"),
    ({"gebiedscode": "WK022801"}, "gebiedscode", "de code hoort bij gemeente GM0228"),
    ({"gebiedscode": "Noorderkwartier"}, "gebiedscode", "is geen gebiedscode"),
    ({"gebiedscode": "BU99010190", "jaar": "2023"}, "gebiedscode", "CBS-gebiedsindeling 2023"),
    ({"herkomstgroep": "westers-ish"}, "herkomstgroep", "onbekende herkomstgroep 'westers-ish'"),
    ({"indicator": "geluk"}, "indicator", "onbekende indicator 'geluk'"),
    ({"teller": "-5"}, "teller", "teller is negatief"),
    ({"noemer": "-1000"}, "noemer", "noemer is negatief"),
    ({"teller": "1200"}, "teller", "teller (1.200) is groter dan noemer (1.000)"),
    ({"teller": None, "noemer": None, "waarde": "120"}, "waarde", "ligt buiten het bereik van de eenheid '%' (0–100)"),
    ({"teller": None, "noemer": None, "waarde": "-0,5"}, "waarde", "ligt buiten het bereik"),
    ({"indicator": "gemiddeld_inkomen", "eenheid": "x 1 000 euro", "teller": None, "waarde": "-3"}, "waarde",
     "ligt buiten het bereik"),
    ({"teller": "inf"}, "teller", "'inf' is geen eindig getal"),
    ({"teller": None, "noemer": None, "waarde": "NaN"}, "waarde", "'NaN' is geen eindig getal"),
    ({"noemer": "1e400"}, "noemer", "'1e400' is geen eindig getal"),
    ({"noemer": "12345678901234567890123"}, "noemer", "te veel cijfers"),
    ({"noemer": float("inf")}, "noemer", "geen eindig getal"),
    ({"noemer": 1e22}, "noemer", "te groot"),
    ({"noemer": True}, "noemer", "geen getal"),
    ({"noemer": "veel"}, "noemer", "'veel' is geen getal"),
    ({"noemer": "1.234"}, "noemer", "'1.234' is niet eenduidig: 1234 (met de punt als duizendtalscheiding) of 1,234"),
    ({"noemer": "1,234"}, "noemer", "'1,234' is niet eenduidig"),
    ({"gebiedscode": ""}, "gebiedscode", "gebiedscode ontbreekt"),
    ({"jaar": None}, "jaar", "jaar ontbreekt"),
    ({"jaar": "24"}, "jaar", "'24' is geen jaartal"),
    ({"jaar": "2024,5"}, "jaar", "geen jaartal"),
    ({"jaar": "2019"}, "jaar", "voor 2019 is geen CBS-gebiedsindeling van Voorbeeldgemeente (GM9901) beschikbaar"),
    ({"herkomstgroep": " "}, "herkomstgroep", "herkomstgroep ontbreekt"),
    ({"indicator": None}, "indicator", "indicator ontbreekt"),
    ({"eenheid": None}, "eenheid", "eenheid ontbreekt"),
    ({"bron": ""}, "bron", "bron ontbreekt"),
    ({"bron": "x" * 301}, "bron", "bron is langer dan 300 tekens"),
    ({"eenheid": "x 1 000 euro"}, "eenheid", "eenheid 'x 1 000 euro' past niet bij indicator bijstand (verwacht: '%')"),
    ({"indicator": "gemiddeld_inkomen", "eenheid": "%", "teller": None, "waarde": "30"}, "eenheid",
     "past niet bij indicator gemiddeld_inkomen"),
    ({"teller": "12%"}, "teller", "een teller is een aantal personen, geen percentage"),
    ({"indicator": "gemiddeld_inkomen", "eenheid": "x 1 000 euro", "teller": None, "waarde": "30%"}, "waarde",
     "'30%' is een percentage, maar de eenheid van gemiddeld_inkomen is 'x 1 000 euro'"),
    ({"teller": None, "noemer": None}, None, "geen waarde: vul teller en noemer in, of waarde"),
    ({"noemer": None}, "noemer", "teller zonder noemer"),
    ({"teller": None}, "teller", "noemer zonder teller"),
    ({"waarde": "12"}, "waarde", "geef teller en noemer óf waarde, niet allebei"),
    ({"indicator": "gemiddeld_inkomen", "eenheid": "x 1 000 euro"}, "teller", "is geen aandeel"),
])
def test_every_error_kind_names_row_column_and_problem(change, column, message):
    records = [rec(gebiedscode="GM9901"), rec(**change)]
    r = check(records)
    assert not r.ok and r.frame.empty
    assert all(e.row == 3 for e in r.errors), [str(e) for e in r.errors]
    hits = [e for e in r.errors if message in e.message]
    assert hits, [str(e) for e in r.errors]
    assert hits[0].column == column


def test_duplicates_name_both_rows():
    r = check([rec(), rec(gebiedscode="GM9901"), rec(teller="130")])
    assert [str(e) for e in r.errors] == [
        "Rij 4: dubbel: WK990101, 2024, buiten_europa, bijstand staat ook in rij 2"]
    # the same group by its Dutch label is the same group
    r = check([rec(), rec(herkomstgroep="Buiten Europa")])
    assert r.errors and "staat ook in rij 2" in r.errors[0].message


def test_all_errors_are_reported_not_only_the_first():
    records = [rec(teller="-3", noemer="1e400", gebiedscode="XX", eenheid="", bron=""),
               rec(), rec(indicator="geluk", jaar="3000"), rec(herkomstgroep="europa", teller="1.234")]
    r = check(records)
    by_row: dict[int, list[str]] = {}
    for e in r.errors:
        by_row.setdefault(e.row, []).append(e.column or "")
    assert set(by_row) == {2, 4, 5}
    assert {"teller", "noemer", "gebiedscode", "eenheid", "bron"} <= set(by_row[2])
    assert {"indicator", "jaar"} <= set(by_row[4])
    assert by_row[5] == ["teller"]


def test_header_problems_are_file_errors():
    parsed = od.ParsedFile(header=("gebiedscode", "jaar", "herkomstgroep", "indicator", "teller", "eenheid"),
                           rows=(od.ParsedRow(2, ("GM9901", "2024", "totaal", "bijstand", "3", "%")),))
    r = od.validate(parsed, AREAS)
    msgs = [str(e) for e in r.errors]
    assert msgs[0].startswith("Rij 1: de kopregel mist de kolom(men) 'bron'")
    assert "geen kolom 'waarde' en ook niet de kolommen 'teller' en 'noemer'" in msgs[1]
    dup = od.ParsedFile(header=(*od.FILE_COLUMNS, "Jaar"), rows=())
    assert "de kolom 'jaar' staat twee keer" in str(od.validate(dup, AREAS).errors[0])
    empty = od.ParsedFile(header=od.FILE_COLUMNS, rows=(od.ParsedRow(2, ("", None)),))
    assert "geen gegevensrijen" in str(od.validate(empty, AREAS).errors[0])


def test_header_is_forgiving_about_case_bom_order_and_extra_columns():
    header = ("\ufeffBron", "Jaar", "GEBIEDSCODE", "Herkomstgroep", "Indicator", "Teller", "Noemer", "Eenheid",
              "Gebiedsnaam")
    row = ("CBS maatwerk", 2024, "wk990101", "Buiten Europa", "Bijstand", 12, 100, "procent", "Noord")
    r = od.validate(od.ParsedFile(header=header, rows=(od.ParsedRow(2, row),)), AREAS)
    assert r.ok, r.errors
    assert r.frame.iloc[0]["group"] == "buiten_europa" and r.frame.iloc[0]["indicator"] == "bijstand"
    assert any("'Gebiedsnaam'" in w for w in r.warnings)


@pytest.mark.parametrize("text, decimal, expected", [
    ("12", None, 12.0), ("12,5", None, 12.5), ("12.5", None, 12.5), ("0.123", None, 0.123),
    ("1234.567", None, 1234.567), ("1234,567", None, 1234.567), ("1.234,5", None, 1234.5),
    ("1,234.5", None, 1234.5), ("1.234.567", None, 1234567.0), ("1,234,567", None, 1234567.0),
    ("\u22123,5", None, -3.5), ("12,5%", None, 12.5), (" 7 ", None, 7.0), ("1,5e3", None, 1500.0),
    ("1.234", ",", 1234.0), ("1.234", ".", 1.234), ("1,234", ",", 1.234), ("1,234", ".", 1234.0),
    ("", None, None), (None, None, None), (3, None, 3.0), (2.5, None, 2.5),
])
def test_numbers_dutch_and_english(text, decimal, expected):
    assert od.parse_number(text, decimal) == (pytest.approx(expected) if expected is not None else None)


def test_a_percent_sign_is_fine_for_a_percentage():
    r = check([rec(teller=None, noemer="400", waarde="12,5%")])
    assert r.ok and r.frame.iloc[0]["value"] == pytest.approx(12.5)


def test_the_file_decides_an_ambiguous_thousands_dot():
    comma_file = [rec(noemer="1.234"), rec(gebiedscode="GM9901", teller=None, noemer=None, waarde="12,5")]
    r = check(comma_file)
    assert r.ok and r.frame.iloc[0]["n"] == 1234
    point_file = [rec(indicator="gemiddeld_inkomen", eenheid="x 1 000 euro", teller=None, noemer="2000",
                      waarde="1.234"),
                  rec(gebiedscode="GM9901", teller=None, noemer=None, waarde="12.5")]
    r = check(point_file)
    assert r.ok and r.frame.iloc[0]["value"] == pytest.approx(1.234)
    both = [*comma_file, rec(gebiedscode="BU99010101", teller=None, noemer=None, waarde="3.5")]
    r = check(both)
    assert not r.ok and "zowel een komma als een punt" in r.errors[0].message and r.errors[0].row == 2


def test_small_numbers_are_te_klein_aantal_never_zero_or_the_value():
    records = [rec(teller="0", noemer="9"), rec(gebiedscode="GM9901", teller="5", noemer="10"),
               rec(gebiedscode="BU99010101", teller="0", noemer="0"),
               rec(gebiedscode="BU99010101", herkomstgroep="europa", teller=None, noemer="5", waarde="40")]
    r = check(records)
    assert r.ok and r.small_n == 3
    f = r.frame.set_index(["area_code", "group"])
    for key in [("WK990101", "buiten_europa"), ("BU99010101", "buiten_europa"), ("BU99010101", "europa")]:
        row = f.loc[key]
        assert row["missing"] == od.MISSING_SMALL_N == "te klein aantal"
        assert math.isnan(row["value"]) and math.isnan(row["numerator"]) and math.isnan(row["n"])
    shown = f.loc[("GM9901", "buiten_europa")]
    assert shown["value"] == pytest.approx(50.0) and shown["missing"] is None and od.MIN_N == 10
    assert any("3 waarde(n) rusten op minder dan 10 personen" in w for w in r.warnings)


def test_warnings_for_missing_n_and_a_group_of_the_other_scheme():
    r = check([rec(teller=None, noemer=None, waarde="12"), rec(gebiedscode="GM9901", herkomstgroep="niet_westers")])
    assert r.ok
    assert any("1 rij(en) hebben geen noemer" in w for w in r.warnings)
    assert any("niet_westers hoort bij de CBS-indeling 'migratieachtergrond'" in w for w in r.warnings)


def test_text_from_the_file_stays_text():
    r = check([rec(bron="<b>O&S</b> *vet* [x](javascript:1)", opmerking="a\x00b\nc")])
    assert r.ok
    assert r.frame.iloc[0]["source"] == "<b>O&S</b> *vet* [x](javascript:1)"
    assert r.frame.iloc[0]["note"] == "a b c"


def test_catalogue_ids_are_the_shared_ones():
    cat = load_own_catalogue()
    assert {"netto_arbeidsparticipatie", "werkloosheid", "bijstand", "laag_inkomen", "startkwalificatie",
            "voortijdig_schoolverlaters"} <= set(cat.indicators)
    assert all(i.definition and i.unit.label for i in cat.indicators.values())
    assert {"syrie", "eritrea", "polen", "marokko", "turkije", "suriname", "totaal"} <= set(cat.groups)
    assert cat.find_group("SYRIË").id == "syrie" and cat.find_group("Antillen/Aruba").id == "antillen_aruba"
    assert dict(cat.groups["syrie"].parents) == {"herkomst": "buiten_europa", "migratieachtergrond": "niet_westers"}


# ============================================================================ the example
def test_the_generated_example_validates_cleanly():
    records = own_synthetic.example_records()
    assert records == own_synthetic.example_records()          # deterministic
    report = own_synthetic.demo_own_data()
    assert report.ok and report.rows_accepted == len(records) > 2000
    assert [w for w in report.warnings if "minder dan 10 personen" not in w] == []
    f = report.frame
    assert set(f["level"]) == {"gemeente", "wijk", "buurt"} and set(f["gemeente_code"]) == {"GM9901"}
    assert set(f["indicator"]) == set(load_own_catalogue().indicators)
    assert all("FICTIEF" in b for b in f["source"].unique())
    assert report.small_n > 0 and (f["missing"] == od.MISSING_SMALL_N).sum() == report.small_n
    # buurt codes are the demo's real ones (the split buurt exists from 2022 on)
    assert "BU99010190" in set(f.loc[f["year"] == 2024, "area_code"])
    # wijk = sum of its buurten, totaal = sum of the exclusive groups
    t = f[(f["indicator"] == "bijstand") & (f["year"] == 2024)]
    wijk = t[(t["area_code"] == "WK990101") & (t["group"] == "nederland")].iloc[0]
    raw = pd.DataFrame(records)
    raw = raw[(raw["indicator"] == "bijstand") & (raw["jaar"] == 2024) & (raw["herkomstgroep"] == "nederland")]
    buurten = raw[raw["gebiedscode"].str.startswith("BU990101")]
    assert wijk["denominator"] == buurten["noemer"].sum()
    gm = t[t["area_code"] == "GM9901"].set_index("group")
    assert gm.at["totaal", "n"] == gm.loc[["nederland", "europa", "buiten_europa"], "n"].sum()
    assert 0 < gm.at["buiten_europa", "value"] and gm.at["buiten_europa", "value"] > gm.at["nederland", "value"]


def test_demo_gemeente_has_fictitious_own_data_without_a_cache(tmp_path):
    got = io_od.load_own_data("GM9901", store=ParquetStore(tmp_path))
    assert got.origin == "demo" and got.fictitious and len(got.frame) > 2000
    assert list(tmp_path.iterdir()) == []
    assert io_od.load_own_data("GM0228", store=ParquetStore(tmp_path)).origin == "none"


# ============================================================================ reading files
def write_xlsx(path: Path, records: list[dict], *, leading_blank_rows: int = 0) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(leading_blank_rows):
        ws.append([])
    ws.append(list(od.FILE_COLUMNS))
    for r in records:
        ws.append([_xlsx_cell(r.get(c)) for c in od.FILE_COLUMNS])
    wb.save(path)
    return path


def _xlsx_cell(v):
    """Numbers as numbers (as Excel keeps them), the rest as text."""
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v.replace(",", "."))
            except ValueError:
                return v
    return v


def write_csv(path: Path, records: list[dict], *, sep=";", decimal=",", bom=True) -> Path:
    lines = [sep.join(od.FILE_COLUMNS)]
    for r in records:
        cells = []
        for c in od.FILE_COLUMNS:
            v = r.get(c)
            v = "" if v is None else str(v)
            if c in od.NUMBER_COLUMNS:
                v = v.replace(",", ".") if decimal == "." else v.replace(".", ",")
            cells.append(f'"{v}"' if sep in v else v)
        lines.append(sep.join(cells))
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def frame_of(path: Path) -> pd.DataFrame:
    parsed, _ = io_od.read_file(path)
    r = od.validate(parsed, AREAS)
    assert r.ok, [str(e) for e in r.errors]
    return r.frame


def test_csv_and_xlsx_give_identical_results(tmp_path):
    records = good_records()
    xlsx = frame_of(write_xlsx(tmp_path / "a.xlsx", records, leading_blank_rows=2))
    semicolon = frame_of(write_csv(tmp_path / "a.csv", records))
    comma = frame_of(write_csv(tmp_path / "b.csv", records, sep=",", decimal=".", bom=False))
    pd.testing.assert_frame_equal(xlsx, semicolon)
    pd.testing.assert_frame_equal(xlsx, comma)


def test_excel_sep_hint_line_is_no_header(tmp_path):
    path = write_csv(tmp_path / "a.csv", good_records(), sep=",", decimal=".", bom=False)
    path.write_bytes(b"sep=,\r\n" + path.read_bytes())
    parsed, _ = io_od.read_file(path)
    assert parsed.header == od.FILE_COLUMNS and parsed.header_row == 2 and parsed.rows[0].number == 3
    assert od.validate(parsed, AREAS).ok


def test_xlsx_row_numbers_are_the_sheet_rows(tmp_path):
    records = good_records()
    records[1]["herkomstgroep"] = "onbekend"
    parsed, _ = io_od.read_file(write_xlsx(tmp_path / "a.xlsx", records, leading_blank_rows=2))
    r = od.validate(parsed, AREAS)
    assert parsed.header_row == 3 and [e.row for e in r.errors] == [5]


def test_xlsx_percentage_cells_are_read_as_shown(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(od.FILE_COLUMNS))
    ws.append(["WK990101", 2024, "totaal", "werkloosheid", None, 800, 0.125, "%", "O&S", None])
    ws["G2"].number_format = "0.0%"
    wb.save(tmp_path / "pct.xlsx")
    f = frame_of(tmp_path / "pct.xlsx")
    assert f.iloc[0]["value"] == pytest.approx(12.5)


def hostile_xlsx(dimension: str | None = "A1:XFD1048576", *, wide: bool = True) -> bytes:
    """About 1.5 kB: a header cell in A1, a number in XFD1 and one in A1048576."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
        '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="Blad1" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        '</Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet {ns}>'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>gebiedscode</t></is></c>'
        + ('<c r="XFD1"><v>1</v></c>' if wide else "")
        + '</row><row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


@pytest.mark.parametrize("dimension, wide, message", [
    ("A1:XFD1048576", True, "1.048.576 rijen bij 16.384 kolommen"),   # honest dimension
    (None, True, "meer dan 40 kolommen"),                                 # no dimension
    ("A1:B2", True, "meer dan 40 kolommen"),                              # a lying dimension
    ("A1:A2", False, "meer dan 200.000 rijen"),                           # only the far row
])
@pytest.mark.slow
def test_hostile_xlsx_is_refused_fast_without_allocating_the_sheet(tmp_path, dimension, wide, message):
    import openpyxl  # noqa: F401 - imported before timing: the refusal is measured, not the import

    data = hostile_xlsx(dimension, wide=wide)
    assert len(data) < 1800
    path = tmp_path / "aanval.xlsx"
    path.write_bytes(data)
    t0 = time.perf_counter()
    with pytest.raises(io_od.UnreadableFile) as exc:
        io_od.read_file(path)
    elapsed = time.perf_counter() - t0
    assert message in str(exc.value)
    assert elapsed < 2.0, elapsed
    # memory in a second run (tracing slows Python down too much to time the same run)
    tracemalloc.start()
    try:
        with pytest.raises(io_od.UnreadableFile):
            io_od.read_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5e6, peak      # a sheet of 1,048,576 x 16,384 cells is never allocated


@pytest.mark.parametrize("name, content, message", [
    ("leeg.csv", b"", "Het bestand is leeg"),
    ("latin1.csv", "gebiedscode;bron\nGM9901;Caf\xe9".encode("latin-1"), "geen UTF-8"),
    ("oud.xls", b"\xd0\xcf\x11\xe0 old excel", "Oude Excel-bestanden (.xls)"),
    ("kapot.xlsx", b"PK\x03\x04 not really a zip", "geen geldig XLSX-bestand"),
    ("plaatje.png", b"\x89PNG", "alleen CSV (.csv) en Excel (.xlsx)"),
    ("nul.csv", b"gebiedscode\x00;jaar\n", "nul-tekens"),
])
def test_unreadable_files_are_refused_with_a_dutch_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(io_od.UnreadableFile, match=re.escape(message)):
        io_od.read_file(path)


def test_limits_on_size_rows_columns_and_cells(tmp_path):
    path = write_csv(tmp_path / "a.csv", good_records() * 4)
    with pytest.raises(io_od.UnreadableFile, match="maximum is 0 MB"):
        io_od.read_file(path, limits=io_od.Limits(max_bytes=100))
    with pytest.raises(io_od.UnreadableFile, match="meer dan 10 rijen"):
        io_od.read_file(path, limits=io_od.Limits(max_rows=10))
    with pytest.raises(io_od.UnreadableFile, match="meer dan 5 kolommen"):
        io_od.read_file(path, limits=io_od.Limits(max_columns=5))
    with pytest.raises(io_od.UnreadableFile, match="meer dan 50 gevulde cellen"):
        io_od.read_file(path, limits=io_od.Limits(max_cells=50))
    with pytest.raises(io_od.UnreadableFile, match="niet binnen 0 seconden"):
        big = write_csv(tmp_path / "big.csv", good_records() * 1000)
        io_od.read_file(big, limits=io_od.Limits(max_seconds=0.0))
    xlsx = write_xlsx(tmp_path / "a.xlsx", good_records() * 4)
    with pytest.raises(io_od.UnreadableFile, match="rijen"):
        io_od.read_file(xlsx, limits=io_od.Limits(max_rows=10))


# ============================================================================ the cache
def test_a_valid_file_lands_in_the_cache_with_provenance(tmp_path):
    store = ParquetStore(tmp_path / "cache")
    path = write_xlsx(tmp_path / "maatwerk 2024.xlsx", good_records())
    res = io_od.import_file(path, store=store, areas=AREAS)
    assert res.ok and res.stored is not None and res.gemeente == "GM9901"
    assert res.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    meta = store.meta(res.stored.id)
    assert meta["provenance"] == "eigen gegevens van O&S Voorbeeldgemeente"
    assert meta["file_name"] == "maatwerk 2024.xlsx" and meta["sha256"] == res.sha256
    assert meta["imported_at"].startswith("20") and meta["gemeente"] == "GM9901" and meta["years"] == [2024]
    frame, _ = store.get_frame(res.stored.id)
    pd.testing.assert_frame_equal(frame[list(od.FRAME_COLUMNS)], res.report.frame.assign(table_id=res.stored.id),
                                  check_dtype=False)
    assert frame.loc[frame["missing"].notna(), "missing"].tolist() == ["te klein aantal"]
    assert frame["note"].tolist() == [None] * 5
    sets = io_od.list_sets("GM9901", store=store)
    assert [s.id for s in sets] == [res.stored.id] and sets[0].rows == 5
    loaded = io_od.load_own_data("GM0000", store=store)
    assert loaded.origin == "none" and loaded.frame.empty
    assert io_od.remove_set(res.stored.id, store=store) and io_od.list_sets(store=store) == []
    assert not io_od.remove_set(res.stored.id, store=store) and not io_od.remove_set("kwb_2024_GM0228", store=store)


def test_a_later_import_wins_where_sets_overlap(tmp_path):
    store = ParquetStore(tmp_path / "cache")
    first = io_od.import_file(write_csv(tmp_path / "a.csv", good_records()), store=store, areas=AREAS)
    newer = good_records()[:2]
    newer[1]["teller"] = "150"
    second = io_od.import_file(write_csv(tmp_path / "b.csv", newer), store=store, areas=AREAS)
    assert first.ok and second.ok and any("eerder ingelezen set: a.csv" in n for n in second.notes)
    assert [s.file_name for s in io_od.list_sets("GM9901", store=store)] == ["a.csv", "b.csv"]
    loaded = io_od.load_own_data("GM9901", store=store)
    assert loaded.origin == "cache" and loaded.fictitious and len(loaded.sets) == 2 and len(loaded.frame) == 5
    row = loaded.frame[(loaded.frame["area_code"] == "WK990101") & (loaded.frame["group"] == "buiten_europa")]
    assert row["numerator"].tolist() == [150]


def test_on_any_error_or_check_nothing_is_written(tmp_path):
    cache = tmp_path / "cache"
    store = ParquetStore(cache)
    bad = good_records() + [rec(teller="-1")]
    res = io_od.import_file(write_csv(tmp_path / "bad.csv", bad), store=store, areas=AREAS)
    assert not res.ok and res.stored is None and not cache.exists()
    res = io_od.import_file(write_csv(tmp_path / "good.csv", good_records()), store=store, areas=AREAS, check=True)
    assert res.ok and res.stored is None and not cache.exists()


def test_areas_come_from_the_kwb_table_through_the_repository(tmp_path, monkeypatch):
    """The demo gemeente: the repository gives its fictitious KWB areas (no network)."""
    monkeypatch.setenv("BUURTMONITOR_OFFLINE", "1")
    store = ParquetStore(tmp_path / "cache")
    records = good_records() + [rec(gebiedscode="BU99010190", jaar="2021")]
    res = io_od.import_file(write_csv(tmp_path / "a.csv", records), store=store, check=True)
    assert [str(e) for e in res.report.errors] == [
        "Rij 7 (kolom gebiedscode): gebiedscode BU99010190 bestaat niet in de CBS-gebiedsindeling 2021 van "
        "Voorbeeldgemeente (GM9901)"]
    later = [rec(jaar="2031")]
    res = io_od.import_file(write_csv(tmp_path / "b.csv", later), store=store, check=True)
    assert res.ok and any("Voor 2031 is er nog geen CBS-gebiedsindeling" in n for n in res.notes)


@pytest.mark.slow
def test_a_real_gemeente_against_the_cbs_standin(real_env, tmp_path):
    cache = Path(os.environ["BUURTMONITOR_CACHE_DIR"])
    table = repository.load_table(2024, "GM0228", store=ParquetStore(tmp_path / "elsewhere")).table
    codes = io_od.area_names(table, "GM0228")
    wijk = next(c for c in sorted(codes) if c.startswith("WK0228"))
    buurt = next(c for c in sorted(codes) if c.startswith("BU0228"))
    records = [rec(gebiedscode="GM0228", herkomstgroep="totaal", teller="2500", noemer="80000"),
               rec(gebiedscode=wijk), rec(gebiedscode=buurt, herkomstgroep="Marokko")]
    path = write_csv(tmp_path / "ede.csv", records)
    res = io_od.import_file(path, check=True)
    assert res.ok and res.gemeente == "GM0228" and not cache.exists()      # --check: not even the KWB table
    assert res.report.frame.iloc[0]["gemeente_name"] == "Ede"
    res = io_od.import_file(path)
    assert res.ok and res.stored is not None
    keys = ParquetStore(cache).keys()
    assert res.stored.id in keys and "kwb_2024_GM0228" in keys           # the areas' table is cached with it
    assert set(io_od.load_own_data("GM0228").frame["area_code"]) == {"GM0228", wijk, buurt}


def test_the_example_in_the_docs_is_valid(real_env, tmp_path):
    text = (REPO / "docs" / "eigen-gegevens.md").read_text(encoding="utf-8")
    block = text.split("Voorbeeld (CSV met puntkomma's):")[1].split("```")[1].strip() + "\n"
    path = tmp_path / "doc.csv"
    path.write_text(block, encoding="utf-8")
    res = io_od.import_file(path, check=True)
    assert res.ok, [str(e) for e in res.report.errors]
    assert res.report.rows_accepted == 3 and set(res.report.frame["group"]) == {"totaal", "buiten_europa", "syrie"}


def test_unreachable_cbs_is_a_source_problem_not_row_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
    store = ParquetStore(tmp_path / "cache")
    path = write_csv(tmp_path / "ede.csv", [rec(gebiedscode="GM0228")])
    with pytest.raises(repository.DataUnavailable, match="nodig om de gebiedscodes te controleren"):
        io_od.import_file(path, store=store)
    assert not (tmp_path / "cache").exists()


def test_more_than_one_gemeente_needs_an_explicit_gemeente(tmp_path):
    store = ParquetStore(tmp_path / "cache")
    path = write_csv(tmp_path / "twee.csv", [rec(gebiedscode="GM9901"), rec(gebiedscode="GM9902")])
    res = io_od.import_file(path, store=store, areas=AREAS)
    assert not res.ok and "meer dan één gemeente (GM9901, GM9902)" in str(res.report.errors[0])
    res = io_od.import_file(path, store=store, areas=AREAS, gemeente="GM9901")
    assert [e.row for e in res.report.errors] == [3]


def test_frame_round_trip_in_the_cache(tmp_path):
    store = ParquetStore(tmp_path)
    frame = own_synthetic.demo_own_data().frame
    store.put_frame("eigen_GM9901_test", frame, {"provenance": "eigen gegevens van test"})
    got, meta = store.get_frame("eigen_GM9901_test")
    pd.testing.assert_frame_equal(got, frame)
    assert meta["kind"] == "frame" and meta["provenance"] == "eigen gegevens van test"
    path = next(tmp_path.glob("eigen_GM9901_test.*.parquet"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert store.get_frame("eigen_GM9901_test") is None


# ============================================================================ the CLI
def run_cli(*args, cache: Path, timeout=120):
    env = {**os.environ, "BUURTMONITOR_CACHE_DIR": str(cache), "BUURTMONITOR_OFFLINE": "1",
           "CBS_ODATA_URL": "http://127.0.0.1:9"}
    return subprocess.run([sys.executable, "-m", "buurtmonitor", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_cli_example_check_import_and_exit_codes(tmp_path):
    cache = tmp_path / "cache"
    out = tmp_path / "voorbeeld.xlsx"
    res = run_cli("voorbeeld-eigen-gegevens", "--out", str(out), cache=cache)
    assert res.returncode == 0, res.stderr
    assert "FICTIEVE cijfers" in res.stderr and out.stat().st_size > 10_000

    res = run_cli("import", "--file", str(out), "--check", cache=cache)
    assert res.returncode == 0, res.stderr
    assert "Controle van voorbeeld.xlsx geslaagd (GM9901)" in res.stdout and "niets opgeslagen" in res.stdout
    assert not cache.exists()

    res = run_cli("import", "--file", str(out), "--gemeente", "GM9901", cache=cache)
    assert res.returncode == 0, res.stderr
    assert "Ingelezen voor GM9901 als set eigen_GM9901_" in res.stdout and "rijen goedgekeurd" in res.stdout
    assert "te klein aantal" in res.stderr
    assert len(list(cache.glob("eigen_GM9901_*.parquet"))) == 1


@pytest.mark.slow
def test_cli_every_row_error_exit_2_and_unreadable_exit_3(tmp_path):
    cache = tmp_path / "cache"
    bad = write_csv(tmp_path / "fout.csv", [rec(), rec(herkomstgroep="europa", teller="2000"), rec(gebiedscode="GM9901"),
                                            rec(gebiedscode="BU99010101", noemer="1e400")])
    res = run_cli("import", "--file", str(bad), cache=cache)
    assert res.returncode == 2, res.stderr
    assert "Rij 3 (kolom teller): teller (2.000) is groter dan noemer (1.000)" in res.stderr
    assert "Rij 5 (kolom noemer): '1e400' is geen eindig getal" in res.stderr
    assert "2 fout(en) in fout.csv; er is niets ingelezen." in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == "" and not cache.exists()

    hostile = tmp_path / "aanval.xlsx"
    hostile.write_bytes(hostile_xlsx())
    for path, msg in ((hostile, "1.048.576 rijen"), (tmp_path / "bestaat-niet.xlsx", "Bestand niet gevonden")):
        res = run_cli("import", "--file", str(path), cache=cache)
        assert res.returncode == 3, res.stderr
        assert msg in res.stderr and "niets ingelezen" in res.stderr and "Traceback" not in res.stderr
    assert not cache.exists()

    res = run_cli("import", "--file", str(bad), "--gemeente", "Ede", cache=cache)
    assert res.returncode == 2 and "geen gemeentecode" in res.stderr

    ede = write_csv(tmp_path / "ede.csv", [rec(gebiedscode="GM0228")])
    res = run_cli("import", "--file", str(ede), cache=cache)
    assert res.returncode == 4 and "niet bereikbaar" in res.stderr and "Traceback" not in res.stderr
    assert not cache.exists()
