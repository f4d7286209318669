"""Segregation and diversity measures for the lokale kaart.

Input is plain pandas: ``counts`` is a DataFrame with one row per area (index = area
code) and one column per *mutually exclusive* origin group (persons; NaN where CBS
suppressed the value). ``total`` is an optional Series (same index) with the number of
residents per area. Areas with a missing value or a zero total are dropped before any
computation; every result says which areas were dropped and why (in Dutch).

All measures are written out here in closed form, each with its published formula; these
closed forms are the product. ``tests/test_segregation.py`` compares them with PySAL
``segregation`` on generated and real data, so the library is not needed at run time (it
and numba behind it took about 2 s to import on every page load).

Notation (per area *i*, group *k*): ``x_ik`` persons, ``t_i`` area total, ``X_k = Σ_i x_ik``,
``T = Σ_i t_i``, ``p_ik = x_ik / t_i`` (share of group *k* in area *i*),
``P_k = X_k / T`` (share in the whole gemeente), ``K`` = number of groups.

Totals: the multigroup measures (D, H, diversity) use the composition, i.e. ``t_i`` = the
sum of the groups, exactly as PySAL does. Isolation, exposure and location quotients use
the given total (``total``) when there is one, otherwise the sum of the groups. For the
CBS herkomst groups (Nederland / Europa / buiten Europa) both are the same up to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from buurtmonitor import formatting as fmt
from buurtmonitor.catalogue import load_lokale_kaart

# ---------------------------------------------------------------------------------------
# Labels (Dutch, shown in the UI); the explanations of the measures and the caveat are in
# data/lokale_kaart.toml (catalogue.load_lokale_kaart)
# ---------------------------------------------------------------------------------------

#: Readable Dutch names for known group columns (catalogue variable ids and CBS keys).
GROUP_LABELS: dict[str, str] = {
    "herkomst_nederland": "herkomst Nederland",
    "herkomst_europa": "herkomst Europa (excl. Nederland)",
    "herkomst_buiten_europa": "herkomst buiten Europa",
    "nederlandse_achtergrond": "Nederlandse achtergrond",
    "westers": "westerse migratieachtergrond",
    "niet_westers": "niet-westerse migratieachtergrond",
    "marokko": "Marokkaanse achtergrond",
    "turkije": "Turkse achtergrond",
    "suriname": "Surinaamse achtergrond",
    "antillen_aruba": "Antilliaanse/Arubaanse achtergrond",
    "overig_niet_westers": "overig niet-westerse achtergrond",
    "Nederland_17": "herkomst Nederland",
    "EuropaExclusiefNederland_18": "herkomst Europa (excl. Nederland)",
    "BuitenEuropa_19": "herkomst buiten Europa",
}


def group_label(group: str, labels: Mapping[str, str] | None = None) -> str:
    """Dutch label of a group column (``labels`` first, then :data:`GROUP_LABELS`)."""
    if labels and group in labels:
        return labels[group]
    return GROUP_LABELS.get(group, group)


REASON_MISSING = "ontbrekende waarde (geheim of niet beschikbaar bij CBS) voor: {columns}"
REASON_TOTAL_MISSING = "aantal inwoners ontbreekt"
REASON_NEGATIVE = "ongeldige negatieve waarde voor: {columns}"
REASON_ZERO_TOTAL = "geen inwoners (totaal is 0)"
REASON_ZERO_GROUPS = "de groepen tellen op tot 0"

#: Areas below this number of residents trigger the rounding warning.
SMALL_AREA = 100



# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AreaMeasures:
    """The diversity of one area: residents (``total``), the share and location quotient
    of each group, the entropy (0–1) and the Gini-Simpson index; ``name`` when known."""

    code: str
    total: float | None
    shares: dict[str, float | None]
    entropy: float | None
    gini_simpson: float | None
    lq: dict[str, float | None]
    name: str | None = None

    def to_dict(self, *, with_name: bool = False) -> dict[str, Any]:
        """JSON-serialisable form (``name`` only when asked)."""
        out: dict[str, Any] = {"code": self.code, "total": self.total, "shares": dict(self.shares),
                               "entropy": self.entropy, "gini_simpson": self.gini_simpson,
                               "lq": dict(self.lq)}
        if with_name:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class Rank:
    """The place of a value among all gemeenten (:func:`rank_against`): ``rank`` 1 = the
    highest, ``of`` gemeenten with a value, ``percentile`` = % of gemeenten with a strictly
    lower value, ``text`` in Dutch. ``rank`` and ``percentile`` are None without a value."""

    rank: int | None
    of: int
    percentile: float | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "of": self.of, "percentile": self.percentile, "text": self.text}


#: the measures that are set against all gemeenten
NATIONAL_MEASURES = ("dissimilarity", "multigroup_dissimilarity", "theil_h")


@dataclass(frozen=True)
class NationalComparison:
    """One gemeente among all gemeenten: a :class:`Rank` per measure of
    :data:`NATIONAL_MEASURES`, the number of gemeenten compared and their medians."""

    ranks: dict[str, Rank]
    n_gemeenten: int
    median: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: r.to_dict() for k, r in self.ranks.items()}
        out["n_gemeenten"] = self.n_gemeenten
        out["median"] = dict(self.median)
        return out


@dataclass(frozen=True)
class SegregationMeasures:
    """Every segregation and diversity measure of one set of areas (:func:`compute_all`).

    ``groups`` and ``pair`` are variable ids (``pair`` = the two groups of the two-group D),
    ``labels`` their Dutch labels; ``dropped`` lists ``{"code", "reason"}`` of the areas left
    out; ``isolation`` is xPx per group, ``exposure[x][y]`` is xPy; ``areas`` holds the
    diversity per kept area; ``warnings`` are Dutch; ``max_total_difference`` is the largest
    gap between the groups and the given total (None when no total was given).
    """

    groups: tuple[str, ...]
    labels: dict[str, str]
    pair: tuple[str, str]
    n_areas: int
    n_areas_input: int
    dropped: tuple[dict[str, str], ...]
    total_source: str
    caveat: str
    population: float
    group_totals: dict[str, float | None]
    group_shares: dict[str, float | None]
    dissimilarity: float | None
    multigroup_dissimilarity: float | None
    theil_h: float | None
    isolation: dict[str, float | None]
    exposure: dict[str, dict[str, float | None]]
    areas: tuple[AreaMeasures, ...]
    warnings: tuple[str, ...]
    max_total_difference: float | None = None

    def value(self, key: str) -> float | None:
        """One of the indices of :data:`NATIONAL_MEASURES` by name."""
        if key not in NATIONAL_MEASURES:
            raise KeyError(key)
        return getattr(self, key)

    def _core_dict(self, *, with_names: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "groups": list(self.groups), "labels": dict(self.labels), "pair": list(self.pair),
            "n_areas": self.n_areas, "n_areas_input": self.n_areas_input,
            "dropped": [dict(d) for d in self.dropped], "total_source": self.total_source,
            "caveat": self.caveat, "population": self.population,
            "group_totals": dict(self.group_totals), "group_shares": dict(self.group_shares),
            "dissimilarity": self.dissimilarity,
            "multigroup_dissimilarity": self.multigroup_dissimilarity, "theil_h": self.theil_h,
            "isolation": dict(self.isolation),
            "exposure": {g: dict(row) for g, row in self.exposure.items()},
            "areas": [a.to_dict(with_name=with_names) for a in self.areas],
        }
        if self.total_source == "totaal" and self.n_areas:
            out["max_total_difference"] = self.max_total_difference
        out["warnings"] = list(self.warnings)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the keys of the former dict result)."""
        return self._core_dict(with_names=False)


# ---------------------------------------------------------------------------------------
# Preparing the counts
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PreparedCounts:
    """Counts after dropping unusable areas.

    ``counts``: float frame of the kept areas (index = code, columns = groups);
    ``totals``: the ``t_i`` for isolation/exposure/LQ (given total, else the group sum);
    ``dropped``: ``[{"code": ..., "reason": ...}]`` (Dutch reasons);
    ``total_source``: ``"totaal"`` (given) or ``"som_groepen"``.
    """

    counts: pd.DataFrame
    totals: pd.Series
    dropped: list[dict[str, str]] = field(default_factory=list)
    total_source: str = "som_groepen"
    n_input: int = 0


def _as_float_frame(counts: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    missing = [g for g in groups if g not in counts.columns]
    if missing:
        raise ValueError(f"Onbekende groep(en): {', '.join(map(str, missing))}. "
                         f"Beschikbaar: {', '.join(map(str, counts.columns))}.")
    frame = counts[list(groups)].apply(pd.to_numeric, errors="coerce").astype(float)
    return frame


def prepare_counts(counts: pd.DataFrame, total: pd.Series | None = None,
                   groups: Sequence[str] | None = None) -> PreparedCounts:
    """Drop areas with a missing or negative value, a zero total or groups summing to 0.

    ``total`` is aligned on the index of ``counts``; an area without a total is dropped.
    """
    groups = list(counts.columns) if groups is None else list(groups)
    if not groups:
        raise ValueError("Geen groepen opgegeven.")
    frame = _as_float_frame(counts, groups)
    values = frame.to_numpy()
    tot = None
    if total is not None:
        tot = pd.to_numeric(pd.Series(total), errors="coerce").astype(float).reindex(frame.index)
    dropped: list[dict[str, str]] = []
    keep = np.ones(len(frame), dtype=bool)
    gsum = np.nansum(values, axis=1)
    for pos, code in enumerate(frame.index):
        row = values[pos]
        nan_cols = [g for g, v in zip(groups, row) if math.isnan(v)]
        reason = None
        if nan_cols:
            reason = REASON_MISSING.format(columns=", ".join(map(str, nan_cols)))
        elif tot is not None and math.isnan(tot.iloc[pos]):
            reason = REASON_TOTAL_MISSING
        elif (row < 0).any() or (tot is not None and tot.iloc[pos] < 0):
            neg = [g for g, v in zip(groups, row) if v < 0] or ["totaal"]
            reason = REASON_NEGATIVE.format(columns=", ".join(map(str, neg)))
        elif tot is not None and tot.iloc[pos] == 0:
            reason = REASON_ZERO_TOTAL
        elif gsum[pos] == 0:
            reason = REASON_ZERO_TOTAL if tot is None else REASON_ZERO_GROUPS
        if reason is not None:
            keep[pos] = False
            dropped.append({"code": str(code), "reason": reason})
    kept = frame[keep]
    if tot is not None:
        totals, source = tot[keep], "totaal"
    else:
        totals, source = kept.sum(axis=1), "som_groepen"
    return PreparedCounts(counts=kept, totals=totals.astype(float), dropped=dropped,
                          total_source=source, n_input=len(frame))


# ---------------------------------------------------------------------------------------
# Closed forms (numpy)
# ---------------------------------------------------------------------------------------

def _arr(x: Any) -> np.ndarray:
    if isinstance(x, (pd.DataFrame, pd.Series)):
        return x.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(x, dtype=float)


def dissimilarity(a: Any, b: Any) -> float:
    """Two-group index of dissimilarity (Duncan & Duncan 1955).

    ``D = ½ · Σᵢ |aᵢ/A − bᵢ/B|`` with ``A = Σ aᵢ``, ``B = Σ bᵢ``. NaN if A or B is 0.
    """
    a, b = _arr(a), _arr(b)
    A, B = a.sum(), b.sum()
    if A <= 0 or B <= 0:
        return float("nan")
    return float(0.5 * np.abs(a / A - b / B).sum())


def _composition(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(t_i, p_ik, P_k, T) using the group sum as t_i; groups absent everywhere removed."""
    x = x[:, x.sum(axis=0) > 0]
    t = x.sum(axis=1)
    T = float(t.sum())
    p = x / t[:, None]
    P = x.sum(axis=0) / T
    return t, p, P, T


def multigroup_dissimilarity(counts: Any) -> float:
    """Multigroup dissimilarity (Sakoda 1981; Reardon & Firebaugh 2002; 'Morgan's D').

    ``D = Σₖ Σᵢ tᵢ·|pᵢₖ − Pₖ| / (2·T·I)``, ``I = Σₖ Pₖ(1 − Pₖ)`` (Simpson's interaction).
    Equals PySAL ``segregation.multigroup.MultiDissim``; with two groups it equals
    :func:`dissimilarity`. NaN with fewer than two groups present.
    """
    t, p, P, T = _composition(_arr(counts))
    if P.size < 2 or T <= 0:
        return float("nan")
    interaction = float((P * (1 - P)).sum())
    return float((t[:, None] * np.abs(p - P)).sum() / (2 * T * interaction))


def theil_h(counts: Any) -> float:
    """Theil's multigroup information theory index H (Theil 1972; Reardon & Firebaugh 2002).

    ``H = Σᵢ tᵢ·(E − Eᵢ) / (T·E)`` with ``E = −Σₖ Pₖ ln Pₖ`` and ``Eᵢ = −Σₖ pᵢₖ ln pᵢₖ``
    (0·ln 0 = 0); identical to ``Σᵢ Σₖ tᵢ pᵢₖ ln(pᵢₖ/Pₖ) / (T·E)`` as in PySAL
    ``MultiInfoTheory``. NaN with fewer than two groups present.
    """
    t, p, P, T = _composition(_arr(counts))
    if P.size < 2 or T <= 0:
        return float("nan")
    E = float(-(P * np.log(P)).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        Ei = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1)
    return float((t * (E - Ei)).sum() / (T * E))


def isolation(x: Any, totals: Any) -> float:
    """Isolation index ``xPx = Σᵢ (xᵢ/X)·(xᵢ/tᵢ)`` (Lieberson 1981; Massey & Denton 1988)."""
    return exposure(x, x, totals)


def exposure(x: Any, y: Any, totals: Any) -> float:
    """Exposure (interaction) index ``xPy = Σᵢ (xᵢ/X)·(yᵢ/tᵢ)`` (Lieberson 1981)."""
    x, y, t = _arr(x), _arr(y), _arr(totals)
    X = x.sum()
    if X <= 0:
        return float("nan")
    return float(((x / X) * (y / t)).sum())


def exposure_matrix(counts: pd.DataFrame, totals: pd.Series | None = None) -> pd.DataFrame:
    """``M.loc[x, y] = xPy`` for every ordered pair of groups; the diagonal is xPx."""
    t = counts.sum(axis=1) if totals is None else totals
    groups = list(counts.columns)
    out = pd.DataFrame(index=groups, columns=groups, dtype=float)
    for gx in groups:
        for gy in groups:
            out.loc[gx, gy] = exposure(counts[gx], counts[gy], t)
    return out


def local_entropy(counts: pd.DataFrame) -> pd.Series:
    """Per-area entropy normalised to [0, 1]: ``Eᵢ = −Σₖ pᵢₖ ln pᵢₖ / ln K``.

    K = number of group columns (as PySAL ``MultiLocalEntropy``); 0·ln 0 = 0.
    """
    x = _arr(counts)
    K = x.shape[1]
    if K < 2:
        return pd.Series(np.nan, index=counts.index)
    p = x / x.sum(axis=1)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1) / math.log(K)
    return pd.Series(e, index=counts.index)


def gini_simpson(counts: pd.DataFrame) -> pd.Series:
    """Per-area Gini-Simpson diversity ``1 − Σₖ pᵢₖ²`` (= PySAL ``MultiLocalSimpsonInteraction``)."""
    x = _arr(counts)
    p = x / x.sum(axis=1)[:, None]
    return pd.Series(1.0 - (p ** 2).sum(axis=1), index=counts.index)


def location_quotients(counts: pd.DataFrame, totals: pd.Series | None = None) -> pd.DataFrame:
    """Location quotient per area and group: ``LQᵢₖ = (xᵢₖ/tᵢ) / (Xₖ/T)`` (Isard 1960)."""
    x = _arr(counts)
    t = x.sum(axis=1) if totals is None else _arr(totals)
    T = t.sum()
    X = x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = (x / t[:, None]) / (X / T)
    return pd.DataFrame(lq, index=counts.index, columns=counts.columns)


# ---------------------------------------------------------------------------------------
# Everything for one gemeente
# ---------------------------------------------------------------------------------------

def _num(x: Any) -> float | None:
    """JSON-safe float (NaN/inf -> None)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def compute_all(counts: pd.DataFrame, group_a: str, group_b: str, *,
                total: pd.Series | None = None, groups: Sequence[str] | None = None,
                labels: Mapping[str, str] | None = None,
                min_areas: int = 5) -> SegregationMeasures:
    """All segregation and diversity measures for one gemeente.

    ``counts``: index = area code, columns = mutually exclusive groups (``groups`` selects
    them; default all columns). ``group_a``/``group_b``: the pair for two-group D.

    Returns a :class:`SegregationMeasures` (``to_dict()`` gives the JSON form).
    """
    groups = list(counts.columns) if groups is None else list(groups)
    for g in (group_a, group_b):
        if g not in groups:
            raise ValueError(f"Groep '{g}' zit niet in de gekozen groepen "
                             f"({', '.join(map(str, groups))}).")
    if group_a == group_b:
        raise ValueError("Kies twee verschillende groepen voor de ongelijkheidsindex.")
    prep = prepare_counts(counts, total, groups)
    c, t = prep.counts, prep.totals
    warnings_nl: list[str] = []
    n = len(c)

    labels_nl = {g: group_label(g, labels) for g in groups}
    common: dict[str, Any] = dict(groups=tuple(groups), labels=labels_nl, pair=(group_a, group_b),
                                  n_areas=n, n_areas_input=prep.n_input, dropped=tuple(prep.dropped),
                                  total_source=prep.total_source, caveat=load_lokale_kaart().text("segregation_caveat"))
    if n == 0:
        warnings_nl.append("Geen enkel gebied heeft volledige gegevens; er is niets te berekenen.")
        return SegregationMeasures(**common, population=0.0, group_totals={}, group_shares={},
                                   dissimilarity=None, multigroup_dissimilarity=None, theil_h=None,
                                   isolation={}, exposure={}, areas=(), warnings=tuple(warnings_nl))

    X = c.sum(axis=0)
    T_groups = float(X.sum())
    T = float(t.sum())
    em = exposure_matrix(c, t)
    ent, gs, lq = local_entropy(c), gini_simpson(c), location_quotients(c, t)
    shares = c.div(t, axis=0)
    areas = tuple(
        AreaMeasures(code=str(code), total=_num(t.loc[code]),
                     shares={g: _num(shares.at[code, g]) for g in groups},
                     entropy=_num(ent.loc[code]), gini_simpson=_num(gs.loc[code]),
                     lq={g: _num(lq.at[code, g]) for g in groups})
        for code in c.index
    )

    # Warnings in plain Dutch
    if prep.dropped:
        warnings_nl.append(f"{len(prep.dropped)} van de {prep.n_input} gebieden zijn niet "
                           "meegeteld (zie de lijst met redenen).")
    if n < min_areas:
        warnings_nl.append(f"Slechts {n} gebied(en) met volledige gegevens: de indexen zeggen "
                           "dan weinig.")
    small = int((t < SMALL_AREA).sum())
    if small:
        warnings_nl.append(f"{small} gebied(en) hebben minder dan {SMALL_AREA} inwoners; door "
                           "de afronding op vijftallen zijn hun aandelen onnauwkeurig.")
    for g in groups:
        if X[g] == 0:
            warnings_nl.append(f"De groep {group_label(g, labels)} komt in geen enkel gebied "
                               "voor; de maten voor die groep ontbreken.")
    max_gap = None
    if prep.total_source == "totaal":
        gap = (c.sum(axis=1) - t).abs()
        tolerance = 2.5 * (len(groups) + 1)  # each count rounded to 5 independently
        off = int((gap > tolerance).sum())
        max_gap = _num(gap.max())
        if off:
            warnings_nl.append(
                f"In {off} gebied(en) tellen de groepen niet op tot het aantal inwoners (meer "
                "dan de afronding verklaart). Controleer of de groepen elkaar uitsluiten en "
                "samen alle inwoners omvatten; isolatie en blootstelling gebruiken het totaal.")
    return SegregationMeasures(
        **common, population=T,
        group_totals={g: _num(X[g]) for g in groups},
        group_shares={g: _num(X[g] / T_groups) if T_groups else None for g in groups},
        dissimilarity=_num(dissimilarity(c[group_a], c[group_b])),
        multigroup_dissimilarity=_num(multigroup_dissimilarity(c)),
        theil_h=_num(theil_h(c)),
        isolation={g: _num(isolation(c[g], t)) for g in groups},
        exposure={gx: {gy: _num(em.loc[gx, gy]) for gy in groups} for gx in groups},
        areas=areas, warnings=tuple(warnings_nl), max_total_difference=max_gap)


# ---------------------------------------------------------------------------------------
# All gemeenten: the national distribution
# ---------------------------------------------------------------------------------------

def measures_for_gemeenten(counts_by_gemeente: Mapping[str, pd.DataFrame], group_a: str,
                           group_b: str, *, groups: Sequence[str] | None = None,
                           totals_by_gemeente: Mapping[str, pd.Series] | None = None,
                           ) -> pd.DataFrame:
    """D (pair), multigroup D and Theil's H for many gemeenten, closed forms only.

    ``counts_by_gemeente``: gemeente code -> counts frame of its areas (as for
    :func:`compute_all`). Areas with a NaN, a negative value or a zero total are dropped
    as in :func:`prepare_counts`. Returns a DataFrame indexed by gemeente code with
    ``dissimilarity``, ``multigroup_dissimilarity``, ``theil_h``, ``n_areas``, ``n_dropped``.
    Fast: plain numpy per gemeente (342 gemeenten in well under a second).
    """
    rows = []
    for gm, frame in counts_by_gemeente.items():
        cols = list(frame.columns) if groups is None else list(groups)
        x = frame[cols].to_numpy(dtype=float, na_value=np.nan)
        keep = ~np.isnan(x).any(axis=1) & ~(x < 0).any(axis=1) & (np.nansum(x, axis=1) > 0)
        if totals_by_gemeente is not None and gm in totals_by_gemeente:
            tt = pd.to_numeric(pd.Series(totals_by_gemeente[gm]), errors="coerce") \
                .reindex(frame.index).to_numpy(dtype=float, na_value=np.nan)
            keep &= np.isfinite(tt) & (tt > 0)
        xk = x[keep]
        ia, ib = cols.index(group_a), cols.index(group_b)
        if len(xk):
            d = dissimilarity(xk[:, ia], xk[:, ib])
            md, h = multigroup_dissimilarity(xk), theil_h(xk)
        else:
            d = md = h = float("nan")
        rows.append((gm, d, md, h, int(keep.sum()), int((~keep).sum())))
    out = pd.DataFrame(rows, columns=["gemeente_code", "dissimilarity",
                                      "multigroup_dissimilarity", "theil_h", "n_areas",
                                      "n_dropped"])
    return out.set_index("gemeente_code")


def split_by_gemeente(counts: pd.DataFrame, gemeente_codes: pd.Series | Iterable[str]
                      ) -> dict[str, pd.DataFrame]:
    """Split one counts frame (all buurten of the country) into ``{gemeente_code: frame}``."""
    key = pd.Series(list(gemeente_codes), index=counts.index)
    return {str(gm): frame for gm, frame in counts.groupby(key, sort=True)}


def rank_against(value: float | None, distribution: Mapping[str, float] | pd.Series |
                 Iterable[float], *, higher_first: bool = True) -> Rank:
    """Place a gemeente's value in the distribution over all gemeenten.

    ``distribution`` normally includes the gemeente itself; NaN/None are ignored.
    Returns a :class:`Rank`: ``rank`` 1 = highest value
    (``higher_first=False``: 1 = lowest), ties share the best rank; ``percentile`` = the
    percentage of gemeenten with a strictly lower value (0–100); ``text`` in Dutch.
    """
    if isinstance(distribution, Mapping):
        distribution = list(distribution.values())
    d = pd.to_numeric(pd.Series(list(distribution), dtype=object), errors="coerce") \
        .astype(float).to_numpy()
    d = d[np.isfinite(d)]
    of = int(d.size)
    if value is None or not math.isfinite(float(value)) or of == 0:
        return Rank(rank=None, of=of, percentile=None,
                    text="Geen vergelijking mogelijk (waarde of verdeling ontbreekt).")
    v = float(value)
    eps = 1e-12
    greater = int((d > v + eps).sum())
    lower = int((d < v - eps).sum())
    rank = 1 + (greater if higher_first else lower)
    percentile = 100.0 * lower / of
    order = "hoogste" if higher_first else "laagste"
    text = (f"Plaats {rank} van {of} (1 = {order}); de waarde is hoger dan bij "
            f"{fmt.number(percentile, 0)}% van "
            "de gemeenten.")
    return Rank(rank=rank, of=of, percentile=percentile, text=text)
