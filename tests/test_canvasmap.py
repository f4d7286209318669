"""The canvas map's data (buurtmonitor.maps.canvas.spec): the same classes, colours and labels
as the plotly map, missing values never as a number, small n and the selection flagged,
geometry served or inline, and a size that grows with the areas, not with their vertices."""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from buurtmonitor import formatting
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.maps import canvas as canvasmap
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps import classes as mapclasses
from buurtmonitor.maps import national
from buurtmonitor.model import FICTITIOUS_LABEL
from loaders import static_files

IND = "pct_herkomst_buiten_europa"


def _grid(n_side: int, *, detail: int = 4) -> gpd.GeoDataFrame:
    """n_side² square buurten in 2 gemeenten near Utrecht; ``detail`` points per edge."""
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            x0, y0 = 5.0 + i * 0.01, 52.0 + j * 0.01
            t = np.linspace(0, 1, detail, endpoint=False)
            ring = ([(x0 + 0.01 * a, y0) for a in t] + [(x0 + 0.01, y0 + 0.01 * a) for a in t]
                    + [(x0 + 0.01 * (1 - a), y0 + 0.01) for a in t] + [(x0, y0 + 0.01 * (1 - a)) for a in t])
            gm = 9801 + (i >= n_side // 2)
            rows.append({"code": f"BU{gm}{i:02d}{j:02d}", "name": f"Buurt {i}-{j}",
                         "geometry": shapely.Polygon(ring)})
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def _frame(codes, names, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(codes)
    value = np.round(rng.uniform(0, 60, n), 2)
    missing = np.arange(n) % 11 == 0
    inw = np.round(rng.uniform(20, 3000, n))
    return pd.DataFrame({"code": list(codes), "name": list(names), "level": "buurt",
                         "value": np.where(missing, np.nan, value), "n": inw,
                         "missing": np.where(missing, "geheim", None), "small_n": inw < 100})


def spec_data(*args, **kw) -> dict:
    """The data the component receives from ``canvasmap.spec(...)``, plus its ``meta``."""
    got = canvasmap.spec(*args, **kw)
    return {**got.component_data(), "meta": got.meta}


@pytest.fixture(scope="module")
def geometry():
    return national.prepare_geometry(_grid(12), key="test-grid")


@pytest.fixture(scope="module")
def frame(geometry):
    return _frame(geometry.codes, [geometry.names[c] for c in geometry.codes])


def test_classes_colours_and_labels_are_those_of_the_plotly_map(geometry, frame):
    ind = load_catalogue().indicators[IND]
    data = spec_data(geometry, frame, IND, url="buurtmonitor/geo/x.json", method="quantiles", k=5)
    values = frame.set_index("code").reindex(geometry.codes)["value"].to_numpy(dtype=float)
    classes = mapclasses.classify(values, "quantiles", 5)
    colours = [mapclasses.to_hex(c) for c in mapclasses.class_colours(classes)]
    assert data["colours"] == colours and len(colours) == 5
    assert data["cls"] == np.where(np.isnan(values), -1, classes.idx).tolist()
    labels = [i["label"] for i in data["legend"]["items"] if i["kind"] == "fill"]
    assert labels == classes.labels(1, with_counts=True)
    # the plotly map of the same data has the same class per area
    fig = mapping.choropleth(geometry, frame, IND, method="quantiles", k=5, compact=True)
    z = dict(zip(fig.data[0].locations, fig.data[0].z))
    assert data["codes"] is None                      # the order of the GeoJSON features
    assert all(z[c] == k for c, k in zip(geometry.codes, data["cls"]) if k >= 0)
    assert data["meta"] == {**data["meta"], "method": "quantiles", "k": 5, "renderer": "canvas"}
    # formatted values equal the map's format, area by area
    for txt, v in zip(data["txt"], values):
        if not np.isnan(v):
            assert txt == formatting.value(v, ind.unit)


def test_missing_values_are_a_reason_never_a_number(geometry, frame):
    extra = frame.iloc[:-1]   # the last area has no row at all
    data = spec_data(geometry, extra, IND, url="u.json")
    flags = [int(i in set(data["small"])) for i in range(len(geometry.codes))]
    by_code = dict(zip(geometry.codes, zip(data["cls"], data["txt"], flags)))
    for code, reason in zip(frame["code"], frame["missing"]):
        cls, txt, small = by_code[code]
        if reason == "geheim":
            assert cls == -1 and not re.search(r"\d", txt) and small == 0
    last = frame["code"].iloc[-1]
    assert by_code[last][0] == -1 and "tabel" in by_code[last][1]
    missing_item = [i for i in data["legend"]["items"] if i["kind"] == "missing"]
    n_missing = sum(1 for c in data["cls"] if c < 0)
    assert missing_item and missing_item[0]["label"].endswith(f"({n_missing})")
    assert data["meta"]["codes_missing"] == n_missing


def test_small_n_selection_reference_and_fictitious(geometry, frame):
    sel = geometry.codes[5]
    data = spec_data(geometry, frame, IND, url="u.json", selected=sel, fictitious=True,
                          reference=("Nederland", 20.0), palette="roodblauw")
    small = frame.set_index("code").reindex(geometry.codes)
    expect = np.flatnonzero((small["small_n"] & small["value"].notna()).to_numpy()).tolist()
    assert data["small"] == expect and len(expect) > 0
    assert data["selected"] == sel
    assert any(i["label"] == f"geselecteerd: {geometry.names[sel]}" for i in data["legend"]["items"])
    assert data["banner"] == FICTITIOUS_LABEL
    assert data["labels"]["ref_label"] == "Nederland" and data["labels"]["ref_value"] == 20.0
    assert data["labels"]["ref_text"] == "20,0%" and "midden = Nederland" in data["legend"]["subtitle"]
    assert len(data["v"]) == len(geometry.codes)
    # diverging: classes below the reference in one hue, above it in the other
    lo = [c for c, v in zip(data["cls"], data["v"]) if v is not None and v < 10]
    hi = [c for c, v in zip(data["cls"], data["v"]) if v is not None and v > 40]
    assert max(lo) < min(hi)
    # an unknown selection is ignored, not an error
    assert spec_data(geometry, frame, IND, url="u.json", selected="BU0000")["selected"] is None


def test_focus_targets(geometry, frame):
    data = spec_data(geometry, frame, IND, url="u.json", focus=[("Gemeente 9802", "BU9802")])
    assert data["focus"] == [{"label": "Gemeente 9802", "prefix": "BU9802"}]
    assert any(c.startswith("BU9802") for c in geometry.codes)
    assert spec_data(geometry, frame, IND, url="u.json")["focus"] == []


def test_continuous_scale_is_monotone(geometry, frame):
    data = spec_data(geometry, frame, IND, url="u.json", method="continuous")
    assert len(data["colours"]) == canvasmap.CONTINUOUS_STEPS and data["meta"]["k"] == 0
    pairs = sorted((v, c) for v, c in zip(frame.set_index("code").reindex(geometry.codes)["value"], data["cls"])
                   if not np.isnan(v))
    steps = [c for _, c in pairs]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == canvasmap.CONTINUOUS_STEPS - 1
    assert data["legend"]["gradient"] and data["legend"]["ticks"]
    assert all(0 <= t["at"] <= 1 for t in data["legend"]["ticks"])


def test_geometry_served_or_inline_and_parent_lines(geometry, frame, tmp_path):
    served = spec_data(geometry, frame, IND, url="buurtmonitor/geo/a.json", parent_url="buurtmonitor/geo/b.json")
    assert served["geojson"] is None and served["parent"] == {"label": "gemeentegrenzen",
                                                              "url": "buurtmonitor/geo/b.json"}
    inline = spec_data(geometry, frame, IND)
    assert inline["url"] is None
    assert [f["id"] for f in inline["geojson"]["features"]] == geometry.codes
    assert all(f["properties"]["n"] for f in inline["geojson"]["features"])
    lines = inline["parent"]["lines"]
    assert lines and all(len(p) >= 4 and len(p) % 2 == 0 for p in lines)
    # the border between the two gemeenten runs at x = 5.06
    assert any(all(abs(p[k] - 5.06) < 1e-6 for k in range(0, len(p), 2)) for p in lines)
    assert inline["geo_key"] == spec_data(geometry, frame, IND)["geo_key"]     # stable per geometry
    url = static_files.publish_lines(geometry.parent, tmp_path)
    assert json.loads(static_files.static_path(url, tmp_path).read_bytes())["lines"] == lines
    assert static_files.publish_lines(geometry.parent, tmp_path) == url      # content-addressed
    json.dumps(served), json.dumps(inline)                                         # JSON all the way


def test_size_grows_with_areas_not_vertices(frame):
    coarse = national.prepare_geometry(_grid(12, detail=2), key="a")
    fine = national.prepare_geometry(_grid(12, detail=60), key="b")
    a = spec_data(coarse, frame, IND, url="u.json")
    b = spec_data(fine, frame, IND, url="u.json")
    size = lambda d: len(json.dumps({k: v for k, v in d.items() if k not in ("parent", "geo_key")}))
    assert size(a) == size(b)
    assert size(a) < len(coarse.codes) * 60 + 4000


def test_codes_go_along_when_the_feature_order_differs(geometry, frame):
    shuffled = dataclasses.replace(geometry, geojson={
        "type": "FeatureCollection", "features": list(reversed(geometry.geojson["features"]))})
    data = spec_data(shuffled, frame, IND, url="u.json")
    assert data["codes"] == list(geometry.codes)


def test_spec_is_typed_and_the_component_gets_the_same_keys_as_before(geometry, frame):
    got = canvasmap.spec(geometry, frame, IND, url="u.json", fictitious=True)
    assert isinstance(got, canvasmap.CanvasSpec)
    data = got.component_data()
    assert list(data) == ["url", "geojson", "geo_key", "codes", "cls", "v", "txt", "n", "small", "colours",
                          "legend", "labels", "selected", "parent", "bounds", "view_key", "focus", "banner",
                          "alt", "height"]
    assert "meta" not in data and got.meta["renderer"] == "canvas"
    assert json.loads(json.dumps(data)) == data


def test_assets_put_text_as_text():
    js, css = canvasmap.assets()
    assert "export default function" in js and ".bm-canvas" in css
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    assert "textContent" in js
