"""Reads the catalogues in ``data/``: KWB tables, variables and indicators, origin groups,
guidance resources. The catalogues are data; this module only parses and checks them."""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "data"

SCHEMES = ("herkomst", "migratieachtergrond")


class CatalogueError(ValueError):
    """A catalogue file is inconsistent (message in Dutch)."""


@dataclass(frozen=True)
class KwbTable:
    year: int
    id: str
    scheme: str


@dataclass(frozen=True)
class Variable:
    id: str
    label: str
    unit: str
    odata: tuple[dict, ...] = ()
    kwb: tuple[str, ...] = ()
    wbk: tuple[str, ...] = ()
    wbk_pct_of: str | None = None
    derive: str | None = None

    def derive_terms(self) -> list[tuple[int, str]]:
        """``"a - b + c"`` -> [(+1, "a"), (-1, "b"), (+1, "c")]."""
        if not self.derive:
            return []
        tokens = re.findall(r"[+-]|[a-z_0-9]+", self.derive)
        terms, sign = [], 1
        for tok in tokens:
            if tok in "+-":
                sign = 1 if tok == "+" else -1
            else:
                terms.append((sign, tok))
                sign = 1
        return terms


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    theme: str
    kind: str                      # share | count | value
    unit: str
    definition: str
    scheme: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    variable: str | None = None
    scale: float = 100.0
    #: what ``n`` counts, plural, as a sentence needs it ("inwoners", "huishoudens", "woningen")
    n_label: str = "inwoners"
    #: the variable that is ``n`` of a value indicator (default: inwoners); a share's n is
    #: its denominator
    n_variable: str | None = None
    #: the small-area rule (:mod:`buurtmonitor.small_areas`) hides the value of an area whose
    #: n is below the minimum; False for counts and densities
    small_area_rule: bool = True

    @property
    def inputs(self) -> list[str]:
        if self.kind == "share":
            return [self.numerator, self.denominator]  # type: ignore[list-item]
        return [self.variable]  # type: ignore[list-item]

    def applies_to(self, scheme: str) -> bool:
        return self.scheme is None or self.scheme == scheme


@dataclass(frozen=True)
class OriginGroup:
    id: str
    label: str
    variable: str
    exclusive: bool
    colour: str
    parent: str | None = None


@dataclass(frozen=True)
class OriginScheme:
    id: str
    label: str
    note: str
    groups: tuple[OriginGroup, ...]

    @property
    def exclusive_groups(self) -> list[OriginGroup]:
        return [g for g in self.groups if g.exclusive]


@dataclass(frozen=True)
class Resource:
    id: str
    title: str
    publisher: str
    year: int | None
    url: str
    url_is_publisher_page: bool
    last_checked: str
    description: str
    themes: tuple[str, ...]
    views: tuple[str, ...]
    indicators: tuple[str, ...]
    why: dict = field(default_factory=dict)   # view id -> one line "why it helps here"
    priority: dict = field(default_factory=dict)  # view id -> sort order (lower first)
    #: situations (ids of [situations] in resources.toml) the resource is tied to: beside a
    #: view it is shown only when one of them holds (e.g. "Eritrea is a group in the gemeente")
    situations: tuple[str, ...] = ()
    #: origin group ids (data/origin_tables.toml): on the Integratie view only shown when one
    #: of them is a group with figures in the gemeente (empty = always)
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    title_pattern: str
    tables: tuple[KwbTable, ...]
    variables: dict[str, Variable]
    indicators: dict[str, Indicator]
    themes: dict[str, str]
    schemes: dict[str, OriginScheme]
    resources: tuple[Resource, ...]
    #: view id -> menu title (the pages a resource can stand beside)
    views: dict[str, str] = field(default_factory=dict)
    #: guidance themes beyond the indicator themes: id -> label
    resource_themes: dict[str, str] = field(default_factory=dict)
    #: situations a resource can be tied to: id -> Dutch label
    situations: dict[str, str] = field(default_factory=dict)
    #: the small-area rule: a share or rate of an area whose n is below this is not shown
    #: (``[small_areas] min_n`` in indicators.toml)
    small_area_min_n: int = 50

    @property
    def theme_labels(self) -> dict[str, str]:
        """Every theme id a resource may carry -> Dutch label."""
        return {**self.themes, **self.resource_themes}

    # ---- tables
    def table_for_year(self, year: int) -> KwbTable | None:
        return next((t for t in self.tables if t.year == year), None)

    def scheme_for_year(self, year: int) -> str:
        t = self.table_for_year(year)
        if t:
            return t.scheme
        return "herkomst" if year >= 2023 else "migratieachtergrond"

    @property
    def years(self) -> list[int]:
        return sorted(t.year for t in self.tables)

    # ---- indicators
    def indicators_for(self, scheme: str, theme: str | None = None) -> list[Indicator]:
        return [i for i in self.indicators.values()
                if i.applies_to(scheme) and (theme is None or i.theme == theme)]

    def source_variables(self) -> list[Variable]:
        """Variables read from a source (not derived)."""
        return [v for v in self.variables.values() if not v.derive]

    def resources_for(self, view: str, indicator: str | None = None,
                      situations: Iterable[str] = ()) -> list[Resource]:
        """Resources that belong to a view (and, where given, fit the indicator or its theme).

        A resource tied to situations (``situations`` in resources.toml) is only returned when
        one of them is among ``situations`` (the ones that hold for what the view shows, e.g.
        ``"herkomstgroep_eritrea"``); on the Hulpmiddelen view, the whole catalogue, always.
        """
        ind = self.indicators.get(indicator) if indicator else None
        holding = set(situations)
        out = []
        for r in self.resources:
            if view not in r.views:
                continue
            if r.situations and view != "hulpmiddelen" and not holding & set(r.situations):
                continue
            # a resource with a priority for this view always leads it; others must fit
            # the indicator (listed) or its theme
            if ind is not None and r.indicators and view not in r.priority \
                    and ind.id not in r.indicators and ind.theme not in r.themes:
                continue
            out.append(r)
        return sorted(out, key=lambda r: (r.priority.get(view, 50), r.title))

    def search_text(self, r: Resource) -> str:
        """Everything the search looks in: title, description, publisher, the labels of the
        resource's themes and of its situations (folded: lower case, no accents)."""
        labels = self.theme_labels
        parts = [r.title, r.description, r.publisher, *[labels.get(t, t) for t in r.themes],
                 *[self.situations.get(s, s) for s in r.situations]]
        return fold(" ".join(parts))

    def search_resources(self, query: str = "", themes: Iterable[str] = (),
                         views: Iterable[str] = ()) -> list[Resource]:
        """Resources in which every word of ``query`` occurs (in :meth:`search_text`; a Dutch
        plural also finds its singular: "jongeren" finds "jongere"), with at least one of
        ``themes`` and one of ``views`` (empty = any), in the Hulpmiddelen order."""
        words = [w for w in fold(query or "").split() if w]
        themes, views = set(themes), set(views)
        out = []
        for r in self.resources:
            text = self.search_text(r)
            if words and not all(any(form in text for form in word_forms(w)) for w in words):
                continue
            if themes and not themes & set(r.themes):
                continue
            if views and not views & set(r.views):
                continue
            out.append(r)
        return sorted(out, key=lambda r: (r.priority.get("hulpmiddelen", 50), r.title))


def fold(text: str) -> str:
    """Lower case without accents: ``"Oekraïne"`` -> ``"oekraine"``."""
    norm = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in norm if not unicodedata.combining(c)).lower()


def word_forms(word: str) -> list[str]:
    """A search word and, for a Dutch plural, its stem: ``"jongeren"`` -> ``["jongeren",
    "jongere"]``, ``"buurten"`` -> ``["buurten", "buurt"]``, ``"gemeentes"`` -> ``[..., "gemeente"]``."""
    forms = [word]
    if len(word) > 4 and word.endswith("en"):
        forms += [word[:-1], word[:-2]]
    elif len(word) > 4 and word.endswith("s"):
        forms.append(word[:-1])
    return forms


def _load(name: str) -> dict:
    path = CATALOGUE_DIR / name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"Catalogus {name} is geen geldige TOML: {exc}") from exc


@functools.lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Parse and check all catalogue files (cached for the process)."""
    tabs = _load("kwb_tables.toml")
    inds = _load("indicators.toml")
    orig = _load("origin_groups.toml")
    res = _load("resources.toml")

    tables = tuple(KwbTable(int(t["year"]), t.get("id", ""), t["scheme"]) for t in tabs.get("table", []))
    variables: dict[str, Variable] = {}
    for v in inds.get("variable", []):
        if v["id"] in variables:
            raise CatalogueError(f"Variabele {v['id']} staat dubbel in indicators.toml")
        variables[v["id"]] = Variable(
            id=v["id"], label=v["label"], unit=v.get("unit", ""),
            odata=tuple(v.get("odata", ())), kwb=tuple(v.get("kwb", ())),
            wbk=tuple(v.get("wbk", ())), wbk_pct_of=v.get("wbk_pct_of"), derive=v.get("derive"))
    indicators: dict[str, Indicator] = {}
    for i in inds.get("indicator", []):
        if i["id"] in indicators:
            raise CatalogueError(f"Indicator {i['id']} staat dubbel in indicators.toml")
        ind = Indicator(
            id=i["id"], label=i["label"], theme=i["theme"], kind=i["kind"], unit=i.get("unit", ""),
            definition=i.get("definition", ""), scheme=i.get("scheme"),
            numerator=i.get("numerator"), denominator=i.get("denominator"),
            variable=i.get("variable"), scale=float(i.get("scale", 100)),
            n_label=str(i.get("n_label", "inwoners")), n_variable=i.get("n_variable"),
            small_area_rule=bool(i.get("small_area_rule", i["kind"] != "count")))
        for name in ind.inputs + ([ind.n_variable] if ind.n_variable else []):
            if name not in variables:
                raise CatalogueError(f"Indicator {ind.id} gebruikt onbekende variabele {name!r}")
        indicators[ind.id] = ind
    for v in variables.values():
        for _, term in v.derive_terms():
            if term not in variables:
                raise CatalogueError(f"Variabele {v.id} leidt af van onbekende variabele {term!r}")
    schemes = {}
    for sid, s in orig.get("scheme", {}).items():
        groups = tuple(OriginGroup(id=g["id"], label=g["label"], variable=g["variable"],
                                   exclusive=bool(g.get("exclusive", False)),
                                   colour=g.get("colour", "#888888"), parent=g.get("parent"))
                       for g in s.get("group", []))
        for g in groups:
            if g.variable not in variables:
                raise CatalogueError(f"Herkomstgroep {g.id} gebruikt onbekende variabele {g.variable!r}")
        schemes[sid] = OriginScheme(id=sid, label=s["label"], note=s.get("note", ""), groups=groups)
    resources = tuple(
        Resource(id=r["id"], title=r["title"], publisher=r["publisher"], year=r.get("year"),
                 url=r["url"], url_is_publisher_page=bool(r.get("url_is_publisher_page", False)),
                 last_checked=str(r.get("last_checked", "")), description=r.get("description", ""),
                 themes=tuple(r.get("themes", ())), views=tuple(r.get("views", ())),
                 indicators=tuple(r.get("indicators", ())), why=dict(r.get("why", {})),
                 priority=dict(r.get("priority", {})), situations=tuple(r.get("situations", ())),
                 groups=tuple(r.get("groups", ())))
        for r in res.get("resource", []))
    views = {str(k): str(v) for k, v in res.get("views", {}).items()}
    themes = dict(inds.get("themes", {}))
    resource_themes = {str(k): str(v) for k, v in res.get("themes", {}).items()}
    situations = {str(k): str(v) for k, v in res.get("situations", {}).items()}
    for r in resources:
        unknown_situations = set(r.situations) - set(situations)
        if unknown_situations:
            raise CatalogueError(f"Handreiking {r.id} noemt onbekende situatie(s) {sorted(unknown_situations)} "
                                 "(zie [situations] in resources.toml)")
        unknown_views = set(r.views) - set(views)
        if unknown_views:
            raise CatalogueError(f"Handreiking {r.id} noemt onbekende weergave(n) {sorted(unknown_views)} "
                                 "(zie [views] in resources.toml)")
        unknown_themes = set(r.themes) - set(themes) - set(resource_themes)
        if unknown_themes:
            raise CatalogueError(f"Handreiking {r.id} noemt onbekend(e) thema('s) {sorted(unknown_themes)} "
                                 "(zie [themes] in resources.toml en indicators.toml)")
    min_n = inds.get("small_areas", {}).get("min_n", 50)
    if not isinstance(min_n, int) or min_n < 0:
        raise CatalogueError("[small_areas] min_n in indicators.toml moet een geheel getal ≥ 0 zijn")
    return Catalogue(title_pattern=tabs.get("title_pattern", "Kerncijfers wijken en buurten {year}"),
                     tables=tables, variables=variables, indicators=indicators,
                     themes=themes, schemes=schemes, resources=resources,
                     views=views, resource_themes=resource_themes, situations=situations,
                     small_area_min_n=min_n)


# ---------------------------------------------------------------------------- lokale kaart
@dataclass(frozen=True)
class WorksheetSection:
    """One section of the lokale-kaart worksheet: ``id`` (the key notes are stored under),
    ``title``, ``prompt`` (the guiding question) and the static lines of its data context
    (``intro`` before the figures, ``outro`` after them; empty when there are none)."""

    id: str
    title: str
    prompt: str
    intro: str = ""
    outro: str = ""


@dataclass(frozen=True)
class MeasureText:
    """How one segregation or diversity measure is explained: ``label``, ``explanation``
    (one paragraph for non-statisticians), ``range`` and ``how_to_read``."""

    id: str
    label: str
    explanation: str
    range: str
    how_to_read: str
    #: reading bands of the literature for this measure only: ((upper bound, word), ...),
    #: ascending; the last bound is the top of the range
    bands: tuple[tuple[float, str], ...] = ()
    #: where the bands come from and what they were made for (one Dutch phrase)
    bands_source: str = ""


@dataclass(frozen=True)
class LokaleKaartTexts:
    """The Dutch texts of the Lokale kaart (``data/lokale_kaart.toml``)."""

    tabs: tuple[str, ...]
    sections: tuple[WorksheetSection, ...]
    measures: dict[str, MeasureText] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    #: words for a place among all gemeenten: ((lowest percentile, words), ...), descending
    percentile_bands: tuple[tuple[float, str], ...] = ()

    def section(self, section_id: str) -> WorksheetSection:
        """The section with ``section_id``; KeyError when there is none."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def text(self, key: str) -> str:
        """A named text (``[texts]``); KeyError with the file name when it is missing."""
        try:
            return self.texts[key]
        except KeyError:
            raise KeyError(f"tekst '{key}' ontbreekt in lokale_kaart.toml") from None


@functools.lru_cache(maxsize=1)
def load_lokale_kaart() -> LokaleKaartTexts:
    """Parse and check ``data/lokale_kaart.toml`` (cached for the process).

    Returns
    -------
    LokaleKaartTexts
        Tabs, worksheet sections (in page order), measure explanations and named texts.

    Raises
    ------
    CatalogueError
        When a section or measure lacks a required field or an id occurs twice.
    """
    raw = _load("lokale_kaart.toml")
    sections = []
    for s in raw.get("section", []):
        try:
            sections.append(WorksheetSection(id=s["id"], title=s["title"], prompt=s["prompt"],
                                             intro=s.get("intro", ""), outro=s.get("outro", "")))
        except KeyError as exc:
            raise CatalogueError(f"Onderdeel van het werkblad mist {exc} in lokale_kaart.toml") from exc
    ids = [s.id for s in sections]
    if len(set(ids)) != len(ids):
        raise CatalogueError("Een onderdeel van het werkblad staat dubbel in lokale_kaart.toml")
    measures: dict[str, MeasureText] = {}
    for mid, m in raw.get("measure", {}).items():
        try:
            bands = tuple((float(b["upto"]), str(b["label"])) for b in m.get("bands", ()))
            measures[mid] = MeasureText(id=mid, label=m["label"], explanation=m["explanation"],
                                        range=m["range"], how_to_read=m["how_to_read"],
                                        bands=bands, bands_source=str(m.get("bands_source", "")))
        except KeyError as exc:
            raise CatalogueError(f"Maat {mid} mist {exc} in lokale_kaart.toml") from exc
        if [b for b, _ in bands] != sorted(b for b, _ in bands):
            raise CatalogueError(f"De banden van maat {mid} staan niet oplopend in lokale_kaart.toml")
    pct = tuple((float(b["from"]), str(b["words"]))
                for b in raw.get("reading", {}).get("percentile_bands", ()))
    if [b for b, _ in pct] != sorted((b for b, _ in pct), reverse=True):
        raise CatalogueError("percentile_bands staan niet aflopend in lokale_kaart.toml")
    return LokaleKaartTexts(tabs=tuple(raw.get("tabs", ())), sections=tuple(sections),
                            measures=measures, texts={k: str(v) for k, v in raw.get("texts", {}).items()},
                            percentile_bands=pct)
