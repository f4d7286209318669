"""The stand-in CBS OData and PDOK servers behave like the real services for the real
clients (cbsodata 1.3.5, requests), including paging and injected faults."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import cbsodata
import pytest
import requests

from devtools.standins.cbs_odata import (
    CbsODataServer,
    FilterError,
    compile_filter,
    table_from_generated,
    table_from_shared_kwb2024,
)
from devtools.standins.pdok import PdokServer
from devtools.standins.shared_data import ENV_VAR, require_shared

EDE_FILTER = ("WijkenEnBuurten eq 'GM0228    ' or startswith(WijkenEnBuurten,'WK0228') "
              "or startswith(WijkenEnBuurten,'BU0228')")
EDE_SELECT = ["WijkenEnBuurten", "Codering_3", "AantalInwoners_5", "Nederland_17"]


@pytest.fixture
def cbsodata_at():
    """Point the real cbsodata client at a stand-in; restore its global options afterwards."""
    saved = (cbsodata.options.catalog_url, cbsodata.options.use_https,
             dict(cbsodata.options.requests))

    def point(server):
        cbsodata.options.catalog_url = server.host_port
        cbsodata.options.use_https = False
        cbsodata.options.requests = {"proxies": {"http": None, "https": None}}

    yield point
    cbsodata.options.catalog_url, cbsodata.options.use_https, cbsodata.options.requests = saved


def _decoded(log):
    return [unquote_plus(r) for r in log]


# --- CBS: the real cbsodata client ------------------------------------------------------

def test_cbsodata_get_data_one_gemeente(cbs_kwb2024, cbsodata_at):
    cbsodata_at(cbs_kwb2024)
    rows = cbsodata.get_data("85984NED", filters=EDE_FILTER, select=EDE_SELECT)

    ede = [r for r in rows if r["Codering_3"] == "GM0228    "]
    assert len(ede) == 1
    assert ede[0]["WijkenEnBuurten"] == "Ede"  # key replaced by the dimension title
    assert ede[0]["AantalInwoners_5"] == 123532 and isinstance(ede[0]["AantalInwoners_5"], int)
    assert ede[0]["Nederland_17"] == 100514
    assert sum(r["Codering_3"].startswith("WK0228") for r in rows) == 17
    assert all(set(r) == set(EDE_SELECT) for r in rows)

    # $filter and $select went to the server; the table was never fetched whole
    data_requests = [r for r in _decoded(cbs_kwb2024.request_log) if "DataSet" in r]
    assert len(data_requests) == 1
    assert "$filter=" + EDE_FILTER in data_requests[0]
    assert "$select=" + ",".join(EDE_SELECT) in data_requests[0]


@pytest.mark.slow
def test_cbsodata_typed_flag_quirk(cbs_kwb2024, cbsodata_at):
    # cbsodata 1.3.5 removes the set it wants from the download list: typed=False (the
    # default) fetches TypedDataSet, typed=True fetches UntypedDataSet (numbers as text).
    cbsodata_at(cbs_kwb2024)
    rows = cbsodata.get_data("85984NED", typed=True, filters="WijkenEnBuurten eq 'GM0228    '",
                             select=["WijkenEnBuurten", "AantalInwoners_5"])
    assert rows == [{"WijkenEnBuurten": "Ede", "AantalInwoners_5": "123532"}]
    assert any("/UntypedDataSet?" in r for r in cbs_kwb2024.request_log)


def test_metadata_sets_are_raw(cbs_kwb2024, cbsodata_at):
    cbsodata_at(cbs_kwb2024)
    props = cbsodata.get_meta("85984NED", "DataProperties")
    assert props[0]["odata.type"] == "Cbs.OData.GeoDetail"
    assert {p["odata.type"] for p in props} == {
        "Cbs.OData.GeoDetail", "Cbs.OData.TopicGroup", "Cbs.OData.Topic"}
    assert cbsodata.get_info("85984NED")["Identifier"] == "85984NED"
    dim = cbsodata.get_meta("85984NED", "WijkenEnBuurten")
    assert {"Key": "GM0228    ", "Title": "Ede", "Description": None}.items() <= \
        next(d for d in dim if d["Key"] == "GM0228    ").items()


@pytest.mark.slow
def test_paging_follows_next_links(cbsodata_at):
    require_shared("kwb_2024_85984NED_odata")
    table = table_from_shared_kwb2024()
    with CbsODataServer([table], page_size=1000) as server:
        cbsodata_at(server)
        rows = cbsodata.get_data("85984NED", select=["WijkenEnBuurten", "SoortRegio_2"])
        assert len(rows) == 10000
        assert len({r["WijkenEnBuurten"] for r in rows}) > 9000
        pages = [r for r in server.request_log if "/TypedDataSet" in r]
        assert len(pages) == 10

        # Nederland + all gemeenten, 173 rows, in pages of 50: filter/select repeated
        server.page_size = 50
        server.reset()
        flt = "SoortRegio_2 eq 'Land      ' or SoortRegio_2 eq 'Gemeente  '"
        rows = cbsodata.get_data("85984NED", filters=flt, select=["WijkenEnBuurten", "Codering_3"])
        assert len(rows) == 173
        assert rows[0]["WijkenEnBuurten"] == "Nederland"
        pages = [r for r in _decoded(server.request_log) if "/TypedDataSet" in r]
        assert len(pages) == 4
        assert all("$filter=" + flt in p and "$select=WijkenEnBuurten,Codering_3" in p for p in pages)
        assert [p.split("$skip=")[-1] for p in pages[1:]] == ["50", "100", "150"]


def test_table_list(cbs_kwb2024, cbsodata_at):
    cbsodata_at(cbs_kwb2024)
    tables = cbsodata.get_table_list()
    assert [t["Identifier"] for t in tables] == ["85984NED"]
    assert tables[0]["Title"] == "Kerncijfers wijken en buurten 2024"
    found = cbsodata.get_table_list(filters="substringof('Kerncijfers wijken en buurten',Title)",
                                    select=["Identifier", "Title", "Period"])
    assert found == [{"Identifier": "85984NED", "Title": "Kerncijfers wijken en buurten 2024",
                      "Period": "2024"}]
    assert cbsodata.get_table_list(filters="substringof('Bevolking',Title)") == []


def test_odata_query_options_and_errors(cbs_kwb2024):
    base = f"{cbs_kwb2024.url}/ODataApi/odata/85984ned/TypedDataSet"

    def get(**params):
        params = {"$" + k: v for k, v in params.items()}
        return requests.get(base, params={"$format": "json", **params}, timeout=5)

    r = get(top="3", skip="1", select="ID,Codering_3")
    assert r.status_code == 200 and "odata.metadata" in r.json()
    assert r.json()["value"] == [{"ID": 1, "Codering_3": "GM1680    "},
                                 {"ID": 2, "Codering_3": "WK168000  "},
                                 {"ID": 3, "Codering_3": "BU16800000"}]
    # '' escaping, parentheses, and, ne, numbers, null
    r = get(filter="(startswith(Gemeentenaam_1,'''s-Gravenhage') and SoortRegio_2 eq 'Gemeente  ') "
                   "and AantalInwoners_5 gt 500000 and Dekkingspercentage_126 eq null",
            select="Codering_3")
    assert r.json()["value"] == [{"Codering_3": "GM0518    "}]
    r = get(filter="SoortRegio_2 ne 'Buurt     ' and SoortRegio_2 ne 'Wijk      '", select="ID")
    assert len(r.json()["value"]) == 173
    assert r.headers["Content-Type"].endswith("charset=utf-8")

    for params in ({"filter": "WijkenEnBuurten eq"}, {"filter": "foo(WijkenEnBuurten,'x')"},
                   {"filter": "Nope eq 'x'"}, {"filter": "AantalInwoners_5 eq 'x'"},
                   {"filter": "WijkenEnBuurten like 'x'"}, {"select": "WijkenEnBuurten,Nope"},
                   {"top": "-1"}, {"orderby": "ID"}):
        r = get(**params)
        assert r.status_code == 400, params
        assert r.json()["odata.error"]["message"]["value"]
    assert requests.get(f"{cbs_kwb2024.url}/ODataFeed/odata/00000NED/", timeout=5).status_code == 404
    assert requests.get(f"{cbs_kwb2024.url}/ODataFeed/odata/85984NED/Nope", timeout=5).status_code == 404


def test_compile_filter_unit():
    row = {"A": "x'y ", "N": 3, "M": None}
    assert compile_filter("A eq 'x''y '")(row)
    assert compile_filter("substringof('''y',A) and not (N eq 4 or N lt 3)")(row)
    assert compile_filter("startswith(A,'x') eq false")(row) is False
    assert compile_filter("M eq null and N ge 3.0")(row)
    for bad in ("", "A eq", "A eq 'x", "(A eq 'x'", "A eq 'x' extra", "tolower(A) eq 'x'"):
        with pytest.raises(FilterError):
            compile_filter(bad, fields=row)


@pytest.mark.parametrize("kind, exc", [
    ("500", requests.HTTPError),
    ("503", requests.HTTPError),
    ("reset", requests.ConnectionError),
    ("truncated", json.JSONDecodeError),
    ("slow", requests.Timeout),
])
def test_cbs_faults_are_observable(cbs_kwb2024, cbsodata_at, kind, exc):
    cbsodata_at(cbs_kwb2024)
    cbs_kwb2024.fail_next(1, kind, path_contains="TypedDataSet", delay=1.0)
    with pytest.raises(exc):
        cbsodata.get_data("85984NED", filters="WijkenEnBuurten eq 'GM0228    '",
                          select=["AantalInwoners_5"], timeout=0.2)
    assert cbs_kwb2024.pending_faults == 0
    # the fault is spent: the same call now works
    rows = cbsodata.get_data("85984NED", filters="WijkenEnBuurten eq 'GM0228    '",
                             select=["AantalInwoners_5"], timeout=5)
    assert rows == [{"AantalInwoners_5": 123532}]


def test_fault_counts_and_incomplete(cbs_kwb2024):
    url = f"{cbs_kwb2024.url}/ODataFeed/odata/85984NED/TableInfos?$format=json"
    cbs_kwb2024.fail_next(2, "500")
    assert [requests.get(url, timeout=5).status_code for _ in range(3)] == [500, 500, 200]
    cbs_kwb2024.fail_next(1, "incomplete")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=5)
    with pytest.raises(ValueError):
        cbs_kwb2024.fail_next(1, "explode")


def test_table_from_generated(cbsodata_at):
    props = [
        {"ID": 0, "Position": 0, "ParentID": None, "Type": "GeoDetail", "Key": "WijkenEnBuurten",
         "Title": "Wijken en buurten", "Description": "", "MapYear": 2024},
        {"ID": 1, "Position": 1, "ParentID": None, "Type": "Topic", "Key": "AantalInwoners_5",
         "Title": "Aantal inwoners", "Description": "", "Datatype": "Long", "Unit": "aantal",
         "Decimals": 0, "Default": "Impossible", "PresentationType": "Absolute"},
    ]
    dims = {"WijkenEnBuurten": [{"Key": "GM9999    ", "Title": "Voorbeeldgemeente",
                                 "Description": None}]}
    table = table_from_generated(
        {"table_infos": [{"ID": 0, "Identifier": "99999NED", "Title": "Fictief"}],
         "data_properties": props, "dimensions": dims,
         "rows": [{"WijkenEnBuurten": "GM9999    ", "AantalInwoners_5": None}]})
    assert table.table_id == "99999NED"
    assert table.data_properties[1]["odata.type"] == "Cbs.OData.Topic"
    with CbsODataServer([table]) as server:
        cbsodata_at(server)
        assert cbsodata.get_data("99999NED") == [
            {"ID": 0, "WijkenEnBuurten": "Voorbeeldgemeente", "AantalInwoners_5": None}]
    with pytest.raises(ValueError, match="not in DataProperties"):
        table_from_generated(table_infos=table.table_infos, data_properties=props,
                             dimensions=dims, rows=[{"WijkenEnBuurten": "GM9999    ", "X_1": 1}])


# --- PDOK ------------------------------------------------------------------------------

def test_pdok_paging_by_next_links(pdok_ede):
    url = pdok_ede.items_url(2024, "wijken")
    params = {"f": "json", "limit": 5, "gemeentecode": "GM0228"}
    codes, pages = [], 0
    while url:
        r = requests.get(url, params=params, timeout=5)
        r.raise_for_status()
        doc = r.json()
        assert doc["type"] == "FeatureCollection" and doc["numberReturned"] == len(doc["features"])
        assert "timeStamp" in doc and any(link["rel"] == "self" for link in doc["links"])
        codes += [f["properties"]["wijkcode"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url, params, pages = (nxt[0] if nxt else None), None, pages + 1
        if url:
            assert url.startswith(pdok_ede.url) and "gemeentecode=GM0228" in url
    assert pages == 4 and len(codes) == 17 == len(set(codes))
    assert all(c.startswith("WK0228") for c in codes)


@pytest.mark.slow
def test_pdok_filters_and_errors(pdok_ede):
    def get(path, **params):
        return requests.get(f"{pdok_ede.url}{path}", params=params, timeout=5)

    wijken = "/cbs/wijken-en-buurten-2024/ogc/v1/collections/wijken/items"
    assert get(wijken, gemeentecode="GM0344").json()["numberReturned"] == 0
    doc = get(wijken, wijkcode="WK022801", f="json").json()
    assert [f["properties"]["wijknaam"] for f in doc["features"]] == ["Ede-Oost"]
    assert get(wijken).json()["numberReturned"] == 10  # default limit

    gem = "/cbs/gebiedsindelingen/ogc/v1/collections/gemeente_gegeneraliseerd/items"
    assert get(gem, jaarcode=2022, limit=5000).json()["numberReturned"] == 345  # limit clamped
    doc = get(gem, jaar=2022, statcode="GM0228").json()
    assert doc["features"][0]["properties"]["statnaam"] == "Ede"
    assert get(gem, jaar=2024).json()["numberReturned"] == 0

    assert get(wijken, limit=0).status_code == 400
    assert get(wijken, foo="bar").status_code == 400
    assert get(wijken, f="html").status_code == 400
    assert get("/cbs/wijken-en-buurten-2019/ogc/v1/collections/wijken/items").status_code == 404
    assert get("/cbs/wijken-en-buurten-2024/ogc/v1/collections/buurten/items").status_code == 404

    pdok_ede.fail_next(1, "503", path_contains="/wijken/items")
    assert get(wijken).status_code == 503
    pdok_ede.fail_next(1, "reset")
    with pytest.raises(requests.ConnectionError):
        get(wijken)
    pdok_ede.fail_next(1, "truncated")
    with pytest.raises(requests.JSONDecodeError):
        get(wijken).json()
    assert len(pdok_ede.requests_to("gemeentecode=GM0344")) == 1


def test_pdok_server_without_shared_data():
    feats = [{"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": [5.0 + i, 52.0]},
              "properties": {"buurtcode": f"BU999900{i:02d}", "gemeentecode": "GM9999"}}
             for i in range(3)]
    with PdokServer() as server:
        server.add_collection(2023, "buurten", feats)
        r = requests.get(server.items_url(2023, "buurten"), params={"bbox": "5.5,51,7.5,53"}, timeout=5)
        assert [f["id"] for f in r.json()["features"]] == [1, 2]
        assert r.headers["Content-Type"] == "application/geo+json"


def test_require_shared_skips_with_reason(monkeypatch, tmp_path):
    monkeypatch.delenv("BUURTMONITOR_REQUIRE_SHARED", raising=False)   # outside CI: skip, not fail
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(pytest.skip.Exception, match=r"\.\./shared/data ontbreekt"):
        require_shared("kwb_2024_85984NED_odata")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match="not part of the repository"):
        require_shared("kwb_2024_85984NED_odata")
    assert require_shared() == tmp_path


def test_require_shared_fails_in_ci(monkeypatch, tmp_path):
    """Under .ci/run (BUURTMONITOR_REQUIRE_SHARED=1) a missing extract fails the test instead."""
    monkeypatch.setenv("BUURTMONITOR_REQUIRE_SHARED", "1")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception, match="gedeelde extracten ontbreken"):
        require_shared("kwb_2024_85984NED_odata")
