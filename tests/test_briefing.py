"""Council briefings (buurtmonitor.briefing with the sources of app.briefing_data): items
per view, PDF/PPTX packs, the CLI export function (app.briefing_export). Offline on the demo, and against the stand-in CBS/PDOK servers for Ede.

Pages of the Ede pack are rendered to tests/artifacts/briefing_ede/ (git-ignored) so a
person can look at the layout. Image tests need Chromium and are skipped without it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from apptest_tools import EDE_BUITEN_EUROPA, EDE_INWONERS

from app import briefing_data, briefing_export
from buurtmonitor import briefing
from buurtmonitor.briefing import pack
from buurtmonitor.exports.items import ExportItem, StaticExportUnavailable
from buurtmonitor.model import FICTITIOUS_LABEL
from loaders.notes import NotesDamagedError
from loaders.notes_pg import PgNotesStore

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WHEN = datetime(2026, 11, 30, 9, 30)
ALL_VIEWS = list(briefing.VIEWS)
IND = "pct_herkomst_buiten_europa"

NOTE = "Gesprek bij buurthuis De Brink: <b>geen opmaak</b> & zorgen over de 'speeltuin'."


def _browser() -> str | None:
    path = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


needs_browser = pytest.mark.skipif(
    _browser() is None,
    reason="geen Chromium gevonden (BROWSER_PATH of /usr/bin/chromium): figuren kunnen hier "
           "niet als afbeelding worden gemaakt")


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    """No CBS (nothing listens on port 9), empty cache and notes folder: the demo."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def ede_env(cbs_kwb2024, pdok_ede, monkeypatch, tmp_path):
    """The stand-in CBS (real KWB 2024 extract) and PDOK (Ede's wijken)."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", cbs_kwb2024.url)
    monkeypatch.setenv("PDOK_URL", pdok_ede.url)
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "1")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0.01")
    return tmp_path


def pdf_texts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def pptx_slides(data: bytes):
    from pptx import Presentation

    return list(Presentation(io.BytesIO(data)).slides)


def slide_text(slide) -> str:
    parts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
    if slide.has_notes_slide:
        parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def src() -> briefing.Sources:
    """The sources of an export outside the dashboard (repository and notes database)."""
    return briefing_data.repository_sources()


def add_note(gemeente: str, text: str = NOTE) -> None:
    from loaders.notes import NotesStore

    NotesStore().add(gemeente, "plekken", text, year=2024)


# ----------------------------------------------------------------------------- items (demo)
def test_map_item_has_figure_table_source_and_computed_key_figures(demo_env):
    item = briefing.map_item(2024, "GM9901", "wijk", IND, sources=src())
    assert item.figure is not None
    assert item.figure.data[0].type == "choroplethmap"
    t = item.table
    assert {"Code", "Naam", "Soort", "n", "Toelichting", "Herkomst buiten Europa (%)"} <= set(t.columns)
    assert t["Code"].tolist()[-2:] == ["GM9901", "NL00"]
    assert (t["Soort"] == "Wijk").sum() == len(item.figure.data[0].locations)
    assert "2024" in item.source_line and item.fictitious
    assert item.table_ids and item.years == [2024]
    assert 2 <= len(item.key_figures) <= 4
    # the first key figure is computed from the data: the gemeente's share and counts
    gem = t[t["Code"] == "GM9901"].iloc[0]
    num, den = gem["Herkomst buiten Europa (aantal)"], gem["n"]
    value = f"{100 * num / den:.1f}".replace(".", ",")
    assert f"{value}%" in item.key_figures[0] and "Nederland" in item.key_figures[0]
    assert "Hoogste waarde" in item.key_figures[1]
    assert item.definitions[0]["id"] == IND and item.definitions[0]["definition"]
    assert item.resources and all({"title", "publisher", "url", "why"} <= set(r) for r in item.resources)
    assert all(r["why"] for r in item.resources)


def test_every_view_builds_an_item(demo_env):
    src = briefing_data.repository_sources()
    for view, build in briefing.BUILDERS.items():
        item = build(2024, "GM9901", "wijk", IND, sources=src)
        assert isinstance(item, ExportItem), view
        assert item.title and item.source_line and item.fictitious, view
        assert 2 <= len(item.key_figures) <= 4, (view, item.key_figures)
        # without a chosen area the profile is that of the gemeente: no z-scores, no chart
        assert (item.figure is None) == (view == "gebiedsprofiel"), view
        assert item.table is not None and not item.table.empty, view
        assert item.resources, view


def test_trend_item_marks_the_origin_break(demo_env):
    item = briefing.trend_item(2024, "GM9901", "wijk", IND, sources=src())
    assert item.years == [2019, 2020, 2021, 2022, 2023, 2024]
    text = " ".join(item.key_figures)
    assert "Niet-westerse migratieachtergrond" in text and "Herkomst buiten Europa" in text
    assert "Breuk: herkomst vanaf 2023" in text


def test_profile_item_explains_the_chosen_area(demo_env):
    auto = briefing.profile_item(2024, "GM9901", "wijk", IND, sources=src())
    assert any("Geen wijk of buurt gekozen" in s for s in auto.key_figures)
    chosen = briefing.profile_item(2024, "GM9901", "buurt", IND, area="BU99010101", sources=src())
    assert not any("Geen wijk of buurt gekozen" in s for s in chosen.key_figures)
    assert "BU99010101" not in chosen.title and chosen.figure is not None


def test_lokale_kaart_item_has_measures_and_notes_verbatim(demo_env):
    add_note("GM9901")
    item = briefing.lokale_kaart_item(2024, "GM9901", "wijk", IND, sources=src(), note_sections=["plekken"])
    assert item.notes == [{"section": "Plekken", "area": "2024", "text": NOTE}]
    assert "Ongelijkheidsindex D" in item.key_figures[0]
    assert set(item.table["Onderdeel"]) == {"Segregatie", "Isolatie", "Samenstelling"}


def test_pack_notes_come_from_the_shared_store_and_an_emptied_one_is_said(demo_env, pg_url, monkeypatch):
    """With BUURTMONITOR_DATABASE_URL the pack reads the notes from PostgreSQL (not from a local
    file); when the database lost its notes the pack says so instead of leaving them out."""
    monkeypatch.setenv("BUURTMONITOR_DATABASE_URL", pg_url)
    PgNotesStore(pg_url).add("GM9901", "plekken", NOTE, year=2024)
    item = briefing.lokale_kaart_item(2024, "GM9901", "wijk", IND, sources=src(),
                                      note_sections=["plekken"])
    assert item.notes == [{"section": "Plekken", "area": "2024", "text": NOTE}]
    with psycopg.connect(pg_url) as conn:
        conn.execute("TRUNCATE buurtmonitor_note_versions, buurtmonitor_notes")
    with pytest.raises(NotesDamagedError, match="leeggemaakt"):
        briefing.lokale_kaart_item(2024, "GM9901", "wijk", IND, sources=src(),
                                      note_sections=["plekken"])
    (item,) = pack.build_items(["lokale_kaart"], 2024, "GM9901", "wijk", IND, sources=src(),
                               note_sections=["plekken"])
    assert "kon niet worden gemaakt" in item.key_figures[0] and "leeggemaakt" in item.key_figures[0]


@pytest.mark.parametrize("indicator,words", [
    ("bestaat_niet", ["Onbekende indicator", "python -m buurtmonitor indicators"]),
    ("pct_niet_westers", ["2022 → 2023", "pct_herkomst_buiten_europa"]),
])
def test_wrong_indicator_dutch_value_error(demo_env, indicator, words):
    with pytest.raises(ValueError) as err:
        briefing.map_item(2024, "GM9901", "wijk", indicator, sources=src())
    for w in words:
        assert w in str(err.value)


# ----------------------------------------------------------------------------- packs (demo)
def test_pdf_pack_demo_all_views(demo_env):
    add_note("GM9901")
    seen = []
    data = briefing.build_pack(ALL_VIEWS, 2024, "GM9901", "wijk", IND, fmt="pdf",
                               exported_at=WHEN, progress=lambda f, m: seen.append(f), sources=src(),
                               note_sections=["plekken"])
    texts = pdf_texts(data)
    assert len(texts) >= 1 + len(ALL_VIEWS)
    for n, text in enumerate(texts, start=1):
        assert "Bron: CBS" in text or FICTITIOUS_LABEL in text, f"pagina {n}"
    everything = flat("\n".join(texts))
    assert NOTE in everything
    assert "Raadsbriefing Voorbeeldgemeente 2024" in everything
    for item_title in ("Herkomst buiten Europa per wijk", "Herkomst per wijk", "Gebiedsprofiel",
                       "Ontwikkeling", "Lokale kaart"):
        assert item_title in everything
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_same_inputs_same_text(demo_env):
    add_note("GM9901")
    a = briefing.build_pack(ALL_VIEWS, 2024, "GM9901", "wijk", IND, fmt="pdf", exported_at=WHEN, sources=src())
    b = briefing.build_pack(ALL_VIEWS, 2024, "GM9901", "wijk", IND, fmt="pdf", exported_at=WHEN, sources=src())
    assert pdf_texts(a) == pdf_texts(b)
    views = ["kaart", "lokale_kaart"]
    c = briefing.build_pack(views, 2024, "GM9901", "buurt", IND, fmt="pptx", exported_at=WHEN, sources=src())
    d = briefing.build_pack(views, 2024, "GM9901", "buurt", IND, fmt="pptx", exported_at=WHEN, sources=src())
    assert [slide_text(s) for s in pptx_slides(c)] == [slide_text(s) for s in pptx_slides(d)]


@needs_browser
def test_pptx_one_slide_per_view_with_picture(demo_env):
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    add_note("GM9901")
    data = briefing.build_pack(ALL_VIEWS, 2024, "GM9901", "wijk", IND, "WK990101", fmt="pptx", exported_at=WHEN,
                               sources=src(), note_sections=["plekken"])
    slides = pptx_slides(data)
    pictured = [s for s in slides[1:] if any(sh.shape_type == MSO_SHAPE_TYPE.PICTURE for sh in s.shapes)]
    assert len(pictured) == len(ALL_VIEWS)              # one slide per view, with its picture
    assert len(slides) > 1 + len(ALL_VIEWS)             # plus the table of every area of the map
    for slide in pictured:
        assert FICTITIOUS_LABEL in slide_text(slide)
    assert NOTE in slide_text(slides[-1])  # worksheet notes go into the slide notes, verbatim


def test_pack_survives_a_view_that_fails(demo_env, monkeypatch):
    def broken(*a, **k):
        raise LookupError("geen gebieden")

    monkeypatch.setitem(briefing.BUILDERS, "gebiedsprofiel", broken)
    items = briefing.build_items(["kaart", "gebiedsprofiel"], 2024, "GM9901", "wijk", IND, sources=src())
    assert len(items) == 2 and "geen gebieden" in items[1].key_figures[0]


# ----------------------------------------------------------------------------- Ede (stand-ins)
def test_ede_pdf_pack_key_figures_and_pages(ede_env):
    data = briefing.build_pack(ALL_VIEWS, 2024, "GM0228", "wijk", IND, fmt="pdf", exported_at=WHEN, sources=src())
    texts = pdf_texts(data)
    assert len(texts) >= 1 + len(ALL_VIEWS)
    for n, text in enumerate(texts, start=1):
        assert "Bron: CBS" in text, f"pagina {n}"
        assert FICTITIOUS_LABEL not in text
    everything = flat("\n".join(texts))
    share = f"{100 * EDE_BUITEN_EUROPA / EDE_INWONERS:.1f}".replace(".", ",")
    assert share == "13,4"
    assert f"Herkomst buiten Europa in Ede: {share}% (16.558 van de 123.532 inwoners)" in everything
    assert "85984NED" in everything and "Raadsbriefing Ede 2024" in everything

    out = ARTIFACTS / "briefing_ede"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "briefing-ede.pdf").write_bytes(data)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "80", "-png", str(out / "briefing-ede.pdf"),
                        str(out / "pagina")], check=True, timeout=120)
        assert len(list(out.glob("pagina-*.png"))) == len(texts)


def test_ede_map_item_matches_cbs(ede_env):
    item = briefing.map_item(2024, "GM0228", "wijk", IND, sources=src())
    t = item.table.set_index("Code")
    assert t.at["GM0228", "Herkomst buiten Europa (aantal)"] == EDE_BUITEN_EUROPA
    assert t.at["GM0228", "n"] == EDE_INWONERS
    assert (t["Soort"] == "Wijk").sum() == 17
    assert item.figure is not None and len(item.figure.data[0].locations) == 17
    assert not item.fictitious and "85984NED" in item.source_line


def test_ede_buurt_without_boundaries_still_has_table(ede_env):
    item = briefing.map_item(2024, "GM0228", "buurt", IND, sources=src())  # the stand-in PDOK has no buurten
    assert item.figure is None
    assert "niet beschikbaar" in item.key_figures[-1]
    assert (item.table["Soort"] == "Buurt").sum() > 0


# ----------------------------------------------------------------------------- export_indicator
def test_export_indicator_is_atomic(demo_env, monkeypatch):
    out = demo_env / "kaart.csv"
    out.write_bytes(b"oud")
    with pytest.raises(ValueError):
        briefing_export.export_indicator(2024, "GM9901", "bestaat_niet", "wijk", "csv", out)
    assert out.read_bytes() == b"oud"

    def boom(*a, **k):
        raise OSError("schijf vol")

    with monkeypatch.context() as m:
        m.setattr("loaders.files.os.replace", boom)
        with pytest.raises(OSError):
            briefing_export.export_indicator(2024, "GM9901", IND, "wijk", "csv", out)
    assert out.read_bytes() == b"oud"
    assert sorted(p.name for p in demo_env.iterdir() if p.is_file()) == ["kaart.csv"]
    briefing_export.export_indicator(2024, "GM9901", IND, "wijk", "csv", out)
    df = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig")
    assert df["let_op"].eq(FICTITIOUS_LABEL).all() and "bron" in df.columns


def test_export_without_browser_explains_and_suggests_html(demo_env, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(demo_env / "geen-browser"))
    out = demo_env / "kaart.png"
    with pytest.raises(ValueError) as err:
        briefing_export.export_indicator(2024, "GM9901", IND, "wijk", "png", out)
    assert "--format html" in str(err.value) and "niet beschikbaar" in str(err.value)
    assert isinstance(err.value, briefing.ExportError)
    assert not out.exists()
    html = briefing_export.export_indicator(2024, "GM9901", IND, "wijk", "html", demo_env / "kaart.html")
    assert FICTITIOUS_LABEL in html.read_text(encoding="utf-8")


def test_static_error_from_renderer_becomes_value_error(demo_env, monkeypatch):
    def unavailable(*a, **k):
        raise StaticExportUnavailable("De browser reageerde niet.")

    monkeypatch.setattr(pack, "figure_to_image", unavailable)
    monkeypatch.setattr(pack, "static_export_status", lambda: None)
    with pytest.raises(ValueError) as err:
        briefing_export.export_indicator(2024, "GM9901", IND, "wijk", "svg", demo_env / "k.svg")
    assert "De browser reageerde niet." in str(err.value) and "--format html" in str(err.value)
    assert not (demo_env / "k.svg").exists()


def test_ui_export_deferred_files(demo_env):
    from app import export_widgets as ui_export

    item = briefing.map_item(2024, "GM9901", "wijk", IND, sources=src())
    csv = ui_export._deferred(lambda: item, "csv")()
    assert csv.startswith("\ufeff".encode()) and b"GM9901" in csv
    xlsx = ui_export._deferred(lambda: item, "xlsx")()
    assert set(zipfile.ZipFile(io.BytesIO(xlsx)).namelist()) >= {"xl/workbook.xml"}
    html = ui_export._deferred(lambda: item, "html")()
    assert b"<html" in html and FICTITIOUS_LABEL.encode() in html


# ----------------------------------------------------------------------------- words, definitions, defaults, small areas
def _code(table, name: str, level: str) -> str:
    d = table.data
    return str(d[(d["name"] == name) & (d["level"] == level)]["code"].iloc[0])


def test_ede_pack_reads_d_as_the_lokale_kaart_page_does(ede_env):
    """Item 3: the pack's words for D are those of the Lokale kaart page (presenters.national_lines
    over the same national comparison): Ede's D = 0,29 is 8th of 162, not "laag"."""
    from buurtmonitor.lokale_kaart import indices, presenters

    s = src()
    item = briefing.lokale_kaart_item(2024, "GM0228", "wijk", IND, sources=s)
    page = indices.measures(s.table(2024, "GM0228"), "GM0228", "wijk", national=s.table(2024, "alle"))
    line = presenters.national_lines(page)["dissimilarity"]
    assert line.startswith("Plaats 8 van 162 gemeenten") and "hoogste 10%" in line
    assert line in item.key_figures[0]
    assert not re.search(r"0,29\d?, laag", item.key_figures[0])
    assert "zegt hier weinig" in item.key_figures[0]


def test_measures_chart_draws_each_index_its_own_bands_in_greys(ede_env):
    """Item 3: no D bands behind Theil's H; no green "good" band; the place beside each bar."""
    from buurtmonitor.lokale_kaart import interpretation

    item = briefing.lokale_kaart_item(2024, "GM0228", "wijk", IND, sources=src())
    fig = item.figure
    rows = fig.data[0].y                      # bars bottom-up: H, multigroup D, D
    assert [r.split("<br>")[0] for r in rows] == ["Entropie-index H", "D (alle groepen)", "D (twee groepen)"]
    for i, key in enumerate(["theil_h", "multigroup_dissimilarity", "dissimilarity"]):
        mine = [sh for sh in fig.layout.shapes if sh.name and sh.name.startswith(f"band {key} ")]
        assert [(sh.x0, sh.x1) for sh in mine] == [(b[0], b[1]) for b in
                                                   interpretation.bands(key)], key
        assert all(sh.y0 > i - 0.5 and sh.y1 < i + 0.5 for sh in mine), key
    assert not [sh for sh in fig.layout.shapes if sh.yref == "y domain"]
    fills = {str(sh.fillcolor).upper() for sh in fig.layout.shapes}
    assert "#E3F0DC" not in fills and fills <= set(interpretation.BAND_FILLS)
    assert "plaats 8 van 162 gemeenten" in fig.data[0].y[-1] and fig.data[0].text[-1] == "0,291"


def test_ede_pack_one_share_per_area(ede_env):
    """Item 4: Bedrijventerrein has one share of "herkomst buiten Europa" in the whole pack
    (share of all inwoners, the catalogue definition); the composition chart says it uses
    the sum of the groups."""
    s = src()
    bt = _code(s.table(2024, "GM0228"), "Bedrijventerrein", "wijk")
    items = briefing.build_items(["kaart", "herkomst", "gebiedsprofiel"], 2024, "GM0228", "wijk", IND,
                                 bt, sources=s)
    text = " ".join(k for i in items for k in i.key_figures)
    shares = set(re.findall(r"Bedrijventerrein:? \((\d+,\d)%\)|in Bedrijventerrein: (\d+,\d)%", text))
    values = {v for pair in shares for v in pair if v}
    assert values == {"27,8"}, text
    comp = items[1].table.set_index("Code")
    assert comp.at[bt, "Buiten Europa (% van de inwoners)"] == 27.8
    assert items[0].table.set_index("Code").at[bt, "Herkomst buiten Europa (%)"] == 27.8
    fig = items[1].figure
    titles = [fig.layout[k].title.text for k in fig.layout if k.startswith("xaxis") and fig.layout[k].title.text]
    assert titles and all("som van de herkomstgroepen" in t and "van alle inwoners" in t for t in titles)


def test_profile_without_area_never_picks_an_area_by_value(ede_env):
    """Item 5: no area chosen (or the gemeente itself, as the page's export passes it): the
    profile is Ede's, not the wijk with the highest share of herkomst buiten Europa."""
    for area in (None, "GM0228"):
        item = briefing.profile_item(2024, "GM0228", "wijk", IND, area=area, sources=src())
        assert item.title == "Gebiedsprofiel Ede, 2024", item.title
        text = " ".join(item.key_figures)
        assert "Bedrijventerrein" not in text and "hoogste waarde" not in text
        assert "Geen wijk of buurt gekozen" in text


def test_notes_go_into_a_pack_only_when_ticked(demo_env):
    """Item 5: a worksheet note is not in the pack unless its section is ticked."""
    add_note("GM9901")
    views = ["lokale_kaart"]

    def text(**kw) -> str:
        return flat("\n".join(pdf_texts(briefing.build_pack(views, 2024, "GM9901", "wijk", IND, fmt="pdf",
                                                            exported_at=WHEN, sources=src(), **kw))))

    assert NOTE not in text()
    assert NOTE not in text(note_sections=["themas"])
    assert NOTE in text(note_sections=["plekken"])
    items = briefing.build_items(views, 2024, "GM9901", "wijk", IND, sources=src())
    assert items[0].notes == []


def test_small_area_rule_the_same_on_map_table_profile_pack_and_export(ede_env, tmp_path):
    """Item 6: De Vallei (5 inwoners) gets no share anywhere: not in the indicator frame that
    the maps use, not in the map table and its CSV, not in the composition, not in its
    profile (no z-scores), and the pack says why."""
    from buurtmonitor import small_areas
    from buurtmonitor.harmonise import indicator_frame
    from buurtmonitor.model import MISSING_SMALL_AREA

    s = src()
    table = s.table(2024, "GM0228")
    dv = _code(table, "De Vallei", "buurt")
    assert table.row(dv)["inwoners"] < small_areas.min_n()
    f = indicator_frame(table, IND).set_index("code")
    assert pd.isna(f.at[dv, "value"]) and f.at[dv, "missing"] == MISSING_SMALL_AREA
    m = briefing.map_item(2024, "GM0228", "buurt", IND, sources=s)
    row = m.table.set_index("Code").loc[dv]
    assert pd.isna(row["Herkomst buiten Europa (%)"]) and "te klein gebied" in row["Toelichting"]
    out = briefing_export.export_indicator(2024, "GM0228", IND, "buurt", "csv", tmp_path / "k.csv", sources=s)
    csv = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig", dtype={"Code": str}).set_index("Code")
    assert pd.isna(csv.loc[dv].filter(like="(%)").iloc[0])
    comp = briefing.composition_item(2024, "GM0228", "buurt", IND, sources=s).table.set_index("Code")
    assert comp.loc[dv].filter(like="(% van de inwoners)").isna().all()
    prof = briefing.profile_item(2024, "GM0228", "buurt", IND, area=dv, sources=s)
    shares = prof.table[prof.table["Eenheid"] == "%"]
    assert shares["Waarde"].isna().all() and shares["z-score"].isna().all()
    assert "klein gebied" in prof.key_figures[0] and small_areas.rule_text() in prof.key_figures[0]
    assert "100,0%" not in " ".join(prof.key_figures)


def test_n_is_what_the_indicator_counts_and_units_read_as_people_read_them(ede_env):
    """Item 6: n of a household share counts households, of the WOZ value dwellings; the WOZ
    value reads "€ 414.000", not "414,0 x 1 000 euro"."""
    s = src()
    hh = briefing.map_item(2024, "GM0228", "wijk", "pct_eenpersoonshuishoudens", sources=s)
    assert set(hh.table["n telt"]) == {"huishoudens"}
    assert "huishoudens)" in hh.key_figures[0] and "inwoners)" not in hh.key_figures[0]
    woz = briefing.map_item(2024, "GM0228", "wijk", "woz", sources=s)
    t = woz.table.set_index("Code")
    assert set(woz.table["n telt"]) == {"woningen"}
    assert t.at["GM0228", "n"] == s.table(2024, "GM0228").row("GM0228")["woningvoorraad"]
    assert t.at["GM0228", "Gemiddelde WOZ-waarde (€)"] == 414_000
    text = " ".join(woz.key_figures) + woz.subtitle
    assert "€ 414.000" in text and "x 1 000 euro" not in text


def test_lokale_kaart_area_table_follows_the_small_area_rule(ede_env):
    """Item 6: the per-area table of the Lokale kaart shows no shares, diversity or LQ for
    De Vallei (5 inwoners), only its residents and why."""
    from buurtmonitor.lokale_kaart import indices, presenters

    table = src().table(2024, "GM0228")
    t = presenters.areas_table(indices.measures(table, "GM0228", "buurt")).set_index("Code")
    dv = _code(table, "De Vallei", "buurt")
    assert t.at[dv, "Inwoners"] == 5
    assert t.loc[dv].filter(like="(%)").isna().all() and pd.isna(t.at[dv, "Diversiteit (entropie, 0–1)"])
    assert "te klein gebied" in t.at[dv, "Toelichting"]
    big = t[t["Inwoners"] >= 1000]
    assert big.filter(like="(%)").notna().all().all()
