"""Key figures by origin group in words (pure): what the Integratie view, the briefing pack
and the exports say about a gemeente's figures by origin.

Every sentence is computed from a combined frame (:mod:`buurtmonitor.integratie.combined`) or
from the results of :mod:`buurtmonitor.integratie.measures`; numbers go through
:mod:`buurtmonitor.formatting`. The API:

* :func:`gap_sentence` one group against the reference group (herkomst Nederland, or the
  Nederlandse achtergrond), with the direction ("hoger"/"lager") and the national gap:
  "De netto arbeidsparticipatie van inwoners met herkomst buiten Europa is 61%, 14 procentpunt
  lager dan van inwoners met herkomst Nederland (75%); in heel Nederland is dat verschil
  11 procentpunt (61% tegen 72%)." A missing value is said as such, with its reason;
* :func:`groups_sentence` the other groups in one sentence, largest disadvantage first;
* :func:`trend_sentence` a group's value (or gap) over the years of one table and scheme;
* :func:`suppressed_sentence` which groups have no figure and why (never 0);
* :func:`key_figures` picks the year, table, indicator and headline group of a gemeente and
  returns those sentences together (:class:`KeyFigures`).

Phrases: :func:`group_phrase` ("inwoners met herkomst Marokko"), :func:`group_short`
("Marokko"), :func:`reference_name` ("herkomst Nederland"), :func:`indicator_phrase` ("de netto arbeidsparticipatie"), :func:`value_text`
and :func:`gap_text` (a value or an absolute gap with its unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from buurtmonitor import formatting as fmt

from .catalogue import IndicatorDef, OriginCatalogue, load_origin_catalogue
from .measures import GapRow, GroupIndicatorSeries, gap_rows, series

#: the indicator a summary leads with, where the data have it
HEADLINE_INDICATORS = ("netto_arbeidsparticipatie", "werkloosheid", "bijstand", "laag_inkomen")
#: the group a summary leads with, per scheme
HEADLINE_GROUPS = {"herkomst": "herkomst_buiten_europa", "migratieachtergrond": "niet_westers"}
#: how an indicator reads as the subject of a sentence (others: "het cijfer 'label'")
SUBJECTS = {
    "netto_arbeidsparticipatie": "de netto arbeidsparticipatie",
    "werkloosheid": "de werkloosheid",
    "bijstand": "het aandeel met een bijstandsuitkering",
    "laag_inkomen": "het aandeel met een laag inkomen",
    "startkwalificatie": "het aandeel jongeren met een startkwalificatie",
    "voortijdig_schoolverlaters": "het aandeel voortijdig schoolverlaters",
    "gemiddeld_inkomen": "het gemiddeld gestandaardiseerd huishoudensinkomen",
    "gemiddeld_besteedbaar_inkomen": "het gemiddeld besteedbaar inkomen per persoon",
    "aandeel_werknemer": "het aandeel werknemers",
    "aandeel_werknemer_vast": "het aandeel werknemers met een vaste arbeidsrelatie",
    "aandeel_werknemer_flex": "het aandeel werknemers met een flexibele arbeidsrelatie",
    "aandeel_zelfstandige": "het aandeel zelfstandigen",
    "aandeel_zzp": "het aandeel zelfstandigen zonder personeel",
    "aandeel_zelfstandige_met_personeel": "het aandeel zelfstandigen met personeel",
}
#: at most this many groups in :func:`groups_sentence` (all are in the table)
MAX_GROUPS = 6
_OUTDATED = (" (autochtoon)", " (allochtoon)")


# ------------------------------------------------------------------------------ phrases
def _cat(catalogue: OriginCatalogue | None) -> OriginCatalogue:
    return catalogue or load_origin_catalogue()


def _label(group: str, cat: OriginCatalogue) -> str:
    g = cat.groups.get(group)
    label = g.label if g is not None else group
    for word in _OUTDATED:
        label = label.replace(word, "")
    return label


def group_short(group: str, catalogue: OriginCatalogue | None = None) -> str:
    """A group as a table or list shows it: ``"Marokko"``, ``"Buiten Europa"``,
    ``"Nederlandse achtergrond"``."""
    label = _label(group, _cat(catalogue))
    if label.startswith("Herkomst "):
        return _cap(label[len("Herkomst "):])
    return label


def reference_name(group: str, cat: OriginCatalogue) -> str:
    """The reference group inside a sentence: ``"herkomst Nederland"``, ``"Nederlandse achtergrond"``."""
    label = _label(group, cat)
    return label if label.startswith("Nederlandse") else label[:1].lower() + label[1:]


def group_phrase(group: str, catalogue: OriginCatalogue | None = None) -> str:
    """A group as a sentence names it: ``"inwoners met herkomst buiten Europa"``,
    ``"inwoners met een westerse migratieachtergrond"``, ``"alle inwoners"``."""
    cat = _cat(catalogue)
    if group == "totaal":
        return "alle inwoners"
    label = _label(group, cat)
    g = cat.groups.get(group)
    if label.startswith("Herkomst "):
        return "inwoners met herkomst " + label[len("Herkomst "):]
    if label.startswith("Buiten "):
        return "inwoners met herkomst b" + label[1:]
    if label.startswith("Overig ") and (g is None or g.scheme == "herkomst"):
        return "inwoners met een andere herkomst " + label[len("Overig "):]
    if g is not None and g.scheme == "migratieachtergrond":
        text = label.removeprefix("Met ")
        if text.startswith("Overig "):
            text = "andere " + text[len("Overig "):]
        if not text.startswith("Nederlandse"):
            text = text[:1].lower() + text[1:]
        return "inwoners met een " + text
    return "inwoners met herkomst " + label


def indicator_phrase(indicator: str, catalogue: OriginCatalogue | None = None) -> str:
    """The indicator as the subject of a sentence (lower case): ``"de netto arbeidsparticipatie"``."""
    if indicator in SUBJECTS:
        return SUBJECTS[indicator]
    ind = _cat(catalogue).indicators.get(indicator)
    return f"het cijfer ‘{ind.label if ind else indicator}’"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def value_text(value: float | None, ind: IndicatorDef) -> str:
    """A value with its unit in the indicator's decimals (``"61%"``, ``"€ 23.400"``)."""
    return fmt.value(value, ind.unit, decimals=ind.decimals)


def gap_text(gap: float | None, ind: IndicatorDef, *, sign: bool = False) -> str:
    """The size of a gap with its unit: ``"14 procentpunt"`` for percentages, ``"€ 5.100"``
    for amounts (absolute unless ``sign``)."""
    if gap is None:
        return fmt.MISSING
    g = gap if sign else abs(gap)
    if ind.gap_unit == "pp":
        return fmt.pp(g, ind.decimals, sign=sign)
    text = fmt.value(abs(g), ind.unit, decimals=ind.decimals)
    if sign and fmt.to_float(g) is not None and round(g, ind.decimals) != 0:
        return ("+" if g > 0 else fmt.MINUS) + text
    return text


def _rounded(x: float, ind: IndicatorDef) -> float:
    return round(float(x), ind.decimals)


def _direction(gap: float, ind: IndicatorDef) -> str:
    r = _rounded(gap, ind)
    return "hoger" if r > 0 else ("lager" if r < 0 else "even hoog")


# ------------------------------------------------------------------------------ sentences
def gap_sentence(row: GapRow, *, catalogue: OriginCatalogue | None = None, place: str | None = None) -> str:
    """One group against the reference group in the same gemeente and year, and the same gap
    in the whole country where the frame has it (see the module docstring for an example).

    ``place``: a gemeente name to say where ("… buiten Europa in Ede is …"); default none.
    """
    cat = _cat(catalogue)
    ind = cat.indicators[row.indicator]
    subject = indicator_phrase(row.indicator, cat)
    who, ref = group_phrase(row.group, cat), group_phrase(row.reference_group, cat)
    where = f" in {place}" if place else ""
    if row.value is None:
        why = cat.missing_label(row.missing) or "geen gegevens"
        return f"Van {who}{where} is {subject} niet bekend ({why}); dat is niet 0."
    head = f"{_cap(subject)} van {who}{where} is {value_text(row.value, ind)}"
    if row.gap is None or row.reference_value is None:
        return (f"{head}; het cijfer van {ref} ontbreekt, dus er is geen verschil te berekenen.")
    word = _direction(row.gap, ind)
    if word == "even hoog":
        s = f"{head}, even hoog als van {ref} ({value_text(row.reference_value, ind)})"
    else:
        s = f"{head}, {gap_text(row.gap, ind)} {word} dan van {ref} ({value_text(row.reference_value, ind)})"
    if row.country_gap is not None and row.country_value is not None:
        c_ref = row.country_value - row.country_gap
        pair = f"({value_text(row.country_value, ind)} tegen {value_text(c_ref, ind)})"
        c_word = _direction(row.country_gap, ind)
        if c_word == "even hoog":
            s += f"; in heel Nederland is er geen verschil {pair}"
        elif c_word == word:
            s += f"; in heel Nederland is dat verschil {gap_text(row.country_gap, ind)} {pair}"
        else:
            s += f"; in heel Nederland ligt het cijfer van deze groep juist {gap_text(row.country_gap, ind)} " \
                 f"{c_word} {pair}"
    return s + "."


def groups_sentence(rows: Sequence[GapRow], *, catalogue: OriginCatalogue | None = None,
                    limit: int = MAX_GROUPS) -> str | None:
    """The groups of ``rows`` that have a gap, largest disadvantage first (see
    :class:`~buurtmonitor.integratie.measures.GapRank` for the direction), in one sentence:
    "Andere groepen (verschil met herkomst Nederland in procentpunt): Marokko 59% (−16), …".
    None when no row has a gap."""
    cat = _cat(catalogue)
    have = [r for r in rows if r.gap is not None and r.value is not None]
    if not have:
        return None
    ind = cat.indicators[have[0].indicator]
    worse = (lambda r: r.gap) if ind.better == "lower" else (lambda r: -r.gap)
    have.sort(key=lambda r: (-worse(r), r.group))
    unit = "procentpunt" if ind.gap_unit == "pp" else ind.unit
    parts = [f"{group_short(r.group, cat)} {value_text(r.value, ind)} "
             f"({fmt.number(r.gap, ind.decimals, sign=True)})" for r in have[:limit]]
    more = len(have) - limit
    tail = f" en {more} andere groep{'en' if more > 1 else ''} (in de tabel)" if more > 0 else ""
    listed = ", ".join(parts[:-1]) + f" en {parts[-1]}" if len(parts) > 1 and not tail else ", ".join(parts)
    ref = reference_name(have[0].reference_group, cat)
    return f"Per groep, met het verschil met {ref} in {unit}: {listed}{tail}."


def trend_sentence(s: GroupIndicatorSeries, *, catalogue: OriginCatalogue | None = None,
                   place: str | None = None) -> str:
    """The development of one series (a value, or a gap when ``s.is_gap``) over its years.

    "Van 2014 tot 2023 steeg de netto arbeidsparticipatie van inwoners met herkomst Nederland
    in Ede van 68% naar 77% (+9 procentpunt)." Years without a value are named with their
    reason; one year only: said so. A series is one table and one scheme, so no line crosses
    the break between herkomst and migratieachtergrond."""
    cat = _cat(catalogue)
    ind = cat.indicators[s.indicator]
    who = group_phrase(s.group, cat)
    where = f" in {place}" if place else ""
    av = [p for p in s.points if p.value is not None and p.year]
    gaps = [p for p in s.points if p.value is None and p.year]
    missing = ""
    if gaps:
        reasons = "; ".join(f"{p.year}: {cat.missing_label(p.missing) or 'geen gegevens'}" for p in gaps[:4])
        missing = f" Geen cijfer voor {reasons}{' …' if len(gaps) > 4 else ''}."
    if s.is_gap:
        ref = group_phrase(cat.reference_group(s.scheme), cat)
        subject = f"het verschil in {indicator_phrase(s.indicator, cat).split(' ', 1)[-1]} tussen {who} en {ref}"
    else:
        subject = f"{indicator_phrase(s.indicator, cat)} van {who}"
    if not av:
        return f"{_cap(subject)}{where}: geen enkel jaar met een cijfer.{missing}"
    if len(av) == 1:
        p = av[0]
        shown = gap_text(p.value, ind, sign=True) if s.is_gap else value_text(p.value, ind)
        return (f"{_cap(subject)}{where} is alleen bekend voor {p.year} ({shown}); een ontwikkeling "
                f"is er niet.{missing}")
    first, last = av[0], av[-1]
    change = float(last.value) - float(first.value)  # type: ignore[arg-type]
    if s.is_gap:
        a, b = fmt.number(first.value, ind.decimals, sign=True), gap_text(last.value, ind, sign=True)
        wider = abs(_rounded(last.value, ind)) - abs(_rounded(first.value, ind))  # type: ignore[arg-type]
        verb = "werd groter" if wider > 0 else ("werd kleiner" if wider < 0 else "bleef gelijk")
        return f"Van {first.year} tot {last.year} {verb}: {subject}{where} ging van {a} naar {b}.{missing}"
    r = _rounded(change, ind)
    verb = "steeg" if r > 0 else ("daalde" if r < 0 else "bleef")
    if verb == "bleef":
        return (f"Van {first.year} tot {last.year} bleef {subject}{where} {value_text(last.value, ind)}."
                f"{missing}")
    return (f"Van {first.year} tot {last.year} {verb} {subject}{where} van {value_text(first.value, ind)} "
            f"naar {value_text(last.value, ind)} ({gap_text(change, ind, sign=True)}).{missing}")


def suppressed_sentence(rows: Sequence[GapRow], *, catalogue: OriginCatalogue | None = None) -> str:
    """Which groups of ``rows`` have no value, and why; or that every group has one."""
    cat = _cat(catalogue)
    gone = [r for r in rows if r.value is None]
    if not gone:
        return (f"Van alle {len(rows)} groepen is een cijfer bekend; geen enkel cijfer is verborgen."
                if rows else "Er zijn geen cijfers per groep.")
    parts = [f"{group_short(r.group, cat)} ({cat.missing_label(r.missing) or 'geen gegevens'})" for r in gone]
    listed = ", ".join(parts[:-1]) + f" en {parts[-1]}" if len(parts) > 1 else parts[0]
    return (f"Geen cijfer voor {len(gone)} van de {len(rows)} groepen: {listed}. Die tellen niet als 0 "
            "en staan zonder waarde in de tabel.")


# ------------------------------------------------------------------------------ a summary
@dataclass(frozen=True)
class KeyFigures:
    """What :func:`key_figures` chose and said.

    ``year`` is the year described (``requested_year`` the year asked for; they differ when the
    data have no figures for that year, and ``year_note`` then says so in one Dutch line);
    ``rows`` are the gap rows of ``indicator`` in ``year`` from ``table_id`` for every group
    except the reference group (the total last), ``reference`` the reference group's value.
    """

    gemeente: str
    gemeente_name: str
    indicator: str
    group: str
    year: int
    requested_year: int | None
    table_id: str
    scheme: str
    reference_group: str
    reference_value: float | None
    reference_n: float | None
    rows: tuple[GapRow, ...]
    sentences: tuple[str, ...]
    year_note: str = ""
    other_tables: tuple[str, ...] = field(default_factory=tuple)


def _gemeente_rows(frame: pd.DataFrame, gemeente: str) -> pd.DataFrame:
    return frame[(frame["gemeente_code"] == gemeente) & (frame["level"] == "gemeente")]


def pick_indicator(frame: pd.DataFrame, gemeente: str, catalogue: OriginCatalogue | None = None) -> str | None:
    """The indicator a summary of ``gemeente`` leads with: the first of
    :data:`HEADLINE_INDICATORS` with a value for a group, else the first percentage or amount."""
    cat = _cat(catalogue)
    own = _gemeente_rows(frame, gemeente)
    own = own[own["value"].notna() & (own["year"] > 0)]
    have = list(dict.fromkeys(own["indicator"]))
    comparable = [i for i in have if i in cat.indicators and cat.indicators[i].gap_unit is not None]
    for i in HEADLINE_INDICATORS:
        if i in comparable:
            return i
    return comparable[0] if comparable else None


def pick_year(frame: pd.DataFrame, gemeente: str, indicator: str, year: int | None,
              catalogue: OriginCatalogue | None = None) -> tuple[int, str] | None:
    """(year, table id) to describe: the latest year up to ``year`` (else the first after it)
    in which a group other than the reference group has a value for ``indicator`` in
    ``gemeente``, and the table with the most such groups in that year. None without any."""
    cat = _cat(catalogue)
    own = _gemeente_rows(frame, gemeente)
    own = own[(own["indicator"] == indicator) & (own["year"] > 0) & own["scheme"].notna()]
    refs = {cat.reference_group(s) for s in own["scheme"].unique()}
    groups = own[~own["group"].isin(refs | {"totaal"})]
    if groups.empty:
        return None
    years = sorted(int(y) for y in groups["year"].unique())
    if year is None:
        chosen = years[-1]
    else:
        before = [y for y in years if y <= int(year)]
        chosen = before[-1] if before else years[0]
    in_year = groups[groups["year"] == chosen]
    counts = in_year.groupby("table_id")["group"].nunique().sort_values(ascending=False, kind="stable")
    return chosen, str(counts.index[0])


def key_figures(frame: pd.DataFrame, gemeente: str, *, year: int | None = None, indicator: str | None = None,
                group: str | None = None, catalogue: OriginCatalogue | None = None,
                place: str | None = None) -> KeyFigures | None:
    """Up to four sentences on ``gemeente``'s figures by origin (combined frame with the
    country rows, as :func:`loaders.by_origin.load_by_origin` gives it):

    1. :func:`gap_sentence` for the headline group (:data:`HEADLINE_GROUPS`, else the group
       with the largest disadvantage) and indicator (:func:`pick_indicator`);
    2. :func:`groups_sentence` for the other groups;
    3. :func:`trend_sentence` for the headline group over the years of a table with the same
       indicator (or, when the gemeente has no series for that group, for the reference group,
       and it says so);
    4. :func:`suppressed_sentence`.

    The year is :func:`pick_year`; when it is not ``year``, ``year_note`` says so. None when the
    gemeente has no comparable figure by origin.
    """
    cat = _cat(catalogue)
    ind_id = indicator or pick_indicator(frame, gemeente, cat)
    if ind_id is None:
        return None
    picked = pick_year(frame, gemeente, ind_id, year, cat)
    if picked is None:
        return None
    chosen, table_id = picked
    part = frame[(frame["table_id"] == table_id)]
    scheme = str(part[(part["indicator"] == ind_id) & (part["year"] == chosen)]["scheme"].dropna().iloc[0])
    part = part[part["scheme"] == scheme]
    ref_group = cat.reference_group(scheme)
    own = _gemeente_rows(part, gemeente)
    present = [g for g in cat.groups if g in set(own[(own["indicator"] == ind_id) & (own["year"] == chosen)]["group"])]
    others = [g for g in present if g not in (ref_group, "totaal")]
    rows = gap_rows(part, ind_id, gemeente=gemeente, year=chosen, groups=others + ["totaal"], catalogue=cat)
    order = {g: i for i, g in enumerate(others + ["totaal"])}
    rows.sort(key=lambda r: order.get(r.group, 99))
    name = place or (rows[0].gemeente_name if rows else gemeente)
    ref_rows = own[(own["indicator"] == ind_id) & (own["year"] == chosen) & (own["group"] == ref_group)]
    ref_value = fmt.to_float(ref_rows["value"].iloc[0]) if len(ref_rows) else None
    ref_n = fmt.to_float(ref_rows["n"].iloc[0]) if len(ref_rows) else None
    groups_only = [r for r in rows if r.group != "totaal"]
    head_id = group or HEADLINE_GROUPS.get(scheme)
    head = next((r for r in groups_only if r.group == head_id), None)
    if head is None or (group is None and head.value is None):
        with_gap = [r for r in groups_only if r.gap is not None]
        ind = cat.indicators[ind_id]
        worse = (lambda r: r.gap) if ind.better == "lower" else (lambda r: -r.gap)
        head = max(with_gap, key=worse) if with_gap else (groups_only[0] if groups_only else None)
    if head is None:
        return None
    sentences = [gap_sentence(head, catalogue=cat)]
    rest = [r for r in groups_only if r.group != head.group]
    gs = groups_sentence(rest, catalogue=cat)
    if gs:
        sentences.append(gs)
    sentences.append(_trend_for(frame, gemeente, ind_id, head.group, ref_group, scheme, name, cat))
    sentences.append(suppressed_sentence(groups_only, catalogue=cat))
    note = ""
    if year is not None and chosen != int(year):
        note = (f"De cijfers naar herkomst zijn van {chosen}: het "
                f"{'laatste' if chosen < int(year) else 'eerste'} jaar met deze cijfers voor {name} "
                f"(gevraagd: {year}).")
    other = sorted(set(frame["table_id"].dropna()) - {table_id})
    return KeyFigures(gemeente=gemeente, gemeente_name=name, indicator=ind_id, group=head.group, year=chosen,
                      requested_year=year, table_id=table_id, scheme=scheme, reference_group=ref_group,
                      reference_value=ref_value, reference_n=ref_n, rows=tuple(rows),
                      sentences=tuple(sentences[:4]), year_note=note, other_tables=tuple(other))


def _trend_for(frame: pd.DataFrame, gemeente: str, indicator: str, group: str, ref_group: str, scheme: str,
               place: str, cat: OriginCatalogue) -> str:
    """The trend of ``group`` from the table with the most years of ``indicator`` for it (same
    scheme); else that of the reference group, saying that the group has no series."""
    sel = frame[(frame["gemeente_code"] == gemeente) & (frame["indicator"] == indicator)
                & (frame["scheme"] == scheme) & (frame["year"] > 0)]
    for who in (group, ref_group):
        g = sel[sel["group"] == who]
        if g.empty:
            continue
        years = g.groupby("table_id")["year"].nunique().sort_values(ascending=False, kind="stable")
        if years.iloc[0] < 2:
            continue
        s = series(frame, gemeente, indicator, who, table_id=str(years.index[0]))
        text = trend_sentence(s, catalogue=cat, place=place)
        if who != group:
            text += (f" Voor {group_phrase(group, cat)} is er geen reeks over meer jaren in "
                     f"{place}.")
        return text
    return (f"Er is geen reeks over meer jaren voor {indicator_phrase(indicator, cat)} van "
            f"{group_phrase(group, cat)} in {place}; alleen dit jaar is bekend.")
