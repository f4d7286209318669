"""Local Moran's I (LISA): where do high or low values cluster on the lokale kaart?

:func:`local_moran` takes polygons (a GeoDataFrame with ``code`` and ``geometry``) and the
values of one indicator (a Series indexed by code, or a column name), and returns a
:class:`ClusterResult`: per area the value, the local statistic Iᵢ, its pseudo p-value,
the quadrant and a Dutch cluster label, plus global Moran's I.

Method (Anselin 1995):

* Queen contiguity (areas that share an edge or a corner are neighbours) via
  ``libpysal.weights.Queen.from_dataframe(..., use_index=False)``, row-standardised.
* Areas without a value or geometry are excluded and listed; areas without neighbours
  (islands, also those created by excluding neighbours) are excluded and listed.
* ``zᵢ = (yᵢ − ȳ)/s`` (s with ddof 0), ``Iᵢ = (n − 1)·zᵢ·Σⱼ wᵢⱼ zⱼ / Σⱼ zⱼ²`` (as
  ``esda.Moran_Local``), global ``I = (n/S₀)·Σᵢ zᵢ·Σⱼ wᵢⱼ zⱼ / Σᵢ zᵢ²``.
* Significance by conditional permutation: for each area the values of the other areas
  are shuffled over its neighbours (``permutations`` times, default 999, fixed ``seed``);
  the pseudo p-value is ``(min(#sim ≥ Iᵢ, #sim < Iᵢ) + 1) / (permutations + 1)``, the same
  folded rule as esda.

Engines: ``engine="numpy"`` (default) takes Iᵢ, the quadrants and global I from
``esda.Moran_Local``/``esda.Moran`` without permutations and runs the conditional
permutations in vectorised numpy with ``numpy.random.default_rng(seed)`` (the same algorithm
as esda's ``crand``). ``engine="esda"`` lets esda run the permutations itself; esda's
numba kernels are compiled (not cached) on first use, which costs about 18 s per process,
too slow for an interactive page. Both engines give the same Iᵢ and quadrants; their
p-values agree up to Monte Carlo noise (different random streams).

esda and libpysal cost ~1.5 s to import, so they are imported inside the functions.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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

EXPLANATION = (
    "De clusterkaart zoekt plekken waar buurgebieden op elkaar lijken. Voor elk gebied "
    "wordt de waarde vergeleken met het gemiddelde van de gebieden die eraan grenzen. "
    "'Hoog-hoog' betekent: een hoge waarde, omringd door gebieden met ook hoge waarden "
    "(een concentratie). 'Laag-laag' is hetzelfde voor lage waarden. 'Hoog-laag' en "
    "'Laag-hoog' zijn uitschieters: een gebied dat duidelijk afwijkt van zijn omgeving. "
    "'Niet significant' betekent dat het patroon rond dat gebied ook door toeval kan "
    "ontstaan. Om dat te bepalen worden de waarden 999 keer willekeurig over de kaart "
    "geschud; alleen als het echte patroon in minder dan 5% van die schuddingen even sterk "
    "is, krijgt een gebied een clusterlabel. Het getal Moran's I voor de hele gemeente "
    "vat samen hoe sterk gelijke waarden bij elkaar liggen: rond 0 = geen patroon, richting "
    "1 = sterke clustering, negatief = hoog en laag wisselen elkaar af. Let op: bij veel "
    "gebieden zijn er ook bij toeval enkele 'significante' gebieden (ongeveer 1 op 20), en "
    "kleine gebieden hebben door de afronding van CBS onzekere waarden. Een cluster zegt "
    "waar iets samenkomt, niet waarom."
)


class ClusterAnalysisError(ValueError):
    """The analysis cannot be done; ``str(exc)`` is a Dutch message for the user."""


class TooFewAreasError(ClusterAnalysisError):
    """Fewer valid areas than :data:`MIN_AREAS` (message in Dutch)."""


@dataclass
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
    engine: str = "numpy"
    explanation: str = EXPLANATION

    @property
    def counts(self) -> dict[str, int]:
        """Number of areas per cluster label (all labels, also zero)."""
        vc = self.table["cluster"].value_counts()
        return {label: int(vc.get(label, 0)) for label in CLUSTER_LABELS}

    def summary(self) -> str:
        """One Dutch sentence on the global pattern."""
        p = self.moran_p_sim
        sig = "significant" if p < self.alpha else "niet significant"
        i = f"{self.moran_i:.2f}".replace(".", ",")
        pt = f"{p:.3f}".replace(".", ",")
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
    import scipy.sparse as sp

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

def _queen(gdf: Any) -> Any:
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)


def local_moran(gdf: Any, values: pd.Series | str, *,
                permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                alpha: float = DEFAULT_ALPHA, min_areas: int = MIN_AREAS,
                engine: str = "numpy") -> ClusterResult:
    """Local and global Moran's I for one indicator over polygons.

    ``gdf``: GeoDataFrame with ``code`` and ``geometry`` (one row per area, any CRS: the
    contiguity is topological). ``values``: Series indexed by code, or a column of ``gdf``.
    Missing values (NaN) are excluded and listed, never treated as 0.
    Raises :class:`TooFewAreasError` (Dutch message) when fewer than ``min_areas`` areas
    remain, :class:`ClusterAnalysisError` when all values are equal.
    """
    if engine not in ("numpy", "esda"):
        raise ValueError("engine moet 'numpy' of 'esda' zijn.")
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
        w = _queen(sub)
        if w.islands:
            islands = [sub_codes[i] for i in sorted(w.islands)]
            excluded += [{"code": c, "reason": REASON_ISLAND} for c in islands]
            mask = np.ones(len(sub), dtype=bool)
            mask[list(w.islands)] = False
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

    w = _queen(sub)  # islands removed: removing them creates no new islands
    w.transform = "r"

    import esda

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if engine == "esda":
            lisa = esda.Moran_Local(y, w, permutations=permutations, seed=seed)
            p_sim = np.asarray(lisa.p_sim, dtype=float)
        else:
            lisa = esda.Moran_Local(y, w, permutations=0)
            sims = conditional_permutations(np.asarray(lisa.z, dtype=float), w.sparse,
                                            permutations, seed)
            p_sim = _folded_p(sims, np.asarray(lisa.Is)[:, None], permutations)
        glob = esda.Moran(y, w, permutations=0)

    # Global Moran's I: permutation p-value with a local generator (thread-safe).
    z = y - y.mean()
    Wsp = w.sparse
    s0 = float(w.s0)
    rng = np.random.default_rng(seed + 1)
    perm = rng.permuted(np.tile(z, (permutations, 1)), axis=1)
    sim_i = (n / s0) * ((Wsp @ perm.T).T * perm).sum(axis=1) / float((z * z).sum())
    moran_p = float(_folded_p(sim_i, float(glob.I), permutations))

    q = np.asarray(lisa.q, dtype=int)
    Is = np.asarray(lisa.Is, dtype=float)
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
    return ClusterResult(table=table, moran_i=float(glob.I), moran_p_sim=moran_p,
                         moran_expected=float(glob.EI), moran_z_norm=float(glob.z_norm),
                         moran_p_norm=float(glob.p_norm), n=n, excluded=excluded,
                         islands=islands, permutations=permutations, seed=seed, alpha=alpha,
                         engine=engine)
