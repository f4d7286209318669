"""Export buttons beside a chart: a compact "Exporteren" popover with downloads.

``export_buttons(item_factory, key=...)`` takes a function that returns the
:class:`~buurtmonitor.export.ExportItem` of the view (called only when a file is asked
for, never on a plain rerun):

* CSV, XLSX and HTML are download buttons whose bytes are made when the user clicks
  (Streamlit's deferred download: nothing is built on a rerun);
* PNG, SVG and PDF need a browser and take a second or more: the user picks the format
  and presses "Maak afbeelding"; the image is made under a spinner and then offered as a
  download. The part runs as a fragment, so only the popover reruns, not the page. The
  image belongs to that one run: after any other change on the page it is made afresh,
  so a download never shows an older state of the view.
* Without a browser the Dutch reason is shown and the interactive HTML is offered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import streamlit as st

from buurtmonitor.exports.items import (
    ExportItem,
    StaticExportUnavailable,
    figure_to_html,
    figure_to_image,
    file_name,
    static_export_status,
    table_to_csv,
    table_to_xlsx,
)

_log = logging.getLogger(__name__)

DEFAULT_FORMATS = ("png", "svg", "pdf", "csv", "xlsx", "html")
IMAGE_FORMATS = ("png", "svg", "pdf")
LABELS = {
    "png": "PNG (afbeelding, drukkwaliteit)",
    "svg": "SVG (vectorafbeelding)",
    "pdf": "PDF (één pagina)",
    "csv": "Tabel als CSV",
    "xlsx": "Tabel als Excel (met metadata)",
    "html": "Interactieve HTML (werkt zonder internet)",
}
SHORT = {"png": "PNG", "svg": "SVG", "pdf": "PDF"}
MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
}


def _deferred(item_factory: Callable[[], ExportItem], fmt: str) -> Callable[[], bytes]:
    """The bytes of ``fmt``, made when the user clicks the download button."""
    def make() -> bytes:
        item = item_factory()
        if fmt == "csv":
            return table_to_csv(item)
        if fmt == "xlsx":
            return table_to_xlsx(item)
        return figure_to_html(item)
    return make


def _download_name(file_stem: str | None, item_factory, fmt: str) -> str:
    if file_stem:
        return f"{file_stem}.{fmt}"
    return file_name(item_factory(), fmt)


def _body(item_factory: Callable[[], ExportItem], key: str, formats: Sequence[str],
          file_stem: str | None, has_figure: bool, has_table: bool) -> None:
    images = [f for f in formats if f in IMAGE_FORMATS] if has_figure else []
    files = [f for f in formats if f in ("csv", "xlsx") and has_table]
    html = has_figure and ("html" in formats or bool(images))
    if images:
        reason = static_export_status()
        if reason:
            st.info(reason, icon=":material/info:")
        else:
            fmt = st.radio("Afbeelding", images, key=f"{key}_formaat", horizontal=True,
                           format_func=SHORT.get,
                           help="PNG: 2400 pixels breed, voor drukwerk en presentaties. SVG: "
                                "scherp op elk formaat. PDF: één pagina. Elke afbeelding heeft "
                                "titel, bron en exportdatum.")
            if st.button("Maak afbeelding", key=f"{key}_maak", icon=":material/image:"):
                try:
                    with st.spinner(f"{SHORT[fmt]} maken…", show_time=True):
                        item = item_factory()
                        data = figure_to_image(item, fmt)
                    name = f"{file_stem}.{fmt}" if file_stem else file_name(item, fmt)
                    st.download_button(f"{SHORT[fmt]} downloaden", data, file_name=name,
                                       mime=MIME[fmt], key=f"{key}_dl_{fmt}", type="primary",
                                       icon=":material/download:", on_click="ignore")
                    st.session_state[f"{key}_laatste"] = {"format": fmt, "bytes": len(data)}
                except StaticExportUnavailable as exc:
                    st.warning(f"{exc}", icon=":material/warning:")
                except Exception as exc:  # noqa: BLE001 - shown, the page goes on
                    _log.warning("export mislukt", exc_info=True)
                    st.error(f"De afbeelding kon niet worden gemaakt ({type(exc).__name__}: {exc}). "
                             "Download de interactieve HTML.")
    for fmt in files:
        st.download_button(LABELS[fmt], _deferred(item_factory, fmt),
                           file_name=_download_name(file_stem, item_factory, fmt), mime=MIME[fmt],
                           key=f"{key}_dl_{fmt}", icon=":material/table_view:", on_click="ignore")
    if html:
        st.download_button(LABELS["html"], _deferred(item_factory, "html"),
                           file_name=_download_name(file_stem, item_factory, "html"),
                           mime=MIME["html"], key=f"{key}_dl_html", icon=":material/public:",
                           on_click="ignore")
    st.caption("Elk bestand vermeldt de bron (CBS), de exportdatum en, bij de Voorbeeldgemeente, "
               "dat de cijfers fictief zijn.")


_fragment_body = st.fragment(_body)


def export_buttons(item_factory: Callable[[], ExportItem], *, key: str,
                   formats: Sequence[str] = DEFAULT_FORMATS, file_stem: str | None = None,
                   label: str = "Exporteren", has_figure: bool = True,
                   has_table: bool = True) -> None:
    """A compact "Exporteren" popover with downloads of the view beside a chart.

    ``item_factory()`` returns the view's :class:`ExportItem`; it is called only when a
    file is made (and for the file name when ``file_stem`` is not given: pass a stem such
    as ``"herkomst-ede-2024-wijk"`` to keep reruns free of work). ``key`` must be unique
    on the page. ``formats``: any of png, svg, pdf, csv, xlsx, html. Set ``has_figure`` /
    ``has_table`` to False for a view without a chart or without a table.
    """
    unknown = [f for f in formats if f not in LABELS]
    if unknown:
        raise ValueError(f"Onbekend exportformaat: {', '.join(unknown)}")
    with st.popover(label, icon=":material/download:", help="Deze weergave downloaden als "
                    "afbeelding, tabel of interactieve pagina, met bron en exportdatum."):
        _fragment_body(item_factory, key, tuple(formats), file_stem, has_figure, has_table)
