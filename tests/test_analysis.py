"""buurtmonitor.analysis: composition, profile (hand-computed z-scores), time series with breaks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from buurtmonitor import analysis
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.harmonise import build_table
from buurtmonitor.model import AreaTable, TableMeta
from buurtmonitor.synthetic import DEMO_YEARS, SPLIT_INTO
from loaders import repository


@pytest.fixture(scope="module")
def demo():
    """The fictitious Voorbeeldgemeente, every demo year."""
    return {y: repository.demo_table(y, "GM9901") for y in DEMO_YEARS}


def small_table(year: int = 2024) -> AreaTable:
    """A hand-made gemeente GM0001 with wijk WK000101 and four buurten.

    Herkomst buiten Europa: 10, 20, 30, 40 % of 100, 200, 300, 50 inwoners; buurt 04 has only
    50 inwoners (small n); buurt 05 is suppressed ('.')."""
    codes = ["NL00", "GM0001", "WK000101", "BU00010101", "BU00010102", "BU00010103",
             "BU00010104", "BU00010105"]
    ids = pd.DataFrame({
        "code": codes,
        "name": ["Nederland", "Testgem", "Wijk Een", "B1", "B2", "B3", "B4", "B5"],
        "level": ["land", "gemeente", "wijk", "buurt", "buurt", "buurt", "buurt", "buurt"],
        "gemeente_name": ["Nederland"] + ["Testgem"] * 7,
        "indelingswijziging": [".", "1", "1", "1", "1", "1", "1", "1"],
    })
    inw = [10000, 680, 680, 100, 200, 300, 50, 30]
    be = [2000, 171, 171, 10, 40, 90, 20, "."]
    eu = [1000, 68, 68, 10, 20, 30, 5, "."]
    nl = [i - b - e if b != "." else "." for i, b, e in zip(inw, be, eu)]
    raw = {"inwoners": pd.Series(inw, dtype=object), "herkomst_buiten_europa": pd.Series(be, dtype=object),
           "herkomst_europa": pd.Series(eu, dtype=object), "herkomst_nederland": pd.Series(nl, dtype=object),
           "woz": pd.Series([400, 300, 300, 200, 300, 400, 500, "."], dtype=object)}
    meta = TableMeta(year=year, table_id="TEST", table_title="test", scheme="herkomst", source_kind="demo")
    return build_table(ids, raw, meta)


# ------------------------------------------------------------------------------ composition
@pytest.mark.slow
@pytest.mark.parametrize("year", [2021, 2024])
def test_composition_exclusive_groups_sum_to_100(demo, year):
    comp = analysis.composition(demo[year], "buurt")
    scheme = load_catalogue().schemes[demo[year].meta.scheme]
    assert list(dict.fromkeys(comp["group"])) == [g.id for g in scheme.exclusive_groups]
    complete = comp.groupby("code")["share"].apply(lambda s: s.notna().all())
    sums = comp[comp["code"].isin(complete[complete].index)].groupby("code")["share"].sum()
    assert len(sums) > 30
    np.testing.assert_allclose(sums.values, 100.0, atol=1e-9)
    # counts are the table's own values
    t = demo[year].data.set_index("code")
    first = scheme.exclusive_groups[-1]
    sub = comp[comp["group"] == first.id].set_index("code")
    ok = sub["count"].notna()
    assert (sub.loc[ok, "count"] == t.loc[sub.index[ok], first.variable]).all()


def test_composition_roles_and_comparison_rows(demo):
    comp = analysis.composition(demo[2024], "wijk")
    roles = comp.drop_duplicates("code")[["code", "role"]].values.tolist()
    assert roles[-2:] == [["GM9901", "gemeente"], ["NL00", "nederland"]]
    assert [c for c, r in roles if r == "gebied"] == [f"WK9901{i:02d}" for i in range(1, 7)]
    assert comp.attrs["scheme"] == "herkomst" and comp.attrs["fictitious"] is True
    assert "FICTIEVE" in comp.attrs["source"]


def test_composition_suppressed_stays_missing_with_reason(demo):
    comp = analysis.composition(demo[2024], "buurt")
    tiny = comp[comp["code"].str.endswith("07") & (comp["role"] == "gebied")]
    assert len(tiny) == 2 * 3
    assert tiny["count"].isna().all() and tiny["share"].isna().all()  # never 0
    assert set(tiny["missing"]) == {"leeg"}
    assert tiny["small_n"].all()
    table = analysis.composition_table(comp)
    row = table[table["Code"] == "BU99010107"].iloc[0]
    assert math.isnan(row["Buiten Europa (%)"]) and math.isnan(row["Buiten Europa (aantal)"])
    assert "niet beschikbaar" in row["Toelichting"]
    ok = table[table["Code"] == "BU99010101"].iloc[0]
    assert ok["Toelichting"] == ""


def test_composition_detail_replaces_parents(demo):
    comp = analysis.composition(demo[2024], "wijk", detail=True)
    assert list(dict.fromkeys(comp["group"])) == [
        "nederland", "geb_nl_europa", "geb_buiten_nl_europa", "geb_nl_buiten_europa",
        "geb_buiten_nl_buiten_europa"]
    old = analysis.composition(demo[2020], "wijk", detail=True)
    assert list(dict.fromkeys(old["group"])) == [
        "nederlandse_achtergrond", "westers", "marokko", "turkije", "suriname", "antillen_aruba",
        "overig_niet_westers"]
    sums = old.groupby("code")["share"].sum()
    np.testing.assert_allclose(sums.values, 100.0, atol=0.05)  # split groups are rounded by CBS


def test_composition_hand_computed():
    comp = analysis.composition(small_table(), "buurt")
    b3 = comp[comp["code"] == "BU00010103"].set_index("group")
    assert b3.loc["buiten_europa", "share"] == pytest.approx(30.0)
    assert b3.loc["nederland", "count"] == 180
    assert b3.loc["nederland", "total"] == 300
    b5 = comp[comp["code"] == "BU00010105"]
    assert b5["share"].isna().all() and set(b5["missing"]) == {"geheim"}
    assert comp.loc[comp["code"] == "BU00010104", "small_n"].all()


def test_composition_other_scheme_is_missing_not_zero(demo):
    comp = analysis.composition(demo[2024], "wijk", scheme_id="migratieachtergrond")
    areas = comp[comp["role"] == "gebied"]
    assert areas["share"].isna().all() and set(areas["missing"]) == {"niet_in_tabel"}


# ------------------------------------------------------------------------------ profile
def test_profile_hand_computed_z_scores():
    prof = analysis.profile(small_table(), "BU00010103", ["pct_herkomst_buiten_europa", "woz"])
    be = prof.set_index("indicator").loc["pct_herkomst_buiten_europa"]
    # buurt values 10, 20, 30, 40 (B5 suppressed): mean 25, sd (ddof=0) sqrt(125)
    assert be["value"] == pytest.approx(30.0)
    assert be["mean"] == pytest.approx(25.0)
    assert be["sd"] == pytest.approx(math.sqrt(125.0))
    assert be["areas"] == 4
    assert be["z"] == pytest.approx(5 / math.sqrt(125.0))  # 0.447
    assert be["reading"] == "rond het gemeentelijk gemiddelde"
    assert be["wijk"] == pytest.approx(100 * 171 / 680)
    assert be["gemeente"] == pytest.approx(100 * 171 / 680)
    assert be["nederland"] == pytest.approx(20.0)
    assert be["n"] == 300 and not be["small_n"]
    woz = prof.set_index("indicator").loc["woz"]
    # 200, 300, 400, 500: mean 350, sd sqrt(12500); B3 = 400
    assert woz["z"] == pytest.approx(50 / math.sqrt(12500.0))


def test_profile_readings_and_small_n():
    prof = analysis.profile(small_table(), "BU00010104", ["pct_herkomst_buiten_europa", "woz"])
    be = prof.set_index("indicator").loc["pct_herkomst_buiten_europa"]
    assert be["z"] == pytest.approx(15 / math.sqrt(125.0))  # 1.342
    assert be["reading"].startswith("ruim boven het gemeentelijk gemiddelde")
    assert be["small_n"] and "klein aantal" in be["reading"]
    low = analysis.profile(small_table(), "BU00010101", ["pct_herkomst_buiten_europa"]).iloc[0]
    assert low["z"] == pytest.approx(-15 / math.sqrt(125.0))
    assert low["reading"] == "ruim onder het gemeentelijk gemiddelde"
    assert analysis.reading_for(2.5) == "ver boven het gemeentelijk gemiddelde"
    assert analysis.reading_for(-0.7) == "iets onder het gemeentelijk gemiddelde"
    assert analysis.reading_for(-2.0) == "ver onder het gemeentelijk gemiddelde"


def test_profile_missing_with_reason_and_comparisons():
    prof = analysis.profile(small_table(), "BU00010105", ["pct_herkomst_buiten_europa", "inwoners"])
    be = prof.iloc[0]
    assert math.isnan(be["value"]) and math.isnan(be["z"])
    assert be["missing"] == "geheim" and be["reading"].startswith("geen waarde: geheim")
    assert prof.attrs["wijk_name"] == "Wijk Een" and prof.attrs["gemeente_name"] == "Testgem"
    wijk = analysis.profile(small_table(), "WK000101", ["pct_herkomst_buiten_europa"]).iloc[0]
    assert wijk["areas"] == 1 and math.isnan(wijk["z"])  # one wijk: nothing to compare with
    assert "te weinig gebieden" in wijk["reading"]
    with pytest.raises(KeyError):
        analysis.profile(small_table(), "BU99999999", ["inwoners"])


def test_profile_demo_against_wijk_and_gemeente(demo):
    t = demo[2024]
    prof = analysis.profile(t, "BU99010103", ["pct_herkomst_buiten_europa"])
    r = prof.iloc[0]
    d = t.data.set_index("code")
    assert r["wijk"] == pytest.approx(100 * d.loc["WK990101", "herkomst_buiten_europa"] / d.loc["WK990101", "inwoners"])
    assert r["gemeente"] == pytest.approx(100 * d.loc["GM9901", "herkomst_buiten_europa"] / d.loc["GM9901", "inwoners"])
    buurten = d[(d["level"] == "buurt")]
    vals = (100 * buurten["herkomst_buiten_europa"] / buurten["inwoners"]).dropna()
    assert r["areas"] == len(vals)
    assert r["z"] == pytest.approx((r["value"] - vals.mean()) / vals.std(ddof=0))


# ------------------------------------------------------------------------------ time series
def test_time_series_splits_at_scheme_break(demo):
    mapping = analysis.comparable_indicators("pct_herkomst_buiten_europa")
    assert mapping == {"herkomst": "pct_herkomst_buiten_europa", "migratieachtergrond": "pct_niet_westers"}
    s = analysis.time_series(demo, "BU99010103", mapping)
    assert s["year"].tolist() == list(DEMO_YEARS)
    assert s["segment"].tolist() == [0, 0, 0, 0, 1, 1]
    assert s["indicator"].tolist() == ["pct_niet_westers"] * 4 + ["pct_herkomst_buiten_europa"] * 2
    assert s["value"].notna().all()
    brk = s[s["year"] == 2023].iloc[0]
    assert brk["scheme_break"] and not brk["boundary_break"]
    assert "herkomst vanaf 2023" in brk["break_reason"]
    b = analysis.series_breaks(s)
    assert b[["year", "prev_year", "kind", "label"]].values.tolist() == [
        [2023, 2022, "schema", "Breuk: herkomst vanaf 2023"]]
    assert b["x"].iloc[0] == 2022.5


def test_time_series_single_origin_indicator_is_missing_in_other_scheme(demo):
    s = analysis.time_series(demo, "GM9901", "pct_herkomst_buiten_europa")
    old = s[s["year"] <= 2022]
    assert old["value"].isna().all() and set(old["missing"]) == {"niet_in_tabel"}
    assert s.loc[s["year"] >= 2023, "segment"].nunique() == 1
    assert s.loc[s["year"] == 2023, "scheme_break"].item()


def test_time_series_splits_at_boundary_change(demo):
    s = analysis.time_series(demo, SPLIT_INTO[0], analysis.comparable_indicators("pct_niet_westers"))
    # 2019-2021 old buurt | 2022 split (indelingswijziging 3) | 2023- herkomst
    assert s["segment"].tolist() == [0, 0, 0, 1, 2, 2]
    assert s["indelingswijziging"].tolist() == ["1", "1", "1", "3", "3", "3"]
    assert s.loc[s["year"] == 2022, "boundary_break"].item()
    assert not s.loc[s["year"] == 2024, "boundary_break"].item()  # a persisting flag is one change
    kinds = analysis.series_breaks(s)[["year", "kind", "label"]].values.tolist()
    assert kinds == [[2022, "grens", "Grenswijziging"], [2023, "schema", "Breuk: herkomst vanaf 2023"]]
    # a non-origin indicator is not cut at the scheme break, only at the boundary change
    woz = analysis.time_series(demo, SPLIT_INTO[0], "woz")
    assert woz["segment"].tolist() == [0, 0, 0, 1, 1, 1]


def test_time_series_new_area_is_absent_before(demo):
    s = analysis.time_series(demo, SPLIT_INTO[1], "woz")
    assert s["present"].tolist() == [False, False, False, True, True, True]
    assert set(s.loc[~s["present"], "missing"]) == {analysis.MISSING_AREA_ABSENT}
    assert s["segment"].isna().tolist() == [True, True, True, False, False, False]
    assert s.loc[s["year"] == 2022, "boundary_break"].item()
    assert "komt in 2021 niet voor" in s.loc[s["year"] == 2022, "break_reason"].item()


def test_time_series_suppressed_values_stay_missing(demo):
    s = analysis.time_series(demo, "BU99010107", analysis.comparable_indicators("pct_niet_westers"))
    assert s["value"].isna().all()
    assert set(s["missing"]) == {"leeg"}
    tab = analysis.series_table(s)
    assert tab["Waarde"].isna().all()
    assert tab["Toelichting"].str.contains("niet beschikbaar").all()


def test_comparable_indicators():
    assert analysis.comparable_indicators("woz") == {"herkomst": "woz", "migratieachtergrond": "woz"}
    assert analysis.comparable_indicators("pct_marokko") == {"migratieachtergrond": "pct_marokko"}
    assert analysis.comparable_indicators("pct_nederlandse_achtergrond")["herkomst"] == "pct_herkomst_nederland"


def test_area_choices_over_years(demo):
    choices = dict(analysis.area_choices(demo.values(), "GM9901"))
    assert list(choices)[0] == "GM9901"
    assert choices["BU99010190"].startswith("Buurt: ")
    assert all(not c.startswith("NL") for c in choices)
    assert len([c for c in choices if c.startswith("WK")]) == 6
