"""The key figures of a briefing item: 2–4 Dutch sentences computed from the data (never
typed by hand), per view. Pure: every function takes the frames or results it describes."""

from __future__ import annotations

import pandas as pd

from buurtmonitor import analysis
from buurtmonitor import formatting as fmt
from buurtmonitor.briefing.common import _missing
from buurtmonitor.catalogue import Indicator
from buurtmonitor.harmonise import SMALL_N
from buurtmonitor.lokale_kaart import change, presenters
from buurtmonitor.lokale_kaart.indices import GemeenteMeasures
from buurtmonitor.maps.labels import n_label
from buurtmonitor.model import MISSING_LABELS


def _n_label(ind: Indicator) -> str:
    return n_label(ind, short=True)


def map_key_figures(frame: pd.DataFrame, ind: Indicator, gemeente: str, name: str, level: str,
                    area: str | None = None) -> list[str]:
    """2–4 sentences about the map: gemeente against Nederland, highest and lowest area,
    areas without a value (suppressed), uncertain small numbers."""
    plural = fmt.level_plural(level)
    out: list[str] = []
    gem = frame[frame["code"] == gemeente]
    nl = frame[frame["level"] == "land"]
    nl_v = float(nl["value"].iloc[0]) if len(nl) and not _missing(nl["value"].iloc[0]) else None
    if len(gem) and not _missing(gem["value"].iloc[0]):
        g = gem.iloc[0]
        counts = ""
        if ind.kind == "share" and not _missing(g["numerator"]) and not _missing(g["n"]):
            counts = f" ({fmt.number(g['numerator'], 0)} van de {fmt.number(g['n'], 0)} {_n_label(ind)})"
        s = f"{ind.label} in {name}: {fmt.value(g['value'], ind.unit)}{counts}"
        if nl_v is not None:
            diff = float(g["value"]) - nl_v
            word = "hoger dan" if diff > 0 else ("lager dan" if diff < 0 else "gelijk aan")
            s += f"; dat is {word} in Nederland ({fmt.value(nl_v, ind.unit)})"
        out.append(s + ".")
    elif len(gem):
        why = MISSING_LABELS.get(gem["missing"].iloc[0] or "", "geen gegevens")
        out.append(f"Voor {name} als geheel is er geen waarde voor {ind.label} ({why}).")
    areas = frame[frame["level"] == level]
    has = areas[areas["value"].notna()].sort_values(["value", "code"], kind="stable")
    if len(has) >= 2:
        lo, hi = has.iloc[0], has.sort_values(["value", "code"], ascending=[False, True]).iloc[0]
        s = (f"Hoogste waarde van de {len(has)} {plural} met een waarde: {hi['name']} "
             f"({fmt.value(hi['value'], ind.unit)}); laagste: {lo['name']} ({fmt.value(lo['value'], ind.unit)})")
        if len(gem) and not _missing(gem["value"].iloc[0]):
            above = int((has["value"] > float(gem["value"].iloc[0])).sum())
            s += f". {above} van de {len(has)} {plural} liggen boven het cijfer van de gemeente"
        out.append(s + ".")
    elif len(has) == 1:
        out.append(f"Alleen {has.iloc[0]['name']} heeft een waarde ({fmt.value(has.iloc[0]['value'], ind.unit)}).")
    miss = areas[areas["value"].isna()]
    if len(miss):
        by = miss["missing"].fillna("geen_gegevens").value_counts()
        reasons = ", ".join(f"{n}× {MISSING_LABELS.get(r, analysis.missing_label(r)).split(' (')[0]}"
                            for r, n in sorted(by.items()))
        out.append(f"{len(miss)} van de {len(areas)} {plural} hebben geen waarde ({reasons}); "
                   "die zijn grijs gearceerd en niet als 0 meegeteld.")
    elif len(areas):
        out.append(f"Alle {len(areas)} {plural} hebben een waarde; geen enkele is door CBS "
                   "geheimgehouden.")
    small = areas[areas["small_n"].fillna(False).astype(bool) & areas["value"].notna()]
    if len(small):
        out.append(f"Bij {len(small)} {plural} berust het cijfer op minder dan {SMALL_N} "
                   f"{_n_label(ind)}; die uitkomsten zijn onzeker (oranje rand).")
    elif area and area in set(areas["code"]):
        r = areas[areas["code"] == area].iloc[0]
        v = fmt.value(r["value"], ind.unit) if not _missing(r["value"]) else \
            MISSING_LABELS.get(r["missing"] or "", "geen waarde")
        out.append(f"Uitgelicht op de kaart: {r['name']} ({v}).")
    return out[:4]


# ----------------------------------------------------------------------------- herkomst
def composition_key_figures(comp: pd.DataFrame, group: str | None, name: str, level: str,
                            year: int, scheme_label: str) -> list[str]:
    plural = fmt.level_plural(level)
    out: list[str] = []
    groups = list(dict.fromkeys(comp["group"]))
    labels = comp.drop_duplicates("group").set_index("group")["label"].to_dict()

    def parts(code_role: str) -> str:
        sub = comp[comp["role"] == code_role].drop_duplicates("group").set_index("group")
        return ", ".join(f"{labels[g]} {fmt.number(sub.at[g, 'share'])}%" for g in groups
                         if g in sub.index and not _missing(sub.at[g, "share"]))

    gem = parts(analysis.ROLE_GEMEENTE)
    if gem:
        land = comp[comp["role"] == analysis.ROLE_NEDERLAND].drop_duplicates("group")
        land = [f"{fmt.number(v)}%" for v in land.set_index("group").reindex(groups)["share"]
                if not _missing(v)]
        out.append(f"Herkomst van de inwoners van {name} ({year}): {gem}"
                   + (f"; in heel Nederland {', '.join(land[:-1])} en {land[-1]}." if len(land) > 1
                      else "."))
    areas = comp[comp["role"] == analysis.ROLE_AREA]
    if group in groups:
        sub = areas[(areas["group"] == group) & areas["share"].notna()]
        sub = sub.sort_values(["share", "code"], ascending=[False, True], kind="stable")
        if len(sub) >= 2:
            hi, lo = sub.iloc[0], sub.iloc[-1]
            out.append(f"Hoogste aandeel {labels[group]}: {hi['name']} ({fmt.number(hi['share'])}%); "
                       f"laagste: {lo['name']} ({fmt.number(lo['share'])}%), van de {len(sub)} {plural} "
                       "met cijfers.")
    n_areas = areas["code"].nunique()
    none = areas.groupby("code")["share"].apply(lambda s: s.notna().any())
    missing = int((~none).sum())
    if missing:
        out.append(f"Voor {missing} van de {n_areas} {plural} zijn er geen herkomstcijfers (CBS "
                   "maakt kleine aantallen niet bekend); ze tellen niet als 0.")
    else:
        out.append(f"Alle {n_areas} {plural} hebben herkomstcijfers.")
    if len(out) < 3:
        out.append(f"Indeling {year}: {scheme_label}. De indeling naar herkomst (vanaf 2023) is "
                   "niet vergelijkbaar met de migratieachtergrond tot en met 2022.")
    return out[:4]


def year_ranges(years) -> str:
    """[2016, 2017, 2018, 2021] -> "2016–2018, 2021"."""
    ys = sorted(int(y) for y in years)
    parts: list[str] = []
    i = 0
    while i < len(ys):
        j = i
        while j + 1 < len(ys) and ys[j + 1] == ys[j] + 1:
            j += 1
        parts.append(str(ys[i]) if i == j else f"{ys[i]}–{ys[j]}")
        i = j + 1
    return ", ".join(parts)


def change_sentence(year: int, level: str, previous: int | None,
                    result: change.ChangeResult | None = None, error: str | None = None) -> str:
    """One sentence on the change signals between ``previous`` and ``year``.

    Parameters
    ----------
    year, level : int, str
        The year and the level of the areas compared.
    previous : int or None
        The previous year of the same origin classification (None: there is none).
    result : ChangeResult, optional
        The signals, when they could be computed.
    error : str, optional
        Why they could not: a Dutch message (a scheme break), or ``""`` when the earlier
        year could not be loaded.
    """
    if previous is None:
        return ("Geen veranderingssignalen: er is geen eerder jaar met dezelfde herkomstindeling "
                "(de breuk 2022 → 2023 wordt bewust niet overbrugd).")
    if result is None:
        if error:
            return error
        return (f"Geen veranderingssignalen {previous} → {year}: de cijfers van {previous} konden "
                "niet worden geladen.")
    areas = result.areas
    n_sig = int((areas["status"] == change.STATUS_SIGNAL).sum()) if len(areas) else 0
    return (f"Veranderingssignalen {previous} → {year}: {n_sig} van de {len(areas)} {fmt.level_plural(level)} "
            "vallen op door een sterke verschuiving in samenstelling of inwonertal (zie de pagina "
            "Lokale kaart).")


def lokale_kaart_key_figures(m: GemeenteMeasures, level: str, change_line: str | None = None) -> list[str]:
    """Up to four sentences on the segregation measures ``m`` of one gemeente: the
    dissimilarity index with its reading (:func:`presenters.reading`, the words of the Lokale
    kaart page: the national place first, the rule of thumb second), Theil's H and multigroup D,
    the isolation of the second group of the pair, and ``change_line``."""
    plural = fmt.level_plural(level)
    labels = m.labels
    a, b = m.pair
    key: list[str] = []
    d = m.dissimilarity
    if d is not None:
        key.append(f"Ongelijkheidsindex D ({labels[a]} / {labels[b]}) over {m.n_areas} {plural}: "
                   f"{fmt.index(d)}. {presenters.reading(m, 'dissimilarity').sentence()}")
    h = m.theil_h
    if h is not None:
        parts = []
        for k, label in (("theil_h", "Entropie-index H"), ("multigroup_dissimilarity", "meergroeps-D")):
            r = presenters.reading(m, k)
            if r.value is None:
                continue
            where = r.rank_text() or "geen landelijke vergelijking"
            band = f"; vuistregel: “{r.band}”" if r.band else ""
            parts.append(f"{label} {fmt.index(r.value)} ({where}{band})")
        key.append("; ".join(parts) + ".")
    iso = m.isolation.get(b)
    share = m.group_shares.get(b)
    if iso is not None and share is not None:
        key.append(f"Iemand met {labels[b]} woont gemiddeld in een {level} waar "
                   f"{fmt.number(100 * iso, 1)}% tot dezelfde groep hoort; in de hele gemeente is dat "
                   f"{fmt.number(100 * share, 1)}%.")
    if change_line:
        key.append(change_line)
    if not key:
        key = list(m.warnings or ["De maten konden niet worden berekend."])
    return key[:4]
