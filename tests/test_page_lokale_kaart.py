"""The Lokale kaart page (pages/lokale_kaart.py) through Streamlit's AppTest: the demo offline,
the worksheet notes (add, validate, edit, delete, verbatim text, persistence across a restart),
the scheme break, and real KWB 2024 data for Ede and Amsterdam via the stand-in servers."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app import lokale_kaart_view as view
from buurtmonitor import formatting
from buurtmonitor.catalogue import load_lokale_kaart
from buurtmonitor.lokale_kaart import clusters, presenters
from buurtmonitor.lokale_kaart import indices as lokale_kaart
from buurtmonitor.model import FICTITIOUS_LABEL
from devtools.streamlit_server import streamlit_process
from loaders import repository
from loaders.notes import MAX_TEXT, NotesStore
from loaders.notes_pg import PgNotesStore

REPO = Path(__file__).resolve().parents[1]
PAGE = str(REPO / "pages" / "lokale_kaart.py")
TIMEOUT = 90
XSS = "<script>alert(1)</script> **vet**"


def new_app(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = str(v)
    return at


@pytest.fixture(autouse=True)
def clean_caches():
    """st.cache_data lives in the process: clear it so the env of each test counts."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def demo_env(tmp_path, monkeypatch):
    """Offline: CBS points at a closed port, so the page opens on the Voorbeeldgemeente."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.delenv("PDOK_URL", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def store_for(tmp_path: Path) -> NotesStore:
    return NotesStore(tmp_path / "data" / "notes" / "werkblad.sqlite")


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def markdown_bodies(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def metric(at: AppTest, label: str) -> str:
    hits = [m.value for m in at.metric if m.label == label]
    assert hits, f"metric {label!r} not found in {[m.label for m in at.metric]}"
    return hits[0]


def plotly_specs(at: AppTest) -> dict[str, dict]:
    return {c.proto.id or str(i): json.loads(c.proto.spec)
            for i, c in enumerate(at.get("plotly_chart"))}


def add_note(at: AppTest, section: str, text: str, author: str = "") -> AppTest:
    at.text_area(key=f"lk_note_text_{section}").input(text)
    if author:
        at.text_input(key=f"lk_note_author_{section}").input(author)
    at.button(key=f"lk_note_add_{section}").click()
    return at.run()


# ---------------------------------------------------------------------------------- demo
def test_demo_renders_with_label_tabs_and_metrics(demo_env):
    at = new_app().run()
    no_exception(at)
    assert any(FICTITIOUS_LABEL in w.value for w in at.warning)
    assert [t.label for t in at.tabs] == list(view.TAB_LABELS)
    labels = [m.label for m in at.metric]
    for key in ("dissimilarity", "multigroup_dissimilarity", "theil_h"):
        assert load_lokale_kaart().measures[key].label in labels
    # plain-Dutch explanation and the demo has no national comparison
    assert any("niet beschikbaar voor fictieve gegevens" in i.value for i in at.info)
    assert any("Let op: CBS rondt" in i.value for i in at.info)          # caveat
    # the guidance beside the view starts with the handreiking
    guidance = [m.value for m in at.markdown if m.value.startswith("**[")]
    assert guidance and "Handreiking Inzicht in" in guidance[0]
    # the source line
    assert any(FICTITIOUS_LABEL in c.value for c in at.caption)
    # wijk level of the demo: six wijken, too few for clusters -> a message, not an error
    assert any("Te weinig gebieden" in i.value for i in at.info)


def test_demo_buurt_level_clusters_and_diversity_map(demo_env):
    at = new_app(niveau="buurt").run()
    no_exception(at)
    table = repository.demo_table(2024, "GM9901")
    expected = lokale_kaart.measures(table, "GM9901", "buurt")
    assert metric(at, "Ongelijkheidsindex D (twee groepen)") == formatting.index(expected.dissimilarity)
    assert metric(at, "Moran's I")
    specs = list(plotly_specs(at).values())
    assert len(specs) == 2                                    # diversity map + cluster map
    names = [t.get("name", "") for s in specs for t in s["data"]]
    assert any(n.startswith(clusters.HIGH_HIGH) for n in names)
    assert all(s["layout"]["map"]["style"] == "white-bg" for s in specs)
    # dropped areas are listed with a reason
    assert any("Weggelaten buurten" in e.label for e in at.expander)


# ---------------------------------------------------------------------------------- notes
def test_add_note_stored_shown_verbatim_and_survives_restart(demo_env):
    at = new_app().run()
    no_exception(at)
    at = add_note(at, "kerncijfers", "Aandeel buiten Europa stijgt in Havenwijk", author="Sanne")
    no_exception(at)
    store = store_for(demo_env)
    saved = store.list("GM9901", section="kerncijfers")
    assert [n["text"] for n in saved] == ["Aandeel buiten Europa stijgt in Havenwijk"]
    assert saved[0]["author"] == "Sanne" and saved[0]["year"] == 2024 and saved[0]["area_code"] is None
    assert "Aandeel buiten Europa stijgt in Havenwijk" in texts(at)
    assert any("Notitie opgeslagen" in s.value for s in at.success)
    assert at.text_area(key="lk_note_text_kerncijfers").value == ""   # cleared after saving

    # user text with HTML and Markdown is shown as text, verbatim, never as markdown
    at = add_note(at, "themas", XSS)
    no_exception(at)
    assert XSS in texts(at)
    assert not any("<script>" in body or "alert(1)" in body for body in markdown_bodies(at))
    assert store.list("GM9901", section="themas")[0]["text"] == XSS

    # "restart": a new app instance (new session) reads the same notes from disk
    st.cache_data.clear()
    again = new_app().run()
    no_exception(again)
    assert XSS in texts(again)
    assert "Aandeel buiten Europa stijgt in Havenwijk" in texts(again)


def test_note_validation_errors_in_dutch_and_nothing_lost(demo_env):
    at = new_app().run()
    at = add_note(at, "plekken", "   ")
    no_exception(at)
    assert any("leeg" in e.value for e in at.error)
    assert store_for(demo_env).list("GM9901") == []

    long_text = "x" * (MAX_TEXT + 1)
    at = add_note(at, "plekken", long_text)
    assert any("te lang" in e.value for e in at.error)
    assert at.text_area(key="lk_note_text_plekken").value == long_text   # still there
    assert store_for(demo_env).list("GM9901") == []


def test_note_per_area_edit_and_delete(demo_env):
    at = new_app().run()
    table = repository.demo_table(2024, "GM9901")
    wijk = table.data[table.data["level"] == "wijk"].iloc[0]
    at.selectbox(key="lk_ws_area").set_value(wijk["code"]).run()
    at = add_note(at, "plekken", "Spanning rond het winkelcentrum")
    no_exception(at)
    note = store_for(demo_env).list("GM9901")[0]
    assert note["area_code"] == wijk["code"]
    assert "Spanning rond het winkelcentrum" in texts(at)
    assert any(wijk["name"] in t for t in texts(at))                 # the area is named

    nid = note["id"]
    at.button(key=f"lk_edit_open_{nid}").click().run()                 # the editor opens on demand
    at.text_area(key=f"lk_edit_text_{nid}").input("Spanning rond het winkelcentrum (bijgewerkt)")
    at.button(key=f"lk_edit_save_{nid}").click().run()
    no_exception(at)
    assert store_for(demo_env).get(nid)["text"] == "Spanning rond het winkelcentrum (bijgewerkt)"
    assert "Spanning rond het winkelcentrum (bijgewerkt)" in texts(at)

    # delete without ticking the confirmation: refused, nothing lost
    at.button(key=f"lk_edit_open_{nid}").click().run()
    at.button(key=f"lk_del_{nid}").click().run()
    assert any("Vink eerst" in e.value for e in at.error)
    assert store_for(demo_env).get(nid) is not None
    at.checkbox(key=f"lk_del_confirm_{nid}").check()
    at.button(key=f"lk_del_{nid}").click().run()
    no_exception(at)
    assert store_for(demo_env).get(nid) is None                       # soft: gone from the list …
    assert store_for(demo_env).get(nid, include_deleted=True)["deleted_at"]   # … but kept
    assert any("Notitie verwijderd" in s.value for s in at.success)
    shown = [t for t in texts(at) if "Spanning rond het winkelcentrum (bijgewerkt)" in t]
    # only in the beheerder's "Verwijderde notities" expander, with a restore button
    assert any(e.label == "Verwijderde notities (1)" for e in at.expander)
    assert len(shown) == 1 and at.button(key=f"lk_restore_{nid}")


# ---------------------------------------------------------------------------------- changes
def test_scheme_break_year_2023(demo_env):
    at = new_app(jaar=2023, niveau="buurt").run()
    no_exception(at)
    msgs = [w.value for w in at.warning]
    assert any("breuk 2022 → 2023" in m and "geen veranderingssignaal" in m.lower() for m in msgs), msgs
    # no change metrics at the break
    assert "Met een signaal" not in [m.label for m in at.metric]


def test_change_thresholds_flag_areas(demo_env):
    at = new_app(niveau="buurt").run()
    assert metric(at, "Met een signaal") == "0"
    at.number_input(key="lk_drempel_aandeel").set_value(0.5)
    at.number_input(key="lk_drempel_inwoners").set_value(1.0)
    at.number_input(key="lk_drempel_samenstelling").set_value(0.5).run()
    no_exception(at)
    assert int(metric(at, "Met een signaal")) > 0
    frames = [d.value for d in at.dataframe]
    flagged = [f for f in frames if "Waarom gemarkeerd" in f.columns]
    assert flagged and flagged[0]["Drempel"].str.contains("procentpunt|%").all()


def test_boundary_change_listed_2021_2022(demo_env):
    at = new_app(jaar=2022, niveau="buurt").run()
    no_exception(at)
    frames = [d.value for d in at.dataframe]
    bounds = [f for f in frames if "Toelichting" in f.columns and "Code" in f.columns]
    assert any((f["Code"] == "BU99010190").any() for f in bounds)


# ---------------------------------------------------------------------------------- real data
@pytest.fixture
def real_env(tmp_path, cbs_kwb2024, pdok_ede, cbs_env):
    cbs_env(cbs=cbs_kwb2024, pdok=pdok_ede, BUURTMONITOR_CACHE_DIR=tmp_path / "cache",
            BUURTMONITOR_DATA_DIR=tmp_path / "data")
    return tmp_path


@pytest.mark.slow
def test_ede_wijk_and_buurt_with_standins(real_env):
    at = new_app(gemeente="GM0228", jaar=2024, niveau="wijk").run()
    no_exception(at)
    assert not any(FICTITIOUS_LABEL in w.value for w in at.warning)
    assert [t.label for t in at.tabs] == list(view.TAB_LABELS)
    # real data: the national comparison is there
    assert any("Plaats" in m.value and "gemeenten" in m.value for m in at.markdown)
    # the clusters tab gives a map or a clear Dutch message, never an error
    chart_traces = [t.get("name", "") for s in plotly_specs(at).values() for t in s["data"]]
    has_cluster_map = any(n.startswith(tuple(clusters.CLUSTER_LABELS)) for n in chart_traces)
    assert has_cluster_map or any("grenzen" in i.value for i in at.info)

    # D shown for Ede buurten equals lokale_kaart.measures(...)
    st.cache_data.clear()
    at = new_app(gemeente="GM0228", jaar=2024, niveau="buurt").run()
    no_exception(at)
    table = repository.load_table(2024, "GM0228").table
    national = repository.load_table(2024, "alle").table
    expected = lokale_kaart.measures(table, "GM0228", "buurt", national=national)
    assert metric(at, "Ongelijkheidsindex D (twee groepen)") == formatting.index(expected.dissimilarity)
    rank = expected.national.ranks["dissimilarity"].rank
    assert any(f"Plaats {rank} van" in m.value for m in at.markdown)
    # no boundaries for Ede buurten in the PDOK stand-in: a message instead of a map
    assert any("niet te krijgen bij de bron van de grenzen" in i.value for i in at.info)


@pytest.mark.slow
def test_ede_wijk_cluster_map_from_pdok(real_env):
    """Ede's 17 wijken come from the PDOK stand-in, so the cluster map is drawn."""
    at = new_app(gemeente="GM0228", jaar=2024, niveau="wijk").run()
    no_exception(at)
    specs = plotly_specs(at)
    names = [t.get("name", "") for s in specs.values() for t in s["data"]]
    assert any(n.startswith(tuple(clusters.CLUSTER_LABELS)) for n in names), \
        [i.value for i in at.info]
    assert metric(at, "Moran's I")


@pytest.mark.slow
def test_amsterdam_with_standins(real_env):
    at = new_app(gemeente="GM0363", jaar=2024, niveau="wijk").run()
    no_exception(at)
    assert metric(at, "Ongelijkheidsindex D (twee groepen)") not in ("", "–")
    # the stand-in PDOK has only Ede: the cluster tab explains that there are no boundaries
    assert any("niet te krijgen bij de bron van de grenzen" in i.value for i in at.info)
    # 2023 is not in the CBS stand-in: the change tab says so in plain Dutch, without a command
    assert any("geen cijfers van 2023" in i.value and "CBS is bereikbaar, maar levert de tabel van 2023 niet"
               in i.value for i in at.info), [i.value for i in at.info]
    assert not any("python -m" in i.value for i in at.info)


def test_worksheet_text_has_context_and_verbatim_notes(demo_env):
    table = repository.demo_table(2024, "GM9901")
    data = presenters.PageData(year=2024, gemeente="GM9901", gemeente_name="Voorbeeldgemeente", level="buurt",
                               indicator="pct_herkomst_buiten_europa", table=table,
                               names=presenters.area_names(table, "GM9901", "buurt"),
                               all_names=presenters.all_area_names(table, "GM9901"))
    data.measures = lokale_kaart.measures(table, "GM9901", "buurt")
    notes = [{"id": 1, "section": "plekken", "text": XSS, "author": "A", "area_code": None,
              "updated_at": "2024-05-01T10:00:00+00:00"}]
    text = presenters.worksheet_text(data, notes)
    assert FICTITIOUS_LABEL in text and XSS in text
    for sec in ("Thema's en scheidslijnen", "Kerncijfers", "Bestaand beleid en lacunes"):
        assert sec.upper() in text
    assert formatting.index(data.measures.dissimilarity) in text


# ---------------------------------------------------------------------------------- notes: history
def proto_bytes(node) -> int:
    """Bytes of every element the run sent (the serialised protos of the element tree)."""
    proto = getattr(node, "proto", None)
    own = proto.ByteSize() if proto is not None and hasattr(proto, "ByteSize") else 0
    return own + sum(proto_bytes(c) for c in (getattr(node, "children", None) or {}).values())


def test_note_history_visible_delete_undo(demo_env):
    at = new_app().run()
    at = add_note(at, "groepen", "Jongeren bij het buurthuis", author="Sanne")
    nid = store_for(demo_env).list("GM9901")[0]["id"]
    at.button(key=f"lk_edit_open_{nid}").click().run()
    assert at.text_input(key=f"lk_edit_author_{nid}").value == "Sanne"    # the last name used
    at.text_area(key=f"lk_edit_text_{nid}").input("Jongeren en ouders bij het buurthuis")
    at.text_input(key=f"lk_edit_author_{nid}").input("Piet")
    at.button(key=f"lk_edit_save_{nid}").click().run()
    no_exception(at)
    assert any("versie 2" in s.value for s in at.success)
    assert any(t.startswith("— Sanne") and "versie 2, laatst gewijzigd" in t and "door Piet" in t
               for t in texts(at))
    at.button(key=f"lk_history_open_{nid}").click().run()             # "Geschiedenis (2 versies)"
    no_exception(at)
    shown = texts(at)
    assert any(t.startswith("Versie 1 · aangemaakt · Sanne") for t in shown)
    assert any(t.startswith("Versie 2 · gewijzigd · Piet") for t in shown)
    assert "Jongeren bij het buurthuis" in shown                       # the old text is visible

    at.button(key=f"lk_edit_open_{nid}").click().run()
    at.checkbox(key=f"lk_del_confirm_{nid}").check()
    at.button(key=f"lk_del_{nid}").click().run()
    assert store_for(demo_env).get(nid) is None
    at.button(key=f"lk_undo_{nid}").click().run()                     # undo straight away
    no_exception(at)
    assert any("teruggezet" in s.value for s in at.success)
    assert store_for(demo_env).get(nid)["text"] == "Jongeren en ouders bij het buurthuis"
    assert [h["action"] for h in store_for(demo_env).history(nid)] == [
        "aangemaakt", "gewijzigd", "verwijderd", "hersteld"]


def test_edit_based_on_an_older_version_is_refused_showing_the_newer_text(demo_env):
    at = new_app().run()
    at = add_note(at, "fase", "Onderstroom")
    store = store_for(demo_env)
    nid = store.list("GM9901")[0]["id"]
    at.button(key=f"lk_edit_open_{nid}").click().run()               # this session edits version 1
    newer = "Zichtbaar sinds de raadsvergadering " + XSS
    store.update(nid, newer, expected_version=1, author="Collega")   # a colleague saves first
    mine = "Onderstroom, maar rustig"
    at.text_area(key=f"lk_edit_text_{nid}").input(mine)
    at.button(key=f"lk_edit_save_{nid}").click().run()
    no_exception(at)
    assert any("intussen gewijzigd" in e.value and "niet opgeslagen" in e.value for e in at.error)
    assert newer in texts(at)                                          # the newer text, as text
    assert any("Versie 2 · Collega" in t for t in texts(at))
    assert not any("<script>" in b or "alert(1)" in b for b in markdown_bodies(at))
    assert store.get(nid)["text"] == newer                             # the colleague's edit holds
    assert at.text_area(key=f"lk_edit_text_{nid}").value == mine       # and mine is still there
    # a second, informed click saves over it; both stay in the history
    at.button(key=f"lk_edit_save_{nid}").click().run()
    no_exception(at)
    assert store.get(nid)["text"] == mine
    assert [h["text"] for h in store.history(nid)] == ["Onderstroom", newer, mine]
    # deleted by a colleague while this session edits: refused, and the text is not lost
    at.button(key=f"lk_edit_open_{nid}").click().run()
    store.delete(nid, author="Collega")
    at.text_area(key=f"lk_edit_text_{nid}").input("nog een aanvulling")
    at.button(key=f"lk_edit_save_{nid}").click().run()
    no_exception(at)
    assert any("is verwijderd" in e.value for e in at.error)
    assert "nog een aanvulling" in texts(at)
    assert store.get(nid) is None and store.get(nid, include_deleted=True)["text"] == mine


def test_note_of_only_invisible_characters_refused(demo_env):
    at = new_app().run()
    at = add_note(at, "themas", "\u200b\u200d\u2060 \u3164")
    no_exception(at)
    assert any("onzichtbare tekens" in e.value for e in at.error)
    assert store_for(demo_env).list("GM9901") == []
    at = add_note(at, "themas", "tekst", author="San\u200bne")
    assert any("naam" in e.value for e in at.error)
    assert store_for(demo_env).list("GM9901") == []


def test_many_notes_are_paged_and_the_page_stays_small(demo_env):
    at = new_app().run()
    empty = proto_bytes(at._tree)
    store = store_for(demo_env)
    body = "tekst " * 333                                               # ~2,000 characters
    for i in range(400):
        store.add("GM9901", "plekken" if i < 300 else "beleid", f"Notitie {i:03d}: {body}")
    at = new_app().run()
    no_exception(at)
    shown = [t for t in texts(at) if t.startswith("Notitie ")]
    assert len(shown) == 2 * view.NOTES_PER_PAGE                          # one page per section
    assert shown[0].startswith("Notitie 299") and shown[view.NOTES_PER_PAGE].startswith("Notitie 399")
    captions = [c.value for c in at.caption]
    assert "Notities 1–10 van 300 (nieuwste eerst) · pagina 1 van 30" in captions
    sent = proto_bytes(at._tree)
    # 400 notes of 2,000 characters: all on the page were ~1.9 MB; now the 20 shown ones
    assert sent - empty < 20 * 2_300 + 60_000, (empty, sent)
    at.button(key="lk_next_plekken").click().run()
    shown = [t for t in texts(at) if t.startswith("Notitie ")]
    assert shown[0].startswith("Notitie 289") and shown[view.NOTES_PER_PAGE - 1].startswith("Notitie 280")
    assert "Notities 11–20 van 300 (nieuwste eerst) · pagina 2 van 30" in [c.value for c in at.caption]
    at.button(key="lk_prev_plekken").click().run()
    assert [t for t in texts(at) if t.startswith("Notitie ")][0].startswith("Notitie 299")
    # a new note appears on top (page 1)
    at.button(key="lk_next_plekken").click().run()
    at = add_note(at, "plekken", "Nieuwste notitie")
    assert [t for t in texts(at) if t.startswith(("Notitie ", "Nieuwste"))][0] == "Nieuwste notitie"


# ---------------------------------------------------------------------------------- notes: browser
def _old_schema_notes(db: Path, n: int) -> None:
    """``n`` notes of ~2,000 characters in the notes table as it was before the history."""
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript("""CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, gemeente_code TEXT NOT NULL,
        year INTEGER, section TEXT NOT NULL, area_code TEXT, text TEXT NOT NULL, author TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);""")
    sections = [s.id for s in load_lokale_kaart().sections]
    body = "tekst " * 333
    conn.executemany(
        "INSERT INTO notes (gemeente_code, year, section, text, author, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [("GM9901", 2024, sections[i % 6], f"Notitie {i}: {body}", "Sanne",
          f"2024-05-01T10:00:00.{i:06d}+00:00", f"2024-05-01T10:00:00.{i:06d}+00:00") for i in range(n)])
    conn.commit()
    conn.close()


@pytest.mark.browser
def test_browser_400_notes_page_size_over_the_websocket(tmp_path):
    """The bytes the browser receives for the Lokale kaart page with 400 notes (an old-schema
    database, migrated by the server). Before paging: 2.40 MB at first load, 800 note texts
    in the page; now one page of 10 per section."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Chromium ontbreekt (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python-pakket playwright ontbreekt")
    _old_schema_notes(tmp_path / "data" / "notes" / "werkblad.sqlite", 400)
    env = {"BUURTMONITOR_DATA_DIR": str(tmp_path / "data"), "BUURTMONITOR_CACHE_DIR": str(tmp_path / "cache")}
    received: list[int] = []
    with streamlit_process(env) as (url, _proc), sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium),
                                    args=["--no-sandbox", "--headless", "--disable-gpu",
                                          "--disable-background-networking"])
        pg = browser.new_page(viewport={"width": 1440, "height": 1000})
        pg.on("websocket", lambda ws: ws.on("framereceived", lambda d: received.append(
            len(d) if isinstance(d, (bytes, bytearray)) else len(d.encode()))))
        pg.goto(f"{url}/lokale_kaart")
        pg.get_by_role("tab", name="Werkblad").click(timeout=120_000)
        pg.get_by_text("Notities 1–10 van 67 (nieuwste eerst)").first.wait_for(timeout=60_000)
        pg.wait_for_timeout(1500)
        first_load = sum(received)
        in_page = pg.get_by_text(re.compile(r"^Notitie \d+:")).count()
        pg.get_by_role("button", name="Oudere ›").first.click()
        pg.get_by_text("Notities 11–20 van 67 (nieuwste eerst)").first.wait_for(timeout=60_000)
        browser.close()
    assert in_page == 6 * view.NOTES_PER_PAGE
    assert first_load < 600_000, first_load
    assert NotesStore(tmp_path / "data" / "notes" / "werkblad.sqlite").count("GM9901") == 400


# ---------------------------------------------------------------------------------- shared store
def test_notes_through_the_page_into_postgresql(demo_env, pg_url, monkeypatch):
    """With BUURTMONITOR_DATABASE_URL the worksheet writes to and reads from PostgreSQL (no
    SQLite file is made); a note written by another process is on the next page."""
    monkeypatch.setenv("BUURTMONITOR_DATABASE_URL", pg_url)
    at = add_note(new_app().run(), "kerncijfers", "In PostgreSQL bewaard", author="Sanne")
    no_exception(at)
    pg = PgNotesStore(pg_url)
    assert [n["text"] for n in pg.list("GM9901", section="kerncijfers")] == ["In PostgreSQL bewaard"]
    assert not (demo_env / "data" / "notes" / "werkblad.sqlite").exists()
    pg.add("GM9901", "fase", "Van een collega op de andere server")
    again = new_app().run()
    no_exception(again)
    assert {"In PostgreSQL bewaard", "Van een collega op de andere server"} <= set(texts(again))


def test_an_emptied_notes_database_is_reported_not_shown_as_no_notes(demo_env):
    store = store_for(demo_env)
    store.add("GM9901", "themas", "Eerste notitie")
    store.add("GM9901", "fase", "Tweede notitie")
    at = new_app().run()
    no_exception(at)
    assert "Eerste notitie" in texts(at)
    for p in store.path.parent.glob("werkblad.sqlite*"):          # the file is lost or replaced
        if not p.name.endswith(".stand.json"):
            p.unlink()
    at = new_app().run()
    no_exception(at)
    errors = [e.value for e in at.error]
    assert any("leeggemaakt, vervangen of beschadigd" in e and "notes restore" in e for e in errors), errors
    assert not any(c.value.startswith("Nog geen notities") for c in at.caption)
