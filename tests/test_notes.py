"""Worksheet notes: CRUD, history (versions, soft delete, restore), no lost updates, roles,
limits and invisible text, paging, the migration from the schema without history, two writer
processes and a restart.

The tests take the store from the ``store``/``make_store`` fixtures, parametrised over the
implementations of :class:`loaders.notes.NotesRepository` in :data:`BACKENDS` (SQLite, and
PostgreSQL on the session's throwaway server with a fresh database per test): the same tests
run against each. Tests of what only SQLite has (its file, WAL, the migration of its old
schema) use it directly."""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
import tempfile
from pathlib import Path

import psycopg
import pytest

from loaders import notes as notes_mod
from loaders import notes_backup
from loaders.notes import (
    MAX_AUTHOR,
    MAX_TEXT,
    SECTIONS,
    NotAllowedError,
    NoteNotFoundError,
    NotesDamagedError,
    NotesNotEmptyError,
    NotesRepository,
    NotesSchemaError,
    NotesStore,
    SQLiteNotesStore,
    StaleNoteError,
)
from loaders.notes_pg import PgNotesStore

#: name -> factory(where) of a store; ``where`` comes from :func:`_where` (a file or a database URL)
BACKENDS = {"sqlite": lambda where: SQLiteNotesStore(where),
            "postgresql": lambda where: PgNotesStore(where)}


@pytest.fixture(params=sorted(BACKENDS))
def new_store(request, tmp_path: Path):
    """``new_store()``: a store of the backend on a fresh, empty location (a new file or a new
    database) each time it is called."""
    made = []

    def make() -> NotesRepository:
        if request.param == "postgresql":
            where = request.getfixturevalue("pg_database")()
        else:
            where = tmp_path / f"werkblad{len(made) or ''}.sqlite"
        made.append(where)
        return BACKENDS[request.param](where)

    return make


@pytest.fixture
def make_store(new_store):
    """A factory of stores on the same (backend, database): a second store = a restart."""
    first = new_store()
    where = first.url if isinstance(first, PgNotesStore) else first.path
    return lambda: type(first)(where)


@pytest.fixture
def store(make_store) -> NotesRepository:
    return make_store()


def test_sections():
    assert list(SECTIONS) == ["themas", "groepen", "plekken", "fase", "kerncijfers", "beleid"]
    titles = [s["title"] for s in SECTIONS.values()]
    assert titles == ["Thema's en scheidslijnen", "Groepen en hun rol", "Plekken",
                      "Fase van spanning", "Kerncijfers", "Bestaand beleid en lacunes"]
    assert all(s["prompt"].strip() for s in SECTIONS.values())


def test_crud_and_verbatim_text(store: NotesStore):
    text = "  Spanning rond het AZC – 'wij/zij' <b>niet</b> escapen; emoji 🙂\nregel 2  "
    nid = store.add("GM0228", "themas", text, author="Sanne", year=2024)
    other = store.add("GM0228", "plekken", "Winkelcentrum Veldhuizen",
                      area_code="BU02280301")
    store.add("GM0344", "themas", "andere gemeente")
    got = store.get(nid)
    assert got["text"] == text                       # stored verbatim
    assert got["author"] == "Sanne" and got["year"] == 2024 and got["area_code"] is None
    assert got["created_at"] == got["updated_at"]

    assert [n["id"] for n in store.list("GM0228")] == [nid, other]
    assert [n["id"] for n in store.list("GM0228", section="plekken")] == [other]
    assert [n["id"] for n in store.list("GM0228", area_code="BU02280301")] == [other]

    assert got["version"] == 1
    assert store.update(nid, "bijgewerkt", expected_version=1) == 2
    assert store.get(nid)["text"] == "bijgewerkt"
    assert store.get(nid)["updated_at"] >= store.get(nid)["created_at"]

    exported = store.export("GM0228")
    assert [n["section"] for n in exported] == ["themas", "plekken"]   # worksheet order
    assert exported[0]["section_title"] == "Thema's en scheidslijnen"

    store.delete(other)
    assert store.get(other) is None                                   # gone from the lists
    assert [n["id"] for n in store.list("GM0228")] == [nid]
    with pytest.raises(KeyError, match="al verwijderd"):
        store.delete(other)
    with pytest.raises(KeyError, match="verwijderd"):
        store.update(other, "x", expected_version=2)
    with pytest.raises(KeyError, match="bestaat niet"):
        store.update(10_000, "x", expected_version=1)


def test_validation_in_dutch(store: NotesStore):
    with pytest.raises(ValueError, match="leeg"):
        store.add("GM0228", "themas", "   \n ")
    with pytest.raises(ValueError, match="te lang"):
        store.add("GM0228", "themas", "x" * (MAX_TEXT + 1))
    store.add("GM0228", "themas", "x" * MAX_TEXT)  # exactly the maximum is fine
    with pytest.raises(ValueError, match="Onbekende rubriek"):
        store.add("GM0228", "onzin", "tekst")
    with pytest.raises(ValueError, match="gemeentecode"):
        store.add("", "themas", "tekst")
    nid = store.add("GM0228", "fase", "ok")
    with pytest.raises(ValueError, match="leeg"):
        store.update(nid, "", expected_version=1)
    assert store.get(nid)["text"] == "ok"


def test_default_path_from_settings(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    s = NotesStore()
    assert s.path == tmp_path / "data" / "notes" / "werkblad.sqlite"
    assert notes_mod.default_path() == s.path
    s.add("GM0228", "kerncijfers", "D = 0,33")
    with sqlite3.connect(s.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


def _writer(make_store, who: str, n: int, go) -> None:
    go.wait(30)                      # both processes start writing at the same moment
    store = make_store()             # both may create the (new) database concurrently
    for i in range(n):
        section = list(SECTIONS)[i % len(SECTIONS)]
        store.add("GM0228", section, f"{who}-{i}", author=who,
                  area_code=None if i % 2 else f"BU0228{i:04d}")


@pytest.mark.slow
def test_two_writer_processes_then_restart(make_store):
    ctx = mp.get_context("fork")     # the children inherit the factory (and its database)
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(make_store, who, 200, go)) for who in ("A", "B")]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]

    restarted = make_store()       # "restart": a fresh store on the same database
    got = restarted.export("GM0228")
    texts = sorted(n["text"] for n in got)
    expected = sorted(f"{who}-{i}" for who in ("A", "B") for i in range(200))
    assert texts == expected
    assert len({n["id"] for n in got}) == 400
    # the writes really interleaved (both writers were active at the same time)
    authors = [n["author"] for n in sorted(got, key=lambda n: n["id"])]
    switches = sum(1 for x, y in zip(authors, authors[1:]) if x != y)
    assert switches > 1
    assert len(restarted.list("GM0228", section="themas")) == 2 * len(range(0, 200, 6))


# ----------------------------------------------------------------------------- history
def test_every_change_is_a_version_with_who_and_when(store: NotesRepository):
    nid = store.add("GM0228", "groepen", "Eerste tekst", author="Sanne")
    assert store.update(nid, "Tweede tekst", expected_version=1, author="Piet") == 2
    assert store.update(nid, "Tweede tekst", expected_version=2, author="Piet") == 2   # no change
    assert store.delete(nid, expected_version=2, author="Ali") == 3
    assert store.get(nid) is None
    deleted = store.get(nid, include_deleted=True)
    assert deleted["deleted_by"] == "Ali" and deleted["deleted_at"] and deleted["version"] == 3
    assert store.restore(nid, author="Beheer") == 4
    note = store.get(nid)
    assert note["text"] == "Tweede tekst" and note["deleted_at"] is None and note["version"] == 4
    assert note["author"] == "Sanne" and note["updated_by"] == "Beheer"        # creator stays

    hist = store.history(nid)
    assert [(h["version"], h["action"], h["author"], h["text"]) for h in hist] == [
        (1, "aangemaakt", "Sanne", "Eerste tekst"),
        (2, "gewijzigd", "Piet", "Tweede tekst"),
        (3, "verwijderd", "Ali", "Tweede tekst"),
        (4, "hersteld", "Beheer", "Tweede tekst"),
    ]
    stamps = [h["changed_at"] for h in hist]
    assert stamps == sorted(stamps) and all(stamps)
    with pytest.raises(NoteNotFoundError, match="niet verwijderd"):
        store.restore(nid)
    with pytest.raises(KeyError, match="bestaat niet"):
        store.history(10_000)


def test_edit_on_an_older_version_is_refused_with_the_newer_text(store: NotesRepository):
    nid = store.add("GM0228", "fase", "Onderstroom", author="Sanne")
    # two colleagues opened version 1; Piet saves first
    store.update(nid, "Zichtbaar: demonstratie op het plein", expected_version=1, author="Piet")
    with pytest.raises(StaleNoteError) as err:
        store.update(nid, "Onderstroom, rustig", expected_version=1, author="Sanne")
    msg = str(err.value)
    assert "intussen gewijzigd" in msg and "niet opgeslagen" in msg and "Piet" in msg
    assert "Zichtbaar: demonstratie op het plein" in msg                  # the newer text is shown
    assert err.value.current["version"] == 2 and err.value.expected_version == 1
    assert store.get(nid)["text"] == "Zichtbaar: demonstratie op het plein"   # nothing lost
    assert len(store.history(nid)) == 2
    # a delete based on an older version is refused the same way
    with pytest.raises(StaleNoteError):
        store.delete(nid, expected_version=1)
    assert store.get(nid) is not None


def test_lost_update_race_between_processes(make_store):
    """Many processes edit the same note, each based on the version it read: every saved
    edit is a version, every refused one was told so; none is silently overwritten."""
    nid = make_store().add("GM0228", "themas", "start")
    ctx = mp.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_editor, args=(make_store, nid, f"P{i}", go, results)) for i in range(4)]
    for p in procs:
        p.start()
    go.set()
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    saved = [g for g in got if g[1] == "ok"]
    assert saved and all(g[1] in ("ok", "stale") for g in got)
    hist = make_store().history(nid)
    assert len(hist) == 1 + len(saved)                         # each saved edit is one version
    assert {h["text"] for h in hist[1:]} == {g[0] for g in saved}


def _editor(make_store, nid: int, who: str, go, results) -> None:
    store = make_store()
    seen = store.get(nid)["version"]
    go.wait(30)
    try:
        store.update(nid, f"tekst van {who}", expected_version=seen, author=who)
        results.put((f"tekst van {who}", "ok"))
    except StaleNoteError:
        results.put((f"tekst van {who}", "stale"))


def test_roles_plug_in(store: NotesRepository):
    nid = store.add("GM0228", "beleid", "Buurtbudget", role="schrijver")
    with pytest.raises(NotAllowedError, match="niet"):
        store.add("GM0228", "beleid", "x", role="lezer")
    with pytest.raises(NotAllowedError):
        store.update(nid, "x", expected_version=1, role="lezer")
    with pytest.raises(NotAllowedError):
        store.delete(nid, role="lezer")
    store.delete(nid, role="schrijver")
    with pytest.raises(NotAllowedError, match="beheerder"):
        store.restore(nid, role="schrijver")                 # only a beheerder restores
    assert store.get(nid) is None
    with pytest.raises(NotAllowedError):
        store.history(nid, role="schrijver")
    with pytest.raises(NotAllowedError, match="Onbekende rol"):
        store.add("GM0228", "beleid", "x", role="admin")
    store.restore(nid, role="beheerder")
    assert store.get(nid)["text"] == "Buurtbudget"
    # without login the user is beheerder
    assert notes_mod.LOCAL_ROLE == "beheerder" and notes_mod.can_restore(notes_mod.LOCAL_ROLE)


# ----------------------------------------------------------------------------- limits
@pytest.mark.parametrize("text", [
    "\u200b\u200b\u200b",                 # zero-width spaces
    "\u200d\ufeff\u2060\u00ad",           # zero-width joiner, BOM, word joiner, soft hyphen
    " \t\n\u00a0\u3000\u2028\u2029",      # whitespace of every kind
    "\u202e\u2066\u2069",                 # bidi controls
    "\u3164\u115f\u2800",                 # Hangul fillers, blank braille
    "\u0301\ufe0f",                       # combining mark and variation selector on nothing
])
def test_only_invisible_characters_are_refused(store: NotesRepository, text: str):
    with pytest.raises(ValueError, match="onzichtbare tekens|leeg"):
        store.add("GM0228", "themas", text)
    assert store.list("GM0228") == []


def test_control_characters_and_limits(store: NotesRepository):
    for bad in ("tekst\x00met nul", "bel\x07", "esc\x1b[31m", "\x7f"):
        with pytest.raises(ValueError, match="besturingstekens"):
            store.add("GM0228", "themas", bad)
    ok = store.add("GM0228", "themas", "kolom\tkolom\r\nregel 2 – ‘quote’ 🙂 مرحبا")
    assert store.get(ok)["text"] == "kolom\tkolom\r\nregel 2 – ‘quote’ 🙂 مرحبا"
    # a visible word with a zero-width space in it is fine (it is text)
    store.add("GM0228", "themas", "wij\u200bzij")
    # author: length, one line, no invisible characters (no look-alike names)
    store.add("GM0228", "themas", "x", author="a" * MAX_AUTHOR)
    assert store.get(store.add("GM0228", "themas", "x", author="  Sanne  "))["author"] == "Sanne"
    for author, why in (("a" * (MAX_AUTHOR + 1), "te lang"), ("San\u200bne", "onzichtbare"),
                        ("Sanne\nPiet", "regeleinden"), ("\u3164", "onzichtbare")):
        with pytest.raises(ValueError, match=why):
            store.add("GM0228", "themas", "x", author=author)
    with pytest.raises(ValueError, match="gebiedscode"):
        store.add("GM0228", "themas", "x", area_code="<script>")
    with pytest.raises(ValueError, match="jaar"):
        store.add("GM0228", "themas", "x", year=12345)
    with pytest.raises(ValueError, match="gemeentecode"):
        store.add("GM 0228; DROP", "themas", "x")
    nid = store.add("GM0228", "fase", "ok")
    with pytest.raises(ValueError, match="onzichtbare"):
        store.update(nid, "\u200b", expected_version=1)
    with pytest.raises(ValueError, match="te lang"):
        store.update(nid, "x" * (MAX_TEXT + 1), expected_version=1)
    assert store.get(nid)["version"] == 1 and len(store.history(nid)) == 1


# ----------------------------------------------------------------------------- paging
def test_paging_and_counts(store: NotesRepository):
    ids = [store.add("GM0228", "plekken", f"noot {i}", area_code="BU02280301" if i % 2 else None)
           for i in range(25)]
    store.add("GM0228", "fase", "andere rubriek")
    store.add("GM0344", "plekken", "andere gemeente")
    assert store.count("GM0228", "plekken") == 25
    assert store.count("GM0228", "plekken", area_code="BU02280301") == 12
    newest = store.list("GM0228", "plekken", newest_first=True, limit=10)
    assert [n["id"] for n in newest] == ids[::-1][:10]
    pages = [store.list("GM0228", "plekken", limit=10, offset=o) for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [n["id"] for p in pages for n in p] == ids
    assert store.list("GM0228", "plekken", limit=10, offset=30) == []
    store.delete(ids[0])
    assert store.counts("GM0228") == {"themas": 0, "groepen": 0, "plekken": 24, "fase": 1,
                                      "kerncijfers": 0, "beleid": 0}
    assert store.counts("GM0228", deleted=True)["plekken"] == 1
    assert [n["id"] for n in store.list("GM0228", deleted=True)] == [ids[0]]
    assert len(store.export("GM0228")) == 25                         # deleted notes not exported
    with pytest.raises(ValueError, match="per pagina"):
        store.list("GM0228", limit=0)
    with pytest.raises(ValueError, match="negatief"):
        store.list("GM0228", offset=-1)


def test_store_implements_the_interface(store: NotesRepository, monkeypatch, tmp_path: Path):
    """:func:`loaders.notes.open_store` chooses by BUURTMONITOR_DATABASE_URL (SQLite without it)."""
    assert isinstance(store, NotesRepository)
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    if isinstance(store, PgNotesStore):
        monkeypatch.setenv("BUURTMONITOR_DATABASE_URL", store.url)
        opened = notes_mod.open_store()
        assert isinstance(opened, PgNotesStore) and opened.url == store.url
    else:
        monkeypatch.delenv("BUURTMONITOR_DATABASE_URL", raising=False)
        opened = notes_mod.open_store()
        assert isinstance(opened, SQLiteNotesStore) and opened.path == tmp_path / "data" / "notes" / "werkblad.sqlite"
        assert isinstance(notes_mod.open_store(Path(store.path)), SQLiteNotesStore)
    assert isinstance(opened, NotesRepository)
    nid = store.add("GM0228", "themas", "via de ene")
    seen = opened.get(nid)             # the same database for PostgreSQL; another file for SQLite
    assert (seen is not None and seen["text"] == "via de ene") is isinstance(store, PgNotesStore)


# ----------------------------------------------------------------------------- backups
def _worksheet(store: NotesRepository) -> list[int]:
    """A few notes of two gemeenten with every kind of version: edited, deleted, restored,
    deleted for good, text that must survive byte for byte."""
    a = store.add("GM0228", "themas", "Spanning rond het AZC – ‘wij/zij’ <b>x</b> 🙂\r\nregel 2", author="Sanne",
                  year=2024)
    b = store.add("GM0228", "plekken", "Winkelcentrum", area_code="BU02280301")
    c = store.add("GM0344", "fase", "Onderstroom")
    store.update(a, "Tweede tekst", expected_version=1, author="Piet")
    store.delete(b, author="Ali")
    store.restore(b, author="Beheer")
    d = store.add("GM0228", "beleid", "weg")
    store.delete(d, author="Ali")
    return [a, b, c, d]


@pytest.mark.slow
def test_backup_restore_and_compare(new_store):
    """Backup -> restore into an empty store -> the same notes, versions and ids; a new note
    after the restore gets a new id; the restored store is verified as it is."""
    source = new_store()
    ids = _worksheet(source)
    data, backup = notes_backup.backup_bytes(source)
    assert len(backup.notes) == 4 and len(backup.versions) == 8
    target = new_store()
    report = notes_backup.restore(target, data)
    assert (report.notes, report.versions, report.renumbered) == (4, 8, False)
    assert target.dump() == source.dump()                                  # restore-and-compare
    assert target.history(ids[0]) == source.history(ids[0])
    assert target.get(ids[3]) is None and target.get(ids[3], include_deleted=True)["deleted_by"] == "Ali"
    assert target.export("GM0228") == source.export("GM0228")
    target.verify()
    assert target.add("GM0228", "themas", "na het terugzetten") > max(ids)
    # a second backup of the restored store holds the same content
    again = notes_backup.read_backup(notes_backup.backup_bytes(target)[0])
    assert again.notes[:4] == backup.notes and again.versions[:8] == backup.versions


@pytest.mark.slow
def test_backup_of_one_gemeente_and_restore_over_a_full_store(new_store):
    source = new_store()
    _worksheet(source)
    data, backup = notes_backup.backup_bytes(source, "GM0228")
    assert {n["gemeente_code"] for n in backup.notes} == {"GM0228"} and len(backup.notes) == 3
    target = new_store()
    keep = target.add("GM0344", "fase", "eigen notitie van een andere gemeente")
    target.add("GM0228", "themas", "komt in de weg")
    before = target.dump()
    with pytest.raises(NotesNotEmptyError, match="--replace"):
        notes_backup.restore(target, data, gemeente="GM0228")
    assert target.dump() == before                                         # nothing changed
    report = notes_backup.restore(target, data, gemeente="GM0228", replace=True)
    assert report.notes == 3 and report.renumbered                         # ids 1, 2 were taken
    assert target.get(keep)["text"] == "eigen notitie van een andere gemeente"   # other gemeente kept
    assert sorted(n["text"] for n in target.dump("GM0228")[0]) == sorted(n["text"] for n in backup.notes)
    assert [len(target.history(n["id"])) for n in target.dump("GM0228")[0]] == [2, 3, 2]
    target.verify()                                                        # fewer versions, but restored


@pytest.mark.parametrize("damage, why", [
    (lambda d: d[: len(d) // 2], "geen geldige JSON"),
    (lambda d: d.replace(b"Tweede tekst", b"Andere tekst"), "controlegetal"),
    (lambda d: b'{"format": "iets anders"}', "geen back-up"),
    (lambda d: d.replace(b'"format_version": 1', b'"format_version": 9'), "indeling"),
])
@pytest.mark.slow
def test_a_damaged_backup_is_refused_and_changes_nothing(new_store, damage, why):
    source = new_store()
    _worksheet(source)
    data, _ = notes_backup.backup_bytes(source)
    target = new_store()
    with pytest.raises(notes_backup.BackupError, match=why):
        notes_backup.restore(target, damage(data))
    assert target.dump() == ([], [])


def test_a_backup_with_an_incomplete_history_is_refused(new_store):
    source = new_store()
    _worksheet(source)
    data, backup = notes_backup.backup_bytes(source)
    versions = [v for v in backup.versions if not (v["note_id"] == backup.notes[0]["id"] and v["version"] == 1)]
    doc = {"format": notes_backup.FORMAT, "format_version": 1, "notes": backup.notes, "versions": versions,
           "sha256": notes_backup._digest(backup.notes, versions)}
    target = new_store()
    with pytest.raises(notes_backup.BackupError, match="geschiedenis van notitie"):
        notes_backup.restore(target, json.dumps(doc).encode())
    assert target.dump() == ([], [])


def test_backup_moves_from_sqlite_to_postgresql_and_back(tmp_path: Path, pg_url):
    lite = SQLiteNotesStore(tmp_path / "werkblad.sqlite")
    _worksheet(lite)
    pg = PgNotesStore(pg_url)
    notes_backup.restore(pg, notes_backup.backup_bytes(lite)[0])
    assert pg.dump() == lite.dump()
    back = SQLiteNotesStore(tmp_path / "terug.sqlite")
    notes_backup.restore(back, notes_backup.backup_bytes(pg)[0])
    assert back.dump() == lite.dump()


def _empty_behind_its_back(store: NotesRepository) -> None:
    """What an accident does: the SQLite file replaced by an empty one; the PostgreSQL tables emptied."""
    if isinstance(store, PgNotesStore):
        with psycopg.connect(store.url) as conn:
            conn.execute("TRUNCATE buurtmonitor_note_versions, buurtmonitor_notes")
        return
    for p in store.path.parent.glob(store.path.name + "*"):
        if not p.name.endswith(".stand.json"):
            p.unlink()


def test_an_emptied_database_is_reported_not_shown_as_empty(make_store):
    store = make_store()
    store.verify()                                   # a new, empty store is fine
    _worksheet(store)
    store.verify()
    _empty_behind_its_back(store)
    reopened = make_store()                          # SQLite: a new, empty file is made
    assert reopened.counts("GM0228") == dict.fromkeys(SECTIONS, 0)
    with pytest.raises(NotesDamagedError, match="eerder 8 in stonden.*leeggemaakt, vervangen of beschadigd"):
        reopened.verify()
    assert isinstance(NotesDamagedError("x"), OSError)   # the page reports it as a read error
    # putting the backup back makes it whole again
    restored = make_store()
    source = SQLiteNotesStore(Path(tempfile.mkdtemp()) / "bron.sqlite")
    _worksheet(source)
    notes_backup.restore(restored, notes_backup.backup_bytes(source)[0])
    restored.verify()


def test_a_damaged_sqlite_file_is_a_dutch_message(tmp_path: Path):
    path = tmp_path / "werkblad.sqlite"
    _worksheet(SQLiteNotesStore(path))
    path.write_bytes(b"dit is geen database " * 400)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with pytest.raises(NotesDamagedError, match="beschadigd"):
        SQLiteNotesStore(path)


# ----------------------------------------------------------------------------- migration
#: The notes schema before the history (schema 0), as databases in use have it.
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    gemeente_code TEXT    NOT NULL,
    year          INTEGER,
    section       TEXT    NOT NULL,
    area_code     TEXT,
    text          TEXT    NOT NULL,
    author        TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_gemeente_section ON notes (gemeente_code, section);
"""


def _old_database(path: Path, n: int = 50) -> list[tuple]:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [(i + 1, "GM0228" if i % 3 else "GM0344", 2024 if i % 2 else None, list(SECTIONS)[i % 6],
             None if i % 4 else f"BU0228{i:04d}", f"oude notitie {i} <b>verbatim</b>\nregel",
             "Sanne" if i % 2 else "", f"2024-05-01T10:{i:02d}:00.000000+00:00",
             f"2024-06-01T10:{i:02d}:00.000000+00:00") for i in range(n)]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(OLD_SCHEMA)
    conn.executemany("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return rows


def test_migration_from_the_schema_without_history_keeps_every_note(tmp_path: Path):
    path = tmp_path / "notes" / "werkblad.sqlite"
    rows = _old_database(path)
    store = NotesStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == notes_mod.SCHEMA_VERSION
    old_cols = ("id", "gemeente_code", "year", "section", "area_code", "text", "author",
                "created_at", "updated_at")
    got = [store.get(r[0]) for r in rows]
    assert [tuple(n[c] for c in old_cols) for n in got] == rows          # every field kept
    assert all(n["version"] == 1 and n["deleted_at"] is None for n in got)
    assert all(n["updated_by"] == n["author"] for n in got)
    assert store.history(rows[5][0]) == [{"note_id": rows[5][0], "version": 1, "action": "overgenomen",
                                         "text": rows[5][5], "author": rows[5][6],
                                         "changed_at": rows[5][8]}]
    assert len(store.export("GM0228")) == sum(1 for r in rows if r[1] == "GM0228")
    # the migrated notes work like the others: edit, stale edit, delete, restore, new notes
    nid = rows[1][0]
    store.update(nid, "nieuw", expected_version=1, author="Piet")
    with pytest.raises(StaleNoteError):
        store.update(nid, "oud", expected_version=1)
    new = store.add("GM0228", "themas", "na de migratie")
    assert new == len(rows) + 1
    # opening it again (another process, a restart) changes nothing
    again = NotesStore(path)
    assert again.get(nid)["text"] == "nieuw" and len(again.history(nid)) == 2
    assert again.count("GM0228") == sum(1 for r in rows if r[1] == "GM0228") + 1


def _opener(path: str, go, results) -> None:
    go.wait(30)
    try:
        NotesStore(path)
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(repr(exc))


def test_migration_by_two_processes_at_once(tmp_path: Path):
    path = tmp_path / "werkblad.sqlite"
    rows = _old_database(path, n=200)
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(str(path), go, results)) for _ in range(3)]
    for p in procs:
        p.start()
    go.set()
    assert [results.get(timeout=60) for _ in procs] == ["ok"] * 3
    for p in procs:
        p.join(timeout=60)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM note_versions").fetchone()[0] == len(rows)
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == len(rows)


def test_failed_migration_changes_nothing(tmp_path: Path, monkeypatch):
    path = tmp_path / "werkblad.sqlite"
    rows = _old_database(path, n=5)
    monkeypatch.setattr(notes_mod, "_MIGRATE_1", notes_mod._MIGRATE_1 + ("SELECT * FROM no_such_table",))
    with pytest.raises(sqlite3.OperationalError):
        NotesStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        assert [r[1] for r in conn.execute("PRAGMA table_info(notes)")] == [
            "id", "gemeente_code", "year", "section", "area_code", "text", "author",
            "created_at", "updated_at"]
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == len(rows)
    monkeypatch.undo()
    assert NotesStore(path).count("GM0228") + NotesStore(path).count("GM0344") == len(rows)


def test_a_newer_schema_is_refused_untouched(tmp_path: Path):
    path = tmp_path / "werkblad.sqlite"
    NotesStore(path).add("GM0228", "themas", "x")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(NotesSchemaError, match="nieuwere versie"):
        NotesStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


def test_postgresql_connections_are_reused_and_survive_their_end(pg_url):
    """The store keeps idle connections (one per operation would cost ~25 ms each) and notices
    when the server ended them (a restart, an idle timeout): the next operation simply works."""
    store = PgNotesStore(pg_url)
    nid = store.add("GM0228", "themas", "voor het einde")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        pids = {r[0] for r in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'buurtmonitor-notities'")}
        assert pids                                               # an idle connection is kept
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert store.get(nid)["text"] == "voor het einde"
    with pytest.raises(StaleNoteError):
        store.update(nid, "x", expected_version=9)
    assert store.update(nid, "na het einde", expected_version=1) == 2   # the refused edit left nothing open
