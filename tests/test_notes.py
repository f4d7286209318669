"""Worksheet notes (SQLite, WAL): CRUD, validation, two writer processes, restart."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pytest

from loaders import notes as notes_mod
from loaders.notes import MAX_TEXT, SECTIONS, NotesStore


@pytest.fixture
def store(tmp_path: Path) -> NotesStore:
    return NotesStore(tmp_path / "werkblad.sqlite")


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

    store.update(nid, "bijgewerkt")
    assert store.get(nid)["text"] == "bijgewerkt"
    assert store.get(nid)["updated_at"] >= store.get(nid)["created_at"]

    exported = store.export("GM0228")
    assert [n["section"] for n in exported] == ["themas", "plekken"]   # worksheet order
    assert exported[0]["section_title"] == "Thema's en scheidslijnen"

    store.delete(other)
    assert store.get(other) is None
    with pytest.raises(KeyError, match="bestaat niet"):
        store.delete(other)
    with pytest.raises(KeyError, match="bestaat niet"):
        store.update(other, "x")


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
        store.update(nid, "")
    assert store.get(nid)["text"] == "ok"


def test_default_path_from_settings(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    s = NotesStore()
    assert s.path == tmp_path / "data" / "notes" / "werkblad.sqlite"
    assert notes_mod.default_path() == s.path
    s.add("GM0228", "kerncijfers", "D = 0,33")
    with sqlite3.connect(s.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


def _writer(path: str, who: str, n: int, go) -> None:
    go.wait(30)                      # both processes start writing at the same moment
    store = NotesStore(path)         # both may create the (new) database concurrently
    for i in range(n):
        section = list(SECTIONS)[i % len(SECTIONS)]
        store.add("GM0228", section, f"{who}-{i}", author=who,
                  area_code=None if i % 2 else f"BU0228{i:04d}")


def test_two_writer_processes_then_restart(tmp_path: Path):
    path = tmp_path / "notes" / "werkblad.sqlite"
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(path), who, 200, go)) for who in ("A", "B")]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]

    restarted = NotesStore(path)   # "restart": a fresh store on the same file
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
