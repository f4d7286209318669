"""What every part of a council briefing shares: the views, the formats, the Dutch error of
an export that cannot be made, :class:`Sources` (where the builders get their tables,
boundaries, years and notes) and small helpers. Pure: the loading itself is handed in by the
application layer (:mod:`app.briefing_data`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from buurtmonitor import analysis
from buurtmonitor.catalogue import Indicator, load_catalogue
from buurtmonitor.exports.items import ExportItem
from buurtmonitor.maps.geometry import MapGeometry, prepare_geometry
from buurtmonitor.model import AreaTable

ProgressCallback = Callable[[float, str], None]

#: view id (= the view ids of the guidance catalogue) -> Dutch name, in pack order
VIEWS: dict[str, str] = {
    "kaart": "Kaart",
    "herkomst": "Herkomst: samenstelling",
    "gebiedsprofiel": "Gebiedsprofiel",
    "ontwikkeling": "Ontwikkeling",
    "integratie": "Integratie naar herkomst",
    "lokale_kaart": "Lokale kaart: maten en notities",
}
#: other spellings accepted for a view id
VIEW_ALIASES = {
    "map": "kaart", "herkomst-samenstelling": "herkomst", "herkomst_samenstelling": "herkomst",
    "samenstelling": "herkomst", "composition": "herkomst", "profiel": "gebiedsprofiel",
    "profile": "gebiedsprofiel", "trend": "ontwikkeling", "lokale-kaart": "lokale_kaart",
    "lokale kaart": "lokale_kaart",
    "integratie naar herkomst": "integratie", "herkomstgroepen": "integratie",
}
DEFAULT_INDICATOR = "pct_herkomst_buiten_europa"
#: formats of :func:`export_indicator`
FORMATS = ("png", "svg", "pdf", "csv", "xlsx", "pptx", "html")
#: at most this many areas in the composition chart of an export (all are in the table)
CHART_AREAS = 20
#: guidance resources on the page of a view in a PDF pack (the most relevant first, by
#: catalogue priority). 0: a view keeps its page to itself (figure, key figures,
#: definitions, source) and all resources of the chosen views follow once, on a closing page
PACK_RESOURCES = 0
#: at most this many indicators in the profile chart of an export (all are in the table)
PROFILE_ROWS = 14



class ExportError(ValueError):
    """An export that cannot be made; ``str(exc)`` is Dutch and meant for the user.

    A :class:`ValueError`, so the command line turns it into a message and a non-zero exit
    code. A missing browser for PNG/SVG/PDF arrives as this error, with the Dutch reason of
    :class:`~buurtmonitor.export.StaticExportUnavailable` and the advice to use HTML."""


# ----------------------------------------------------------------------------- loading
@dataclass
class Sources:
    """Where the builders get tables, boundaries, years and notes, remembered for one export.

    The loaders are handed in by the application layer (:func:`app.briefing_data.repository_sources`
    for the command line, :func:`app.briefing_data.page_sources` for the dashboard's cached
    loaders); a failure is remembered, so it is not retried within one export.

    Parameters
    ----------
    table_loader : callable
        ``(year, scope) -> AreaTable`` with ``scope`` as in ``repository.load_table``.
    geo_loader : callable, optional
        ``(year, level, gemeente) -> GeoDataFrame`` already prepared for the web; without it
        the items have no map (and say why).
    years_loader : callable, optional
        ``gemeente -> years`` with data (for the development over time and change signals).
    notes_loader : callable, optional
        ``gemeente -> notes`` as :meth:`loaders.notes.NotesStore.export` gives them.
    origin_loader : callable, optional
        ``gemeente -> figures by origin`` as :func:`loaders.by_origin.load_by_origin` gives
        them (for the Integratie view).
    """

    table_loader: Callable[[int, str], AreaTable]
    geo_loader: Callable[[int, str, str], Any] | None = None
    years_loader: Callable[[str], Sequence[int]] | None = None
    notes_loader: Callable[[str], list[dict[str, Any]]] | None = None
    origin_loader: Callable[[str], Any] | None = None
    _tables: dict = field(default_factory=dict, repr=False)
    _origin: dict = field(default_factory=dict, repr=False)
    _geoms: dict = field(default_factory=dict, repr=False)

    def table(self, year: int, scope: str) -> AreaTable:
        """The table of ``scope`` in ``year`` (loaded once per export)."""
        key = (int(year), scope)
        if key not in self._tables:
            try:
                self._tables[key] = self.table_loader(int(year), scope)
            except Exception as exc:  # noqa: BLE001 - remembered: not retried within one export
                self._tables[key] = exc
        got = self._tables[key]
        if isinstance(got, Exception):
            raise got
        return got

    def geometry(self, year: int, level: str, gemeente: str) -> MapGeometry:
        """Boundaries of ``level`` in ``gemeente`` as a :class:`~buurtmonitor.maps.geometry.MapGeometry`."""
        key = (int(year), level, gemeente)
        if key not in self._geoms:
            try:
                if self.geo_loader is None:
                    raise LookupError("geen bron voor grenzen opgegeven")
                gdf = self.geo_loader(int(year), level, gemeente)
                self._geoms[key] = prepare_geometry(gdf, level, key=f"{gemeente}-{level}-{year}")
            except Exception as exc:  # noqa: BLE001
                self._geoms[key] = exc
        got = self._geoms[key]
        if isinstance(got, Exception):
            raise got
        return got

    def available_years(self, gemeente: str) -> list[int]:
        """The years with data for ``gemeente``, ascending (empty without a years loader)."""
        if self.years_loader is None:
            return []
        return sorted(int(y) for y in self.years_loader(gemeente))

    def by_origin(self, gemeente: str) -> Any:
        """The figures by origin of ``gemeente`` (loaded once per export)."""
        if gemeente not in self._origin:
            try:
                if self.origin_loader is None:
                    raise LookupError("geen bron voor cijfers naar herkomst opgegeven")
                self._origin[gemeente] = self.origin_loader(gemeente)
            except Exception as exc:  # noqa: BLE001 - remembered: not retried within one export
                self._origin[gemeente] = exc
        got = self._origin[gemeente]
        if isinstance(got, Exception):
            raise got
        return got

    def notes(self, gemeente: str) -> list[dict[str, Any]]:
        """The worksheet notes of ``gemeente`` (empty without a notes loader)."""
        return list(self.notes_loader(gemeente)) if self.notes_loader is not None else []


def need_sources(sources: Sources | None, what: str) -> Sources:
    """``sources``, or a TypeError that names what the caller did not hand in."""
    if sources is None:
        raise TypeError(f"sources is needed to load {what}; pass sources= or the data itself")
    return sources


# ----------------------------------------------------------------------------- helpers
def _missing(x: Any) -> bool:
    try:
        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def normalise_view(view: str) -> str:
    """A view id of :data:`VIEWS` (aliases accepted); ValueError (Dutch) otherwise."""
    v = str(view).strip().lower()
    v = VIEW_ALIASES.get(v, v)
    if v not in VIEWS:
        raise ValueError(f"Onbekende weergave '{view}'. Kies uit: {', '.join(VIEWS)}.")
    return v


def check_indicator(indicator: str, year: int) -> Indicator:
    """The catalogue indicator, or a ValueError with a Dutch message: unknown id (with how
    to list the ids), or an origin indicator of the other classification (the 2022 → 2023
    break, with the indicator to use instead)."""
    cat = load_catalogue()
    ind = cat.indicators.get(str(indicator))
    if ind is None:
        raise ExportError(
            f"Onbekende indicator '{indicator}'. Bekijk de beschikbare id's met: "
            "python -m buurtmonitor indicators")
    scheme = cat.scheme_for_year(int(year))
    if not ind.applies_to(scheme):
        other = analysis.comparable_indicators(ind.id).get(scheme)
        hint = (f" Gebruik voor {year} bijvoorbeeld '{other}' ({cat.indicators[other].label}); "
                "dat is een vergelijkbare, maar niet dezelfde groep." if other else
                f" Kies een indicator van de indeling '{cat.schemes[scheme].label}'"
                " (python -m buurtmonitor indicators).")
        own = ("migratieachtergrond (tot en met 2022)" if ind.scheme == "migratieachtergrond"
               else "herkomst (vanaf 2023)")
        raise ExportError(
            f"Indicator '{ind.id}' ({ind.label}) hoort bij de CBS-indeling naar {own} en bestaat "
            f"niet in {year}. CBS is in 2023 overgestapt van migratieachtergrond (westers / "
            "niet-westers) naar herkomstland (Europa / buiten Europa); de groepen zijn anders "
            "afgebakend en de cijfers van voor en na de breuk 2022 → 2023 zijn niet vergelijkbaar."
            + hint)
    return ind


def _check_level(level: str) -> str:
    if level not in ("wijk", "buurt"):
        raise ExportError(f"Onbekend niveau '{level}': kies wijk of buurt.")
    return level


def gemeente_name(table: AreaTable, gemeente: str) -> str:
    row = table.row(gemeente)
    return str(row["name"]) if row is not None else gemeente


def _definitions(ids: Sequence[str]) -> list[dict]:
    cat = load_catalogue()
    out = []
    for i in dict.fromkeys(ids):
        ind = cat.indicators.get(i)
        if ind is not None:
            out.append({"id": ind.id, "label": ind.label, "definition": ind.definition,
                        "unit": ind.unit})
    return out


def resource_dict(r, view: str) -> dict:
    """A catalogue resource as a briefing lists it: ``title``, ``publisher``, ``url``, ``why``
    (why it helps with ``view``) and ``link`` (where the link goes, in words)."""
    return {"title": r.title, "publisher": r.publisher, "url": r.url,
            "why": r.why.get(view) or r.description, "link": r.link_note}


def resources(view: str, indicator: str | None = None) -> list[dict]:
    """The guidance resources of the catalogue for ``view`` (and indicator), as dicts
    (:func:`resource_dict`)."""
    return [resource_dict(r, view) for r in load_catalogue().resources_for(view, indicator)]


def briefing_resources() -> list[dict]:
    """The resources written for the council (``in_briefing`` in the catalogue): in every
    briefing pack, whatever its views."""
    return [resource_dict(r, "briefing") for r in load_catalogue().resources if r.in_briefing]


def _areas_of(table: AreaTable, gemeente: str, level: str) -> pd.DataFrame:
    d = table.data
    return d[(d["level"] == level) & (d["gemeente_code"] == gemeente)]


def _scope_table(table: AreaTable, gemeente: str) -> AreaTable:
    """Only the gemeente, its wijken and buurten, and Nederland."""
    d = table.data
    keep = (d["code"] == gemeente) | (d["gemeente_code"] == gemeente) | (d["level"] == "land")
    return table.select(keep)


def _unavailable_item(view: str, exc: BaseException, year: int, gemeente: str) -> ExportItem:
    """Placeholder for a view that could not be made (the rest of the pack still is)."""
    return ExportItem(
        title=VIEWS.get(view, view), subtitle=f"{gemeente} · {year}",
        key_figures=[f"Deze weergave kon niet worden gemaakt: {exc}"],
        source_line="Bron: CBS, Kerncijfers wijken en buurten", years=[int(year)],
        resources=resources(view))


def first_sentence(text: str) -> str:
    """"Eerste zin. Tweede zin." -> "Eerste zin." (the full explanation is on the page)."""
    m = re.match(r"(.+?[.!?])(\s+[A-Z(]|$)", str(text).strip(), flags=re.S)
    return m.group(1) if m else str(text).strip()


def call_progress(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    """Report ``fraction`` (clipped to 0–1); a broken progress bar never breaks an export."""
    if progress is not None:
        try:
            progress(max(0.0, min(1.0, fraction)), message)
        except Exception:  # noqa: BLE001 - a broken progress bar must not break the export
            pass
