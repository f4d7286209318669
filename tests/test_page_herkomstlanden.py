"""The Herkomstlanden section (app.integratie_herkomst.render_herkomstlanden) in a tiny script
run by AppTest.from_function: against the stand-in serving the real 85458NED extract (Ede,
Amsterdam: no country detail, said so), against a GENERATED 85458NED with countries (fictitious
numbers: the Eritrea handreiking with its reason, or the reason it is not shown), the demo,
bad input and CBS down."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app.integratie_herkomst import DEMO_LINE, NO_DETAIL_LINE
from devtools.standins.cbs_odata import CbsODataServer
from devtools.standins.cbs_odata4 import CbsOData4Server, v4_table
from devtools.standins.herkomstlanden import generated_extract
from devtools.standins.origin_extracts import GEMEENTEN_2022, KWB2024, ORIGIN_DIR, origin_extract, v3_table
from devtools.standins.shared_data import require_shared

ERITREA_TITLE = "Handreiking voor ondersteuning van Eritrese nieuwkomers bij hun integratie"


def _script(gemeente, year, demo):
    from app.integratie_herkomst import render_herkomstlanden

    render_herkomstlanden(gemeente, year, demo=demo)


def run(gemeente: str, year: int | None = None, demo: bool = False) -> AppTest:
    at = AppTest.from_function(_script, args=(gemeente, year, demo), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "text", "caption", "info", "warning", "error", "subheader")
             for e in getattr(at, kind)]
    return "\n".join(parts)


def cells(at: AppTest) -> list[str]:
    return [str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()]


@pytest.fixture(scope="module")
def real_v3():
    shared = require_shared(f"{ORIGIN_DIR}/85458NED.csv", GEMEENTEN_2022, KWB2024)
    ext = origin_extract("85458NED", shared)
    with CbsODataServer([v3_table(ext)]) as v3, CbsOData4Server([v4_table(ext)]) as v4:
        yield v3, v4


@pytest.fixture(scope="module")
def generated_v3():
    with CbsODataServer([v3_table(generated_extract())]) as v3:
        yield v3


@pytest.fixture
def env(monkeypatch, tmp_path):
    def apply(v3_url: str, v4_url: str = "http://127.0.0.1:9"):
        monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
        monkeypatch.setenv("CBS_ODATA_URL", v3_url)
        monkeypatch.setenv("CBS_ODATA4_URL", v4_url)
        monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
        monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    return apply


@pytest.mark.slow
def test_ede_from_the_real_extract(real_v3, env):
    v3, v4 = real_v3
    env(v3.url, v4.url)
    at = run("GM0228", 2024)
    text = everything(at)
    assert "Ede telt op 1 januari 2024 123.532 inwoners; 23.018 van hen (18,6%) hebben een herkomst buiten Nederland" in text
    assert NO_DETAIL_LINE in text                       # no country detail in the extract: said in one line
    assert "Bron: CBS, 85458NED" in text and "via CBS OData v3" in text
    c = cells(at)
    assert "100.514" in c and "10.584" in c and "ontbreekt in de geladen gegevens" in c
    assert "+787" in c                                  # herkomst buiten Nederland, 2023 -> 2024
    assert "niet uitgesplitst naar herkomstland" in text and ERITREA_TITLE not in text
    assert len(at.get("plotly_chart")) == 1 and at.get("download_button")


@pytest.mark.slow
def test_amsterdam_via_v4_when_v3_does_not_know_the_table(real_v3, env):
    v3, v4 = real_v3
    env("http://127.0.0.1:9", v4.url)                  # v3 unreachable: the v4 stand-in serves it
    at = run("GM0363", None)
    text = everything(at)
    assert "Amsterdam telt op 1 januari 2024 931.298 inwoners" in text and "via CBS OData v4" in text
    assert "353.652" in cells(at)


@pytest.mark.slow
def test_generated_countries_with_the_eritrea_handreiking_and_its_reason(generated_v3, env):
    env(generated_v3.url)
    at = run("GM0001", 2024)
    text = everything(at)
    assert ERITREA_TITLE in text
    assert ("Waarom hier: In Testgemeente Noord (fictief) wonen op 1 januari 2024 260 inwoners met herkomst "
            "Eritrea, van wie 195 buiten Nederland geboren; een jaar eerder 215 (+45)") in text
    assert NO_DETAIL_LINE not in text
    assert "Syrië (niet beschikbaar (leeg bij CBS))" in text             # missing count named, not 0
    c = cells(at)
    assert "Marokko" in c and "Eritrea" in c and "niet beschikbaar (leeg bij CBS)" in c
    fig = at.get("plotly_chart")[0].proto.spec
    assert "De 10 grootste herkomstlanden" in fig and "Bron: CBS, 85458NED" in fig


@pytest.mark.slow
def test_no_handreiking_when_eritrea_is_no_group(generated_v3, env):
    env(generated_v3.url)
    at = run("GM0002", 2024)
    text = everything(at)
    assert ERITREA_TITLE not in text
    assert "30 inwoners met herkomst Eritrea: minder dan 50" in text
    assert "De handreiking voor Eritrese nieuwkomers staat daarom hier niet." in text


@pytest.mark.slow
def test_a_year_without_figures_is_said(generated_v3, env):
    env(generated_v3.url)
    text = everything(run("GM0001", 2021))
    assert "Voor 2021 zijn er geen cijfers naar herkomstland" in text and "getoond: 1 januari 2022" in text


def test_demo_says_there_are_no_countries(env):
    env("http://127.0.0.1:9")
    at = run("GM9901", 2024, demo=True)
    assert DEMO_LINE in everything(at) and not at.get("plotly_chart")


@pytest.mark.slow
@pytest.mark.parametrize("gemeente", ["<script>alert(1)</script>", "GM9x", "Ede"])
def test_bad_gemeente_gives_a_dutch_message(generated_v3, env, gemeente):
    env(generated_v3.url)
    at = run(gemeente)
    assert at.error and "Onbekend gebied" in str(at.error[0].value)
    assert "<script>" not in str(at.error[0].value)                     # escaped, never HTML
    assert not at.get("plotly_chart")


@pytest.mark.slow
def test_unknown_gemeente_and_cbs_down(generated_v3, env):
    env(generated_v3.url)
    at = run("GM0363")
    assert at.error and "komt niet voor in tabel 85458NED" in str(at.error[0].value)
    env("http://127.0.0.1:9")
    at = run("GM0001")
    msg = str(at.error[0].value)
    assert "kunnen nu niet worden opgehaald" in msg and "Traceback" not in msg
