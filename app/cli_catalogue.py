"""``indicators``: the indicator ids of the catalogue (no data path, no network)."""

from __future__ import annotations

import pandas as pd

from app.cli_output import write
from buurtmonitor.catalogue import load_catalogue


def cmd_indicators(args) -> int:
    cat = load_catalogue()
    rows = [{"id": i.id, "thema": cat.themes.get(i.theme, i.theme), "label": i.label, "eenheid": i.unit,
             "indeling": i.scheme or "alle jaren"} for i in cat.indicators.values()]
    write(pd.DataFrame(rows), args.format)
    return 0
