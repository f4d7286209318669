"""The one by-origin data path (loaders.by_origin): CBS tables plus own data, the demo, failures."""

from __future__ import annotations

import pytest

from buurtmonitor.integratie.catalogue import load_origin_catalogue, own_group_map
from buurtmonitor.integratie.combined import COMBINED_COLUMNS, own_as_origin_frame
from buurtmonitor.integratie.harmonise import MISSING_SMALL_N
from buurtmonitor.integratie.measures import gap_rows
from buurtmonitor.integratie.synthetic import demo_own_data
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
from loaders.by_origin import indicator_tables, load_by_origin


def test_one_catalogue_holds_the_own_indicators_and_groups():
    cat = load_origin_catalogue()
    for iid in ("werkloosheid", "bijstand", "laag_inkomen", "gemiddeld_inkomen", "netto_arbeidsparticipatie"):
        assert iid in cat.indicators
    assert cat.indicators["bijstand"].better == "lower"
    assert cat.indicators["gemiddeld_inkomen"].kind == "amount"
    # the CBS definition wins where both define an id
    assert cat.indicators["netto_arbeidsparticipatie"].definition.startswith("Werkzame beroepsbevolking als")
    gmap = own_group_map(cat)
    assert gmap["nederland"] == "herkomst_nederland" and gmap["buiten_europa"] == "herkomst_buiten_europa"
    assert "eritrea" in cat.groups and "syrie" in cat.groups      # countries of origin: one id on both sides


def test_own_rows_become_cbs_rows_with_cbs_groups_and_reasons():
    own = demo_own_data().frame
    f = own_as_origin_frame(own, levels=("gemeente", "buurt"))
    assert list(f.columns) == COMBINED_COLUMNS
    assert {"herkomst_nederland", "herkomst_buiten_europa", "syrie"} <= set(f["group"])
    assert "nederland" not in set(f["group"])
    assert set(f["scheme"]) == {"herkomst"}
    assert set(f["level"]) == {"gemeente", "buurt"}
    small = f[f["missing"].notna()]
    assert not small.empty and set(small["missing"]) == {MISSING_SMALL_N}
    assert small["value"].isna().all()            # hidden, never 0


def test_demo_needs_no_network_and_gives_gaps(monkeypatch, tmp_path):
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")     # nothing listens: must not be asked
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path))
    got = load_by_origin("GM9901")
    assert got.fictitious and not got.sources and got.own_sources
    assert all("FICTIEF" in line for line in got.own_sources)
    rows = gap_rows(got.frame, "netto_arbeidsparticipatie", gemeente="GM9901", year=2024)
    by = {r.group: r for r in rows}
    assert by["herkomst_buiten_europa"].gap is not None and by["herkomst_buiten_europa"].gap < 0
    assert by["herkomst_buiten_europa"].reference_value == pytest.approx(
        got.frame.query("group == 'herkomst_nederland' and year == 2024 and "
                        "indicator == 'netto_arbeidsparticipatie'")["value"].iloc[0])


def test_indicator_tables_leave_out_count_only_tables():
    ids = indicator_tables()
    assert "85512NED" in ids and "86008NED" in ids


@pytest.fixture(scope="module")
def servers():
    shared = require_shared(*[f"{ORIGIN_DIR}/{t}.csv" for t in TABLES], GEMEENTEN_2022, KWB2024)
    v3 = CbsODataServer(shared_origin_v3_tables(shared))
    v4 = CbsOData4Server([v4_table(origin_extract(t, shared)) for t in ("85512NED",)])
    with v3, v4:
        yield v3, v4


@pytest.fixture
def cbs(servers, monkeypatch, tmp_path):
    v3, v4 = servers
    for s in servers:
        s.reset()
    monkeypatch.setenv("CBS_ODATA_URL", v3.url)
    monkeypatch.setenv("CBS_ODATA4_URL", v4.url)
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "1")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    yield v3, v4
    for s in servers:
        s.reset()


@pytest.mark.slow
def test_ede_2021_through_the_one_path(cbs):
    got = load_by_origin("GM0228", tables=["85512NED", "86008NED"])
    assert not got.problems and not got.fictitious
    assert {p.table_id for p in got.sources} == {"85512NED", "86008NED"}
    f = got.frame[got.frame["table_id"] == "85512NED"]
    rows = {r.group: r for r in gap_rows(f, "netto_arbeidsparticipatie", gemeente="GM0228", year=2021)}
    assert rows["herkomst_buiten_europa"].value == 61 and rows["herkomst_buiten_europa"].reference_value == 75
    assert rows["marokko"].value == 59 and rows["turkije"].value == 60
    assert all(s.startswith("Bron: CBS") for s in got.frame["source"])


@pytest.mark.slow
def test_a_failing_table_does_not_stop_the_others(cbs):
    v3, v4 = cbs
    v3.fail_next(50, "503", path_contains="86008NED")
    got = load_by_origin("GM0228", tables=["85512NED", "86008NED"])
    assert [p.table_id for p in got.problems] == ["86008NED"]
    assert "86008NED" in got.problems[0].message and "cache" in got.problems[0].message
    assert set(got.frame["table_id"]) == {"85512NED"}
