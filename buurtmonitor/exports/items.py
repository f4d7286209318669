"""Exports of a view for council briefings: PNG/SVG/PDF, interactive HTML, CSV, XLSX,
a PDF briefing pack and a PPTX deck.

Everything works on :class:`ExportItem` (one view: title, figure, table, definitions,
key figures, source, resources, worksheet notes, fictitious flag).

* :func:`figure_to_image` (PNG >= 2400 px wide, SVG, PDF) and the browser-free fallback
  :func:`figure_to_html` live in :mod:`buurtmonitor.export_static`;
* :func:`build_pdf_pack` and :func:`build_pptx_pack` in :mod:`buurtmonitor.export_pack`;
* :func:`table_to_csv` and :func:`table_to_xlsx` here.

CSV dialect (for Dutch Excel and for machines alike): UTF-8 with BOM, ``;`` as field
separator, ``,`` as decimal separator, CRLF line ends, a single header row, no comment
lines. Missing values are empty fields (never 0). The source line is repeated in a last
column ``bron``; demo data gets a first column ``let_op`` with the fictitious label.
Read it back with ``pandas.read_csv(f, sep=";", decimal=",", encoding="utf-8-sig")``.
Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``) get a leading apostrophe.
"""

from __future__ import annotations

import io
import math
from datetime import datetime

import numpy as np
import pandas as pd

from buurtmonitor.exports.pack import build_pdf_pack, build_pptx_pack
from buurtmonitor.exports.static import (
    MIN_PNG_WIDTH,
    ExportItem,
    ProgressCallback,
    StaticExportUnavailable,
    decorate_figure,
    export_date_text,
    figure_to_html,
    figure_to_image,
    shutdown,
    static_export_status,
    warm_up,
)
from buurtmonitor.exports.tabular import frame_to_csv
from buurtmonitor.model import FICTITIOUS_LABEL

__all__ = [
    "ExportItem", "StaticExportUnavailable", "ProgressCallback", "MIN_PNG_WIDTH",
    "figure_to_image", "figure_to_html", "decorate_figure", "static_export_status",
    "warm_up", "shutdown", "table_to_csv", "table_to_xlsx", "build_pdf_pack",
    "build_pptx_pack", "export_date_text", "SUPPRESSION_NOTE", "ROUNDING_NOTE",
    "FICTITIOUS_LABEL", "file_name",
]

SUPPRESSION_NOTE = ("Ontbrekende waarden zijn door CBS geheimgehouden of niet beschikbaar; "
                    "ze zijn leeg gelaten, niet 0")
ROUNDING_NOTE = "CBS rondt aantallen op buurtniveau af op 5"



def file_name(item: ExportItem, ext: str) -> str:
    """A safe download name such as ``aandeel-herkomst-ede-2024.xlsx``."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", f"{item.title} {item.subtitle}")
    text = text.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80].strip("-") or "buurtmonitor"
    return f"{slug}.{ext.lstrip('.')}"




def _table(item: ExportItem) -> pd.DataFrame:
    if item.table is None:
        return pd.DataFrame()
    df = item.table.copy()
    df.columns = [str(c) for c in df.columns]
    return df.reset_index(drop=True)


def table_to_csv(item: ExportItem) -> bytes:
    """The view's table as CSV (dialect: :mod:`buurtmonitor.exports.tabular`), with the source
    on every row and the fictitious label first when the data are made up."""
    df = _table(item)
    df["bron"] = item.source_line
    if item.fictitious:
        df.insert(0, "let_op", FICTITIOUS_LABEL)
    return frame_to_csv(df)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def table_to_xlsx(item: ExportItem, exported_at: datetime | None = None) -> bytes:
    """The view as a workbook with sheets ``Gegevens`` (the table: bold header row, frozen
    panes, autofilter, fitted column widths, missing values as empty cells) and
    ``Metadata`` (title, subtitle, source, CBS tables and years, notes on suppression and
    rounding, export time, fictitious label, indicator definitions)."""
    import xlsxwriter

    exported_at = exported_at or datetime.now()
    df = _table(item)
    if item.fictitious:
        df.insert(0, "let_op", FICTITIOUS_LABEL)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "nan_inf_to_errors": False})
    wb.set_properties({
        "title": item.title,
        "subject": item.subtitle,
        "author": "Buurtmonitor",
        "company": "",
        "comments": (FICTITIOUS_LABEL + ". " if item.fictitious else "") + item.source_line,
        "keywords": ", ".join(["CBS", *item.table_ids] + (["FICTIEF"] if item.fictitious else [])),
        "created": exported_at,
    })
    if item.fictitious:
        wb.set_custom_property("Let op", FICTITIOUS_LABEL)
    bold = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True,
                          "valign": "top"})
    red = wb.add_format({"bold": True, "font_color": "#B00020"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    key_fmt = wb.add_format({"bold": True, "valign": "top"})
    int_fmt = wb.add_format({"num_format": "#,##0"})
    dec_fmt = wb.add_format({"num_format": "#,##0.0"})
    date_fmt = wb.add_format({"num_format": "dd-mm-yyyy hh:mm", "align": "left"})

    # --- Gegevens
    ws = wb.add_worksheet("Gegevens")
    if item.fictitious:
        ws.set_tab_color("#B00020")
    for c, name in enumerate(df.columns):
        ws.write_string(0, c, name, bold)
    widths = [min(max(len(str(n)), 6), 40) for n in df.columns]
    for c, col in enumerate(df.columns):
        values = df[col].tolist()
        numeric = [v for v in values if _is_number(v) and not _missing(v)]
        integral = all(float(v).is_integer() for v in numeric)
        num_fmt = int_fmt if integral else dec_fmt
        for r, v in enumerate(values, start=1):
            if _missing(v):
                continue  # missing stays an empty cell, never 0
            if _is_number(v):
                if math.isinf(float(v)):
                    continue
                ws.write_number(r, c, float(v), num_fmt)
                widths[c] = max(widths[c], min(len(f"{float(v):,.1f}"), 40))
            else:
                s = str(v)
                ws.write_string(r, c, s)
                widths[c] = max(widths[c], min(len(s), 60))
    for c, w in enumerate(widths):
        ws.set_column(c, c, w + 2)
    ws.set_row(0, 30)
    # Freeze the header row and the columns up to the area name (so it stays in view).
    names = [i for i, c in enumerate(df.columns) if c.lower() in ("naam", "name", "gebied")]
    freeze_cols = names[0] + 1 if names and names[0] < 4 else (1 if len(df.columns) > 1 else 0)
    ws.freeze_panes(1, freeze_cols)
    if len(df.columns):
        ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)

    # --- Metadata
    md = wb.add_worksheet("Metadata")
    md.set_column(0, 0, 28)
    md.set_column(1, 1, 90)
    md.set_column(2, 3, 40)
    rows: list[tuple[str, object]] = []
    if item.fictitious:
        rows.append(("Let op", FICTITIOUS_LABEL))
    rows += [
        ("Titel", item.title),
        ("Ondertitel", item.subtitle),
        ("Bron", item.source_line),
        ("CBS-tabellen", ", ".join(item.table_ids)),
        ("Jaren", ", ".join(str(y) for y in item.years)),
        ("Ontbrekende waarden", SUPPRESSION_NOTE),
        ("Afronding", ROUNDING_NOTE),
        ("Geëxporteerd op", exported_at.replace(tzinfo=None)),
        ("Gemaakt met", "Buurtmonitor"),
    ]
    r = 0
    for key, value in rows:
        md.write_string(r, 0, key, key_fmt)
        if isinstance(value, datetime):
            md.write_datetime(r, 1, value, date_fmt)
        else:
            md.write_string(r, 1, str(value), red if key == "Let op" else wrap)
        r += 1
    if item.key_figures:
        r += 1
        md.write_string(r, 0, "Kerncijfers", key_fmt)
        for sentence in item.key_figures:
            md.write_string(r, 1, sentence, wrap)
            r += 1
    if item.definitions:
        r += 1
        for c, head in enumerate(["Indicator", "Omschrijving", "Definitie", "Eenheid"]):
            md.write_string(r, c, head, bold)
        r += 1
        for d in item.definitions:
            for c, k in enumerate(["id", "label", "definition", "unit"]):
                md.write_string(r, c, str(d.get(k, "") or ""), wrap)
            r += 1
    if item.resources:
        r += 1
        for c, head in enumerate(["Meer weten", "Waarom", "Uitgever", "Adres"]):
            md.write_string(r, c, head, bold)
        r += 1
        for res in item.resources:
            md.write_string(r, 0, str(res.get("title", "")), wrap)
            md.write_string(r, 1, str(res.get("why", "")), wrap)
            md.write_string(r, 2, str(res.get("publisher", "")), wrap)
            md.write_string(r, 3, str(res.get("url", "")), wrap)
            r += 1
    wb.close()
    return buf.getvalue()
