"""Classification and colours of a choropleth: the methods, :class:`Classes`, quantile and
Fisher-Jenks breaks, a reference value as a class edge, and the colour-blind-safe palettes.

Both renderers (the plotly map of :mod:`buurtmonitor.maps.choropleth` and the canvas map of
:mod:`buurtmonitor.maps.canvas`) classify through :func:`map_classes` and colour through
:func:`class_colours` / :func:`continuous_scale`, so an area gets the same class and colour on
either map. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.colors as pcolors

from buurtmonitor import formatting

# ----------------------------------------------------------------------------- options
METHODS = {
    "quantiles": "Kwantielen (evenveel gebieden per klasse)",
    "natural_breaks": "Natuurlijke grenzen (Fisher-Jenks)",
    "equal_interval": "Gelijke intervallen",
    "continuous": "Doorlopende kleurschaal (geen klassen)",
}
DEFAULT_METHOD = "quantiles"
DEFAULT_K = 5
K_RANGE = (3, 7)
#: Natural breaks (O(n²k)) on at most this many values; above it on an even sample of the
#: sorted values (as mapclassify's FisherJenksSampled does).
JENKS_MAX_VALUES = 1500

#: Sequential palettes (all colour-blind safe). name -> (label, plotly colour scale);
#: ``_r`` = reversed so that a higher value is darker.
SEQUENTIAL_PALETTES = {
    "viridis": ("Viridis (geel → paars)", "viridis_r"),
    "cividis": ("Cividis (geel → blauw)", "cividis_r"),
    "blauw": ("Blauwtinten (ColorBrewer Blues)", "Blues"),
    "geelgroenblauw": ("Geel-groen-blauw (ColorBrewer YlGnBu)", "YlGnBu"),
}
#: Diverging palettes centred on a reference (ColorBrewer, colour-blind safe).
DIVERGING_PALETTES = {
    "oranjepaars": ("Oranje ↔ paars (ColorBrewer PuOr)", "PuOr"),
    "roodblauw": ("Rood ↔ blauw (ColorBrewer RdBu)", "RdBu"),
    "bruinblauwgroen": ("Bruin ↔ blauwgroen (ColorBrewer BrBG)", "BrBG"),
}
DEFAULT_SEQUENTIAL = "viridis"
DEFAULT_DIVERGING = "oranjepaars"


# ----------------------------------------------------------------------------- classes
@dataclass(frozen=True)
class Classes:
    """A classification of values.

    ``edges``: k+1 class edges from the minimum to the maximum (continuous: [min, max]).
    ``idx``: class number per input value (0..k-1), -1 where the value is missing.
    ``k``: number of classes (0 for ``continuous``).
    """

    method: str
    edges: tuple[float, ...]
    idx: np.ndarray = field(repr=False)
    k: int

    @property
    def counts(self) -> list[int]:
        """Number of values per class."""
        return [int((self.idx == i).sum()) for i in range(self.k)]

    def labels(self, decimals: int = 1, with_counts: bool = False) -> list[str]:
        """One label per class (``"12,5 – 20,0"``), optionally with its count."""
        out = []
        counts = self.counts if with_counts else None
        for i in range(self.k):
            a, b = formatting.number(self.edges[i], decimals), formatting.number(self.edges[i + 1], decimals)
            lab = a if a == b else f"{a} – {b}"
            if counts is not None:
                lab += f" ({counts[i]})"
            out.append(lab)
        return out


def _as_array(values: Iterable[float]) -> np.ndarray:
    return np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values, dtype=float)


def _assign(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Class number by upper edges (a value equal to an edge goes to the lower class)."""
    k = len(edges) - 1
    idx = np.full(len(values), -1, dtype=int)
    ok = ~np.isnan(values)
    if k <= 0 or not ok.any():
        return idx
    uppers = np.asarray(edges[1:], dtype=float)
    cls = np.searchsorted(uppers, values[ok], side="left")
    idx[ok] = np.clip(cls, 0, k - 1)
    return idx


def classify(values: Iterable[float], method: str = DEFAULT_METHOD, k: int = DEFAULT_K) -> Classes:
    """Classify ``values`` (NaN = missing, ignored) into ``k`` classes.

    ``method``: ``quantiles``, ``natural_breaks`` (Fisher-Jenks, the algorithm of
    ``mapclassify.FisherJenks``: :func:`fisher_jenks_bins`),
    ``equal_interval`` or ``continuous`` (no classes). With fewer distinct values than
    ``k`` there are fewer classes; duplicate edges (ties in quantiles) are merged.
    """
    if method not in METHODS:
        raise ValueError(f"Onbekende indeling {method!r}; kies uit {', '.join(METHODS)}.")
    v = _as_array(values)
    ok = v[~np.isnan(v)]
    if ok.size == 0:
        return Classes(method, (), np.full(len(v), -1, dtype=int), 0)
    lo, hi = float(ok.min()), float(ok.max())
    if method == "continuous":
        return Classes(method, (lo, hi), np.full(len(v), -1, dtype=int), 0)
    n_unique = len(np.unique(ok))
    k = int(max(1, min(k, n_unique)))
    if k == 1 or lo == hi:
        edges = [lo, hi]
    elif method == "equal_interval":
        edges = list(np.linspace(lo, hi, k + 1))
    elif method == "quantiles":
        edges = [lo] + [float(b) for b in quantile_bins(ok, k)]
    else:
        sample = ok
        if ok.size > JENKS_MAX_VALUES:  # an even sample of the sorted values, both ends kept
            srt = np.sort(ok)
            sample = srt[np.unique(np.linspace(0, srt.size - 1, JENKS_MAX_VALUES).round().astype(int))]
        edges = [lo] + [float(b) for b in fisher_jenks_bins(sample, k)]
    edges = _dedupe(edges)
    edges[-1] = max(edges[-1], hi)
    return Classes(method, tuple(float(e) for e in edges), _assign(v, edges), len(edges) - 1)


def quantile_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` quantile classes, as ``mapclassify.Quantiles`` (ties merged)."""
    p = np.arange(1, k + 1) * (100.0 / k)
    p[-1] = min(p[-1], 100.0)
    return np.unique(np.percentile(np.asarray(values, dtype=float), p))


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` Fisher-Jenks (natural breaks) classes.

    The exact dynamic programme of ``mapclassify.FisherJenks`` (Jenks' optimal classification,
    minimal within-class squared deviation), vectorised with numpy in float64. mapclassify
    compiles its numba version when it is imported, which costs about 9 s at the first map;
    ``tests/test_page_kaart.py`` checks that both give the same breaks. O(n² k): fine for the
    wijken/buurten of a gemeente and the ~340 gemeenten of the national map.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        return np.array([])
    k = int(min(k, n))
    if k <= 1:
        return np.array([x[-1]])
    csum = np.concatenate([[0.0], np.cumsum(x)])
    csq = np.concatenate([[0.0], np.cumsum(x * x)])
    lower = np.ones((n + 1, k + 1), dtype=np.int64)          # start (1-based) of the last class
    cost = np.full((n + 1, k + 1), np.inf)                    # minimal total deviation
    cost[1, 1:] = 0.0
    for last in range(2, n + 1):
        starts = np.arange(1, last + 1)                        # i3: first value of the last class
        width = last - starts + 1
        s1 = csum[last] - csum[starts - 1]
        dev = (csq[last] - csq[starts - 1]) - s1 * s1 / width
        cost[last, 1] = dev[0]
        lower[last, 1] = 1
        if last >= 2:
            cand_starts = starts[1:]                           # the last class starts after value 1
            cand_dev = dev[1:]
            for j in range(2, k + 1):
                total = cand_dev + cost[cand_starts - 1, j - 1]
                best = int(np.argmin(total))                   # ties: the earliest start, as mapclassify
                cost[last, j] = total[best]
                lower[last, j] = cand_starts[best]
    bins = np.empty(k)
    bins[k - 1] = x[-1]
    end = n
    for j in range(k, 1, -1):
        start = lower[end, j]
        bins[j - 2] = x[start - 2]
        end = start - 1
    return bins


def _dedupe(edges: Sequence[float]) -> list[float]:
    out: list[float] = []
    for i, e in enumerate(edges):
        # the first class may hold only the minimum (Fisher-Jenks puts an outlier alone)
        if not out or e > out[-1] + 1e-12 * max(1.0, abs(e)) or (i == 1 and len(edges) > 2):
            out.append(float(e))
    if len(out) == 1:
        out.append(out[0])
    return out


def with_reference(classes: Classes, values: Iterable[float], reference: float | None) -> Classes:
    """Add ``reference`` as a class edge (when inside the range), so no class straddles it."""
    if classes.k == 0 or reference is None or math.isnan(reference):
        return classes
    edges = list(classes.edges)
    lo, hi = edges[0], edges[-1]
    span = max(hi - lo, 1e-9)
    if not (lo < reference < hi) or any(abs(e - reference) < span * 1e-6 for e in edges):
        return classes
    edges = sorted(edges + [float(reference)])
    v = _as_array(values)
    return Classes(classes.method, tuple(edges), _assign(v, edges), len(edges) - 1)


def map_classes(values: np.ndarray, method: str = DEFAULT_METHOD, k: int = DEFAULT_K,
                reference: float | None = None) -> Classes:
    """The classes of a map: at most one class per two areas with a value (six wijken: three
    classes, not five of one), and with a ``reference`` (diverging) that value as an edge.

    Parameters
    ----------
    values : numpy.ndarray
        One value per area, NaN where missing.
    method, k : str, int
        As :func:`classify`.
    reference : float or None
        The centre of a diverging palette.
    """
    v = np.asarray(values, dtype=float)
    k = max(2, min(int(k), int((~np.isnan(v)).sum()) // 2))
    classes = classify(v, method, k)
    if reference is not None and classes.k:
        classes = with_reference(classes, v, reference)
    return classes


# ----------------------------------------------------------------------------- palettes
def palette_options(diverging: bool) -> dict[str, str]:
    """Palette id -> Dutch label, for the palette choice."""
    src = DIVERGING_PALETTES if diverging else SEQUENTIAL_PALETTES
    return {k: v[0] for k, v in src.items()}


def _scale(palette: str | None, diverging: bool) -> list:
    src = DIVERGING_PALETTES if diverging else SEQUENTIAL_PALETTES
    default = DEFAULT_DIVERGING if diverging else DEFAULT_SEQUENTIAL
    name = src.get(palette or default, src[default])[1]
    return pcolors.get_colorscale(name)


def _sample(scale: list, ts: Sequence[float]) -> list[str]:
    return [pcolors.sample_colorscale(scale, [float(np.clip(t, 0, 1))])[0] for t in ts]


def class_colours(classes: Classes, palette: str | None = None, reference: float | None = None) -> list[str]:
    """One colour per class: sequential from light to dark, or diverging around ``reference``
    (classes below it in one hue, above it in the other, paler nearer the reference)."""
    k = classes.k
    if k == 0:
        return []
    if reference is None:
        scale = _scale(palette, diverging=False)
        lo = 0.15 if (palette or DEFAULT_SEQUENTIAL) in ("blauw", "geelgroenblauw") else 0.0
        ts = [0.5] if k == 1 else list(np.linspace(lo, 1.0, k))
        return _sample(scale, ts)
    scale = _scale(palette, diverging=True)
    edges = classes.edges
    dev = max(abs(edges[0] - reference), abs(edges[-1] - reference)) or 1.0
    ts = []
    for i in range(k):
        mid = (edges[i] + edges[i + 1]) / 2
        d = (mid - reference) / dev
        ts.append(0.5 + math.copysign(0.12 + 0.38 * min(abs(d), 1.0), d if d != 0 else 1.0))
    return _sample(scale, ts)


def continuous_scale(palette: str | None, diverging: bool, zmin: float, zmax: float,
                     missing_colour: str | None = None) -> tuple[list, float, float, float | None]:
    """Colour scale over [zmin, zmax]; with ``missing_colour`` a step of that colour below
    ``zmin`` (for missing values). Returns (scale, lo, hi, missing_z)."""
    base = _scale(palette, diverging)
    if not diverging and (palette or DEFAULT_SEQUENTIAL) in ("blauw", "geelgroenblauw"):
        base = [[t, c] for t, c in zip(np.linspace(0, 1, 9), pcolors.sample_colorscale(base, list(np.linspace(0.15, 1, 9))))]
    span = (zmax - zmin) or 1.0
    if missing_colour is None:
        return [[float(t), c] for t, c in base], zmin, zmax, None
    gap = span * 0.07
    lo = zmin - gap
    s = gap / (zmax - lo)
    scale = [[0.0, missing_colour], [s, missing_colour]] + [[s + (1 - s) * float(t), c] for t, c in base]
    return scale, lo, zmax, zmin - gap / 2


def diverging_range(values: np.ndarray, reference: float | None) -> tuple[float, float]:
    """(min, max) of a continuous scale: the value range, symmetric around ``reference``."""
    vmin, vmax = float(np.nanmin(values)), float(np.nanmax(values))
    if reference is not None:
        dev = max(abs(vmin - reference), abs(vmax - reference)) or 1.0
        vmin, vmax = reference - dev, reference + dev
    return vmin, vmax


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values between ``lo`` and ``hi``."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [round(t, 10) for t in np.arange(start, hi + step * 1e-9, step)]


def to_hex(colour: str) -> str:
    """plotly's ``'rgb(r, g, b)'`` (or ``'#rrggbb'``) -> ``'#rrggbb'``."""
    if colour.startswith("#"):
        return colour.lower()
    r, g, b = (int(round(float(x))) for x in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"
