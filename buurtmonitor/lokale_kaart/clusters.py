"""Local Moran's I (LISA): where do high or low values cluster on the lokale kaart?

:func:`local_moran` takes polygons (a GeoDataFrame with ``code`` and ``geometry``) and the
values of one indicator (a Series indexed by code, or a column name), and returns a
:class:`ClusterResult`: per area the value, the local statistic Iᵢ, its pseudo p-value,
the quadrant and a Dutch cluster label, plus global Moran's I.

Method (Anselin 1995), written out here in closed form with numpy/scipy:

* Queen contiguity (areas that share at least one boundary vertex are neighbours, as
  ``libpysal.weights.Queen``), row-standardised (:func:`queen_weights`).
* Areas without a value or geometry are excluded and listed; areas without neighbours
  (islands, also those created by excluding neighbours) are excluded and listed.
* ``zᵢ = (yᵢ − ȳ)/s`` (s with ddof 0), ``Iᵢ = (n − 1)·zᵢ·Σⱼ wᵢⱼ zⱼ / Σⱼ zⱼ²`` and the
  quadrants as ``esda.Moran_Local``; global ``I = (n/S₀)·Σᵢ zᵢ·Σⱼ wᵢⱼ zⱼ / Σᵢ zᵢ²`` with its
  expectation and normal approximation (two-sided) as ``esda.Moran``.
* Significance by conditional permutation: for each area the values of the other areas
  are shuffled over its neighbours (``permutations`` times, default 999, fixed ``seed``,
  ``numpy.random.default_rng``); the pseudo p-value is ``(min(#sim ≥ Iᵢ, #sim < Iᵢ) + 1) /
  (permutations + 1)``, the same folded rule and algorithm as esda's ``crand``. The p-values
  agree with esda's up to Monte Carlo noise (different random streams).

PySAL (libpysal, esda) is not needed at run time: ``tests/test_clusters.py`` compares
every step with it (live on small cases, and with values esda computed once).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from buurtmonitor import formatting as fmt
from buurtmonitor.catalogue import load_lokale_kaart

HIGH_HIGH = "Hoog-hoog"
LOW_LOW = "Laag-laag"
HIGH_LOW = "Hoog-laag (uitschieter)"
LOW_HIGH = "Laag-hoog (uitschieter)"
NOT_SIGNIFICANT = "Niet significant"
#: Every label :func:`local_moran` can produce.
CLUSTER_LABELS = (HIGH_HIGH, LOW_LOW, HIGH_LOW, LOW_HIGH, NOT_SIGNIFICANT)
#: esda quadrant numbers (1 HH, 2 LH, 3 LL, 4 HL) -> (short code, label if significant).
QUADRANTS = {1: ("HH", HIGH_HIGH), 2: ("LH", LOW_HIGH), 3: ("LL", LOW_LOW), 4: ("HL", HIGH_LOW)}

DEFAULT_PERMUTATIONS = 999
DEFAULT_SEED = 20240228
DEFAULT_ALPHA = 0.05
MIN_AREAS = 8

REASON_NO_VALUE = "geen waarde (ontbreekt of geheim bij CBS)"
REASON_NO_GEOMETRY = "geen grens (geometrie ontbreekt)"
REASON_ISLAND = "geen buurgebieden (eiland): kan niet met buren worden vergeleken"

class ClusterAnalysisError(ValueError):
    """The analysis cannot be done; ``str(exc)`` is a Dutch message for the user."""


class TooFewAreasError(ClusterAnalysisError):
    """Fewer valid areas than :data:`MIN_AREAS` (message in Dutch)."""


@dataclass(frozen=True)
class ClusterResult:
    """Result of :func:`local_moran`.

    ``table``: one row per analysed area with columns ``code``, ``value``, ``Ii``,
    ``p_sim``, ``quadrant`` (``HH``/``LH``/``LL``/``HL``), ``significant`` (bool) and
    ``cluster`` (one of :data:`CLUSTER_LABELS`).
    ``excluded``: ``[{"code", "reason"}]`` (no value, no geometry, island).
    """

    table: pd.DataFrame
    moran_i: float
    moran_p_sim: float
    moran_expected: float
    moran_z_norm: float
    moran_p_norm: float
    n: int
    excluded: list[dict[str, str]] = field(default_factory=list)
    islands: list[str] = field(default_factory=list)
    permutations: int = DEFAULT_PERMUTATIONS
    seed: int = DEFAULT_SEED
    alpha: float = DEFAULT_ALPHA
    engine: str = "numpy"                 # how the permutations were drawn (kept in to_dict)
    explanation: str = field(default_factory=lambda: load_lokale_kaart().text("cluster_explanation"))

    @property
    def counts(self) -> dict[str, int]:
        """Number of areas per cluster label (all labels, also zero)."""
        vc = self.table["cluster"].value_counts()
        return {label: int(vc.get(label, 0)) for label in CLUSTER_LABELS}

    def summary(self) -> str:
        """One Dutch sentence on the global pattern."""
        p = self.moran_p_sim
        sig = "significant" if p < self.alpha else "niet significant"
        i = fmt.number(self.moran_i, 2)
        pt = fmt.number(p, 3)
        return (f"Moran's I = {i} over {self.n} gebieden (p = {pt}, {sig} bij "
                f"{int(round(self.alpha * 100))}%).")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        def num(x: Any) -> float | None:
            x = float(x)
            return x if math.isfinite(x) else None

        rows = [{"code": str(r.code), "value": num(r.value), "Ii": num(r.Ii),
                 "p_sim": num(r.p_sim), "quadrant": r.quadrant,
                 "significant": bool(r.significant), "cluster": r.cluster}
                for r in self.table.itertuples(index=False)]
        return {"areas": rows, "moran_i": num(self.moran_i), "moran_p_sim": num(self.moran_p_sim),
                "moran_expected": num(self.moran_expected), "moran_z_norm": num(self.moran_z_norm),
                "moran_p_norm": num(self.moran_p_norm), "n": self.n,
                "excluded": self.excluded, "islands": self.islands, "counts": self.counts,
                "permutations": self.permutations, "seed": self.seed, "alpha": self.alpha,
                "engine": self.engine, "summary": self.summary(),
                "explanation": self.explanation}


# ---------------------------------------------------------------------------------------
# Permutation inference (numpy)
# ---------------------------------------------------------------------------------------

def _folded_p(sim: np.ndarray, observed: np.ndarray | float, permutations: int) -> np.ndarray:
    """esda's folded pseudo p-value: (min(#sim ≥ obs, perms − that) + 1) / (perms + 1)."""
    larger = (sim >= observed).sum(axis=-1)
    larger = np.minimum(larger, permutations - larger)
    return (larger + 1.0) / (permutations + 1.0)


def _random_ids(n_other: int, max_card: int, permutations: int,
                rng: np.random.Generator) -> np.ndarray:
    """(permutations, max_card) ids drawn without replacement from range(n_other)."""
    if n_other * permutations <= 5_000_000:
        return np.argsort(rng.random((permutations, n_other)), axis=1)[:, :max_card]
    return np.stack([rng.choice(n_other, size=max_card, replace=False)
                     for _ in range(permutations)])


def conditional_permutations(z: np.ndarray, sparse_w: Any, permutations: int,
                             seed: int) -> np.ndarray:
    """Simulated local Moran values under conditional randomisation, shape (n, perms).

    For area i, the values of the other n − 1 areas are shuffled and the first kᵢ
    (kᵢ = number of neighbours) are taken as its neighbours; ``Iᵢ_sim = (n−1)·zᵢ·Σ wᵢⱼ z_π(j)
    / Σ z²``. One set of shuffled ids is shared by all areas, as in esda's ``crand``.
    """
    W = sp.csr_matrix(sparse_w)
    n = z.size
    scaling = (n - 1) / float((z * z).sum())
    cards = np.diff(W.indptr)
    max_card = int(cards.max()) if n else 0
    rng = np.random.default_rng(seed)
    ids = _random_ids(n - 1, max_card, permutations, rng)
    sims = np.empty((n, permutations))
    for i in range(n):
        lo, hi = W.indptr[i], W.indptr[i + 1]
        k = hi - lo
        if k == 0:
            sims[i] = 0.0
            continue
        wi = W.data[lo:hi]
        pid = ids[:, :k]
        pid = pid + (pid >= i)          # skip the area itself
        sims[i] = scaling * z[i] * (z[pid] @ wi)
    return sims


# ---------------------------------------------------------------------------------------
# Main entry
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Weights:
    """Row-standardised spatial weights: ``sparse`` (n × n CSR, rows sum to 1 where an area
    has neighbours), ``cardinalities`` (neighbours per area) and the sums S₀, S₁, S₂ of
    Cliff & Ord used by the moments of global Moran's I."""

    sparse: sp.csr_matrix
    cardinalities: np.ndarray

    @property
    def islands(self) -> list[int]:
        """Positions of the areas without a neighbour."""
        return [int(i) for i in np.flatnonzero(self.cardinalities == 0)]

    @property
    def s0(self) -> float:
        return float(self.sparse.sum())

    @property
    def s1(self) -> float:
        both = self.sparse + self.sparse.T
        return float(0.5 * both.multiply(both).sum())

    @property
    def s2(self) -> float:
        rows = np.asarray(self.sparse.sum(axis=1)).ravel()
        cols = np.asarray(self.sparse.sum(axis=0)).ravel()
        return float(((rows + cols) ** 2).sum())


def queen_contiguity(geometries: Any) -> sp.csr_matrix:
    """Binary Queen contiguity (n × n, no diagonal): two areas are neighbours when their
    boundaries share at least one vertex, as ``libpysal.weights.Queen`` decides it (exact
    coordinates, holes and all parts of a multipolygon included)."""
    geoms = np.asarray(list(geometries), dtype=object)
    n = len(geoms)
    if n == 0:
        return sp.csr_matrix((0, 0))
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return sp.csr_matrix((n, n))
    _, vertex = np.unique(coords, axis=0, return_inverse=True)
    incidence = sp.csr_matrix((np.ones(len(owner)), (owner, vertex.ravel())),
                              shape=(n, int(vertex.max()) + 1))
    incidence.data[:] = 1.0
    shared = (incidence @ incidence.T).tocsr()
    shared.setdiag(0)
    shared.eliminate_zeros()
    shared.data[:] = 1.0
    return shared


def queen_weights(gdf: Any) -> Weights:
    """Row-standardised Queen weights of the polygons of ``gdf`` (in row order)."""
    binary = queen_contiguity(gdf.geometry)
    cards = np.diff(binary.indptr)
    scale = np.divide(1.0, cards, out=np.zeros(len(cards)), where=cards > 0)
    row = sp.diags(scale) @ binary
    return Weights(sparse=sp.csr_matrix(row), cardinalities=cards)


def _quadrants(z: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """esda's quadrants: 1 HH (z > 0, lag > 0), 2 LH, 3 LL, 4 HL; zero counts as low."""
    zp, lp = z > 0, lag > 0
    return np.where(zp & lp, 1, np.where(~zp & lp, 2, np.where(~zp & ~lp, 3, 4)))


def global_moran(y: np.ndarray, w: Weights) -> dict[str, float]:
    """Global Moran's I of ``y`` with its expectation, z-value and two-sided p-value under
    normality (the moments of ``esda.Moran``)."""
    n = len(y)
    z = y - y.mean()
    zz = float((z * z).sum())
    s0 = w.s0
    i = (n / s0) * float((z * (w.sparse @ z)).sum()) / zz
    ei = -1.0 / (n - 1)
    v_num = n * n * w.s1 - n * w.s2 + 3 * s0 * s0
    v_den = (n - 1) * (n + 1) * s0 * s0
    vi = v_num / v_den - ei * ei
    z_norm = (i - ei) / math.sqrt(vi) if vi > 0 else float("nan")
    p_norm = math.erfc(abs(z_norm) / math.sqrt(2.0)) if math.isfinite(z_norm) else float("nan")
    return {"I": i, "EI": ei, "z_norm": z_norm, "p_norm": p_norm}


def local_statistics(y: np.ndarray, w: Weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, Iᵢ, quadrant) of ``y`` as ``esda.Moran_Local`` computes them."""
    n = len(y)
    z = (y - y.mean()) / y.std()
    lag = w.sparse @ z
    local = (n - 1) * z * lag / float((z * z).sum())
    return z, local, _quadrants(z, lag)


def local_moran(gdf: Any, values: pd.Series | str, *,
                permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                alpha: float = DEFAULT_ALPHA, min_areas: int = MIN_AREAS) -> ClusterResult:
    """Local and global Moran's I for one indicator over polygons.

    ``gdf``: GeoDataFrame with ``code`` and ``geometry`` (one row per area, any CRS: the
    contiguity is topological). ``values``: Series indexed by code, or a column of ``gdf``.
    Missing values (NaN) are excluded and listed, never treated as 0.
    Raises :class:`TooFewAreasError` (Dutch message) when fewer than ``min_areas`` areas
    remain, :class:`ClusterAnalysisError` when all values are equal.
    """
    if permutations < 99:
        raise ValueError("Gebruik minstens 99 permutaties.")
    if "code" not in gdf.columns:
        raise ValueError("De kaartlaag mist de kolom 'code'.")
    codes = gdf["code"].astype(str)
    if codes.duplicated().any():
        dup = ", ".join(sorted(codes[codes.duplicated()].unique())[:5])
        raise ValueError(f"Dubbele gebiedscodes in de kaartlaag: {dup}.")
    if isinstance(values, str):
        vals = pd.to_numeric(gdf[values], errors="coerce").astype(float)
        vals.index = codes.to_numpy()
    else:
        vals = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
        vals.index = vals.index.astype(str)
        if vals.index.duplicated().any():
            raise ValueError("De waarden hebben dubbele gebiedscodes.")
    y_all = vals.reindex(codes.to_numpy()).to_numpy()

    excluded: list[dict[str, str]] = []
    geom = gdf.geometry
    keep = np.ones(len(gdf), dtype=bool)
    for pos, code in enumerate(codes):
        g = geom.iloc[pos]
        if g is None or g.is_empty:
            excluded.append({"code": code, "reason": REASON_NO_GEOMETRY})
            keep[pos] = False
        elif not np.isfinite(y_all[pos]):
            excluded.append({"code": code, "reason": REASON_NO_VALUE})
            keep[pos] = False

    sub = gdf[keep].reset_index(drop=True)
    y = y_all[keep]
    sub_codes = codes[keep].to_list()
    islands: list[str] = []
    if len(sub) >= 2:
        w = queen_weights(sub)
        if w.islands:
            islands = [sub_codes[i] for i in w.islands]
            excluded += [{"code": c, "reason": REASON_ISLAND} for c in islands]
            mask = np.ones(len(sub), dtype=bool)
            mask[w.islands] = False
            sub = sub[mask].reset_index(drop=True)
            y = y[mask]
            sub_codes = [c for c, m in zip(sub_codes, mask) if m]
    n = len(sub)
    if n < min_areas:
        raise TooFewAreasError(
            f"Te weinig gebieden voor een clusteranalyse: {n} bruikbare gebieden, minimaal "
            f"{min_areas} nodig. "
            + (f"{len(excluded)} gebied(en) vielen af (geen waarde, geen grens of geen "
               "buren). " if excluded else "")
            + "Kies een fijner niveau (buurten in plaats van wijken) of een andere indicator.")
    if np.allclose(y, y[0]):
        raise ClusterAnalysisError(
            "Alle gebieden hebben dezelfde waarde; er is geen ruimtelijk patroon te zoeken.")

    w = queen_weights(sub)  # islands removed: removing them creates no new islands
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        z_local, Is, q = local_statistics(y, w)
        sims = conditional_permutations(z_local, w.sparse, permutations, seed)
        p_sim = _folded_p(sims, Is[:, None], permutations)
        glob = global_moran(y, w)

    # Global Moran's I: permutation p-value with a local generator (thread-safe).
    z = y - y.mean()
    Wsp = w.sparse
    s0 = w.s0
    rng = np.random.default_rng(seed + 1)
    perm = rng.permuted(np.tile(z, (permutations, 1)), axis=1)
    sim_i = (n / s0) * ((Wsp @ perm.T).T * perm).sum(axis=1) / float((z * z).sum())
    moran_p = float(_folded_p(sim_i, glob["I"], permutations))

    significant = p_sim < alpha
    table = pd.DataFrame({
        "code": sub_codes,
        "value": y,
        "Ii": Is,
        "p_sim": p_sim,
        "quadrant": [QUADRANTS[k][0] for k in q],
        "significant": significant,
        "cluster": [QUADRANTS[k][1] if s else NOT_SIGNIFICANT for k, s in zip(q, significant)],
    })
    return ClusterResult(table=table, moran_i=glob["I"], moran_p_sim=moran_p,
                         moran_expected=glob["EI"], moran_z_norm=glob["z_norm"],
                         moran_p_norm=glob["p_norm"], n=n, excluded=excluded,
                         islands=islands, permutations=permutations, seed=seed, alpha=alpha)
