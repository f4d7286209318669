"""Texts of a map that the plotly map, the canvas map and the council briefing share: the "n"
label of an indicator, the fictitious-data note, the short definition and the title.

Numbers themselves are formatted by :mod:`buurtmonitor.formatting` only. Pure functions.
"""

from __future__ import annotations

import html
from typing import Any

from buurtmonitor import formatting
from buurtmonitor.catalogue import Catalogue, Indicator
from buurtmonitor.model import FICTITIOUS_LABEL, LEVEL_LABELS

#: the n of an indicator that is not a share (a count or a value per area)
DEFAULT_N_LABEL = "aantal inwoners"
#: colours of the fictitious-data note on a figure
FICTITIOUS_COLOUR = "#7a0000"
FICTITIOUS_BACKGROUND = "rgba(255,236,179,0.92)"


def decimals(indicator: Indicator) -> int:
    """Decimals the values of ``indicator`` are shown with (:mod:`buurtmonitor.formatting`)."""
    return formatting.decimals_for_unit(indicator.unit)


def n_label(indicator: Indicator, catalogue: Catalogue | None = None, *, short: bool = False) -> str:
    """What the "n" of ``indicator`` counts, from the catalogue (``n_label`` in
    indicators.toml): ``"aantal huishoudens"``, ``"aantal woningen"``, ``"aantal inwoners"``.

    Parameters
    ----------
    indicator : Indicator
    catalogue : Catalogue, optional
        Unused (kept for callers that pass it).
    short : bool
        Without the leading ``"aantal "`` (``"inwoners"``), for sentences such as "12 van de
        340 inwoners".
    """
    label = indicator.n_label or DEFAULT_N_LABEL.removeprefix("aantal ")
    return label if short else f"aantal {label}"


def fictitious_note(fictitious: bool) -> str:
    """The text that marks fictitious data (the demo), or ``""`` for real data."""
    return FICTITIOUS_LABEL if fictitious else ""


def fictitious_annotation(*, x: float = 0.5, y: float = 1.0, xanchor: str = "center",
                          yanchor: str = "top", yshift: float = 0, size: int = 13) -> dict[str, Any]:
    """The plotly annotation that marks a figure of fictitious data: bold dark red on light
    yellow, in a box. Place it with ``x``/``y`` (paper coordinates), the anchors and ``yshift``."""
    return {"text": f"<b>{html.escape(FICTITIOUS_LABEL, quote=False)}</b>", "xref": "paper", "yref": "paper",
            "x": x, "y": y, "yshift": yshift, "xanchor": xanchor, "yanchor": yanchor, "showarrow": False,
            "font": {"size": size, "color": FICTITIOUS_COLOUR}, "bgcolor": FICTITIOUS_BACKGROUND,
            "bordercolor": FICTITIOUS_COLOUR, "borderwidth": 1, "name": "fictief"}


def short_definition(text: str, limit: int = 110) -> str:
    """First sentence of a definition, cut at ``limit`` characters."""
    first = text.split(". ")[0].strip().rstrip(".")
    if len(first) > limit:
        first = first[: limit - 1].rsplit(" ", 1)[0] + "…"
    return first


def title_for(indicator: Indicator, level: str, place: str, year: int) -> str:
    """"Herkomst buiten Europa per wijk, Ede, 2024"."""
    return f"{indicator.label} per {LEVEL_LABELS.get(level, level).lower()}, {place}, {year}"
