"""Links into the dashboard (AppTest): every page opened with a bad URL parameter shows no
traceback, says in one Dutch line what was asked and what is shown instead, and carries in
the URL what is shown; a real gemeente is never silently replaced (by the demo or another);
a year without a CBS table keeps the gemeente; a deep link restores the Kaart and Lokale
kaart views exactly (same class breaks)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from apptest_tools import figure, texts
from streamlit.testing.v1 import AppTest

from app import ui
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.maps import classes
from buurtmonitor.model import FICTITIOUS_LABEL

ROOT = Path(__file__).resolve().parent.parent
#: every page; those that load every year or build the briefing take seconds per run: slow lane
PAGES = ["kaart.py", "herkomst.py", "gebiedsprofiel.py", "hulpmiddelen.py"] + [
    pytest.param(p, marks=pytest.mark.slow) for p in ("ontwikkeling.py", "lokale_kaart.py", "briefing.py", "integratie.py")]
#: (parameter, bad value, words the notice must contain: the value as asked, escaped for Markdown)
BAD = [
    ("jaar", "abc", "‘abc’"),
    ("jaar", "2010", "‘2010’"),
    ("gemeente", "GM9999", "‘GM9999’"),
    ("gemeente", "<script>", "‘\\<script\\>’"),
    ("indicator", "nope", "‘nope’"),
    ("niveau", "x", "‘x’"),
    ("gebied", "BU0000", "‘BU0000’"),
]
#: what the notice says is shown instead (demo: no CBS, nothing cached)
SHOWN_INSTEAD = {"jaar": "getoond wordt 2024", "gemeente": "getoond wordt", "indicator": "getoond wordt",
                 "niveau": "getoond worden de wijken", "gebied": "geen gebied gekozen"}


def open_page(page: str, timeout: float = 60, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=timeout)
    at.query_params.update(params)
    at.run()
    return at


def qp(at: AppTest, key: str):
    v = at.query_params.get(key)
    return v[0] if isinstance(v, list) and v else v


def all_text(at: AppTest) -> str:
    """Everything the page rendered as (Markdown) text."""
    return "\n".join(texts(getattr(at, kind)) for kind in
                     ("title", "markdown", "caption", "warning", "error", "info", "success", "text"))


# ------------------------------------------------------------------ every page x every bad value
@pytest.mark.slow
@pytest.mark.parametrize("param,value,quoted", BAD, ids=[f"{p}={v}" for p, v, _ in BAD])
@pytest.mark.parametrize("page", PAGES)
def test_bad_parameter_gives_a_dutch_line_and_a_clean_url(demo_env, page, param, value, quoted):
    at = open_page(page, **{param: value})
    assert not at.exception, [e.value for e in at.exception]
    lines = [w.value for w in at.warning if quoted in w.value]
    assert len(lines) == 1, texts(at.warning)
    line = lines[0]
    assert SHOWN_INSTEAD[param] in line or "uit de link gehaald" in line, line
    assert qp(at, param) != value                                  # the URL no longer carries it
    if page != "hulpmiddelen.py":                                  # shown instead: as the line says
        if param == "jaar":
            assert at.sidebar.selectbox(key="w_jaar").value == 2024 and qp(at, "jaar") == "2024"
        if param == "gemeente":
            shown = at.sidebar.selectbox(key="w_gemeente").value
            assert f"({shown})" in line and qp(at, "gemeente") == shown
        if param == "niveau":
            assert at.sidebar.radio(key="w_niveau").value == "wijk"
        if param == "indicator" and page != "integratie.py":      # Integratie has no KWB indicator
            label = load_catalogue().indicators[at.sidebar.selectbox(key="w_indicator").value].label
            assert ui.md_escape(label) in line
    # text from the URL is text: never rendered as HTML
    assert "<script>" not in all_text(at)


@pytest.mark.slow
def test_the_bad_line_goes_when_the_user_chooses(demo_env):
    """The notice stays while the replaced choice stands (a rerun keeps it) and goes once the
    user chooses something in the sidebar."""
    at = open_page("herkomst.py", gemeente="GM9999")
    assert "‘GM9999’" in texts(at.warning)
    at.run()
    assert "‘GM9999’" in texts(at.warning)
    at.sidebar.radio(key="w_niveau").set_value("buurt").run()
    assert "‘GM9999’" not in texts(at.warning)
    assert qp(at, "gemeente") == at.sidebar.selectbox(key="w_gemeente").value


@pytest.mark.slow
def test_a_level_this_page_does_not_offer_is_named(demo_env):
    at = open_page("herkomst.py", niveau="gemeente")
    assert any("Alle gemeenten" in w.value and "getoond worden de wijken" in w.value for w in at.warning)
    assert qp(at, "niveau") == "wijk"


@pytest.mark.slow
def test_an_indicator_of_another_year_is_named(demo_env):
    label = ui.md_escape(load_catalogue().indicators["pct_niet_westers"].label)
    at = open_page("kaart.py", jaar="2024", indicator="pct_niet_westers")
    line = next(w.value for w in at.warning if label in w.value)
    assert "2024" in line and "getoond wordt" in line
    assert qp(at, "indicator") == "pct_herkomst_buiten_europa"


@pytest.mark.slow
def test_an_area_that_is_not_in_the_table_is_named_and_dropped(demo_env):
    """BU99019999 has the form of a Voorbeeldgemeente buurt but does not exist."""
    at = open_page("kaart.py", niveau="buurt", gebied="BU99019999")
    assert any("‘BU99019999’" in w.value and "geen gebied gekozen" in w.value for w in at.warning)
    assert qp(at, "gebied") is None and at.session_state["sel_gebied"] is None
    assert at.selectbox(key="kaart_gebied").value is None


def test_error_details_never_reach_a_visitor():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


# ------------------------------------------------------------------ the demo never replaces a choice
@pytest.mark.slow
def test_demo_only_when_nothing_else_exists(demo_env):
    """No CBS, nothing cached: without a choice the page opens on the (labelled) demo, but a
    real gemeente from a link stays chosen and the page says why it has no figures."""
    at = open_page("kaart.py")
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM9901"
    assert FICTITIOUS_LABEL in texts(at.warning)
    at = open_page("kaart.py", gemeente="GM0228", jaar="2024")
    assert not at.exception
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM0228" and qp(at, "gemeente") == "GM0228"
    assert FICTITIOUS_LABEL not in texts(at.warning)
    error = texts(at.error)
    assert "geen verbinding met CBS" in error and "Voorbeeldgemeente" in error
    assert "http" not in error                                     # the detail sits in a closed panel
    assert any(e.label == "Technische details" for e in at.expander)


@pytest.mark.slow
@pytest.mark.parametrize("page", ["kaart.py", "herkomst.py", "gebiedsprofiel.py", "briefing.py"])
def test_a_year_without_a_cbs_table_keeps_the_gemeente(real_env, page):
    """CBS answers but has no table for 2022 (the stand-in serves 2024 only): Ede stays
    chosen, the page says the table is missing (not that CBS is unreachable), no demo; back in
    2024 Ede's figures are there again."""
    at = open_page(page, gemeente="GM0228", jaar="2024", niveau="wijk")
    assert not at.exception and not at.error, texts(at.error)
    at.sidebar.selectbox(key="w_jaar").set_value(2022).run()
    assert not at.exception
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM0228" and qp(at, "gemeente") == "GM0228"
    assert FICTITIOUS_LABEL not in texts(at.warning)
    error = texts(at.error)
    assert "Ede" in error and "2022" in error and "CBS is bereikbaar" in error, error
    assert "geen verbinding" not in error and "niet bereikbaar" not in error
    at.sidebar.selectbox(key="w_jaar").set_value(2024).run()
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM0228"
    assert not at.error and FICTITIOUS_LABEL not in texts(at.warning)


@pytest.mark.slow
def test_a_deep_link_to_a_year_without_table_keeps_the_gemeente(real_env):
    at = open_page("herkomst.py", gemeente="GM0228", jaar="2022")
    assert not at.exception
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM0228"
    assert "CBS is bereikbaar" in texts(at.error)
    assert FICTITIOUS_LABEL not in texts(at.warning)


@pytest.mark.slow
def test_an_unknown_gemeente_with_cbs_shows_ede_and_says_so(real_env):
    at = open_page("herkomst.py", gemeente="GM9999", jaar="2024")
    assert not at.exception
    line = next(w.value for w in at.warning if "‘GM9999’" in w.value)
    assert "bestaat niet in 2024; getoond wordt Ede (GM0228)." in line
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM0228" and qp(at, "gemeente") == "GM0228"
    assert FICTITIOUS_LABEL not in texts(at.warning)


def test_table_missing_tells_404_from_unreachable():
    class Resp:
        status_code = 404

    class HTTPError(Exception):
        response = Resp()

    try:
        try:
            raise HTTPError("404")
        except HTTPError as inner:
            raise ui.repository.DataUnavailable("CBS ... 404") from inner
    except ui.repository.DataUnavailable as exc:
        assert ui.table_missing(exc)
    assert not ui.table_missing(ui.repository.DataUnavailable("Connection refused"))


# ------------------------------------------------------------------ deep links restore the view
def breaks(fig: dict) -> tuple:
    """What decides the colours of the map: class labels (with their edges), colour scale and
    the class of every area."""
    main = fig["data"][0]
    return (tuple(main["colorbar"]["ticktext"]), json.dumps(main["colorscale"]), json.dumps(main["z"]),
            tuple(main["locations"]))


@pytest.mark.slow
def test_deep_link_restores_the_kaart_view_with_the_same_class_breaks(demo_env):
    at = open_page("kaart.py", niveau="buurt")
    default = breaks(figure(at))
    palette = list(classes.palette_options(True))[1]
    at.selectbox(key="kaart_methode").set_value("natural_breaks").run()
    at.slider(key="kaart_klassen").set_value(4).run()
    at.radio(key="kaart_vergelijking").set_value("gemeente").run()
    at.selectbox(key="kaart_palet_div").set_value(palette).run()
    assert not at.exception
    original = breaks(figure(at))
    assert original != default                                     # the settings change the map
    link = {k: qp(at, k) for k in at.query_params}
    assert link["indeling"] == "natural_breaks" and link["klassen"] == "4"
    assert link["vergelijking"] == "gemeente" and link["kleuren"] == palette

    restored = open_page("kaart.py", **link)
    assert not restored.exception and not [w for w in restored.warning if "link" in w.value]
    assert restored.selectbox(key="kaart_methode").value == "natural_breaks"
    assert restored.slider(key="kaart_klassen").value == 4
    assert restored.radio(key="kaart_vergelijking").value == "gemeente"
    assert restored.selectbox(key="kaart_palet_div").value == palette
    assert breaks(figure(restored)) == original
    assert {k: qp(restored, k) for k in restored.query_params} == link


@pytest.mark.slow
def test_deep_link_restores_the_kaart_tab_and_background(demo_env):
    at = open_page("kaart.py", tab="tabel", achtergrond="online")
    assert not at.exception
    assert at.session_state["kaart_tab"].endswith("Tabel (zelfde cijfers)")
    assert at.toggle(key="kaart_online").value is True
    assert qp(at, "tab") == "tabel" and qp(at, "achtergrond") == "online"
    # the default is left out of the URL
    at = open_page("kaart.py", tab="kaart")
    assert qp(at, "tab") is None


@pytest.mark.slow
@pytest.mark.parametrize("param,value", [("indeling", "foo"), ("klassen", "9"), ("klassen", "drie"),
                                         ("vergelijking", "<b>x</b>"), ("kleuren", "regenboog"),
                                         ("tab", "geheim"), ("achtergrond", "ja")])
def test_a_bad_view_setting_is_named_and_dropped(demo_env, param, value):
    at = open_page("kaart.py", **{param: value})
    assert not at.exception
    line = next(w.value for w in at.warning if "uit de link kan hier niet" in w.value)
    assert "getoond wordt" in line and "<b>" not in line
    assert qp(at, param) is None


@pytest.mark.slow
def test_kaart_settings_survive_a_visit_to_another_page(demo_env):
    at = open_page("kaart.py", indeling="equal_interval", klassen="3")
    at.switch_page("herkomst.py").run()
    assert not at.exception
    at.switch_page("kaart.py").run()
    assert at.selectbox(key="kaart_methode").value == "equal_interval"
    assert at.slider(key="kaart_klassen").value == 3


@pytest.mark.slow
def test_deep_link_restores_the_lokale_kaart_tab_and_thresholds(demo_env):
    link = {"tab": "veranderingen", "drempel_aandeel": "2.5", "min_inwoners": "100", "niveau": "buurt"}
    at = open_page("lokale_kaart.py", timeout=120, **link)
    assert not at.exception
    assert at.session_state["lk_tab"] == "Veranderingen"
    assert at.number_input(key="lk_drempel_aandeel").value == 2.5
    assert at.number_input(key="lk_drempel_min").value == 100
    assert {k: qp(at, k) for k in link} == link
    at = open_page("lokale_kaart.py", timeout=120, notities="WK990101")
    assert at.selectbox(key="lk_ws_area").value == "WK990101" and qp(at, "notities") == "WK990101"
    at = open_page("lokale_kaart.py", timeout=120, drempel_aandeel="999", tab="nope")
    lines = [w.value for w in at.warning if "uit de link kan hier niet" in w.value]
    assert len(lines) == 2 and qp(at, "drempel_aandeel") is None and qp(at, "tab") is None
