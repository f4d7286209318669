"""What the Integratie page shows, as plain data and Dutch sentences (no Streamlit).

The page works on one *bron* at a time: one CBS table by origin or one set of the gemeente's own
data (:class:`SourceChoice`), so one origin scheme and one definition of every indicator. For the
chosen year and indicator:

* :func:`gap_lines`: every origin group of the gemeente beside the reference group (herkomst
  Nederland, or Nederlandse achtergrond in the older scheme) and beside the same group in the whole
  country, with the gap and the national gap, the group size ``n`` and why a value is missing;
* :func:`gap_sentences`: the same in words ("Netto arbeidsparticipatie bij inwoners met herkomst
  buiten Europa: 61%, 14 procentpunt lager dan bij inwoners met herkomst Nederland (75%). ...");
* :func:`trend` and :func:`trend_sentences`: a group and the reference group over the years of
  the bron (one scheme: :mod:`buurtmonitor.integratie.measures` refuses to cross the break);
* :func:`indicator_table` and :func:`overview_table`: the tables on the page and in the exports;
* :func:`guidance`: the handreikingen beside the view, each with why it helps with these figures.

Values are rounded to the decimals the catalogue gives the indicator before anything is compared,
so a gap is always the difference of the two numbers shown. A missing value stays missing (its
reason is shown), never 0. Numbers are written by :mod:`buurtmonitor.formatting`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from buurtmonitor import formatting
from buurtmonitor.catalogue import Resource

from .catalogue import IndicatorDef, OriginCatalogue, load_origin_catalogue
from .measures import MISSING_NO_REFERENCE, SeriesPoint, gap_rows, series

#: the code of the whole country in the frames by origin
COUNTRY = "NL01"
#: ``year`` of a table that does not say which year its figures describe
YEAR_UNKNOWN = 0
#: the view id of the page (data/resources.toml)
VIEW = "integratie"
SCHEME_LABELS = {"herkomst": "Herkomst (CBS-indeling naar herkomstland)",
                 "migratieachtergrond": "Migratieachtergrond (oudere CBS-indeling)"}
SCHEME_SHORT = {"herkomst": "herkomst", "migratieachtergrond": "migratieachtergrond"}
#: preferred default choices
DEFAULT_INDICATOR = "netto_arbeidsparticipatie"
DEFAULT_GROUPS = ("herkomst_buiten_europa", "niet_westers", "met_migratieachtergrond", "herkomst_europa",
                  "westers")


# ------------------------------------------------------------------------------ small helpers
def _f(x: object) -> float | None:
    return formatting.to_float(x)


def _round(x: float | None, decimals: int) -> float | None:
    return None if x is None else round(float(x), decimals)


def lc_first(text: str) -> str:
    """``"Herkomst buiten Europa"`` -> ``"herkomst buiten Europa"`` (names keep their capital)."""
    return text[:1].lower() + text[1:]


def year_label(year: int | None) -> str:
    """``2021`` -> ``"2021"``; the unknown year (0) -> ``"jaar niet vermeld"``."""
    if year is None or int(year) == YEAR_UNKNOWN:
        return "jaar niet vermeld"
    return str(int(year))


def years_text(years: Iterable[int]) -> str:
    """``[2014, ..., 2023]`` -> ``"2014–2023"``; ``[2014, 2016, 2018]`` -> ``"2014, 2016 en 2018"``."""
    ys = sorted({int(y) for y in years})
    known = [y for y in ys if y != YEAR_UNKNOWN]
    parts: list[str] = []
    if known:
        if len(known) > 2 and known == list(range(known[0], known[-1] + 1)):
            parts.append(f"{known[0]}–{known[-1]}")
        else:
            parts.extend(str(y) for y in known)
    if YEAR_UNKNOWN in ys:
        parts.append("jaar niet vermeld")
    if not parts:
        return "geen jaren"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


def group_label(group: str, cat: OriginCatalogue | None = None) -> str:
    cat = cat or load_origin_catalogue()
    g = cat.groups.get(group)
    return g.label if g else group


def group_phrase(group: str, cat: OriginCatalogue | None = None) -> str:
    """The group as a sentence names it: ``"inwoners met herkomst buiten Europa"``,
    ``"inwoners met een westerse migratieachtergrond"``, ``"alle inwoners"``."""
    cat = cat or load_origin_catalogue()
    if group == "totaal":
        return "alle inwoners"
    label = group_label(group, cat)
    base = label.split(" (")[0].strip()
    low = base if base.startswith("Nederland") else lc_first(base)
    if low.startswith("herkomst ") or low.startswith("migratieachtergrond "):
        return f"inwoners met {low}"
    if low.startswith("met "):
        return f"inwoners {low}"
    if low.endswith("achtergrond"):               # "Nederlandse achtergrond", "Westerse migratieachtergrond"
        return f"inwoners met een {low}"
    if low.startswith("overig "):                 # "Overig buiten Europa (excl. ...)"
        return f"inwoners met een andere herkomst {low[len('overig '):]}"
    if "," in base:                               # "Europa, geboren in Nederland"
        where, born = base.split(",", 1)
        return f"inwoners met herkomst {where.strip()}, {born.strip()}"
    return f"inwoners met herkomst {base}"        # a country of origin: "Syrië"


def _short_label(group: str, parent: str | None, cat: OriginCatalogue) -> str:
    """A subgroup as a list within its parent names it: ``"Herkomst Marokko"`` -> ``"Marokko"``."""
    label = group_label(group, cat)
    for prefix in ("Herkomst ", "Migratieachtergrond "):
        if label.startswith(prefix):
            return label[len(prefix):]
    return label


def value_text(x: float | None, ind: IndicatorDef) -> str:
    """A value with its unit (``"61%"``, ``"€ 24.100"``, ``"24,1 x 1 000 euro"``)."""
    return formatting.value(x, ind.unit, ind.decimals)


def gap_text(x: float | None, ind: IndicatorDef, *, sign: bool = True) -> str:
    """A gap: ``"−14 procentpunt"`` for percentages, in the unit for amounts."""
    if ind.kind == "percentage":
        return formatting.pp(x, ind.decimals, sign=sign)
    f = _f(x)
    if f is None:
        return formatting.MISSING
    text = formatting.value(abs(f), ind.unit, ind.decimals)
    if not sign or round(f, ind.decimals) == 0:
        return text
    return ("+" if f > 0 else formatting.MINUS) + text


def gap_unit_label(ind: IndicatorDef) -> str:
    return "procentpunt" if ind.kind == "percentage" else ind.unit


def _unit_label(ind: IndicatorDef) -> str:
    return ind.unit or "waarde"


# ------------------------------------------------------------------------------ the bronnen
@dataclass(frozen=True)
class SourceChoice:
    """One bron of the page: a CBS table by origin, or one set of the gemeente's own data."""

    table_id: str
    title: str
    scheme: str
    years: tuple[int, ...]                 # years with gemeente figures (0 = not stated)
    indicators: tuple[str, ...]            # indicators with gaps (percentages, amounts)
    groups: int                            # number of origin groups of the gemeente
    own: bool
    source_line: str

    @property
    def label(self) -> str:
        """How the choice of bron names it (short: the full source line is shown below the table)."""
        if self.own:
            fict = " · FICTIEF voorbeeld" if "FICTIEF" in self.source_line else ""
            return f"Eigen gegevens van de gemeente · {years_text(self.years)}{fict}"
        return f"{self.title} ({self.table_id})"


def source_choices(frame: pd.DataFrame, gemeente: str, *, source_lines: dict[str, str] | None = None,
                   cat: OriginCatalogue | None = None) -> list[SourceChoice]:
    """The bronnen with figures by origin for ``gemeente`` (catalogue order, own data last).

    ``source_lines``: table id -> the "Bron: …" line of its provenance (else the row's own line).
    """
    cat = cat or load_origin_catalogue()
    lines = source_lines or {}
    mine = frame[(frame["gemeente_code"] == gemeente) & (frame["level"] == "gemeente")]
    out: list[SourceChoice] = []
    order = {tid.lower(): i for i, tid in enumerate(cat.tables)}
    for tid, part in mine.groupby("table_id", sort=False):
        inds = [i for i in dict.fromkeys(part["indicator"]) if i in cat.indicators
                and cat.indicators[i].gap_unit is not None]
        inds.sort(key=lambda i: list(cat.indicators).index(i))
        if not inds:
            continue
        own = bool((part["api"] == "eigen").any())
        try:
            title = cat.table(str(tid)).title
        except KeyError:
            title = "eigen cijfers van de gemeente"
        srcs = part["source"].dropna()
        line = lines.get(str(tid)) or (str(srcs.iloc[0]) if len(srcs) else "")
        if own and line:
            title = line
        schemes = part["scheme"].dropna()
        out.append(SourceChoice(
            table_id=str(tid), title=title, scheme=str(schemes.mode().iloc[0]) if len(schemes) else "herkomst",
            years=tuple(sorted({int(y) for y in part["year"]})), indicators=tuple(inds),
            groups=int(part["group"].nunique()), own=own, source_line=line))
    out.sort(key=lambda c: (c.own, order.get(c.table_id.lower(), 99), c.table_id))
    return out


def _year_distance(years: Sequence[int], asked: int) -> int:
    known = [y for y in years if y != YEAR_UNKNOWN]
    return min(abs(y - asked) for y in known) if known else 10_000


def default_source(choices: Sequence[SourceChoice], year: int, scheme: str | None = None) -> SourceChoice | None:
    """The bron to open: one that has ``year`` (else the nearest year), of ``scheme`` when given,
    with the most origin groups; own data before CBS when equally good."""
    pool = [c for c in choices if scheme is None or c.scheme == scheme] or list(choices)
    if not pool:
        return None
    return min(pool, key=lambda c: (_year_distance(c.years, year), -c.groups, not c.own))


def resolve_year(choice: SourceChoice, asked: int) -> tuple[int, str | None]:
    """(year shown, note): ``asked`` when the bron has it, else its nearest year (the later one
    on a tie) with one Dutch line that says so and which years there are."""
    years = list(choice.years)
    if asked in years:
        return asked, None
    known = [y for y in years if y != YEAR_UNKNOWN]
    if not known:
        return YEAR_UNKNOWN, (f"Tabel {choice.table_id} vermeldt niet over welk jaar de cijfers gaan; "
                              f"ze staan hier zonder jaar (gekozen jaar: {asked}).")
    best = min(known, key=lambda y: (abs(y - asked), -y))
    return best, (f"{choice.table_id} heeft geen cijfers voor {asked}; u ziet {best}. "
                  f"Beschikbare jaren: {years_text(years)}.")


def groups_in(frame: pd.DataFrame, gemeente: str, table_id: str, year: int | None = None) -> list[str]:
    """The origin groups of ``gemeente`` in a bron (and year), in catalogue order."""
    cat = load_origin_catalogue()
    sel = frame[(frame["gemeente_code"] == gemeente) & (frame["table_id"] == table_id)
                & (frame["level"] == "gemeente")]
    if year is not None:
        sel = sel[sel["year"] == year]
    order = list(cat.groups)
    return sorted(set(sel["group"]), key=lambda g: order.index(g) if g in order else len(order))


# ------------------------------------------------------------------------------ gaps
@dataclass(frozen=True)
class GapLine:
    """One origin group against the reference group and against the country (values rounded)."""

    group: str
    label: str
    parent: str | None
    is_reference: bool
    value: float | None
    n: float | None
    reference_value: float | None
    gap: float | None
    country_value: float | None
    country_reference_value: float | None
    country_gap: float | None
    missing: str | None
    country_missing: bool = False
    reference: str = ""

    @property
    def gap_vs_country(self) -> float | None:
        """How much larger (positive) or smaller the gemeente's gap is than the national gap."""
        if self.gap is None or self.country_gap is None:
            return None
        return self.gap - self.country_gap


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def gap_lines(frame: pd.DataFrame, gemeente: str, table_id: str, year: int, indicator: str,
              cat: OriginCatalogue | None = None) -> list[GapLine]:
    """The reference group first, then every other group of the bron (catalogue order;
    ``totaal`` last) with gaps computed from the rounded values."""
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[indicator]
    d = ind.decimals
    sel = frame[(frame["table_id"] == table_id) & (frame["indicator"] == indicator) & (frame["year"] == year)]
    if sel.empty:
        return []
    groups = groups_in(sel, gemeente, table_id, year)
    scheme = str(sel["scheme"].dropna().mode().iloc[0])
    ref = cat.reference_group(scheme)
    others = [g for g in groups if g != ref]
    rows = {r.group: r for r in gap_rows(sel, indicator, gemeente=gemeente, year=year, groups=others, catalogue=cat)}
    land = sel[sel["level"] == "land"]
    has_country = not land.empty

    def country_of(group: str) -> float | None:
        hit = land[land["group"] == group]["value"].dropna()
        return _round(_f(hit.iloc[0]), d) if len(hit) else None

    c_ref = country_of(ref)
    out: list[GapLine] = []
    mine = sel[(sel["gemeente_code"] == gemeente) & (sel["level"] == "gemeente")]
    refrow = mine[mine["group"] == ref]
    ref_value = _round(_f(refrow["value"].iloc[0]), d) if len(refrow) else None
    if len(refrow):
        r0 = refrow.iloc[0]
        out.append(GapLine(group=ref, label=group_label(ref, cat), parent=None, is_reference=True,
                           value=ref_value, n=_f(r0["n"]), reference_value=ref_value, gap=None,
                           country_value=c_ref, country_reference_value=c_ref, country_gap=None,
                           missing=r0["missing"], country_missing=not has_country, reference=ref))
    ordered = [g for g in others if g != "totaal"] + (["totaal"] if "totaal" in others else [])
    for g in ordered:
        r = rows.get(g)
        if r is None:
            continue
        v = _round(r.value, d)
        cv = country_of(g)
        missing = r.missing
        if v is not None and ref_value is None:
            missing = MISSING_NO_REFERENCE
        out.append(GapLine(group=g, label=group_label(g, cat), parent=cat.groups[g].parent if g in cat.groups else None,
                           is_reference=False, value=v, n=r.n, reference_value=ref_value, gap=_diff(v, ref_value),
                           country_value=cv, country_reference_value=c_ref, country_gap=_diff(cv, c_ref),
                           missing=missing, country_missing=not has_country, reference=ref))
    return out


def _compare_words(gap: float, ind: IndicatorDef) -> str:
    if round(gap, ind.decimals) == 0:
        return "even hoog als"
    return f"{gap_text(abs(gap), ind, sign=False)} {'hoger' if gap > 0 else 'lager'} dan"


def _missing_text(reason: str | None, cat: OriginCatalogue) -> str:
    return cat.missing_label(reason or "leeg")


def gap_sentence(line: GapLine, indicator: str, reference: str, cat: OriginCatalogue | None = None) -> str:
    """One group in words, against the reference group and against the national gap:

    "Netto arbeidsparticipatie bij inwoners met herkomst buiten Europa: 61%, 14 procentpunt lager
    dan bij inwoners met herkomst Nederland (75%). In heel Nederland is dat verschil −12
    procentpunt (60% tegen 72%); hier is het verschil 2 procentpunt groter."
    """
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[indicator]
    who = group_phrase(line.group, cat)
    ref_who = group_phrase(reference, cat)
    if line.value is None:
        return f"{ind.label} bij {who}: geen cijfer ({_missing_text(line.missing, cat)})."
    head = f"{ind.label} bij {who}: {value_text(line.value, ind)}"
    if line.is_reference:
        if line.country_value is not None:
            return f"{head}; in heel Nederland {value_text(line.country_value, ind)}."
        return f"{head}."
    if line.gap is None:
        return f"{head}; het cijfer van {ref_who} ontbreekt, dus er is geen verschil te berekenen."
    text = f"{head}, {_compare_words(line.gap, ind)} bij {ref_who} ({value_text(line.reference_value, ind)})."
    if line.country_missing:                       # said once for the bron: country_note
        return text
    if line.country_gap is None:
        return text + " Het landelijke verschil is niet bekend: een landelijk cijfer ontbreekt."
    nat = (f" In heel Nederland is dat verschil {gap_text(line.country_gap, ind)} "
           f"({value_text(line.country_value, ind)} tegen {value_text(line.country_reference_value, ind)})")
    diff = line.gap_vs_country
    if diff is None or line.gap * line.country_gap < 0:
        return text + nat + "."
    if round(diff, ind.decimals) == 0:
        return text + nat + ", even groot als hier."
    bigger = abs(line.gap) > abs(line.country_gap)
    return (text + nat + f"; hier is het verschil {gap_text(abs(diff), ind, sign=False)} "
            f"{'groter' if bigger else 'kleiner'}.")


def _children_sentence(parent: str, kids: Sequence[GapLine], ind: IndicatorDef, cat: OriginCatalogue) -> str:
    parts = []
    for k in kids:
        name = _short_label(k.group, parent, cat)
        if k.value is None:
            parts.append(f"{name} geen cijfer ({_missing_text(k.missing, cat)})")
        elif k.gap is None:
            parts.append(f"{name} {value_text(k.value, ind)}")
        else:
            parts.append(f"{name} {value_text(k.value, ind)} ({gap_text(k.gap, ind)})")
    return f"Binnen de groep {lc_first(group_label(parent, cat))}: " + "; ".join(parts) + "."


def gap_sentences(lines: Sequence[GapLine], indicator: str, scheme: str,
                  cat: OriginCatalogue | None = None) -> list[str]:
    """The page's sentences: the main groups one by one (the reference group first), each
    followed by one line for its subgroups ("Binnen de groep herkomst buiten Europa: Marokko
    59% (−16 procentpunt); ..."), then all inhabitants."""
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[indicator]
    ref = cat.reference_group(scheme)
    present = {x.group for x in lines}
    children: dict[str, list[GapLine]] = {}
    for x in lines:
        if x.parent is not None:
            children.setdefault(x.parent, []).append(x)
    out: list[str] = []
    for x in lines:
        if x.group == "totaal" or (x.parent is not None and x.parent in present):
            continue
        if x.parent is not None:                    # a subgroup whose parent is not in the bron
            out.append(gap_sentence(x, indicator, ref, cat))
            continue
        out.append(gap_sentence(x, indicator, ref, cat))
        if x.group in children:
            out.append(_children_sentence(x.group, children[x.group], ind, cat))
    total = next((x for x in lines if x.group == "totaal"), None)
    if total is not None:
        out.append(gap_sentence(total, indicator, ref, cat))
    return out


def country_note(lines: Sequence[GapLine]) -> str | None:
    """One line when the bron has no figures for the whole country (own data)."""
    if lines and all(x.country_missing for x in lines):
        return ("Deze bron heeft geen cijfers voor heel Nederland, dus er is geen landelijke vergelijking. "
                "Een CBS-tabel met dezelfde indicator wordt er niet bij gehaald: dat zou een andere definitie "
                "en bron zijn.")
    return None


def missing_notes(lines: Sequence[GapLine], indicator: str, cat: OriginCatalogue | None = None) -> list[str]:
    """One line per group without a value or without a gap, with the reason (never 0)."""
    cat = cat or load_origin_catalogue()
    out = []
    for x in lines:
        if x.value is None:
            out.append(f"{x.label}: {_missing_text(x.missing, cat)}")
        elif x.gap is None and not x.is_reference:
            out.append(f"{x.label}: {cat.missing_label(MISSING_NO_REFERENCE)}")
    return out


def n_text(n: float | None) -> str:
    return formatting.integer(n) if n is not None and not math.isnan(n) else formatting.MISSING


# ------------------------------------------------------------------------------ tables
def indicator_table(lines: Sequence[GapLine], indicator: str, reference: str,
                    cat: OriginCatalogue | None = None) -> pd.DataFrame:
    """The table beside the sentences: one row per group, numbers numeric (missing = empty, with
    the reason in ``Toelichting``). ``Verschil`` is against the reference group in the gemeente
    (:func:`table_legend` says so under the table); the national columns only when the bron has
    national figures."""
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[indicator]
    unit = _unit_label(ind)
    gu_short = "%-punt" if ind.kind == "percentage" else gap_unit_label(ind)
    country = not all(x.country_missing for x in lines)
    rows = []
    for x in lines:
        note = ""
        if x.is_reference:
            note = "referentiegroep"
        if x.value is None:
            note = _missing_text(x.missing, cat)
        elif x.gap is None and not x.is_reference:
            note = cat.missing_label(MISSING_NO_REFERENCE)
        row = {"Groep": table_group_label(x, cat), f"Waarde ({unit})": x.value, "n": x.n,
               f"Verschil ({gu_short})": x.gap}
        if country:
            row.update({f"NL ({unit})": x.country_value, f"Verschil NL ({gu_short})": x.country_gap})
        row["Toelichting"] = note
        rows.append(row)
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c not in ("Groep", "Toelichting"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def table_group_label(line: GapLine, cat: OriginCatalogue | None = None) -> str:
    """A group as the table lists it: a subgroup under its parent as ``"↳ Marokko"`` (without
    the parenthetical, which the sentences give), every other group with its catalogue label."""
    cat = cat or load_origin_catalogue()
    if line.parent is None:
        return line.label
    return "↳ " + _short_label(line.group, line.parent, cat).split(" (")[0]


def table_legend(reference: str, cat: OriginCatalogue | None = None, *, country: bool = True) -> str:
    """The line under :func:`indicator_table` that says what the columns compare."""
    cat = cat or load_origin_catalogue()
    ref = lc_first(group_label(reference, cat))
    text = f"Verschil: de groep min {ref} in dezelfde gemeente (%-punt: procentpunt)."
    if country:
        text += f" NL: dezelfde groep in heel Nederland; verschil NL: die groep min {ref} in heel Nederland."
    return text + " n: het aantal personen waarop het cijfer rust. ↳: een deel van de groep erboven."


OVERVIEW_COLUMNS = ["Indicator", "Groep", "Jaar", "Waarde", "Eenheid", "n (personen)", "Referentiegroep",
                    "Waarde referentiegroep", "Verschil", "Eenheid verschil", "Nederland, zelfde groep",
                    "Nederland, referentiegroep", "Verschil in Nederland", "Toelichting", "Tabel"]


def overview_table(frame: pd.DataFrame, gemeente: str, choice: SourceChoice, year: int,
                   cat: OriginCatalogue | None = None) -> pd.DataFrame:
    """Every indicator of the bron for every group of ``gemeente`` in ``year``: the table of the
    page's "Alle indicatoren" part and of its CSV/XLSX download."""
    cat = cat or load_origin_catalogue()
    ref = cat.reference_group(choice.scheme)
    rows = []
    for iid in choice.indicators:
        ind = cat.indicators[iid]
        for x in gap_lines(frame, gemeente, choice.table_id, year, iid, cat):
            note = "referentiegroep" if x.is_reference else ""
            if x.value is None:
                note = _missing_text(x.missing, cat)
            elif x.gap is None and not x.is_reference:
                note = cat.missing_label(MISSING_NO_REFERENCE)
            rows.append({"Indicator": ind.label, "Groep": x.label, "Jaar": year_label(year), "Waarde": x.value,
                         "Eenheid": ind.unit, "n (personen)": x.n, "Referentiegroep": group_label(ref, cat),
                         "Waarde referentiegroep": x.reference_value, "Verschil": x.gap,
                         "Eenheid verschil": gap_unit_label(ind), "Nederland, zelfde groep": x.country_value,
                         "Nederland, referentiegroep": x.country_reference_value,
                         "Verschil in Nederland": x.country_gap, "Toelichting": note, "Tabel": choice.table_id})
    df = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    for c in ("Waarde", "n (personen)", "Waarde referentiegroep", "Verschil", "Nederland, zelfde groep",
              "Nederland, referentiegroep", "Verschil in Nederland"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


# ------------------------------------------------------------------------------ trend
@dataclass(frozen=True)
class Trend:
    """A group and the reference group of one bron over its years, in the gemeente and in the
    country (``country_*`` empty when the bron has no national figures)."""

    indicator: str
    group: str
    reference: str
    table_id: str
    scheme: str
    gemeente_name: str
    group_points: tuple[SeriesPoint, ...]
    reference_points: tuple[SeriesPoint, ...]
    country_group_points: tuple[SeriesPoint, ...] = ()
    country_reference_points: tuple[SeriesPoint, ...] = ()
    #: years of the same indicator in the other scheme (other bronnen): the break lies between
    other_scheme_years: tuple[int, ...] = ()
    other_scheme: str | None = None

    @property
    def years(self) -> list[int]:
        return sorted({p.year for p in self.group_points + self.reference_points})

    def gaps(self) -> list[tuple[int, float | None]]:
        ref = {p.year: p.value for p in self.reference_points}
        return [(p.year, _diff(p.value, ref.get(p.year))) for p in self.group_points]


def _points(frame: pd.DataFrame, code: str, indicator: str, group: str, table_id: str,
            decimals: int) -> tuple[SeriesPoint, ...]:
    try:
        s = series(frame, code, indicator, group, table_id=table_id)
    except KeyError:
        return ()
    return tuple(SeriesPoint(year=p.year, value=_round(p.value, decimals), n=p.n, missing=p.missing)
                 for p in s.points if p.year != YEAR_UNKNOWN)


def trend(frame: pd.DataFrame, gemeente: str, choice: SourceChoice, indicator: str, group: str,
          cat: OriginCatalogue | None = None) -> Trend:
    """The trend of ``group`` against the reference group in one bron (one scheme). The years
    in which other bronnen have the indicator in the other scheme are kept to mark the break."""
    cat = cat or load_origin_catalogue()
    d = cat.indicators[indicator].decimals
    ref = cat.reference_group(choice.scheme)
    part = frame[frame["table_id"] == choice.table_id]
    name = part[part["gemeente_code"] == gemeente]["gemeente_name"].dropna()
    other = frame[(frame["indicator"] == indicator) & (frame["scheme"] != choice.scheme)
                  & (frame["gemeente_code"] == gemeente) & (frame["year"] != YEAR_UNKNOWN)]
    others = sorted({int(y) for y in other["year"]})
    return Trend(indicator=indicator, group=group, reference=ref, table_id=choice.table_id, scheme=choice.scheme,
                 gemeente_name=str(name.iloc[0]) if len(name) else gemeente,
                 group_points=_points(part, gemeente, indicator, group, choice.table_id, d),
                 reference_points=_points(part, gemeente, indicator, ref, choice.table_id, d),
                 country_group_points=_points(part, COUNTRY, indicator, group, choice.table_id, d),
                 country_reference_points=_points(part, COUNTRY, indicator, ref, choice.table_id, d),
                 other_scheme_years=tuple(others),
                 other_scheme=str(other["scheme"].iloc[0]) if len(other) else None)


def _first_last(points: Sequence[SeriesPoint]) -> tuple[SeriesPoint, SeriesPoint] | None:
    av = [p for p in points if p.value is not None]
    return (av[0], av[-1]) if len(av) >= 2 else None


def trend_sentences(t: Trend, cat: OriginCatalogue | None = None) -> list[str]:
    """The trend in words: the group's change, the change of its gap, missing years, the break."""
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[t.indicator]
    who = group_phrase(t.group, cat)
    out: list[str] = []
    fl = _first_last(t.group_points)
    if fl is None:
        years = [p.year for p in t.group_points if p.value is not None]
        out.append(f"Voor een trend zijn er te weinig jaren met een cijfer voor {who} in deze bron "
                   f"({years_text(years) if years else 'geen jaren'}).")
    else:
        a, b = fl
        ch = float(b.value) - float(a.value)  # type: ignore[arg-type]
        verb = "bleef" if round(ch, ind.decimals) == 0 else ("steeg" if ch > 0 else "daalde")
        if verb == "bleef":
            out.append(f"{ind.label} bij {who} bleef van {a.year} tot {b.year} gelijk: "
                       f"{value_text(b.value, ind)}.")
        else:
            out.append(f"{ind.label} bij {who} {verb} van {value_text(a.value, ind)} in {a.year} naar "
                       f"{value_text(b.value, ind)} in {b.year} ({gap_text(ch, ind)}).")
        gaps = [(y, g) for y, g in t.gaps() if g is not None]
        if t.group != t.reference and len(gaps) >= 2:
            (y0, g0), (y1, g1) = gaps[0], gaps[-1]
            ref_who = group_phrase(t.reference, cat)
            if round(abs(g1) - abs(g0), ind.decimals) == 0:
                how = "bleef even groot"
            elif g0 * g1 < 0:
                how = "draaide om"
            else:
                how = "werd kleiner" if abs(g1) < abs(g0) else "werd groter"
            out.append(f"Het verschil met {ref_who} {how}: van {gap_text(g0, ind)} in {y0} naar "
                       f"{gap_text(g1, ind)} in {y1}.")
    gone = [p for p in t.group_points + t.reference_points if p.value is None]
    for p in sorted(gone, key=lambda p: p.year):
        out.append(f"{p.year}: geen cijfer ({_missing_text(p.missing, cat)}).")
    note = break_note(t)
    if note:
        out.append(note)
    return out


def break_note(t: Trend) -> str | None:
    """The scheme break in one line, when the indicator exists in the other scheme as well."""
    if not t.other_scheme_years or not t.other_scheme:
        return None
    return (f"Voor {years_text(t.other_scheme_years)} is er ook een cijfer in de "
            f"{SCHEME_SHORT.get(t.other_scheme, t.other_scheme)}sindeling. Dat is een andere indeling "
            f"van de bevolking: de cijfers worden niet met elkaar vergeleken en de lijn loopt niet over de breuk.")


def default_group(groups: Sequence[str], reference: str) -> str | None:
    """The group the trend opens with: a main group outside the reference, else any, else totaal."""
    for g in DEFAULT_GROUPS:
        if g in groups:
            return g
    rest = [g for g in groups if g not in (reference, "totaal")]
    if rest:
        return rest[0]
    return "totaal" if "totaal" in groups else None


# ------------------------------------------------------------------------------ guidance
@dataclass(frozen=True)
class GuidanceItem:
    """A handreiking beside the view: why it helps in general (the catalogue's line for the
    view) and, where the figures give one, why here (``context``)."""

    resource: Resource
    why: str
    context: str = ""
    groups: tuple[str, ...] = field(default_factory=tuple)


def largest_disadvantage(lines: Sequence[GapLine], indicator: str,
                         cat: OriginCatalogue | None = None) -> GapLine | None:
    """The group (not the total) that is worst off against the reference group, by the
    indicator's direction (``better`` in the catalogue); None for an indicator without one."""
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[indicator]
    if ind.better not in ("higher", "lower"):
        return None
    have = [x for x in lines if x.gap is not None and not x.is_reference and x.group != "totaal"]
    if not have:
        return None
    worst = min(have, key=lambda x: x.gap or 0.0) if ind.better == "higher" else max(have, key=lambda x: x.gap or 0.0)
    gap = worst.gap or 0.0
    if (ind.better == "higher" and gap >= 0) or (ind.better == "lower" and gap <= 0):
        return None
    return worst


def guidance(resources: Sequence[Resource], lines: Sequence[GapLine], indicator: str,
             groups_present: Iterable[str], gemeente_name: str,
             cat: OriginCatalogue | None = None) -> list[GuidanceItem]:
    """The handreikingen of the view for these figures: a resource bound to origin groups
    (``groups`` in data/resources.toml, e.g. Eritrese nieuwkomers -> eritrea) only when one of
    them is a group with figures in the gemeente; the others always. Each keeps the catalogue's
    reason for the view; the context says what in the figures it helps with."""
    cat = cat or load_origin_catalogue()
    ind = cat.indicators[indicator]
    present = set(groups_present)
    worst = largest_disadvantage(lines, indicator, cat)
    by_group = {x.group: x for x in lines}
    out = []
    for r in resources:
        bound = tuple(g for g in r.groups if g in present)
        if r.groups and not bound:
            continue
        why = r.why.get(VIEW) or r.description
        context = ""
        if bound:
            x = by_group.get(bound[0])
            names = ", ".join(group_label(g, cat).removeprefix("Herkomst ") for g in bound)
            if x is not None and x.value is not None and x.gap is not None:
                context = (f"In {gemeente_name} is {names} een herkomstgroep met eigen cijfers: "
                           f"{lc_first(ind.label)} {value_text(x.value, ind)} ({gap_text(x.gap, ind)} "
                           f"tegen {lc_first(group_label(x.reference, cat))}).")
            else:
                context = f"In {gemeente_name} is {names} een herkomstgroep met eigen cijfers."
        elif worst is not None and r.groups == () and r.id in GAP_CONTEXT:
            context = GAP_CONTEXT[r.id].format(
                indicator=lc_first(ind.label), who=group_phrase(worst.group, cat),
                gap=gap_text(worst.gap, ind), gemeente=gemeente_name)
        out.append(GuidanceItem(resource=r, why=why, context=context, groups=bound))
    return out


#: per resource id: the sentence that ties it to the largest disadvantage in the figures
GAP_CONTEXT = {
    "bouwstenen_sociale_stabiliteit": "Het grootste verschil hier: {indicator} bij {who} ({gap}).",
    "buurtmonitor_integratie": "Zet het verschil bij {who} ({gap}) naast de landelijke cijfers per buurt.",
}
