"""Change signals between two years: hand example, scheme break, thresholds, real data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from buurtmonitor.lokale_kaart import change

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BUURTMONITOR_SHARED_DATA") or REPO.parent / "shared" / "data")
KWB_CSV = SHARED / "kwb_2024_85984NED_odata" / "85984NED_TypedDataSet_first10000rows.csv"

G = ["herkomst_nederland", "herkomst_europa", "herkomst_buiten_europa"]


@pytest.fixture
def years():
    # X: 1000 -> 1000 inwoners; buiten Europa 100 -> 162 (+6,2 pp), Nederland 800 -> 740
    #    (−6,0 pp), Europa 100 -> 98 (−0,2 pp); samenstelling ½(6,0+0,2+6,2) = 6,2 pp
    # Y: 150 -> 150, big shift but too small (< 200)
    # Z: 1000 -> 1150 (+15%), shares unchanged (80/10/10)
    # M: value suppressed in the second year; W only in year a; V only in year b
    a = pd.DataFrame([[800, 100, 100], [140, 5, 5], [800, 100, 100], [400, 50, 50],
                      [300, 50, 50]], index=["X", "Y", "Z", "M", "W"], columns=G)
    b = pd.DataFrame([[740, 98, 162], [90, 5, 55], [920, 115, 115], [400, np.nan, 50],
                      [300, 50, 50]], index=["X", "Y", "Z", "M", "V"], columns=G)
    return a, b


def run(a, b, **kw):
    args = dict(year_a=2023, year_b=2024, scheme_a="herkomst", scheme_b="herkomst")
    args.update(kw)
    return change.compare_years(a, b, **args)


def test_hand_example(years):
    a, b = years
    r = run(a, b)
    areas = r.areas.set_index("code")
    x = areas.loc["X"]
    assert x["pop_change"] == 0 and x["pop_change_pct"] == 0
    assert x["composition_change_pp"] == pytest.approx(6.2)
    assert x["status"] == change.STATUS_SIGNAL
    sh = r.shares.set_index(["code", "group"])
    assert sh.loc[("X", "herkomst_buiten_europa"), "change_pp"] == pytest.approx(6.2)
    assert sh.loc[("X", "herkomst_nederland"), "change_pp"] == pytest.approx(-6.0)
    assert sh.loc[("X", "herkomst_europa"), "change_pp"] == pytest.approx(-0.2)
    assert sh.loc[("X", "herkomst_buiten_europa"), "share_a_pct"] == pytest.approx(10.0)

    fx = r.flags[r.flags["code"] == "X"]
    reasons = set(fx["reason"])
    assert "Aandeel herkomst buiten Europa steeg 6,2 procentpunt (drempel 5)" in reasons
    assert "Aandeel herkomst Nederland daalde 6,0 procentpunt (drempel 5)" in reasons
    assert any(t.startswith("Samenstelling naar herkomst veranderde 6,2 procentpunt")
               for t in reasons)
    assert not (fx["group"] == "herkomst_europa").any()   # −0,2 pp: below threshold
    assert (fx["threshold"] > 0).all()

    # Y: too small -> no flags, marked
    assert areas.loc["Y", "status"] == "te klein voor een betrouwbaar signaal"
    assert not (r.flags["code"] == "Y").any()
    # Z: population +15%, shares unchanged
    z = r.flags[r.flags["code"] == "Z"]
    assert z["reason"].tolist() == [
        "Aantal inwoners steeg 15,0% (van 1.000 naar 1.150; drempel 10%)"]
    assert areas.loc["Z", "pop_change_pct"] == pytest.approx(15.0)
    # M: missing value -> not compared; W/V: boundary changes
    nc = {d["code"]: d["reason"] for d in r.not_compared}
    assert "2024" in nc["M"] and "herkomst Europa" in nc["M"]
    assert "M" not in areas.index
    assert r.only_in_a == ["W"] and r.only_in_b == ["V"]
    assert {d["code"] for d in r.boundary_changes} == {"W", "V"}
    assert "vijftallen" in r.caveat and "200" in r.caveat
    json.dumps(r.to_dict())


def test_thresholds_are_parameters(years):
    a, b = years
    r = run(a, b, share_threshold_pp=7, composition_threshold_pp=7.5,
            population_threshold_pct=20, min_population=100)
    assert not (r.flags["code"] == "X").any()
    assert r.areas.set_index("code").loc["X", "status"] == change.STATUS_NO_SIGNAL
    assert not (r.flags["code"] == "Z").any()
    # with min_population 100, Y (150) is compared: 140 -> 90 Nederland = −33,3 pp
    y = r.flags[r.flags["code"] == "Y"]
    assert "Aandeel herkomst Nederland daalde 33,3 procentpunt (drempel 7)" in set(y["reason"])
    assert any("drempel 7,5" in t for t in y["reason"])
    assert r.thresholds["composition_pp"] == 7.5


def test_totals_used_as_denominator(years):
    a, b = years
    ta = pd.Series({"X": 1000, "Y": 150, "Z": 1000, "M": 500, "W": 400})
    tb = pd.Series({"X": 1250, "Y": 150, "Z": 1150, "M": 500, "V": 400})
    r = run(a, b, total_a=ta, total_b=tb)
    sh = r.shares.set_index(["code", "group"])
    # 162 / 1250 = 12,96% in 2024
    assert sh.loc[("X", "herkomst_buiten_europa"), "share_b_pct"] == pytest.approx(12.96)
    assert r.areas.set_index("code").loc["X", "pop_change_pct"] == pytest.approx(25.0)


def test_scheme_break_raises_dutch():
    a = pd.DataFrame({"westers": [10.0]}, index=["BU1"])
    b = pd.DataFrame({"herkomst_europa": [10.0]}, index=["BU1"])
    with pytest.raises(change.SchemeBreakError) as exc:
        change.compare_years(a, b, year_a=2022, year_b=2023, scheme_a="migratieachtergrond",
                             scheme_b="herkomst")
    msg = str(exc.value)
    assert "Geen veranderingssignaal" in msg and "2023" in msg and "migratieachtergrond" in msg


def test_bad_input(years):
    a, b = years
    with pytest.raises(ValueError, match="vóór"):
        run(a, b, year_a=2024, year_b=2023)
    with pytest.raises(ValueError, match="gemeenschappelijke"):
        run(a[["herkomst_nederland"]], b[["herkomst_europa"]])


@pytest.mark.slow
@pytest.mark.skipif(not KWB_CSV.exists(),
                    reason=f"Gedeelde testdata ontbreekt / shared test data absent: "
                           f"{KWB_CSV.name} (zet / set BUURTMONITOR_SHARED_DATA)")
def test_real_ede_against_itself_and_a_shift():
    df = pd.read_csv(KWB_CSV, sep=";", encoding="utf-8-sig", dtype=str)
    for col in ("Codering_3", "SoortRegio_2", "Gemeentenaam_1"):
        df[col] = df[col].str.strip()
    ede = df[df["Codering_3"].str.startswith("BU0228")].set_index("Codering_3")
    cols = ["Nederland_17", "EuropaExclusiefNederland_18", "BuitenEuropa_19"]
    counts = ede[cols].apply(pd.to_numeric, errors="coerce")
    total = pd.to_numeric(ede["AantalInwoners_5"], errors="coerce")
    same = run(counts, counts, total_a=total, total_b=total)
    assert same.flags.empty
    assert set(same.areas["status"]) <= {change.STATUS_NO_SIGNAL, change.STATUS_TOO_SMALL}
    assert {d["code"] for d in same.not_compared} == set(total.index[total == 0])
    # move 10% of residents of the largest buurt from Nederland to buiten Europa
    big = total.idxmax()
    shifted = counts.copy()
    n = round(0.10 * total[big] / 5) * 5
    shifted.loc[big, "Nederland_17"] -= n
    shifted.loc[big, "BuitenEuropa_19"] += n
    r = run(counts, shifted, total_a=total, total_b=total)
    assert set(r.flags["code"]) == {big}
    assert any(t.startswith("Aandeel herkomst buiten Europa steeg") for t in r.flags["reason"])
