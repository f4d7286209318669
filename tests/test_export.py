"""Exports for council briefings: static images, CSV/XLSX, PDF pack, PPTX deck, fallback.

Image tests need a Chromium (BROWSER_PATH or /usr/bin/chromium) and are skipped without
one. Rendered pages of a demo PDF pack are written to tests/artifacts/ (git-ignored) so a
person can look at the layout.
"""

from __future__ import annotations

import io
import math
import os
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from buurtmonitor.exports import items as export
from buurtmonitor.exports.items import (
    ROUNDING_NOTE,
    SUPPRESSION_NOTE,
    ExportItem,
    StaticExportUnavailable,
    build_pdf_pack,
    build_pptx_pack,
    figure_to_html,
    figure_to_image,
    table_to_csv,
    table_to_xlsx,
)
from buurtmonitor.model import FICTITIOUS_LABEL, TableMeta

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WHEN = datetime(2026, 11, 30, 9, 30)
SOURCE = "Bron: CBS, Kerncijfers wijken en buurten 2024 (85984NED); grenzen: CBS/Kadaster via PDOK"
NOTE_TEXT = "Let op: <b>niet vet</b> & <script>"


def _browser() -> str | None:
    path = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


needs_browser = pytest.mark.skipif(
    _browser() is None,
    reason="geen Chromium gevonden (BROWSER_PATH of /usr/bin/chromium): statische export "
           "van figuren kan hier niet worden getest")


# ----------------------------------------------------------------------------- fixtures
def _square(i: int) -> list:
    x0, y0 = 5.62 + i * 0.02, 52.03
    return [[[x0, y0], [x0 + 0.02, y0], [x0 + 0.02, y0 + 0.02], [x0, y0 + 0.02], [x0, y0]]]


def map_figure() -> go.Figure:
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"BU{i}", "properties": {"naam": f"Buurt {i}"},
         "geometry": {"type": "Polygon", "coordinates": _square(i)}} for i in range(3)]}
    fig = go.Figure(go.Choroplethmap(
        geojson=geojson, locations=["BU0", "BU1", "BU2"], z=[5.0, 25.0, 45.0],
        colorscale="Viridis", marker_line_color="white", marker_line_width=1,
        colorbar_title="%"))
    fig.update_layout(map=dict(style="white-bg", center=dict(lat=52.04, lon=5.65), zoom=12.6),
                      margin=dict(l=0, r=0, t=0, b=0))
    return fig


def bar_figure() -> go.Figure:
    fig = go.Figure(go.Bar(x=["Centrum", "Veldhuizen", "Rijnsburg"], y=[12.5, 40.1, None],
                           name="buiten Europa"))
    fig.update_layout(xaxis_title="Buurt", yaxis_title="% van inwoners")
    return fig


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "code": ["BU02280101", "BU02280102", "BU02280103"],
        "naam": ["Centrum", "Veldhuizen-Noord", "Rijnsburg ë"],
        "aandeel_buiten_europa": [12.5, 40.1, np.nan],
        "inwoners": [1235.0, 5680.0, np.nan],
    })


def make_item(figure=None, fictitious: bool = False, title: str = "Herkomst buiten Europa per buurt",
              **kw) -> ExportItem:
    return ExportItem(
        title=title, subtitle="Ede · 2024 · buurten", figure=figure, table=table(),
        definitions=[{"id": "herkomst_buiten_europa", "label": "Herkomst buiten Europa",
                      "definition": "Inwoners van wie ten minste één ouder buiten Europa is "
                                    "geboren, als percentage van alle inwoners.", "unit": "%"}],
        key_figures=["In Veldhuizen-Noord heeft 40,1% van de inwoners een herkomst buiten Europa.",
                     "Voor Rijnsburg is het aandeel door CBS geheimgehouden."],
        source_line=SOURCE, table_ids=["85984NED"], years=[2024],
        resources=[{"title": "Monitoren van diversiteit", "publisher": "Kennisplatform Inclusief "
                    "Samenleven", "url": "https://www.kis.nl/", "why": "Hoe u herkomstcijfers "
                    "zorgvuldig leest."}],
        notes=[{"section": "Lokale kaart", "area": "Veldhuizen-Noord", "text": NOTE_TEXT}],
        fictitious=fictitious, **kw)


def demo_items() -> list[ExportItem]:
    return [
        make_item(map_figure(), fictitious=True),
        make_item(bar_figure(), fictitious=True, title="Vergelijking buurten – staafdiagram"),
    ]


def _pdf_texts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def _render_pdf(data: bytes, scale: float = 1.0):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].render(scale=scale).to_pil().convert("RGB") for i in range(len(doc))]
    finally:
        doc.close()


# ----------------------------------------------------------------------------- images
@needs_browser
def test_png_of_map_is_print_resolution_and_not_blank():
    from PIL import Image

    fig = map_figure()
    before = fig.to_json()
    item = make_item(fig, fictitious=True)
    png = figure_to_image(item, "png", exported_at=WHEN)
    assert fig.to_json() == before, "the caller's figure must not be changed"
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.width >= 2400
    arr = np.asarray(img).astype(float)
    assert arr.std() > 10
    h, w, _ = arr.shape
    region = np.asarray(img)[int(h * 0.3):int(h * 0.7), int(w * 0.2):int(w * 0.7)]
    colours = {tuple(c) for c in region.reshape(-1, 3)[::7] // 16}
    assert len(colours) > 2, "the map region shows the three coloured polygons"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "kaart.png").write_bytes(png)


@needs_browser
def test_png_of_bar_chart():
    from PIL import Image

    png = figure_to_image(make_item(bar_figure()), "png", exported_at=WHEN)
    img = Image.open(io.BytesIO(png))
    assert img.width >= 2400 and np.asarray(img.convert("L")).std() > 10


@needs_browser
def test_svg_has_title_and_source():
    svg = figure_to_image(make_item(map_figure(), title="Kaart <b>niet vet</b> & ë"), "svg",
                          exported_at=WHEN)
    root = ET.fromstring(svg)
    text = " ".join(t for t in root.itertext())
    assert "Kaart <b>niet vet</b> & ë" in text
    assert "Bron: CBS" in text
    assert "Geëxporteerd op 30-11-2026" in text


@needs_browser
def test_single_figure_pdf_has_text_and_renders():
    data = figure_to_image(make_item(map_figure(), fictitious=True), "pdf", exported_at=WHEN)
    texts = _pdf_texts(data)
    assert "Herkomst buiten Europa per buurt" in texts[0]
    assert "Bron: CBS" in texts[0]
    assert FICTITIOUS_LABEL in texts[0]
    page = np.asarray(_render_pdf(data, 0.5)[0].convert("L")).astype(float)
    assert page.std() > 5


# ----------------------------------------------------------------------------- data
def test_csv_round_trips_and_keeps_missing_empty():
    item = make_item(fictitious=True)
    data = table_to_csv(item)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].split(";")[0] == "let_op"
    back = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig",
                       dtype={"code": str})
    assert list(back.columns) == ["let_op", "code", "naam", "aandeel_buiten_europa",
                                  "inwoners", "bron"]
    assert back.loc[1, "aandeel_buiten_europa"] == pytest.approx(40.1)
    assert back.loc[0, "inwoners"] == 1235
    assert back.loc[2, "naam"] == "Rijnsburg ë"
    assert math.isnan(back.loc[2, "aandeel_buiten_europa"])
    assert (back["bron"] == SOURCE).all() and (back["let_op"] == FICTITIOUS_LABEL).all()
    last = text.splitlines()[3].split(";")
    assert last[3] == "" and last[4] == "", "missing stays empty, never 0"
    assert "40,1" in text

    plain = pd.read_csv(io.BytesIO(table_to_csv(make_item())), sep=";", decimal=",",
                        encoding="utf-8-sig")
    assert "let_op" not in plain.columns


def test_csv_neutralises_formulas():
    item = make_item()
    item.table = pd.DataFrame({"naam": ["=HYPERLINK(\"x\")", "gewoon"], "waarde": [-1.5, 2.0]})
    back = pd.read_csv(io.BytesIO(table_to_csv(item)), sep=";", decimal=",", encoding="utf-8-sig")
    assert back.loc[0, "naam"].startswith("'=")
    assert back.loc[0, "waarde"] == -1.5


def test_xlsx_has_data_and_metadata():
    from openpyxl import load_workbook

    data = table_to_xlsx(make_item(fictitious=True), exported_at=WHEN)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Gegevens", "Metadata"]
    ws = wb["Gegevens"]
    header = [c.value for c in ws[1]]
    assert header == ["let_op", "code", "naam", "aandeel_buiten_europa", "inwoners"]
    assert ws.freeze_panes == "D2", "header row and columns up to the name stay in view"
    assert ws.cell(3, 4).value == pytest.approx(40.1)
    assert ws.cell(2, 5).value == 1235
    assert ws.cell(4, 4).value is None and ws.cell(4, 5).value is None, "missing is empty"
    assert ws.cell(4, 3).value == "Rijnsburg ë"
    assert ws.column_dimensions["C"].width >= len("Veldhuizen-Noord")
    meta = {r[0]: r[1] for r in wb["Metadata"].iter_rows(values_only=True) if r[0]}
    assert "85984NED" in meta["CBS-tabellen"]
    assert meta["Jaren"] == "2024"
    assert meta["Ontbrekende waarden"] == SUPPRESSION_NOTE
    assert meta["Afronding"] == ROUNDING_NOTE
    assert meta["Let op"] == FICTITIOUS_LABEL
    assert meta["Bron"] == SOURCE
    assert meta["Geëxporteerd op"] == WHEN
    all_text = " ".join(str(v) for r in wb["Metadata"].iter_rows(values_only=True) for v in r if v)
    assert "Herkomst buiten Europa" in all_text and "ten minste één ouder" in all_text
    assert wb.properties.title == "Herkomst buiten Europa per buurt"
    assert table_to_xlsx(make_item(fictitious=True), exported_at=WHEN) == data


def test_item_from_meta():
    meta = TableMeta(year=2024, table_id="85984NED", table_title="Kerncijfers wijken en buurten 2024",
                     scheme="herkomst", source_kind="cbs-odata")
    item = ExportItem.from_meta(meta, title="x")
    assert item.source_line.startswith("Bron: CBS") and item.table_ids == ["85984NED"]
    assert item.years == [2024] and not item.fictitious


# ----------------------------------------------------------------------------- packs
@needs_browser
def test_pdf_pack_pages_text_and_layout():
    items = demo_items()
    calls: list[tuple[float, str]] = []
    data = build_pdf_pack(items, "Briefing herkomst", "Ede", 2024, exported_at=WHEN,
                          progress=lambda f, m: calls.append((f, m)))
    texts = _pdf_texts(data)
    assert len(texts) >= 1 + len(items)
    for n, text in enumerate(texts, start=1):
        assert "Bron: CBS" in text, f"page {n} lacks the source"
        assert FICTITIOUS_LABEL in text, f"page {n} lacks the fictitious label"
        assert f"Pagina {n} van {len(texts)}" in text
    assert "Ede" in texts[0] and "2024" in texts[0] and "30-11-2026" in texts[0]
    assert items[1].title in texts[0], "contents list on the title page"
    assert NOTE_TEXT in " ".join(texts[1:])
    assert "Veldhuizen-Noord heeft 40,1%" in texts[1]
    assert len(calls) >= len(items) and calls[-1][0] == 1.0
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    uris = [a.get_object()["/A"].get("/URI") for p in reader.pages for a in p.get("/Annots", [])
            if a.get_object().get("/A") is not None]
    assert "https://www.kis.nl/" in uris, "resources are clickable"
    assert len(reader.pages[1].images) >= 1, "the figure is on the item page"

    # Same inputs, same text.
    again = build_pdf_pack(items, "Briefing herkomst", "Ede", 2024, exported_at=WHEN)
    assert _pdf_texts(again) == texts

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "briefing-demo.pdf").write_bytes(data)
    for n, page in enumerate(_render_pdf(data, 1.4), start=1):
        arr = np.asarray(page.convert("L")).astype(float)
        assert arr.std() > 5
        page.save(ARTIFACTS / f"briefing-demo-pagina-{n}.png")


@needs_browser
def test_pptx_pack_has_a_slide_per_item_with_picture():
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    items = demo_items()
    calls: list[float] = []
    data = build_pptx_pack(items, "Briefing herkomst", "Ede", 2024, exported_at=WHEN,
                           progress=lambda f, m: calls.append(f))
    prs = Presentation(io.BytesIO(data))
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.01
    slides = list(prs.slides)
    assert len(slides) == 1 + len(items)
    assert len(calls) >= len(items)
    for slide, item in zip(slides[1:], items):
        pics = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pics) == 1
        pic = pics[0]
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        assert item.title in texts and FICTITIOUS_LABEL in texts
        assert any("Bron: CBS" in t for t in texts)
        for s in slide.shapes:  # nothing drawn over the picture
            if s.shape_id == pic.shape_id:
                continue
            overlap_x = min(s.left + s.width, pic.left + pic.width) - max(s.left, pic.left)
            overlap_y = min(s.top + s.height, pic.top + pic.height) - max(s.top, pic.top)
            assert overlap_x <= 0 or overlap_y <= 0, f"{s.name} overlaps the picture"
        assert pic.top + pic.height <= prs.slide_height
        notes = slide.notes_slide.notes_text_frame.text
        assert NOTE_TEXT in notes and "https://www.kis.nl/" in notes
    assert FICTITIOUS_LABEL in [s.text_frame.text for s in slides[0].shapes if s.has_text_frame]
    assert build_pptx_pack(items, "Briefing herkomst", "Ede", 2024, exported_at=WHEN) == data


# ----------------------------------------------------------------------------- no browser
@pytest.fixture
def no_browser(monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "geen-chromium"))


def test_without_browser_image_export_explains_in_dutch(no_browser):
    item = make_item(map_figure(), title="Kaart <b>niet vet</b> & ë")
    with pytest.raises(StaticExportUnavailable) as err:
        figure_to_image(item, "png")
    message = str(err.value)
    assert "niet beschikbaar" in message and "Chromium" in message and "HTML" in message
    assert export.static_export_status() == message

    page = figure_to_html(item, exported_at=WHEN).decode("utf-8")
    assert "<h1>Kaart &lt;b&gt;niet vet&lt;/b&gt; &amp; ë</h1>" in page
    assert "<b>niet vet</b>" not in page
    assert "Bron: CBS" in page and "Geëxporteerd op 30-11-2026" in page
    assert "Plotly.newPlot" in page and len(page) > 1_000_000, "plotly.js is inlined"
    assert "cdn.plot.ly" not in page.split("<body>")[0]


def test_html_escapes_text_inside_the_figure(no_browser):
    fig = bar_figure()
    fig.data[0].name = "</script><script>alert(1)</script>"
    page = figure_to_html(make_item(fig, fictitious=True)).decode("utf-8")
    assert "</script><script>alert(1)" not in page
    assert FICTITIOUS_LABEL in page


def test_without_browser_packs_still_build(no_browser):
    items = demo_items()
    data = build_pdf_pack(items, "Briefing", "Ede", 2024, exported_at=WHEN)
    texts = _pdf_texts(data)
    assert len(texts) >= 1 + len(items)
    assert "kon hier niet als afbeelding worden opgenomen" in texts[1]
    assert "niet beschikbaar" in texts[1]
    assert all("Bron: CBS" in t and FICTITIOUS_LABEL in t for t in texts)
    assert build_pdf_pack(items, "Briefing", "Ede", 2024, exported_at=WHEN) == data

    from pptx import Presentation

    prs = Presentation(io.BytesIO(build_pptx_pack(items, "Briefing", "Ede", 2024,
                                                  exported_at=WHEN)))
    assert len(prs.slides) == 1 + len(items)
    assert any("niet als afbeelding" in s.text_frame.text
               for s in list(prs.slides)[1].shapes if s.has_text_frame)


def test_unset_browser_path_falls_back_to_debian_chromium(monkeypatch):
    if not Path("/usr/bin/chromium").is_file():
        pytest.skip("geen /usr/bin/chromium op deze machine")
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    assert export.static_export_status() is None
    assert os.environ["BROWSER_PATH"] == "/usr/bin/chromium"


def test_figureless_item_is_rejected_for_images():
    with pytest.raises(ValueError):
        figure_to_image(make_item(None), "png")


def test_decoration_replaces_the_views_own_labels_and_fits_the_map():
    from buurtmonitor.exports.items import decorate_figure

    fig = map_figure()
    fig.update_layout(map_zoom=3, map_center=dict(lat=40, lon=0))
    fig.add_annotation(text=SOURCE, name="bronregel", x=0, y=0, xref="paper", yref="paper")
    fig.add_annotation(text=f"<b>{FICTITIOUS_LABEL}</b>", x=0.5, y=1, xref="paper", yref="paper")
    fig.add_annotation(text="Centrum", x=0.4, y=0.4, xref="paper", yref="paper")
    before = fig.to_json()
    out = decorate_figure(make_item(fig, fictitious=True), 1400, 900, WHEN)
    assert fig.to_json() == before
    texts = [a.text for a in out.layout.annotations]
    assert "Centrum" in texts
    assert sum("Bron: CBS" in t for t in texts) == 1, "one source line, the export's own"
    assert not any(FICTITIOUS_LABEL in t for t in texts)  # it is in the subtitle instead
    assert FICTITIOUS_LABEL in out.layout.title.subtitle.text
    assert "Geëxporteerd op 30-11-2026" in " ".join(texts)
    center = out.layout.map.center
    assert abs(center.lat - 52.04) < 0.01 and abs(center.lon - 5.65) < 0.01
    assert 10 < out.layout.map.zoom < 16
    assert out.layout.width == 1400 and out.layout.height == 900


@needs_browser
def test_falls_back_to_kaleido_when_the_fast_path_breaks(monkeypatch):
    from PIL import Image

    from buurtmonitor.exports import static as export_static

    monkeypatch.setattr(export_static, "_RENDER_JS",
                        "async function() { throw new Error('kapot'); }")
    png = figure_to_image(make_item(bar_figure(), title="Terugval via kaleido"), "png",
                          exported_at=WHEN)
    assert Image.open(io.BytesIO(png)).width >= 2400


def test_fast_path_is_pinned_to_the_tested_versions(monkeypatch):
    """The fast path uses kaleido/plotly.js internals: only with the pinned versions, which
    are also the ones requirements.txt installs."""
    from importlib.metadata import version

    from buurtmonitor.exports import static as export_static

    pins = {line.split("==")[0].strip().lower(): line.split("==")[1].strip()
            for line in (Path(__file__).resolve().parents[1] / "requirements.txt").read_text().splitlines()
            if "==" in line and not line.lstrip().startswith("#")}
    for name, pinned in export_static.FAST_PATH_VERSIONS.items():
        assert pins.get(name) == pinned, (name, pins.get(name), pinned)
        assert version(name) == pinned
    assert export_static.fast_path_supported()
    monkeypatch.setitem(export_static.FAST_PATH_VERSIONS, "kaleido", "9.9.9")
    assert not export_static.fast_path_supported()


def test_quiet_browser_adds_the_flags_that_stop_background_networking():
    pytest.importorskip("choreographer")
    from buurtmonitor.exports import static as export_static

    cls = export_static.quiet_browser_class()
    browser = cls.__new__(cls)              # only the command line is wanted, no process
    base = ["chromium", "--no-first-run", "--headless"]
    monkey_cli = type("Base", (), {"get_cli": lambda self: base})
    cls.__bases__[0].get_cli, original = monkey_cli.get_cli, cls.__bases__[0].get_cli
    try:
        cli = browser.get_cli()
    finally:
        cls.__bases__[0].get_cli = original
    for flag in ("--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic"):
        assert flag in cli
    assert cli.count("--no-first-run") == 1
    assert any(f.startswith("--host-resolver-rules=") and "accounts.google.com ~NOTFOUND" in f for f in cli)


@needs_browser
def test_the_export_browser_runs_with_the_quiet_flags_and_calc_fig_alone_works(monkeypatch):
    """The running Chromium has the flags; with the fast path off (another kaleido version)
    a map PNG still comes, through Kaleido.calc_fig."""
    import psutil
    from PIL import Image

    from buurtmonitor.exports import static as export_static

    export_static.shutdown()
    monkeypatch.setitem(export_static.FAST_PATH_VERSIONS, "kaleido", "0.0.0")
    try:
        export_static.warm_up()
        assert export_static._ENGINE is not None and export_static._ENGINE.fast_path is False
        browsers = []
        for proc in psutil.Process().children(recursive=True):
            try:   # a Chromium of an earlier test may have exited and not been reaped yet
                cmdline = proc.cmdline()
            except (psutil.ZombieProcess, psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if any("chromium" in part for part in cmdline[:3]) and not any(   # not its helpers
                    part.startswith("--type=") for part in cmdline):
                browsers.append(cmdline)
        assert browsers and all("--disable-background-networking" in c and "--disable-quic" in c
                                for c in browsers), browsers
        png = figure_to_image(make_item(map_figure(), title="Alleen calc_fig"), "png", exported_at=WHEN)
        assert Image.open(io.BytesIO(png)).width >= 2400
    finally:
        export_static.shutdown()


def test_pptx_and_pdf_pictures_have_real_alt_text():
    """A screen reader in PowerPoint reads what the picture shows (title, key figures, source),
    not python-pptx's "image.png"; the PDF's figures get the same text."""
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    from buurtmonitor.exports.static import alt_text

    items = demo_items()
    prs = Presentation(io.BytesIO(build_pptx_pack(items, "Briefing herkomst", "Ede", 2024, exported_at=WHEN)))
    for slide, item in zip(list(prs.slides)[1:], items):
        pic = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE][0]
        descr = pic._element.nvPicPr.cNvPr.get("descr") or ""
        assert "image" not in descr.lower() and ".png" not in descr, descr
        assert descr == alt_text(item)
        assert item.title in descr and "Bron: CBS" in descr and descr.startswith(FICTITIOUS_LABEL)
        for k in item.key_figures:
            assert k.rstrip(".") in descr
