"""CLI ``python -m buurtmonitor integratie`` against the stand-in CBS servers (v3 and v4) that
serve the real extracts: Ede 2021 values and gaps (85512NED), the 86008NED series of Ede
2014-2023 exactly as in the extract, the JSON and CSV shapes, errors and exit codes, and that
nothing is half-written with --out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from app import cli
from buurtmonitor.integratie.catalogue import key_matches, load_origin_catalogue
from buurtmonitor.integratie.table import ROW_COLUMNS
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


@pytest.fixture(scope="module")
def shared():
    return require_shared(*[f"{ORIGIN_DIR}/{t}.csv" for t in TABLES], GEMEENTEN_2022, KWB2024)


@pytest.fixture(scope="module")
def servers(shared):
    v3 = CbsODataServer(shared_origin_v3_tables(shared))
    v4 = CbsOData4Server([v4_table(origin_extract(t, shared)) for t in ("85512NED",)])
    with v3, v4:
        yield v3, v4


@pytest.fixture
def cbs(servers, monkeypatch, tmp_path):
    for s in servers:
        s.reset()
    v3, v4 = servers
    monkeypatch.setenv("CBS_ODATA_URL", v3.url)
    monkeypatch.setenv("CBS_ODATA4_URL", v4.url)
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "1")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    yield servers


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["integratie", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_ede_2021_values_and_gaps_as_json(cbs, capsys):
    code, out, err = run(capsys, "--gemeente", "GM0228", "--year", "2021", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows and all(list(r) == ROW_COLUMNS for r in rows)
    assert {r["year"] for r in rows} == {2021}
    nap = {r["group"]: r for r in rows
           if r["table_id"] == "85512NED" and r["indicator"] == "netto_arbeidsparticipatie"}
    assert {g: nap[g]["value"] for g in ("herkomst_nederland", "herkomst_buiten_europa", "marokko", "turkije")} \
        == {"herkomst_nederland": 75, "herkomst_buiten_europa": 61, "marokko": 59, "turkije": 60}
    assert nap["herkomst_buiten_europa"]["gap"] == -14 and nap["marokko"]["gap"] == -16
    assert nap["turkije"]["gap"] == -15 and nap["herkomst_nederland"]["gap"] == 0
    assert nap["herkomst_buiten_europa"]["reference_value"] == 75
    assert nap["herkomst_buiten_europa"]["country_value"] == 61
    assert nap["herkomst_buiten_europa"]["country_gap"] == -11          # 61 - 72 in Nederland
    assert nap["herkomst_buiten_europa"]["n"] == 11640 and nap["herkomst_buiten_europa"]["gap_unit"] == "pp"
    assert all(r["reference_group"] == "herkomst_nederland" for r in nap.values())
    counts = [r for r in rows if r["indicator"] == "bevolking_15_74"]
    assert counts and all(r["gap"] is None for r in counts)              # counts are not compared
    assert "De netto arbeidsparticipatie van inwoners met herkomst buiten Europa is 61%, 14 procentpunt " \
           "lager dan van inwoners met herkomst Nederland (75%)" in err
    assert "85512NED, via CBS OData v3" in err


def _extract_series(shared: Path, gemeente_title: str) -> dict[tuple[str, str, int], float]:
    """(indicator, group, year) -> value of 86008NED read straight from the extract."""
    cat = load_origin_catalogue()
    spec = cat.table("86008NED")
    with open(shared / ORIGIN_DIR / "86008NED.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    totals = {"Geslacht": "Totaal mannen en vrouwen", "Persoonskenmerken": "Totaal personen",
              "GeboortelandOuders": "Totaal"}
    groups = {"Totaal": "totaal", "Nederland": "herkomst_nederland"}
    out: dict[tuple[str, str, int], float] = {}
    for r in rows:
        if r["RegioS"] != gemeente_title or any(r[k] != v for k, v in totals.items()):
            continue
        group = groups.get(r["Herkomstland"])
        assert group is not None, r["Herkomstland"]   # the extract holds these groups for Ede
        for m in spec.measures:
            col = next(c for c in r if key_matches(c, m.key))
            if r[col].strip() not in ("", "."):
                out[(m.indicator, group, int(r["Perioden"]))] = float(r[col]) * m.scale
    return out


@pytest.mark.slow
def test_86008ned_series_of_ede_2014_2023_exactly(cbs, capsys, shared):
    code, out, err = run(capsys, "--gemeente", "GM0228", "--format", "csv")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == ROW_COLUMNS
    got = df[df["table_id"] == "86008NED"]
    expected = _extract_series(shared, "Ede")
    assert len(expected) == 2 * 9 * 10                     # 2 groups x 9 measures x 10 years
    assert sorted(got["year"].unique()) == list(range(2014, 2024))
    have = {(r.indicator, r.group, int(r.year)): r.value for r in got.itertuples()}
    assert have == expected
    nap = got[(got["indicator"] == "netto_arbeidsparticipatie") & (got["group"] == "herkomst_nederland")]
    assert nap.sort_values("year")["value"].tolist() == [
        expected[("netto_arbeidsparticipatie", "herkomst_nederland", y)] for y in range(2014, 2024)]


@pytest.mark.slow
def test_out_file_is_written_whole_and_only_on_success(cbs, capsys, tmp_path):
    target = tmp_path / "ede.json"
    code, out, err = run(capsys, "--gemeente", "GM0228", "--year", "2021", "--format", "json",
                         "--out", str(target))
    assert code == 0 and out == "" and "Geschreven:" in err
    assert json.loads(target.read_text(encoding="utf-8"))[0]["gemeente_code"] == "GM0228"
    bad = tmp_path / "leeg.csv"
    code, _, err = run(capsys, "--gemeente", "GM0228", "--year", "2030", "--out", str(bad))
    assert code == cli.EXIT_DATA and not bad.exists()
    assert "Geen cijfers naar herkomst voor Ede in 2030. Jaren met cijfers: 2014–2023." in err
    code, _, err = run(capsys, "--gemeente", "GM0228", "--out", str(tmp_path / "geen_map" / "x.csv"))
    assert code == cli.EXIT_USAGE and "bestaat niet" in err
    assert not (tmp_path / "geen_map").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "ede.json"]


@pytest.mark.parametrize("args,words", [
    (["--gemeente", "GM0228", "--format", "xml"], "'xml' is geen formaat: kies csv of json"),
    (["--gemeente", "Ede"], "'Ede' is geen gemeentecode"),
    (["--gemeente", "GM0228", "--year", "twintig"], "'twintig' is geen jaartal"),
])
def test_bad_input_exits_2_in_dutch(capsys, args, words):
    with pytest.raises(SystemExit) as exc:
        cli.main(["integratie", *args])
    assert exc.value.code == 2
    assert words in capsys.readouterr().err


@pytest.mark.slow
def test_unknown_gemeente_exits_3(cbs, capsys):
    code, out, err = run(capsys, "--gemeente", "GM0001")
    assert code == cli.EXIT_DATA and out == ""
    assert "Gemeente GM0001 komt niet voor in de CBS-tabellen naar herkomst" in err


def test_unreachable_cbs_exits_4(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CBS_ODATA4_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    code, out, err = run(capsys, "--gemeente", "GM0228")
    assert code == cli.EXIT_SOURCE and out == ""
    assert "konden niet worden geladen" in err and "85512NED" in err


@pytest.mark.slow
def test_demo_rows_say_they_are_fictitious(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")        # must not be asked
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(capsys, "--gemeente", "GM9901", "--year", "2024", "--format", "csv")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == ["let_op", *ROW_COLUMNS]
    assert set(df["let_op"]) == {FICTITIOUS_LABEL} and set(df["api"]) == {"eigen"}
    assert FICTITIOUS_LABEL in err
    ref = df[(df["indicator"] == "netto_arbeidsparticipatie") & (df["group"] == "herkomst_nederland")]
    grp = df[(df["indicator"] == "netto_arbeidsparticipatie") & (df["group"] == "herkomst_buiten_europa")]
    assert grp["gap"].iloc[0] == pytest.approx(grp["value"].iloc[0] - ref["value"].iloc[0])
