"""Council briefings: turn a view of the dashboard into an :class:`ExportItem`, and a set
of views into a PDF or PPTX pack. No Streamlit and no loading here: the page
``pages/briefing.py``, the export buttons beside the charts (:mod:`app.export_widgets`) and
the command line (``python -m buurtmonitor export``) hand in the tables they have, or a
:class:`Sources` with loaders (:mod:`app.briefing_data`).

* :mod:`~buurtmonitor.briefing.common`     views, formats, errors, :class:`Sources`;
* :mod:`~buurtmonitor.briefing.sentences`  the key figures (Dutch sentences from the data);
* :mod:`~buurtmonitor.briefing.items`      one item per view;
* :mod:`~buurtmonitor.briefing.integratie` the Integratie naar herkomst item;
* :mod:`~buurtmonitor.briefing.pack`       PDF/PPTX packs and the bytes of the CLI export.

Each item carries 2–4 key figures computed from the data (never typed by hand), the
indicator definitions, the source line, the CBS table ids and years, the guidance resources
of the catalogue that fit the view, and the fictitious flag of the demo.
"""

from buurtmonitor.briefing.common import (
    CHART_AREAS,
    DEFAULT_INDICATOR,
    FORMATS,
    PACK_RESOURCES,
    PROFILE_ROWS,
    VIEW_ALIASES,
    VIEWS,
    ExportError,
    ProgressCallback,
    Sources,
    check_indicator,
    gemeente_name,
    normalise_view,
    resources,
)
from buurtmonitor.briefing.integratie import integratie_item
from buurtmonitor.briefing.items import (
    composition_item,
    indicator_table,
    lokale_kaart_item,
    map_item,
    measures_figure,
    measures_table,
    notes_for,
    profile_item,
    tables_up_to,
    trend_item,
)
from buurtmonitor.briefing.pack import (
    BUILDERS,
    build_items,
    build_pack,
    export_bytes,
    pack_resources,
    pack_title,
    pdf_items,
    resources_item,
)
from buurtmonitor.briefing.sentences import (
    change_sentence,
    composition_key_figures,
    lokale_kaart_key_figures,
    map_key_figures,
    year_ranges,
)

__all__ = [
    "BUILDERS", "CHART_AREAS", "DEFAULT_INDICATOR", "FORMATS", "PACK_RESOURCES", "PROFILE_ROWS",
    "VIEWS", "VIEW_ALIASES", "ExportError", "ProgressCallback", "Sources", "build_items",
    "build_pack", "change_sentence", "integratie_item", "check_indicator", "composition_item",
    "composition_key_figures", "export_bytes", "gemeente_name", "indicator_table",
    "lokale_kaart_item", "lokale_kaart_key_figures", "map_item", "map_key_figures",
    "measures_figure", "measures_table", "normalise_view", "notes_for", "pack_resources",
    "pack_title", "pdf_items", "profile_item", "resources", "resources_item", "tables_up_to",
    "trend_item", "year_ranges",
]
