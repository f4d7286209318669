"""Briefing packs: several views of one gemeente as a PDF (title page, a page per view,
a closing page with every guidance resource once) or a PPTX deck, and the bytes of the
command-line export of one indicator. Bytes only: writing a file is
:mod:`app.briefing_export`'s job."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from buurtmonitor.briefing.common import (
    DEFAULT_INDICATOR,
    FORMATS,
    PACK_RESOURCES,
    VIEWS,
    ExportError,
    ProgressCallback,
    Sources,
    _check_level,
    _unavailable_item,
    call_progress,
    check_indicator,
    gemeente_name,
    need_sources,
    normalise_view,
)
from buurtmonitor.briefing.integratie import integratie_item
from buurtmonitor.briefing.items import (
    composition_item,
    lokale_kaart_item,
    map_item,
    profile_item,
    trend_item,
)
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.exports.items import (
    ExportItem,
    StaticExportUnavailable,
    build_pdf_pack,
    build_pptx_pack,
    figure_to_html,
    figure_to_image,
    static_export_status,
    table_to_csv,
    table_to_xlsx,
)

# ----------------------------------------------------------------------------- packs
BUILDERS: dict[str, Callable[..., ExportItem]] = {
    "kaart": map_item, "herkomst": composition_item, "gebiedsprofiel": profile_item,
    "ontwikkeling": trend_item, "lokale_kaart": lokale_kaart_item,
    "integratie": integratie_item,
}


def build_items(views: Sequence[str], year: int, gemeente: str, level: str = "wijk",
                indicator: str = DEFAULT_INDICATOR, area: str | None = None, *,
                sources: Sources | None = None,
                progress: ProgressCallback | None = None,
                max_resources: int | None = None,
                note_sections: Collection[str] = ()) -> list[ExportItem]:
    """One item per view, in the order given. A view that cannot be made becomes a page
    that says why (the other views still go out); a wrong indicator or level raises.
    Each item keeps its ``max_resources`` most relevant guidance resources (None = all).
    ``note_sections``: the worksheet sections whose notes go into the lokale-kaart view
    (none unless named)."""
    check_indicator(indicator, year)
    _check_level(level)
    views = list(dict.fromkeys(normalise_view(v) for v in views))
    src = need_sources(sources, "the views")
    items = []
    for i, view in enumerate(views):
        call_progress(progress, i / max(len(views), 1), f"Weergave {i + 1} van {len(views)}: {VIEWS[view]}")
        kwargs: dict[str, Any] = {"sources": src}
        if view in ("kaart", "herkomst", "gebiedsprofiel", "ontwikkeling"):
            kwargs["area"] = area
        if view == "lokale_kaart":
            kwargs["note_sections"] = tuple(note_sections)
        try:
            item = BUILDERS[view](year, gemeente, level, indicator, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this view only
            item = _unavailable_item(view, exc, year, gemeente)
        if max_resources is not None:
            item.resources = item.resources[:max_resources]
        items.append(item)
    call_progress(progress, 1.0, "Weergaven klaar")
    return items


def pack_title(year: int, name: str) -> str:
    return f"Raadsbriefing {name} {year}"


def pack_resources(items: Sequence[ExportItem]) -> list[dict]:
    """Every guidance resource of ``items`` once, in order of first appearance; ``why`` is
    the catalogue's reason for a briefing where it has one, else that of the first view."""
    by_title = {r.title: r for r in load_catalogue().resources}
    out: dict[tuple[str, str], dict] = {}
    for item in items:
        for r in item.resources:
            key = (r.get("url", ""), r.get("title", ""))
            if key not in out:
                res = by_title.get(r.get("title", ""))
                why = (res.why.get("briefing") if res is not None else None) or r.get("why", "")
                out[key] = {**r, "why": why}
    return list(out.values())


def resources_item(items: Sequence[ExportItem]) -> ExportItem | None:
    """The closing page of a PDF pack: every guidance resource of the views, once."""
    res = pack_resources(items)
    if not res:
        return None
    first = items[0]
    return ExportItem(
        title="Handreikingen bij deze briefing",
        subtitle="Wat u kunt lezen of gebruiken bij het gesprek over deze cijfers; bij elke "
                 "handreiking staat waarom die hier helpt",
        source_line=first.source_line, table_ids=[], years=[],
        resources=res, fictitious=any(i.fictitious for i in items))


def pdf_items(items: Sequence[ExportItem], per_view: int | None = PACK_RESOURCES) -> list[ExportItem]:
    """The pages of a PDF pack: each view with its ``per_view`` most relevant resources
    (None = all, and no closing page), then one closing page with all resources once."""
    out = [replace(i, resources=list(i.resources[:per_view] if per_view is not None else i.resources))
           for i in items]
    closing = resources_item(items) if per_view is not None else None
    return out + ([closing] if closing is not None else [])


def build_pack(views: Sequence[str], year: int, gemeente: str, level: str = "wijk",
               indicator: str = DEFAULT_INDICATOR, area: str | None = None, fmt: str = "pdf",
               progress: ProgressCallback | None = None, exported_at: datetime | None = None, *,
               title: str | None = None, sources: Sources | None = None,
               items: Sequence[ExportItem] | None = None,
               note_sections: Collection[str] = ()) -> bytes:
    """A briefing pack of ``views`` as PDF (``fmt="pdf"``) or PPTX (``fmt="pptx"``).

    PDF: a title page with contents, a page per view and a closing page with every
    guidance resource of the chosen views once (why it helps). PPTX: a title slide and one
    slide per view; definitions and the view's resources in the slide notes.

    ``progress(fraction, message)`` is called while the views are gathered (first 40 %,
    unless ``items`` are given) and per figure while the pack is made. ``items``: views
    already built (e.g. for the preview on the page) instead of building them again.
    ``note_sections``: the worksheet sections whose notes go in (none unless named). The
    same inputs with the same ``exported_at`` give the same content."""
    fmt = fmt.lower()
    if fmt not in ("pdf", "pptx"):
        raise ValueError(f"Onbekend formaat '{fmt}': kies pdf of pptx.")
    src = sources
    start = 0.0
    if items is None:
        start = 0.4
        items = build_items(views, year, gemeente, level, indicator, area, sources=src,
                            progress=lambda f, msg: call_progress(progress, 0.4 * f, msg),
                            note_sections=note_sections)
    items = list(items)
    try:
        name = gemeente_name(need_sources(src, "the gemeente").table(year, gemeente), gemeente)
    except Exception:  # noqa: BLE001
        name = gemeente
    title = (title or "").strip() or pack_title(year, name)
    when = exported_at or datetime.now()

    def pack_progress(f: float, msg: str) -> None:
        call_progress(progress, start + (1.0 - start) * f, msg)

    if fmt == "pdf":
        return build_pdf_pack(pdf_items(items), title, name, int(year), exported_at=when,
                              progress=pack_progress)
    # PPTX: one slide per view; definitions and every resource go into the slide notes
    return build_pptx_pack(items, title, name, int(year), exported_at=when, progress=pack_progress)


def _static_or_explain(item: ExportItem, fmt: str, **kwargs: Any) -> bytes:
    try:
        return figure_to_image(item, fmt, **kwargs)
    except StaticExportUnavailable as exc:
        raise ExportError(f"{exc} Gebruik --format html voor een interactieve kaart die zonder "
                          "browser wordt gemaakt, of --format csv/xlsx voor de tabel.") from exc


def export_bytes(year: int, gemeente: str, indicator: str, level: str = "wijk",
                 fmt: str = "png", *, exported_at: datetime | None = None,
                 sources: Sources | None = None) -> bytes:
    """The bytes of :func:`export_indicator` (nothing is written)."""
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ExportError(f"Onbekend formaat '{fmt}': kies uit {', '.join(FORMATS)}.")
    check_indicator(indicator, year)
    _check_level(level)
    if fmt in ("png", "svg", "pdf", "pptx"):
        reason = static_export_status()
        if reason and fmt != "pptx":
            raise ExportError(f"{reason} Gebruik --format html voor een interactieve kaart die "
                              "zonder browser wordt gemaakt, of --format csv/xlsx voor de tabel.")
    src = need_sources(sources, "the map")
    when = exported_at or datetime.now()
    item = map_item(year, gemeente, level, indicator, sources=src)
    if fmt == "csv":
        return table_to_csv(item)
    if fmt == "xlsx":
        return table_to_xlsx(item, exported_at=when)
    if fmt == "html":
        return figure_to_html(item, exported_at=when)
    if fmt == "pptx":
        items = [item, composition_item(year, gemeente, level, indicator, sources=src)]
        return build_pack(["kaart", "herkomst"], year, gemeente, level, indicator, fmt="pptx",
                          exported_at=when, sources=src, items=items,
                          title=item.title)
    if item.figure is None:
        raise ExportError(item.key_figures[-1] + " Kies --format csv of --format xlsx.")
    return _static_or_explain(item, fmt, exported_at=when)


