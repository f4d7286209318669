"""The Integratie page's presenters and trend chart on small generated frames: sentences,
rounding, missing values, the year choice, the scheme break, guidance bound to groups."""

from __future__ import annotations

import pandas as pd
import pytest

from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.integratie import presenters as P
from buurtmonitor.integratie.catalogue import load_origin_catalogue
from buurtmonitor.integratie.charts import trend_figure
from buurtmonitor.integratie.combined import COMBINED_COLUMNS, combine

CAT = load_origin_catalogue()


def rows(table_id: str, scheme: str, values: dict, *, indicator="netto_arbeidsparticipatie",
         country: dict | None = None, api: str = "v3") -> pd.DataFrame:
    """values: {(group, year): value or (value, missing)} for GM0001; country the same for NL01."""
    out = []
    for code, name, level, vals in (("GM0001", "Testdorp", "gemeente", values), ("NL01", "Nederland", "land",
                                                                                   country or {})):
        for (group, year), v in vals.items():
            value, missing = (v if isinstance(v, tuple) else (v, None))
            out.append({"gemeente_code": code, "gemeente_name": name, "level": level, "year": year, "group": group,
                        "indicator": indicator, "value": value, "n": 1000.0, "unit": "%", "scheme": scheme,
                        "table_id": table_id, "api": api, "missing": missing, "area_code": code, "area_name": name,
                        "source": f"Bron: CBS, {table_id}"})
    return combine(pd.DataFrame(out, columns=COMBINED_COLUMNS))


def herkomst_2021() -> pd.DataFrame:
    return rows("85512NED", "herkomst", {("herkomst_nederland", 2021): 75.0, ("herkomst_buiten_europa", 2021): 61.0,
                                         ("marokko", 2021): 59.0, ("turkije", 2021): (None, "klein_aantal"),
                                         ("totaal", 2021): 73.0},
                country={("herkomst_nederland", 2021): 72.0, ("herkomst_buiten_europa", 2021): 61.0,
                         ("marokko", 2021): 56.0, ("totaal", 2021): 69.0})


def test_group_phrases():
    assert P.group_phrase("herkomst_buiten_europa") == "inwoners met herkomst buiten Europa"
    assert P.group_phrase("totaal") == "alle inwoners"
    assert P.group_phrase("nederlandse_achtergrond") == "inwoners met een Nederlandse achtergrond"
    assert P.group_phrase("westers") == "inwoners met een westerse migratieachtergrond"
    assert P.group_phrase("ma_marokko") == "inwoners met migratieachtergrond Marokko"
    assert P.group_phrase("eritrea") == "inwoners met herkomst Eritrea"
    assert P.group_phrase("met_migratieachtergrond") == "inwoners met migratieachtergrond"


def test_years_text_and_year_choice():
    assert P.years_text(range(2014, 2024)) == "2014–2023"
    assert P.years_text([2014, 2016, 2018]) == "2014, 2016 en 2018"
    assert P.years_text([0]) == "jaar niet vermeld"
    c = P.SourceChoice("86008NED", "t", "herkomst", tuple(range(2014, 2024)), ("netto_arbeidsparticipatie",), 3,
                       False, "Bron: CBS")
    assert P.resolve_year(c, 2020) == (2020, None)
    year, note = P.resolve_year(c, 2025)
    assert year == 2023 and note == "86008NED heeft geen cijfers voor 2025; u ziet 2023. Beschikbare jaren: 2014–2023."
    year, note = P.resolve_year(P.SourceChoice("71317ned", "t", "migratieachtergrond", (0,), (), 2, False, ""), 2024)
    assert year == 0 and "vermeldt niet over welk jaar" in note


def test_gap_sentences_with_country_and_a_suppressed_group():
    f = herkomst_2021()
    lines = P.gap_lines(f, "GM0001", "85512NED", 2021, "netto_arbeidsparticipatie")
    assert [x.group for x in lines] == ["herkomst_nederland", "herkomst_buiten_europa", "marokko", "turkije", "totaal"]
    by = {x.group: x for x in lines}
    assert by["herkomst_buiten_europa"].gap == -14 and by["herkomst_buiten_europa"].country_gap == -11
    assert by["turkije"].value is None and by["turkije"].gap is None          # never 0
    text = P.gap_sentences(lines, "netto_arbeidsparticipatie", "herkomst")
    assert text[0] == "Netto arbeidsparticipatie bij inwoners met herkomst Nederland: 75%; in heel Nederland 72%."
    assert text[1] == ("Netto arbeidsparticipatie bij inwoners met herkomst buiten Europa: 61%, 14 procentpunt lager "
                       "dan bij inwoners met herkomst Nederland (75%). In heel Nederland is dat verschil −11 "
                       "procentpunt (61% tegen 72%); hier is het verschil 3 procentpunt groter.")
    assert text[2] == ("Binnen de groep herkomst buiten Europa: Marokko 59% (−16 procentpunt); Turkije geen cijfer "
                       "(verborgen: te weinig personen).")
    assert text[3].startswith("Netto arbeidsparticipatie bij alle inwoners: 73%, 2 procentpunt lager")
    table = P.indicator_table(lines, "netto_arbeidsparticipatie", "herkomst_nederland")
    t = table.set_index("Groep")
    assert pd.isna(t.loc["↳ Turkije", "Waarde (%)"])
    assert t.loc["↳ Turkije", "Toelichting"] == "verborgen: te weinig personen"
    assert t.loc["Herkomst buiten Europa", "Verschil (%-punt)"] == -14
    assert P.missing_notes(lines, "netto_arbeidsparticipatie") == ["Herkomst Turkije: verborgen: te weinig personen"]


def test_gaps_are_the_difference_of_the_rounded_values():
    f = rows("eigen_x", "herkomst", {("herkomst_nederland", 2024): 72.6, ("herkomst_buiten_europa", 2024): 59.4},
             api="eigen")
    lines = P.gap_lines(f, "GM0001", "eigen_x", 2024, "netto_arbeidsparticipatie")
    be = lines[1]
    assert (be.value, be.reference_value, be.gap) == (59, 73, -14)         # not round(-13.2)
    assert be.country_missing and P.country_note(lines)
    assert "In heel Nederland" not in " ".join(P.gap_sentences(lines, "netto_arbeidsparticipatie", "herkomst"))


def _two_schemes() -> pd.DataFrame:
    her = rows("86008NED", "herkomst", {**{("herkomst_nederland", y): 70.0 + y - 2014 for y in range(2014, 2024)},
                                        **{("herkomst_buiten_europa", y): 55.0 + y - 2014 for y in range(2014, 2024)},
                                        ("herkomst_buiten_europa", 2016): (None, "geheim")})
    old = rows("oud", "migratieachtergrond", {("nederlandse_achtergrond", y): 60.0 for y in (2010, 2011)})
    return combine(her, old)


def test_trend_stays_in_one_scheme_and_marks_the_break():
    f = _two_schemes()
    choice = next(c for c in P.source_choices(f, "GM0001") if c.table_id == "86008NED")
    t = P.trend(f, "GM0001", choice, "netto_arbeidsparticipatie", "herkomst_buiten_europa")
    assert t.years == list(range(2014, 2024)) and t.other_scheme_years == (2010, 2011)
    words = P.trend_sentences(t)
    assert words[0] == ("Netto arbeidsparticipatie bij inwoners met herkomst buiten Europa steeg van 55% in 2014 "
                        "naar 64% in 2023 (+9 procentpunt).")
    assert "bleef even groot" in words[1]
    assert "2016: geen cijfer (geheim of onbetrouwbaar (CBS))." in words
    assert "niet met elkaar vergeleken" in words[-1]
    fig = trend_figure(t, source="Bron: CBS, 86008NED").to_plotly_json()
    xs = {tuple(sorted(x for x in tr["x"])) for tr in fig["data"]}
    assert all(min(x) >= 2014 for x in xs)                                # the old scheme is not drawn
    breaks = [a for a in fig["layout"]["annotations"] if a.get("name") == "breuk"]
    assert breaks and breaks[0]["text"].startswith("Breuk: vóór 2014 migratieachtergrond")
    gone = [a for a in fig["layout"]["annotations"] if a.get("name") == "ontbreekt"]
    assert [a["x"] for a in gone] == [2016] and gone[0]["text"] == "geheim"
    assert any(a.get("name") == "bronregel" for a in fig["layout"]["annotations"])
    assert fig["layout"]["separators"] == ",."
    low, high = fig["layout"]["yaxis"]["range"]
    assert 0 < low < 55 and high > 79                                      # the range of the values, not from 0


def test_default_source_prefers_the_year_then_more_groups():
    f = combine(herkomst_2021(), _two_schemes())
    choices = P.source_choices(f, "GM0001")
    assert P.default_source(choices, 2021).table_id == "85512NED"          # has the year, most groups
    assert P.default_source(choices, 2024).table_id == "86008NED"          # nearest year
    assert P.default_source(choices, 2010, "migratieachtergrond").table_id == "oud"


def test_guidance_binds_eritrese_nieuwkomers_to_the_group():
    resources = load_catalogue().resources_for(P.VIEW, situations={"herkomstgroep_eritrea"})
    ids = [r.id for r in resources]
    assert "eritrese_nieuwkomers" not in [r.id for r in load_catalogue().resources_for(P.VIEW)]
    assert {"buurtmonitor_integratie", "bouwstenen_sociale_stabiliteit", "eritrese_nieuwkomers",
            "inzicht_depolarisatie"} <= set(ids)
    f = rows("eigen_x", "herkomst", {("herkomst_nederland", 2024): 72.0, ("eritrea", 2024): 40.0,
                                     ("herkomst_buiten_europa", 2024): 59.0}, api="eigen")
    lines = P.gap_lines(f, "GM0001", "eigen_x", 2024, "netto_arbeidsparticipatie")
    with_er = P.guidance(resources, lines, "netto_arbeidsparticipatie", {"eritrea", "herkomst_nederland"}, "Testdorp")
    er = next(g for g in with_er if g.resource.id == "eritrese_nieuwkomers")
    assert er.why == next(r for r in resources if r.id == "eritrese_nieuwkomers").why["integratie"]
    assert "Eritrea" in er.context and "−32 procentpunt" in er.context
    bouw = next(g for g in with_er if g.resource.id == "bouwstenen_sociale_stabiliteit")
    assert "herkomst Eritrea" in bouw.context                              # the largest disadvantage
    without = P.guidance(resources, lines, "netto_arbeidsparticipatie", {"herkomst_buiten_europa"}, "Testdorp")
    assert "eritrese_nieuwkomers" not in [g.resource.id for g in without]
    assert all(g.why for g in without)


def test_resource_groups_are_origin_groups():
    for r in load_catalogue().resources:
        assert set(r.groups) <= set(CAT.groups), r.id


@pytest.mark.parametrize("gap,words", [(-14.0, "14 procentpunt lager dan"), (2.0, "2 procentpunt hoger dan"),
                                       (0.2, "even hoog als")])
def test_compare_words(gap, words):
    assert P._compare_words(gap, CAT.indicators["netto_arbeidsparticipatie"]) == words
