"""The small-area rule, in one place: a share or rate of an area whose ``n`` (inwoners,
huishoudens, woningen: what the indicator's n counts) is below ``[small_areas] min_n`` of
``data/indicators.toml`` is not shown. Its value becomes missing with the reason
:data:`MISSING_SMALL_AREA` ("te klein gebied"), never 0, so the map, the tables, the area
profile (no value, no z-score), the briefing pack and every export treat it the same: they
all read indicator values through :func:`buurtmonitor.harmonise.indicator_frame`, which
applies :func:`apply`; the composition by origin applies :func:`hide_mask` to its shares.

Counts (inwoners, woningvoorraad) and densities are not hidden (``small_area_rule = false``
in the catalogue). The gemeente and Nederland are never small areas.

CBS rounds buurt counts to multiples of 5: below 50, rounding alone can move a share by more
than 5 procentpunt, and one person decides the picture (a buurt of 5 inwoners shows 0% or
100%).
"""

from __future__ import annotations

import pandas as pd

from buurtmonitor import formatting as fmt
from buurtmonitor.catalogue import Catalogue, Indicator, load_catalogue
from buurtmonitor.model import MISSING_SMALL_AREA

#: levels the rule applies to (the gemeente and Nederland are never small areas)
LEVELS = ("wijk", "buurt")


def min_n(catalogue: Catalogue | None = None) -> int:
    """The minimum n of the rule (``[small_areas] min_n``)."""
    return int((catalogue or load_catalogue()).small_area_min_n)


def rule_text(catalogue: Catalogue | None = None) -> str:
    """The rule in one Dutch sentence, for captions, pack pages and exports."""
    n = fmt.integer(min_n(catalogue))
    return (f"Regel voor kleine gebieden: van een wijk of buurt met minder dan {n} inwoners, "
            f"huishoudens of woningen (wat de indicator telt) tonen we geen aandeel of "
            "gemiddelde: door de afronding van CBS op vijftallen zegt zo'n cijfer te weinig.")


def hide_mask(n: pd.Series, level: pd.Series, catalogue: Catalogue | None = None) -> pd.Series:
    """True where the rule hides a value: ``n`` known and below the minimum, on a wijk or
    buurt."""
    nn = pd.to_numeric(n, errors="coerce")
    return nn.notna() & (nn < min_n(catalogue)) & level.isin(LEVELS)


def apply(frame: pd.DataFrame, indicator: Indicator, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """``frame`` (an :func:`~buurtmonitor.harmonise.indicator_frame`: code, level, value, n,
    missing, ...) with the values of small areas hidden: value NaN, missing
    :data:`MISSING_SMALL_AREA`. ``n`` stays, so a reader sees why."""
    if not indicator.small_area_rule or frame.empty:
        return frame
    hide = hide_mask(frame["n"], frame["level"], catalogue) & frame["value"].notna()
    if not hide.any():
        return frame
    out = frame.copy()
    out.loc[hide, "value"] = float("nan")
    out["missing"] = out["missing"].astype(object)
    out.loc[hide, "missing"] = MISSING_SMALL_AREA
    if "numerator" in out:
        out.loc[hide, "numerator"] = float("nan")
    return out
