"""The catalogues behind indicators by origin group: units, indicators and origin groups.

Read from ``data/own_indicators.toml`` (units, indicators) and
``data/origin_groups.toml`` (the groups of both CBS schemes plus the ``by_origin_group``
entries: countries of origin and the whole population). Pure: it only parses packaged TOML.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property

from buurtmonitor.catalogue import CATALOGUE_DIR, CatalogueError, load_catalogue

OWN_INDICATORS_FILE = "own_indicators.toml"
ORIGIN_GROUPS_FILE = "origin_groups.toml"


@dataclass(frozen=True)
class Unit:
    """A unit of an indicator by origin group.

    ``value = teller / noemer * scale``; a value must lie in ``[min, max]`` (None: unbounded).
    """

    id: str
    label: str
    aliases: tuple[str, ...]
    min: float | None
    max: float | None
    scale: float

    @cached_property
    def _keys(self) -> frozenset[str]:
        return frozenset(_unit_key(a) for a in (self.label, self.id, *self.aliases))

    def matches(self, text: str) -> bool:
        """True when ``text`` (from a file's ``eenheid`` cell) names this unit."""
        return _unit_key(text) in self._keys


@dataclass(frozen=True)
class OwnIndicator:
    """An indicator by origin group (shared ids with the CBS by-origin side)."""

    id: str
    label: str
    kind: str                 # "share" (teller/noemer or waarde) | "value" (waarde only)
    unit: Unit
    definition: str
    numerator_label: str = ""
    denominator_label: str = ""
    better: str = "none"      # "higher" | "lower" | "none": which way a group is better off


@dataclass(frozen=True)
class GroupRef:
    """An origin group that figures by origin may use.

    ``scheme`` is the CBS scheme the group belongs to (None for groups outside the schemes,
    such as countries of origin and ``totaal``); ``parents`` maps a scheme to the group of that
    scheme that contains this one.
    """

    id: str
    label: str
    scheme: str | None
    aliases: tuple[str, ...] = ()
    parents: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OwnCatalogue:
    """Units, indicators and groups for indicators by origin group."""

    units: dict[str, Unit]
    indicators: dict[str, OwnIndicator]
    groups: dict[str, GroupRef]

    @cached_property
    def _group_names(self) -> dict[str, GroupRef]:
        out: dict[str, GroupRef] = {}
        for g in self.groups.values():
            for name in (g.id, g.label, *g.aliases):
                out.setdefault(_name_key(name), g)
        return out

    @cached_property
    def _indicator_names(self) -> dict[str, OwnIndicator]:
        out: dict[str, OwnIndicator] = {}
        for ind in self.indicators.values():
            for name in (ind.id, ind.label):
                out.setdefault(_name_key(name), ind)
        return out

    def find_group(self, text: str) -> GroupRef | None:
        """The group named by ``text``: its id or its Dutch label (or an alias), any case."""
        return self._group_names.get(_name_key(text))

    def find_indicator(self, text: str) -> OwnIndicator | None:
        """The indicator named by ``text``: its id or its Dutch label, any case."""
        return self._indicator_names.get(_name_key(text))

    def find_unit(self, text: str) -> Unit | None:
        """The unit named by ``text`` (label, id or alias), or None."""
        return next((u for u in self.units.values() if u.matches(text)), None)


def _unit_key(text: str) -> str:
    return re.sub(r"[\s.]+", "", str(text)).casefold()


def _name_key(text: str) -> str:
    t = str(text).strip().casefold()
    t = t.translate(str.maketrans("ëéèêïíöóüúàáç", "eeeeiioouuaac"))
    return re.sub(r"[\s_\-]+", " ", t).strip()


def _read(name: str) -> dict:
    try:
        with (CATALOGUE_DIR / name).open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise CatalogueError(f"Catalogus {name} ontbreekt") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"Catalogus {name} is geen geldige TOML: {exc}") from exc


def _opt_float(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1)
def load_own_catalogue() -> OwnCatalogue:
    """Parse and check the catalogues of indicators by origin group (cached per process).

    Returns
    -------
    OwnCatalogue

    Raises
    ------
    CatalogueError
        When a file is missing, no valid TOML, or inconsistent (message in Dutch).
    """
    raw = _read(OWN_INDICATORS_FILE)
    units: dict[str, Unit] = {}
    for uid, u in raw.get("unit", {}).items():
        units[uid] = Unit(id=uid, label=u["label"], aliases=tuple(u.get("aliases", ())),
                          min=_opt_float(u.get("min")), max=_opt_float(u.get("max")),
                          scale=float(u.get("scale", 1)))
    indicators: dict[str, OwnIndicator] = {}
    for i in raw.get("indicator", []):
        if i["id"] in indicators:
            raise CatalogueError(f"Indicator {i['id']} staat dubbel in {OWN_INDICATORS_FILE}")
        if i.get("unit") not in units:
            raise CatalogueError(f"Indicator {i['id']} gebruikt onbekende eenheid {i.get('unit')!r}")
        if i.get("kind") not in ("share", "value"):
            raise CatalogueError(f"Indicator {i['id']}: soort moet 'share' of 'value' zijn")
        indicators[i["id"]] = OwnIndicator(
            id=i["id"], label=i["label"], kind=i["kind"], unit=units[i["unit"]],
            definition=i.get("definition", ""), numerator_label=i.get("teller", ""),
            denominator_label=i.get("noemer", ""), better=i.get("better", "none"))
        if indicators[i["id"]].better not in ("higher", "lower", "none"):
            raise CatalogueError(f"Indicator {i['id']}: richting (better) moet higher, lower of none zijn")
    groups: dict[str, GroupRef] = {}
    for scheme in load_catalogue().schemes.values():
        for g in scheme.groups:
            if g.id in groups:
                raise CatalogueError(f"Herkomstgroep {g.id} staat dubbel in {ORIGIN_GROUPS_FILE}")
            parents: tuple[tuple[str, str], ...] = ((scheme.id, g.parent),) if g.parent else ()
            groups[g.id] = GroupRef(id=g.id, label=g.label, scheme=scheme.id, parents=parents)
    for g in _read(ORIGIN_GROUPS_FILE).get("by_origin_group", []):
        if g["id"] in groups:
            raise CatalogueError(f"Herkomstgroep {g['id']} staat dubbel in {ORIGIN_GROUPS_FILE}")
        parents = tuple(sorted((str(k), str(v)) for k, v in dict(g.get("parent", {})).items()))
        for sid, pid in parents:
            if groups.get(pid) is None or groups[pid].scheme != sid:
                raise CatalogueError(f"Herkomstgroep {g['id']}: onbekende bovenliggende groep {pid!r} ({sid})")
        groups[g["id"]] = GroupRef(id=g["id"], label=g["label"], scheme=None,
                                   aliases=tuple(g.get("aliases", ())), parents=parents)
    return OwnCatalogue(units=units, indicators=indicators, groups=groups)
