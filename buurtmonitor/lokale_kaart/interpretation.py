"""The words for a value of a segregation measure, from one place: the Lokale kaart page, the
briefing pack (key figures and chart) and the worksheet all read a value through
:func:`read`, so they say the same.

A value is read first against the other gemeenten (its rank and percentile, in the words of
``[reading] percentile_bands`` of ``data/lokale_kaart.toml``), and only then against the rule
of thumb of the literature for that measure (its own ``bands`` in the same file: D, the
multigroup D and Theil's H each have their own). Where the two point different ways (a D
that the rule of thumb calls "laag" but that is among the highest of the country), the text
says so. Pure: no Streamlit, no loading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from buurtmonitor import formatting as fmt
from buurtmonitor.catalogue import load_lokale_kaart
from buurtmonitor.lokale_kaart.segregation import NationalComparison

#: grey fills of the bands of a measure in a chart, lightest first (no green = good or
#: red = bad: a band is a rule of thumb, not a judgement)
BAND_FILLS = ("#F2F2F2", "#E0E0E0", "#CCCCCC", "#B8B8B8")


@dataclass(frozen=True)
class Reading:
    """How one value of one measure reads.

    ``rank`` (1 = highest), ``of`` and ``percentile`` (% of gemeenten with a lower value)
    come from the national comparison (None without one); ``place`` is the words for the
    percentile; ``band`` the word of the literature band (None outside the bands or without
    a value); ``why_no_rank``: Dutch, when there is no national comparison."""

    measure: str
    value: float | None
    rank: int | None = None
    of: int = 0
    percentile: float | None = None
    median: float | None = None
    place: str | None = None
    band: str | None = None
    band_source: str = ""
    why_no_rank: str = ""

    @property
    def has_rank(self) -> bool:
        return self.rank is not None and self.percentile is not None

    def rank_text(self) -> str:
        """"plaats 8 van 162 gemeenten" (empty without a rank)."""
        return f"plaats {self.rank} van {self.of} gemeenten" if self.has_rank else ""

    def national_sentence(self) -> str:
        """The place among all gemeenten in one sentence (or why there is none)."""
        if not self.has_rank:
            return self.why_no_rank or "Geen landelijke vergelijking beschikbaar."
        s = (f"Plaats {self.rank} van {self.of} gemeenten (1 = hoogste): hoger dan bij "
             f"{fmt.number(self.percentile, 0)}% van de gemeenten, dus {self.place}.")
        if self.median is not None:
            s += f" Mediaan van alle gemeenten: {fmt.index(self.median)}."
        return s

    def band_sentence(self) -> str:
        """The rule of thumb of the literature, second, with a warning where it points the
        other way than the national place."""
        if self.band is None or self.value is None:
            return ""
        s = f"Volgens de vuistregel uit de literatuur is {fmt.index(self.value)} “{self.band}”"
        s += f" ({self.band_source})." if self.band_source else "."
        if self.has_rank and self.contradicts():
            s += (" Die vuistregel zegt hier weinig: vergeleken met de andere gemeenten is de "
                  f"waarde {'hoog' if (self.percentile or 0) >= 50 else 'laag'}.")
        return s

    def contradicts(self) -> bool:
        """True when the band is the lowest but the place is in the top quarter, or the
        band is the highest but the place is in the bottom quarter."""
        words = [w for _, _, w in bands(self.measure)]
        if not words or self.band is None or self.percentile is None:
            return False
        return ((self.band == words[0] and self.percentile >= 75)
                or (self.band == words[-1] and self.percentile < 25))

    def sentence(self) -> str:
        """The whole reading: the national place first, the rule of thumb second."""
        return " ".join(s for s in (self.national_sentence(), self.band_sentence()) if s)


def bands(measure: str) -> tuple[tuple[float, float, str], ...]:
    """The literature bands of ``measure`` as ((from, to, word), ...), ascending; empty when
    the measure has none."""
    ex = load_lokale_kaart().measures.get(measure)
    if ex is None or not ex.bands:
        return ()
    out = []
    low = 0.0
    for upto, word in ex.bands:
        out.append((low, float(upto), word))
        low = float(upto)
    return tuple(out)


def band_of(measure: str, value: float | None) -> str | None:
    """The band word of ``value`` for ``measure`` (a value on a bound goes to the upper band,
    the top of the range to the last one); None without a value or bands."""
    if value is None or not math.isfinite(float(value)):
        return None
    bs = bands(measure)
    for low, high, word in bs:
        if low <= float(value) < high:
            return word
    if bs and math.isclose(float(value), bs[-1][1]):
        return bs[-1][2]
    return None


def place_words(percentile: float | None) -> str | None:
    """Words for a percentile (% of gemeenten with a lower value), from the catalogue."""
    if percentile is None:
        return None
    for lowest, words in load_lokale_kaart().percentile_bands:
        if float(percentile) >= lowest:
            return words
    return None


def read(measure: str, value: float | None, national: NationalComparison | None = None, *,
         why_no_rank: str = "") -> Reading:
    """How ``value`` of ``measure`` reads, with its place in ``national`` where given."""
    ex = load_lokale_kaart().measures.get(measure)
    v = fmt.to_float(value)
    rank = national.ranks.get(measure) if national is not None else None
    med = national.median.get(measure) if national is not None else None
    med = fmt.to_float(med)
    if rank is not None and rank.rank is not None:
        return Reading(measure=measure, value=v, rank=rank.rank, of=rank.of, percentile=rank.percentile,
                       median=med, place=place_words(rank.percentile), band=band_of(measure, v),
                       band_source=ex.bands_source if ex else "", why_no_rank=why_no_rank)
    return Reading(measure=measure, value=v, band=band_of(measure, v),
                   band_source=ex.bands_source if ex else "",
                   why_no_rank=why_no_rank or (rank.text if rank is not None else ""))
