"""Every indicator by origin group of a gemeente: the CBS tables and the gemeente's own data.

:func:`load_by_origin` is what the Integratie page, the Kaart's gap indicators, the briefing
pack and the CLI call (the by-origin half of :mod:`loaders.repository`). It decides in one place:

* a demo gemeente (``GM99xx``) or ``demo=True`` gives the fictitious own data of the
  Voorbeeldgemeente and asks CBS nothing;
* otherwise every requested CBS table (default: all of ``data/origin_tables.toml`` except the
  population tables that only count) comes from the cache or CBS
  (:func:`loaders.cbs_origin.load_origin_table`), and the gemeente's imported own data is
  added (:func:`loaders.own_data.load_own_data`);
* a table that cannot be loaded does not stop the others: its Dutch reason is in
  ``problems``, and what did load is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from buurtmonitor.integratie import combined
from buurtmonitor.integratie.catalogue import OriginCatalogue, load_origin_catalogue
from buurtmonitor.integratie.harmonise import ResolveError
from buurtmonitor.integratie.model import OriginProvenance

from . import own_data
from .cache import CacheStore, Store
from .cbs_origin import load_origin_table
from .demo import is_demo_scope
from .http import NotFound, SourceUnavailable
from .settings import Settings, get_settings
from .stores import open_cache

log = logging.getLogger(__name__)

#: tables that only count inhabitants by country of origin (their own view), not indicators
COUNT_ONLY_KINDS = frozenset({"count"})


@dataclass(frozen=True)
class TableProblem:
    """A table that could not be loaded, with the reason in Dutch."""

    table_id: str
    title: str
    message: str


@dataclass(frozen=True)
class LoadedByOrigin:
    """The combined frame (:data:`buurtmonitor.integratie.combined.COMBINED_COLUMNS`) of a scope.

    ``sources`` are the CBS tables that served rows, ``own_sources`` the source lines of the own
    data ("eigen gegevens van …"), ``problems`` the tables that failed, ``warnings`` Dutch
    notes for the visitor (a fallback to the other CBS API, damaged own data), ``fictitious``
    whether the figures are the made-up ones of the Voorbeeldgemeente.
    """

    scope: str
    frame: pd.DataFrame
    sources: tuple[OriginProvenance, ...] = ()
    own_sources: tuple[str, ...] = ()
    problems: tuple[TableProblem, ...] = ()
    warnings: tuple[str, ...] = ()
    fictitious: bool = False

    @property
    def empty(self) -> bool:
        return self.frame.empty


def indicator_tables(catalogue: OriginCatalogue | None = None) -> list[str]:
    """The catalogue's tables that have at least one indicator that is not a count."""
    cat = catalogue or load_origin_catalogue()
    return [t.id for t in cat.tables.values()
            if any(cat.indicators[i].kind not in COUNT_ONLY_KINDS for i in t.indicator_ids)]


def load_by_origin(scope: str, *, tables: Sequence[str] | None = None, demo: bool = False,
                   refresh: bool = False, own: bool = True, own_levels: tuple[str, ...] = ("gemeente",),
                   store: Store | None = None, settings: Settings | None = None,
                   catalogue: OriginCatalogue | None = None) -> LoadedByOrigin:
    """Indicators by origin group of ``scope``.

    Parameters
    ----------
    scope
        A gemeente code (that gemeente and the country) or ``"gemeenten"`` (every gemeente of
        each table and the country; own data is then left out).
    tables
        CBS table ids (default: :func:`indicator_tables`).
    demo
        The fictitious data of the Voorbeeldgemeente (implied by a ``GM99xx`` scope).
    refresh
        Ask CBS even when a table is cached.
    own, own_levels
        Add the gemeente's own data, of these levels (``"gemeente"``, ``"wijk"``, ``"buurt"``).

    Returns
    -------
    LoadedByOrigin
    """
    s = settings or get_settings()
    cat = catalogue or load_origin_catalogue()
    st = store if store is not None else open_cache(s)
    if demo or is_demo_scope(scope):
        got = own_data.load_own_data(scope if is_demo_scope(scope) else own_data.DEMO_GEMEENTE, demo=True)
        frame = combined.own_as_origin_frame(got.frame, levels=own_levels, catalogue=cat)
        lines = tuple(sorted({str(x) for x in frame["source"].dropna()}))
        return LoadedByOrigin(scope, frame, own_sources=lines, fictitious=True)
    parts: list[pd.DataFrame] = []
    sources: list[OriginProvenance] = []
    problems: list[TableProblem] = []
    warnings: list[str] = []
    for tid in (tables if tables is not None else indicator_tables(cat)):
        spec = cat.table(tid)
        try:
            loaded = load_origin_table(spec.id, scope, refresh=refresh, store=st, settings=s, catalogue=cat)
        except NotFound:
            problems.append(TableProblem(spec.id, spec.title, f"CBS kent tabel {spec.id} niet (meer)."))
            continue
        except SourceUnavailable as exc:
            log.warning("Tabel %s voor %s: %s", spec.id, scope, exc)
            problems.append(TableProblem(spec.id, spec.title, f"Tabel {spec.id} kon nu niet bij CBS worden "
                                                              "opgehaald en staat niet in de cache."))
            continue
        except ResolveError as exc:
            log.warning("Tabel %s past niet bij de catalogus: %s", spec.id, exc)
            problems.append(TableProblem(spec.id, spec.title, f"Tabel {spec.id} is bij CBS anders ingedeeld "
                                                              "dan verwacht; de cijfers zijn weggelaten."))
            continue
        parts.append(combined.cbs_as_combined(loaded.frame, source=loaded.provenance.source_line()))
        sources.append(loaded.provenance)
        if loaded.warning:
            warnings.append(loaded.warning)
    own_lines: tuple[str, ...] = ()
    if own and scope != "gemeenten":
        got = own_data.load_own_data(scope, store=st if isinstance(st, CacheStore) else None)
        if got.warning:
            warnings.append(got.warning)
        if not got.frame.empty:
            own_frame = combined.own_as_origin_frame(got.frame, levels=own_levels, catalogue=cat)
            parts.append(own_frame)
            own_lines = tuple(sorted({str(x) for x in own_frame["source"].dropna()}))
    return LoadedByOrigin(scope, combined.combine(*parts), tuple(sources), own_lines, tuple(problems),
                          tuple(warnings))
