"""Area names on the maps and in the packs, the online background's fallback and the layout
of map and profile (issue 12, items 11, 13 and 16). Against the stand-in CBS (real KWB 2024)
and PDOK (Ede's 17 wijken of 2024) where Ede is drawn."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from shapely.geometry import box

from app import briefing_data
from app import maps as app_maps
from buurtmonitor import briefing, charts
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.exports.items import ExportItem, build_pptx_pack
from buurtmonitor.lokale_kaart.presenters import no_boundaries_text
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps.labels import area_labels

IND = "pct_herkomst_buiten_europa"


@pytest.fixture
def ede(cbs_kwb2024, pdok_ede, cbs_env, tmp_path, monkeypatch):
    cbs_env(cbs=cbs_kwb2024, pdok=pdok_ede, BUURTMONITOR_RETRIES="0",
            BUURTMONITOR_CACHE_DIR=str(tmp_path / "cache"), BUURTMONITOR_DATA_DIR=str(tmp_path / "data"),
            CBS_ODATA4_URL="http://127.0.0.1:9")
    return briefing.map_item(2024, "GM0228", "wijk", IND, sources=briefing_data.repository_sources())


def _named(fig) -> dict[str, str]:
    """code -> text of the name traces of a map figure."""
    out = {}
    for tr in fig.data:
        if tr.type == "scattermap" and tr.name == "namen":
            out.update(zip(tr.customdata, tr.text))
    return out


@pytest.mark.slow
def test_ede_wijk_map_names_every_wijk_offline(ede):
    wijken = ede.table[ede.table["Soort"] == "Wijk"]
    named = _named(ede.figure)
    assert set(named) == set(wijken["Code"]) and len(named) == 17
    assert named["WK022801"] == wijken.set_index("Code").at["WK022801", "Naam"]
    style = ede.figure.layout.map.style
    assert style["sources"] == {}                                   # nothing fetched ...
    assert style["glyphs"].startswith("data:application/x-protobuf;base64,")  # ... also not the font
    # the names are drawn in a colour that stands out on the fill of their area
    for tr in ede.figure.data:
        if tr.name == "namen":
            assert tr.textfont.color in (mapping.LABEL_DARK, mapping.LABEL_LIGHT)


def test_large_map_names_the_selected_area_and_the_extremes():
    codes = [f"BU{i:04d}" for i in range(60)]
    rows = pd.DataFrame({"name": [f"Buurt {i}" for i in range(60)], "value": [float(i) for i in range(60)]},
                        index=codes)
    shapes = {c: box(i, 0, i + 1, 1) for i, c in enumerate(codes)}
    labels = area_labels(rows, shapes, load_catalogue().indicators[IND], selected="BU0030")
    kinds = {lab.code: lab.kind for lab in labels}
    assert labels[0].code == "BU0030" and kinds["BU0030"] == "geselecteerd"
    assert {c for c, k in kinds.items() if k == "hoogste"} == {"BU0059", "BU0058", "BU0057"}
    assert {c for c, k in kinds.items() if k == "laagste"} == {"BU0000", "BU0001", "BU0002"}
    assert next(lab.text for lab in labels if lab.code == "BU0059") == "Buurt 59: 59,0%"
    assert all(0 < lab.lat < 1 for lab in labels)                   # inside the area


@pytest.mark.slow
def test_ede_map_item_has_a_compact_table_of_every_area(ede):
    t = ede.area_table
    assert list(t.columns) == ["Wijk", "Herkomst buiten Europa", "n", "Toelichting"]
    assert len(t) == 17 + 2 and list(t["Wijk"][-2:]) == ["Ede", "Nederland"]
    full = ede.table.set_index("Naam")
    for name, value in zip(t["Wijk"], t["Herkomst buiten Europa"]):   # the same number as the map
        assert value == f"{full.at[name, 'Herkomst buiten Europa (%)']:.1f}".replace(".", ",") + "%"
    assert t.set_index("Wijk").at["Bedrijventerrein", "Herkomst buiten Europa"] == "27,8%"


def test_pptx_pack_has_a_slide_with_every_area_by_name():
    from pptx import Presentation

    rows = pd.DataFrame({"Buurt": [f"Buurt {i}" for i in range(40)], "Waarde": ["1,0%"] * 40,
                         "n": ["100"] * 40, "Toelichting": [""] * 40})
    item = ExportItem(title="Kaart", source_line="Bron: CBS", area_table=rows)
    prs = Presentation(io.BytesIO(build_pptx_pack([item], "Pak", "Ede", 2024)))
    texts = []
    for slide in list(prs.slides)[2:]:
        for sh in slide.shapes:
            if sh.has_table:
                texts += [c.text for r in sh.table.rows for c in r.cells]
    assert {f"Buurt {i}" for i in range(40)} <= set(texts)
    assert "alle gebieden (1 van 2)" in list(prs.slides)[2].shapes.title.text


@pytest.mark.slow
def test_online_background_never_blanks_the_map(ede, monkeypatch):
    style = mapping.map_style(online=True, label_text="Ede")
    assert style["layers"][0]["type"] == "background"               # white first ...
    assert style["layers"][1]["type"] == "raster"                   # ... tiles over it: no style to fetch
    assert all(t.startswith("https://") for t in style["sources"]["carto"]["tiles"])
    monkeypatch.setenv("BUURTMONITOR_OFFLINE", "1")
    online, note = app_maps.background(True)
    assert online is False and "niet beschikbaar" in note and "zonder achtergrond" in note
    monkeypatch.delenv("BUURTMONITOR_OFFLINE")
    online, note = app_maps.background(True)
    assert online is True and "witte achtergrond" in note


@pytest.mark.slow
def test_colour_bar_stands_beside_the_map_not_over_it(ede):
    lay = ede.figure.layout
    bar = ede.figure.data[0].colorbar
    assert lay.map.domain.x[1] <= 0.85
    assert bar.x == 1.0 and bar.xanchor == "right"                  # in the strip right of the map


def test_profile_source_line_starts_at_the_left_edge_and_ticks_do_not_collide():
    p = pd.DataFrame({"theme_label": ["Bevolking"] * 3, "label": ["Een heel lang label voor een indicator"] * 3,
                      "z": [25.0, -1.0, 0.2], "value": [1.0, 2.0, 3.0], "unit": ["%"] * 3,
                      "reading": ["hoog", "laag", "gewoon"], "mean": [1.0] * 3, "small_n": [False] * 3})
    fig = charts.profile_chart(p, source="Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED); grenzen: PDOK")
    src = next(a for a in fig.layout.annotations if a.name == "bronregel")
    assert src.xshift == -(fig.layout.margin.l - 10)                # from the figure's edge
    assert fig.layout.yaxis.automargin is False
    lim = fig.layout.xaxis.range[1]
    assert 2 * lim / fig.layout.xaxis.dtick + 1 <= charts.PROFILE_MAX_TICKS


def test_no_boundaries_messages_do_not_blame_the_choice():
    text = no_boundaries_text("buurt", "GM0228", 2024)
    assert "ander niveau" not in text and "PDOK" in text and "geen clusterkaart" in text
    assert "gearceerd" not in no_boundaries_text("wijk", "GM0228", 2024, clusters=False)
