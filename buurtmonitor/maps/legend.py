"""The one legend model of a choropleth. Both the plotly map (colour bar ticks and legend
traces) and the canvas map (its legend items) are drawn from a :class:`Legend`, so their
classes, colours, labels and counts cannot drift apart.

Labels are plain text: the plotly map escapes them for its HTML-ish labels, the canvas map
puts them in with ``textContent``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from buurtmonitor import formatting
from buurtmonitor.catalogue import Indicator
from buurtmonitor.harmonise import SMALL_N
from buurtmonitor.maps.classes import Classes, class_colours, diverging_range, nice_ticks
from buurtmonitor.maps.labels import decimals

MISSING_FILL = "#d9d9d9"
MISSING_HATCH = "#8a8a8a"
SMALL_N_COLOUR = "#d55e00"     # Okabe-Ito vermillion
SELECTED_COLOUR = "#000000"
OUTLINE_COLOUR = "#3a3a3a"
AREA_LINE_COLOUR = "#ffffff"

LEGEND_MISSING = "geen gegevens / geheim"
LEGEND_NO_DATA = "geen gegevens"
LEGEND_TOO_FEW = "geen gegevens / te weinig personen"
#: the reason of a value hidden under the small-number rule (figures by origin group)
TOO_FEW = "klein_aantal"
LEGEND_SMALL_N = f"klein aantal (n < {SMALL_N}): onzeker"

#: the kinds of :class:`LegendEntry`
KINDS = ("class", "missing", "small_n", "outline", "selected")


@dataclass(frozen=True)
class LegendEntry:
    """One line of a legend.

    ``kind``: ``class`` (a colour class), ``missing`` (areas without a value), ``small_n``
    (areas with an uncertain share), ``outline`` (the borders of the level above) or
    ``selected`` (the selected area). ``count``: how many areas it stands for (None for
    outlines and the selection).
    """

    kind: str
    label: str
    colour: str
    count: int | None = None

    @property
    def text(self) -> str:
        """The label with its count: ``"12,5 – 20,0 (7)"``."""
        return self.label if self.count is None else f"{self.label} ({self.count})"


@dataclass(frozen=True)
class Legend:
    """What a choropleth shows and how it is coloured.

    ``classes`` and ``colours`` (one plotly colour per class) give the colour of every area;
    without classes (a continuous scale) ``value_range`` is the range of the colour scale.
    ``reference``: the (label, value) a diverging palette is centred on, else None.
    """

    title: str
    subtitle: str | None
    classes: Classes
    colours: tuple[str, ...]
    entries: tuple[LegendEntry, ...]
    value_range: tuple[float, float] | None
    reference: tuple[str, float] | None
    decimals: int

    @property
    def diverging(self) -> bool:
        return self.reference is not None

    def of(self, kind: str) -> list[LegendEntry]:
        """The entries of one ``kind``, in legend order."""
        return [e for e in self.entries if e.kind == kind]

    def first(self, kind: str) -> LegendEntry | None:
        """The first entry of ``kind``, or None."""
        got = self.of(kind)
        return got[0] if got else None

    def ticks(self, n: int = 5) -> list[tuple[float, str]]:
        """About ``n`` (value, label) ticks of a continuous scale; [] with classes."""
        if self.value_range is None:
            return []
        lo, hi = self.value_range
        return [(t, formatting.number(t, self.decimals)) for t in nice_ticks(lo, hi, n)]


def reference_pair(reference: float | tuple[str, float] | None) -> tuple[str, float] | None:
    """``(label, value)`` of a reference (a bare number is ``"referentie"``); None when there
    is none or its value is missing."""
    if reference is None:
        return None
    label, value = reference if isinstance(reference, tuple) else ("referentie", reference)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(label), float(value)


def missing_label(reasons) -> str:
    """The legend label of the areas without a value: "geheim" named when it is a reason, "te
    weinig personen" when a value is hidden under the small-number rule."""
    found = set(reasons)
    if "geheim" in found:
        return LEGEND_MISSING
    return LEGEND_TOO_FEW if TOO_FEW in found else LEGEND_NO_DATA


def build_legend(rows: pd.DataFrame, indicator: Indicator, classes: Classes, *,
                 palette: str | None = None, reference: tuple[str, float] | None = None,
                 parent_label: str | None = None, selected: str | None = None) -> Legend:
    """The legend of a map of ``rows`` (:func:`buurtmonitor.maps.areas.rows_for`).

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per area on the map (index = code).
    indicator : Indicator
        What is shown.
    classes : Classes
        :func:`buurtmonitor.maps.classes.map_classes` of the values of ``rows``.
    palette : str or None
        Palette id (:data:`~buurtmonitor.maps.classes.SEQUENTIAL_PALETTES` or diverging).
    reference : tuple or None
        ``(label, value)`` the palette is centred on (:func:`reference_pair`).
    parent_label : str or None
        Name of the outlines of the level above, when they are drawn.
    selected : str or None
        Code of the selected area (one of ``rows.index``), outlined.
    """
    values = rows["value"].astype(float).to_numpy()
    has_value = ~np.isnan(values)
    ref_value = reference[1] if reference is not None else None
    places = decimals(indicator)
    entries: list[LegendEntry] = []
    colours: list[str] = []
    value_range = None
    if classes.k > 0:
        colours = class_colours(classes, palette, ref_value)
        entries += [LegendEntry("class", label, colour, count) for label, colour, count
                    in zip(classes.labels(places), colours, classes.counts)]
    elif has_value.any():
        value_range = diverging_range(values, ref_value)
    n_missing = int((~has_value).sum())
    if n_missing:
        reasons = rows["missing"].to_numpy(dtype=object)[~has_value]
        entries.append(LegendEntry("missing", missing_label(reasons), MISSING_FILL, n_missing))
    n_small = int((rows["small_n"].to_numpy(dtype=bool) & has_value).sum())
    if n_small:
        entries.append(LegendEntry("small_n", LEGEND_SMALL_N, SMALL_N_COLOUR, n_small))
    if parent_label:
        entries.append(LegendEntry("outline", parent_label, OUTLINE_COLOUR))
    if selected is not None and selected in rows.index:
        entries.append(LegendEntry("selected", f"geselecteerd: {rows.at[selected, 'name']}", SELECTED_COLOUR))
    subtitle = (f"midden = {reference[0]} ({formatting.value(reference[1], indicator.unit)})"
                if reference is not None else None)
    return Legend(title=indicator.unit, subtitle=subtitle, classes=classes, colours=tuple(colours),
                  entries=tuple(entries), value_range=value_range, reference=reference, decimals=places)
