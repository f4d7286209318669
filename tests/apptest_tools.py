"""Helpers shared by the AppTest page tests: run a page with query parameters, read its
plotly figures, canvas maps and texts. Constants of the real Ede data used across tests."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parent.parent / "pages"
#: Ede (GM0228) in the real KWB 2024 extract: inhabitants with origin outside Europe, and all
EDE_BUITEN_EUROPA, EDE_INWONERS = 16558, 123532


def run_page(page: str | Path, *, timeout: float = 30, **params) -> AppTest:
    """Run ``pages/<page>`` (a file name or path) with ``params`` as the URL query; fails on an
    exception in the page."""
    path = Path(page) if Path(page).is_absolute() else PAGES / page
    at = AppTest.from_file(str(path), default_timeout=timeout)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


_DUTCH_NUMBER = re.compile(r"^[\u2212-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


def _dutch(v: object) -> object:
    if not isinstance(v, str):
        return v
    t = v.strip()
    if t == "\u2013":
        return math.nan
    if _DUTCH_NUMBER.match(t):
        return float(t.replace(".", "").replace(",", ".").replace("\u2212", "-"))
    return v


def grid(at: AppTest, i: int = 0) -> pd.DataFrame:
    """The i-th table (``st.dataframe``) as numbers: the grid shows a column with missing values
    as Dutch text ("1.950", "\u221214", "\u2013" for missing); such a column is read back as numbers
    with NaN for "\u2013" (a column that is not all numbers stays text)."""
    df = at.dataframe[i].value.copy()
    for c in df.columns:
        if not (df[c].dtype == object or pd.api.types.is_string_dtype(df[c])):
            continue
        vals = [_dutch(v) for v in df[c]]
        if all(not isinstance(v, str) for v in vals) and any(isinstance(v, float) for v in vals):
            df[c] = pd.to_numeric(pd.Series(vals, index=df.index), errors="coerce")
    return df


def figure(at: AppTest, i: int = 0) -> dict:
    """The i-th plotly figure on the page, as JSON."""
    charts = at.get("plotly_chart")
    assert len(charts) > i, "geen (of te weinig) grafieken op de pagina"
    return json.loads(charts[i].proto.spec)


def texts(elements) -> str:
    """The values of ``elements`` (e.g. ``at.markdown``) joined by newlines."""
    return "\n".join(str(e.value) for e in elements)


def canvas_elements(at: AppTest) -> list:
    """The canvas maps (Streamlit custom component ``buurtmonitor.canvasmap``) on the page."""
    return [e for e in at.main
            if getattr(getattr(e, "proto", None), "component_name", "") == "buurtmonitor.canvasmap"]


def canvas_data(at: AppTest) -> dict:
    """The data of the one canvas map on the page."""
    maps = canvas_elements(at)
    assert len(maps) == 1, "geen (of meer dan één) canvaskaart op de pagina"
    return json.loads(maps[0].proto.json)
