"""Tables by origin from the real shared extracts, served by the v3 and v4 stand-ins:
harmonisation through both APIs, fallback, paging, faults, suppression, small numbers, cache."""

from __future__ import annotations

import csv
import dataclasses

import pandas as pd
import pytest

from buurtmonitor.integratie.catalogue import load_origin_catalogue
from buurtmonitor.integratie.harmonise import MISSING_SMALL_N
from buurtmonitor.integratie.measures import gap_rows, rank_gaps, series
from buurtmonitor.model import MISSING_EMPTY, MISSING_SUPPRESSED
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
from loaders.cache import ParquetStore
from loaders.cbs_origin import fetch_origin_table, load_origin_table
from loaders.http import NotFound, SourceUnavailable, get_json

V4_TABLES = ("85512NED", "86008NED", "71317ned")


def _need():
    return require_shared(*[f"{ORIGIN_DIR}/{t}.csv" for t in TABLES], GEMEENTEN_2022, KWB2024)


@pytest.fixture(scope="module")
def servers():
    shared = _need()
    v3 = CbsODataServer(shared_origin_v3_tables(shared))
    v4 = CbsOData4Server([v4_table(origin_extract(t, shared)) for t in V4_TABLES])
    with v3, v4:
        yield v3, v4


@pytest.fixture
def cbs(servers, monkeypatch, tmp_path):
    v3, v4 = servers
    for s in servers:
        s.reset()
    monkeypatch.setenv("CBS_ODATA_URL", v3.url)
    monkeypatch.setenv("CBS_ODATA4_URL", v4.url)
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "3")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    yield v3, v4
    for s in servers:
        s.reset()
    v3.page_size = v4.page_size = 10000


def _extract_rows(table_id: str):
    with open(_need() / ORIGIN_DIR / f"{table_id}.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def _value(frame, code, indicator, group, year=None):
    sel = frame[(frame.gemeente_code == code) & (frame.indicator == indicator) & (frame.group == group)]
    if year is not None:
        sel = sel[sel.year == year]
    assert len(sel) == 1, sel
    return sel.iloc[0]


@pytest.mark.slow
@pytest.mark.parametrize("api", ["v3", "v4"])
def test_ede_2021_labour_participation_and_gaps(cbs, api):
    loaded = fetch_origin_table("85512NED", "GM0228", api=api)
    f = loaded.frame
    assert loaded.provenance.api == api and set(f.api) == {api}
    want = {"herkomst_nederland": 75, "herkomst_buiten_europa": 61, "marokko": 59, "turkije": 60}
    for group, pct in want.items():
        row = _value(f, "GM0228", "netto_arbeidsparticipatie", group, 2021)
        assert row.value == pct and row.unit == "%" and row.scheme == "herkomst"
    assert _value(f, "GM0228", "netto_arbeidsparticipatie", "marokko").n == 1950   # persons 15-74
    gaps = {g.group: g for g in gap_rows(f, "netto_arbeidsparticipatie", gemeente="GM0228", year=2021)}
    assert {g: gaps[g].gap for g in ("herkomst_buiten_europa", "marokko", "turkije")} == {
        "herkomst_buiten_europa": -14, "marokko": -16, "turkije": -15}
    assert gaps["marokko"].gap_unit == "pp" and gaps["marokko"].reference_group == "herkomst_nederland"
    nl = _value(f, "NL01", "netto_arbeidsparticipatie", "marokko")
    assert gaps["marokko"].country_value == nl.value
    assert gaps["marokko"].gap_to_country == 59 - nl.value
    assert gaps["marokko"].country_gap == nl.value - _value(f, "NL01", "netto_arbeidsparticipatie",
                                                            "herkomst_nederland").value


@pytest.mark.slow
@pytest.mark.parametrize("api", ["v3", "v4"])
def test_86008_ede_series_as_in_the_extract(cbs, api):
    f = fetch_origin_table("86008NED", "GM0228", api=api).frame
    cat = load_origin_catalogue()
    spec = cat.table("86008NED")
    raw = [r for r in _extract_rows("86008NED") if r["RegioS"] == "Ede"]
    assert {r["Herkomstland"] for r in raw} == {"Totaal", "Nederland"}   # Europa ends before Ede
    groups = {"Totaal": "totaal", "Nederland": "herkomst_nederland"}
    checked = 0
    for r in raw:
        for m in spec.measures:
            col = next(c for c in r if c.startswith(m.key + "_"))
            row = _value(f, "GM0228", m.indicator, groups[r["Herkomstland"]], int(r["Perioden"]))
            assert row.value == float(r[col])
            checked += 1
    assert checked == 2 * 10 * 9
    s = series(f, "GM0228", "netto_arbeidsparticipatie", "herkomst_nederland")
    assert s.years == list(range(2014, 2024)) and s.scheme == "herkomst"
    assert s.values == [float(r["NettoArbeidsparticipatie_3"]) for r in raw if r["Herkomstland"] == "Nederland"]


@pytest.mark.slow
def test_v3_and_v4_give_identical_frames_one_gemeente(cbs):
    a = fetch_origin_table("86008NED", "GM0228", api="v3").frame
    b = fetch_origin_table("86008NED", "GM0228", api="v4").frame
    pd.testing.assert_frame_equal(a.drop(columns="api"), b.drop(columns="api"))


@pytest.mark.slow
def test_v3_and_v4_give_identical_frames_all_gemeenten(cbs):
    a = fetch_origin_table("85512NED", "gemeenten", api="v3").frame
    b = fetch_origin_table("85512NED", "gemeenten", api="v4").frame
    assert a.gemeente_code.nunique() == 346          # 345 gemeenten + the country
    pd.testing.assert_frame_equal(a.drop(columns="api"), b.drop(columns="api"))


@pytest.mark.slow
def test_v3_404_falls_back_to_v4(cbs):
    v3, v4 = cbs
    removed = [t for t in v3.tables.values() if t.table_id == "85512NED"][0]
    v3.remove_table("85512NED")
    try:
        loaded = fetch_origin_table("85512NED", "GM0228")
    finally:
        v3.add_table(removed)
    assert loaded.provenance.api == "v4" and set(loaded.frame.api) == {"v4"}
    assert "404" in loaded.provenance.fallback and "v4" in loaded.warning
    assert loaded.provenance.url.startswith(v4.url) and loaded.provenance.fetched_at
    assert v4.requests_to("/CBS/85512NED/Observations")


def test_both_apis_down_gives_dutch_message_and_no_cache_entry(cbs, tmp_path):
    v3, v4 = cbs
    v3.fail_next(100, "503", path_contains="85512NED")
    v4.fail_next(100, "500", path_contains="85512NED")
    store = ParquetStore(tmp_path / "c")
    with pytest.raises(SourceUnavailable) as err:
        load_origin_table("85512NED", "GM0228", store=store)
    msg = str(err.value)
    assert "kon niet bij CBS worden opgehaald" in msg and "CBS OData v3" in msg and "CBS OData v4" in msg
    assert not isinstance(err.value, NotFound)
    assert store.keys() == []


def test_unknown_everywhere_is_not_found(cbs):
    v3, v4 = cbs
    removed = v4.remove_table("71317ned")
    v3_removed = [t for t in v3.tables.values() if t.table_id == "71317ned"][0]
    v3.remove_table("71317ned")
    try:
        with pytest.raises(NotFound, match="bestaat niet bij CBS"):
            fetch_origin_table("71317ned", "GM0228")
    finally:
        v3.add_table(v3_removed)
        if removed is not None:
            v4.add_table(removed)


@pytest.mark.slow
def test_gap_rank_covers_every_gemeente_of_the_extract(cbs):
    f = fetch_origin_table("85512NED", "gemeenten", api="v3").frame
    ranks = rank_gaps(f, "netto_arbeidsparticipatie", "marokko", 2021)
    extract_gm = {k for k, _ in origin_extract("85512NED").dimensions["RegioS"] if k.startswith("GM")}
    assert len(extract_gm) == 345
    assert {r.gemeente_code for r in ranks} == extract_gm and len(ranks) == 345
    ranked = [r for r in ranks if r.rank is not None]
    assert ranked and all(r.of == len(ranked) for r in ranks)
    assert [r.rank for r in ranked] == sorted(r.rank for r in ranked) and ranked[0].rank == 1
    assert all(r.missing for r in ranks if r.rank is None)   # no gap: the reason is kept
    ede = next(r for r in ranks if r.gemeente_code == "GM0228")
    assert ede.gap == -16 and ede.rank == 1 + sum(1 for r in ranked if r.gap < -16)


@pytest.mark.slow
def test_paging_with_small_pages_gives_the_same_frame(cbs):
    v3, v4 = cbs
    want3 = fetch_origin_table("86008NED", "GM0228", api="v3").frame
    want4 = fetch_origin_table("86008NED", "GM0228", api="v4").frame
    v3.page_size, v4.page_size = 7, 50
    v3.reset()
    v4.reset()
    got3 = fetch_origin_table("86008NED", "GM0228", api="v3").frame
    got4 = fetch_origin_table("86008NED", "GM0228", api="v4").frame
    pd.testing.assert_frame_equal(got3, want3)
    pd.testing.assert_frame_equal(got4, want4)
    assert len(v3.requests_to("/TypedDataSet")) >= 40 // 7 + 1     # 40 rows for Ede + NL
    assert len(v4.requests_to("/Observations")) >= 360 // 50 + 1


@pytest.mark.slow
def test_retries_under_injected_faults(cbs, monkeypatch):
    v3, v4 = cbs
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "8")
    want = fetch_origin_table("86008NED", "GM0228", api="v4").frame
    v3.fail_randomly(0.3, ("503", "reset", "truncated"), seed=3)
    v4.fail_randomly(0.3, ("503", "reset", "truncated"), seed=4)
    got3 = fetch_origin_table("86008NED", "GM0228", api="v3").frame
    got4 = fetch_origin_table("86008NED", "GM0228", api="v4").frame
    pd.testing.assert_frame_equal(got4, want)
    pd.testing.assert_frame_equal(got3.drop(columns="api"), want.drop(columns="api"))


@pytest.mark.slow
def test_empty_and_suppressed_values_are_missing_not_zero(cbs, servers):
    f = fetch_origin_table("80860ned", "GM0228", api="v3").frame
    ao = _value(f, "GM0228", "ao_uitkeringen", "totaal", 2009)       # empty cell in the extract
    assert pd.isna(ao.value) and ao.missing == MISSING_EMPTY
    assert not (f.value == 0).any() or f[(f.value == 0)].missing.isna().all()
    # v4: CBS marks suppressed values with ValueAttribute "Confidential"
    ext = origin_extract("85512NED")
    marokko = next(k for k, t in ext.dimensions["Herkomstland"] if t == "Marokko")
    table = v4_table(ext, confidential=lambda o: o["RegioS"] == "GM0228" and o["Herkomstland"] == marokko)
    with CbsOData4Server([table]) as v4, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CBS_ODATA4_URL", v4.url)
        g = fetch_origin_table("85512NED", "GM0228", api="v4").frame
    row = _value(g, "GM0228", "netto_arbeidsparticipatie", "marokko")
    assert pd.isna(row.value) and row.missing == MISSING_SUPPRESSED
    gap = next(x for x in gap_rows(g, "netto_arbeidsparticipatie", gemeente="GM0228") if x.group == "marokko")
    assert gap.gap is None and gap.missing == MISSING_SUPPRESSED


@pytest.mark.slow
def test_small_number_rule_hides_and_flags(cbs):
    cat = load_origin_catalogue()
    strict = dataclasses.replace(cat, rules=dataclasses.replace(cat.rules, min_n=2000))
    f = fetch_origin_table("85512NED", "GM0228", api="v3", catalogue=strict).frame
    hidden = _value(f, "GM0228", "netto_arbeidsparticipatie", "marokko")       # n = 1950
    assert pd.isna(hidden.value) and hidden.missing == MISSING_SMALL_N and hidden.n == 1950
    shown = _value(f, "GM0228", "netto_arbeidsparticipatie", "herkomst_nederland")
    assert shown.value == 75 and shown.missing is None
    count = _value(f, "GM0228", "bevolking_15_74", "marokko")                  # counts stay
    assert count.value == 1950
    gap = next(x for x in gap_rows(f, "netto_arbeidsparticipatie", gemeente="GM0228", catalogue=strict)
               if x.group == "marokko")
    assert gap.gap is None and gap.missing == MISSING_SMALL_N
    # the packaged rule (10 persons) hides nothing in Ede
    assert not (fetch_origin_table("85512NED", "GM0228", api="v3").frame.missing == MISSING_SMALL_N).any()


def test_old_scheme_income_per_group(cbs):
    f = fetch_origin_table("71317ned", "GM0228", api="v3").frame
    assert set(f.scheme) == {"migratieachtergrond"} and f.year.isna().all()
    inc = {g: _value(f, "GM0228", "gemiddeld_besteedbaar_inkomen", g).value
           for g in ("totaal", "nederlandse_achtergrond", "westers", "niet_westers")}
    assert inc == {"totaal": 17200, "nederlandse_achtergrond": 17400, "westers": 17000, "niet_westers": 13200}
    assert _value(f, "GM0228", "gemiddeld_besteedbaar_inkomen", "niet_westers").n == 3000
    gaps = {g.group: g for g in gap_rows(f, "gemiddeld_besteedbaar_inkomen", gemeente="GM0228")}
    assert gaps["niet_westers"].gap == pytest.approx(-4200) and gaps["niet_westers"].gap_unit == "euro"
    assert gaps["niet_westers"].reference_group == "nederlandse_achtergrond"


def test_old_scheme_only_attributable_gemeenten(cbs):
    f = fetch_origin_table("71317ned", "gemeenten", api="v3").frame
    gm = set(f[f.level == "gemeente"].gemeente_code)
    assert len(gm) == 287 and "GM0228" in gm and "GM0373" in gm and "GM0893" in gm
    assert "GM0164" not in gm          # two "Hengelo" rows, one current Hengelo: not attributed
    assert not any(c.startswith("X") for c in f.gemeente_code)


def test_old_allochtonen_scheme_population_and_benefits(cbs):
    f = fetch_origin_table("80860ned", "GM0228", api="v3").frame
    assert set(f.scheme) == {"migratieachtergrond"}
    assert _value(f, "GM0228", "bevolking", "ma_marokko", 1999).value == 1900
    assert _value(f, "GM0228", "bevolking", "nederlandse_achtergrond", 1999).value == 88510
    assert _value(f, "GM0228", "bijstandsuitkeringen", "totaal", 1999).value == 1630
    assert set(f[f.indicator == "bijstandsuitkeringen"].group) == {"totaal"}
    assert sorted(f.year.dropna().unique()) == list(range(1999, 2010))


@pytest.mark.slow
def test_cache_roundtrip_and_refresh(cbs, tmp_path):
    v3, _ = cbs
    store = ParquetStore(tmp_path / "c")
    first = load_origin_table("85512NED", "GM0228", store=store)
    assert first.origin == "bron" and store.keys() == ["origin_85512NED_GM0228"]
    v3.reset()
    again = load_origin_table("85512NED", "GM0228", store=store)
    assert again.origin == "cache" and v3.request_log == []
    pd.testing.assert_frame_equal(again.frame, first.frame)
    assert again.provenance == first.provenance
    fresh = load_origin_table("85512NED", "GM0228", store=store, refresh=True)
    assert fresh.origin == "bron" and v3.requests_to("TypedDataSet")


def test_bad_scope_is_a_dutch_error(cbs):
    with pytest.raises(ValueError, match="Onbekend gebied"):
        fetch_origin_table("85512NED", "Ede")
    with pytest.raises(Exception, match="komt niet voor"):
        fetch_origin_table("85512NED", "GM9999", api="v3")


@pytest.mark.slow
def test_population_by_herkomst_85458(cbs):
    f = fetch_origin_table("85458NED", "GM0228", api="v3").frame
    pop = {g: _value(f, "GM0228", "bevolking", g, 2022).value
           for g in ("totaal", "herkomst_nederland", "herkomst_buiten_nederland")}
    assert pop == {"totaal": 119986, "herkomst_nederland": 99099, "herkomst_buiten_nederland": 20887}
    assert pop["herkomst_nederland"] + pop["herkomst_buiten_nederland"] == pop["totaal"]
    assert sorted(f.year.unique()) == [2022, 2023, 2024] and set(f.scheme) == {"herkomst"}


def test_catalogue_api_decides_the_first_try(cbs):
    v3, v4 = cbs
    cat = load_origin_catalogue()
    spec = dataclasses.replace(cat.table("71317ned"), api="v4")
    v4_first = dataclasses.replace(cat, tables={**cat.tables, "71317ned": spec})
    loaded = fetch_origin_table("71317ned", "GM0228", catalogue=v4_first)
    assert loaded.provenance.api == "v4" and loaded.provenance.fallback == "" and loaded.warning is None
    assert v3.request_log == [] and v4.requests_to("/CBS/71317ned/")


def test_padded_region_codes_are_stripped(cbs):
    f = fetch_origin_table("80860ned", "GM0228", api="v3").frame
    assert set(f.gemeente_code) == {"GM0228", "NL01"}            # CBS writes "NL01  "
    assert _value(f, "NL01", "bevolking", "ma_marokko", 1999).value == 252770


@pytest.mark.slow
def test_offline_serves_the_cache_and_says_so_without_it(cbs, tmp_path, monkeypatch):
    store = ParquetStore(tmp_path / "c")
    load_origin_table("86008NED", "GM0228", store=store)
    monkeypatch.setenv("BUURTMONITOR_OFFLINE", "1")
    assert load_origin_table("86008NED", "GM0228", store=store).origin == "cache"
    with pytest.raises(SourceUnavailable, match="offline-modus"):
        load_origin_table("85512NED", "GM0228", store=store)
    assert store.keys() == ["origin_86008NED_GM0228"]


def test_v3_standin_serves_keys_code_lists_and_404(cbs):
    v3, _ = cbs
    base = f"{v3.url}/ODataApi/odata/85512NED"
    regions = get_json(f"{base}/RegioS", source="cbs", what="t", params={"$format": "json"})["value"]
    keys = {r["Key"]: r["Title"] for r in regions}
    assert keys["GM0228"] == "Ede" and keys["NL01"] == "Nederland" and keys["PV25"] == "Gelderland (PV)"
    assert keys["GM0344"] == "Utrecht (gemeente)" and keys["GM0373"] == "Bergen (NH.)"
    assert sum(k.startswith("GM") for k in keys) == 345 and not any(k.startswith("X") for k in keys)
    props = get_json(f"{base}/DataProperties", source="cbs", what="t", params={"$format": "json"})["value"]
    assert {p["Key"] for p in props if p["Type"] == "GeoDimension"} == {"RegioS"}
    rows = get_json(f"{base}/TypedDataSet", source="cbs", what="t",
                    params={"$format": "json", "$filter": "RegioS eq 'GM0228'",
                            "$select": "RegioS,NettoArbeidsparticipatie_3"})["value"]
    assert rows and {r["RegioS"] for r in rows} == {"GM0228"} and set(rows[0]) == {"RegioS", "NettoArbeidsparticipatie_3"}
    with pytest.raises(NotFound):
        get_json(f"{v3.url}/ODataApi/odata/00000XXX/TableInfos", source="cbs", what="t")
