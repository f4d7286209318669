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
    g, values, _ = planted
    w = clusters.queen_weights(g)
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


# --------------------------------------------------------------------------------------
# PySAL is the reference, in the tests only: libpysal (Queen), esda (Moran, Moran_Local)
# --------------------------------------------------------------------------------------

#: esda.Moran_Local(y, Queen, permutations=999, seed=DEFAULT_SEED).p_sim × 1000 on the
#: ``planted`` grid, computed once with esda 2.9.0 (its numba permutations take about a
#: minute to compile, too slow for every run); row order = grid order
ESDA_P_SIM_PLANTED = [
    255, 123, 87, 126, 202, 147, 381, 338, 377, 451, 101, 82, 44, 13, 26, 70, 195, 202, 213, 310,
    18, 4, 1, 9, 29, 90, 146, 178, 182, 338, 37, 34, 56, 47, 41, 63, 57, 138, 127, 354,
    200, 4, 30, 9, 61, 32, 24, 102, 147, 316, 299, 108, 168, 70, 66, 403, 339, 38, 50, 34,
    208, 131, 71, 62, 9, 257, 56, 1, 1, 5, 236, 191, 127, 102, 119, 72, 2, 1, 1, 1,
    271, 122, 186, 161, 137, 60, 1, 1, 1, 1, 481, 130, 311, 186, 300, 100, 8, 1, 1, 1,
]
#: the p-values × 1000 this module gave on ``planted`` when it still took Iᵢ from esda
NUMPY_P_SIM_PLANTED = [
    287, 147, 112, 148, 217, 173, 407, 363, 400, 441, 125, 102, 61, 16, 33, 85, 215, 218, 230, 336,
    24, 5, 1, 14, 33, 106, 172, 195, 199, 359, 53, 33, 57, 50, 41, 71, 65, 159, 140, 366,
    219, 15, 45, 26, 69, 48, 40, 123, 165, 337, 312, 130, 193, 85, 79, 402, 355, 42, 54, 44,
    232, 146, 82, 63, 29, 267, 58, 1, 2, 4, 249, 220, 139, 113, 127, 66, 1, 1, 1, 1,
    283, 131, 204, 173, 139, 61, 2, 1, 1, 1, 488, 127, 344, 177, 322, 114, 11, 1, 1, 3,
]
#: global Moran's I of ``planted`` from esda.Moran (the same computation)
ESDA_MORAN_PLANTED = {"I": 0.783525001609831, "EI": -0.010101010101010102, "z_norm": 14.841312352461758,
                       "p_norm": 7.919142056262765e-50}


def _pysal_reference(gdf, y):
    import esda
    from libpysal.weights import Queen

    w = Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)
    w.transform = "r"
    return w, esda.Moran_Local(y, w, permutations=0), esda.Moran(y, w, permutations=0)


def _cases():
    g = grid(10, 10)
    y = np.random.default_rng(11).uniform(0, 10, len(g))
    yield "grid", g, y
    # an L of unit squares plus a square with a hole and a two-part multipolygon
    from shapely.geometry import MultiPolygon, Polygon
    ring = Polygon([(4, 0), (7, 0), (7, 3), (4, 3)], holes=[[(5, 1), (6, 1), (6, 2), (5, 2)]])
    parts = MultiPolygon([box(7, 0, 8, 1), box(7, 2, 8, 3)])
    odd = gpd.GeoDataFrame({"code": [f"S{i}" for i in range(10)]}, geometry=[
        box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1), box(3, 0, 4, 1), box(0, 1, 1, 2),
        box(0, 2, 1, 3), ring, box(5, 1, 6, 2), parts, box(8, 0, 9, 3)])
    yield "holes and parts", odd, np.arange(10, dtype=float) ** 1.5
    if EDE_WIJKEN.exists():
        ede = gpd.read_file(EDE_WIJKEN)
        yield "Ede wijken", ede, np.random.default_rng(3).uniform(0, 10, len(ede))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["grid", "holes and parts", "Ede wijken"])
def test_weights_and_statistics_equal_pysal(name):
    case = next((c for c in _cases() if c[0] == name), None)
    if case is None:
        pytest.skip(f"Gedeelde testdata ontbreekt / shared test data absent: {EDE_WIJKEN.name}")
    _, gdf, y = case
    w, lm, gm = _pysal_reference(gdf, y)
    ours = clusters.queen_weights(gdf)
    assert ours.islands == sorted(w.islands)
    assert abs(ours.sparse - w.sparse).max() == 0
    assert (ours.s0, ours.s1, ours.s2) == pytest.approx((w.s0, w.s1, w.s2), rel=1e-12)
    z, local, q = clusters.local_statistics(y, ours)
    assert local == pytest.approx(lm.Is, abs=1e-12)
    assert q.tolist() == lm.q.tolist()
    g = clusters.global_moran(y, ours)
    assert (g["I"], g["EI"], g["z_norm"], g["p_norm"]) == pytest.approx(
        (gm.I, gm.EI, gm.z_norm, gm.p_norm), abs=1e-12)


def test_planted_against_frozen_esda_values(planted):
    g, values, _ = planted
    res = clusters.local_moran(g, values)
    assert res.moran_i == pytest.approx(ESDA_MORAN_PLANTED["I"], abs=1e-12)
    assert res.moran_expected == pytest.approx(ESDA_MORAN_PLANTED["EI"], abs=1e-12)
    assert res.moran_z_norm == pytest.approx(ESDA_MORAN_PLANTED["z_norm"], abs=1e-9)
    assert res.moran_p_norm == pytest.approx(ESDA_MORAN_PLANTED["p_norm"], abs=1e-12)
    esda_p = np.asarray(ESDA_P_SIM_PLANTED) / 1000
    ours = res.table["p_sim"].to_numpy()
    # different random streams: the same up to Monte Carlo noise (p ± a few × √(p(1−p)/999))
    assert np.corrcoef(ours, esda_p)[0, 1] > 0.99
    noise = 5 * np.sqrt(np.maximum(esda_p * (1 - esda_p), 0.01) / 999) + 0.01
    assert (np.abs(ours - esda_p) <= noise).all()
    # and exactly what this module gave before it computed the statistics itself
    assert (np.rint(ours * 1000).astype(int) == np.asarray(NUMPY_P_SIM_PLANTED)).all()
    esda_cluster = [clusters.QUADRANTS[k][1] if p < 0.05 else clusters.NOT_SIGNIFICANT
                    for k, p in zip(clusters.local_statistics(
                        values.to_numpy(), clusters.queen_weights(g))[2], esda_p)]
    assert (res.table["cluster"].to_numpy() == np.asarray(esda_cluster)).mean() >= 0.95


LIVE_ESDA = """
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, geopandas as gpd
from shapely.geometry import box
import esda, esda.crand
esda.crand.boolean = np.bool_          # numba's type name, when numba does not compile
from libpysal.weights import Queen
g = gpd.GeoDataFrame(geometry=[box(c, r, c + 1, r + 1) for r in range(6) for c in range(6)])
y = np.asarray(json.loads(sys.argv[1]))
w = Queen.from_dataframe(g, use_index=False, silence_warnings=True)
w.transform = "r"
lm = esda.Moran_Local(y, w, permutations=999, seed=1, n_jobs=1)
print(json.dumps({"p_sim": lm.p_sim.tolist(), "Is": lm.Is.tolist()}))
"""


@pytest.mark.slow
def test_permutations_agree_with_live_esda_on_a_small_grid():
    """esda's own conditional permutations (numba switched off, so no compilation) against
    ours on 36 squares with a planted corner: the same pseudo p-values up to noise."""
    import subprocess
    import sys

    g = grid(6, 6)
    y = np.random.default_rng(5).uniform(0, 10, 36)
    y[:9] += 20
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", LIVE_ESDA, json.dumps(y.tolist())], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    ref = json.loads(out.stdout)
    res = clusters.local_moran(g, pd.Series(y, index=g["code"]), min_areas=8)
    assert res.table["Ii"].to_numpy() == pytest.approx(ref["Is"], abs=1e-12)
    esda_p = np.asarray(ref["p_sim"])
    noise = 5 * np.sqrt(np.maximum(esda_p * (1 - esda_p), 1e-3) / 999) + 0.002
    assert (np.abs(res.table["p_sim"].to_numpy() - esda_p) <= noise).all()


@pytest.mark.slow
def test_runtime_imports_no_pysal():
    """The page, the briefing and the CLI run without segregation, esda, libpysal or numba."""
    import subprocess
    import sys

    code = ("import sys\n"
            "import app.cli, app.briefing_export, buurtmonitor.briefing\n"
            "from buurtmonitor.lokale_kaart import clusters, indices, presenters, segregation\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('segregation', 'esda', 'libpysal', 'numba', 'sklearn'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ""
