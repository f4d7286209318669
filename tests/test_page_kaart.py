"""Page Kaart (AppTest) and the choropleth behind it (buurtmonitor.maps): the offline demo,
deep links, suppressed values, and the stand-in CBS/PDOK with the real KWB 2024 data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from apptest_tools import canvas_data, canvas_elements, figure, grid, run_page, texts
from streamlit.testing.v1 import AppTest

from buurtmonitor import formatting
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.harmonise import indicator_frame
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps import classes as mapclasses
from buurtmonitor.model import FICTITIOUS_LABEL
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR

PAGE = "kaart.py"
TIMEOUT = 30


@pytest.fixture
def real_env(cbs_kwb2024, pdok_ede, monkeypatch, tmp_path):
    """Stand-in CBS (real KWB 2024 extract, 85984NED) and stand-in PDOK (Ede's wijken only)."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", cbs_kwb2024.url)
    monkeypatch.setenv("PDOK_URL", pdok_ede.url)
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
    return cbs_kwb2024, pdok_ede


def run(**params) -> AppTest:
    return run_page(PAGE, timeout=TIMEOUT, **params)


def map_values(fig: dict) -> dict[str, float | None]:
    """code -> value as carried by the choropleth trace (customdata = [code, value])."""
    trace = fig["data"][0]
    assert trace["type"] == "choroplethmap"
    return {cd[0]: cd[1] for cd in trace["customdata"]}


# ------------------------------------------------------------------------------ demo
@pytest.mark.slow
def test_demo_offline_renders_map_label_guidance_and_source(demo_env):
    at = run()
    assert FICTITIOUS_LABEL in texts(at.warning)
    fig = figure(at)
    main = fig["data"][0]
    assert main["type"] == "choroplethmap"
    assert fig["layout"]["map"]["style"] == "white-bg"          # offline: plotly's white style, no tiles
    assert fig["layout"]["meta"]["achtergrond"] == "geen"
    assert len(main["geojson"]["features"]) == len(main["locations"]) == 6  # six demo wijken
    assert {f["id"] for f in main["geojson"]["features"]} == set(main["locations"])
    assert any(FICTITIOUS_LABEL in (a.get("text") or "") for a in fig["layout"]["annotations"])
    assert fig["layout"]["uirevision"] == "kaart-GM9901-wijk"
    assert "FICTIEVE VOORBEELDGEGEVENS" in texts(at.caption)    # source line under the map
    md = texts(at.markdown)
    assert "Handreikingen bij deze weergave" in md
    assert "Buurtmonitor Integratie" in md and "Wat zie je?" in md
    assert len(at.dataframe) >= 1                               # the table alternative


@pytest.mark.slow
def test_choose_indicator_level_and_classification(demo_env):
    at = run()
    at.sidebar.selectbox(key="w_indicator").set_value("pct_herkomst_europa").run()
    at.sidebar.radio(key="w_niveau").set_value("buurt").run()
    at.selectbox(key="kaart_methode").set_value("natural_breaks").run()
    at.slider(key="kaart_klassen").set_value(4).run()
    assert not at.exception
    fig = figure(at)
    main = fig["data"][0]
    assert fig["layout"]["meta"]["indicator"] == "pct_herkomst_europa"
    assert fig["layout"]["meta"]["method"] == "natural_breaks"
    assert 1 <= fig["layout"]["meta"]["k"] <= 4
    assert len(main["locations"]) > 30 and all(c.startswith("BU9901") for c in main["locations"])
    assert any(t.get("name", "").startswith("wijkgrenzen") for t in fig["data"])   # orientation
    assert at.query_params["indicator"] == ["pct_herkomst_europa"] or \
        at.query_params["indicator"] == "pct_herkomst_europa"
    # a diverging map against the gemeente: the reference is in the colour bar title
    at.radio(key="kaart_vergelijking").set_value("gemeente").run()
    fig = figure(at)
    assert fig["layout"]["meta"]["reference"] is not None
    assert "Voorbeeldgemeente" in fig["data"][0]["colorbar"]["title"]["text"]
    # continuous colour scale
    at.selectbox(key="kaart_methode").set_value("continuous").run()
    assert figure(at)["layout"]["meta"]["k"] == 0
    # national view: all (fictitious) gemeenten
    at.sidebar.radio(key="w_niveau").set_value("gemeente").run()
    main = figure(at)["data"][0]
    assert "GM9901" in main["locations"] and len(main["locations"]) == 12


@pytest.mark.slow
def test_deep_link_restores_widgets_and_highlights_area(demo_env):
    at = run(jaar="2023", gemeente="GM9901", niveau="buurt", indicator="pct_herkomst_europa",
             gebied="BU99010201")
    assert at.sidebar.selectbox(key="w_jaar").value == 2023
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM9901"
    assert at.sidebar.radio(key="w_niveau").value == "buurt"
    assert at.sidebar.selectbox(key="w_indicator").value == "pct_herkomst_europa"
    assert at.selectbox(key="kaart_gebied").value == "BU99010201"
    fig = figure(at)
    assert any(t.get("name", "").startswith("geselecteerd") for t in fig["data"])
    assert "BU99010201" in texts(at.text)


@pytest.mark.slow
def test_area_picker_sets_shared_selection_in_url(demo_env):
    at = run(niveau="wijk")
    at.selectbox(key="kaart_gebied").set_value("WK990103").run()
    assert at.session_state["sel_gebied"] == "WK990103"
    qp = at.query_params["gebied"]
    assert (qp[0] if isinstance(qp, list) else qp) == "WK990103"


@pytest.mark.slow
def test_suppressed_values_are_missing_never_zero(demo_env):
    at = run(niveau="buurt", indicator="pct_herkomst_buiten_europa")
    table = grid(at, 0)
    tiny = table[table["Code"].str.endswith("07")]
    assert len(tiny) >= 1
    value_col = next(c for c in table.columns if c.startswith("Herkomst buiten Europa"))
    assert tiny[value_col].isna().all()
    assert not (tiny[value_col] == 0).any()
    assert tiny["Toelichting"].str.contains("geheim|niet beschikbaar").all()
    fig = figure(at)
    values = map_values(fig)
    for code in tiny["Code"]:
        assert values[code] is None
    assert any("geen gegevens" in t.get("name", "") for t in fig["data"])   # hatched legend entry
    main = fig["data"][0]
    idx = main["locations"].index(tiny["Code"].iloc[0])
    assert "Reden:" in main["hovertext"][idx]


def test_clicked_code_from_event_data():
    codes = ["WK1", "WK2", "WK3"]
    assert mapping.clicked_code({"selection": {"points": [{"location": "WK2", "curve_number": 0}]}}) == "WK2"
    assert mapping.clicked_code({"selection": {"points": [{"customdata": ["WK3", 1.0]}]}}) == "WK3"
    assert mapping.clicked_code({"selection": {"points": [{"point_index": 0}]}}, codes) == "WK1"
    assert mapping.clicked_code({"selection": {"points": [{"location": "X", "curve_number": 2}]}}) is None
    assert mapping.clicked_code({"selection": {"points": []}}) is None
    assert mapping.clicked_code(None) is None


def test_classify_methods():
    v = np.array([1, 2, 2, 3, 5, 8, 13, 21, 34, np.nan])
    for method in ("quantiles", "natural_breaks", "equal_interval"):
        c = mapclasses.classify(v, method, 4)
        assert 1 <= c.k <= 4 and c.edges[0] == 1 and c.edges[-1] == 34
        assert c.idx[-1] == -1 and (c.idx[:-1] >= 0).all()
        assert sum(c.counts) == 9
    assert mapclasses.classify(v, "continuous").k == 0
    assert mapclasses.classify([np.nan, np.nan], "quantiles").k == 0
    assert mapclasses.classify([4, 4, 4], "quantiles", 5).k == 1
    ref = mapclasses.with_reference(mapclasses.classify(v, "equal_interval", 3), v, 10.0)
    assert 10.0 in ref.edges
    assert mapclasses.classify(v, "equal_interval", 3).labels(1)[0] == "1,0 – 12,0"
    # class labels are written by buurtmonitor.formatting: a real minus sign
    assert mapclasses.classify([-2.0, 0.0, 2.0], "equal_interval", 2).labels(1)[0] == f"{formatting.MINUS}2,0 – 0,0"


# ------------------------------------------------------------- stand-in CBS + PDOK
def _expected_ede_wijken(shared: Path) -> dict[str, float]:
    raw = pd.read_csv(shared / KWB2024_DIR / KWB2024_CSV, sep=";", encoding="utf-8-sig",
                      usecols=["Codering_3", "AantalInwoners_5", "BuitenEuropa_19"],
                      dtype={"Codering_3": str})
    raw = raw.assign(code=raw["Codering_3"].str.strip())
    wijken = raw[raw["code"].str.startswith("WK0228")]
    return {c: 100.0 * b / n for c, b, n in zip(wijken["code"], wijken["BuitenEuropa_19"],
                                                wijken["AantalInwoners_5"]) if n and not math.isnan(n)}


@pytest.mark.slow
def test_ede_wijk_map_has_real_values(real_env):
    from devtools.standins.shared_data import shared_data_dir
    at = run(jaar="2024", gemeente="GM0228", niveau="wijk", indicator="pct_herkomst_buiten_europa")
    assert FICTITIOUS_LABEL not in texts(at.warning)
    fig = figure(at)
    values = map_values(fig)
    expected = _expected_ede_wijken(shared_data_dir())
    assert len(expected) == 17 and set(values) == set(expected)
    for code, want in expected.items():
        assert values[code] == pytest.approx(want, rel=1e-9), code
    assert "Bron: CBS" in texts(at.caption) and "85984NED" in texts(at.caption)
    # the same numbers in the table alternative
    table = grid(at, 0)
    col = next(c for c in table.columns if c.startswith("Herkomst buiten Europa"))
    got = dict(zip(table["Code"], table[col]))
    for code, want in expected.items():
        assert got[code] == pytest.approx(round(want, 1), abs=0.051)


@pytest.mark.slow
def test_amsterdam_without_boundaries_shows_message_and_table(real_env):
    at = run(jaar="2024", gemeente="GM0363", niveau="wijk", indicator="pct_herkomst_buiten_europa")
    assert not at.get("plotly_chart")
    warning = texts(at.warning)
    assert "geen grenzen" in warning or "niet beschikbaar" in warning, warning
    table = grid(at, 0)
    assert len(table) > 50 and table["Code"].str.startswith("WK0363").all()
    assert "Handreikingen bij deze weergave" in texts(at.markdown)


def test_indicator_frame_and_choropleth_direct(demo_env):
    """mapping.choropleth straight from a GeoDataFrame (without the page)."""
    from loaders import repository
    table = repository.demo_table(2024, "GM9901")
    gdf = repository.demo_boundaries(2024, "wijk", "GM9901")
    frame = indicator_frame(table, "pct_herkomst_buiten_europa")
    fig = mapping.choropleth(gdf, frame[frame["level"] == "wijk"], "pct_herkomst_buiten_europa",
                             method="quantiles", k=3, reference=("Nederland", 15.0), selected="WK990101",
                             fictitious=True, source_line="bron", level="wijk")
    assert fig.data[0].type == "choroplethmap"
    assert fig.layout.map.style == "white-bg"                    # the screen map: plotly's offline style
    assert 2.0 <= fig.layout.map.zoom <= 16.0
    online = mapping.choropleth(gdf, frame[frame["level"] == "wijk"], "pct_herkomst_buiten_europa",
                                online=True, level="wijk")
    assert online.layout.map.style == "carto-positron"
    named = mapping.choropleth(gdf, frame[frame["level"] == "wijk"], "pct_herkomst_buiten_europa",
                               online=True, level="wijk", names=True)  # the exported map: a style of its own
    assert named.layout.map.style["name"] == "carto-positron" and "glyphs" in named.layout.map.style
    assert named.layout.map.style["layers"][0]["type"] == "background"   # white below the tiles
    assert load_catalogue().indicators["pct_herkomst_buiten_europa"].label in fig.data[0].hovertext[0]


@pytest.mark.slow
def test_fisher_jenks_and_quantiles_match_mapclassify():
    """mapping re-implements mapclassify's Fisher-Jenks in numpy (mapclassify's numba code
    takes ~9 s to compile on import); both must give the same breaks."""
    mapclassify = pytest.importorskip("mapclassify")
    import warnings
    rng = np.random.default_rng(2024)
    for trial in range(60):
        n, k = int(rng.integers(5, 250)), int(rng.integers(2, 8))
        y = [rng.normal(size=n), rng.exponential(size=n) * 10, np.round(rng.uniform(0, 50, n), 1)][trial % 3]
        np.testing.assert_allclose(mapclasses.fisher_jenks_bins(y, k), mapclassify.FisherJenks(y, k=k).bins)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(mapclasses.quantile_bins(y, k), mapclassify.Quantiles(y, k=k).bins)


@pytest.mark.slow
def test_cbs_outage_falls_back_to_cache_with_dutch_message(real_env, monkeypatch):
    """Ede once loaded through the stand-ins lands in the cache; with CBS and PDOK down the
    page still shows Ede (from the cache) and says so in Dutch."""
    run(jaar="2024", gemeente="GM0228", niveau="wijk", indicator="pct_herkomst_buiten_europa")
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    at = run(jaar="2024", gemeente="GM0228", niveau="wijk", indicator="pct_herkomst_buiten_europa")
    assert at.sidebar.selectbox(key="w_gemeente").value == "GM0228"
    assert "CBS is nu niet bereikbaar" in texts(at.warning)
    assert FICTITIOUS_LABEL not in texts(at.warning)
    assert len(map_values(figure(at))) == 17


# ------------------------------------------------------------------------------ canvas map
@pytest.mark.slow
def test_canvas_map_branch_of_the_page(demo_env, monkeypatch):
    """From BUURTMONITOR_CANVAS_MIN_AREAS areas on the page draws the canvas map; it follows
    the same widgets as the plotly map (classification, reference, selection), says what it
    shows in 'Wat zie je?', and its values are the table's."""
    monkeypatch.setenv("BUURTMONITOR_CANVAS_MIN_AREAS", "1")
    at = run(niveau="buurt", indicator="pct_herkomst_buiten_europa")
    assert not at.get("plotly_chart")
    data = canvas_data(at)
    table = grid(at, 0)
    value_col = next(c for c in table.columns if c.startswith("Herkomst buiten Europa"))
    fc = data["geojson"]                                   # small: the geometry travels inline
    codes = [f["id"] for f in fc["features"]] if data["codes"] is None else data["codes"]
    assert set(codes) == set(table["Code"]) and len(data["cls"]) == len(codes)
    got = dict(zip(table["Code"], table[value_col]))
    for code, txt, cls in zip(codes, data["txt"], data["cls"]):
        if cls < 0:
            assert pd.isna(got[code]) and ("geheim" in txt or "niet" in txt), (code, txt)
        else:
            assert txt.endswith("%") and float(txt[:-1].replace(",", ".")) == pytest.approx(got[code], abs=0.051), \
                (code, txt, got[code])
    assert data["parent"]["label"] == "wijkgrenzen" and data["parent"]["lines"]
    assert data["banner"] == FICTITIOUS_LABEL
    assert "Wat zie je?" in texts(at.markdown) and "5 klassen" in texts(at.markdown)
    # classification and reference come from the same widgets
    at.selectbox(key="kaart_methode").set_value("equal_interval").run()
    at.slider(key="kaart_klassen").set_value(3).run()
    data = canvas_data(at)
    assert len(data["colours"]) == 3 and "3 klassen" in texts(at.markdown)
    at.radio(key="kaart_vergelijking").set_value("gemeente").run()
    data = canvas_data(at)
    assert data["labels"]["ref_label"].startswith("Voorbeeldgemeente") and data["v"]
    # selection from the picker: outlined on the canvas, named in the legend
    at.selectbox(key="kaart_gebied").set_value("BU99010201").run()
    data = canvas_data(at)
    assert data["selected"] == "BU99010201"
    assert any(i["label"].startswith("geselecteerd:") for i in data["legend"]["items"])
    assert "BU99010201" in texts(at.text)
    # the online background is plotly's (tiles): the page switches to the plotly map for it
    at.toggle(key="kaart_online").set_value(True).run()
    assert at.get("plotly_chart") and not canvas_elements(at)


@pytest.mark.slow
def test_large_map_geometry_is_a_file_under_the_cache_folder(demo_env, monkeypatch):
    """A geometry above the inline limit goes to <cache>/static/geo/ and the page refers to it by
    URL (served by app.static_route under `streamlit run`); the code folder gets nothing. Without
    the route (or with a small geometry) the geometry travels inline."""
    from app import static_route
    from loaders import static_files
    monkeypatch.setenv("BUURTMONITOR_CANVAS_MIN_AREAS", "1")
    monkeypatch.setenv("BUURTMONITOR_INLINE_GEOJSON_MAX_BYTES", "0")
    monkeypatch.setitem(static_route._SERVED, "mounted", True)
    at = run(niveau="buurt_nl", indicator="pct_herkomst_buiten_europa")
    data = canvas_data(at)
    assert data["geojson"] is None and data["url"].startswith(f"{static_files.URL_PATH}/")
    path = static_files.static_path(data["url"])
    assert path.parent == demo_env / "cache" / "static" / "geo" and path.is_file()
    assert {f["id"] for f in json.loads(path.read_bytes())["features"]} == set(
        c for c in grid(at, 0)["Code"])
    assert not (Path(__file__).resolve().parents[1] / "static" / "geo" / path.name).exists()
    # the plotly map of the same view (canvas off) refers to the same file
    monkeypatch.setenv("BUURTMONITOR_CANVAS_MIN_AREAS", "100000")
    at = run(niveau="buurt_nl", indicator="pct_herkomst_buiten_europa")
    assert figure(at)["data"][0]["geojson"] == data["url"]
    # no route in this process: inline, nothing written
    monkeypatch.setitem(static_route._SERVED, "mounted", False)
    monkeypatch.setenv("BUURTMONITOR_CANVAS_MIN_AREAS", "1")
    path.unlink()
    at = run(niveau="buurt_nl", indicator="pct_herkomst_buiten_europa")
    data = canvas_data(at)
    assert data["url"] is None and data["geojson"]["features"] and not path.exists()


@pytest.mark.slow
def test_guidance_beside_the_map_fits_the_indicator_and_says_where_links_go(demo_env):
    """Issue 12, item 10: the Kaart's guidance panel changes with the indicator, and every
    link says whether it goes to the document or to the publisher's website."""
    def titles(at):
        return [m.value for m in at.markdown if m.value.startswith("**[")]
    herkomst = run(indicator="pct_herkomst_buiten_europa")
    veiligheid = run(indicator="geweld_per_1000")
    assert titles(herkomst) and titles(veiligheid) and titles(herkomst) != titles(veiligheid)
    assert any("Sociaal Calamiteitenplan" in t for t in titles(veiligheid))
    assert not any("Buurtmonitor Integratie" in t for t in titles(veiligheid))
    notes = [c.value for c in veiligheid.caption if "link naar" in c.value]
    assert len(notes) == len(titles(veiligheid))
    assert all(n.endswith("link naar de website van de uitgever: zoek daar op de titel") for n in notes)


@pytest.fixture
def pdok_2022_gemeenten_for_2024(cbs_kwb2024, monkeypatch, tmp_path):
    """Stand-in CBS (real KWB 2024 extract: 172 gemeenten) and a stand-in PDOK whose 2024
    gemeenten are still the 345 gemeenten of 2022 (the features say jaarcode 2022)."""
    from devtools.standins.pdok import GEMEENTEN_2022, PdokServer, features_from_shared_gemeenten_2022
    from devtools.standins.shared_data import require_shared
    feats = features_from_shared_gemeenten_2022(require_shared(GEMEENTEN_2022))
    server = PdokServer()
    server.add_gebiedsindeling("gemeente_gegeneraliseerd", feats)
    server.add_collection(2024, "gemeenten", feats)
    with server:
        monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
        monkeypatch.setenv("CBS_ODATA_URL", cbs_kwb2024.url)
        monkeypatch.setenv("PDOK_URL", server.url)
        monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("BUURTMONITOR_RETRIES", "0")
        yield server


@pytest.mark.slow
def test_all_gemeenten_text_and_legend_agree_and_boundary_year_is_stated(pdok_2022_gemeenten_for_2024):
    """Issue 12, item 8: 2024 figures (172 gemeenten in the extract) on 2022 boundaries (345):
    the text counts what the legend counts, and says the boundaries are of another year."""
    at = run_page(PAGE, timeout=120, jaar="2024", gemeente="GM0228", niveau="gemeente",
                  indicator="pct_herkomst_buiten_europa")
    fig = figure(at)
    legend = [t.get("name") or "" for t in fig["data"]]
    no_data = [n for n in legend if n.startswith("geen gegevens")]
    assert no_data == ["geen gegevens (173)"], legend
    text = texts(at.markdown)
    assert "345 gemeenten van Nederland op de kaart, waarvan 172 met een waarde" in text, text
    assert "Zonder waarde: 173** gemeenten (173 niet in de CBS-tabel van dit jaar)" in text, text
    assert "hebben een waarde" not in text
    assert "Grenzen van 2022**: de cijfers zijn van 2024" in text
    assert "De grenzen op deze kaart zijn van 2022, de cijfers van 2024" in texts(at.info)
