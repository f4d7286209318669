"""Detailed origin per gemeente (CBS 85458NED): countries of origin, born in NL / abroad, change
per year, "Eritrea is a group", the guidance tied to it and the search of the guidance catalogue.

The country detail is tested on a GENERATED table of the same shape as CBS serves it
(:mod:`devtools.standins.herkomstlanden`, fictitious numbers): the shared extract of 85458NED is
truncated after its first three Herkomstland members and has no countries. The real extract is
tested for what it holds (Ede, Amsterdam), through the v3 and v4 stand-ins."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest

from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.integratie import countries as C
from buurtmonitor.integratie.catalogue import CatalogueError, load_origin_catalogue, parse_catalogue
from buurtmonitor.integratie.harmonise import (
    Code,
    CodeLists,
    DimensionInfo,
    MeasureInfo,
    harmonise,
    observations_from_v3,
    resolve,
)
from devtools.standins.cbs_odata import CbsODataServer
from devtools.standins.cbs_odata4 import CbsOData4Server, v4_table
from devtools.standins.herkomstlanden import generated_extract
from devtools.standins.origin_extracts import GEMEENTEN_2022, KWB2024, ORIGIN_DIR, origin_extract, v3_table
from devtools.standins.shared_data import require_shared
from loaders.cbs_origin import fetch_origin_table


def _frame_from(extract) -> pd.DataFrame:
    """The harmonised frame of an extract, without a server (pure domain)."""
    cat = load_origin_catalogue()
    lists = CodeLists(table_id=extract.table_id, title=extract.title,
                      dimensions=tuple(DimensionInfo(d, d, k) for d, k in extract.dimension_kinds.items()),
                      codes={d: tuple(Code(k, t) for k, t in m) for d, m in extract.dimensions.items()},
                      measures=tuple(MeasureInfo(m.key, m.title, m.unit, m.decimals) for m in extract.measures))
    res = resolve(cat.table("85458NED"), lists)
    return harmonise(observations_from_v3(extract.rows, res), res, api="v3", catalogue=cat)


@pytest.fixture(scope="module")
def gen() -> pd.DataFrame:
    return _frame_from(generated_extract())


# ------------------------------------------------------------------------------ domain, generated
def test_largest_countries_with_counts_share_and_birth_split(gen):
    v = C.countries_view(gen, "GM0001", 2024, top=5)
    assert v.has_country_detail and v.year == 2024 and v.years == (2022, 2023, 2024)
    assert [C.country_name(r.label) for r in v.countries] == ["Marokko", "Turkije", "Polen", "Duitsland", "Oekraïne"]
    assert v.n_countries == 11                                  # 12 countries, Syrië without a 2024 count
    tot = v.inhabitants.value
    marokko = v.countries[0]
    assert marokko.count.value == 1240 and marokko.share == pytest.approx(100 * 1240 / tot)
    assert (marokko.born_nl.value, marokko.born_abroad.value) == (806, 434)
    assert marokko.born_nl.value + marokko.born_abroad.value == marokko.count.value
    assert marokko.previous.value == 1225 and marokko.change == 15 and marokko.previous_year == 2023
    over = {r.group: r for r in v.overview}
    assert list(over) == ["totaal", "herkomst_nederland", "herkomst_buiten_nederland", "herkomst_europa",
                          "herkomst_buiten_europa"]
    assert over["herkomst_nederland"].count.value + over["herkomst_buiten_nederland"].count.value == tot
    table = C.display_table(v)
    row = table[table.Herkomst == "Marokko"].iloc[0]
    assert (row.Inwoners, row["Geboren buiten Nederland"], row["Verschil met 1 januari 2023"]) == ("1.240", "434", "+15")
    assert row["Aandeel van alle inwoners"] == "4,6%" and row["Herkomstgroep (≥ 50)"] == "ja"


def test_missing_counts_are_named_never_zero(gen):
    v = C.countries_view(gen, "GM0001", 2024)
    assert "Syrië" not in [C.country_name(r.label) for r in v.countries]
    assert v.missing_countries == (("Syrië", "niet beschikbaar (leeg bij CBS)"),)
    assert "Syrië (niet beschikbaar (leeg bij CBS))" in v.missing_line()
    polen = next(r for r in v.countries if r.group == "polen")
    assert polen.count.value == 745 and polen.born_abroad.value is None and polen.born_abroad.missing == "leeg"
    table = C.display_table(v)
    p = table[table.Herkomst == "Polen"].iloc[0]
    assert p["Geboren buiten Nederland"] == "niet beschikbaar (leeg bij CBS)"
    assert not (table.map(lambda x: x in ("0", "0,0", "0%"))).any().any()
    csv = C.csv_table(v)
    prow = csv[csv.groep == "polen"].iloc[0]
    assert pd.isna(prow.geboren_buiten_nl) and "geboren buiten NL: niet beschikbaar" in prow.toelichting
    fig = C.countries_figure(v)
    names = {t.name: t for t in fig.data}
    unsplit = names["Geboorteland niet bekend"]
    assert list(unsplit.x)[list(unsplit.y).index("Polen")] == 745                 # one grey bar
    assert list(names["Geboren in Nederland"].x)[list(unsplit.y).index("Polen")] is None
    assert "Syrië" not in list(unsplit.y)
    assert any("Bron: CBS, 85458NED" in a.text for a in fig.layout.annotations)


@pytest.mark.slow
def test_change_per_year_2022_2023_2024(gen):
    got = C.yearly_counts(gen, "GM0001", "eritrea")
    assert [(c.year, c.count.value, c.change) for c in got] == [(2022, 180, None), (2023, 215, 35), (2024, 260, 45)]
    abroad = C.yearly_counts(gen, "GM0001", "eritrea", C.BORN_ABROAD)
    assert [c.count.value for c in abroad] == [135, 161, 195]
    syrie = C.yearly_counts(gen, "GM0001", "syrie")
    assert syrie[2].count.value is None and syrie[2].change is None and syrie[1].change == 55
    changes = C.changes_table(gen, C.countries_view(gen, "GM0001", 2024))
    er = changes[(changes.Herkomst == "Eritrea") & (changes.Telling == "inwoners")].iloc[0]
    assert (er["1 jan 2022"], er["2022→2023"], er["1 jan 2024"], er["2023→2024"]) == ("180", "+35", "260", "+45")


@pytest.mark.slow
def test_eritrea_is_a_group_from_the_catalogue_threshold(gen):
    cat = load_origin_catalogue()
    assert cat.rules.country_group_min == 50
    st = C.group_status(gen, "GM0001", 2024, "eritrea")
    assert st.state == C.STATE_GROUP and st.count.value == 260
    assert "260 inwoners met herkomst Eritrea" in st.reason and "195 buiten Nederland geboren" in st.reason
    assert "een jaar eerder 215 (+45)" in st.reason and "ten minste 50" in st.reason
    small = C.group_status(gen, "GM0002", 2024, "eritrea")
    assert small.state == C.STATE_NO_GROUP and small.count.value == 30 and "minder dan 50" in small.reason
    strict = dataclasses.replace(cat, rules=dataclasses.replace(cat.rules, country_group_min=261))
    assert C.group_status(gen, "GM0001", 2024, "eritrea", catalogue=strict).state == C.STATE_NO_GROUP
    assert C.situations(gen, "GM0001", 2024)["herkomstgroep_eritrea"] == st.reason
    assert "herkomstgroep_eritrea" not in C.situations(gen, "GM0002", 2024)
    assert "herkomstgroep_eritrea" not in C.situations(gen, "GM0001", 2024, catalogue=strict)
    with pytest.raises(ValueError, match="geen herkomstland"):
        C.group_status(gen, "GM0001", 2024, "herkomst_buiten_europa")


def test_a_year_outside_the_table_is_replaced_and_said(gen):
    v = C.countries_view(gen, "GM0001", 2021)
    assert v.year == 2022 and "Voor 2021 zijn er geen cijfers naar herkomstland" in v.year_note
    assert C.countries_view(gen, "GM0001", None).year == 2024 and C.countries_view(gen, "GM0001", None).year_note is None
    with pytest.raises(ValueError, match="geen cijfers naar herkomstland"):
        C.countries_view(gen, "GM0363", 2024)


def test_a_split_on_a_dimension_the_table_lacks_is_a_catalogue_error():
    raw = {"group": [{"id": "totaal", "label": "Totaal"}], "indicator": {
        "bevolking": {"label": "Inwoners", "kind": "count"}, "b2": {"label": "x", "kind": "count"}},
        "table": [{"id": "T1", "title": "t", "scheme": "herkomst", "dimension": [{"role": "region", "match": "RegioS"}],
                   "measure": [{"key": "Bevolking", "indicator": "bevolking", "group": "totaal",
                                "split": {"Geboren": "b2"}}]}]}
    with pytest.raises(CatalogueError, match="splitst naar 'generation'"):
        parse_catalogue(raw)
    raw["table"][0]["measure"][0]["split"] = {"Geboren": "onbekend"}
    raw["table"][0]["dimension"].append({"role": "generation", "match": "Geboorteland", "total": "Totaal"})
    with pytest.raises(CatalogueError, match="onbekende indicator 'onbekend'"):
        parse_catalogue(raw)


# ------------------------------------------------------------------------------ real extract
@pytest.fixture(scope="module")
def real_servers():
    shared = require_shared(f"{ORIGIN_DIR}/85458NED.csv", GEMEENTEN_2022, KWB2024)
    ext = origin_extract("85458NED", shared)
    with CbsODataServer([v3_table(ext)]) as v3, CbsOData4Server([v4_table(ext)]) as v4:
        yield v3, v4


@pytest.fixture
def real(real_servers, monkeypatch, tmp_path):
    v3, v4 = real_servers
    monkeypatch.setenv("CBS_ODATA_URL", v3.url)
    monkeypatch.setenv("CBS_ODATA4_URL", v4.url)
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    return real_servers


@pytest.mark.slow
@pytest.mark.parametrize("api", ["v3", "v4"])
def test_real_extract_ede_born_in_nl_and_abroad_and_change(real, api):
    f = fetch_origin_table("85458NED", "GM0228", api=api).frame
    v = C.countries_view(f, "GM0228", 2024)
    assert v.gemeente_name == "Ede" and v.inhabitants.value == 123532 and v.years == (2022, 2023, 2024)
    assert not v.has_country_detail and v.countries == () and v.n_countries == 0
    over = {r.group: r for r in v.overview}
    assert over["herkomst_nederland"].count.value == 100514 and over["herkomst_buiten_nederland"].count.value == 23018
    assert over["totaal"].born_nl.value == 111098 and over["totaal"].born_abroad.value == 12434
    buiten = over["herkomst_buiten_nederland"]
    assert buiten.born_nl.value == 10584 and buiten.change == 23018 - 22231
    # the extract stops before "Buiten Nederland x geboren buiten Nederland" reaches Ede: missing, not 0
    assert buiten.born_abroad.value is None and buiten.born_abroad.missing == C.MISSING_NOT_LOADED
    assert over["herkomst_nederland"].born_abroad.missing == "leeg"         # CBS leaves it empty
    assert [c.count.value for c in C.yearly_counts(f, "GM0228", "herkomst_buiten_nederland")] == [20887, 22231, 23018]
    st = C.group_status(f, "GM0228", 2024, "eritrea")
    assert st.state == C.STATE_UNKNOWN and "niet uitgesplitst naar herkomstland" in st.reason
    assert C.situations(f, "GM0228", 2024) == {}
    assert C.summary_sentence(v).startswith("Ede telt op 1 januari 2024 123.532 inwoners; 23.018 van hen (18,6%)")


@pytest.mark.slow
def test_real_extract_amsterdam_and_v3_equals_v4(real):
    a = fetch_origin_table("85458NED", "GM0363", api="v3").frame
    b = fetch_origin_table("85458NED", "GM0363", api="v4").frame
    pd.testing.assert_frame_equal(a.drop(columns="api"), b.drop(columns="api"))
    v = C.countries_view(a, "GM0363", 2024)
    over = {r.group: r for r in v.overview}
    assert v.inhabitants.value == 931298
    assert (over["herkomst_buiten_nederland"].born_nl.value, over["herkomst_buiten_nederland"].born_abroad.value) == (
        201804, 353652)
    assert over["herkomst_buiten_nederland"].share == pytest.approx(100 * 555456 / 931298)


# ------------------------------------------------------------------------------ guidance
def test_eritrea_handreiking_is_tied_to_eritrea_being_a_group_not_to_buiten_europa():
    cat = load_catalogue()
    ids = lambda rs: [r.id for r in rs]                                               # noqa: E731
    er = next(r for r in cat.resources if r.id == "eritrese_nieuwkomers")
    assert er.situations == ("herkomstgroep_eritrea",) and er.indicators == ()
    for view in ("herkomst", "gebiedsprofiel", "kaart"):
        for ind in ("pct_herkomst_buiten_europa", "pct_geb_buiten_nl", "pct_niet_westers", None):
            assert "eritrese_nieuwkomers" not in ids(cat.resources_for(view, ind)), (view, ind)
    assert "eritrese_nieuwkomers" not in ids(cat.resources_for("integratie"))
    assert "eritrese_nieuwkomers" in ids(cat.resources_for("integratie", None, {"herkomstgroep_eritrea"}))
    assert "eritrese_nieuwkomers" not in ids(cat.resources_for("integratie", None, {"herkomstgroep_syrie"}))
    assert "eritrese_nieuwkomers" in ids(cat.resources_for("hulpmiddelen"))           # the whole catalogue
    # the situation's label states the same threshold as the origin catalogue
    label = cat.situations["herkomstgroep_eritrea"]
    assert re.search(r"ten minste (\d+)", label).group(1) == f"{load_origin_catalogue().rules.country_group_min:.0f}"


def test_an_unknown_situation_is_a_catalogue_error(tmp_path, monkeypatch):
    import shutil

    from buurtmonitor import catalogue

    for name in ("kwb_tables.toml", "indicators.toml", "origin_groups.toml", "resources.toml"):
        shutil.copy(catalogue.CATALOGUE_DIR / name, tmp_path / name)
    text = (tmp_path / "resources.toml").read_text(encoding="utf-8")
    (tmp_path / "resources.toml").write_text(text.replace('situations = ["herkomstgroep_eritrea"]',
                                                          'situations = ["nergens"]'), encoding="utf-8")
    monkeypatch.setattr(catalogue, "CATALOGUE_DIR", tmp_path)
    catalogue.load_catalogue.cache_clear()
    try:
        with pytest.raises(catalogue.CatalogueError, match="onbekende situatie"):
            catalogue.load_catalogue()
    finally:
        catalogue.load_catalogue.cache_clear()


@pytest.mark.parametrize("query, expect", [
    ("jongeren", {"factsheet_rvdk_radicalisering", "triggerfactoren_radicalisering"}),
    ("Eritrea", {"eritrese_nieuwkomers"}),
    ("eritrea statushouders", {"eritrese_nieuwkomers"}),
    ("sociale stabiliteit", {"bouwstenen_sociale_stabiliteit"}),      # a theme label
    ("herkomstgroep", {"eritrese_nieuwkomers"}),                      # a situation label
])
def test_search_covers_descriptions_themes_and_situations(query, expect):
    found = {r.id for r in load_catalogue().search_resources(query)}
    assert expect <= found, (query, found)


def test_search_still_filters_and_folds_accents():
    cat = load_catalogue()
    assert cat.search_resources("zzzz-nergens") == []
    assert [r.id for r in cat.search_resources("Eritrea", views=["lokale_kaart"])] == []
    assert {r.id for r in cat.search_resources("coordinator")} == {r.id for r in cat.search_resources("Coördinator")}
    assert cat.search_resources("coordinator")
