"""The CBS OData v4 client against the v4 stand-in (shapes, paging, $filter, errors)."""

from __future__ import annotations

import pytest

from devtools.standins.cbs_odata4 import CbsOData4Server, rewrite_in, v4_table
from devtools.standins.origin_extracts import GEMEENTEN_2022, KWB2024, ORIGIN_DIR, origin_extract
from devtools.standins.shared_data import require_shared
from loaders import cbs_v4
from loaders.http import NotFound, SourceUnavailable
from loaders.settings import get_settings


@pytest.fixture(scope="module")
def server():
    shared = require_shared(f"{ORIGIN_DIR}/85458NED.csv", GEMEENTEN_2022, KWB2024)
    with CbsOData4Server([v4_table(origin_extract("85458NED", shared))]) as s:
        yield s


@pytest.fixture
def v4(server, monkeypatch):
    server.reset()
    monkeypatch.setenv("CBS_ODATA4_URL", server.url)
    monkeypatch.setenv("BUURTMONITOR_RETRIES", "3")
    monkeypatch.setenv("BUURTMONITOR_BACKOFF", "0")
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    yield server
    server.reset()
    server.page_size = 10000


def test_settings_default_and_env(monkeypatch):
    monkeypatch.delenv("CBS_ODATA4_URL", raising=False)
    assert get_settings().cbs_odata4_url == "https://datasets.cbs.nl/odata/v1"
    monkeypatch.setenv("CBS_ODATA4_URL", "http://127.0.0.1:1/odata/v1/")
    assert get_settings().cbs_odata4_url == "http://127.0.0.1:1/odata/v1"


@pytest.mark.slow
def test_metadata_shapes(v4):
    lists = cbs_v4.code_lists("85458NED")
    assert {d.key for d in lists.dimensions} >= {"RegioS", "Perioden", "Herkomstland"}
    assert next(d for d in lists.dimensions if d.key == "RegioS").kind == "GeoDimension"
    assert ("GM0228", "Ede") in {(c.key, c.title) for c in lists.codes["RegioS"]}
    m = cbs_v4.measure_codes("85458NED")[0]
    assert set(m) >= {"Identifier", "Title", "Unit", "Decimals", "DataType"}
    assert cbs_v4.properties("85458NED")["Identifier"] == "85458NED"


def test_observations_filter_and_paging(v4):
    flt = cbs_v4.both(cbs_v4.any_of("RegioS", ["GM0228", "NL01"]), cbs_v4.eq("Perioden", "2024JJ00"))
    want = cbs_v4.observations("85458NED", filter=flt)
    assert want and {o["RegioS"] for o in want} == {"GM0228", "NL01"}
    assert set(want[0]) >= {"Id", "Measure", "ValueAttribute", "Value", "RegioS", "Perioden"}
    v4.page_size = 5
    v4.reset()
    got = cbs_v4.observations("85458NED", filter=flt)
    assert got == want and len(v4.requests_to("/Observations")) == -(-len(want) // 5)
    v4.page_size = 10000
    gm = cbs_v4.observations("85458NED", filter=cbs_v4.both(cbs_v4.startswith("RegioS", "GM"),
                                                           cbs_v4.eq("Perioden", "2022JJ00")))
    assert gm and all(o["RegioS"].startswith("GM") for o in gm)


def test_empty_cells_are_null_with_an_attribute(v4):
    obs = cbs_v4.observations("85458NED", filter="RegioS eq 'GM0228'")
    empty = [o for o in obs if o["Value"] is None]
    assert empty and all(o["ValueAttribute"] != "None" for o in empty)


def test_unknown_table_is_not_found_and_faults_are_retried(v4):
    with pytest.raises(NotFound):
        cbs_v4.properties("00000XXX")
    v4.fail_next(2, "503", path_contains="/Dimensions")
    assert cbs_v4.dimensions("85458NED")
    v4.fail_next(50, "500", path_contains="/MeasureCodes")
    with pytest.raises(SourceUnavailable, match="CBS OData v4"):
        cbs_v4.measure_codes("85458NED")


def test_in_is_rewritten_for_the_filter_grammar():
    assert rewrite_in("Measure in ('M1','M2') and RegioS eq 'GM0228'") == \
        "(Measure eq 'M1' or Measure eq 'M2') and RegioS eq 'GM0228'"
    assert cbs_v4.any_of("X", ["a"]) == "X eq 'a'"
    assert cbs_v4.quote_literal("'s-Gravenhage") == "'''s-Gravenhage'"
