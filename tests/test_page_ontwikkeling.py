"""Page Ontwikkeling (AppTest): the offline demo and the stand-in CBS with the real KWB 2024."""

from __future__ import annotations

import pytest
from apptest_tools import EDE_BUITEN_EUROPA, EDE_INWONERS, figure, grid, run_page, texts
from streamlit.testing.v1 import AppTest

from buurtmonitor.model import FICTITIOUS_LABEL
from buurtmonitor.synthetic import DEMO_YEARS, SPLIT_INTO
from loaders import repository

PAGE = "ontwikkeling.py"


def run(**params) -> AppTest:
    return run_page(PAGE, **params)


def line_traces(fig: dict) -> list[dict]:
    """The traces of the series (a line, or a dot for a segment of one year)."""
    return [t for t in fig["data"] if (t.get("mode") or "") in ("lines+markers", "markers")]


# ------------------------------------------------------------------------------ demo
@pytest.mark.slow
def test_demo_renders_all_years_with_breaks(demo_env):
    at = run()
    assert FICTITIOUS_LABEL in texts(at.warning)
    assert "Handreikingen bij deze weergave" in texts(at.markdown)
    assert "FICTIEVE VOORBEELDGEGEVENS – geen echte cijfers · gegenereerd door Buurtmonitor, jaren 2019–2024" \
        in texts(at.caption)
    assert at.selectbox(key="ontwikkeling_gebied").value == "GM9901"
    table = grid(at, 0)
    assert sorted(set(table["Jaar"])) == list(DEMO_YEARS)
    assert "Breuk: herkomst vanaf 2023" in texts(at.markdown)
    assert not at.expander or "Niet geladen" not in " ".join(e.label for e in at.expander)
    # the explanation of the break in plain Dutch, and one series per classification
    assert "niet-westers" in texts(at.info)
    assert at.selectbox(key="ontwikkeling_migratieachtergrond_pct_herkomst_buiten_europa").value == "pct_niet_westers"
    assert at.selectbox(key="ontwikkeling_herkomst_pct_herkomst_buiten_europa").value == "pct_herkomst_buiten_europa"
    labels = set(table.loc[table["Code"] == "GM9901", "Indicator"])
    assert labels == {"Niet-westerse migratieachtergrond", "Herkomst buiten Europa"}


@pytest.mark.slow
def test_deep_link_restores_selection_and_lines_stop_at_breaks(demo_env):
    at = run(gemeente="GM9901", jaar="2024", niveau="buurt", gebied=SPLIT_INTO[0],
             indicator="pct_herkomst_buiten_europa")
    assert at.selectbox(key="w_gemeente").value == "GM9901"
    assert at.selectbox(key="w_jaar").value == 2024
    assert at.selectbox(key="w_indicator").value == "pct_herkomst_buiten_europa"
    assert at.selectbox(key="ontwikkeling_gebied").value == SPLIT_INTO[0]
    fig = figure(at)
    mine = [t for t in line_traces(fig) if t["meta"]["code"] == SPLIT_INTO[0]]
    assert sorted((min(t["x"]), max(t["x"])) for t in mine) == [(2019, 2021), (2022, 2022), (2023, 2024)]
    for t in line_traces(fig):  # no line crosses a marker of its own area
        for prev, year in ((2021, 2022), (2022, 2023)):
            if t["meta"]["code"] == SPLIT_INTO[0] or year == 2023:
                assert not (min(t["x"]) <= prev and max(t["x"]) >= year)
    marks = [a.get("text") for a in fig["layout"]["annotations"]]
    assert "Grenswijziging" in marks and "Breuk: herkomst vanaf 2023" in marks
    assert "Grenswijziging" in texts(at.markdown)


@pytest.mark.slow
def test_non_origin_indicator_has_one_series(demo_env):
    at = run(gebied="BU99010103", indicator="woz", jaar="2024")
    fig = figure(at)
    mine = [t for t in line_traces(fig) if t["meta"]["code"] == "BU99010103"]
    assert len(mine) == 1 and mine[0]["x"] == list(DEMO_YEARS)
    assert not at.info or "niet-westers" not in texts(at.info)


@pytest.mark.slow
def test_suppressed_values_are_shown_as_such(demo_env):
    at = run(gebied="BU99010107", indicator="pct_herkomst_buiten_europa")
    table = grid(at, 0)
    mine = table[table["Code"] == "BU99010107"]
    assert len(mine) == len(DEMO_YEARS)
    assert mine["Waarde"].isna().all()  # missing, never 0
    assert mine["Toelichting"].str.contains("niet beschikbaar").all()
    assert "Zonder waarde: 2019 (niet beschikbaar (leeg bij CBS))" in texts(at.caption)


@pytest.mark.slow
def test_years_that_fail_are_listed_not_fatal(demo_env, monkeypatch):
    monkeypatch.setattr(repository, "available_years", lambda scope: [2018, *DEMO_YEARS])
    at = run()
    info = texts(at.info)
    assert "De reeks toont 2019–2024" in info and "Niet in de reeks: De cijfers van 2018" in info, info
    assert "2018: " not in texts(at.text)           # the technical detail only behind the toggle
    at.toggle(key="ontwikkeling_details").set_value(True).run()
    assert "2018: " in texts(at.text)
    assert sorted(set(grid(at, 0)["Jaar"])) == list(DEMO_YEARS)


# ------------------------------------------------------------------------------ real CBS
@pytest.mark.slow
@pytest.mark.parametrize("gemeente", ["GM0228", "GM0363"])
def test_real_kwb2024_opens_and_shows_cbs_numbers(real_env, gemeente):
    from devtools.standins.cbs_odata import table_from_shared_kwb2024

    rows = {str(r["Codering_3"]).strip(): r for r in table_from_shared_kwb2024().rows}
    be, inw = rows[gemeente]["BuitenEuropa_19"], rows[gemeente]["AantalInwoners_5"]
    if gemeente == "GM0228":
        assert (be, inw) == (EDE_BUITEN_EUROPA, EDE_INWONERS)
    at = run(gemeente=gemeente, jaar="2024", indicator="pct_herkomst_buiten_europa")
    assert FICTITIOUS_LABEL not in texts(at.warning)
    # the stand-in only serves 2024: the other years are named, not fatal
    assert "De reeks toont alleen 2024" in texts(at.info)
    table = grid(at, 0)
    mine = table[(table["Code"] == gemeente) & (table["Jaar"] == 2024)].iloc[0]
    assert mine["Waarde"] == round(100 * be / inw, 1)
    assert mine["n"] == inw
    fig = figure(at)
    (t,) = [t for t in line_traces(fig) if t["meta"]["code"] == gemeente]
    assert t["x"] == [2024] and t["y"][0] == pytest.approx(100 * be / inw, rel=1e-12)
    assert "Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED)" in texts(at.caption)


@pytest.mark.slow
def test_one_year_says_which_years_and_why_in_plain_words(real_env):
    """Issue 12, item 9: with only 2024 from CBS the page says which year is there and why the
    others are not (no raw 404s, no URLs, no command line until "Technische details" is on),
    and a year on its own is a dot in chart and legend, not a line."""
    at = run(gemeente="GM0228", jaar="2024", indicator="pct_herkomst_buiten_europa")
    info = texts(at.info)
    assert "De reeks toont alleen 2024: dat is het enige jaar waarvoor er cijfers van Ede zijn" in info, info
    assert "Met één jaar is er nog geen ontwikkeling te zien" in info
    assert "CBS is bereikbaar, maar levert de tabel van 2016–2023 niet" in info, info
    assert "CBS heeft de Kerncijfers wijken en buurten van 2025 (nog) niet gepubliceerd" in info, info
    visible = "\n".join([info, texts(at.markdown), texts(at.text), texts(at.caption), texts(at.warning),
                         " ".join(e.label for e in at.expander)])
    for raw in ("404", "http://", "python -m", "ODataFeed", "Niet geladen"):
        assert raw not in visible, raw
    fig = figure(at)
    assert fig["layout"]["title"]["text"].startswith("Ede: Herkomst buiten Europa (alleen 2024)")
    series = line_traces(fig)
    assert series and all(t["mode"] == "markers" and len(t["x"]) == 1 for t in series)
    at.toggle(key="ontwikkeling_details").set_value(True).run()
    detail = texts(at.text)
    assert "2023: " in detail and "404" in detail
