"""Page Hulpmiddelen (AppTest): all resources, search, filters, no HTML from user input."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from buurtmonitor.catalogue import load_catalogue

PAGE = Path(__file__).resolve().parent.parent / "pages" / "hulpmiddelen.py"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    st.cache_data.clear()


def run() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_titles(at: AppTest) -> list[str]:
    titles = [r.title for r in load_catalogue().resources]
    md = "\n".join(m.value.replace("\\", "") for m in at.markdown)
    return [t for t in titles if f"[{t}]" in md]


def test_lists_all_resources_with_details():
    at = run()
    assert len(shown_titles(at)) == len(load_catalogue().resources)
    texts = "\n".join(t.value for t in at.text)
    captions = "\n".join(c.value for c in at.caption)
    for r in load_catalogue().resources:
        assert r.description in texts
        assert str(r.year) in captions
        for view, line in r.why.items():
            if view != "hulpmiddelen":
                assert line in texts
    assert "2026-11-30" in captions
    assert "11 van 11" in captions


def test_search_filters_title_description_publisher():
    at = run()
    at.text_input(key="hm_zoek").set_value("eritrese").run()
    assert shown_titles(at) == ["Handreiking voor ondersteuning van Eritrese nieuwkomers bij hun integratie"]
    at.text_input(key="hm_zoek").set_value("CCV").run()              # publisher
    assert shown_titles(at) == ["Handboek Sociaal Calamiteitenplan"]
    at.text_input(key="hm_zoek").set_value("geen-enkel-resultaat").run()
    assert shown_titles(at) == [] and at.info


def test_filter_by_theme_and_view():
    at = run()
    at.multiselect(key="hm_thema").set_value(["jeugd"]).run()
    jeugd = shown_titles(at)
    assert jeugd and all("jeugd" in r.themes for r in load_catalogue().resources if r.title in jeugd)
    at.multiselect(key="hm_thema").set_value([]).run()
    at.multiselect(key="hm_weergave").set_value(["lokale_kaart"]).run()
    assert len(shown_titles(at)) == len(load_catalogue().resources_for("lokale_kaart"))


def test_search_text_is_never_rendered():
    at = run()
    evil = "<img src=x onerror=alert(1)> **vet**"
    at.text_input(key="hm_zoek").set_value(evil).run()
    assert not at.exception
    for el in list(at.markdown) + list(at.caption):
        assert "<img" not in el.value and "**vet**" not in el.value
    assert not at.get("html")
