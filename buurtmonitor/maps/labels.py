"""Texts of a map that the plotly map, the canvas map and the council briefing share: the "n"
label of an indicator, the fictitious-data note, the short definition, the title and the
names of the areas drawn on the map (:func:`area_labels`).

Numbers themselves are formatted by :mod:`buurtmonitor.formatting` only. Pure functions.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from shapely.ops import polylabel

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


# ----------------------------------------------------------------------------- area names
#: every area of a map gets its name up to this many areas (all wijken of a gemeente); above
#: it only the selected area and the highest and lowest values are named
LABEL_ALL_MAX = 40


@dataclass(frozen=True)
class AreaLabel:
    """The name of one area on a map, at a point inside the area.

    ``kind``: ``"gebied"`` (every area of a small map), ``"geselecteerd"``, ``"hoogste"`` or
    ``"laagste"`` (the extreme values of a large map). ``text`` is what is drawn: the name,
    for an extreme also its value (``"Kernhem: 31,2%"``)."""

    code: str
    name: str
    lon: float
    lat: float
    kind: str
    text: str


def _label_point(shape) -> tuple[float, float] | None:
    """A point well inside ``shape`` (its pole of inaccessibility; for a multipolygon that of
    its largest part), or None for an empty shape."""
    if shape is None or shape.is_empty:
        return None
    part = max(getattr(shape, "geoms", [shape]), key=lambda g: g.area)
    try:
        pt = polylabel(part, tolerance=max(1e-5, math.sqrt(part.area) / 50))
    except Exception:  # noqa: BLE001 - odd geometry: any point on the surface will do
        pt = part.representative_point()
    return float(pt.x), float(pt.y)


def area_labels(rows: pd.DataFrame, shapes: Mapping[str, Any], indicator: Indicator, *,
                selected: str | None = None, all_max: int = LABEL_ALL_MAX) -> list[AreaLabel]:
    """The names to draw on a map of ``rows`` (:func:`buurtmonitor.maps.areas.rows_for`:
    index = code, columns ``name`` and ``value``) with the areas' ``shapes``.

    Up to ``all_max`` areas every area is named (all wijken of a gemeente); on a larger map
    the selected area and the areas with the highest and the lowest value (three each, with
    their value). The selected area comes first, then the extremes, so a renderer that drops
    overlapping names keeps those."""
    values = pd.to_numeric(rows["value"], errors="coerce")
    names = rows["name"].astype(object).where(rows["name"].notna(), pd.Series(rows.index, index=rows.index))
    chosen: list[tuple[str, str]] = []
    if selected is not None and selected in rows.index:
        chosen.append((selected, "geselecteerd"))
    if len(rows) <= all_max:
        chosen += [(c, "gebied") for c in rows.index]
    else:
        ranked = values.dropna().sort_values(kind="stable")
        chosen += [(c, "hoogste") for c in ranked.index[::-1][:3]]
        chosen += [(c, "laagste") for c in ranked.index[:3]]
    out: list[AreaLabel] = []
    seen: set[str] = set()
    for code, kind in chosen:
        if code in seen:
            continue
        point = _label_point(shapes.get(code))
        if point is None:
            continue
        seen.add(code)
        name = str(names.get(code))
        text = name
        if kind in ("hoogste", "laagste") and pd.notna(values.get(code)):
            text = f"{name}: {formatting.value(float(values[code]), indicator.unit)}"
        out.append(AreaLabel(str(code), name, point[0], point[1], kind, text))
    return out
