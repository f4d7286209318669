"""Kaart page, figures by origin group (app.kaart_herkomst, buurtmonitor.integratie.kaart):
the national map of the gap to herkomst Nederland against stand-ins serving the real CBS
extracts, and own figures per buurt (the demo, and a real gemeente after an import)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from apptest_tools import figure, grid, run_page, texts
from streamlit.testing.v1 import AppTest

from app import kaart_herkomst
from buurtmonitor.exports.items import table_to_csv
from buurtmonitor.integratie import kaart
from buurtmonitor.integratie.catalogue import load_origin_catalogue
from buurtmonitor.integratie.combined import COMBINED_COLUMNS
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR, CbsODataServer, table_from_shared_kwb2024
from devtools.standins.origin_extracts import (
    GEMEENTEN_2022,
    KWB2024,
    ORIGIN_DIR,
    origin_extract,
    shared_origin_v3_tables,
)
from devtools.standins.pdok import (
    EDE_WIJKEN_2024,
    PdokServer,
    features_from_shared_ede_wijken,
    features_from_shared_gemeenten_2022,
)
from devtools.standins.shared_data import require_shared
from loaders import own_data as io_od
from loaders import repository

PAGE = "kaart.py"
TIMEOUT = 90
EDE_BUURTEN_2024 = "geo_ede_2024_pdok/buurten_2024_wijk_veldhuizen_ede_enriched.geojson"
ORIGIN_TABLES = ("85512NED", "86008NED")
#: region title suffixes of the extracts that are not gemeenten (shared README)
NOT_GEMEENTE = (" (LD)", " (PV)", " (CR)", " (AM)")


# ============================================================================ pure parts
def test_boundary_years_nearest_first_later_on_a_tie():
    assert kaart.boundary_years(2021, 2) == [2021, 2022, 2020, 2023, 2019]
    assert kaart.boundary_years(2023, 1, extra=(2024, 2030)) == [2023, 2024, 2022, 2030]
    assert kaart.boundary_note(2021, 2021) is None
    assert "2022" in kaart.boundary_note(2021, 2022) and "2021" in kaart.boundary_note(2021, 2022)


def test_unmatched_codes_are_listed_both_ways():
    frame = pd.DataFrame({"code": ["GM0001", "GM0457"], "name": ["Een", "Weesp"]})
    no_shape, no_data = kaart.unmatched(frame, ["GM0001", "GM1980"])
    assert no_shape == [("GM0457", "Weesp")] and no_data == ["GM1980"]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """A combined frame of (gemeente, group, value, n, missing) rows of 85512NED 2021."""
    out = [{"gemeente_code": g, "gemeente_name": g.title(), "level": "land" if g.startswith("NL") else "gemeente",
            "year": 2021, "group": grp, "indicator": "netto_arbeidsparticipatie", "value": v, "n": n, "unit": "%",
            "scheme": "herkomst", "table_id": "T1", "api": "v3", "missing": m, "area_code": g,
            "area_name": g.title(), "source": "Bron: CBS, T1"} for g, grp, v, n, m in rows]
    return pd.DataFrame(out, columns=COMBINED_COLUMNS)


def test_gap_map_keeps_every_gemeente_and_its_reason_never_zero():
    nan = float("nan")
    f = _frame([("NL01", "herkomst_nederland", 75.0, 1e6, None), ("NL01", "herkomst_buiten_europa", 60.0, 1e5, None),
                ("GM0001", "herkomst_nederland", 70.0, 900, None), ("GM0001", "herkomst_buiten_europa", 50.0, 90, None),
                ("GM0002", "herkomst_nederland", 80.0, 900, None), ("GM0002", "herkomst_buiten_europa", 75.0, 90, None),
                ("GM0003", "herkomst_nederland", 80.0, 900, None),
                ("GM0003", "herkomst_buiten_europa", nan, 0, "klein_aantal"),
                ("GM0004", "herkomst_nederland", nan, nan, "leeg"), ("GM0004", "herkomst_buiten_europa", 60.0, 40, None)])
    gm = kaart.gap_map(f, "netto_arbeidsparticipatie", "herkomst_buiten_europa", 2021, table_id="T1")
    by = gm.frame.set_index("code")
    assert list(by.index) == ["GM0001", "GM0002", "GM0003", "GM0004"]
    assert by.loc["GM0001", "value"] == -20 and by.loc["GM0001", "rank"] == 1 and by.loc["GM0002", "rank"] == 2
    assert math.isnan(by.loc["GM0003", "value"]) and by.loc["GM0003", "missing"] == "klein_aantal"
    assert by.loc["GM0004", "missing"] == "referentie_ontbreekt" and gm.ranked == 2
    assert gm.country_gap == -15
    cat = load_origin_catalogue()
    text = kaart.rank_sentence(gm, "GM0001", "Een", cat.missing_label)
    assert text.startswith("Een: plaats 1 van 2 gemeenten.")
    assert "50%, 20 procentpunt lager dan van inwoners met herkomst Nederland (70%)" in text
    assert "te weinig personen" in kaart.rank_sentence(gm, "GM0003", "Drie", cat.missing_label)
    assert "andere code" in kaart.rank_sentence(gm, "GM0457", "Weesp", cat.missing_label)
    hover = gm.hover(cat.missing_label)
    assert "Verschil: −20 procentpunt" in hover["GM0001"] and "Plaats 1 van 2" in hover["GM0001"]
    assert "te weinig personen" in hover["GM0003"]
    # the export carries the source line and the year; missing stays empty, never 0
    item = kaart_herkomst.gap_export_item(gm, None, gm.table(kaart.reason_label(cat)), "Bron: CBS, T1; grenzen: x",
                                          text)
    assert item.years == [2021] and item.table_ids == ["T1"] and "2021" in item.title
    csv = pd.read_csv(io.BytesIO(table_to_csv(item)), sep=";", decimal=",", encoding="utf-8-sig")
    assert set(csv["bron"]) == {"Bron: CBS, T1; grenzen: x"} and len(csv) == 4
    assert csv.loc[csv["Code"] == "GM0003", "Verschil (procentpunt)"].isna().all()


# ============================================================================ demo (no network)
@pytest.mark.slow
def test_demo_own_buurt_figures_with_small_groups_shown_as_such(demo_env):
    at = run_page(PAGE, timeout=TIMEOUT, niveau="buurt")
    at.sidebar.radio(key="kaart_bron").set_value("eigen").run()
    assert not at.exception
    pairs = at.selectbox(key="kh_eigen_buurt").options
    assert "Eigen gegevens — Bijstand, herkomst buiten Europa" in pairs
    fig = figure(at)
    main = fig["data"][0]
    assert all(c.startswith("BU9901") for c in main["locations"])
    assert "FICTIEF" in texts(at.caption) and "Bron: eigen gegevens van" in texts(at.caption).replace("\\", "")
    # find a figure with hidden small groups
    for label in pairs:
        at.selectbox(key="kh_eigen_buurt").set_value(label).run()
        fig = figure(at)
        if any("te weinig personen" in (t.get("name") or "") for t in fig["data"]):
            break
    else:
        pytest.fail("geen figuur met een verborgen kleine groep in de demo")
    main = fig["data"][0]
    hidden = [cd[0] for cd in main["customdata"] if cd[1] is None]
    assert hidden
    hover = dict(zip(main["locations"], main["hovertext"]))
    assert all("verborgen: te weinig personen" in hover[c] and "geen waarde" in hover[c] for c in hidden)
    assert "Te weinig personen" in texts(at.markdown)


@pytest.mark.slow
def test_demo_gap_map_says_it_needs_a_real_gemeente(demo_env):
    at = run_page(PAGE, timeout=TIMEOUT, niveau="gemeente")
    at.sidebar.radio(key="kaart_bron").set_value("verschil").run()
    assert not at.exception
    assert "fictief" in texts(at.info) and not at.get("plotly_chart")


# ============================================================================ real extracts
@pytest.fixture(scope="module")
def servers():
    shared = require_shared(*[f"{ORIGIN_DIR}/{t}.csv" for t in ORIGIN_TABLES], GEMEENTEN_2022, KWB2024,
                            f"{KWB2024_DIR}/{KWB2024_CSV}", EDE_WIJKEN_2024, EDE_BUURTEN_2024)
    cbs = CbsODataServer([table_from_shared_kwb2024(shared), *shared_origin_v3_tables(shared, ORIGIN_TABLES)])
    pdok = PdokServer()
    pdok.add_gebiedsindeling("gemeente_gegeneraliseerd", features_from_shared_gemeenten_2022(shared))
    pdok.add_collection(2024, "wijken", features_from_shared_ede_wijken(shared))
    buurten = json.loads((Path(shared) / EDE_BUURTEN_2024).read_text(encoding="utf-8"))["features"]
    for i, f in enumerate(buurten):
        f.setdefault("id", f"buurten.{i + 1}")
    pdok.add_collection(2024, "buurten", buurten)
    with cbs, pdok:
        yield shared, cbs, pdok, buurten


@pytest.fixture
def real(servers, monkeypatch, tmp_path):
    shared, cbs, pdok, buurten = servers
    cbs.reset()
    pdok.reset()
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", cbs.url)
    monkeypatch.setenv("CBS_ODATA4_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", pdok.url)
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0")
    return shared, buurten


def independent_gaps(shared: str, table_id: str, year: int, group_title: str) -> pd.Series:
    """Gemeente title -> gap of ``group_title`` to Nederland in netto arbeidsparticipatie, read
    straight from the extract CSV (totals of the other dimensions; n < 10 hidden)."""
    d = pd.read_csv(Path(shared) / ORIGIN_DIR / f"{table_id}.csv", sep=";", encoding="utf-8-sig")
    d = d[(d["GeboortelandOuders"] == "Totaal") & (d["Perioden"] == year)]
    d = d[(d["RegioS"] != "Nederland") & ~d["RegioS"].str.endswith(NOT_GEMEENTE)]
    d = d[d["BeroepsEnNietBeroepsbevolking_1"].fillna(0) >= 10]
    wide = d.pivot_table(index="RegioS", columns="Herkomstland", values="NettoArbeidsparticipatie_3")
    return (wide[group_title] - wide["Nederland"]).dropna()


def gap_page(**params) -> AppTest:
    at = run_page(PAGE, timeout=TIMEOUT, gemeente="GM0228", niveau="gemeente", **params)
    at.sidebar.radio(key="kaart_bron").set_value("verschil").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_of(at: AppTest) -> pd.DataFrame:
    frames = [grid(at, i) for i in range(len(at.dataframe))]
    got = [f.data if hasattr(f, "data") else f for f in frames]
    return next(f for f in got if "Plaats" in f.columns)


@pytest.mark.slow
def test_gap_map_ranks_every_gemeente_of_85512NED_and_ede_as_computed_independently(real):
    shared, _ = real
    at = gap_page()
    at.selectbox(key="kh_tabel_netto_arbeidsparticipatie").set_value("85512NED").run()
    assert not at.exception
    assert at.selectbox(key="kh_jaar_85512NED_netto_arbeidsparticipatie").value == 2021
    assert at.selectbox(key="kh_groep_85512NED_netto_arbeidsparticipatie_2021").value == "herkomst_buiten_europa"
    gaps = independent_gaps(shared, "85512NED", 2021, "Buiten Europa")
    ede_rank = int((gaps < gaps["Ede"]).sum()) + 1
    table = table_of(at)
    assert table["Plaats"].notna().sum() == len(gaps)                  # every gemeente with a gap is ranked
    ede = table[table["Code"] == "GM0228"].iloc[0]
    assert ede["Plaats"] == ede_rank and ede["Verschil (procentpunt)"] == gaps["Ede"] == -14
    assert ede["Herkomst buiten Europa (%)"] == 61 and ede["Herkomst Nederland (%)"] == 75
    md = texts(at.markdown)
    assert f"Ede: plaats {ede_rank} van {len(gaps)} gemeenten" in md
    assert "61%, 14 procentpunt lager dan van inwoners met herkomst Nederland \\(75%\\)" in md
    # the map: the gap of every gemeente with a 2022 boundary, the rest listed by name
    fig = figure(at)
    main = fig["data"][0]
    on_map = {cd[0]: cd[1] for cd in main["customdata"]}
    assert len(on_map) == 345 and on_map["GM0228"] == -14
    ranked = table[table["Plaats"].notna()]
    listed = texts(at.warning)
    for code, gap in zip(ranked["Code"], ranked["Verschil (procentpunt)"]):
        assert on_map.get(code) == gap or f"({code})" in listed, code
    assert "grenzen van de gemeenten van 2022" in texts(at.info)       # data 2021, boundaries 2022
    hover = dict(zip(main["locations"], main["hovertext"]))["GM0228"]
    assert "Herkomst Nederland: 75%" in hover and "Verschil: −14 procentpunt" in hover
    assert f"Plaats {ede_rank} van {len(gaps)}" in hover and "n = 11.640" in hover
    ameland = dict(zip(main["locations"], main["hovertext"]))["GM0060"]     # no gap: why, never 0
    assert on_map["GM0060"] is None and "geen waarde" in ameland
    assert "Reden: niet beschikbaar (leeg bij CBS)" in ameland and "Herkomst Nederland: 75%" in ameland
    # diverging around 0, source and boundary year under the map
    assert fig["layout"]["meta"]["reference"] == 0.0
    captions = texts(at.caption).replace("\\", "")                   # shown as escaped text
    assert "Bron: CBS" in captions and "85512NED" in captions and "via PDOK (2022)" in captions


@pytest.mark.slow
def test_gap_map_default_is_the_newest_table_and_says_when_the_group_is_not_there(real):
    shared, _ = real
    at = gap_page()
    assert at.selectbox(key="kh_tabel_netto_arbeidsparticipatie").value == "86008NED"
    assert at.selectbox(key="kh_jaar_86008NED_netto_arbeidsparticipatie").value == 2023
    # the truncated extract of 86008NED has no "buiten Europa": said in one line, Europa shown
    assert "Herkomst buiten Europa staat niet in de cijfers van 86008NED (2023)" in texts(at.info)
    gaps = independent_gaps(shared, "86008NED", 2023, "Europa (exclusief Nederland)")
    table = table_of(at)
    assert table["Plaats"].notna().sum() == len(gaps)
    if "Ede" in gaps:
        ede = table[table["Code"] == "GM0228"].iloc[0]
        assert ede["Plaats"] == int((gaps < gaps["Ede"]).sum()) + 1
    # every gemeente of the table is in it; those without the group say why (never 0)
    d = pd.read_csv(Path(shared) / ORIGIN_DIR / "86008NED.csv", sep=";", encoding="utf-8-sig")
    d = d[(d["Perioden"] == 2023) & (d["RegioS"] != "Nederland") & ~d["RegioS"].str.endswith(NOT_GEMEENTE)]
    # (the stand-in cannot give a CBS code to a gemeente that is in neither of its name lists:
    # Voorne aan Zee, 2023; it serves it under a made-up key, which is not a gemeente)
    unattributed = set(origin_extract("86008NED", shared).unattributed)
    assert len(table) == len(set(d["RegioS"]) - unattributed) > len(gaps)
    absent = table[table["Plaats"].isna()]
    assert set(absent["Toelichting"]) <= {"niet in de CBS-tabel van dit jaar", "niet beschikbaar (leeg bij CBS)",
                                          "geen vergelijking: het cijfer van de referentiegroep ontbreekt"}
    assert absent["Verschil (procentpunt)"].isna().all()


@pytest.mark.slow
def test_gemeenten_without_a_boundary_are_listed_not_dropped(real, monkeypatch):
    shared, _ = real
    feats = [f for f in features_from_shared_gemeenten_2022(shared) if f["properties"]["statcode"] != "GM0228"]
    pdok = PdokServer()
    pdok.add_gebiedsindeling("gemeente_gegeneraliseerd", feats)
    with pdok:
        monkeypatch.setenv("PDOK_URL", pdok.url)
        at = gap_page()
        at.selectbox(key="kh_tabel_netto_arbeidsparticipatie").set_value("85512NED").run()
        assert not at.exception
        fig = figure(at)
    assert len(fig["data"][0]["locations"]) == 344 and "GM0228" not in fig["data"][0]["locations"]
    assert "1 gemeenten uit de cijfers hebben geen grens op de kaart van 2022" in texts(at.warning)
    assert "Ede \\(GM0228\\)" in texts(at.warning) or "Ede (GM0228)" in texts(at.warning)
    assert "Ede: plaats" in texts(at.markdown)                        # still ranked, in the table too
    assert "GM0228" in set(table_of(at)["Code"])


@pytest.mark.slow
def test_real_gemeente_after_an_import_shows_its_buurt_values_and_a_small_group(real, tmp_path):
    shared, buurten = real
    codes = sorted(f["properties"]["buurtcode"] for f in buurten)
    # a generated maatwerk file: bijstand of herkomst buiten Europa per buurt, one group too small
    noemers = {c: 100 + 40 * i for i, c in enumerate(codes)}
    tellers = {c: 5 + 3 * i for i, c in enumerate(codes)}
    small = codes[2]
    noemers[small], tellers[small] = 6, 1
    records = [{"gebiedscode": c, "jaar": "2024", "herkomstgroep": "buiten_europa", "indicator": "bijstand",
                "teller": str(tellers[c]), "noemer": str(noemers[c]), "waarde": None, "eenheid": "%",
                "bron": "CBS maatwerk 2024 (gegenereerd testbestand) **vet** <b>x</b>", "opmerking": None}
               for c in codes]
    path = tmp_path / "maatwerk.csv"
    path.write_bytes(io_od.records_bytes(records, "csv"))
    res = io_od.import_file(path)
    assert res.ok and res.gemeente == "GM0228", [m.text for m in res.report.errors]
    at = run_page(PAGE, timeout=TIMEOUT, gemeente="GM0228", niveau="buurt")
    at.sidebar.radio(key="kaart_bron").set_value("eigen").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="kh_eigen_buurt").value == ("bijstand", "herkomst_buiten_europa")
    fig = figure(at)
    main = fig["data"][0]
    values = {cd[0]: cd[1] for cd in main["customdata"]}
    assert set(values) == set(codes)                                  # the six buurten with a boundary
    for c in codes:
        if c == small:
            assert values[c] is None                                   # hidden, never 0
        else:
            assert values[c] == pytest.approx(100 * tellers[c] / noemers[c])
    hover = dict(zip(main["locations"], main["hovertext"]))
    assert "verborgen: te weinig personen" in hover[small]
    assert any(t.get("name") == "geen gegevens / te weinig personen (1)" for t in fig["data"])
    captions = texts(at.caption).replace("\\", "")
    assert "Bron: eigen gegevens van CBS maatwerk 2024 (gegenereerd testbestand) **vet** <b>x</b>" in captions
    raw = texts(at.caption)
    assert "\\*\\*vet\\*\\*" in raw and "\\<b\\>" in raw                  # Markdown and HTML escaped: text
    assert "FICTIEF" not in captions
    table = next(t for t in (grid(at, i) for i in range(len(at.dataframe))) if "Toelichting" in t.columns)
    row = table[table["Code"] == small].iloc[0]
    assert pd.isna(row.iloc[2]) and row["Toelichting"] == "verborgen: te weinig personen"
    # the KWB map of the same level is still there
    at.sidebar.radio(key="kaart_bron").set_value("kwb").run()
    assert not at.exception and figure(at)["layout"]["meta"]["indicator"] == "pct_herkomst_buiten_europa"
    assert repository.load_table(2024, "GM0228").table.meta.table_id == "85984NED"


@pytest.mark.slow
def test_a_table_cbs_cannot_give_is_a_dutch_message_and_is_tried_again(real, servers):
    _, cbs, _, _ = servers
    cbs.fail_next(50, "503", path_contains="86008NED")
    at = gap_page()
    assert "86008NED kon nu niet bij CBS worden opgehaald" in texts(at.error)
    assert not at.get("plotly_chart") and not at.exception
    cbs.reset()
    at.run()                                                            # the failure was not cached
    assert not at.error and figure(at)["layout"]["meta"]["areas"] == 345
