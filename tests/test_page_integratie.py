"""Page Integratie (AppTest): the offline demo, and the real extracts through the v3 and v4
stand-ins (85512NED over v3, 86008NED only over v4, so the v3 -> v4 fallback is on the path)."""

from __future__ import annotations

import csv
import math
import re

import pytest
from apptest_tools import figure, run_page
from apptest_tools import texts as raw_texts
from streamlit.testing.v1 import AppTest

from buurtmonitor.integratie.own_data import AreaIndex
from buurtmonitor.model import FICTITIOUS_LABEL
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR, CbsODataServer, table_from_shared_kwb2024
from devtools.standins.cbs_odata4 import CbsOData4Server, v4_table
from devtools.standins.origin_extracts import (
    GEMEENTEN_2022,
    KWB2024,
    ORIGIN_DIR,
    origin_extract,
    shared_origin_v3_tables,
)
from devtools.standins.shared_data import require_shared
from loaders import own_data
from loaders.by_origin import load_by_origin
from loaders.cache import ParquetStore

PAGE = "integratie.py"
V3_ORIGIN = ("85512NED", "71317ned")
V4_ORIGIN = ("86008NED",)


def run(timeout: float = 90, **params) -> AppTest:
    return run_page(PAGE, timeout=timeout, **params)


def texts(elements) -> str:
    """The texts of ``elements`` as a visitor reads them (Markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", raw_texts(elements))


def _number(v):
    """A cell as a number: the grid shows a column with missing values as Dutch text ("1.950",
    "−14", "–" for missing)."""
    if not isinstance(v, str):
        return v
    t = v.replace(".", "").replace(",", ".").replace("\u2212", "-").strip()
    try:
        return float(t)
    except ValueError:
        return math.nan if t in ("\u2013", "") else v


def table_rows(at: AppTest, i: int = 0) -> dict:
    df = at.dataframe[i].value
    return {r["Groep"]: {k: (v if k in ("Groep", "Toelichting") else _number(v)) for k, v in r.items()}
            for r in df.to_dict("records")}


# ------------------------------------------------------------------------------ demo (offline)
@pytest.mark.slow
def test_demo_offline_shows_fictitious_figures_labelled(demo_env):
    at = run()
    assert at.selectbox(key="w_gemeente").value == "GM9901"
    assert FICTITIOUS_LABEL in texts(at.warning)
    assert "FICTIEF" in texts(at.caption)                         # the source line of the own demo data
    want = load_by_origin("GM9901").frame
    year = int(at.session_state["sel_jaar"])
    shown = 2024 if year not in (2023, 2024) else year
    v = want[(want.group == "herkomst_buiten_europa") & (want.indicator == "netto_arbeidsparticipatie")
             & (want.year == shown)]["value"].iloc[0]
    rows = table_rows(at)
    assert rows["Herkomst buiten Europa"]["Waarde (%)"] == round(v)
    assert "Netto arbeidsparticipatie in Voorbeeldgemeente" in texts(at.subheader)
    md = texts(at.markdown)
    assert f"inwoners met herkomst buiten Europa: {round(v)}%" in md
    assert "Deze bron heeft geen cijfers voor heel Nederland" in texts(at.caption)   # own data
    assert "Verschil NL (%-punt)" not in at.dataframe[0].value.columns
    # the trend chart carries the fictitious label; Eritrea is a group, so its handreiking is there
    fig = figure(at)
    assert any(FICTITIOUS_LABEL in (a.get("text") or "") for a in fig["layout"]["annotations"])
    assert "Eritrese nieuwkomers" in md and "Bouwstenen voor sociale stabiliteit" in md
    assert "is Eritrea een herkomstgroep met eigen cijfers" in texts(at.caption)


@pytest.mark.slow
def test_demo_other_indicator_and_year_note(demo_env):
    at = run(jaar="2022")
    if at.selectbox(key="w_jaar").value != 2022:
        pytest.skip("the demo has no 2022 in the sidebar")
    assert "heeft geen cijfers voor 2022; u ziet 2023" in texts(at.info)
    at.selectbox(key="integratie_indicator").set_value("bijstand").run()
    assert not at.exception
    assert "Bijstand in Voorbeeldgemeente, 2023" in texts(at.subheader)
    assert "procentpunt hoger dan bij inwoners met herkomst Nederland" in texts(at.markdown)


# ------------------------------------------------------------------------------ real extracts
@pytest.fixture(scope="module")
def servers():
    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}", *[f"{ORIGIN_DIR}/{t}.csv" for t in V3_ORIGIN + V4_ORIGIN],
                            GEMEENTEN_2022, KWB2024)
    v3 = CbsODataServer([table_from_shared_kwb2024(shared), *shared_origin_v3_tables(shared, V3_ORIGIN)])
    v4 = CbsOData4Server([v4_table(origin_extract(t, shared)) for t in V4_ORIGIN])
    with v3, v4:
        yield v3, v4, shared


@pytest.fixture
def real(servers, monkeypatch, tmp_path):
    v3, v4, shared = servers
    v3.reset()
    v4.reset()
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", v3.url)
    monkeypatch.setenv("CBS_ODATA4_URL", v4.url)
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "1")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    yield v3, v4, shared
    v3.reset()
    v4.reset()


def _extract_series(shared, region: str, origin: str) -> dict[int, float]:
    """NettoArbeidsparticipatie of 86008NED for ``region`` and ``origin`` straight from the CSV."""
    out = {}
    with open(shared / ORIGIN_DIR / "86008NED.csv", encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            if (r["RegioS"] == region and r["Herkomstland"] == origin and r["GeboortelandOuders"] == "Totaal"
                    and r["Geslacht"] == "Totaal mannen en vrouwen" and r["Persoonskenmerken"] == "Totaal personen"):
                out[int(r["Perioden"])] = float(r["NettoArbeidsparticipatie_3"])
    return out


@pytest.mark.slow
def test_ede_2021_85512ned_shows_the_real_figures_and_gaps(real):
    at = run(gemeente="GM0228", jaar="2024")
    assert FICTITIOUS_LABEL not in texts(at.warning)
    at.selectbox(key="integratie_bron").set_value("85512NED").run()
    assert not at.exception
    # the sidebar year has no figures in 85512NED: said in one line, 2021 shown
    assert "85512NED heeft geen cijfers voor 2024; u ziet 2021. Beschikbare jaren: 2021." in texts(at.info)
    assert "Netto arbeidsparticipatie in Ede, 2021" in texts(at.subheader)
    rows = table_rows(at)
    got = {g: rows[g]["Waarde (%)"] for g in ("Herkomst Nederland", "Herkomst buiten Europa",
                                              "↳ Marokko", "↳ Turkije")}
    assert got == {"Herkomst Nederland": 75, "Herkomst buiten Europa": 61, "↳ Marokko": 59, "↳ Turkije": 60}
    gap = "Verschil (%-punt)"
    assert (rows["Herkomst buiten Europa"][gap], rows["↳ Marokko"][gap], rows["↳ Turkije"][gap]) \
        == (-14, -16, -15)
    assert rows["Herkomst buiten Europa"]["n"] > 0
    assert not math.isnan(rows["Herkomst buiten Europa"]["Verschil NL (%-punt)"])
    md = texts(at.markdown)
    assert ("Netto arbeidsparticipatie bij inwoners met herkomst buiten Europa: 61%, 14 procentpunt lager dan "
            "bij inwoners met herkomst Nederland (75%). In heel Nederland is dat verschil") in md
    assert "Marokko 59% (−16 procentpunt)" in md and "Turkije 60% (−15 procentpunt)" in md
    assert "(85512NED, via CBS OData v3)" in texts(at.caption)
    # one year: no trend, but the page says where a series is
    assert "Een reeks van netto arbeidsparticipatie staat in: 86008NED (2014–2023)" in texts(at.info)


@pytest.mark.slow
def test_ede_86008ned_series_2014_2023_exactly_over_v4(real):
    _, v4, shared = real
    at = run(gemeente="GM0228", jaar="2024")
    assert at.selectbox(key="integratie_bron").value == "86008NED"     # nearest year to 2024: 2023
    assert "86008NED heeft geen cijfers voor 2024; u ziet 2023" in texts(at.info)
    assert "(86008NED, via CBS OData v4)" in texts(at.caption)
    assert v4.requests_to("/CBS/86008NED")
    fig = figure(at)
    by = {(t["meta"]["group"], t["meta"]["area"]): dict(zip(t["x"], t["y"])) for t in fig["data"]}
    for group, origin in (("totaal", "Totaal"), ("herkomst_nederland", "Nederland")):
        want = _extract_series(shared, "Ede", origin)
        assert sorted(want) == list(range(2014, 2024))
        assert by[(group, "gemeente")] == want
        assert by[(group, "land")] == _extract_series(shared, "Nederland", origin)
    md = texts(at.markdown)
    assert "Netto arbeidsparticipatie bij alle inwoners steeg van 67% in 2014 naar 75% in 2023" in md
    assert "alleen cijfers van alle inwoners en van herkomst Nederland" in texts(at.caption)


@pytest.mark.slow
def test_a_failed_table_gives_one_dutch_line_and_the_rest_shows(real):
    v3, _, _ = real
    v3.fail_next(50, "503", path_contains="85512NED")
    at = run(gemeente="GM0228", jaar="2024")
    warn = texts(at.warning)
    assert "(85512NED) ontbreekt: Tabel 85512NED kon nu niet bij CBS worden opgehaald en staat niet in de cache." \
        in warn
    assert warn.count("ontbreekt:") == 1
    assert "85512NED" not in at.selectbox(key="integratie_bron").options
    assert "Netto arbeidsparticipatie in Ede, 2023" in texts(at.subheader)
    assert table_rows(at)["Herkomst Nederland"]["Waarde (%)"] == 77


@pytest.mark.slow
def test_a_small_group_shows_its_reason_not_zero(real, tmp_path):
    path = tmp_path / "ede.csv"
    path.write_text(
        "gebiedscode;jaar;herkomstgroep;indicator;teller;noemer;waarde;eenheid;bron;opmerking\n"
        "GM0228;2024;nederland;bijstand;1200;60000;;%;O&S Ede 2024 (test);\n"
        "GM0228;2024;buiten_europa;bijstand;900;9000;;%;O&S Ede 2024 (test);\n"
        "GM0228;2024;eritrea;bijstand;2;6;;%;O&S Ede 2024 (test);\n", encoding="utf-8")
    res = own_data.import_file(path, gemeente="GM0228", store=ParquetStore(tmp_path / "cache"),
                               areas=AreaIndex({2024: {"GM0228": "Ede"}}, gemeente="GM0228"))
    assert res.stored is not None, res.report.errors
    at = run(gemeente="GM0228", jaar="2024")
    # own data has 2024 itself: it opens first, beside the CBS tables
    assert at.selectbox(key="integratie_bron").value == res.stored.id
    assert "Bijstand in Ede, 2024" in texts(at.subheader)
    rows = table_rows(at)
    assert math.isnan(rows["↳ Eritrea"]["Waarde (%)"])                      # hidden, never 0
    assert rows["↳ Eritrea"]["Toelichting"] == "verborgen: te weinig personen"
    assert rows["Herkomst buiten Europa"]["Waarde (%)"] == 10
    md = texts(at.markdown)
    # Eritrea is a subgroup of herkomst buiten Europa: said in the line of that group
    assert any("Eritrea" in line and "verborgen: te weinig personen" in line for line in md.splitlines()), md
    assert "Eritrea: verborgen: te weinig personen" in texts(at.caption)
    # no figures for Eritrea, so no Eritrese handreiking (the group is not there with numbers)
    assert "Eritrese nieuwkomers" not in md


@pytest.mark.slow
def test_amsterdam_opens_with_real_figures(real):
    at = run(gemeente="GM0363", jaar="2021")
    if at.selectbox(key="w_gemeente").value != "GM0363":
        at = run(gemeente="GM0363", jaar="2024")
    at.selectbox(key="integratie_bron").set_value("85512NED").run()
    assert not at.exception
    assert "Netto arbeidsparticipatie in Amsterdam, 2021" in texts(at.subheader)
    rows = table_rows(at)
    assert rows["Herkomst Nederland"]["n"] > 100_000
    assert "↳ Marokko" in rows
