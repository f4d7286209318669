"""The guidance catalogue (data/resources.toml): complete, valid, ordered as agreed."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from buurtmonitor.catalogue import CATALOGUE_DIR, load_catalogue

VIEWS = {"kaart", "herkomst", "gebiedsprofiel", "ontwikkeling", "lokale_kaart", "briefing", "hulpmiddelen",
         "integratie"}
INDICATOR_VIEWS = ("kaart", "herkomst", "gebiedsprofiel", "ontwikkeling")
EXTRA_THEMES = {"polarisatie", "radicalisering", "sociale_stabiliteit", "integratie", "jeugd", "crisis"}
#: a distinctive piece of each of the 11 titles
TITLES = ["10-puntenlijst", "Buurtmonitor Integratie", "Raad voor de Kinderbescherming en radicalisering",
          "Rol van gemeenten in de aanpak van radicalisering", "Sociaal Calamiteitenplan",
          "Bouwstenen voor sociale stabiliteit", "Aanpak radicalisering en terrorismebestrijding op lokaal niveau",
          "Inzicht in (de)polarisatie", "Eritrese nieuwkomers", "Triggerfactoren in het radicaliseringsproces",
          "Quickscan Gemeenten"]
LOKALE_KAART_ORDER = ["Inzicht in (de)polarisatie", "Bouwstenen voor sociale stabiliteit",
                      "Triggerfactoren", "Quickscan", "10-puntenlijst"]


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


@pytest.fixture(scope="module")
def raw():
    with (CATALOGUE_DIR / "resources.toml").open("rb") as fh:
        return tomllib.load(fh)["resource"]


def test_the_named_resources_are_present_once(cat):
    assert len({r.id for r in cat.resources}) == len(cat.resources)
    for piece in TITLES:
        hits = [r for r in cat.resources if piece.lower() in r.title.lower()]
        assert len(hits) == 1, piece


def test_every_field_filled(cat, raw):
    for entry in raw:
        assert isinstance(entry["last_checked"], dt.date), entry["id"]
        assert entry["last_checked"] == dt.date(2026, 11, 30)
        assert entry["link_kind"] in ("document", "uitgever"), entry["id"]
        assert "indicators" in entry
    for r in cat.resources:
        assert r.id and r.title and r.publisher and r.url and r.description, r.id
        assert isinstance(r.year, int) and 1990 <= r.year <= 2026, r.id
        assert r.last_checked == "2026-11-30"
        assert r.themes and r.views, r.id
        sentences = [s for s in r.description.replace("?", ".").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 3, (r.id, len(sentences))
        assert set(r.why) == set(r.views), r.id            # one line per view
        assert all(isinstance(line, str) and len(line) > 20 and "\n" not in line for line in r.why.values())
        assert set(r.priority) == set(r.views), r.id
        assert all(isinstance(p, int) for p in r.priority.values())


def test_ids_are_valid(cat):
    themes = set(cat.themes) | EXTRA_THEMES
    for r in cat.resources:
        assert set(r.views) <= VIEWS, (r.id, set(r.views) - VIEWS)
        assert set(r.themes) <= themes, (r.id, set(r.themes) - themes)
        assert set(r.indicators) <= set(cat.indicators), (r.id, set(r.indicators) - set(cat.indicators))
        assert "hulpmiddelen" in r.views


def test_urls_are_https(cat):
    for r in cat.resources:
        assert r.url.startswith("https://"), r.id
        assert " " not in r.url


def test_every_indicator_view_has_guidance_for_every_indicator(cat):
    for view in INDICATOR_VIEWS:
        assert cat.resources_for(view), view
        for ind in cat.indicators:
            assert cat.resources_for(view, ind), (view, ind)


def test_lokale_kaart_order(cat):
    titles = [r.title for r in cat.resources_for("lokale_kaart")]
    assert len(titles) >= 5
    for want, got in zip(LOKALE_KAART_ORDER, titles[:5]):
        assert want.lower() in got.lower(), (want, titles[:5])


def test_views_and_themes_come_from_the_catalogue(cat):
    assert list(cat.views)[:2] == ["kaart", "herkomst"] and cat.views["briefing"] == "Raadsbriefing"
    assert cat.theme_labels["polarisatie"] == "Polarisatie"
    assert set(cat.themes) <= set(cat.theme_labels)
    for r in cat.resources:
        assert set(r.views) <= set(cat.views) and set(r.themes) <= set(cat.theme_labels), r.id


def test_an_unknown_view_or_theme_is_a_catalogue_error(tmp_path, monkeypatch):
    import shutil

    from buurtmonitor import catalogue

    for name in ("kwb_tables.toml", "indicators.toml", "origin_groups.toml", "resources.toml"):
        shutil.copy(CATALOGUE_DIR / name, tmp_path / name)
    text = (tmp_path / "resources.toml").read_text(encoding="utf-8")
    (tmp_path / "resources.toml").write_text(text.replace('views = ["', 'views = ["nergens", "', 1), encoding="utf-8")
    monkeypatch.setattr(catalogue, "CATALOGUE_DIR", tmp_path)
    catalogue.load_catalogue.cache_clear()
    try:
        with pytest.raises(catalogue.CatalogueError, match="onbekende weergave"):
            catalogue.load_catalogue()
    finally:
        catalogue.load_catalogue.cache_clear()


def test_kaart_guidance_fits_the_indicator(cat):
    """Issue 12, item 10: beside the Kaart not the same four resources for every indicator,
    but the ones tied to the indicator (or its theme), each with its reason."""
    def ids(ind):
        return [r.id for r in cat.resources_for("kaart", ind)]
    herkomst, inkomen, geweld, jeugd = (ids("pct_herkomst_buiten_europa"), ids("inkomen_per_inwoner"),
                                        ids("geweld_per_1000"), ids("pct_0_15"))
    assert len({tuple(herkomst), tuple(inkomen), tuple(geweld), tuple(jeugd)}) == 4
    assert "buurtmonitor_integratie" in inkomen and "tien_puntenlijst" not in inkomen
    assert "sociaal_calamiteitenplan" in geweld and "buurtmonitor_integratie" not in geweld
    assert "triggerfactoren_radicalisering" in jeugd and "inzicht_depolarisatie" not in jeugd
    for r in cat.resources:
        for view, tied in r.fits.items():
            assert view in r.views and r.why.get(view), (r.id, view)
            assert set(tied) <= set(cat.indicators) | set(cat.themes), (r.id, tied)


def test_every_link_says_where_it_goes(cat):
    from buurtmonitor.catalogue import LINK_KINDS
    assert set(LINK_KINDS) == {"document", "uitgever"}
    for r in cat.resources:
        assert r.link_kind in LINK_KINDS and r.link_note == LINK_KINDS[r.link_kind]
        assert r.url_is_publisher_page == (r.link_kind == "uitgever")


def test_a_wrong_link_kind_is_a_catalogue_error(tmp_path, monkeypatch):
    import shutil

    from buurtmonitor import catalogue

    for name in ("kwb_tables.toml", "indicators.toml", "origin_groups.toml", "resources.toml"):
        shutil.copy(CATALOGUE_DIR / name, tmp_path / name)
    text = (tmp_path / "resources.toml").read_text(encoding="utf-8")
    (tmp_path / "resources.toml").write_text(text.replace('link_kind = "uitgever"\nlast', 'link_kind = "pdf"\nlast', 1),
                                             encoding="utf-8")
    monkeypatch.setattr(catalogue, "CATALOGUE_DIR", tmp_path)
    catalogue.load_catalogue.cache_clear()
    try:
        with pytest.raises(catalogue.CatalogueError, match="link_kind"):
            catalogue.load_catalogue()
    finally:
        catalogue.load_catalogue.cache_clear()


def test_the_factsheet_rol_van_gemeenten_is_in_every_briefing():
    """Issue 12, item 10: the VNG/NGB factsheet is written for the council: it is in the
    briefing page's list and the PDF closing page (pack_resources), and in the PPTX notes."""
    from io import BytesIO

    from pptx import Presentation

    from buurtmonitor import briefing
    from buurtmonitor.exports.items import ExportItem

    items = [ExportItem(title="Kaart", resources=briefing.resources("kaart", "pct_herkomst_buiten_europa")),
             ExportItem(title="Herkomst", resources=briefing.resources("herkomst", "pct_herkomst_buiten_europa"))]
    listed = briefing.pack_resources(items)
    fact = [r for r in listed if "Rol van gemeenten" in r["title"]]
    assert len(fact) == 1 and fact[0]["why"].startswith("Een beknopte uitleg voor raadsleden")
    assert all(r["link"].startswith("link naar de website van de uitgever") for r in listed)
    closing = briefing.resources_item(items)
    assert any("Rol van gemeenten" in r["title"] for r in closing.resources)
    # PPTX: with the first slide's notes (build_pack adds it there)
    data = briefing.build_pack(["kaart", "herkomst"], 2024, "GM9901", fmt="pptx", items=items)
    notes = [s.notes_slide.notes_text_frame.text for s in Presentation(BytesIO(data)).slides
             if s.has_notes_slide]
    assert sum("Rol van gemeenten" in n for n in notes) == 1, notes
    assert "zoek daar op de titel" in "\n".join(notes)
