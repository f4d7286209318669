"""One row per indicator × origin group × year of a gemeente (pure): the table behind the
command line ``python -m buurtmonitor integratie`` and the CSV/XLSX export of the Integratie
view in the briefing.

:func:`indicator_rows` gives machine columns (:data:`ROW_COLUMNS`): the value and n, the
reference group and its value, the gap to it (``gap``, in procentpunt for percentages),
the same group in the whole country (``country_value``, ``gap_to_country``) and the national
gap (``country_gap``), the table id, the API and the source line. The reference group itself has
gap 0; counts (``kind = "count"``) have no gaps. A missing value stays missing with its reason
(``missing``, ``missing_label``), never 0. The two origin schemes are handled apart
(:func:`~buurtmonitor.integratie.measures.split_schemes`): no gap crosses the break.

:func:`export_table` is the same table with Dutch column names for people (the CSV and XLSX
exports format the numbers through :mod:`buurtmonitor.exports.tabular`).
"""

from __future__ import annotations

import pandas as pd

from .catalogue import OriginCatalogue, load_origin_catalogue
from .measures import gap_table, split_schemes

ROW_COLUMNS = [
    "gemeente_code", "gemeente_name", "year", "indicator", "indicator_label", "group", "group_label",
    "value", "n", "unit", "reference_group", "reference_value", "gap", "gap_unit", "country_value",
    "gap_to_country", "country_gap", "scheme", "table_id", "api", "missing", "missing_label", "source",
]
#: Dutch headers of :func:`export_table`
EXPORT_COLUMNS = {
    "gemeente_name": "Gemeente", "year": "Jaar", "indicator_label": "Indicator", "group_label": "Groep",
    "value": "Waarde", "unit": "Eenheid", "n": "n (personen)", "reference_value": "Referentiegroep",
    "gap": "Verschil met referentiegroep", "gap_unit": "Eenheid verschil",
    "country_value": "Nederland (zelfde groep)", "country_gap": "Verschil in Nederland",
    "scheme": "Indeling", "table_id": "Tabel", "missing_label": "Toelichting",
}
_NUMERIC = ("value", "n", "reference_value", "gap", "country_value", "gap_to_country", "country_gap")


def years_of(frame: pd.DataFrame, gemeente: str) -> list[int]:
    """The years with figures for ``gemeente`` (a table without a period has none)."""
    own = frame[(frame["gemeente_code"] == gemeente) & (frame["level"] == "gemeente") & (frame["year"] > 0)]
    return sorted(int(y) for y in own["year"].unique())


def indicator_rows(frame: pd.DataFrame, gemeente: str, *, year: int | None = None,
                   catalogue: OriginCatalogue | None = None) -> pd.DataFrame:
    """Every indicator × group × year (× table) of ``gemeente`` in a combined frame (with the
    country rows), columns :data:`ROW_COLUMNS`, in catalogue order of indicator and group.

    ``year``: only that year. ``year`` is None in a row of a table that names no period.
    """
    cat = catalogue or load_origin_catalogue()
    sel = frame[((frame["gemeente_code"] == gemeente) & (frame["level"] == "gemeente")) | (frame["level"] == "land")]
    if year is not None:
        sel = sel[sel["year"] == int(year)]
    sel = sel[sel["indicator"].isin(cat.indicators.keys()) & sel["group"].isin(cat.groups.keys())]
    own = sel[sel["level"] == "gemeente"]
    if own.empty:
        return pd.DataFrame(columns=ROW_COLUMNS)
    parts: list[pd.DataFrame] = []
    for scheme, part in split_schemes(sel).items():
        ref = cat.reference_group(scheme)
        for ind_id in dict.fromkeys(part["indicator"]):
            ind = cat.indicators[ind_id]
            sub = part[part["indicator"] == ind_id]
            mine = sub[sub["level"] == "gemeente"]
            if mine.empty:
                continue
            country = sub[sub["level"] == "land"][["table_id", "year", "group", "value"]].rename(
                columns={"value": "country_value"})
            base = mine.merge(country, how="left", on=["table_id", "year", "group"])
            base["gap_unit"] = ind.gap_unit
            if ind.gap_unit is None:
                parts.append(base)
                continue
            keys = ["table_id", "year", "group"]
            groups = [g for g in dict.fromkeys(mine["group"]) if g != ref]
            gaps = gap_table(sub, ind_id, groups=groups, catalogue=cat) if groups else pd.DataFrame()
            gaps = gaps[gaps["gemeente_code"] == gemeente] if not gaps.empty else gaps
            gaps = gaps.reindex(columns=[*keys, "reference_value", "gap", "gap_to_country", "country_gap",
                                         "missing"]).rename(columns={"missing": "gap_missing"})
            base = base.merge(gaps, how="left", on=keys)
            is_ref = base["group"] == ref
            v, c = base.loc[is_ref, "value"], base.loc[is_ref, "country_value"]
            base.loc[is_ref, "reference_value"] = v
            base.loc[is_ref, "gap"] = v - v             # 0, or missing with the value
            base.loc[is_ref, "gap_to_country"] = v - c
            base.loc[is_ref, "country_gap"] = c - c
            base["reference_group"] = ref
            base["missing"] = base["missing"].where(base["missing"].notna(), base["gap_missing"])
            parts.append(base.drop(columns=["gap_missing"]))
    if not parts:
        return pd.DataFrame(columns=ROW_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["indicator_label"] = out["indicator"].map(lambda i: cat.indicators[i].label)
    out["group_label"] = out["group"].map(lambda g: cat.groups[g].label)
    out["missing_label"] = out["missing"].map(lambda m: cat.missing_label(m) if isinstance(m, str) else "")
    out["missing"] = out["missing"].astype(object).where(out["missing"].notna(), None)
    for col in _NUMERIC:
        out[col] = pd.to_numeric(out.get(col), errors="coerce").astype(float)
    ind_order = {i: n for n, i in enumerate(cat.indicators)}
    grp_order = {g: n for n, g in enumerate(cat.groups)}
    out["_i"] = out["indicator"].map(ind_order)
    out["_g"] = out["group"].map(grp_order)
    out = out.sort_values(["scheme", "table_id", "_i", "_g", "year"], kind="stable")
    out["year"] = out["year"].astype(object).where(out["year"] > 0, None)
    return out.reindex(columns=ROW_COLUMNS).reset_index(drop=True)


def export_table(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`indicator_rows` for people: Dutch headers (:data:`EXPORT_COLUMNS`), the unit of a
    gap as ``procentpunt``, the scheme as its Dutch name."""
    out = rows.reindex(columns=list(EXPORT_COLUMNS)).copy()
    out["gap_unit"] = out["gap_unit"].map(lambda u: "procentpunt" if u == "pp" else (u or ""))
    out["scheme"] = out["scheme"].map({"herkomst": "herkomst",
                                       "migratieachtergrond": "migratieachtergrond (oude indeling)"}).fillna("")
    # as text: a spreadsheet would write a year as 2.021
    out["year"] = [str(int(y)) if y is not None and y == y else "" for y in out["year"]]
    return out.rename(columns=EXPORT_COLUMNS).reset_index(drop=True)
