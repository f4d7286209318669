"""What the Lokale kaart shows, built from the results of the analysis: readable Dutch
tables, lines of text, the data context that prefills each worksheet section and the whole
worksheet as text. Pure: no Streamlit and no loading (the page and its Streamlit tabs live
in :mod:`app.lokale_kaart_view`, which hands the results in).

User text (worksheet notes, author names) stays plain text: the tables and the worksheet
text never turn it into Markdown or HTML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from buurtmonitor import formatting as fmt
from buurtmonitor import small_areas
from buurtmonitor.catalogue import load_catalogue, load_lokale_kaart
from buurtmonitor.lokale_kaart import change as change_mod
from buurtmonitor.lokale_kaart import clusters as clusters_mod
from buurtmonitor.lokale_kaart import interpretation, segregation
from buurtmonitor.lokale_kaart.indices import GemeenteMeasures
from buurtmonitor.model import FICTITIOUS_LABEL, MISSING_LABELS, MISSING_SMALL_AREA, AreaTable

VIEW = "lokale_kaart"
WHOLE_GEMEENTE = ""   # area "code" of notes about the whole gemeente


# ----------------------------------------------------------------------------- loading
@dataclass
class PageData:
    """Everything the tabs need for one selection."""

    year: int
    gemeente: str
    gemeente_name: str
    level: str
    indicator: str
    table: AreaTable
    names: dict[str, str]                  # code -> name of the areas of ``level``
    all_names: dict[str, str] = field(default_factory=dict)  # wijken and buurten
    measures: GemeenteMeasures | None = None
    measures_error: str | None = None
    change: ChangeView | None = None
    cluster: ClusterView | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def fictitious(self) -> bool:
        return bool(self.table.meta.fictitious)

    def name(self, code: str | None) -> str:
        if not code:
            return "hele gemeente"
        return str(self.names.get(code) or self.all_names.get(code) or code)


def area_names(table: AreaTable, gemeente: str, level: str) -> dict[str, str]:
    d = table.data
    sub = d[(d["level"] == level) & (d["gemeente_code"] == gemeente)]
    return {str(c): str(n) for c, n in zip(sub["code"], sub["name"])}


def all_area_names(table: AreaTable, gemeente: str) -> dict[str, str]:
    d = table.data
    sub = d[d["level"].isin(["wijk", "buurt"]) & (d["gemeente_code"] == gemeente)]
    return {str(c): str(n) for c, n in zip(sub["code"], sub["name"])}


# ----------------------------------------------------------------------------- tab 1 tables
def composition_table(m: GemeenteMeasures) -> pd.DataFrame:
    """One row per origin group of the gemeente: persons, share, isolation."""
    rows = []
    for g in m.groups:
        rows.append({
            "Groep": m.labels[g],
            "Inwoners": m.group_totals.get(g),
            "Aandeel in de gemeente (%)": _r(100 * (m.group_shares.get(g) or np.nan), 1),
            "Isolatie xPx (%)": _r(100 * _f(m.isolation.get(g)), 1),
        })
    return pd.DataFrame(rows)


def exposure_table(m: GemeenteMeasures) -> pd.DataFrame:
    """The isolation/exposure matrix in percent: row = the group someone belongs to,
    column = the average share of each group in the area where they live (diagonal =
    isolation), plus the share of each group in the whole gemeente for comparison."""
    groups, labels = m.groups, m.labels
    short = {g: labels[g].removeprefix("herkomst ") for g in groups}
    rows = []
    for gx in groups:
        row: dict[str, Any] = {"Iemand met": labels[gx]}
        for gy in groups:
            row[f"% {short[gy]}"] = _r(100 * _f(m.exposure[gx][gy]), 1)
        rows.append(row)
    ref: dict[str, Any] = {"Iemand met": "ter vergelijking: de hele gemeente"}
    for gy in groups:
        ref[f"% {short[gy]}"] = _r(100 * _f(m.group_shares.get(gy)), 1)
    rows.append(ref)
    return pd.DataFrame(rows)


def areas_table(m: GemeenteMeasures) -> pd.DataFrame:
    """Per area: residents, shares, diversity (entropy, Gini-Simpson), location quotients.
    An area below the small-area rule (:mod:`buurtmonitor.small_areas`) keeps its residents
    but shows no shares, diversity or LQ ("Toelichting" says why)."""
    groups, labels = m.groups, m.labels
    minimum = small_areas.min_n()
    rows = []
    for a in m.areas:
        small = a.total is not None and _f(a.total) < minimum
        row: dict[str, Any] = {"Code": a.code, "Naam": a.name or a.code, "Inwoners": a.total}
        for g in groups:
            row[f"Aandeel {labels[g]} (%)"] = None if small else _r(100 * _f(a.shares.get(g)), 1)
        row["Diversiteit (entropie, 0–1)"] = None if small else _r(a.entropy, 3)
        row["Diversiteit (Gini-Simpson)"] = None if small else _r(a.gini_simpson, 3)
        for g in groups:
            row[f"LQ {labels[g]}"] = None if small else _r(a.lq.get(g), 2)
        row["Toelichting"] = MISSING_LABELS[MISSING_SMALL_AREA] if small else ""
        rows.append(row)
    return pd.DataFrame(rows)


def dropped_table(dropped: list[dict[str, str]], names: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"Code": d["code"], "Naam": names.get(d["code"], ""),
                          "Reden": _readable_reason(d["reason"])} for d in dropped],
                        columns=["Code", "Naam", "Reden"])


def _readable_reason(reason: str) -> str:
    """Replace variable ids in a reason by their Dutch labels."""
    out = str(reason)
    for key, label in segregation.GROUP_LABELS.items():
        if key in out and not key[0].isupper():
            out = out.replace(key, label)
    return out


def national_lines(m: GemeenteMeasures) -> dict[str, str]:
    """measure key -> the Dutch reading of its value (:func:`interpretation.read`): the place
    among all gemeenten first (with the median), the rule of thumb of the literature second.
    The briefing pack uses the same lines."""
    if m.national is None:
        return {}
    return {key: reading(m, key).sentence() for key in segregation.NATIONAL_MEASURES}


def reading(m: GemeenteMeasures, key: str) -> interpretation.Reading:
    """The reading of measure ``key`` of ``m`` (with the national place when ``m`` has it)."""
    why = ("Geen landelijke vergelijking (fictieve gegevens)." if m.fictitious else
           (m.national_error or "Geen landelijke vergelijking beschikbaar."))
    return interpretation.read(key, m.value(key), m.national, why_no_rank=why)


# ----------------------------------------------------------------------------- tab 2
@dataclass
class ChangeView:
    """What the change tab shows: either a result, or why there is none."""

    year: int
    previous: int | None
    result: change_mod.ChangeResult | None = None
    message: str | None = None            # Dutch: why there is no signal
    detail: str | None = None             # technical detail (shown small)
    scheme_break: bool = False
    boundary_changes: list[dict[str, str]] = field(default_factory=list)
    boundary_note: str | None = None


def boundary_changes(table_a: AreaTable, table_b: AreaTable, gemeente: str,
                     level: str) -> list[dict[str, str]]:
    """Areas of ``level`` in only one of the two years (new, split, merged or recoded)."""
    def codes(t: AreaTable) -> list[str]:
        d = t.data
        return [str(c) for c in d[(d["level"] == level) & (d["gemeente_code"] == gemeente)]["code"]]

    a, b = codes(table_a), codes(table_b)
    ya, yb = table_a.meta.year, table_b.meta.year
    return ([{"code": c, "reason": f"alleen in {ya} (grens of code gewijzigd)"} for c in a if c not in set(b)]
            + [{"code": c, "reason": f"alleen in {yb} (grens of code gewijzigd)"} for c in b if c not in set(a)])


def scheme_break_text(year: int) -> str:
    cat = load_catalogue()
    scheme = cat.scheme_for_year(year)
    before = year - 1
    return (
        f"Voor {year} wordt geen veranderingssignaal berekend. {year} gebruikt de indeling naar "
        f"{change_mod.SCHEME_LABELS.get(scheme, scheme)}, en er is geen eerder jaar met dezelfde "
        "indeling. CBS is in 2023 overgestapt van migratieachtergrond naar herkomst: de groepen "
        "zijn anders afgebakend (de indeling westers/niet-westers is vervangen door Europa/"
        "buiten Europa; zo vallen Indonesië en Japan nu onder 'buiten Europa'). Een verschil tussen "
        f"{before} en {year} zegt daarom niets over een echte verandering in de buurt. Er is "
        "dus bewust geen signaal over de breuk 2022 → 2023 heen. Vergelijk alleen jaren met "
        "dezelfde indeling (bijvoorbeeld 2023 met 2024, of 2019 met 2022)."
    )


DEFAULT_THRESHOLDS = {"share_pp": change_mod.DEFAULT_SHARE_THRESHOLD_PP,
                      "population_pct": change_mod.DEFAULT_POPULATION_THRESHOLD_PCT,
                      "composition_pp": change_mod.DEFAULT_COMPOSITION_THRESHOLD_PP,
                      "min_population": change_mod.DEFAULT_MIN_POPULATION}


SIGNAL_LABELS = {change_mod.SIGNAL_SHARE: "aandeel groep", change_mod.SIGNAL_POPULATION: "aantal inwoners",
                 change_mod.SIGNAL_COMPOSITION: "samenstelling"}


def flags_table(res: change_mod.ChangeResult, names: dict[str, str]) -> pd.DataFrame:
    f = res.flags
    glabels = {g: segregation.group_label(g) for g in res.groups}
    out = pd.DataFrame({
        "Naam": [names.get(c, "") for c in f["code"]], "Code": f["code"],
        "Signaal": [SIGNAL_LABELS.get(s, s) + (f": {glabels.get(g, g)}" if isinstance(g, str) and g else "")
                    for s, g in zip(f["signal"], f["group"])],
        "Verandering": [f"{fmt.number(v, 1)} {'%' if u == 'procent' else 'procentpunt'}"
                        for v, u in zip(f["value"], f["unit"])],
        "Drempel": [f"{fmt.number(t, 1)} {'%' if u == 'procent' else 'procentpunt'}"
                    for t, u in zip(f["threshold"], f["unit"])],
        "Waarom gemarkeerd": f["reason"],
    })
    return out.reset_index(drop=True)


def flagged_areas(res: change_mod.ChangeResult, names: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per flagged area (strongest first): code, name, reasons (plain Dutch)."""
    if res.flags.empty:
        return []
    f = res.flags.copy()
    f["ratio"] = f["value"].abs() / f["threshold"].replace(0, np.nan)
    out = []
    for code, grp in f.groupby("code", sort=False):
        out.append({"code": code, "name": names.get(code, code), "ratio": float(grp["ratio"].max()),
                    "reasons": grp.sort_values("ratio", ascending=False)["reason"].tolist()})
    return sorted(out, key=lambda a: -a["ratio"])


def change_areas_table(res: change_mod.ChangeResult, names: dict[str, str]) -> pd.DataFrame:
    a = res.areas
    sh = res.shares.pivot_table(index="code", columns="label", values="change_pp", aggfunc="first") \
        if not res.shares.empty else pd.DataFrame()
    out = pd.DataFrame({
        "Code": a["code"], "Naam": [names.get(c, "") for c in a["code"]],
        f"Inwoners {res.year_a}": a["total_a"], f"Inwoners {res.year_b}": a["total_b"],
        "Verandering inwoners (%)": a["pop_change_pct"].round(1),
        "Verandering samenstelling (procentpunt)": a["composition_change_pp"].round(1),
    })
    for col in sh.columns:
        out[f"Δ aandeel {col} (procentpunt)"] = [_r(sh[col].get(c), 1) for c in a["code"]]
    out["Status"] = a["status"]
    return out.reset_index(drop=True)


def strongest_flags(res: change_mod.ChangeResult | None, n: int = 3) -> list[dict[str, Any]]:
    """The ``n`` flags furthest above their threshold (relative)."""
    if res is None or res.flags.empty:
        return []
    f = res.flags.copy()
    f["ratio"] = f["value"].abs() / f["threshold"].replace(0, np.nan)
    f = f.sort_values("ratio", ascending=False)
    return f.head(n).to_dict(orient="records")


# ----------------------------------------------------------------------------- tab 3
@dataclass
class ClusterView:
    result: clusters_mod.ClusterResult | None = None
    message: str | None = None            # Dutch: why there is no cluster map
    kind: str = "ok"                       # ok | geen_grenzen | te_weinig | geen_patroon
    detail: str | None = None             # technical detail (shown small)


def no_boundaries_text(level: str, gemeente: str, year: int, *, clusters: bool = True) -> str:
    why = (" Zonder grenzen is niet bekend welke gebieden aan elkaar grenzen, en dat is de basis "
           "van de clusteranalyse." if clusters else "")
    what = "de clusterkaart" if clusters else "deze kaart"
    return (f"Er is geen {what.split(' ', 1)[1]}: de grenzen van de {fmt.level_plural(level)} van deze "
            f"gemeente voor {year} zijn niet te krijgen bij de bron van de grenzen (PDOK), dus {what} kan "
            f"niet worden gemaakt.{why} Probeer het later opnieuw.")


def cluster_table(res: clusters_mod.ClusterResult, names: dict[str, str], decimals: int = 1) -> pd.DataFrame:
    t = res.table
    order = {lab: i for i, lab in enumerate(clusters_mod.CLUSTER_LABELS)}
    out = pd.DataFrame({
        "Code": t["code"], "Naam": [names.get(c, "") for c in t["code"]],
        "Waarde": t["value"].round(decimals), "Cluster": t["cluster"],
        "Lokale Moran Iᵢ": t["Ii"].round(3), "p-waarde (permutaties)": t["p_sim"].round(3),
    })
    out["_o"] = out["Cluster"].map(order)
    return out.sort_values(["_o", "Waarde"], ascending=[True, False]).drop(columns="_o").reset_index(drop=True)


def moran_text(res: clusters_mod.ClusterResult) -> str:
    i = res.moran_i
    if res.moran_p_sim >= res.alpha:
        strength = "Het patroon kan goed toeval zijn: er is geen duidelijke ruimtelijke clustering."
    elif i >= 0.5:
        strength = "Gelijke waarden liggen sterk bij elkaar (duidelijke clustering)."
    elif i >= 0.2:
        strength = "Gelijke waarden liggen vaker bij elkaar dan bij toeval (matige clustering)."
    elif i > 0:
        strength = "Er is een zwakke neiging tot clustering."
    else:
        strength = "Hoge en lage waarden wisselen elkaar eerder af dan dat ze clusteren."
    return f"{res.summary()} {strength}"


# ----------------------------------------------------------------------------- tab 4 context
def section_context(section: str, data: PageData) -> str:
    """Read-only data context that prefills one worksheet section (plain text)."""
    m, ch, cl = data.measures, data.change, data.cluster
    cat = load_catalogue()
    lines: list[str] = []
    lv = fmt.level_plural(data.level)
    ind = cat.indicators.get(data.indicator)
    ind_label = ind.label if ind else data.indicator
    texts = {s.id: s for s in load_lokale_kaart().sections}
    sec = texts.get(section)
    if sec is not None and sec.intro:
        lines.append(sec.intro)
    if section == "themas":
        if m and m.dissimilarity is not None:
            a, b = m.pair
            lines.append(f"Ongelijkheidsindex D ({m.labels[a]} / {m.labels[b]}): "
                         f"{fmt.index(m.dissimilarity)} over {m.n_areas} {lv}.")
        over = _overrepresented(m, data.names)
        if over:
            lines.append("Gebieden waar een groep minstens twee keer zo sterk vertegenwoordigd is als "
                         "in de hele gemeente (LQ ≥ 2): " + "; ".join(over) + ".")
    elif section == "groepen":
        if m and m.group_shares:
            lines.append("Samenstelling naar herkomst (in de berekening):")
            for g in m.groups:
                lines.append(f"- {m.labels[g]}: {fmt.number(m.group_totals.get(g), 0)} inwoners "
                             f"({fmt.percent(m.group_shares.get(g))}); isolatie {fmt.percent(m.isolation.get(g))}")
            lines.append("Isolatie boven het aandeel in de gemeente betekent dat een groep meer "
                         "onder elkaar woont dan bij gelijke spreiding.")
        if sec is not None and sec.outro:
            lines.append(sec.outro)
    elif section == "plekken":
        if cl and cl.result is not None:
            by = cl.result.table.groupby("cluster")["code"].apply(list).to_dict()
            for label in (clusters_mod.HIGH_HIGH, clusters_mod.LOW_LOW, clusters_mod.HIGH_LOW,
                          clusters_mod.LOW_HIGH):
                codes = by.get(label, [])
                if codes:
                    lines.append(f"{label} voor '{ind_label}': "
                                 + ", ".join(data.name(c) for c in codes) + ".")
            if not any(by.get(lab) for lab in clusters_mod.CLUSTER_LABELS[:4]):
                lines.append(f"Geen significante clusters voor '{ind_label}'.")
        elif cl and cl.message:
            lines.append(f"Clusters voor '{ind_label}': niet berekend. {_first_sentence(cl.message)}")
        if ch and ch.result is not None:
            flagged = list(dict.fromkeys(ch.result.flags["code"]))
            if flagged:
                lines.append(f"Gebieden met een veranderingssignaal ({ch.result.year_a} → "
                             f"{ch.result.year_b}): " + ", ".join(data.name(c) for c in flagged) + ".")
            else:
                lines.append(f"Geen gebieden met een veranderingssignaal ({ch.result.year_a} → "
                             f"{ch.result.year_b}) bij de gekozen drempels.")
        elif ch and ch.message:
            lines.append("Veranderingssignalen: " + _first_sentence(ch.message))
        if m and m.areas:
            ent = sorted((a for a in m.areas if a.entropy is not None), key=lambda a: float(a.entropy or 0.0))
            if len(ent) >= 2:
                lines.append("Meest gemengd: " + ", ".join(f"{data.name(a.code)} ({fmt.index(a.entropy)})"
                                                          for a in ent[::-1][:3]) + ".")
                lines.append("Minst gemengd: " + ", ".join(f"{data.name(a.code)} ({fmt.index(a.entropy)})"
                                                          for a in ent[:3]) + ".")
    elif section == "fase":
        if ch and ch.result is not None:
            n_sig = int((ch.result.areas["status"] == change_mod.STATUS_SIGNAL).sum())
            lines.append(f"Ter vergelijking: {n_sig} van de {len(ch.result.areas)} vergeleken {lv} "
                         f"hebben een veranderingssignaal tussen {ch.result.year_a} en {ch.result.year_b}. "
                         "Snelle verandering kan, maar hoeft geen spanning te geven.")
        elif ch and ch.message:
            lines.append(_first_sentence(ch.message))
    elif section == "kerncijfers":
        if m:
            lines.append(f"Inwoners in de berekening: {fmt.number(m.population, 0)} in {m.n_areas} {lv}"
                         + (f" ({len(m.dropped)} {lv} weggelaten)" if m.dropped else "") + ".")
            if m.group_shares:
                lines.append("Samenstelling: " + ", ".join(
                    f"{m.labels[g]} {fmt.percent(m.group_shares.get(g))}" for g in m.groups) + ".")
            if m.dissimilarity is not None:
                a, b = m.pair
                rank = national_lines(m).get("dissimilarity")
                lines.append(f"Ongelijkheidsindex D ({m.labels[a]} / {m.labels[b]}): "
                             f"{fmt.index(m.dissimilarity)}."
                             + (f" {rank}" if rank else
                                (" Geen landelijke vergelijking (fictieve gegevens)." if data.fictitious
                                 else " Geen landelijke vergelijking beschikbaar.")))
            if m.theil_h is not None:
                lines.append(f"Entropie-index H (Theil): {fmt.index(m.theil_h)}.")
        elif data.measures_error:
            lines.append(data.measures_error)
        top = strongest_flags(ch.result if ch else None)
        if top and ch is not None and ch.result is not None:
            lines.append(f"Sterkste veranderingssignalen ({ch.result.year_a} → {ch.result.year_b}):")
            for f in top:
                lines.append(f"- {data.name(f['code'])}: {f['reason']}")
        elif ch and ch.result is not None:
            lines.append(f"Geen veranderingssignalen boven de drempels ({ch.result.year_a} → {ch.result.year_b}).")
        elif ch and ch.message:
            lines.append("Veranderingen: " + _first_sentence(ch.message))
        if sec is not None and sec.outro:
            lines.append(sec.outro)
        lines.append(data.table.meta.source_line())
    elif section == "beleid":
        res = cat.resources_for(VIEW, None)[:5]
        if res:
            lines.append("Handreikingen die hierbij helpen: " + "; ".join(r.title for r in res) + ".")
    if data.fictitious:
        lines.insert(0, f"[{FICTITIOUS_LABEL}]")
    return "\n".join(lines)


def _overrepresented(m: GemeenteMeasures | None, names: dict[str, str], limit: int = 6) -> list[str]:
    if not m or not m.areas:
        return []
    hits = []
    for a in m.areas:
        for g in m.groups:
            lq = a.lq.get(g)
            if lq is not None and lq >= 2 and (a.total or 0) >= 100:
                hits.append((lq, f"{names.get(a.code, a.code)} ({m.labels[g]}, LQ {fmt.number(lq, 1)})"))
    hits.sort(key=lambda h: -h[0])
    return [h[1] for h in hits[:limit]]


def _first_sentence(text: str) -> str:
    s = str(text).split(". ")[0].strip()
    return s if s.endswith(".") else s + "."


def worksheet_text(data: PageData, notes: list[dict[str, Any]]) -> str:
    """The whole worksheet (data context + notes per section) as plain text for download."""
    out = [f"Werkblad analyse van de lokale kaart – {data.gemeente_name} ({data.gemeente}), {data.year}",
           f"Niveau: {fmt.level_plural(data.level)} · opgesteld met Buurtmonitor op "
           f"{datetime.now().strftime('%d-%m-%Y')}", ""]
    if data.fictitious:
        out += [FICTITIOUS_LABEL, ""]
    for sec in load_lokale_kaart().sections:
        key = sec.id
        out += [sec.title.upper(), sec.prompt, "", "Uit de cijfers:", section_context(key, data), ""]
        own = [n for n in notes if n["section"] == key]
        out.append("Notities:" if own else "Notities: (nog geen)")
        for n in own:
            who = n.get("author") or "onbekend"
            out.append(f"- [{data.name(n.get('area_code'))}; {who}; {_date(n.get('updated_at'))}]")
            out += ["  " + line for line in str(n["text"]).splitlines() or [""]]
        out.append("")
    out.append(data.table.meta.source_line())
    return "\n".join(out)


def _date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d-%m-%Y %H:%M")
    except ValueError:
        return str(iso)[:16]


# ----------------------------------------------------------------------------- small utils
def _f(x: Any) -> float:
    try:
        return float(x) if x is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def _r(x: Any, decimals: int) -> float | None:
    v = _f(x)
    return round(v, decimals) if math.isfinite(v) else None


