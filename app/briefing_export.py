"""The command-line export (``python -m buurtmonitor export``): the bytes of
:func:`buurtmonitor.briefing.export_bytes`, written atomically with
:func:`loaders.files.write_atomic` (a failure never leaves a half-written file)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from app.briefing_data import repository_sources
from buurtmonitor.briefing import ExportError, Sources, export_bytes
from loaders.files import write_atomic


def export_indicator(year: int, gemeente: str, indicator: str, level: str = "wijk",
                     fmt: str = "png", out: str | os.PathLike = "export.png", *,
                     exported_at: datetime | None = None, sources: Sources | None = None) -> Path:
    """CLI ``export``: the map of ``indicator`` per wijk/buurt of ``gemeente`` as png, svg or
    pdf; its table as csv or xlsx; a deck (map + herkomst, one slide each) as pptx; or the
    interactive page as html (no browser needed).

    Parameters
    ----------
    year, gemeente, indicator, level, fmt
        What to export and how (``fmt`` one of :data:`buurtmonitor.briefing.FORMATS`).
    out : path
        The file to write (atomically); its folder must exist.
    exported_at : datetime, optional
        The export date printed on the file (default: now).
    sources : Sources, optional
        Where the data come from (default :func:`app.briefing_data.repository_sources`).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ExportError
        A ValueError with a Dutch message: unknown indicator, an indicator of the other
        origin classification, no browser for png/svg/pdf (use html), a folder that does
        not exist.
    """
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"De map '{folder}' bestaat niet; maak die eerst aan of kies een "
                          "andere plek voor --out.")
    data = export_bytes(int(year), gemeente, indicator, level, fmt, exported_at=exported_at,
                        sources=sources if sources is not None else repository_sources())
    write_atomic(out, data)
    return out
