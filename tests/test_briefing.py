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
        assert item.figure is not None, view
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
    assert any("Gekozen gebied" in s for s in auto.key_figures)
    chosen = briefing.profile_item(2024, "GM9901", "buurt", IND, area="BU99010101", sources=src())
    assert not any("Gekozen gebied" in s for s in chosen.key_figures)
    assert "BU99010101" not in chosen.title and chosen.figure is not None


def test_lokale_kaart_item_has_measures_and_notes_verbatim(demo_env):
    add_note("GM9901")
    item = briefing.lokale_kaart_item(2024, "GM9901", "wijk", IND, sources=src())
    assert item.notes == [{"section": "Plekken", "area": "2024", "text": NOTE}]
    assert "Ongelijkheidsindex D" in item.key_figures[0]
    assert set(item.table["Onderdeel"]) == {"Segregatie", "Isolatie", "Samenstelling"}


def test_pack_notes_come_from_the_shared_store_and_an_emptied_one_is_said(demo_env, pg_url, monkeypatch):
    """With BUURTMONITOR_DATABASE_URL the pack reads the notes from PostgreSQL (not from a local
    file); when the database lost its notes the pack says so instead of leaving them out."""
    monkeypatch.setenv("BUURTMONITOR_DATABASE_URL", pg_url)
    PgNotesStore(pg_url).add("GM9901", "plekken", NOTE, year=2024)
    item = briefing.lokale_kaart_item(2024, "GM9901", "wijk", IND, sources=src())
    assert item.notes == [{"section": "Plekken", "area": "2024", "text": NOTE}]
    with psycopg.connect(pg_url) as conn:
        conn.execute("TRUNCATE buurtmonitor_note_versions, buurtmonitor_notes")
    with pytest.raises(NotesDamagedError, match="leeggemaakt"):
        briefing.lokale_kaart_item(2024, "GM9901", "wijk", IND, sources=src())
    (item,) = pack.build_items(["lokale_kaart"], 2024, "GM9901", "wijk", IND, sources=src())
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
                               exported_at=WHEN, progress=lambda f, m: seen.append(f), sources=src())
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
    data = briefing.build_pack(ALL_VIEWS, 2024, "GM9901", "wijk", IND, fmt="pptx", exported_at=WHEN, sources=src())
    slides = pptx_slides(data)
    assert len(slides) == 1 + len(ALL_VIEWS)
    for slide in slides[1:]:
        assert any(sh.shape_type == MSO_SHAPE_TYPE.PICTURE for sh in slide.shapes), slide_text(slide)
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
