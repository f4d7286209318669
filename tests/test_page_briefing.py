"""Page Raadsbriefing (AppTest, offline demo) and the export buttons beside the charts of
Herkomst, Gebiedsprofiel and Ontwikkeling.

AppTest cannot download: the tests check the download buttons and the bytes the page
keeps in ``st.session_state`` (``briefing_pdf`` / ``briefing_pptx``)."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from apptest_tools import run_page, texts
from streamlit.testing.v1 import AppTest

from buurtmonitor import briefing
from buurtmonitor.model import FICTITIOUS_LABEL

PAGES = Path(__file__).resolve().parent.parent / "pages"
NOTE = "Buurtgesprek <i>Zuiderhof</i>: let op de speeltuin & het plein."


def _browser() -> str | None:
    path = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


needs_browser = pytest.mark.skipif(
    _browser() is None, reason="geen Chromium gevonden (BROWSER_PATH of /usr/bin/chromium)")


def run(page: str = "briefing.py", **params) -> AppTest:
    return run_page(page, timeout=180, **params)


def unescape(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)


def downloads(at: AppTest) -> dict:
    return {d.key: d for d in at.get("download_button")}


def pdf_texts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


# ----------------------------------------------------------------------------- Raadsbriefing
def test_renders_with_label_preview_resources_and_guidance(demo_env):
    at = run()
    assert at.title[0].value == "Raadsbriefing"
    assert FICTITIOUS_LABEL in texts(at.warning)
    md = unescape(texts(at.markdown))
    assert "Handreikingen bij deze weergave" in md            # ui.guidance_panel("briefing")
    assert "Handreikingen in de briefing" in md
    assert at.text_input(key="briefing_titel").value == "Raadsbriefing Voorbeeldgemeente 2024"
    assert at.multiselect(key="briefing_weergaven").value == list(briefing.VIEWS)
    # the preview: every view with its key figures
    for title in ("Herkomst buiten Europa per wijk, Voorbeeldgemeente, 2024", "Herkomst per wijk",
                  "Gebiedsprofiel", "Ontwikkeling", "Lokale kaart"):
        assert title in md
    assert "Herkomst buiten Europa in Voorbeeldgemeente:" in md
    assert FICTITIOUS_LABEL in texts(at.caption)              # source line of the demo
    assert {"briefing_maak_pdf", "briefing_maak_pptx"} <= {b.key for b in at.button}
    assert "briefing_download_pdf" not in downloads(at)


def test_build_pdf_gives_download_button_and_bytes(demo_env):
    from loaders.notes import NotesStore

    NotesStore().add("GM9901", "plekken", NOTE, year=2024)
    at = run()
    at.checkbox(key="briefing_notities_plekken").check().run()
    assert "notitie(s) uit het werkblad" in texts(at.caption)
    at.text_input(key="briefing_titel").input("Briefing voor de raad").run()
    at.button(key="briefing_maak_pdf").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "briefing_download_pdf" in downloads(at)
    got = at.session_state["briefing_pdf"]
    assert got["data"][:5] == b"%PDF-" and got["name"] == "briefing-voor-de-raad.pdf"
    pages = pdf_texts(got["data"])
    assert len(pages) >= 1 + len(briefing.VIEWS)
    assert "Briefing voor de raad" in pages[0]
    assert all("Bron: CBS" in p or FICTITIOUS_LABEL in p for p in pages)
    assert NOTE in re.sub(r"\s+", " ", "\n".join(pages))
    # another title: the old file no longer matches, so no download until it is made again
    at.text_input(key="briefing_titel").input("Andere titel").run()
    assert "briefing_download_pdf" not in downloads(at)


def test_notes_ticked_per_section_with_preview(demo_env):
    """Issue 12 item 5: notes go into the pack only when their section is ticked (off by
    default), and the page shows them first, verbatim, as plain text."""
    from loaders.notes import NotesStore

    NotesStore().add("GM9901", "plekken", NOTE, year=2024)
    NotesStore().add("GM9901", "themas", "Spanning rond de uitbreiding", year=2024)
    at = run()
    assert not at.exception, [e.value for e in at.exception]
    boxes = {c.key: c for c in at.checkbox}
    assert {"briefing_notities_plekken", "briefing_notities_themas"} <= set(boxes)
    assert not any(c.value for k, c in boxes.items() if k.startswith("briefing_notities_"))
    assert NOTE in texts(at.text)                            # the preview, plain text
    lk = at.session_state["briefing_items"]["items"][-1]
    assert lk.title.startswith("Lokale kaart") and lk.notes == []
    at.checkbox(key="briefing_notities_plekken").check().run()
    lk = at.session_state["briefing_items"]["items"][-1]
    assert [n["text"] for n in lk.notes] == [NOTE]          # only the ticked section
    # no default singles out an area: the caption does not speak of the highest value
    assert "hoogste waarde" not in texts(at.caption)


def test_build_pptx_for_chosen_views(demo_env):
    at = run()
    at.multiselect(key="briefing_weergaven").set_value(["kaart", "ontwikkeling"]).run()
    at.button(key="briefing_maak_pptx").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "briefing_download_pptx" in downloads(at)
    data = at.session_state["briefing_pptx"]["data"]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    slides = [n for n in names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
    assert len(slides) == 1 + 2


def test_no_view_chosen(demo_env):
    at = run()
    at.multiselect(key="briefing_weergaven").set_value([]).run()
    assert not at.exception
    assert "Kies minstens één weergave." in texts(at.info)
    assert "briefing_maak_pdf" not in {b.key for b in at.button}


# ----------------------------------------------------------------------------- export buttons
@pytest.mark.parametrize("page,key", [("kaart.py", "kaart_export"),
                                      ("lokale_kaart.py", "lokale_kaart_export"),
                                      ("herkomst.py", "herkomst_export"),
                                      ("gebiedsprofiel.py", "profiel_export"),
                                      ("ontwikkeling.py", "ontwikkeling_export")])
def test_export_popover_beside_the_chart(demo_env, page, key):
    params = {"gebied": "WK990101"} if page == "gebiedsprofiel.py" else {}
    at = run(page, **params)
    keys = downloads(at)
    assert {f"{key}_dl_csv", f"{key}_dl_xlsx", f"{key}_dl_html"} <= set(keys)
    # nothing is built on a rerun: the table and HTML are made when clicked
    assert all(keys[f"{key}_dl_{f}"].proto.url == "" for f in ("csv", "xlsx", "html"))
    if _browser():
        assert f"{key}_maak" in {b.key for b in at.button}
        assert at.radio(key=f"{key}_formaat").options == ["PNG", "SVG", "PDF"]


@needs_browser
@pytest.mark.parametrize("niveau", ["wijk", "gemeente"])
def test_map_export_png_from_the_kaart_page(demo_env, niveau):
    """The Kaart page's own map (geometry possibly served as a file) exports with inline geometry."""
    at = run("kaart.py", niveau=niveau)
    at.radio(key="kaart_export_formaat").set_value("png").run()
    at.button(key="kaart_export_maak").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "kaart_export_dl_png" in downloads(at)
    assert at.session_state["kaart_export_laatste"]["bytes"] > 10_000


@needs_browser
def test_make_image_then_download(demo_env):
    at = run("herkomst.py")
    assert "herkomst_export_dl_png" not in downloads(at)
    at.radio(key="herkomst_export_formaat").set_value("svg").run()
    at.button(key="herkomst_export_maak").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "herkomst_export_dl_svg" in downloads(at)
    assert at.session_state["herkomst_export_laatste"]["format"] == "svg"
    assert at.session_state["herkomst_export_laatste"]["bytes"] > 1000
    at.run()  # any other rerun: the image is made afresh next time, never stale
    assert "herkomst_export_dl_svg" not in downloads(at)


def test_without_browser_reason_and_html(demo_env, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(demo_env / "geen-browser"))
    at = run("herkomst.py")
    assert "Statische export (PNG/SVG/PDF) is niet beschikbaar" in texts(at.info)
    assert "herkomst_export_maak" not in {b.key for b in at.button}
    assert "herkomst_export_dl_html" in downloads(at)


@pytest.mark.parametrize("gemeente", ["GM0228", "GM0363"])
def test_briefing_page_opens_for_real_gemeenten(gemeente, cbs_kwb2024, pdok_ede, monkeypatch, tmp_path):
    """Against the stand-in CBS (real KWB 2024) and PDOK (Ede's wijken): no exception, the
    CBS source line, Ede's real share in the preview."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", cbs_kwb2024.url)
    monkeypatch.setenv("PDOK_URL", pdok_ede.url)
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    at = run(jaar="2024", gemeente=gemeente, niveau="wijk", indicator="pct_herkomst_buiten_europa")
    shown = texts(at.markdown) + texts(at.caption) + texts(at.text)
    assert "Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED)" in shown
    assert FICTITIOUS_LABEL not in texts(at.warning)
    if gemeente == "GM0228":
        assert "13,4%" in shown
