"""Page Herkomst (AppTest): the offline demo and the stand-in CBS with the real KWB 2024."""

from __future__ import annotations

import math

import pytest
from apptest_tools import EDE_BUITEN_EUROPA, EDE_INWONERS, figure, grid, run_page, texts
from streamlit.testing.v1 import AppTest

from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.model import FICTITIOUS_LABEL

PAGE = "herkomst.py"


def run(**params) -> AppTest:
    return run_page(PAGE, **params)


# ------------------------------------------------------------------------------ demo
@pytest.mark.slow
def test_demo_renders_with_label_guidance_source_and_scheme_note(demo_env):
    at = run()
    assert FICTITIOUS_LABEL in texts(at.warning)
    assert "Handreikingen bij deze weergave" in texts(at.markdown)
    assert "FICTIEVE VOORBEELDGEGEVENS" in texts(at.caption)  # the source line of the demo
    assert load_catalogue().schemes["herkomst"].note in texts(at.text)
    fig = figure(at)
    assert {t["name"] for t in fig["data"]} == {"Nederland", "Europa (excl. Nederland)", "Buiten Europa"}
    assert any(FICTITIOUS_LABEL in (a.get("text") or "") for a in fig["layout"]["annotations"])
    table = grid(at, 0)
    assert table["Code"].tolist()[-2:] == ["GM9901", "NL00"]


@pytest.mark.slow
def test_deep_link_restores_selection(demo_env):
    at = run(gemeente="GM9901", jaar="2022", niveau="buurt", gebied="BU99010103", indicator="pct_westers")
    assert at.selectbox(key="w_gemeente").value == "GM9901"
    assert at.selectbox(key="w_jaar").value == 2022
    assert at.radio(key="w_niveau").value == "buurt"
    assert at.selectbox(key="w_indicator").value == "pct_westers"
    assert at.session_state["sel_gebied"] == "BU99010103"
    # the area is marked, sorted on the group of the indicator, in the 2022 classification
    fig = figure(at)
    assert "▶ Bloemhof 1.3" in fig["data"][0]["y"]
    assert at.selectbox(key="herkomst_sort_migratieachtergrond_False").value == "westers"
    assert load_catalogue().schemes["migratieachtergrond"].note in texts(at.text)
    assert {t["name"] for t in fig["data"]} == {"Nederlandse achtergrond", "Westers", "Niet-westers"}


@pytest.mark.slow
def test_suppressed_values_are_shown_as_such(demo_env):
    at = run(niveau="buurt")
    table = grid(at, 0)
    row = table[table["Code"] == "BU99010107"].iloc[0]
    for col in ("Nederland (aantal)", "Nederland (%)", "Buiten Europa (aantal)", "Buiten Europa (%)"):
        assert math.isnan(row[col])  # missing, never 0
    assert "niet beschikbaar" in row["Toelichting"]
    assert "Lindelaan 1.7 (niet beschikbaar" in texts(at.caption)
    notes = [a["text"] for a in figure(at)["layout"]["annotations"] if a.get("name") == "ontbreekt"]
    assert notes and all("niet beschikbaar" in n for n in notes)


@pytest.mark.slow
def test_toggles_counts_and_detail(demo_env):
    at = run(niveau="wijk")
    at.radio(key="herkomst_weergave").set_value("count")
    at.radio(key="herkomst_groepen").set_value("detail")
    at.run()
    assert not at.exception
    fig = figure(at)
    names = [t["name"] for t in fig["data"] if t.get("showlegend", True)]
    assert names == ["Nederland", "Europa, geboren in Nederland", "Europa, geboren buiten Nederland",
                     "Buiten Europa, geboren in Nederland", "Buiten Europa, geboren buiten Nederland"]
    table = grid(at, 0)
    gem = table[table["Code"] == "GM9901"].iloc[0]
    ref = next(t for t in fig["data"] if t["name"] == "Nederland" and t["meta"]["panel"] == 2)
    assert dict(zip(ref["y"], ref["x"]))["Voorbeeldgemeente"] == gem["Nederland (aantal)"]


# ------------------------------------------------------------------------------ real CBS
@pytest.mark.slow
@pytest.mark.parametrize("gemeente", ["GM0228", "GM0363"])
def test_real_kwb2024_opens_and_shows_cbs_numbers(real_env, gemeente):
    from devtools.standins.cbs_odata import table_from_shared_kwb2024

    rows = {str(r["Codering_3"]).strip(): r for r in table_from_shared_kwb2024().rows}
    be, inw = rows[gemeente]["BuitenEuropa_19"], rows[gemeente]["AantalInwoners_5"]
    if gemeente == "GM0228":
        assert (be, inw) == (EDE_BUITEN_EUROPA, EDE_INWONERS)
    at = run(gemeente=gemeente, jaar="2024", niveau="wijk")
    assert FICTITIOUS_LABEL not in texts(at.warning)
    assert "Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED)" in texts(at.caption)
    table = grid(at, 0)
    row = table[table["Code"] == gemeente].iloc[0]
    assert row["Buiten Europa (aantal)"] == be
    assert row["Buiten Europa (%)"] == round(100 * be / inw, 1)
    fig = figure(at)
    ref = next(t for t in fig["data"] if t["name"] == "Buiten Europa" and t["meta"]["panel"] == 2)
    gem_label = next(y for y in ref["y"] if y != "Nederland")
    assert dict(zip(ref["y"], ref["x"]))[gem_label] == pytest.approx(100 * be / inw, rel=1e-12)
