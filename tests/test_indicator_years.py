"""The indicator list says per year which indicators have figures, and points to the newest
year that has them (issue 12, item 7). AppTest against the stand-in CBS serving the real KWB
2024 extract, in which 14 of the non-origin indicators are empty (CBS fills them later)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from apptest_tools import run_page, texts

from buurtmonitor.catalogue import load_catalogue
from loaders import repository
from loaders.cache import ParquetStore
from loaders.settings import get_settings

#: empty in the real KWB 2024 extract for Ede (every area, and Nederland)
EMPTY_2024 = ("inkomen_per_inwoner", "pct_opleiding_laag", "nettoarbeidsparticipatie", "pct_jeugdzorg",
              "geweld_per_1000")


@pytest.fixture
def env(real_env):
    return real_env


@pytest.mark.slow
def test_empty_indicators_are_marked_in_the_list(env):
    at = run_page("gebiedsprofiel.py", jaar="2024", gemeente="GM0228", indicator="pct_herkomst_buiten_europa")
    options = at.sidebar.selectbox(key="w_indicator").options
    cat = load_catalogue()
    marked = [o for o in options if o.endswith("(geen cijfers in 2024)")]
    for ind in EMPTY_2024:
        assert any(o.startswith(f"{cat.themes[cat.indicators[ind].theme]}: {cat.indicators[ind].label} (geen")
                   for o in marked), ind
    assert len(marked) == 14, marked
    assert not any(cat.indicators["pct_herkomst_buiten_europa"].label in o for o in marked)
    assert "geen cijfers" not in texts(at.info)   # the chosen indicator has figures: no notice


@pytest.mark.slow
def test_an_empty_indicator_says_so_and_suggests_the_latest_year_with_figures(env):
    # without another year: said plainly, no year suggested
    at = run_page("gebiedsprofiel.py", jaar="2024", gemeente="GM0228", indicator="inkomen_per_inwoner")
    info = texts(at.info)
    assert "Voor 2024 heeft CBS (nog) geen cijfers over ‘Gemiddeld inkomen per inwoner’" in info, info
    assert "Kies een andere indicator" in info

    # a 2022 table of Ede with incomes in the cache (generated): that year is suggested
    table = repository.load_table(2024, "GM0228").table
    data = table.data.assign(year=2022, inkomen_per_inwoner=31.5)
    old = replace(table, data=data, meta=replace(table.meta, year=2022, scheme="migratieachtergrond",
                                                 table_id="85318NED"))
    missing = old.missing.copy()
    missing["inkomen_per_inwoner"] = None
    old = replace(old, missing=missing)
    ParquetStore(get_settings().cache_dir).put_table(repository.table_key(2022, "GM0228"), old)
    at = run_page("gebiedsprofiel.py", jaar="2024", gemeente="GM0228", indicator="inkomen_per_inwoner")
    info = texts(at.info)
    assert "Het laatste jaar met cijfers is 2022." in info, info
    at.button(key="indicator_naar_jaar").click().run()
    assert at.sidebar.selectbox(key="w_jaar").value == 2022
    assert at.query_params["jaar"] == ["2022"] or at.query_params["jaar"] == "2022"
