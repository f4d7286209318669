"""Page Gebiedsprofiel (AppTest): the offline demo and the stand-in CBS with the real KWB 2024."""

from __future__ import annotations

import math

import pytest
from apptest_tools import EDE_BUITEN_EUROPA, EDE_INWONERS, figure, grid, run_page, texts
from streamlit.testing.v1 import AppTest

from buurtmonitor.model import FICTITIOUS_LABEL

PAGE = "gebiedsprofiel.py"


def run(**params) -> AppTest:
    return run_page(PAGE, **params)


# ------------------------------------------------------------------------------ demo
@pytest.mark.slow
def test_demo_renders_gemeente_by_default(demo_env):
    at = run()
    assert FICTITIOUS_LABEL in texts(at.warning)
    assert "Handreikingen bij deze weergave" in texts(at.markdown)
    assert "FICTIEVE VOORBEELDGEGEVENS" in texts(at.caption)
    assert at.selectbox(key="profiel_gebied").value == "GM9901"
    assert "geen z-score" in texts(at.info)
    themes = [t.label for t in at.tabs]
    assert themes[:2] == ["Herkomst", "Demografie"]


@pytest.mark.slow
def test_deep_link_restores_selection(demo_env):
    at = run(gemeente="GM9901", jaar="2023", niveau="buurt", gebied="BU99010103",
             indicator="pct_herkomst_europa")
    assert at.selectbox(key="w_gemeente").value == "GM9901"
    assert at.selectbox(key="w_jaar").value == 2023
    assert at.selectbox(key="w_indicator").value == "pct_herkomst_europa"
    assert at.selectbox(key="profiel_gebied").value == "BU99010103"
    assert "Buurt Bloemhof 1.3" in texts(at.header)
    fig = figure(at)
    assert any(FICTITIOUS_LABEL in (a.get("text") or "") for a in fig["layout"]["annotations"])
    herkomst = grid(at, 0)
    assert list(herkomst.columns[:4]) == ["Indicator", "Eenheid", "Waarde", "n"]
    assert {"Wijk", "Gemeente", "Nederland", "z-score", "Duiding"} <= set(herkomst.columns)
    # the chart shows the z-scores of the table
    z_chart = {y.split(": ", 1)[1]: x for t in fig["data"] if t["name"] != "Geen z-score"
               for x, y in zip(t["x"], t["y"]) if y.startswith("Herkomst: ")}
    z_table = herkomst.set_index("Indicator")["z-score"].dropna().to_dict()
    assert z_table and {k: round(v, 2) for k, v in z_chart.items()} == z_table


@pytest.mark.slow
def test_choosing_an_area_updates_the_selection(demo_env):
    at = run()
    at.selectbox(key="profiel_gebied").set_value("WK990102")
    at.run()
    assert not at.exception
    assert at.session_state["sel_gebied"] == "WK990102"
    assert at.query_params["gebied"] in ("WK990102", ["WK990102"])
    assert "Wijk Oude Kern" in texts(at.header)


@pytest.mark.slow
def test_suppressed_values_are_shown_as_such(demo_env):
    at = run(gebied="BU99010107")
    herkomst = grid(at, 0).set_index("Indicator")
    row = herkomst.loc["Herkomst buiten Europa"]
    assert math.isnan(row["Waarde"])  # missing, never 0
    assert row["Duiding"] == "geen waarde: niet beschikbaar (leeg bij CBS)"
    assert "Herkomst buiten Europa (niet beschikbaar" in texts(at.caption)
    fig = figure(at)
    missing = next(t for t in fig["data"] if t["name"] == "Geen z-score")
    assert "niet beschikbaar (leeg bij CBS)" in missing["text"]


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
    assert at.selectbox(key="profiel_gebied").value == gemeente
    herkomst = grid(at, 0).set_index("Indicator")
    assert herkomst.loc["Herkomst buiten Europa", "Waarde"] == round(100 * be / inw, 1)
    assert herkomst.loc["Herkomst buiten Europa", "n"] == inw
    # a wijk of the gemeente, with its z-scores against the other wijken
    wijk = next(c for c in rows if c.startswith("WK" + gemeente[2:]))
    at.selectbox(key="profiel_gebied").set_value(wijk)
    at.run()
    assert not at.exception
    assert "Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED)" in texts(at.caption)
    assert figure(at)["data"]


@pytest.mark.slow
def test_small_area_has_no_shares_and_says_why(real_env):
    """Issue 12 item 6: De Vallei (5 inwoners) shows no 100% and no z-scores for its shares;
    the page states the small-area rule."""
    from buurtmonitor import small_areas

    at = run(gemeente="GM0228", jaar="2024", niveau="buurt", gebied="BU02281303")
    assert not at.exception, [e.value for e in at.exception]
    herkomst = grid(at, 0).set_index("Indicator")
    assert herkomst["Waarde"].isna().all()
    assert herkomst["z-score"].isna().all()
    assert (herkomst["Duiding"].str.contains("te klein gebied")).all()
    assert small_areas.rule_text() in texts(at.info)
