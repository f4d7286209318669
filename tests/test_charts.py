"""buurtmonitor.charts: trace counts, colours, source line, fictitious label, and no line
across a break."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from buurtmonitor import analysis, charts
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.model import FICTITIOUS_LABEL
from buurtmonitor.synthetic import DEMO_YEARS, SPLIT_INTO
from loaders import repository


@pytest.fixture(scope="module")
def demo():
    return {y: repository.demo_table(y, "GM9901") for y in DEMO_YEARS}


def annotation_texts(fig: go.Figure) -> list[str]:
    """Texts of the annotations; long source lines are wrapped with <br>."""
    return [(a.text or "").replace("<br>", " ") for a in fig.layout.annotations]


def line_traces(fig: go.Figure) -> list:
    """The series traces: a line, or a dot for a segment of one year."""
    return [t for t in fig.data if t.type == "scatter" and t.mode in ("lines+markers", "markers")]


# ------------------------------------------------------------------------------ composition
@pytest.mark.slow
def test_composition_bars_traces_colours_and_panels(demo):
    comp = analysis.composition(demo[2024], "wijk")
    fig = charts.composition_bars(comp, sort_by="name")
    assert isinstance(fig, go.Figure)
    scheme = load_catalogue().schemes["herkomst"]
    # one trace per group and panel (areas / ter vergelijking); each group once in the legend
    assert len(fig.data) == 2 * len(scheme.exclusive_groups)
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == [g.label for g in scheme.exclusive_groups]
    assert {t.name: t.marker.color for t in fig.data} == {g.label: g.colour for g in scheme.exclusive_groups}
    assert all(t.orientation == "h" for t in fig.data)
    assert fig.layout.barmode == "stack"
    # the comparison panel holds exactly the gemeente and Nederland
    panel2 = [t for t in fig.data if t.meta["panel"] == 2]
    assert set(panel2[0].y) == {"Voorbeeldgemeente", "Nederland"}
    assert "Ter vergelijking: gemeente en Nederland" in annotation_texts(fig)
    # shares of one area add up to 100
    first = [t for t in fig.data if t.meta["panel"] == 1]
    assert sum(t.x[0] for t in first) == pytest.approx(100.0)


def test_composition_bars_source_and_fictitious_label(demo):
    fig = charts.composition_bars(analysis.composition(demo[2024], "wijk"))
    texts = annotation_texts(fig)
    assert demo[2024].meta.source_line() in texts
    assert any(FICTITIOUS_LABEL in t for t in texts if t)


def test_composition_bars_sorting(demo):
    comp = analysis.composition(demo[2024], "buurt")
    fig = charts.composition_bars(comp, sort_by="buiten_europa")
    # categoryarray is bottom-to-top: reversed, the first entry is the largest share
    order = list(fig.layout.yaxis.categoryarray)[::-1]
    sub = comp[(comp["role"] == "gebied") & (comp["group"] == "buiten_europa")].set_index("name")
    shares = [sub.loc[n, "share"] for n in order]
    known = [s for s in shares if not math.isnan(s)]
    assert known == sorted(known, reverse=True)
    assert all(math.isnan(s) for s in shares[len(known):])  # missing last
    by_name = charts.composition_bars(comp, sort_by="name")
    names = list(by_name.layout.yaxis.categoryarray)[::-1]
    assert names == sorted(names, key=str.lower)


def test_composition_bars_missing_is_not_zero(demo):
    comp = analysis.composition(demo[2024], "buurt")
    fig = charts.composition_bars(comp, sort_by="name")
    for t in (t for t in fig.data if t.meta["panel"] == 1):
        xs = dict(zip(t.y, t.x))
        assert xs["Lindelaan 1.7"] is None or math.isnan(xs["Lindelaan 1.7"])
    texts = [a.text for a in fig.layout.annotations if a.name == "ontbreekt"]
    assert len(texts) == 2 and all("niet beschikbaar" in t for t in texts)


@pytest.mark.slow
def test_composition_bars_caps_series_into_overig(demo):
    comp = analysis.composition(demo[2021], "wijk", detail=True)
    assert comp["group"].nunique() == 7
    fig = charts.composition_bars(comp, max_series=4)
    legend = [t.name for t in fig.data if t.showlegend]
    assert len(legend) == 4 and legend[-1] == "Overig"
    assert len(fig.data) == 2 * 4
    capped = charts.cap_groups(comp, 4)
    sums = capped.groupby("code")["share"].sum()
    assert sums.round(1).tolist() == comp.groupby("code")["share"].sum().round(1).tolist()
    assert charts.composition_bars(comp, max_series=8).data.__len__() == 2 * 7


def test_composition_bars_counts(demo):
    comp = analysis.composition(demo[2024], "wijk")
    fig = charts.composition_bars(comp, value="count")
    t = next(t for t in fig.data if t.meta["panel"] == 2 and t.name == "Buiten Europa")
    gem = comp[(comp["code"] == "GM9901") & (comp["group"] == "buiten_europa")]["count"].item()
    assert dict(zip(t.y, t.x))["Voorbeeldgemeente"] == gem


# ------------------------------------------------------------------------------ profile
def test_profile_chart(demo):
    prof = analysis.profile(demo[2024], "BU99010103", [i.id for i in load_catalogue().indicators_for("herkomst")])
    fig = charts.profile_chart(prof)
    pts = [t for t in fig.data if t.name != "Geen z-score"]
    assert sum(len(t.x) for t in pts) == prof["z"].notna().sum()
    xs = sorted(x for t in pts for x in t.x)
    assert xs == pytest.approx(sorted(prof["z"].dropna()))
    missing = next(t for t in fig.data if t.name == "Geen z-score")
    assert len(missing.y) == prof["z"].isna().sum() == 3  # veiligheid: not in the 2024 table
    assert all("niet in de CBS-tabel" in s for s in missing.text)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert sorted((s.x0, s.x1) for s in rects) == [(-2, 2), (-1, 1)]
    assert demo[2024].meta.source_line() in annotation_texts(fig)


# ------------------------------------------------------------------------------ trend
def assert_no_trace_spans_a_break(fig: go.Figure, series: pd.DataFrame) -> int:
    breaks = analysis.series_breaks(series)
    checked = 0
    for t in line_traces(fig):
        code = t.meta["code"]
        lo, hi = min(t.x), max(t.x)
        for b in breaks[breaks["code"] == code].itertuples():
            assert not (lo <= b.prev_year and hi >= b.year), f"{t.name} crosses the break {b.label}"
            checked += 1
    return checked


def test_trend_chart_segments_never_cross_breaks(demo):
    mapping = analysis.comparable_indicators("pct_herkomst_buiten_europa")
    s = analysis.combine_series([analysis.time_series(demo, c, mapping)
                                 for c in (SPLIT_INTO[0], "GM9901", "NL00")])
    fig = charts.trend_chart(s, "pct_herkomst_buiten_europa")
    # split buurt: 3 segments; gemeente and Nederland: 2 each (scheme break)
    assert len(line_traces(fig)) == 3 + 2 + 2
    # (traces x breaks) checked: buurt 3 x 2, gemeente 2 x 1, Nederland 2 x 1
    assert assert_no_trace_spans_a_break(fig, s) == 3 * 2 + 2 + 2
    spans = sorted((min(t.x), max(t.x)) for t in line_traces(fig) if t.meta["code"] == SPLIT_INTO[0])
    assert spans == [(2019, 2021), (2022, 2022), (2023, 2024)]
    # a segment of one year is a dot (and a dot in the legend), the others lines
    modes = [t.mode for t in line_traces(fig) if t.meta["code"] == SPLIT_INTO[0]]
    assert modes == ["lines+markers", "markers", "lines+markers"]
    # vertical markers with their labels, midway between the years
    vlines = sorted(s_.x0 for s_ in fig.layout.shapes if s_.type == "line")
    assert vlines == [2021.5, 2022.5]
    texts = annotation_texts(fig)
    assert "Breuk: herkomst vanaf 2023" in texts and "Grenswijziging" in texts
    assert analysis.combined_source_line(demo.values()) in texts
    assert any(FICTITIOUS_LABEL in t for t in texts if t)
    # each segment has its own label
    names = [t.name for t in line_traces(fig) if t.meta["code"] == SPLIT_INTO[0]]
    assert "Niet-westerse migratieachtergrond (2019–2021)" in names[0]
    assert "Herkomst buiten Europa (2023–2024)" in names[-1]


def test_trend_chart_single_indicator_and_missing_years(demo):
    s = analysis.time_series(demo, "BU99010107", analysis.comparable_indicators("pct_niet_westers"))
    fig = charts.trend_chart(s, "pct_niet_westers")
    for t in line_traces(fig):
        assert all(y is None or math.isnan(y) for y in t.y)  # suppressed: no value, never 0
    gaps = [a.text for a in fig.layout.annotations if a.name == "ontbreekt"]
    assert gaps == ["niet beschikbaar"] * len(DEMO_YEARS)
    woz = analysis.time_series(demo, "BU99010103", "woz")
    fig = charts.trend_chart(woz, "woz")
    assert len(line_traces(fig)) == 1 and list(line_traces(fig)[0].x) == list(DEMO_YEARS)
    assert not [s_ for s_ in fig.layout.shapes if s_.type == "line"]


def test_trend_chart_new_area_starts_after_marker(demo):
    s = analysis.time_series(demo, SPLIT_INTO[1], "woz")
    fig = charts.trend_chart(s, "woz")
    (t,) = line_traces(fig)
    assert list(t.x) == [2022, 2023, 2024]
    assert [s_.x0 for s_ in fig.layout.shapes if s_.type == "line"] == [2021.5]
    assert assert_no_trace_spans_a_break(fig, s) == 1
