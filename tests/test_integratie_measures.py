"""Pure parts of integratie: catalogue matching and checks, gaps, series, ranks, scheme break,
small-number rule (generated frames only)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from buurtmonitor.catalogue import CatalogueError, load_catalogue
from buurtmonitor.integratie.catalogue import (
    best_title_match,
    key_matches,
    load_origin_catalogue,
    parse_catalogue,
    title_matches,
)
from buurtmonitor.integratie.harmonise import (
    FRAME_COLUMNS,
    MISSING_SMALL_N,
    apply_small_numbers,
    gemeente_display_name,
    normalise_frame,
)
from buurtmonitor.integratie.measures import (
    MISSING_NO_REFERENCE,
    SchemeBreakError,
    gap_series,
    gap_table,
    rank_gaps,
    series,
    split_schemes,
)


def test_title_prefix_rules():
    assert title_matches("Buiten Europa (excl. 5 grote herkomst...", "Buiten Europa (excl. 5 grote herkomstlanden)")
    assert title_matches("Nederlandse Cariben", "Nederland") == 0          # word boundary
    assert title_matches("Beroeps- en niet-beroepsbevolking", "Beroeps en niet beroepsbevolking")
    assert title_matches("Totaal mannen en vrouwen", "Totaal") > 0
    assert key_matches("Werknemer_4", "Werknemer")
    assert not key_matches("WerknemerMetVasteArbeidsrelatie_5", "Werknemer")
    assert gemeente_display_name("Utrecht (gemeente)") == "Utrecht"
    assert gemeente_display_name("Bergen (NH.)") == "Bergen (NH.)"


def test_longest_group_pattern_wins():
    spec = load_origin_catalogue().table("85512NED")
    assert best_title_match("Buiten Europa (excl. 5 grote herkomst...", spec.groups) == "herkomst_buiten_europa_overig"
    assert best_title_match("Buiten Europa", spec.groups) == "herkomst_buiten_europa"
    assert best_title_match("Nederlandse Cariben", spec.groups) == "nederlandse_cariben"
    assert best_title_match("Onbekend", spec.groups) is None


def test_catalogue_is_checked():
    cat = load_origin_catalogue()
    assert set(cat.tables) == {"85512NED", "86008NED", "85458NED", "71317ned", "80860ned"}
    assert cat.reference_group("herkomst") == "herkomst_nederland"
    raw = {"group": [{"id": "totaal", "label": "T"}], "indicator": {"x": {"label": "X", "kind": "count"}},
           "table": [{"id": "T1", "title": "t", "scheme": "herkomst",
                      "dimension": [{"role": "region", "match": "RegioS"}, {"role": "origin", "match": "H"}],
                      "groups": {"Totaal": "bestaat_niet"}, "measure": [{"key": "A", "indicator": "x"}]}]}
    with pytest.raises(CatalogueError, match="onbekende groep"):
        parse_catalogue(raw)
    raw["table"][0]["groups"] = {"Totaal": "totaal"}
    raw["table"][0]["measure"] = [{"key": "A", "indicator": "y"}]
    with pytest.raises(CatalogueError, match="onbekende indicator"):
        parse_catalogue(raw)


def _frame(rows, scheme="herkomst", indicator="netto_arbeidsparticipatie", unit="%"):
    recs = []
    for code, year, group, value, n in rows:
        recs.append({"gemeente_code": code, "gemeente_name": "Nederland" if code == "NL01" else code,
                     "level": "land" if code == "NL01" else "gemeente", "year": year, "group": group,
                     "indicator": indicator, "value": value, "n": n, "unit": unit, "scheme": scheme,
                     "table_id": "T", "api": "v3", "missing": None if value == value else "leeg"})
    return normalise_frame(pd.DataFrame(recs, columns=FRAME_COLUMNS))


NAN = math.nan


def test_gaps_against_reference_and_country():
    f = _frame([("NL01", 2021, "herkomst_nederland", 72, 1e6), ("NL01", 2021, "marokko", 58, 1e5),
                ("GM0001", 2021, "herkomst_nederland", 75, 5000), ("GM0001", 2021, "marokko", 59, 900),
                ("GM0002", 2021, "herkomst_nederland", NAN, NAN), ("GM0002", 2021, "marokko", 50, 300),
                ("GM0003", 2021, "herkomst_nederland", 70, 4000), ("GM0003", 2021, "marokko", NAN, NAN)])
    t = gap_table(f, "netto_arbeidsparticipatie").set_index("gemeente_code")
    assert t.loc["GM0001", "gap"] == -16 and t.loc["GM0001", "gap_to_country"] == 1
    assert t.loc["GM0001", "country_gap"] == -14 and t.loc["GM0001", "gap_unit"] == "pp"
    assert math.isnan(t.loc["GM0002", "gap"]) and t.loc["GM0002", "missing"] == MISSING_NO_REFERENCE
    assert math.isnan(t.loc["GM0003", "gap"]) and t.loc["GM0003", "missing"] == "leeg"
    ranks = rank_gaps(f, "netto_arbeidsparticipatie", "marokko", 2021)
    assert [(r.gemeente_code, r.rank) for r in ranks] == [("GM0001", 1), ("GM0002", None), ("GM0003", None)]
    with pytest.raises(ValueError, match="aantal"):
        gap_table(f.assign(indicator="bevolking"), "bevolking")


def test_series_trend_and_gap_series():
    f = _frame([("GM0001", 2019, "herkomst_nederland", 70, 5000), ("GM0001", 2019, "marokko", 50, 900),
                ("GM0001", 2020, "herkomst_nederland", 71, 5000), ("GM0001", 2020, "marokko", NAN, NAN),
                ("GM0001", 2021, "herkomst_nederland", 72, 5000), ("GM0001", 2021, "marokko", 56, 900)])
    s = series(f, "GM0001", "netto_arbeidsparticipatie", "marokko")
    assert s.years == [2019, 2020, 2021] and s.values == [50, None, 56]
    assert s.points[1].missing == "leeg" and s.change == 6 and s.slope == pytest.approx(3)
    g = gap_series(f, "GM0001", "netto_arbeidsparticipatie", "marokko")
    assert g.is_gap and g.unit == "pp" and g.values == [-20, None, -16] and g.change == 4


def test_scheme_break_is_never_crossed():
    a = _frame([("GM0001", 2021, "herkomst_nederland", 75, 5000), ("GM0001", 2021, "marokko", 59, 900)])
    b = _frame([("GM0001", 2021, "nederlandse_achtergrond", 70, 5000), ("GM0001", 2021, "marokko", 55, 900)],
               scheme="migratieachtergrond")
    both = pd.concat([a, b], ignore_index=True)
    with pytest.raises(SchemeBreakError, match="niet met elkaar vergeleken"):
        gap_table(both, "netto_arbeidsparticipatie")
    with pytest.raises(SchemeBreakError):
        series(both, "GM0001", "netto_arbeidsparticipatie", "marokko")
    parts = split_schemes(both)
    assert gap_table(parts["migratieachtergrond"], "netto_arbeidsparticipatie").gap.tolist() == [-15]


def test_small_number_rule_is_applied_not_zero():
    f = _frame([("GM0001", 2021, "marokko", 59, 9), ("GM0001", 2021, "turkije", 60, 10)])
    out = apply_small_numbers(f, 10)
    hidden = out[out.group == "marokko"].iloc[0]
    assert math.isnan(hidden.value) and hidden.missing == MISSING_SMALL_N
    assert out[out.group == "turkije"].iloc[0].value == 60


def test_rank_follows_the_direction_of_the_indicator():
    rows = [("GM0001", 2021, "herkomst_nederland", 20, 5000), ("GM0001", 2021, "marokko", 30, 900),
            ("GM0002", 2021, "herkomst_nederland", 20, 5000), ("GM0002", 2021, "marokko", 25, 900),
            ("GM0003", 2021, "herkomst_nederland", 20, 5000), ("GM0003", 2021, "marokko", 15, 900)]
    flex = _frame(rows, indicator="aandeel_werknemer_flex")          # lower is better
    assert [(r.gemeente_code, r.rank, r.gap) for r in rank_gaps(flex, "aandeel_werknemer_flex", "marokko", 2021)] \
        == [("GM0001", 1, 10), ("GM0002", 2, 5), ("GM0003", 3, -5)]
    part = _frame(rows)                                              # higher is better
    ranks = rank_gaps(part, "netto_arbeidsparticipatie", "marokko", 2021)
    assert [r.gemeente_code for r in ranks] == ["GM0003", "GM0002", "GM0001"]
    assert ranks[0].percentile == pytest.approx(200 / 3) and ranks[-1].percentile == 0


def test_missing_reasons_have_dutch_labels_in_the_catalogue():
    cat = load_origin_catalogue()
    for reason in ("leeg", "geheim", MISSING_SMALL_N, MISSING_NO_REFERENCE):
        assert cat.missing_label(reason) and cat.missing_label(reason) != reason
    assert cat.missing_label(None) == ""
    assert cat.indicators["netto_arbeidsparticipatie"].better == "higher"


def test_groups_link_to_origin_groups_of_their_scheme():
    schemes = load_catalogue().schemes
    for g in load_origin_catalogue().groups.values():
        if g.origin_group is not None:
            assert g.origin_group in {x.id for x in schemes[g.scheme].groups}, g.id
