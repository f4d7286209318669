"""Where the council briefings get their data: :class:`buurtmonitor.briefing.Sources` wired
to :mod:`loaders.repository` (tables, boundaries, years) and :mod:`loaders.notes` (the
worksheet notes of the lokale kaart). The command line uses :func:`repository_sources`;
the dashboard hands in the cached loaders of :mod:`app.ui` (no Streamlit is imported here,
so the command line starts without it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from buurtmonitor import geo
from buurtmonitor.briefing import Sources, tables_up_to
from buurtmonitor.model import AreaTable
from loaders import repository
from loaders.by_origin import load_by_origin
from loaders.notes import NotesRepository, open_store


def _notes_loader(store: NotesRepository | None, may_read: Callable[[str], bool] | None = None):
    def load(gemeente: str) -> list[dict[str, Any]]:
        if may_read is not None and not may_read(gemeente):
            return []                  # no role on this gemeente: its notes do not exist for this user
        st = store if store is not None else open_store()
        st.verify()                    # an emptied or damaged database is said, not an empty list
        return st.export(gemeente)
    return load


def _web_boundaries(year: int, level: str, gemeente: str) -> Any:
    return geo.prepare_for_web(repository.load_boundaries(int(year), level, gemeente).gdf, level)


def repository_sources(notes_store: NotesRepository | None = None, *,
                       table_loader: Callable[[int, str], AreaTable] | None = None,
                       geo_loader: Callable[[int, str, str], Any] | None = None,
                       may_read_notes: Callable[[str], bool] | None = None) -> Sources:
    """Sources for one export or briefing.

    Parameters
    ----------
    notes_store : NotesRepository, optional
        Where the worksheet notes are read (default: :func:`loaders.notes.open_store`, SQLite or PostgreSQL).
    table_loader : callable, optional
        ``(year, scope) -> AreaTable``; default ``repository.load_table(year, scope).table``
        (cache -> CBS -> demo). The dashboard passes its cached ``ui.load_table``.
    geo_loader : callable, optional
        ``(year, level, gemeente) -> GeoDataFrame`` prepared for the web; default the
        boundaries of ``repository.load_boundaries`` through ``geo.prepare_for_web``.
    may_read_notes : callable, optional
        ``gemeente -> bool``: whether the user may read that gemeente's notes (a login
        deployment passes the role check); without it every note is read (CLI, no login).
    """
    return Sources(table_loader=table_loader or (lambda y, s: repository.load_table(int(y), s).table),
                   geo_loader=geo_loader or _web_boundaries, years_loader=repository.available_years,
                   notes_loader=_notes_loader(notes_store, may_read_notes), origin_loader=load_by_origin)


def load_years(year: int, gemeente: str, sources: Sources | None = None
               ) -> tuple[dict[int, AreaTable], dict[int, str]]:
    """Every available year up to ``year`` ({year: table}) and the years that failed
    ({year: Dutch reason}); ``year`` itself must load."""
    return tables_up_to(year, gemeente, sources if sources is not None else repository_sources())


def notes_of(gemeente: str, store: NotesRepository | None = None, *, may_read: bool = True) -> list[dict[str, Any]]:
    """The worksheet notes of ``gemeente`` (for the preview of what may go into a pack);
    empty when the user may not read them (no role)."""
    if not may_read:
        return []
    st = store if store is not None else open_store()
    st.verify()                        # an emptied or damaged database is said, not an empty list
    return list(st.export(gemeente))


def notes_signature(gemeente: str, store: NotesRepository | None = None, *, may_read: bool = True) -> tuple:
    """Changes when a worksheet note of ``gemeente`` is added, edited or deleted; empty when
    the notes cannot be read (the pack then says so itself) or may not be (no role)."""
    if not may_read:
        return ()
    try:
        notes: list[dict[str, Any]] = list((store if store is not None else open_store()).export(gemeente))
    except Exception:  # noqa: BLE001 - the pack says so itself when notes cannot be read
        return ()
    return tuple((n["id"], n["updated_at"]) for n in notes)
