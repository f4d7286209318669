"""Helpers shared by the AppTest page tests: run a page with query parameters, read its
plotly figures, canvas maps and texts. Constants of the real Ede data used across tests."""

from __future__ import annotations

import json
from pathlib import Path

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
