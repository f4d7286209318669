"""From CBS code lists and rows (OData v3) or observations (OData v4) to ONE long frame.

The loaders fetch; this module only maps. Both APIs are first turned into the same neutral
form (:class:`CodeLists` for the metadata, an observation frame with ``region, period, origin,
measure, value, attribute``), so a table gives the identical harmonised frame whichever API
served it.

The harmonised frame (:data:`FRAME_COLUMNS`), one row per gemeente (or the country), year,
origin group and indicator:

``gemeente_code`` (``GM0228``; ``NL01`` for the country), ``gemeente_name``, ``level``
(``gemeente`` | ``land``), ``year`` (nullable: a table without a period dimension has none),
``group`` and ``indicator`` (project ids from ``data/origin_tables.toml``), ``value`` (float in
the indicator's unit; NaN when missing), ``n`` (the persons the value is computed over, NaN where
not applicable), ``unit``, ``scheme`` (``herkomst`` | ``migratieachtergrond``), ``table_id``,
``api`` (``v3`` | ``v4``), ``missing`` (None, or why the value is missing: :data:`MISSING_EMPTY`,
:data:`MISSING_SUPPRESSED`, :data:`MISSING_SMALL_N`). A missing value is never 0.

Regions that are neither a gemeente nor the country (landsdelen, provincies, COROP,
arbeidsmarktregio's, agglomeraties) are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from buurtmonitor.model import MISSING_EMPTY, MISSING_SUPPRESSED

from .catalogue import (
    OPEN_ROLES,
    MeasureSpec,
    OriginCatalogue,
    OriginRules,
    OriginTableSpec,
    best_title_match,
    key_matches,
    load_origin_catalogue,
    normalise_title,
    title_matches,
)

#: the value is hidden because it rests on fewer persons than ``rules.min_n``
MISSING_SMALL_N = "klein_aantal"
# the labels of the reasons are in data/origin_tables.toml ([missing_labels]):
# OriginCatalogue.missing_label(reason)
#: v4 ``ValueAttribute`` values that mean CBS suppressed the value; any other attribute of a
#: missing value (``Impossible``, ``None``, ...) is "not available"
V4_SUPPRESSED = frozenset({"Confidential", "Unreliable", "Secret"})

FRAME_COLUMNS = ["gemeente_code", "gemeente_name", "level", "year", "group", "indicator", "value",
                 "n", "unit", "scheme", "table_id", "api", "missing"]
OBS_COLUMNS = ["region", "period", "origin", "measure", "value", "attribute"]
#: suffix CBS gives a gemeente whose name clashes with another region ("Utrecht (gemeente)")
GEMEENTE_SUFFIX = " (gemeente)"


class ResolveError(ValueError):
    """The code lists of a table do not fit its catalogue entry (message in Dutch)."""


# ------------------------------------------------------------------------------ code lists
@dataclass(frozen=True)
class Code:
    """One member of a dimension: its key (v3 ``Key`` / v4 ``Identifier``) and title."""

    key: str
    title: str


@dataclass(frozen=True)
class DimensionInfo:
    key: str
    title: str
    kind: str = "Dimension"        # "Dimension" | "GeoDimension" | "TimeDimension" | ...


@dataclass(frozen=True)
class MeasureInfo:
    key: str                       # v3 Topic key / v4 MeasureCodes Identifier
    title: str
    unit: str = ""
    decimals: int | None = None


@dataclass(frozen=True)
class CodeLists:
    """A table's metadata in API-neutral form."""

    table_id: str
    title: str
    dimensions: tuple[DimensionInfo, ...]
    codes: Mapping[str, tuple[Code, ...]]      # dimension key -> members
    measures: tuple[MeasureInfo, ...]


@dataclass(frozen=True)
class Resolution:
    """A catalogue entry matched against a table's code lists."""

    spec: OriginTableSpec
    dims: dict[str, str]                        # role -> dimension key
    fixed: dict[str, str]                       # dimension key -> member key of its total
    origin_members: dict[str, str]              # origin member key -> group id
    measures: dict[str, MeasureSpec]            # CBS measure key -> catalogue measure
    region_titles: dict[str, str]               # region key (stripped) -> title
    region_raw: dict[str, str]                  # region key (stripped) -> key as CBS writes it
    missing_measures: tuple[str, ...] = ()      # catalogue measures the table does not have
    unmapped_origins: tuple[str, ...] = ()      # origin member titles without a group (left out)
    table_title: str = ""
    #: measures split by a member of a fixed dimension (``MeasureSpec.split``): virtual key ->
    #: (CBS measure key, dimension key, member key, the catalogue measure of the split indicator)
    split_measures: dict[str, tuple[str, str, str, MeasureSpec]] = field(default_factory=dict)

    @property
    def measure_keys(self) -> list[str]:
        return list(self.measures)

    def measure_spec(self, key: str) -> MeasureSpec:
        """The catalogue measure of an observation's measure key (a CBS key or a split key)."""
        if key in self.measures:
            return self.measures[key]
        return self.split_measures[key][3]

    @property
    def selected_members(self) -> dict[str, list[str]]:
        """Per fixed dimension the member keys to fetch: its total and any split members."""
        out = {k: [v] for k, v in self.fixed.items()}
        for _, dim, member, _ in self.split_measures.values():
            if member not in out[dim]:
                out[dim].append(member)
        return out

    def split_key(self, measure: str, dim: str, member: str) -> str | None:
        """The split key of ``measure`` for ``member`` of fixed dimension ``dim``, or None."""
        for vkey, (mk, dk, mem, _) in self.split_measures.items():
            if mk == measure and dk == dim and mem.strip() == member:
                return vkey
        return None


def _find_dimension(spec_match: str, dims: Iterable[DimensionInfo]) -> DimensionInfo | None:
    dims = list(dims)
    exact = [d for d in dims if d.key == spec_match or normalise_title(d.title) == normalise_title(spec_match)]
    if exact:
        return exact[0]
    pref = [d for d in dims if d.key.startswith(spec_match)]
    return min(pref, key=lambda d: len(d.key)) if pref else None


def resolve(spec: OriginTableSpec, lists: CodeLists) -> Resolution:
    """Match ``spec`` (a catalogue entry) against ``lists`` (the table's code lists).

    Raises :class:`ResolveError` when a dimension, a total member or every measure is missing.
    """
    dims: dict[str, str] = {}
    fixed: dict[str, str] = {}
    for d in spec.dimensions:
        found = _find_dimension(d.match, lists.dimensions)
        if found is None:
            raise ResolveError(f"Tabel {spec.id}: geen dimensie '{d.match}' ({d.role}) gevonden")
        dims[d.role] = found.key
        if d.role not in OPEN_ROLES:
            members = lists.codes.get(found.key, ())
            best = max(members, key=lambda c: title_matches(c.title, d.total or ""), default=None)
            if best is None or title_matches(best.title, d.total or "") == 0:
                raise ResolveError(f"Tabel {spec.id}: dimensie {found.key} heeft geen lid '{d.total}'")
            fixed[found.key] = best.key
    origin_members: dict[str, str] = {}
    unmapped: list[str] = []
    if "origin" in dims:
        for c in lists.codes.get(dims["origin"], ()):
            gid = best_title_match(c.title, spec.groups)
            if gid is None:
                unmapped.append(c.title)
            else:
                origin_members[c.key] = gid
        if not origin_members:
            raise ResolveError(f"Tabel {spec.id}: geen enkele herkomstgroep herkend")
    measures: dict[str, MeasureSpec] = {}
    missing: list[str] = []
    for m in spec.measures:
        hit = next((mi for mi in lists.measures if key_matches(mi.key, m.key)), None)
        if hit is None:
            scored = [(title_matches(mi.title, m.title), mi) for mi in lists.measures]
            # a title match must be the measure's best catalogue match (longest prefix wins)
            scored = [(s, mi) for s, mi in scored if s and _best_measure(mi, spec) is m]
            hit = max(scored, key=lambda t: t[0])[1] if scored else None
        if hit is None:
            missing.append(m.key)
        else:
            measures[hit.key] = m
    if not measures:
        raise ResolveError(f"Tabel {spec.id}: geen van de maten uit de catalogus gevonden")
    split_measures: dict[str, tuple[str, str, str, MeasureSpec]] = {}
    for mk, m in measures.items():
        if not m.split:
            continue
        dim = dims[m.split_role]
        members = lists.codes.get(dim, ())
        for pattern, indicator in m.split:
            best = max(members, key=lambda c: title_matches(c.title, pattern), default=None)
            if best is None or title_matches(best.title, pattern) == 0 or best.key == fixed[dim]:
                continue                      # the table does not split this way: left out
            split_measures[f"{mk}|{dim}={best.key.strip()}"] = (
                mk, dim, best.key, replace(m, indicator=indicator, n=None, split=()))
    regions = lists.codes.get(dims["region"], ())
    return Resolution(spec=spec, dims=dims, fixed=fixed, origin_members=origin_members,
                      measures=measures, region_titles={c.key.strip(): c.title for c in regions},
                      region_raw={c.key.strip(): c.key for c in regions},
                      missing_measures=tuple(missing), unmapped_origins=tuple(unmapped),
                      table_title=lists.title, split_measures=split_measures)


def _best_measure(mi: MeasureInfo, spec: OriginTableSpec) -> MeasureSpec | None:
    best, score = None, 0
    for m in spec.measures:
        s = title_matches(mi.title, m.title)
        if s > score:
            best, score = m, s
    return best


def scope_regions(res: Resolution, scope: str, rules: OriginRules) -> list[str]:
    """The region keys of ``scope`` as the table writes them (padding kept): the country
    plus one gemeente (``"GM0228"``) or plus every gemeente (``"gemeenten"``).

    Raises :class:`ResolveError` when the gemeente is not in the table.
    """
    country = [raw for key, raw in res.region_raw.items() if key.startswith(rules.country_prefix)]
    if scope == "gemeenten":
        return country + [raw for key, raw in res.region_raw.items() if key.startswith(rules.gemeente_prefix)]
    if scope not in res.region_raw:
        raise ResolveError(f"Gemeente {scope} komt niet voor in tabel {res.spec.id}")
    return country + [res.region_raw[scope]]


# ------------------------------------------------------------------------------ observations
def _num(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, str):
        v = v.strip()
        if v in ("", "."):
            return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def observations_from_v3(rows: Iterable[Mapping[str, Any]], res: Resolution) -> pd.DataFrame:
    """v3 TypedDataSet rows (one per dimension combination, measures as columns, dimension
    values as keys) -> the neutral observation frame (:data:`OBS_COLUMNS`). Rows whose fixed
    dimensions are not the selected total are dropped."""
    reg, per, ori = res.dims["region"], res.dims.get("period"), res.dims.get("origin")
    out: list[tuple] = []
    for r in rows:
        off = _off_total(r, res)
        if off is None:
            continue
        base = (str(r[reg]).strip(), str(r[per]).strip() if per else None,
                str(r[ori]).strip() if ori else None)
        for mk in res.measures:
            key = mk if not off else res.split_key(mk, *off)
            if key is not None:
                out.append((*base, key, _num(r.get(mk)), None))
    return pd.DataFrame(out, columns=OBS_COLUMNS)


def _off_total(r: Mapping[str, Any], res: Resolution) -> tuple[str, str] | tuple[()] | None:
    """``()`` when every fixed dimension of ``r`` is its total; ``(dimension, member)`` when
    exactly one is not (a candidate for a split measure); None otherwise (the row is dropped)."""
    off = [(k, str(r.get(k, "")).strip()) for k, v in res.fixed.items() if str(r.get(k, "")).strip() != v.strip()]
    if not off:
        return ()
    if len(off) == 1 and res.split_measures:
        return off[0]
    return None


def observations_from_v4(obs: Iterable[Mapping[str, Any]], res: Resolution) -> pd.DataFrame:
    """v4 Observations (long: ``Measure``, dimension columns, ``Value``, ``ValueAttribute``)
    -> the neutral observation frame. Observations of other measures or of fixed dimensions
    other than the selected total are dropped."""
    reg, per, ori = res.dims["region"], res.dims.get("period"), res.dims.get("origin")
    out: list[tuple] = []
    for o in obs:
        mk = str(o.get("Measure", "")).strip()
        if mk not in res.measures:
            continue
        off = _off_total(o, res)
        key = None if off is None else mk if not off else res.split_key(mk, *off)
        if key is None:
            continue
        attr = o.get("ValueAttribute")
        out.append((str(o[reg]).strip(), str(o[per]).strip() if per else None,
                    str(o[ori]).strip() if ori else None, key, _num(o.get("Value")),
                    None if attr in (None, "None") else str(attr)))
    return pd.DataFrame(out, columns=OBS_COLUMNS)


# ------------------------------------------------------------------------------ harmonise
def gemeente_display_name(title: str) -> str:
    """``"Utrecht (gemeente)"`` -> ``"Utrecht"``; other titles unchanged (``"Bergen (NH.)"``
    is the gemeente's official name)."""
    t = (title or "").strip()
    return t[: -len(GEMEENTE_SUFFIX)] if t.endswith(GEMEENTE_SUFFIX) else t


def _reason(value: float, attribute: str | None) -> str | None:
    if not math.isnan(value):
        return None
    return MISSING_SUPPRESSED if attribute in V4_SUPPRESSED else MISSING_EMPTY


def harmonise(obs: pd.DataFrame, res: Resolution, *, api: str,
              catalogue: OriginCatalogue | None = None, min_n: float | None = None) -> pd.DataFrame:
    """The neutral observations of one table -> the harmonised long frame (module doc).

    Parameters
    ----------
    obs
        From :func:`observations_from_v3` or :func:`observations_from_v4`.
    res
        The table's :class:`Resolution`.
    api
        ``"v3"`` or ``"v4"``: which API served the rows (kept in the ``api`` column).
    catalogue
        The origin catalogue (default: the packaged one), for units, rules and groups.
    min_n
        The small-number threshold (default ``rules.min_n``); see :func:`apply_small_numbers`.
    """
    cat = catalogue or load_origin_catalogue()
    rules, spec = cat.rules, res.spec
    records: list[dict[str, Any]] = []
    for r in obs.itertuples(index=False):
        code = str(r.region).strip()
        if code.startswith(rules.country_prefix):
            level = "land"
        elif code.startswith(rules.gemeente_prefix):
            level = "gemeente"
        else:
            continue
        m = res.measure_spec(r.measure)
        group = m.group if m.group is not None else res.origin_members.get(r.origin) if r.origin else "totaal"
        if group is None:
            continue
        year = rules.year_of(r.period) if r.period else None
        if r.period and year is None:
            continue                          # not a year (a quarter, a month ...)
        value = float(r.value) * m.scale if not math.isnan(r.value) else math.nan
        ind = cat.indicators[m.indicator]
        records.append({
            "gemeente_code": code,
            "gemeente_name": "Nederland" if level == "land" else gemeente_display_name(res.region_titles.get(code, code)),
            "level": level, "year": year, "group": group, "indicator": m.indicator, "value": value,
            "n": math.nan, "unit": ind.unit, "scheme": spec.scheme, "table_id": spec.id, "api": api,
            "missing": _reason(value, r.attribute), "_n_of": m.n,
        })
    frame = pd.DataFrame.from_records(records, columns=[*FRAME_COLUMNS, "_n_of"])
    frame = _attach_n(frame)
    frame = apply_small_numbers(frame, rules.min_n if min_n is None else min_n)
    return normalise_frame(frame)


def _attach_n(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill ``n`` from the row of the indicator named in ``_n_of`` (same place, year, group)."""
    if frame.empty:
        return frame.drop(columns="_n_of")
    keys = ["gemeente_code", "year", "group"]
    counts = frame[["gemeente_code", "year", "group", "indicator", "value"]].rename(
        columns={"indicator": "_n_of", "value": "_n"})
    merged = frame.merge(counts, how="left", on=[*keys, "_n_of"])
    merged["n"] = merged["_n"].astype(float)
    return merged.drop(columns=["_n_of", "_n"])


def apply_small_numbers(frame: pd.DataFrame, min_n: float) -> pd.DataFrame:
    """Hide every value that rests on fewer than ``min_n`` persons.

    The small-number rule of the project: a value whose ``n`` is known and below ``min_n``
    (default 10 persons, ``rules.min_n`` in ``data/origin_tables.toml``) becomes NaN with
    ``missing = "klein_aantal"``, so it is flagged and never shown (and never shown as 0).
    Values CBS suppressed itself arrive empty and are already missing. Counts have no ``n`` and
    are left as CBS published them (rounded to tens).
    """
    out = frame.copy()
    small = out["n"].notna() & (out["n"] < float(min_n)) & out["value"].notna()
    out.loc[small, "value"] = np.nan
    out.loc[small, "missing"] = MISSING_SMALL_N
    return out


def normalise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Column order, dtypes and row order of a harmonised frame (so frames compare equal)."""
    out = frame.reindex(columns=FRAME_COLUMNS).copy()
    out["year"] = pd.array(out["year"], dtype="Int64")
    for col in ("value", "n"):
        out[col] = out[col].astype(float)
    for col in ("gemeente_code", "gemeente_name", "level", "group", "indicator", "unit", "scheme",
                "table_id", "api"):
        out[col] = out[col].astype(object)
    out["missing"] = out["missing"].astype(object).where(out["missing"].notna(), None)
    out = out.sort_values(["table_id", "indicator", "gemeente_code", "group", "year"],
                          kind="stable", na_position="first")
    return out.reset_index(drop=True)


def empty_frame() -> pd.DataFrame:
    """A harmonised frame without rows."""
    return normalise_frame(pd.DataFrame(columns=FRAME_COLUMNS))
