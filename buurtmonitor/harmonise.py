"""From raw CBS rows to harmonised :class:`~buurtmonitor.model.AreaTable` s, and from
variables to indicator values with their n.

Column keys are resolved from each table's ``DataProperties`` by key stem (the key without
its numeric suffix) and the title of the TopicGroup above it; suffixes are never hard-coded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from . import small_areas
from .catalogue import Catalogue, Indicator, Variable, load_catalogue
from .model import (
    ID_COLUMNS,
    MISSING_EMPTY,
    MISSING_NOT_IN_TABLE,
    MISSING_SENTINEL,
    MISSING_SUPPRESSED,
    MISSING_ZERO_DENOMINATOR,
    AreaTable,
    TableMeta,
)

#: Shares whose denominator is below this are flagged as uncertain in the views.
SMALL_N = 100

_SUFFIX = re.compile(r"_\d+$")
LEVEL_BY_SOORT = {"land": "land", "gemeente": "gemeente", "wijk": "wijk", "buurt": "buurt"}


class HarmoniseError(ValueError):
    """The source does not have what the harmonised table needs (message in Dutch)."""


def key_stem(key: str) -> str:
    """``"EuropaExclusiefNederland_18"`` -> ``"EuropaExclusiefNederland"``."""
    return _SUFFIX.sub("", key)


def resolve_keys(data_properties: list[dict], variables: Iterable[Variable]) -> dict[str, dict]:
    """Map variable id -> {"key", "unit", "title", "group"} using DataProperties.

    A variable matches the first of its ``odata`` specs that a Topic satisfies: same key
    stem and, where the spec names a group, the Topic's parent TopicGroup has that title.
    """
    by_id = {p.get("ID"): p for p in data_properties}
    topics = []
    for p in data_properties:
        if p.get("Type") not in ("Topic",) or not p.get("Key"):
            continue
        parent = by_id.get(p.get("ParentID"))
        topics.append({
            "key": p["Key"], "stem": key_stem(p["Key"]).lower(),
            "unit": (p.get("Unit") or "").strip(), "title": (p.get("Title") or "").strip(),
            "group": (parent.get("Title") or "").strip().lower() if parent else "",
        })
    out: dict[str, dict] = {}
    for var in variables:
        for spec in var.odata:
            stem = spec["stem"].lower()
            group = spec.get("group", "").strip().lower()
            hit = next((t for t in topics if t["stem"] == stem and (not group or t["group"] == group)),
                       None)
            if hit:
                out[var.id] = hit
                break
    return out


def clean_value(raw: Any) -> tuple[float, str | None]:
    """A raw cell -> (value, missing reason). ``None``/"" -> empty, ``"."`` -> suppressed,
    negative sentinels (-99995, -99997, -99999997, ...) -> no data. Never 0 for missing."""
    if raw is None:
        return math.nan, MISSING_EMPTY
    if isinstance(raw, str):
        s = raw.strip()
        if s == "":
            return math.nan, MISSING_EMPTY
        if s == ".":
            return math.nan, MISSING_SUPPRESSED
        s = s.replace(" ", "")
        try:
            val = float(s.replace(",", ".")) if s.count(",") == 1 and "." not in s else float(s)
        except ValueError:
            return math.nan, MISSING_EMPTY
    else:
        try:
            val = float(raw)
        except (TypeError, ValueError):
            return math.nan, MISSING_EMPTY
    if math.isnan(val):
        return math.nan, MISSING_EMPTY
    if val <= -99990:
        return math.nan, MISSING_SENTINEL
    return val, None


def clean_series(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised :func:`clean_value` for one column."""
    if values.dtype.kind in "fi":
        vals = values.astype(float)
        reasons = pd.Series(np.where(vals.isna().to_numpy(), MISSING_EMPTY, None),  # type: ignore[call-overload]
                            index=values.index, dtype=object)
        sentinel = vals <= -99990
        reasons[sentinel] = MISSING_SENTINEL
        vals = vals.mask(sentinel)
        return vals, reasons
    pairs = [clean_value(v) for v in values.tolist()]
    vals = pd.Series([p[0] for p in pairs], index=values.index, dtype=float)
    reasons = pd.Series([p[1] for p in pairs], index=values.index, dtype=object)
    return vals, reasons


def _strip(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().astype(object).where(s.notna(), None)


def derive_area_columns(codes: pd.Series) -> pd.DataFrame:
    """gemeente_code and wijk_code from stripped CBS codes (GM0228, WK022801, BU02280101)."""
    codes = codes.astype(str)
    prefix = codes.str[:2]
    gem = pd.Series(np.where(prefix.isin(["GM", "WK", "BU"]), "GM" + codes.str[2:6], None),
                    index=codes.index, dtype=object)
    wijk = pd.Series(np.where(prefix == "BU", "WK" + codes.str[2:8],
                              np.where(prefix == "WK", codes, None)), index=codes.index, dtype=object)
    level = prefix.map({"NL": "land", "GM": "gemeente", "WK": "wijk", "BU": "buurt"})
    return pd.DataFrame({"gemeente_code": gem, "wijk_code": wijk, "level_from_code": level})


def build_table(ids: pd.DataFrame, raw: dict[str, pd.Series], meta: TableMeta,
                pct_base: dict[str, str] | None = None,
                catalogue: Catalogue | None = None) -> AreaTable:
    """Assemble an AreaTable from id columns and raw variable columns.

    ``ids`` has code, name, level, gemeente_name, indelingswijziging (others derived).
    ``raw`` maps variable id -> raw values (same index). ``pct_base`` maps variable id ->
    base variable id for sources that give a percentage where the catalogue wants a count.
    Variables of the catalogue that ``raw`` lacks are missing with reason "niet_in_tabel";
    derived variables are computed.
    """
    cat = catalogue or load_catalogue()
    pct_base = pct_base or {}
    ids = ids.copy()
    derived = derive_area_columns(ids["code"])
    for col in ("gemeente_code", "wijk_code"):
        if col not in ids or ids[col].isna().all():
            ids[col] = derived[col]
    if "level" not in ids or ids["level"].isna().any():
        ids["level"] = ids.get("level", pd.Series(index=ids.index, dtype=object)).fillna(
            derived["level_from_code"])
    ids["wijk_code"] = ids["wijk_code"].where(ids["level"] == "buurt", None)
    ids["year"] = meta.year
    if "indelingswijziging" not in ids:
        ids["indelingswijziging"] = None
    if "gemeente_name" not in ids:
        ids["gemeente_name"] = None
    data = ids[ID_COLUMNS].reset_index(drop=True)
    values: dict[str, pd.Series] = {}
    reasons: dict[str, pd.Series] = {}
    n = len(data)
    for var in cat.source_variables():
        if var.id in raw:
            v, r = clean_series(pd.Series(raw[var.id]).reset_index(drop=True))
        else:
            v = pd.Series(np.full(n, np.nan))
            r = pd.Series([MISSING_NOT_IN_TABLE] * n, dtype=object)
        values[var.id], reasons[var.id] = v, r
    # percentages -> counts (old tables, Wijk- en Buurtkaart); after all bases are read
    for vid, base in pct_base.items():
        if vid in values and base in values:
            values[vid] = (values[vid] / 100.0 * values[base]).round(0)
            base_missing = values[base].isna() & reasons[vid].isna()
            reasons[vid] = reasons[vid].where(~base_missing, reasons[base])
    for var in cat.variables.values():
        if not var.derive:
            continue
        total = pd.Series(np.zeros(n))
        reason = pd.Series([None] * n, dtype=object)
        for sign, term in var.derive_terms():
            total = total + sign * values[term]
            reason = reason.where(reason.notna(), reasons[term])
        values[var.id], reasons[var.id] = total, reason.where(total.isna(), None)
    data = pd.concat([data, pd.DataFrame(values)], axis=1)
    missing = pd.DataFrame(reasons)
    missing.index = data.index
    return AreaTable(data=data, missing=missing, meta=meta)


def harmonise_odata(rows: list[dict], data_properties: list[dict], meta: TableMeta,
                    catalogue: Catalogue | None = None) -> AreaTable:
    """cbsodata rows (dimension keys replaced by titles) -> AreaTable."""
    cat = catalogue or load_catalogue()
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise HarmoniseError("De CBS-tabel gaf geen rijen voor deze selectie.")
    props = [p for p in data_properties if p.get("Key")]
    keys = {key_stem(p["Key"]): p["Key"] for p in props}
    code_key = keys.get("Codering")
    if not code_key or code_key not in frame:
        raise HarmoniseError("De CBS-tabel heeft geen kolom 'Codering': is dit wel een KWB-tabel?")
    soort_key = keys.get("SoortRegio")
    naam_key = keys.get("Gemeentenaam")
    wijz_key = keys.get("IndelingswijzigingGemeenteWijkBuurt")
    geo_key = next((p["Key"] for p in data_properties if p.get("Type") == "GeoDetail"), "WijkenEnBuurten")
    ids = pd.DataFrame({"code": _strip(frame[code_key])})
    ids["name"] = _strip(frame[geo_key]) if geo_key in frame else ids["code"]
    if soort_key and soort_key in frame:
        ids["level"] = _strip(frame[soort_key]).map(lambda s: LEVEL_BY_SOORT.get(str(s).lower()))
    ids["gemeente_name"] = _strip(frame[naam_key]) if naam_key and naam_key in frame else None
    ids["indelingswijziging"] = _strip(frame[wijz_key].astype("string")) if wijz_key and wijz_key in frame else None
    resolved = resolve_keys(data_properties, cat.source_variables())
    raw: dict[str, pd.Series] = {}
    pct_base: dict[str, str] = {}
    for vid, hit in resolved.items():
        if hit["key"] in frame:
            raw[vid] = frame[hit["key"]]
            if hit["unit"] == "%" and cat.variables[vid].unit == "aantal":
                pct_base[vid] = cat.variables[vid].wbk_pct_of or "inwoners"
    meta = TableMeta(**{**meta.to_dict(),
                        "resolved_keys": {v: h["key"] for v, h in resolved.items()},
                        "units": {v: h["unit"] for v, h in resolved.items()}})
    table = build_table(ids, raw, meta, pct_base=pct_base, catalogue=cat)
    # the gemeente row of a gemeente carries its own code as gemeente_code; land has none
    gm = table.data["level"] == "gemeente"
    table.data.loc[gm, "gemeente_name"] = table.data.loc[gm, "gemeente_name"].fillna(table.data.loc[gm, "name"])
    return table


def select_keys(data_properties: list[dict], catalogue: Catalogue | None = None) -> list[str]:
    """The ``$select`` list for a KWB table: id columns + every resolvable variable."""
    cat = catalogue or load_catalogue()
    keys = []
    geo = next((p["Key"] for p in data_properties if p.get("Type") == "GeoDetail"), None)
    if geo:
        keys.append(geo)
    stems = {key_stem(p["Key"]): p["Key"] for p in data_properties if p.get("Key")}
    for stem in ("Gemeentenaam", "SoortRegio", "Codering", "IndelingswijzigingGemeenteWijkBuurt"):
        if stem in stems:
            keys.append(stems[stem])
    keys += [h["key"] for h in resolve_keys(data_properties, cat.source_variables()).values()]
    return list(dict.fromkeys(keys))


# ------------------------------------------------------------------------- indicators
def indicator_frame(table: AreaTable, indicator_id: str,
                    catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Values of one indicator for every area of ``table``, with the small-area rule
    applied (:func:`buurtmonitor.small_areas.apply`: hidden values are missing with reason
    ``klein_gebied``).

    Columns: code, name, level, value, n (the denominator for shares, the indicator's
    ``n_variable`` or inwoners otherwise), numerator (shares), missing (reason key or None),
    small_n (bool: a shown share on fewer than :data:`SMALL_N`).
    """
    cat = catalogue or load_catalogue()
    ind: Indicator = cat.indicators[indicator_id]
    d, m = table.data, table.missing
    out = d[["code", "name", "level"]].copy()
    if not ind.applies_to(table.meta.scheme):
        out["value"] = np.nan
        out["n"] = d["inwoners"]
        out["numerator"] = np.nan
        out["missing"] = MISSING_NOT_IN_TABLE
        out["small_n"] = False
        return out
    if ind.kind == "share":
        num, den = d[ind.numerator], d[ind.denominator]
        with np.errstate(divide="ignore", invalid="ignore"):
            val = (num / den.where(den != 0)) * ind.scale
        reason = m[ind.numerator].where(m[ind.numerator].notna(), m[ind.denominator])
        reason = reason.where(~((den == 0) & reason.isna()), MISSING_ZERO_DENOMINATOR)
        out["value"], out["n"], out["numerator"] = val, den, num
    else:
        out["value"] = d[ind.variable]
        n_var = ind.n_variable if ind.n_variable and ind.n_variable in d else "inwoners"
        out["n"] = d[n_var]
        out["numerator"] = np.nan
        reason = m[ind.variable]
    out["missing"] = reason.where(out["value"].isna(), None)
    out = small_areas.apply(out, ind, cat)
    out["small_n"] = (ind.kind == "share") & out["n"].notna() & (out["n"] < SMALL_N) & out["value"].notna()
    return out


def available_indicators(table: AreaTable, catalogue: Catalogue | None = None) -> list[Indicator]:
    """Indicators of the table's scheme with at least one value in the table."""
    cat = catalogue or load_catalogue()
    res = []
    for ind in cat.indicators_for(table.meta.scheme):
        cols = ind.inputs
        if all(c in table.data for c in cols) and table.data[cols[0]].notna().any():
            res.append(ind)
    return res


def concat_tables(tables: list[AreaTable]) -> AreaTable:
    """Stack tables of the same year (e.g. several gemeenten); meta of the first."""
    if not tables:
        raise HarmoniseError("Geen tabellen om samen te voegen.")
    data = pd.concat([t.data for t in tables], ignore_index=True)
    missing = pd.concat([t.missing for t in tables], ignore_index=True)
    data = data.drop_duplicates("code")
    return AreaTable(data=data, missing=missing.loc[data.index], meta=tables[0].meta)
