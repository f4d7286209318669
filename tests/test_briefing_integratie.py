"""The Integratie view in words and in the briefing pack: the sentences (real and demo data,
a suppressed group, the direction of a gap, the national gap), the pack section
"Integratie naar herkomst" (PDF text holds the key sentence), the CSV/XLSX export of the gap
table. The Ede pack page is rendered to tests/artifacts/briefing_integratie/ (git-ignored)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from app import briefing_data
from buurtmonitor import briefing
from buurtmonitor.briefing.integratie import compact_table, integratie_item
from buurtmonitor.exports.items import table_to_csv, table_to_xlsx
from buurtmonitor.integratie.combined import COMBINED_COLUMNS
from buurtmonitor.integratie.measures import gap_rows
from buurtmonitor.integratie.sentences import (
    gap_sentence,
    group_phrase,
    key_figures,
    suppressed_sentence,
)
from buurtmonitor.model import FICTITIOUS_LABEL
from devtools.standins.cbs_odata import CbsODataServer
from devtools.standins.cbs_odata4 import CbsOData4Server, v4_table
from devtools.standins.origin_extracts import (
    GEMEENTEN_2022,
    KWB2024,
    ORIGIN_DIR,
    TABLES,
    origin_extract,
    shared_origin_v3_tables,
)
from devtools.standins.shared_data import require_shared

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "briefing_integratie"
WHEN = datetime(2026, 12, 2, 10, 0)
EDE_SENTENCE = ("De netto arbeidsparticipatie van inwoners met herkomst buiten Europa is 61%, 14 procentpunt "
                "lager dan van inwoners met herkomst Nederland (75%); in heel Nederland is dat verschil "
                "11 procentpunt (61% tegen 72%).")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return flat("\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))


# ----------------------------------------------------------------------------- sentences
def _frame(rows: list[tuple]) -> pd.DataFrame:
    """A small combined frame: (level, group, value, n, missing) for one gemeente, 2023."""
    recs = []
    for level, group, value, n, missing in rows:
        code, name = ("GM0001", "Testdorp") if level == "gemeente" else ("NL01", "Nederland")
        recs.append({"gemeente_code": code, "gemeente_name": name, "level": level, "year": 2023, "group": group,
                     "indicator": "netto_arbeidsparticipatie", "value": value, "n": n, "unit": "%",
                     "scheme": "herkomst", "table_id": "T1", "api": "v3", "missing": missing,
                     "area_code": code, "area_name": name, "source": "Bron: CBS, T1"})
    return pd.DataFrame(recs, columns=COMBINED_COLUMNS)


FRAME = _frame([
    ("gemeente", "herkomst_nederland", 70.0, 1000, None),
    ("gemeente", "herkomst_buiten_europa", 74.0, 200, None),
    ("gemeente", "marokko", None, None, "klein_aantal"),
    ("gemeente", "herkomst_europa", 70.2, 100, None),
    ("land", "herkomst_nederland", 72.0, 9e6, None),
    ("land", "herkomst_buiten_europa", 61.0, 2e6, None),
])


def test_gap_sentence_direction_and_national_gap_of_the_other_sign():
    rows = {r.group: r for r in gap_rows(FRAME, "netto_arbeidsparticipatie", gemeente="GM0001", year=2023)}
    s = gap_sentence(rows["herkomst_buiten_europa"])
    assert s == ("De netto arbeidsparticipatie van inwoners met herkomst buiten Europa is 74%, 4 procentpunt "
                 "hoger dan van inwoners met herkomst Nederland (70%); in heel Nederland ligt het cijfer van "
                 "deze groep juist 11 procentpunt lager (61% tegen 72%).")
    assert "even hoog als van inwoners met herkomst Nederland (70%)" in gap_sentence(rows["herkomst_europa"])


def test_a_suppressed_group_is_said_as_such_never_0():
    rows = gap_rows(FRAME, "netto_arbeidsparticipatie", gemeente="GM0001", year=2023)
    moroccan = next(r for r in rows if r.group == "marokko")
    s = gap_sentence(moroccan)
    assert s == ("Van inwoners met herkomst Marokko is de netto arbeidsparticipatie niet bekend "
                 "(verborgen: te weinig personen); dat is niet 0.")
    assert "Marokko (verborgen: te weinig personen)" in suppressed_sentence(rows)
    assert " 0%" not in " ".join(key_figures(FRAME, "GM0001").sentences)


def test_group_phrases_of_both_schemes():
    assert group_phrase("herkomst_buiten_europa") == "inwoners met herkomst buiten Europa"
    assert group_phrase("niet_westers") == "inwoners met een niet-westerse migratieachtergrond"
    assert group_phrase("nederlandse_achtergrond") == "inwoners met een Nederlandse achtergrond"
    assert group_phrase("eritrea") == "inwoners met herkomst Eritrea"
    assert group_phrase("totaal") == "alle inwoners"


# ----------------------------------------------------------------------------- demo
@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.mark.slow
def test_demo_item_is_fictitious_and_in_the_pack(demo_env):
    src = briefing_data.repository_sources()
    item = integratie_item(2024, "GM9901", sources=src)
    assert item.fictitious and "FICTIEF" in item.source_line
    assert item.title == "Integratie naar herkomst: Voorbeeldgemeente, 2024"
    first = item.key_figures[0]
    assert first.startswith("De netto arbeidsparticipatie van inwoners met herkomst buiten Europa is ")
    assert "procentpunt lager dan van inwoners met herkomst Nederland" in first
    assert 3 <= len(item.key_figures) <= 4 and item.figure is not None
    assert list(item.summary_table.columns[:3]) == ["Groep", "Waarde", "n"]
    assert "Eritrea" in set(item.summary_table["Groep"])
    assert "integratie" in briefing.VIEWS and briefing.BUILDERS["integratie"] is integratie_item
    data = briefing.build_pack(["kaart", "integratie"], 2024, "GM9901", "wijk", "pct_herkomst_buiten_europa",
                               fmt="pdf", exported_at=WHEN, sources=src)
    text = pdf_text(data)
    assert "Integratie naar herkomst: Voorbeeldgemeente, 2024" in text
    assert flat(first) in text and FICTITIOUS_LABEL in text and "In cijfers" in text


@pytest.mark.slow
def test_gap_table_exports_as_dutch_csv_and_xlsx(demo_env):
    from openpyxl import load_workbook

    item = integratie_item(2024, "GM9901", sources=briefing_data.repository_sources())
    text = table_to_csv(item).decode("utf-8-sig")
    head = text.splitlines()[0].split(";")
    assert head[0] == "let_op" and "Verschil met referentiegroep" in head and head[-1] == "bron"
    df = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    row = df[(df["Indicator"] == "Netto arbeidsparticipatie") & (df["Groep"] == "Herkomst buiten Europa")
             & (df["Jaar"] == 2024)].iloc[0]
    assert row["Verschil met referentiegroep"] < 0 and row["Eenheid verschil"] == "procentpunt"
    assert re.search(r";-?\d+,\d+;", text)                        # decimal comma
    wb = load_workbook(io.BytesIO(table_to_xlsx(item, exported_at=WHEN)))
    assert wb.sheetnames == ["Gegevens", "Metadata"]
    header = [c.value for c in wb["Gegevens"][1]]
    assert "Verschil met referentiegroep" in header and "Tabel" in header


# ----------------------------------------------------------------------------- Ede
@pytest.fixture(scope="module")
def servers():
    shared = require_shared(*[f"{ORIGIN_DIR}/{t}.csv" for t in TABLES], GEMEENTEN_2022, KWB2024)
    v3 = CbsODataServer(shared_origin_v3_tables(shared))
    v4 = CbsOData4Server([v4_table(origin_extract(t, shared)) for t in ("85512NED",)])
    with v3, v4:
        yield v3, v4


@pytest.fixture
def ede_env(servers, monkeypatch, tmp_path):
    v3, v4 = servers
    monkeypatch.setenv("CBS_ODATA_URL", v3.url)
    monkeypatch.setenv("CBS_ODATA4_URL", v4.url)
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "1")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    return servers


@pytest.mark.slow
def test_ede_sentences_from_the_real_extract(ede_env):
    item = integratie_item(2024, "GM0228", sources=briefing_data.repository_sources())
    assert not item.fictitious
    assert item.key_figures[0] == EDE_SENTENCE
    assert "Marokko 59% (−16)" in item.key_figures[1] and "Turkije 60% (−15)" in item.key_figures[1]
    assert "Van 2014 tot 2023" in item.key_figures[2]
    # the figures are of 2021, not of the briefing's 2024: said in one line
    assert item.title == "Integratie naar herkomst: Ede, 2021"
    assert "2021 (het laatste jaar met deze cijfers; gevraagd: 2024)" in item.subtitle
    assert item.source_line.startswith("Bron: CBS, ") and "85512NED, via CBS OData v3" in item.source_line
    assert item.table_ids[0] == "85512NED" and "86008NED" in item.table_ids
    small = compact_table(key_figures(briefing_data.repository_sources().by_origin("GM0228").frame, "GM0228",
                                      year=2021))
    by = small.set_index("Groep")
    assert by.loc["Buiten Europa", "Waarde"] == "61%" and by.loc["Buiten Europa", "Verschil (procentpunt)"] == "−14"
    assert by.loc["Herkomst Nederland (referentie)", "Waarde"] == "75%"


@pytest.mark.slow
def test_ede_pack_pdf_holds_the_key_sentence_and_renders(ede_env):
    src = briefing_data.repository_sources()
    data = briefing.build_pack(["integratie"], 2024, "GM0228", "wijk", "pct_herkomst_buiten_europa", fmt="pdf",
                               exported_at=WHEN, sources=src)
    text = pdf_text(data)
    assert EDE_SENTENCE in text
    assert "85512NED" in text and "In cijfers" in text and FICTITIOUS_LABEL not in text
    pptx = briefing.build_pack(["integratie"], 2024, "GM0228", "wijk", "pct_herkomst_buiten_europa",
                               fmt="pptx", exported_at=WHEN, sources=src)
    from pptx import Presentation

    slides = list(Presentation(io.BytesIO(pptx)).slides)
    assert len(slides) == 2
    assert EDE_SENTENCE in "\n".join(sh.text_frame.text for sh in slides[1].shapes if sh.has_text_frame)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "ede.pdf").write_bytes(data)
    (ARTIFACTS / "ede.pptx").write_bytes(pptx)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "2", "-l", "2", str(ARTIFACTS / "ede.pdf"),
                        str(ARTIFACTS / "ede-pagina")], check=True, timeout=60)
        assert list(ARTIFACTS.glob("ede-pagina*.png"))
