"""Typed reader of ``data/origin_tables.toml``: CBS tables with indicators by origin group.

The catalogue says, per table, which dimension plays which role, which member of each
non-origin dimension is the total to select, which origin member is which project group and
which measure is which project indicator. Everything is matched by prefix (see
:func:`title_matches` and :func:`key_matches`) against the table's own code lists, so no CBS
key is written in code and adding a table is one catalogue entry.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from buurtmonitor.catalogue import CATALOGUE_DIR, SCHEMES, CatalogueError

from .own_catalogue import OwnCatalogue, load_own_catalogue

FILE_NAME = "origin_tables.toml"
APIS = ("v3", "v4")
ROLES = ("region", "period", "origin", "generation", "sex", "person", "age")
KINDS = ("percentage", "amount", "count")
BETTER = ("higher", "lower", "none")
#: roles whose members are kept (all others are fixed to their ``total`` member)
OPEN_ROLES = ("region", "period", "origin")
ELLIPSIS = ("...", "\u2026")


@dataclass(frozen=True)
class OriginGroupDef:
    """A project origin group (``herkomst_nederland``, ``marokko``, ...)."""

    id: str
    label: str
    scheme: str                    # "herkomst" | "migratieachtergrond" | "*" (the total)
    parent: str | None = None
    origin_group: str | None = None  # id in data/origin_groups.toml, where the group is there
    country: bool = False          # one country of origin (Eritrea, Polen, ...), not a group of countries


@dataclass(frozen=True)
class IndicatorDef:
    """A project indicator measured by origin group."""

    id: str
    label: str
    kind: str                      # "percentage" | "amount" | "count"
    unit: str
    decimals: int
    definition: str
    better: str = "none"           # "higher" | "lower" | "none": which way a group is better off

    @property
    def gap_unit(self) -> str | None:
        """The unit of a gap between two groups: ``"pp"`` for percentages, the unit for
        amounts, ``None`` for counts (counts are not compared)."""
        return {"percentage": "pp", "amount": self.unit}.get(self.kind)


@dataclass(frozen=True)
class DimensionSpec:
    """How to find one dimension of a table and what to select in it."""

    role: str
    match: str                     # prefix of the dimension key or title
    total: str | None = None       # title prefix of the member to select (fixed roles)


@dataclass(frozen=True)
class MeasureSpec:
    """One CBS measure of a table mapped to a project indicator."""

    key: str                       # v3 key prefix ("NettoArbeidsparticipatie")
    title: str                     # v4 title ("Netto arbeidsparticipatie")
    indicator: str
    scale: float = 1.0
    n: str | None = None           # indicator id that is this measure's number of persons
    group: str | None = None       # wide tables: the origin group this measure counts
    #: members of a fixed dimension (``split_role``) that are kept besides its total, each as an
    #: indicator of its own: ((member title prefix, indicator id), ...), e.g. born in NL / abroad
    split: tuple[tuple[str, str], ...] = ()
    split_role: str = "generation"


@dataclass(frozen=True)
class OriginTableSpec:
    """One CBS table in the catalogue."""

    id: str
    title: str
    title_inferred: bool
    api: str                       # API tried first: "v3" | "v4"
    scheme: str
    level: str
    years: tuple[int, ...]
    dimensions: tuple[DimensionSpec, ...]
    groups: dict[str, str]         # origin member title prefix -> group id
    measures: tuple[MeasureSpec, ...]

    def dimension(self, role: str) -> DimensionSpec | None:
        return next((d for d in self.dimensions if d.role == role), None)

    @property
    def wide(self) -> bool:
        """True when the origin groups are measures, not a dimension."""
        return self.dimension("origin") is None

    @property
    def indicator_ids(self) -> list[str]:
        return list(dict.fromkeys(m.indicator for m in self.measures))


@dataclass(frozen=True)
class OriginRules:
    min_n: float
    gemeente_prefix: str
    country_prefix: str
    year_pattern: str
    reference_group: dict[str, str] = field(default_factory=dict)
    #: a country of origin is "a group in the gemeente" from this many inhabitants (see the toml)
    country_group_min: float = 50

    def year_of(self, period_key: str) -> int | None:
        """The year of a period key (``"2021JJ00"`` -> 2021); None when it is not a year."""
        m = re.match(self.year_pattern, period_key.strip())
        return int(m.group(1)) if m else None


@dataclass(frozen=True)
class OriginCatalogue:
    rules: OriginRules
    groups: dict[str, OriginGroupDef]
    indicators: dict[str, IndicatorDef]
    tables: dict[str, OriginTableSpec]
    missing_labels: dict[str, str] = field(default_factory=dict)

    def missing_label(self, reason: str | None) -> str:
        """The Dutch label of a ``missing`` reason ("" for None; the key when it has no label)."""
        if reason is None:
            return ""
        return self.missing_labels.get(reason, reason)

    def table(self, table_id: str) -> OriginTableSpec:
        """The table spec by id (case-insensitive); :class:`KeyError` with a Dutch message."""
        for tid, spec in self.tables.items():
            if tid.lower() == table_id.lower():
                return spec
        raise KeyError(f"Tabel {table_id} staat niet in {FILE_NAME}")

    def reference_group(self, scheme: str) -> str:
        return self.rules.reference_group[scheme]

    @property
    def countries(self) -> dict[str, OriginGroupDef]:
        """The groups that are one country of origin (``country = true``), in catalogue order."""
        return {g.id: g for g in self.groups.values() if g.country}

    def tables_for(self, indicator: str) -> list[OriginTableSpec]:
        return [t for t in self.tables.values() if indicator in t.indicator_ids]


# ---------------------------------------------------------------------------------- matching
def normalise_title(text: str) -> str:
    """Lower case, accents kept, hyphens/punctuation as spaces, spaces collapsed, a trailing
    ``...`` removed: ``"Beroeps- en niet-beroepsbevolking"`` -> ``"beroeps en niet beroepsbevolking"``."""
    t = unicodedata.normalize("NFC", text or "").strip()
    for e in ELLIPSIS:
        if t.endswith(e):
            t = t[: -len(e)]
    t = re.sub(r"[^\w()]+", " ", t.lower())
    return re.sub(r"\s+", " ", t).strip()


def _is_cut(text: str) -> bool:
    return (text or "").strip().endswith(ELLIPSIS)


def title_matches(title: str, pattern: str) -> int:
    """How well a CBS title matches a catalogue title prefix: the pattern's length, or 0.

    The title matches when it starts with the pattern at a word boundary, or when CBS cut the
    title off (``...``) and the pattern starts with what is left of it.
    """
    t, p = normalise_title(title), normalise_title(pattern)
    if not p or not t:
        return 0
    if t == p:
        return len(p) + 1
    if t.startswith(p) and not t[len(p)].isalnum():
        return len(p)
    if _is_cut(title) and p.startswith(t):
        return len(t)
    return 0


def key_matches(key: str, prefix: str) -> bool:
    """A CBS key starts with ``prefix`` followed by nothing or ``_N`` (``"Werknemer"`` matches
    ``"Werknemer_4"`` but not ``"WerknemerMetVasteArbeidsrelatie_5"``)."""
    k = (key or "").strip()
    return k == prefix or (k.startswith(prefix) and re.fullmatch(r"_\d+", k[len(prefix):]) is not None)


def best_title_match(title: str, patterns: dict[str, str]) -> str | None:
    """The value of the longest pattern in ``patterns`` (pattern -> value) matching ``title``."""
    best, score = None, 0
    for pattern, value in patterns.items():
        s = title_matches(title, pattern)
        if s > score:
            best, score = value, s
    return best


# ---------------------------------------------------------------------------------- loading
def _req(d: dict, name: str, where: str):
    if name not in d:
        raise CatalogueError(f"{FILE_NAME}: {where} mist '{name}'")
    return d[name]


def parse_catalogue(raw: dict) -> OriginCatalogue:
    """Check and type a parsed ``origin_tables.toml`` (raises :class:`CatalogueError`)."""
    r = raw.get("rules", {})
    rules = OriginRules(min_n=float(r.get("min_n", 10)), gemeente_prefix=r.get("gemeente_prefix", "GM"),
                        country_prefix=r.get("country_prefix", "NL"),
                        year_pattern=r.get("year_pattern", r"^(\d{4})JJ00$"),
                        reference_group=dict(r.get("reference_group", {})),
                        country_group_min=float(r.get("country_group_min", 50)))
    groups: dict[str, OriginGroupDef] = {}
    for g in raw.get("group", []):
        gid = _req(g, "id", "een groep")
        if gid in groups:
            raise CatalogueError(f"{FILE_NAME}: groep {gid} staat dubbel")
        scheme = g.get("scheme", "*")
        if scheme != "*" and scheme not in SCHEMES:
            raise CatalogueError(f"{FILE_NAME}: groep {gid} heeft onbekende indeling {scheme!r}")
        groups[gid] = OriginGroupDef(id=gid, label=_req(g, "label", f"groep {gid}"), scheme=scheme,
                                     parent=g.get("parent"), origin_group=g.get("origin_group"),
                                     country=bool(g.get("country", False)))
    for g in groups.values():
        if g.parent and g.parent not in groups:
            raise CatalogueError(f"{FILE_NAME}: groep {g.id} heeft onbekende bovengroep {g.parent!r}")
    for scheme, gid in rules.reference_group.items():
        if gid not in groups or groups[gid].scheme != scheme:
            raise CatalogueError(f"{FILE_NAME}: referentiegroep {gid!r} hoort niet bij indeling {scheme}")
    indicators: dict[str, IndicatorDef] = {}
    for iid, i in raw.get("indicator", {}).items():
        kind = _req(i, "kind", f"indicator {iid}")
        if kind not in KINDS:
            raise CatalogueError(f"{FILE_NAME}: indicator {iid} heeft onbekend soort {kind!r}")
        better = i.get("better", "none")
        if better not in BETTER:
            raise CatalogueError(f"{FILE_NAME}: indicator {iid} heeft onbekende richting {better!r}")
        indicators[iid] = IndicatorDef(id=iid, label=_req(i, "label", f"indicator {iid}"), kind=kind,
                                       unit=i.get("unit", ""), decimals=int(i.get("decimals", 0)),
                                       definition=i.get("definition", ""), better=better)
    tables: dict[str, OriginTableSpec] = {}
    for t in raw.get("table", []):
        tid = _req(t, "id", "een tabel")
        where = f"tabel {tid}"
        if tid in tables:
            raise CatalogueError(f"{FILE_NAME}: {where} staat dubbel")
        api = t.get("api", "v3")
        scheme = _req(t, "scheme", where)
        if api not in APIS:
            raise CatalogueError(f"{FILE_NAME}: {where} heeft onbekende api {api!r}")
        if scheme not in SCHEMES:
            raise CatalogueError(f"{FILE_NAME}: {where} heeft onbekende indeling {scheme!r}")
        dims = []
        for d in t.get("dimension", []):
            role = _req(d, "role", where)
            if role not in ROLES:
                raise CatalogueError(f"{FILE_NAME}: {where} heeft onbekende rol {role!r}")
            if role not in OPEN_ROLES and not d.get("total"):
                raise CatalogueError(f"{FILE_NAME}: {where}, dimensie {role} mist 'total'")
            dims.append(DimensionSpec(role=role, match=_req(d, "match", where), total=d.get("total")))
        if not any(d.role == "region" for d in dims):
            raise CatalogueError(f"{FILE_NAME}: {where} heeft geen regiodimensie")
        measures = []
        for m in t.get("measure", []):
            ms = MeasureSpec(key=_req(m, "key", where), title=m.get("title", m["key"]),
                             indicator=_req(m, "indicator", where), scale=float(m.get("scale", 1)),
                             n=m.get("n"), group=m.get("group"),
                             split=tuple((str(k), str(v)) for k, v in m.get("split", {}).items()),
                             split_role=str(m.get("split_role", "generation")))
            if ms.split and not any(d.role == ms.split_role and d.role not in OPEN_ROLES for d in dims):
                raise CatalogueError(f"{FILE_NAME}: {where}: maat {ms.key} splitst naar {ms.split_role!r}, "
                                     "maar die vaste dimensie staat niet in de tabel")
            for ref in (ms.indicator, ms.n, *[i for _, i in ms.split]):
                if ref is not None and ref not in indicators:
                    raise CatalogueError(f"{FILE_NAME}: {where} gebruikt onbekende indicator {ref!r}")
            measures.append(ms)
        ids = {m.indicator for m in measures}
        for m in measures:
            if m.n is not None and m.n not in ids:
                raise CatalogueError(f"{FILE_NAME}: {where}: n {m.n!r} van {m.indicator} is geen maat van de tabel")
        has_origin = any(d.role == "origin" for d in dims)
        tgroups = dict(t.get("groups", {}))
        if has_origin and not tgroups:
            raise CatalogueError(f"{FILE_NAME}: {where} heeft een herkomstdimensie maar geen [groups]")
        if not has_origin and any(m.group is None for m in measures):
            raise CatalogueError(f"{FILE_NAME}: {where} heeft geen herkomstdimensie: elke maat heeft 'group' nodig")
        for gid in list(tgroups.values()) + [m.group for m in measures if m.group]:
            if gid not in groups:
                raise CatalogueError(f"{FILE_NAME}: {where} gebruikt onbekende groep {gid!r}")
            if groups[gid].scheme not in ("*", scheme):
                raise CatalogueError(f"{FILE_NAME}: {where} ({scheme}) gebruikt groep {gid} van een andere indeling")
        tables[tid] = OriginTableSpec(
            id=tid, title=_req(t, "title", where), title_inferred=bool(t.get("title_inferred", False)),
            api=api, scheme=scheme, level=t.get("level", "gemeente"),
            years=tuple(int(y) for y in t.get("years", ())), dimensions=tuple(dims), groups=tgroups,
            measures=tuple(measures))
    return OriginCatalogue(rules=rules, groups=groups, indicators=indicators, tables=tables,
                           missing_labels={str(k): str(v) for k, v in raw.get("missing_labels", {}).items()})


def read_catalogue(path: Path | str) -> OriginCatalogue:
    """Parse a catalogue file (for tests of other catalogues; the app uses :func:`load_origin_catalogue`)."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{FILE_NAME} is geen geldige TOML: {exc}") from exc
    return parse_catalogue(raw)


def with_own_indicators(cat: OriginCatalogue, own: OwnCatalogue) -> OriginCatalogue:
    """``cat`` with the indicators and groups that own data (``data/own_indicators.toml``,
    ``[[by_origin_group]]`` of ``data/origin_groups.toml``) adds: one catalogue of everything
    measured by origin group.

    An indicator id defined in both files is one indicator with ``origin_tables.toml``'s
    definition. An own indicator of kind ``share`` in % becomes a ``percentage``, any other an
    ``amount``. A group of ``origin_groups.toml`` that a CBS group links to (``origin_group``)
    is that CBS group (:func:`own_group_map`); the countries of origin and other groups without
    a CBS twin are added with their own scheme, or ``"*"`` when they exist in either scheme
    (countries of origin).
    """
    indicators = dict(cat.indicators)
    for ind in own.indicators.values():
        if ind.id in indicators:
            continue
        pct = ind.kind == "share" and ind.unit.label == "%"
        indicators[ind.id] = IndicatorDef(id=ind.id, label=ind.label, kind="percentage" if pct else "amount",
                                          unit=ind.unit.label, decimals=0 if pct else 1,
                                          definition=ind.definition, better=ind.better)
    groups = dict(cat.groups)
    linked = own_group_map(cat)
    for g in own.groups.values():
        if g.id in linked or g.id in groups:
            continue
        groups[g.id] = OriginGroupDef(id=g.id, label=g.label, scheme=g.scheme or "*",
                                      origin_group=g.id if g.scheme else None)
    return OriginCatalogue(rules=cat.rules, groups=groups, indicators=indicators, tables=cat.tables,
                           missing_labels=cat.missing_labels)


def own_group_map(cat: OriginCatalogue) -> dict[str, str]:
    """Group id of ``data/origin_groups.toml`` -> the CBS group id of this catalogue that
    links to it (``origin_group``); ``totaal`` is ``totaal``."""
    out = {"totaal": "totaal"}
    for g in cat.groups.values():
        if g.origin_group:
            out.setdefault(g.origin_group, g.id)
    return out


@functools.lru_cache(maxsize=1)
def load_origin_catalogue() -> OriginCatalogue:
    """The packaged ``data/origin_tables.toml`` with the own-data indicators and groups
    (:func:`with_own_indicators`), parsed once per process."""
    return with_own_indicators(read_catalogue(CATALOGUE_DIR / FILE_NAME), load_own_catalogue())
