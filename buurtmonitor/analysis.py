"""Analyses behind the views Herkomst, Gebiedsprofiel and Ontwikkeling (pure pandas).

Everything here takes :class:`~buurtmonitor.model.AreaTable` s and returns plain
DataFrames; nothing touches Streamlit or the network. Missing stays missing (NaN) and
always comes with a reason key (see :data:`buurtmonitor.model.MISSING_LABELS`); it is never
turned into 0.

* :func:`composition`  the origin composition of every wijk or buurt (counts and shares of
  the scheme's mutually exclusive groups, or of the detailed split groups), with the
  gemeente and Nederland as comparison rows.
* :func:`profile`  one area against its wijk, its gemeente and Nederland for a list of
  indicators, with a z-score against the other areas of the same level in the gemeente and
  a plain-Dutch reading.
* :func:`time_series` / :func:`series_breaks`  one area and indicator over several KWB
  years, cut into segments wherever the figures are not comparable (a change of the CBS
  origin classification, 2022 → 2023, or a change of the area's boundaries).

Definitions (also shown in the views):

* **Share in a composition** = count of the group / total, where total = the sum of the
  scheme's exclusive groups (so the exclusive groups add up to exactly 100 %). CBS rounds
  buurt counts to 5, so for small areas this total can differ by a few persons from the
  number of residents; for gemeenten and Nederland they are equal. When an exclusive
  group is missing the total falls back to the number of residents.
* **z-score** = (x − m) / s, where x is the area's value and m and s are the plain
  (population-unweighted) mean and standard deviation of that indicator over *all* areas of
  the same level in the same gemeente that have a value (the area itself included; for a
  gemeente: all gemeenten in the table). Every area counts once, whatever its size. s is the
  standard deviation of that complete set of areas (``ddof=0``). A z-score needs at least
  :data:`MIN_AREAS_FOR_Z` areas with a value and s > 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import small_areas
from .catalogue import Catalogue, Indicator, OriginGroup, OriginScheme, load_catalogue
from .harmonise import SMALL_N, indicator_frame
from .model import (
    FICTITIOUS_LABEL,
    LEVEL_LABELS,
    MISSING_LABELS,
    MISSING_NOT_IN_TABLE,
    MISSING_SMALL_AREA,
    MISSING_ZERO_DENOMINATOR,
    SOURCE_CBS,
    AreaTable,
)

# ----------------------------------------------------------------------------- constants
#: Missing-reason key used here for years in which an area does not exist.
MISSING_AREA_ABSENT = "gebied_ontbreekt"
#: Labels of the reason keys this module adds to :data:`buurtmonitor.model.MISSING_LABELS`.
EXTRA_MISSING_LABELS = {MISSING_AREA_ABSENT: "gebied bestaat niet in de indeling van dit jaar"}
#: Short labels for places with little room (chart annotations).
MISSING_SHORT = {
    "geheim": "geheim",
    "leeg": "niet beschikbaar",
    "geen_gegevens": "geen gegevens",
    "niet_in_tabel": "niet in tabel",
    "noemer_nul": "niet te berekenen",
    MISSING_SMALL_AREA: "te klein gebied",
    MISSING_AREA_ABSENT: "bestaat niet",
}

ROLE_AREA = "gebied"
ROLE_GEMEENTE = "gemeente"
ROLE_NEDERLAND = "nederland"

#: A z-score needs at least this many areas with a value.
MIN_AREAS_FOR_Z = 3

BREAK_SCHEME = "schema"
BREAK_BOUNDARY = "grens"
BOUNDARY_LABEL = "Grenswijziging"

#: For each origin indicator: the indicator that comes closest in the other scheme.
#: They are *not* the same measure (see :data:`COMPARABLE_NOTE`); the views show them as
#: separate segments with their own labels.
COMPARABLE: dict[str, dict[str, str]] = {
    "nederland": {"herkomst": "pct_herkomst_nederland",
                  "migratieachtergrond": "pct_nederlandse_achtergrond"},
    "europa": {"herkomst": "pct_herkomst_europa", "migratieachtergrond": "pct_westers"},
    "buiten_europa": {"herkomst": "pct_herkomst_buiten_europa",
                      "migratieachtergrond": "pct_niet_westers"},
}
COMPARABLE_NOTE = (
    "Tot en met 2022 deelde CBS inwoners in naar migratieachtergrond (westers / niet-westers); "
    "vanaf 2023 naar herkomstland (Europa / buiten Europa). De groepen zijn anders afgebakend: "
    "Turkije telde bijvoorbeeld als niet-westers maar is nu Europa, en Indonesië en Japan "
    "telden als westers maar zijn nu buiten Europa. Daarom tonen we de twee reeksen als aparte "
    "stukken met elk een eigen naam, en trekken we geen lijn over de breuk heen.")

#: (lowest |z|, words): |z| >= 2 "ver", >= 1 "ruim", >= 0.5 "iets", else "rond"; symmetric.
_READINGS = [(2.0, "ver"), (1.0, "ruim"), (0.5, "iets")]


def missing_label(key: str | None) -> str:
    """Dutch label of a missing-reason key ("" for None)."""
    if not key:
        return ""
    return EXTRA_MISSING_LABELS.get(key) or MISSING_LABELS.get(key, str(key))


def _is_missing(x: Any) -> bool:
    try:
        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _none(s: pd.Series) -> pd.Series:
    """Object series with None (not NaN) where missing: reason columns stay JSON-like."""
    s = s.astype(object)
    return s.where(s.notna(), None)


def _source_attrs(table: AreaTable) -> dict[str, Any]:
    return {"source": table.meta.source_line(), "fictitious": bool(table.meta.fictitious),
            "year": int(table.meta.year), "scheme": table.meta.scheme}


def combined_source_line(tables: Iterable[AreaTable]) -> str:
    """One source line for figures built from several KWB years."""
    metas = sorted((t.meta for t in tables), key=lambda m: m.year)
    if not metas:
        return ""
    years = [m.year for m in metas]
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    if any(m.fictitious for m in metas):
        return f"{FICTITIOUS_LABEL} · gegenereerd door Buurtmonitor, jaren {span}"
    parts = [f"{m.year} ({m.table_id})" if m.table_id else str(m.year) for m in metas]
    return f"{SOURCE_CBS}, Kerncijfers wijken en buurten {', '.join(parts)}"


# ----------------------------------------------------------------------------- groups
def scheme_groups(scheme: OriginScheme, detail: bool = False) -> list[OriginGroup]:
    """The groups a composition shows: the exclusive groups, or with ``detail`` every
    exclusive group replaced by its split groups (where it has any), in catalogue order.
    Both lists are mutually exclusive and cover all residents."""
    main = scheme.exclusive_groups
    if not detail:
        return main
    out: list[OriginGroup] = []
    for g in main:
        children = [c for c in scheme.groups if c.parent == g.id]
        out.extend(children or [g])
    return out


def group_for_indicator(indicator_id: str | None, scheme: OriginScheme,
                        catalogue: Catalogue | None = None) -> str | None:
    """The group id whose variable is the numerator of ``indicator_id`` (or None)."""
    cat = catalogue or load_catalogue()
    ind = cat.indicators.get(indicator_id or "")
    if ind is None or ind.kind != "share":
        return None
    return next((g.id for g in scheme.groups if g.variable == ind.numerator), None)


# ----------------------------------------------------------------------------- composition
def composition(table: AreaTable, level: str, scheme_id: str | None = None, detail: bool = False,
                catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Origin composition of every area of ``level`` plus gemeente and Nederland rows.

    ``scheme_id`` defaults to the table's own scheme (the groups of another scheme are
    simply missing, reason "niet_in_tabel"). With ``detail`` the split groups are used
    (e.g. Europa → geboren in / buiten Nederland; niet-westers → Marokko, Turkije, ...).

    Long format, one row per area and group, areas in code order, then the gemeente(s),
    then Nederland. Columns: ``code, name, level, role`` (gebied | gemeente | nederland),
    ``group, label, colour, parent, count, total, share`` (percent of total),
    ``inwoners, missing`` (reason key where count or share is missing, else None),
    ``small_n`` (total below :data:`~buurtmonitor.harmonise.SMALL_N`).
    ``attrs``: level, scheme, scheme_label, scheme_note, detail, source, fictitious, year.
    """
    cat = catalogue or load_catalogue()
    scheme_id = scheme_id or table.meta.scheme
    if scheme_id not in cat.schemes:
        raise KeyError(f"Onbekende herkomstindeling {scheme_id!r}.")
    scheme = cat.schemes[scheme_id]
    groups = scheme_groups(scheme, detail)
    d, m = table.data, table.missing

    roles = pd.Series(None, index=d.index, dtype=object)
    roles[d["level"] == level] = ROLE_AREA
    if level != "gemeente":
        roles[d["level"] == "gemeente"] = ROLE_GEMEENTE
    roles[d["level"] == "land"] = ROLE_NEDERLAND
    keep = roles.notna()
    rank = roles.map({ROLE_AREA: 0, ROLE_GEMEENTE: 1, ROLE_NEDERLAND: 2})
    rows = d[keep].assign(_role=roles[keep], _rank=rank[keep]).sort_values(["_rank", "code"], kind="stable")

    def col(var: str) -> tuple[pd.Series, pd.Series]:
        if var in rows:
            vals = rows[var].astype(float)
            why = m.loc[rows.index, var] if var in m else pd.Series(None, index=rows.index, dtype=object)
        else:
            vals = pd.Series(np.nan, index=rows.index)
            why = pd.Series(MISSING_NOT_IN_TABLE, index=rows.index, dtype=object)
        why = why.where(vals.isna(), None)
        why = why.where(~(vals.isna() & why.isna()), MISSING_NOT_IN_TABLE)
        return vals, why

    excl = [col(g.variable) for g in scheme.exclusive_groups]
    excl_vals = pd.concat([v for v, _ in excl], axis=1)
    complete = excl_vals.notna().all(axis=1)
    inwoners = rows["inwoners"].astype(float) if "inwoners" in rows else pd.Series(np.nan, index=rows.index)
    total = excl_vals.sum(axis=1, min_count=1).where(complete, inwoners)
    total_reason = pd.Series(None, index=rows.index, dtype=object)
    for _, why in excl:  # reason of the first missing exclusive group
        total_reason = total_reason.where(total_reason.notna(), why)
    total_reason = total_reason.where(total.isna(), None)
    total_reason = total_reason.where(~(total.isna() & total_reason.isna()), MISSING_NOT_IN_TABLE)

    parts: list[pd.DataFrame] = []
    for g in groups:
        vals, why = col(g.variable)
        share = vals / total.where(total > 0) * 100.0
        reason = why.where(why.notna(), total_reason.where(share.isna(), None))
        reason = reason.where(~(share.isna() & reason.isna() & (total == 0)), MISSING_ZERO_DENOMINATOR)
        reason = reason.where(share.isna() | vals.isna(), None)
        parts.append(pd.DataFrame({
            "code": rows["code"].values, "name": rows["name"].values, "level": rows["level"].values,
            "role": rows["_role"].values, "group": g.id, "label": g.label, "colour": g.colour,
            "parent": g.parent, "count": vals.values, "total": total.values, "share": share.values,
            "inwoners": inwoners.values, "missing": reason.values,
            "_order": np.arange(len(rows)), "_g": len(parts),
        }))
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["_order", "_g"], kind="stable").drop(columns=["_order", "_g"])
    out = out.reset_index(drop=True)
    out["missing"] = _none(out["missing"])
    out["parent"] = _none(out["parent"])
    hide = small_areas.hide_mask(out["total"], out["level"], cat) & out["share"].notna()
    out.loc[hide, "share"] = np.nan
    out.loc[hide, "missing"] = MISSING_SMALL_AREA
    out["small_n"] = out["total"].notna() & (out["total"] < SMALL_N)
    out.attrs.update(_source_attrs(table))
    out.attrs.update({"level": level, "scheme": scheme.id, "scheme_label": scheme.label,
                      "scheme_note": scheme.note, "detail": bool(detail),
                      "groups": [g.id for g in groups]})
    return out


def composition_table(comp: pd.DataFrame) -> pd.DataFrame:
    """Wide, readable table of :func:`composition` (one row per area): the table
    alternative beside the chart. Missing stays empty, the reason is in "Toelichting"."""
    if comp.empty:
        return pd.DataFrame(columns=["Gebied", "Code", "Soort", "Totaal"])
    areas = comp.drop_duplicates("code")[["code", "name", "level", "role", "total"]]
    out = pd.DataFrame({"Gebied": areas["name"].values, "Code": areas["code"].values,
                        "Soort": areas["level"].map(LEVEL_LABELS).values,
                        "Totaal": areas["total"].values})
    notes: dict[str, list[str]] = {c: [] for c in areas["code"]}
    for gid in dict.fromkeys(comp["group"]):
        sub = comp[comp["group"] == gid].set_index("code")
        label = sub["label"].iloc[0]
        out[f"{label} (aantal)"] = sub.loc[out["Code"], "count"].values
        out[f"{label} (%)"] = sub.loc[out["Code"], "share"].round(1).values
        for code, why in sub["missing"].items():
            if not _is_missing(why):
                notes[code].append(f"{label}: {missing_label(why)}")
    small = comp.drop_duplicates("code").set_index("code")["small_n"]
    out["Toelichting"] = [
        "; ".join(_collapse(notes[c])) + ("" if not small.get(c) else
                                          ("; " if notes[c] else "") + f"klein aantal (< {SMALL_N}): onzeker")
        for c in out["Code"]]
    return out


def _collapse(notes: list[str]) -> list[str]:
    """"A: geheim", "B: geheim" -> "alle groepen: geheim" when every group has the same reason."""
    reasons = {n.split(": ", 1)[1] for n in notes}
    if len(notes) > 1 and len(reasons) == 1:
        return [f"alle groepen: {reasons.pop()}"]
    return notes


# ----------------------------------------------------------------------------- profile
def _reading(z: float, reference: str) -> str:
    for bound, words in _READINGS:
        if abs(z) >= bound:
            return f"{words} {'boven' if z > 0 else 'onder'} {reference}"
    return f"rond {reference}"


def z_scores(values: pd.Series) -> tuple[float, float, int]:
    """(mean, standard deviation with ddof=0, number of values) of the non-missing values."""
    v = values.dropna().astype(float)
    if v.empty:
        return math.nan, math.nan, 0
    return float(v.mean()), float(v.std(ddof=0)), int(len(v))


def reading_for(z: float, *, level: str = "buurt", small_n: bool = False,
                missing: str | None = None, n_areas: int = 0, sd: float = math.nan) -> str:
    """Plain-Dutch reading of a z-score, e.g. "ruim boven het gemeentelijk gemiddelde"."""
    if missing:
        return f"geen waarde: {missing_label(missing)}"
    reference = ("het gemiddelde van de gemeenten" if level == "gemeente"
                 else "het gemeentelijk gemiddelde")
    if _is_missing(z):
        if n_areas < MIN_AREAS_FOR_Z:
            text = "niet te vergelijken: te weinig gebieden met een waarde"
        elif not _is_missing(sd) and sd == 0:
            text = "niet te vergelijken: alle gebieden hebben dezelfde waarde"
        else:
            text = "niet te vergelijken"
    else:
        text = _reading(float(z), reference)
    if small_n:
        text += f"; klein aantal (n < {SMALL_N}): onzeker"
    return text


def profile(table: AreaTable, area_code: str, indicators: Sequence[str | Indicator],
            catalogue: Catalogue | None = None) -> pd.DataFrame:
    """One area against its wijk (for a buurt), its gemeente and Nederland.

    One row per indicator: ``indicator, label, theme, theme_label, unit, kind, value, n,
    missing`` (reason key), ``missing_label, small_n, wijk, gemeente, nederland`` (the
    comparison values), ``mean, sd, areas`` (of the reference areas: every area of the same
    level in the same gemeente with a value, unweighted, sd with ddof=0), ``z`` =
    (value − mean) / sd, ``reading`` (plain Dutch).
    ``attrs``: code, name, level, wijk_code, wijk_name, gemeente_code, gemeente_name,
    source, fictitious, year, scheme.

    Raises KeyError (Dutch message) when the area is not in the table.
    """
    cat = catalogue or load_catalogue()
    d = table.data
    row = table.row(area_code)
    if row is None:
        raise KeyError(f"Gebied {area_code} komt niet voor in de tabel van {table.meta.year}.")
    level = row["level"]
    gem_code = row["code"] if level == "gemeente" else row.get("gemeente_code")
    wijk_code = row.get("wijk_code") if level == "buurt" else None
    if level == "gemeente":
        ref_mask = d["level"] == "gemeente"
    elif level == "land":
        ref_mask = pd.Series(False, index=d.index)
    else:
        ref_mask = (d["level"] == level) & (d["gemeente_code"] == gem_code)
    gem_row = table.row(gem_code) if isinstance(gem_code, str) else None
    wijk_row = table.row(wijk_code) if isinstance(wijk_code, str) else None

    records = []
    for ind in indicators:
        ind = ind if isinstance(ind, Indicator) else cat.indicators[ind]
        f = indicator_frame(table, ind.id, cat).set_index("code")
        me = f.loc[area_code] if area_code in f.index else None
        if isinstance(me, pd.DataFrame):
            me = me.iloc[0]
        mean, sd, n_areas = z_scores(f.loc[f.index.isin(d.loc[ref_mask, "code"]), "value"])
        value = float(me["value"]) if me is not None and not _is_missing(me["value"]) else math.nan
        reason = me["missing"] if me is not None else MISSING_NOT_IN_TABLE
        small = bool(me["small_n"]) if me is not None else False
        z = math.nan
        if not math.isnan(value) and n_areas >= MIN_AREAS_FOR_Z and sd > 0:
            z = (value - mean) / sd

        def val(code: str | None, f: pd.DataFrame = f) -> float:
            if not isinstance(code, str) or code not in f.index:
                return math.nan
            v = f.loc[code, "value"]
            v = v.iloc[0] if isinstance(v, pd.Series) else v
            return float(v) if not _is_missing(v) else math.nan

        records.append({
            "indicator": ind.id, "label": ind.label, "theme": ind.theme,
            "theme_label": cat.themes.get(ind.theme, ind.theme), "unit": ind.unit, "kind": ind.kind,
            "value": value, "n": float(me["n"]) if me is not None and not _is_missing(me["n"]) else math.nan,
            "missing": reason if math.isnan(value) else None,
            "missing_label": missing_label(reason) if math.isnan(value) else "",
            "small_n": small,
            "wijk": val(wijk_code), "gemeente": val(gem_code) if level != "gemeente" else math.nan,
            "nederland": val("NL00"),
            "mean": mean, "sd": sd, "areas": n_areas, "z": z,
            "reading": reading_for(z, level=level, small_n=small,
                                   missing=reason if math.isnan(value) else None,
                                   n_areas=n_areas, sd=sd),
        })
    out = pd.DataFrame.from_records(records, columns=[
        "indicator", "label", "theme", "theme_label", "unit", "kind", "value", "n", "missing",
        "missing_label", "small_n", "wijk", "gemeente", "nederland", "mean", "sd", "areas", "z",
        "reading"])
    out["missing"] = _none(out["missing"])
    out.attrs.update(_source_attrs(table))
    out.attrs.update({
        "code": area_code, "name": row["name"], "level": level,
        "wijk_code": wijk_code, "wijk_name": wijk_row["name"] if wijk_row is not None else None,
        "gemeente_code": gem_code, "gemeente_name": gem_row["name"] if gem_row is not None else None,
    })
    return out


def profile_table(prof: pd.DataFrame) -> pd.DataFrame:
    """Readable table of :func:`profile` (the table alternative)."""
    lvl = prof.attrs.get("level")
    out = pd.DataFrame({
        "Thema": prof["theme_label"], "Indicator": prof["label"], "Eenheid": prof["unit"],
        "Waarde": prof["value"].round(1), "n": prof["n"],
    })
    if lvl == "buurt":
        out["Wijk"] = prof["wijk"].round(1)
    if lvl != "gemeente":
        out["Gemeente"] = prof["gemeente"].round(1)
    out["Nederland"] = prof["nederland"].round(1)
    out["Gemiddelde gebieden"] = prof["mean"].round(1)
    out["z-score"] = prof["z"].round(2)
    out["Duiding"] = prof["reading"]
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- time series
def comparable_indicators(indicator_id: str, catalogue: Catalogue | None = None) -> dict[str, str]:
    """{scheme: indicator id} to follow ``indicator_id`` over the years.

    An indicator without a scheme is the same in every year: ``{scheme: indicator_id}`` for
    both schemes. An origin indicator with a counterpart in :data:`COMPARABLE` gets that
    counterpart for the other scheme; one without (e.g. Marokko, geboren buiten Nederland)
    only its own scheme."""
    cat = catalogue or load_catalogue()
    ind = cat.indicators[indicator_id]
    if ind.scheme is None:
        return {s: indicator_id for s in cat.schemes}
    for pair in COMPARABLE.values():
        if pair.get(ind.scheme) == indicator_id:
            return dict(pair)
    return {ind.scheme: indicator_id}


def _flag(value: Any) -> str | None:
    """Normalise CBS 'indelingswijziging' ('1', 1, 1.0, '.', None) to '1', '2', '3' or None."""
    if _is_missing(value):
        return None
    s = str(value).strip()
    if s.endswith(".0"):
        s = s[:-2]
    return s if s.isdigit() else None


def scheme_break_label(scheme: str, year: int) -> str:
    """Marker label for a change of origin classification, e.g. "Breuk: herkomst vanaf 2023"."""
    return f"Breuk: {scheme} vanaf {year}"


def time_series(tables: Mapping[int, AreaTable], area_code: str,
                indicator_id: str | Mapping[str, str],
                catalogue: Catalogue | None = None) -> pd.DataFrame:
    """One area and indicator over the loaded years, in comparable segments.

    ``indicator_id`` is one indicator id, or ``{scheme: indicator id}`` to follow an origin
    indicator with its counterpart in the other scheme (see :func:`comparable_indicators`).

    One row per year (ascending). Columns: ``year, code, name, level, present`` (the area
    exists in that year's table), ``indicator, indicator_label, unit, scheme, value, n,
    missing`` (reason key), ``small_n, indelingswijziging, segment`` (int; <NA> where the
    area is absent), ``scheme_break, boundary_break`` (bool: a new segment starts here)
    and ``break_reason`` (Dutch, "" where no break).

    A new segment starts

    * at a change of origin classification (2022 → 2023), for origin indicators only: other
      indicators are not affected by it;
    * where the area's boundary changed: its CBS ``indelingswijziging`` turns to something
      other than 1 (a persisting flag is one change, not one per year), or the area was
      absent in the previous loaded year (new, split or re-coded area).

    Years without the area are rows with ``present=False`` and missing reason
    :data:`MISSING_AREA_ABSENT`.
    """
    cat = catalogue or load_catalogue()
    records: list[dict[str, Any]] = []
    seg = -1
    prev: dict[str, Any] | None = None  # {"year", "scheme", "present", "flag", "bound"}
    for year in sorted(tables):
        t = tables[year]
        scheme = t.meta.scheme
        ind_id = indicator_id.get(scheme) if isinstance(indicator_id, Mapping) else indicator_id
        ind = cat.indicators.get(ind_id) if ind_id else None
        row = t.row(area_code)
        present = row is not None
        rec: dict[str, Any] = {
            "year": int(year), "code": area_code, "name": row["name"] if row is not None else None,
            "level": row["level"] if row is not None else None, "present": present,
            "indicator": ind.id if ind else None, "indicator_label": ind.label if ind else None,
            "unit": ind.unit if ind else None, "scheme": scheme,
            "value": math.nan, "n": math.nan, "missing": None, "small_n": False,
            "indelingswijziging": _flag(row["indelingswijziging"]) if row is not None else None,
            "segment": pd.NA, "scheme_break": False, "boundary_break": False, "break_reason": "",
        }
        bound = bool(ind is not None and ind.scheme is not None)
        if present:
            if ind is None:
                rec["missing"] = MISSING_NOT_IN_TABLE
            else:
                f = indicator_frame(t, ind.id, cat)
                hit = f[f["code"] == area_code].iloc[0]
                rec["value"] = float(hit["value"]) if not _is_missing(hit["value"]) else math.nan
                rec["n"] = float(hit["n"]) if not _is_missing(hit["n"]) else math.nan
                rec["missing"] = hit["missing"] if math.isnan(rec["value"]) else None
                rec["small_n"] = bool(hit["small_n"])
            reasons = []
            if prev is not None:
                if prev["scheme"] != scheme and (bound or prev["bound"]):
                    rec["scheme_break"] = True
                    reasons.append(
                        f"{scheme_break_label(scheme, year)}: CBS deelt vanaf {year} in naar "
                        f"{'herkomstland' if scheme == 'herkomst' else 'migratieachtergrond'}; "
                        f"niet vergelijkbaar met {prev['year']} en eerder.")
                flag = rec["indelingswijziging"]
                if not prev["present"]:
                    rec["boundary_break"] = True
                    reasons.append(f"{BOUNDARY_LABEL}: het gebied komt in {prev['year']} niet voor "
                                   "in de CBS-indeling (nieuw, gesplitst of anders gecodeerd gebied).")
                elif flag not in (None, "1") and flag != prev["flag"]:
                    rec["boundary_break"] = True
                    reasons.append(f"{BOUNDARY_LABEL}: CBS meldt in {year} een gewijzigde indeling van "
                                   f"dit gebied (indelingswijziging {flag}); niet vergelijkbaar met "
                                   f"{prev['year']} en eerder.")
            if seg < 0 or rec["scheme_break"] or rec["boundary_break"]:
                seg += 1
            rec["segment"] = seg
            rec["break_reason"] = " ".join(reasons)
        else:
            rec["missing"] = MISSING_AREA_ABSENT
        records.append(rec)
        prev = {"year": int(year), "scheme": scheme, "present": present,
                "flag": rec["indelingswijziging"], "bound": bound}
    out = pd.DataFrame.from_records(records, columns=[
        "year", "code", "name", "level", "present", "indicator", "indicator_label", "unit", "scheme",
        "value", "n", "missing", "small_n", "indelingswijziging", "segment", "scheme_break",
        "boundary_break", "break_reason"])
    out["segment"] = out["segment"].astype("Int64")
    for c in ("name", "level", "missing", "indelingswijziging", "indicator", "indicator_label", "unit"):
        out[c] = _none(out[c])
    out["value"] = out["value"].astype(float)
    out["n"] = out["n"].astype(float)
    names = out["name"].dropna()
    out.attrs.update({"code": area_code, "name": names.iloc[-1] if len(names) else area_code,
                      "source": combined_source_line(tables.values()),
                      "fictitious": any(t.meta.fictitious for t in tables.values())})
    return out


def combine_series(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack several :func:`time_series` results (e.g. a buurt, its gemeente and Nederland)
    for one chart; ``attrs`` (source line, fictitious flag, main area) come from the first."""
    out = pd.concat(list(parts), ignore_index=True)
    out.attrs = dict(parts[0].attrs) if parts else {}
    return out


def series_breaks(series: pd.DataFrame) -> pd.DataFrame:
    """The breaks of one or more :func:`time_series` results: one row per break and kind.

    Columns: ``code, year`` (first year of the new segment), ``prev_year`` (last loaded
    year before it), ``x`` (midway, where the chart draws the marker), ``kind``
    (:data:`BREAK_SCHEME` | :data:`BREAK_BOUNDARY`), ``label`` ("Breuk: herkomst vanaf 2023"
    | "Grenswijziging"), ``reason`` (the full Dutch explanation)."""
    rows = []
    for code, s in series.groupby("code", sort=False):
        s = s.sort_values("year")
        years = s["year"].tolist()
        for i, r in enumerate(s.itertuples(index=False)):
            if not (r.scheme_break or r.boundary_break):
                continue
            prev_year = years[i - 1] if i > 0 else r.year - 1
            base = {"code": code, "year": int(r.year), "prev_year": int(prev_year),
                    "x": (prev_year + r.year) / 2.0, "reason": r.break_reason}
            if r.scheme_break:
                rows.append({**base, "kind": BREAK_SCHEME, "label": scheme_break_label(r.scheme, r.year)})
            if r.boundary_break:
                rows.append({**base, "kind": BREAK_BOUNDARY, "label": BOUNDARY_LABEL})
    return pd.DataFrame(rows, columns=["code", "year", "prev_year", "x", "kind", "label", "reason"])


def series_table(series: pd.DataFrame) -> pd.DataFrame:
    """Readable table of one or more :func:`time_series` results (the table alternative)."""
    notes = []
    for r in series.itertuples(index=False):
        parts = []
        if r.missing:
            parts.append(missing_label(r.missing))
        if r.small_n:
            parts.append(f"klein aantal (< {SMALL_N}): onzeker")
        if r.break_reason:
            parts.append(r.break_reason)
        notes.append("; ".join(parts))
    return pd.DataFrame({
        "Jaar": series["year"].values, "Gebied": series["name"].fillna(series["code"]).values,
        "Code": series["code"].values, "Indicator": series["indicator_label"].values,
        "Indeling": series["scheme"].values, "Waarde": series["value"].round(1).values,
        "n": series["n"].values,
        "Reeks": [f"{c}·{int(s) + 1}" if not _is_missing(s) else "" for c, s in
                  zip(series["code"], series["segment"])],
        "Toelichting": notes,
    })


# ----------------------------------------------------------------------------- areas
def area_choices(tables: AreaTable | Iterable[AreaTable], gemeente_code: str | None = None
                 ) -> list[tuple[str, str]]:
    """[(code, label)] of the gemeente, its wijken and buurten over one or more tables,
    e.g. ("BU99010101", "Buurt: Rozenpark 1.1 (BU99010101)"). Areas that do not occur in
    the latest table get the years in which they exist."""
    tabs = [tables] if isinstance(tables, AreaTable) else list(tables)
    tabs = sorted(tabs, key=lambda t: t.meta.year)
    if not tabs:
        return []
    seen: dict[str, dict[str, Any]] = {}
    for t in tabs:
        d = t.data
        mask = d["level"].isin(["gemeente", "wijk", "buurt"])
        if gemeente_code:
            mask &= (d["gemeente_code"] == gemeente_code) | (d["code"] == gemeente_code)
        for code, name, level in zip(d.loc[mask, "code"], d.loc[mask, "name"], d.loc[mask, "level"]):
            e = seen.setdefault(code, {"years": []})
            e.update(name=name, level=level)
            e["years"].append(t.meta.year)
    last = tabs[-1].meta.year
    order = {"gemeente": 0, "wijk": 1, "buurt": 2}
    out = []
    for code, e in sorted(seen.items(), key=lambda kv: (order[kv[1]["level"]], kv[0])):
        label = f"{LEVEL_LABELS[e['level']]}: {e['name']} ({code})"
        if len(tabs) > 1 and last not in e["years"]:
            label += f" – {min(e['years'])}–{max(e['years'])}"
        out.append((code, label))
    return out
