"""Briefing packs for a council: a PDF (fpdf2) and a 16:9 PPTX deck (python-pptx).

Import from :mod:`buurtmonitor.export`. Both take a list of :class:`ExportItem`, a pack
title, the gemeente and the year, and return bytes. The same inputs (with a fixed
``exported_at``) give the same content: creation dates come from ``exported_at`` and
the PPTX zip entries get fixed timestamps, so the bytes are reproducible as long as the
figure images are. ``progress(fraction, message)`` is called once per item (and with 1.0
at the end) so the UI can show a progress bar.

Figures are PNGs from :func:`figure_to_image`; when no static image can be made (no
browser), the page/slide shows a framed text saying so and why instead. Worksheet notes
are printed verbatim (never interpreted as markup).
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from buurtmonitor.exports.static import (
    ExportItem,
    StaticExportUnavailable,
    alt_text,
    export_date_text,
    figure_to_image,
    static_export_status,
)
from buurtmonitor.formatting import smart
from buurtmonitor.model import FICTITIOUS_LABEL

_log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

IMAGE_WIDTH, IMAGE_HEIGHT = 1000, 640
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
              "/usr/local/share/fonts/dejavu")

_RED = (176, 0, 32)
_GREY = (85, 85, 85)
_LINK = (0, 82, 155)


# ----------------------------------------------------------------------------- shared
def _progress(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    if progress is None:
        return
    try:
        progress(max(0.0, min(1.0, fraction)), message)
    except Exception:  # noqa: BLE001 - a broken progress bar must not break the export
        _log.warning("voortgangsfunctie faalde", exc_info=True)


def _images(items: Sequence[ExportItem], exported_at: datetime,
            progress: ProgressCallback | None, what: str) -> list[tuple[bytes | None, str]]:
    """PNG per item (or None and the Dutch reason), reporting progress per item."""
    out: list[tuple[bytes | None, str]] = []
    n = len(items)
    unavailable = static_export_status() if any(i.figure is not None for i in items) else None
    for i, item in enumerate(items):
        _progress(progress, i / max(n, 1), f"{what} {i + 1} van {n}: {item.title}")
        if item.figure is None:
            out.append((None, ""))
        elif unavailable:
            out.append((None, unavailable))
        else:
            try:
                out.append((figure_to_image(item, "png", IMAGE_WIDTH, IMAGE_HEIGHT,
                                            exported_at=exported_at), ""))
            except StaticExportUnavailable as exc:
                out.append((None, str(exc)))
    return out


def _date(exported_at: datetime | None) -> datetime:
    return exported_at or datetime.now()


def _unique(seq) -> list:
    seen, out = set(), []
    for x in seq:
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _pack_source(items: Sequence[ExportItem]) -> str:
    lines = _unique(i.source_line for i in items)
    # "Bron: CBS, ... (85984NED)" is contained in "...; grenzen: CBS/Kadaster via PDOK": keep one
    lines = [x for x in lines if not any(x != y and y.startswith(x) for y in lines)]
    return "; ".join(lines) or "Bron: CBS"


# ----------------------------------------------------------------------------- PDF
def _font_files() -> dict[str, str] | None:
    names = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
    dirs = list(_FONT_DIRS)
    try:
        import matplotlib

        dirs.append(str(Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"))
    except Exception:  # noqa: BLE001
        pass
    for d in dirs:
        files = {style: str(Path(d) / name) for style, name in names.items()}
        if all(Path(f).is_file() for f in files.values()):
            return files
    return None


def _pdf_class():
    from fpdf import FPDF

    class BriefingPDF(FPDF):
        fictitious = False
        footer_source = ""
        family = "DejaVu"
        unicode = True

        def txt(self, text: str) -> str:
            """Text as the font can draw it (core-font fallback is latin-1 only)."""
            text = str(text)
            if self.unicode:
                return text
            text = (text.replace("–", "-").replace("—", "-").replace("·", "-")
                    .replace("•", "-").replace("“", '"').replace("”", '"').replace("’", "'"))
            return text.encode("latin-1", "replace").decode("latin-1")

        def header(self) -> None:
            if not self.fictitious:
                return
            self.set_xy(self.l_margin, 6)
            self.set_font(self.family, "B", 9)
            self.set_fill_color(253, 232, 234)
            self.set_draw_color(*_RED)
            self.set_text_color(*_RED)
            self.cell(self.epw, 7, self.txt(FICTITIOUS_LABEL), border=1, fill=True, align="C")
            self.set_text_color(0, 0, 0)
            self.set_draw_color(0, 0, 0)
            self.set_y(self.t_margin)

        def footer(self) -> None:
            from fpdf.enums import XPos, YPos

            self.set_y(-16)
            self.set_draw_color(180, 180, 180)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.set_draw_color(0, 0, 0)
            self.set_font(self.family, "", 7.5)
            self.set_text_color(*_GREY)
            y = self.get_y() + 1.5
            self.set_xy(self.w - self.r_margin - 28, y)
            self.cell(28, 4, self.txt(f"Pagina {self.page_no()} van {{nb}}"), align="R")
            self.set_xy(self.l_margin, y)
            self.multi_cell(self.epw - 32, 3.6, self.txt(self.footer_source), align="L",
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT, max_line_height=3.6)
            self.set_text_color(0, 0, 0)

    return BriefingPDF


def build_pdf_pack(items: Sequence[ExportItem], title: str, gemeente: str, year: int, *,
                   exported_at: datetime | None = None,
                   progress: ProgressCallback | None = None) -> bytes:
    """A4 briefing pack: a title page (gemeente, year, date, contents, fictitious label
    if any item is fictitious), then per item a page (or more) with title, subtitle,
    figure, key figures, definitions, source line, guidance resources (clickable) and
    worksheet notes (verbatim). Every page has a footer with page number and source."""
    from fpdf.enums import XPos, YPos

    items = list(items)
    when = _date(exported_at)
    images = _images(items, when, progress, "Figuur")
    any_fict = any(i.fictitious for i in items)

    pdf = _pdf_class()(orientation="P", unit="mm", format="A4")
    fonts = _font_files()
    if fonts:
        for style, path in fonts.items():
            pdf.add_font("DejaVu", style, path)
        pdf.family, pdf.unicode = "DejaVu", True
    else:  # no DejaVu anywhere: core font, latin-1 text
        pdf.family, pdf.unicode = "Helvetica", False
    T = pdf.txt
    pdf.set_margins(15, 18 if any_fict else 15, 15)
    pdf.set_auto_page_break(True, margin=20)
    pdf.fictitious = any_fict
    pdf.set_creation_date(when)
    pdf.set_title(title)
    pdf.set_subject(f"{gemeente} {year}")
    pdf.set_author("Buurtmonitor")
    pdf.set_creator("Buurtmonitor")
    pdf.set_producer("Buurtmonitor (fpdf2)")
    pdf.set_lang("nl")
    pdf.set_keywords(", ".join(["CBS", gemeente, str(year)] + (["FICTIEF"] if any_fict else [])))

    def para(text: str, size: float = 10, style: str = "", color=(0, 0, 0), h: float | None = None,
             link: str | None = None, indent: float = 0.0) -> None:
        pdf.set_font(pdf.family, style, size)
        pdf.set_text_color(*color)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, h or size * 0.5, T(text), align="L", link=link or "",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)

    def heading(text: str) -> None:
        if pdf.will_page_break(14):
            pdf.add_page()
        pdf.ln(3)
        para(text, 11.5, "B", (20, 40, 70))
        pdf.ln(0.5)

    # --- title page
    pdf.footer_source = _pack_source(items)
    pdf.add_page()
    pdf.ln(22)
    para(title, 24, "B", (20, 40, 70), h=11)
    pdf.ln(2)
    para(f"Gemeente {gemeente} · {year}", 14, "", (40, 40, 40), h=7)
    para(f"Samengesteld op {when:%d-%m-%Y} met Buurtmonitor", 10, "", _GREY)
    if any_fict:
        pdf.ln(6)
        pdf.set_font(pdf.family, "B", 13)
        pdf.set_fill_color(253, 232, 234)
        pdf.set_draw_color(*_RED)
        pdf.set_text_color(*_RED)
        pdf.multi_cell(pdf.epw, 9, T(FICTITIOUS_LABEL), border=1, fill=True, align="C",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
    pdf.ln(6)
    para("Cijfers: CBS, Kerncijfers wijken en buurten. Ontbrekende waarden zijn door CBS "
         "geheimgehouden of niet beschikbaar; ze zijn leeg gelaten, niet 0. CBS rondt aantallen "
         "op buurtniveau af op 5.", 8.5, "", _GREY, h=4.2)
    pdf.ln(6)
    para("Inhoud", 13, "B", (20, 40, 70), h=7)
    pdf.ln(1)

    row_h = 6.5

    def toc_break_needed(y: float) -> bool:
        return y + row_h > pdf.page_break_trigger

    def render_toc(pdf_, outline) -> None:
        for n, section in enumerate(outline, start=1):
            if toc_break_needed(pdf_.get_y()):
                pdf_.add_page()
            y = pdf_.get_y()
            link = pdf_.add_link(page=section.page_number)
            pdf_.set_font(pdf_.family, "", 10.5)
            pdf_.set_xy(pdf_.l_margin, y)
            pdf_.cell(pdf_.epw - 15, row_h, T(f"{n}.  {section.name}"), link=link)
            pdf_.set_xy(pdf_.w - pdf_.r_margin - 15, y)
            pdf_.cell(15, row_h, str(section.page_number), align="R", link=link)
            pdf_.set_y(y + row_h)

    # The contents must span exactly the reserved pages: count them the same way.
    toc_pages, y = 1, pdf.get_y()
    for _ in items:
        if toc_break_needed(y):
            toc_pages, y = toc_pages + 1, pdf.t_margin
        y += row_h
    if items:
        pdf.insert_toc_placeholder(render_toc, pages=toc_pages)
    else:
        para("Geen weergaven gekozen.", 10.5, "I", _GREY)

    # --- one page (or more) per item
    for idx, (item, (png, reason)) in enumerate(zip(items, images)):
        if idx > 0:  # the contents placeholder already opened the first item page
            pdf.add_page()
        # set after add_page: the footer of the previous page is drawn during add_page
        pdf.footer_source = item.source_line or _pack_source(items)
        pdf.start_section(T(item.title))
        para(item.title, 16, "B", (20, 40, 70), h=8)
        if item.subtitle:
            para(item.subtitle, 10.5, "", _GREY, h=5.5)
        pdf.ln(3)
        if png is not None:
            w = pdf.epw
            h = w * IMAGE_HEIGHT / IMAGE_WIDTH
            if pdf.will_page_break(h):
                pdf.add_page()
            pdf.image(io.BytesIO(png), x=pdf.l_margin, y=pdf.get_y(), w=w, h=h,
                      alt_text=T(alt_text(item)))
            pdf.set_y(pdf.get_y() + h + 3)
        elif item.figure is not None:
            pdf.set_font(pdf.family, "", 10)
            pdf.set_fill_color(245, 245, 245)
            pdf.set_draw_color(150, 150, 150)
            pdf.multi_cell(pdf.epw, 5.5, T(
                "De figuur kon hier niet als afbeelding worden opgenomen. " + reason),
                border=1, fill=True, align="L", padding=4,
                new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_draw_color(0, 0, 0)
            pdf.ln(3)
        elif item.table is not None and not item.table.empty:
            _pdf_table(pdf, item, T)

        if item.key_figures:
            heading("Kerncijfers")
            for sentence in item.key_figures:
                para(f"•  {sentence}", 10, h=5.2, indent=2)
                pdf.ln(0.6)
        if item.area_table is not None and not item.area_table.empty:
            heading(area_table_heading(item))
            _pdf_frame(pdf, side_by_side(item.area_table, PDF_AREA_ROWS), T)
        if item.summary_table is not None and not item.summary_table.empty:
            heading("In cijfers")
            _pdf_frame(pdf, item.summary_table, T)
        if item.definitions:
            heading("Definities")
            for d in item.definitions:
                unit = f" ({d['unit']})" if d.get("unit") else ""
                para(f"{d.get('label') or d.get('id', '')}{unit}", 9.5, "B", h=4.8)
                if d.get("definition"):
                    para(str(d["definition"]), 9, "", (40, 40, 40), h=4.6, indent=3)
                pdf.ln(0.8)
        pdf.ln(2)
        para(item.source_line, 8.5, "I", _GREY, h=4.3)
        if item.table_ids or item.years:
            para(f"CBS-tabellen: {', '.join(item.table_ids) or '-'} · "
                 f"jaren: {', '.join(str(y) for y in item.years) or '-'}", 8.5, "I", _GREY, h=4.3)
        if item.resources:
            heading("Meer weten")
            for res in item.resources:
                url = str(res.get("url") or "")
                pub = f" — {res['publisher']}" if res.get("publisher") else ""
                pdf.set_font(pdf.family, "B", 9.5)
                pdf.set_text_color(*_LINK)
                pdf.multi_cell(pdf.epw, 4.8, T(f"{res.get('title', url)}"), align="L",
                               link=url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.set_text_color(0, 0, 0)
                if pub or url:
                    para(f"{url}{pub}", 8, "", _GREY, h=4, link=url or None)
                if res.get("why"):
                    para(str(res["why"]), 9, "", (40, 40, 40), h=4.6, indent=3)
                pdf.ln(1.2)
        if item.notes:
            heading("Notities uit het werkblad")
            for note in item.notes:
                where = " · ".join(str(x) for x in (note.get("section"), note.get("area")) if x)
                if where:
                    para(where, 9.5, "B", h=4.8)
                para(str(note.get("text", "")), 9.5, "", h=4.8, indent=3)
                pdf.ln(1.2)
    _progress(progress, 1.0, "PDF is klaar")
    return bytes(pdf.output())


def _pdf_table(pdf, item: ExportItem, T, max_rows: int = 30) -> None:
    """A table-only view: the first rows as a simple table."""
    from fpdf.enums import XPos, YPos

    df = item.table
    if df is None:
        return
    shown = df.head(max_rows)
    pdf.set_font(pdf.family, "", 7.5)
    with pdf.table(text_align="LEFT", line_height=4.2, first_row_as_headings=True) as table:
        table.row([T(str(c)) for c in shown.columns])
        for _, row in shown.iterrows():
            table.row([T("" if _isna(v) else _fmt(v)) for v in row.tolist()])
    if len(df) > max_rows:
        pdf.set_font(pdf.family, "I", 8)
        pdf.multi_cell(pdf.epw, 4.2, T(f"Eerste {max_rows} van {len(df)} rijen; de volledige "
                                       "tabel staat in de XLSX- of CSV-export."),
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


#: a per-area table longer than this is printed in two halves side by side (PDF)
PDF_AREA_ROWS = 24
#: rows of a per-area table per half slide (PPTX)
PPTX_AREA_ROWS = 15


def area_table_heading(item: ExportItem) -> str:
    """"Alle gebieden van de kaart" with the count of areas."""
    n = len(item.area_table) if item.area_table is not None else 0
    return f"Alle gebieden van de kaart ({n} rijen, met gemeente en Nederland)" if n else "Alle gebieden"


def side_by_side(df, max_rows: int):
    """``df`` as is up to ``max_rows`` rows, else its two halves next to each other (the
    columns of the second half get a trailing space, so the names stay unique)."""
    if len(df) <= max_rows:
        return df
    half = -(-len(df) // 2)
    left = df.iloc[:half].reset_index(drop=True)
    right = df.iloc[half:].reset_index(drop=True).reindex(range(half)).fillna("")
    right.columns = [f"{c} " for c in df.columns]
    return pd.concat([left, right], axis=1)


def _pdf_frame(pdf, df, T) -> None:
    """A small table of text cells (an item's ``summary_table``), all rows."""
    pdf.set_font(pdf.family, "", 7.5)
    pdf.set_fill_color(255, 255, 255)
    with pdf.table(text_align="LEFT", line_height=4.2, first_row_as_headings=True) as table:
        table.row([T(str(c)) for c in df.columns])
        for _, row in df.iterrows():
            table.row([T("" if _isna(v) else _fmt(v)) for v in row.tolist()])
    pdf.ln(2)


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _fmt(v) -> str:
    """A table cell in a pack: numbers through the one formatter, anything else as text."""
    if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, bool):
        return smart(v)
    return str(v)


# ----------------------------------------------------------------------------- PPTX
def _fixed_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip package with fixed entry timestamps (reproducible bytes)."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def build_pptx_pack(items: Sequence[ExportItem], title: str, gemeente: str, year: int, *,
                    exported_at: datetime | None = None,
                    progress: ProgressCallback | None = None) -> bytes:
    """16:9 deck: a title slide, then one slide per item with title, subtitle, the figure,
    key figures and source line. Definitions, guidance resources and worksheet notes
    (verbatim) go into the slide notes. Demo data: a red label on every slide."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Emu, Inches, Pt

    items = list(items)
    when = _date(exported_at)
    images = _images(items, when, progress, "Dia")
    any_fict = any(i.fictitious for i in items)

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    SW = prs.slide_width
    props = prs.core_properties
    props.title = title
    props.subject = f"{gemeente} {year}"
    props.author = "Buurtmonitor"
    props.last_modified_by = "Buurtmonitor"
    props.keywords = ", ".join(["CBS", gemeente, str(year)] + (["FICTIEF"] if any_fict else []))
    props.comments = FICTITIOUS_LABEL if any_fict else ""
    props.created = when.replace(tzinfo=None)
    props.modified = when.replace(tzinfo=None)
    props.revision = 1
    props.language = "nl-NL"

    def textbox(slide, x, y, w, h, lines, size=14, bold=False, color=None, align=None,
                bullet=False, anchor=MSO_ANCHOR.TOP):
        box = slide.shapes.add_textbox(x, y, w, h)
        tf = box.text_frame
        tf.word_wrap = True
        tf.vertical_anchor = anchor
        for n, line in enumerate(lines):
            p = tf.paragraphs[0] if n == 0 else tf.add_paragraph()
            run = p.add_run()
            run.text = ("• " if bullet else "") + str(line)
            run.font.size = Pt(size)
            run.font.bold = bold
            if color:
                run.font.color.rgb = RGBColor(*color)
            if align is not None:
                p.alignment = align
            if bullet:
                p.space_after = Pt(8)
        return box

    def fict_label(slide):
        box = textbox(slide, SW - Inches(5.6), Inches(0.12), Inches(5.3), Inches(0.42),
                      [FICTITIOUS_LABEL], size=13, bold=True, color=_RED, align=PP_ALIGN.CENTER,
                      anchor=MSO_ANCHOR.MIDDLE)
        box.fill.solid()
        box.fill.fore_color.rgb = RGBColor(253, 232, 234)
        box.line.color.rgb = RGBColor(*_RED)

    # --- title slide
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    slide.shapes.title.text = title
    slide.shapes.title.left, slide.shapes.title.width = Inches(0.8), SW - Inches(1.6)
    slide.shapes.title.top, slide.shapes.title.height = Inches(1.6), Inches(1.6)
    sub = slide.placeholders[1]
    sub.left, sub.width, sub.top, sub.height = Inches(0.8), SW - Inches(1.6), Inches(3.3), Inches(1.2)
    sub.text = f"Gemeente {gemeente} · {year}\nSamengesteld op {when:%d-%m-%Y} met Buurtmonitor"
    for p in sub.text_frame.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        for r in p.runs:
            r.font.size = Pt(22)
    for p in slide.shapes.title.text_frame.paragraphs:
        p.alignment = PP_ALIGN.LEFT
    if items and len(items) <= 12:
        textbox(slide, Inches(0.8), Inches(4.6), SW - Inches(1.6), Inches(2.2),
                [f"{n}. {it.title}" for n, it in enumerate(items, start=1)], size=13,
                color=(60, 60, 60))
    textbox(slide, Inches(0.8), Inches(6.85), SW - Inches(1.6), Inches(0.45),
            [_pack_source(items)], size=10, color=_GREY)
    if any_fict:
        fict_label(slide)
    slide.notes_slide.notes_text_frame.text = (
        (FICTITIOUS_LABEL + "\n") if any_fict else "") + _pack_source(items)

    # --- one slide per item
    for item, (png, reason) in zip(items, images):
        slide = prs.slides.add_slide(prs.slide_layouts[5])  # "Title Only"
        t = slide.shapes.title
        t.text = item.title
        t.left, t.top, t.width, t.height = Inches(0.4), Inches(0.55), SW - Inches(0.8), Inches(0.75)
        for p in t.text_frame.paragraphs:
            p.alignment = PP_ALIGN.LEFT
            for r in p.runs:
                r.font.size, r.font.bold = Pt(28 if len(item.title) <= 60 else 22), True
        t.text_frame.word_wrap = True
        if item.subtitle:
            textbox(slide, Inches(0.4), Inches(1.28), Inches(8.6), Inches(0.4), [item.subtitle],
                    size=14, color=_GREY)
        pic_x, pic_y, pic_w = Inches(0.4), Inches(1.72), Inches(8.1)
        pic_h = Emu(int(pic_w * IMAGE_HEIGHT / IMAGE_WIDTH))
        if png is not None:
            pic = slide.shapes.add_picture(io.BytesIO(png), pic_x, pic_y, width=pic_w, height=pic_h)
            # the alt text PowerPoint and screen readers show (python-pptx writes "image.png")
            pic._element.nvPicPr.cNvPr.set("descr", alt_text(item))
            pic._element.nvPicPr.cNvPr.set("name", f"Figuur: {item.title}"[:250])
        elif item.figure is not None:
            box = textbox(slide, pic_x, pic_y, pic_w, pic_h,
                          ["De figuur kon niet als afbeelding worden gemaakt.", reason],
                          size=14, color=(60, 60, 60), anchor=MSO_ANCHOR.MIDDLE)
            box.line.color.rgb = RGBColor(150, 150, 150)
        elif item.table is not None and not item.table.empty:
            _pptx_table(slide, item, pic_x, pic_y, pic_w, pic_h)
        col_x = pic_x + pic_w + Inches(0.3)
        col_w = SW - col_x - Inches(0.4)
        if item.key_figures:
            textbox(slide, col_x, pic_y, col_w, Inches(0.4), ["Kerncijfers"], size=16, bold=True,
                    color=(20, 40, 70))
            textbox(slide, col_x, pic_y + Inches(0.45), col_w, pic_h - Inches(0.45),
                    item.key_figures, size=13, bullet=True)
        textbox(slide, Inches(0.4), Inches(7.0), SW - Inches(0.8), Inches(0.4),
                [item.source_line], size=10, color=_GREY)
        if item.fictitious or any_fict:
            fict_label(slide)
        slide.notes_slide.notes_text_frame.text = _slide_notes(item, when)
        area_df = item.area_table
        if area_df is not None and not area_df.empty:
            per_slide = 2 * PPTX_AREA_ROWS
            parts = [area_df.iloc[i:i + per_slide] for i in range(0, len(area_df), per_slide)]
            for n, part in enumerate(parts, start=1):
                slide = prs.slides.add_slide(prs.slide_layouts[5])
                t = slide.shapes.title
                more = f" ({n} van {len(parts)})" if len(parts) > 1 else ""
                t.text = f"{item.title}: alle gebieden{more}"
                t.left, t.top, t.width, t.height = Inches(0.4), Inches(0.45), SW - Inches(0.8), Inches(0.75)
                for p in t.text_frame.paragraphs:
                    p.alignment = PP_ALIGN.LEFT
                    for r in p.runs:
                        r.font.size, r.font.bold = Pt(22), True
                t.text_frame.word_wrap = True
                shown = side_by_side(part, PPTX_AREA_ROWS)
                rows_h = Inches(0.33) * (len(shown) + 1)
                _frame_table(slide, shown, Inches(0.4), Inches(1.35), SW - Inches(0.8), rows_h, size=11)
                textbox(slide, Inches(0.4), Inches(7.0), SW - Inches(0.8), Inches(0.4),
                        [item.source_line], size=10, color=_GREY)
                if item.fictitious or any_fict:
                    fict_label(slide)
                slide.notes_slide.notes_text_frame.text = _slide_notes(item, when)
    _progress(progress, 1.0, "Presentatie is klaar")
    buf = io.BytesIO()
    prs.save(buf)
    return _fixed_zip(buf.getvalue(), when)


def _pptx_table(slide, item: ExportItem, x, y, w, h, max_rows: int = 12) -> None:
    from pptx.util import Pt

    if item.table is None:
        return
    df = item.table.head(max_rows)
    rows, cols = len(df) + 1, max(len(df.columns), 1)
    table = slide.shapes.add_table(rows, cols, x, y, w, h).table
    for c, name in enumerate(df.columns):
        table.cell(0, c).text = str(name)
    for r, (_, row) in enumerate(df.iterrows(), start=1):
        for c, v in enumerate(row.tolist()):
            table.cell(r, c).text = "" if _isna(v) else _fmt(v)
    for r in range(rows):
        for c in range(cols):
            for p in table.cell(r, c).text_frame.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(10)


def _frame_table(slide, df, x, y, w, h, size: int = 10) -> None:
    """A table of text cells on a slide (header row bold)."""
    from pptx.util import Pt

    rows, cols = len(df) + 1, max(len(df.columns), 1)
    table = slide.shapes.add_table(rows, cols, x, y, w, h).table
    for c, name in enumerate(df.columns):
        table.cell(0, c).text = str(name).strip()
    for r, (_, row) in enumerate(df.iterrows(), start=1):
        for c, v in enumerate(row.tolist()):
            table.cell(r, c).text = "" if _isna(v) else _fmt(v)
    for r in range(rows):
        for c in range(cols):
            for p in table.cell(r, c).text_frame.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(size)
                    run.font.bold = r == 0


def _slide_notes(item: ExportItem, when: datetime) -> str:
    parts: list[str] = []
    if item.fictitious:
        parts.append(FICTITIOUS_LABEL)
    parts.append(item.source_line)
    if item.table_ids or item.years:
        parts.append(f"CBS-tabellen: {', '.join(item.table_ids) or '-'}; "
                     f"jaren: {', '.join(str(y) for y in item.years) or '-'}")
    parts.append(export_date_text(when))
    if item.definitions:
        parts.append("\nDefinities")
        for d in item.definitions:
            unit = f" ({d['unit']})" if d.get("unit") else ""
            parts.append(f"- {d.get('label') or d.get('id', '')}{unit}: {d.get('definition', '')}")
    if item.resources:
        parts.append("\nMeer weten")
        for res in item.resources:
            pub = f" ({res['publisher']})" if res.get("publisher") else ""
            parts.append(f"- {res.get('title', '')}{pub}: {res.get('url', '')}")
            if res.get("why"):
                parts.append(f"  Waarom: {res['why']}")
    if item.notes:
        parts.append("\nNotities uit het werkblad")
        for note in item.notes:
            where = " · ".join(str(x) for x in (note.get("section"), note.get("area")) if x)
            parts.append(f"- {where}: {note.get('text', '')}" if where else f"- {note.get('text', '')}")
    return "\n".join(parts)
