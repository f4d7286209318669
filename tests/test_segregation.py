"""Segregation measures: hand-computed examples, PySAL cross-check, real CBS data (Ede)."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from buurtmonitor.catalogue import load_lokale_kaart
from buurtmonitor.lokale_kaart import segregation as seg

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BUURTMONITOR_SHARED_DATA") or REPO.parent / "shared" / "data")
KWB_CSV = SHARED / "kwb_2024_85984NED_odata" / "85984NED_TypedDataSet_first10000rows.csv"
HERKOMST = ["Nederland_17", "EuropaExclusiefNederland_18", "BuitenEuropa_19"]
TOTAL = "AantalInwoners_5"

needs_kwb = pytest.mark.skipif(
    not KWB_CSV.exists(),
    reason=f"Gedeelde testdata ontbreekt / shared test data absent: {KWB_CSV.name} "
           "(zet BUURTMONITOR_SHARED_DATA / set BUURTMONITOR_SHARED_DATA)")


# --------------------------------------------------------------------------------------
# Hand-computed examples
# --------------------------------------------------------------------------------------

@pytest.fixture
def two_groups() -> pd.DataFrame:
    # 3 areas, 2 groups. A = 100, B = 100; t = 60, 50, 90; T = 200.
    return pd.DataFrame({"a": [10, 20, 70], "b": [50, 30, 20]}, index=["X", "Y", "Z"])


@pytest.fixture
def three_groups() -> pd.DataFrame:
    # 2 areas, 3 groups. t = 50, 50; T = 100; P = (0.4, 0.4, 0.2).
    return pd.DataFrame({"n": [30, 10], "e": [10, 30], "o": [10, 10]}, index=["P", "Q"])


def test_dissimilarity_by_hand(two_groups):
    # ½(|0.1−0.5| + |0.2−0.3| + |0.7−0.2|) = ½(0.4 + 0.1 + 0.5) = 0.5
    assert seg.dissimilarity(two_groups["a"], two_groups["b"]) == pytest.approx(0.5, abs=1e-12)
    # with two groups the multigroup D equals the two-group D
    assert seg.multigroup_dissimilarity(two_groups) == pytest.approx(0.5, abs=1e-12)


def test_isolation_and_exposure_by_hand(two_groups):
    t = two_groups.sum(axis=1)
    # aPa = 0.1·10/60 + 0.2·20/50 + 0.7·70/90 = 0.016667 + 0.08 + 0.544444 = 0.641111
    assert seg.isolation(two_groups["a"], t) == pytest.approx(0.641111, abs=1e-6)
    # aPb = 0.1·50/60 + 0.2·30/50 + 0.7·20/90 = 0.083333 + 0.12 + 0.155556 = 0.358889
    assert seg.exposure(two_groups["a"], two_groups["b"], t) == pytest.approx(0.358889, abs=1e-6)
    m = seg.exposure_matrix(two_groups)
    # exhaustive groups: every row of the exposure matrix sums to 1
    assert m.sum(axis=1).tolist() == pytest.approx([1.0, 1.0])


def test_theil_h_by_hand(two_groups, three_groups):
    # E = ln 2 = 0.693147; E_X = 0.450561, E_Y = 0.673012, E_Z = 0.529706 (unnormalised)
    # H = [60·0.242586 + 50·0.020135 + 90·0.163441] / (200·0.693147) = 30.2716/138.6294
    assert seg.theil_h(two_groups) == pytest.approx(0.218364, abs=1e-6)
    # E = −(2·0.4 ln 0.4 + 0.2 ln 0.2) = 1.054920; E_P = E_Q = 0.950271
    # H = (1.054920 − 0.950271)/1.054920 = 0.099201
    assert seg.theil_h(three_groups) == pytest.approx(0.099201, abs=1e-6)


def test_multigroup_dissimilarity_by_hand(three_groups):
    # I = Σ P(1−P) = 0.24 + 0.24 + 0.16 = 0.64
    # Σᵢ tᵢ Σₖ |pᵢₖ − Pₖ| = 50·(0.2+0.2+0) + 50·(0.2+0.2+0) = 40
    # D = 40 / (2·100·0.64) = 0.3125
    assert seg.multigroup_dissimilarity(three_groups) == pytest.approx(0.3125, abs=1e-12)


def test_local_diversity_and_lq_by_hand(two_groups, three_groups):
    # area P: p = (0.6, 0.2, 0.2); −(0.6 ln 0.6 + 2·0.2 ln 0.2)/ln 3 = 0.950271/1.098612
    assert seg.local_entropy(three_groups)["P"] == pytest.approx(0.864974, abs=1e-6)
    # Gini-Simpson P: 1 − (0.36 + 0.04 + 0.04) = 0.56
    assert seg.gini_simpson(three_groups)["P"] == pytest.approx(0.56, abs=1e-12)
    lq = seg.location_quotients(three_groups)
    # LQ(P, n) = 0.6/0.4 = 1.5; LQ(P, e) = 0.2/0.4 = 0.5; LQ(P, o) = 0.2/0.2 = 1
    assert lq.loc["P"].tolist() == pytest.approx([1.5, 0.5, 1.0])
    # 2 groups, area X: p = (1/6, 5/6): entropy 0.450561/ln 2 = 0.650022; GS = 1 − 26/36
    assert seg.local_entropy(two_groups)["X"] == pytest.approx(0.650022, abs=1e-6)
    assert seg.gini_simpson(two_groups)["X"] == pytest.approx(10 / 36, abs=1e-12)
    # LQ(Z, a) = (70/90)/(100/200) = 1.555556
    assert seg.location_quotients(two_groups).loc["Z", "a"] == pytest.approx(1.555556, abs=1e-6)


def test_group_absent_everywhere_is_ignored_in_multigroup():
    c = pd.DataFrame({"a": [10, 20, 70], "b": [50, 30, 20], "c": [0, 0, 0]})
    assert seg.theil_h(c) == pytest.approx(0.218364, abs=1e-6)
    assert seg.multigroup_dissimilarity(c) == pytest.approx(0.5, abs=1e-12)


# --------------------------------------------------------------------------------------
# compute_all: dropping, JSON, cross-check, texts
# --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_compute_all_drops_and_reports_in_dutch(two_groups):
    c = pd.concat([two_groups, pd.DataFrame({"a": [np.nan, 0, 5], "b": [10, 0, 5]},
                                            index=["G", "L", "N"])])
    total = pd.Series({"X": 60, "Y": 50, "Z": 90, "G": 15, "L": 0, "N": np.nan})
    r = seg.compute_all(c, "a", "b", total=total)
    json.dumps(r.to_dict())  # JSON-serialisable
    assert r.n_areas == 3 and r.n_areas_input == 6
    reasons = {d["code"]: d["reason"] for d in r.dropped}
    assert set(reasons) == {"G", "L", "N"}
    assert "geheim" in reasons["G"] and "a" in reasons["G"]
    assert reasons["L"] == seg.REASON_ZERO_TOTAL
    assert reasons["N"] == seg.REASON_TOTAL_MISSING
    assert r.dissimilarity == pytest.approx(0.5)
    assert r.isolation["a"] == pytest.approx(0.641111, abs=1e-6)
    assert r.exposure["a"]["b"] == pytest.approx(0.358889, abs=1e-6)
    assert_agrees_with_pysal(r, c, total, "a", "b")
    area_z = next(a for a in r.areas if a.code == "Z")
    assert area_z.lq["a"] == pytest.approx(1.555556, abs=1e-6)
    assert any("niet meegeteld" in w for w in r.warnings)
    assert "vijftallen" in r.caveat


def test_compute_all_input_errors(two_groups):
    with pytest.raises(ValueError, match="verschillende groepen"):
        seg.compute_all(two_groups, "a", "a")
    with pytest.raises(ValueError, match="zit niet in"):
        seg.compute_all(two_groups, "a", "onbekend")


def test_compute_all_nothing_left():
    c = pd.DataFrame({"a": [np.nan, 0], "b": [1, 0]}, index=["A", "B"])
    r = seg.compute_all(c, "a", "b")
    json.dumps(r.to_dict())
    assert r.n_areas == 0 and r.dissimilarity is None and len(r.dropped) == 2


def test_explanations_complete():
    """Every measure the page and the briefing explain has its texts in the catalogue."""
    texts = load_lokale_kaart()
    for key in ("dissimilarity", "multigroup_dissimilarity", "theil_h", "isolation", "exposure",
                "entropy", "gini_simpson", "location_quotient"):
        e = texts.measures[key]
        assert all(isinstance(v, str) and v.strip() for v in (e.label, e.explanation, e.range, e.how_to_read))
    assert "vijftallen" in texts.text("segregation_caveat")


def test_catalogue_reader_says_what_is_missing(monkeypatch):
    from buurtmonitor import catalogue

    monkeypatch.setattr(catalogue, "_load", lambda name: {"measure": {"d": {"label": "D"}}})
    catalogue.load_lokale_kaart.cache_clear()
    try:
        with pytest.raises(catalogue.CatalogueError, match="Maat d mist"):
            catalogue.load_lokale_kaart()
    finally:
        monkeypatch.undo()
        catalogue.load_lokale_kaart.cache_clear()
    with pytest.raises(KeyError, match="lokale_kaart.toml"):
        load_lokale_kaart().text("bestaat_niet")


def test_rank_against_by_hand():
    dist = {"GM1": 0.1, "GM2": 0.2, "GM3": 0.3, "GM4": 0.4, "GM5": float("nan")}
    r = seg.rank_against(0.3, dist)
    assert (r.rank, r.of) == (2, 4)          # one value (0.4) is higher
    assert r.percentile == pytest.approx(50.0)  # 2 of 4 are lower
    assert "Plaats 2 van 4" in r.text
    assert seg.rank_against(0.3, dist, higher_first=False).rank == 3
    assert seg.rank_against(None, dist).rank is None


# --------------------------------------------------------------------------------------
# PySAL segregation is the reference (in the tests only; the closed forms are the product)
# --------------------------------------------------------------------------------------

def pysal_values(counts: pd.DataFrame, group_a: str, group_b: str) -> dict:
    """The measures computed with PySAL ``segregation`` (t_i = sum of the groups).
    ``interaction`` is PySAL's group-versus-rest exposure ``Σ_{y≠x} xPy``."""
    import warnings

    old = np.geterr()
    try:
        import segregation  # noqa: F401  (sets np.seterr on import)
        from segregation.local import MultiLocalEntropy, MultiLocalSimpsonInteraction, MultiLocationQuotient
        from segregation.multigroup import MultiDissim, MultiInfoTheory
        from segregation.singlegroup import Interaction, Isolation
    finally:
        np.seterr(**old)
    groups = list(counts.columns)
    df = counts.astype(float).copy()
    df["__totaal__"] = df[groups].sum(axis=1)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return {
            "dissimilarity": float(MultiDissim(df, [group_a, group_b]).statistic),
            "multigroup_dissimilarity": float(MultiDissim(df, groups).statistic),
            "theil_h": float(MultiInfoTheory(df, groups).statistic),
            "isolation": {g: float(Isolation(df, g, "__totaal__").statistic) for g in groups},
            "interaction": {g: float(Interaction(df, g, "__totaal__").statistic) for g in groups},
            "entropy": np.asarray(MultiLocalEntropy(df, groups).statistics, dtype=float),
            "gini_simpson": np.asarray(MultiLocalSimpsonInteraction(df, groups).statistics, dtype=float),
            "location_quotient": np.asarray(MultiLocationQuotient(df, groups).statistics, dtype=float),
        }


def assert_agrees_with_pysal(result: seg.SegregationMeasures, counts: pd.DataFrame, total, group_a: str, group_b: str,
                             tol: float = 1e-9) -> None:
    """The closed forms of ``result`` (:func:`seg.compute_all`) equal PySAL on the areas it
    kept, with t_i = the group sum as PySAL uses it (groups absent everywhere left out)."""
    prep = seg.prepare_counts(counts, total)
    c = prep.counts
    present = [g for g in c.columns if c[g].sum() > 0]
    c = c[present]
    ref = pysal_values(c, group_a, group_b)
    t = c.sum(axis=1)
    assert result.dissimilarity == pytest.approx(ref["dissimilarity"], abs=tol)
    assert result.multigroup_dissimilarity == pytest.approx(ref["multigroup_dissimilarity"], abs=tol)
    assert result.theil_h == pytest.approx(ref["theil_h"], abs=tol)
    for g in present:
        assert seg.isolation(c[g], t) == pytest.approx(ref["isolation"][g], abs=tol)
        others = c.drop(columns=[g]).sum(axis=1)
        assert seg.exposure(c[g], others, t) == pytest.approx(ref["interaction"][g], abs=tol)
    assert np.abs(seg.local_entropy(c).to_numpy() - ref["entropy"]).max() <= tol
    assert np.abs(seg.gini_simpson(c).to_numpy() - ref["gini_simpson"]).max() <= tol
    assert np.abs(seg.location_quotients(c).to_numpy() - ref["location_quotient"]).max() <= tol
    # the areas of the result are the areas PySAL saw
    by_code = {a.code: a for a in result.areas}
    assert list(by_code) == [str(x) for x in c.index]
    for pos, code in enumerate(c.index):
        assert by_code[str(code)].entropy == pytest.approx(ref["entropy"][pos], abs=tol)
        assert by_code[str(code)].gini_simpson == pytest.approx(ref["gini_simpson"][pos], abs=tol)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_closed_forms_equal_pysal_on_generated_gemeenten(seed):
    """Generated gemeenten (20–80 areas, three or four groups, some suppressed values and a
    group absent from a few areas) against PySAL segregation."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(20, 80)), int(rng.integers(3, 5))
    weights = rng.dirichlet(np.ones(k) * 0.7, size=n)
    sizes = rng.integers(50, 3000, size=n)
    counts = pd.DataFrame(np.round(weights * sizes[:, None] / 5) * 5,
                          columns=[f"g{i}" for i in range(k)], index=[f"A{i:03d}" for i in range(n)])
    counts.iloc[rng.integers(0, n, size=3), 1] = np.nan
    total = counts.sum(axis=1)
    r = seg.compute_all(counts, "g0", f"g{k - 1}", total=total)
    assert r.n_areas_input == n and r.n_areas == n - len(r.dropped) and r.dropped
    assert_agrees_with_pysal(r, counts, total, "g0", f"g{k - 1}")


# --------------------------------------------------------------------------------------
# Real data: KWB 2024 (85984NED), Ede
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def buurten() -> pd.DataFrame:
    df = pd.read_csv(KWB_CSV, sep=";", encoding="utf-8-sig", dtype=str)
    for col in ("Codering_3", "SoortRegio_2", "Gemeentenaam_1"):
        df[col] = df[col].str.strip()
    bu = df[df["SoortRegio_2"] == "Buurt"].set_index("Codering_3")
    return bu[HERKOMST + [TOTAL]].apply(pd.to_numeric, errors="coerce")


@pytest.mark.slow
@needs_kwb
def test_ede_dissimilarity_equals_direct_formula(buurten):
    ede = buurten[buurten.index.str.startswith("BU0228")]
    # expected, straight from the CSV counts with plain numpy
    raw = ede[HERKOMST + [TOTAL]].to_numpy(dtype=float)
    ok = ~np.isnan(raw).any(axis=1) & (raw[:, 3] > 0)
    a, b = raw[ok, 0], raw[ok, 2]
    expected = 0.5 * np.sum(np.abs(a / a.sum() - b / b.sum()))

    r = seg.compute_all(ede[HERKOMST], "Nederland_17", "BuitenEuropa_19", total=ede[TOTAL])
    json.dumps(r.to_dict())
    assert abs(r.dissimilarity - expected) < 1e-6
    assert r.n_areas == int(ok.sum())
    assert_agrees_with_pysal(r, ede[HERKOMST], ede[TOTAL], "Nederland_17", "BuitenEuropa_19")
    assert all(0 <= a.entropy <= 1 for a in r.areas)
    iso = r.isolation["BuitenEuropa_19"]
    assert r.group_shares["BuitenEuropa_19"] < iso < 1  # more among themselves than by chance


@needs_kwb
def test_national_distribution_fast_and_consistent(buurten):
    counts = buurten[HERKOMST]
    gm = "GM" + pd.Series(counts.index.str[2:6], index=counts.index)
    by = seg.split_by_gemeente(counts, gm)
    assert "GM0228" in by and len(by) >= 170
    # 342 gemeenten (the real ones plus copies under made-up codes)
    extra = {f"GM9{i:03d}": frame for i, frame in enumerate(list(by.values())[:342 - len(by)])}
    many = {**by, **extra}
    assert len(many) == 342
    start = time.perf_counter()
    table = seg.measures_for_gemeenten(many, "Nederland_17", "BuitenEuropa_19")
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert len(table) == 342

    ede = by["GM0228"]
    full = seg.compute_all(ede, "Nederland_17", "BuitenEuropa_19")
    row = table.loc["GM0228"]
    assert row["dissimilarity"] == pytest.approx(full.dissimilarity, abs=1e-12)
    assert row["multigroup_dissimilarity"] == pytest.approx(full.multigroup_dissimilarity,
                                                            abs=1e-12)
    assert row["theil_h"] == pytest.approx(full.theil_h, abs=1e-12)
    assert row["n_areas"] == full.n_areas

    rank = seg.rank_against(row["dissimilarity"], table.loc[list(by), "dissimilarity"])
    assert 1 <= rank.rank <= rank.of == len(by)
    assert 0 <= rank.percentile < 100
    assert table["dissimilarity"].between(0, 1).all()
    assert not math.isnan(table.loc["GM0228", "theil_h"])
