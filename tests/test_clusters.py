"""Local Moran's I: hand-computed chain, planted cluster on a grid, real Ede wijken."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")
from shapely.geometry import box  # noqa: E402

from buurtmonitor.lokale_kaart import clusters  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BUURTMONITOR_SHARED_DATA") or REPO.parent / "shared" / "data")
EDE_WIJKEN = SHARED / "geo_ede_2024_pdok" / "wijken_2024_gemeente_ede.geojson"


def grid(rows: int, cols: int) -> gpd.GeoDataFrame:
    codes = [f"G{r}_{c}" for r in range(rows) for c in range(cols)]
    geoms = [box(c, r, c + 1, r + 1) for r in range(rows) for c in range(cols)]
    return gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs="EPSG:28992")


def test_chain_by_hand():
    # 8 squares in a row (Queen = neighbours left/right), values 1..8, mean 4.5.
    # deviations d = −3.5 … 3.5; row-standardised lag of d:
    #   −2.5, −2.5, −1.5, −0.5, 0.5, 1.5, 2.5, 2.5
    # Σ d·lag = 8.75+6.25+2.25+0.25+0.25+2.25+6.25+8.75 = 35 ; Σ d² = 42
    # global I = 35/42 = 0.833333 ; I₁ = (n−1)·d₁·lag₁/Σd² = 7·8.75/42 = 1.458333
    # I₄ = 7·(−0.5·−0.5)/42 = 0.041667
    g = grid(1, 8)
    values = pd.Series(np.arange(1, 9, dtype=float), index=g["code"])
    res = clusters.local_moran(g, values, permutations=99)
    assert res.n == 8
    assert res.moran_i == pytest.approx(35 / 42, abs=1e-12)
    ii = res.table.set_index("code")["Ii"]
    assert ii["G0_0"] == pytest.approx(1.458333, abs=1e-6)
    assert ii["G0_3"] == pytest.approx(0.041667, abs=1e-6)
    assert ii.sum() == pytest.approx(7 * 35 / 42, abs=1e-9)
    q = res.table.set_index("code")["quadrant"]
    assert q["G0_0"] == "LL" and q["G0_7"] == "HH"


@pytest.fixture(scope="module")
def planted():
    g = grid(10, 10)
    rng = np.random.default_rng(7)
    values = pd.Series(rng.uniform(0, 10, len(g)), index=g["code"])
    block = [f"G{r}_{c}" for r in range(6, 10) for c in range(6, 10)]   # 4×4 corner block
    values[block] = 100 + rng.uniform(0, 5, len(block))
    return g, values, block


def test_planted_high_high_block(planted):
    g, values, block = planted
    res = clusters.local_moran(g, values)
    t = res.table.set_index("code")
    assert set(t["cluster"]) <= set(clusters.CLUSTER_LABELS)
    # the inner 3×3 of the block (all neighbours high or block edge) is Hoog-hoog
    core = [f"G{r}_{c}" for r in range(7, 10) for c in range(7, 10)]
    assert (t.loc[core, "cluster"] == clusters.HIGH_HIGH).all()
    # Hoog-hoog only inside the block
    assert set(t.index[t["cluster"] == clusters.HIGH_HIGH]) <= set(block)
    assert res.moran_i > 0.5 and res.moran_p_sim <= 0.01
    assert res.counts[clusters.HIGH_HIGH] >= 9
    d = res.to_dict()
    json.dumps(d)
    assert d["summary"].startswith("Moran's I")


def test_reproducible_with_seed(planted):
    g, values, _ = planted
    a = clusters.local_moran(g, values, seed=1)
    b = clusters.local_moran(g, values, seed=1)
    c = clusters.local_moran(g, values, seed=2)
    assert a.table["p_sim"].tolist() == b.table["p_sim"].tolist()
    assert a.moran_p_sim == b.moran_p_sim
    assert a.table["Ii"].tolist() == c.table["Ii"].tolist()   # statistic does not depend on seed


def test_permutation_engine_matches_expectation(planted):
    # Under conditional randomisation E[I_i] = −z_i²·Σⱼwᵢⱼ / Σz² (row-standardised: Σⱼwᵢⱼ=1).
    from libpysal.weights import Queen

    g, values, _ = planted
    w = Queen.from_dataframe(g, use_index=False)
    w.transform = "r"
    y = values.to_numpy()
    z = (y - y.mean()) / y.std()
    sims = clusters.conditional_permutations(z, w.sparse, 4000, seed=3)
    expected = -(z ** 2) / (z ** 2).sum()
    se = sims.std(axis=1) / np.sqrt(sims.shape[1])
    assert (np.abs(sims.mean(axis=1) - expected) < 5 * se + 1e-12).all()


def test_missing_values_and_islands_excluded():
    g = grid(3, 4)
    g = pd.concat([g, gpd.GeoDataFrame({"code": ["EILAND"]}, geometry=[box(50, 50, 51, 51)],
                                       crs=g.crs)], ignore_index=True)
    values = pd.Series(np.arange(len(g), dtype=float), index=g["code"])
    values["G0_0"] = np.nan
    res = clusters.local_moran(g, values, permutations=99)
    reasons = {e["code"]: e["reason"] for e in res.excluded}
    assert reasons["G0_0"] == clusters.REASON_NO_VALUE
    assert reasons["EILAND"] == clusters.REASON_ISLAND
    assert res.islands == ["EILAND"]
    assert res.n == 11 and "G0_0" not in set(res.table["code"])


def test_too_few_areas_dutch_message():
    g = grid(2, 3)
    values = pd.Series(np.arange(6, dtype=float), index=g["code"])
    with pytest.raises(clusters.TooFewAreasError, match="Te weinig gebieden"):
        clusters.local_moran(g, values)


def test_constant_values():
    g = grid(3, 3)
    with pytest.raises(clusters.ClusterAnalysisError, match="dezelfde waarde"):
        clusters.local_moran(g, pd.Series(5.0, index=g["code"]))


@pytest.mark.skipif(not EDE_WIJKEN.exists(),
                    reason=f"Gedeelde testdata ontbreekt / shared test data absent: "
                           f"{EDE_WIJKEN.name} (zet / set BUURTMONITOR_SHARED_DATA)")
def test_real_ede_wijken_runs():
    g = gpd.read_file(EDE_WIJKEN).rename(columns={"wijkcode": "code"})
    values = pd.to_numeric(g["percentageMetHerkomstlandBuitenEuropa"], errors="coerce")
    values = values.where(values >= 0)  # PDOK negative sentinels = no data
    values.index = g["code"]
    res = clusters.local_moran(g[["code", "geometry"]], values)
    assert res.n + len(res.excluded) == len(g)
    assert set(res.table["cluster"]) <= set(clusters.CLUSTER_LABELS)
    assert res.table["p_sim"].between(0.001, 1).all()
    assert np.isfinite(res.moran_i)
    json.dumps(res.to_dict())


@pytest.mark.skipif(os.environ.get("BUURTMONITOR_SLOW_TESTS") != "1",
                    reason="Traag (numba-compilatie in esda, ~18 s) / slow: set "
                           "BUURTMONITOR_SLOW_TESTS=1")
def test_esda_engine_agrees(planted):
    g, values, _ = planted
    a = clusters.local_moran(g, values, engine="numpy")
    b = clusters.local_moran(g, values, engine="esda")
    assert a.table["Ii"].tolist() == pytest.approx(b.table["Ii"].tolist())
    assert np.corrcoef(a.table["p_sim"], b.table["p_sim"])[0, 1] > 0.95
    assert (a.table["cluster"] == b.table["cluster"]).mean() > 0.9
