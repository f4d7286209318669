"""Worksheet notes for the lokale-kaart analysis, stored in SQLite.

One table ``notes(id, gemeente_code, year, section, area_code, text, author, created_at,
updated_at)`` in ``<data_dir>/notes/werkblad.sqlite`` (``data_dir`` from
:func:`loaders.settings.get_settings`, env ``BUURTMONITOR_DATA_DIR``), or a path of your own.

Safe for several threads and processes (Streamlit sessions, the CLI): WAL journal, a busy
timeout, a new connection per operation and ``BEGIN IMMEDIATE`` transactions for every
write, so two writers wait for each other instead of losing a note. Text is stored exactly
as typed (no stripping, no HTML escaping: escape when rendering).
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from buurtmonitor import formatting

from .settings import get_settings

#: Worksheet sections: key -> (Dutch title, one-line prompt). Order = order on the page.
SECTIONS: dict[str, dict[str, str]] = {
    "themas": {
        "title": "Thema's en scheidslijnen",
        "prompt": "Over welke onderwerpen lopen de meningen uiteen, en langs welke lijnen "
                  "(wij–zij, oud–nieuw, wijk–wijk)?",
    },
    "groepen": {
        "title": "Groepen en hun rol",
        "prompt": "Welke groepen spelen een rol, wie zijn de bruggenbouwers, wie de "
                  "aanjagers en wie het stille midden?",
    },
    "plekken": {
        "title": "Plekken",
        "prompt": "Waar speelt het: welke buurten, straten, pleinen of voorzieningen, en "
                  "wat gebeurt daar?",
    },
    "fase": {
        "title": "Fase van spanning",
        "prompt": "Hoe ver is de spanning opgelopen (onderstroom, zichtbaar, escalatie) en "
                  "waaraan zie je dat?",
    },
    "kerncijfers": {
        "title": "Kerncijfers",
        "prompt": "Welke cijfers van de kaart zijn belangrijk voor het verhaal, en wat is "
                  "hun beperking?",
    },
    "beleid": {
        "title": "Bestaand beleid en lacunes",
        "prompt": "Wat wordt er al gedaan, door wie, en wat ontbreekt nog?",
    },
}

MAX_TEXT = 10_000
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
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

_COLUMNS = ("id", "gemeente_code", "year", "section", "area_code", "text", "author",
            "created_at", "updated_at")


def default_path() -> Path:
    """``<data_dir>/notes/werkblad.sqlite`` from the current settings."""
    return get_settings().data_dir / "notes" / "werkblad.sqlite"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _validate_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ValueError("De notitie moet tekst zijn.")
    if not text.strip():
        raise ValueError("De notitie is leeg. Schrijf eerst iets op.")
    if len(text) > MAX_TEXT:
        raise ValueError(f"De notitie is te lang ({formatting.integer(len(text))} tekens); het maximum is "
                         f"{formatting.integer(MAX_TEXT)} tekens.")
    return text


def _validate_section(section: str) -> str:
    if section not in SECTIONS:
        raise ValueError(f"Onbekende rubriek '{section}'. Kies uit: "
                         f"{', '.join(SECTIONS)}.")
    return section


def _validate_gemeente(code: Any) -> str:
    if not isinstance(code, str) or not code.strip():
        raise ValueError("Geef een gemeentecode op (bijvoorbeeld GM0228).")
    return code.strip()


class NotesStore:
    """Notes in one SQLite file. Cheap to create; holds no open connection."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None)  # autocommit; explicit BEGIN below
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the write lock up front."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _init_schema(self) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn = self._connect()
                try:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if str(mode).lower() != "wal":  # pragma: no cover - e.g. network FS
                        raise sqlite3.OperationalError(f"journal_mode={mode}")
                    conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
                finally:
                    conn.close()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # -- API ---------------------------------------------------------------------------

    def add(self, gemeente_code: str, section: str, text: str, area_code: str | None = None,
            author: str = "", year: int | None = None) -> int:
        """Store a note; returns its id."""
        gemeente_code = _validate_gemeente(gemeente_code)
        _validate_section(section)
        _validate_text(text)
        now = _now()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO notes (gemeente_code, year, section, area_code, text, author, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (gemeente_code, None if year is None else int(year), section,
                 area_code or None, text, author or "", now, now))
            assert cur.lastrowid is not None  # an INSERT always sets it
            return int(cur.lastrowid)

    def update(self, note_id: int, text: str) -> None:
        """Replace the text of a note. KeyError (Dutch) when it no longer exists."""
        _validate_text(text)
        with self._write() as conn:
            cur = conn.execute("UPDATE notes SET text = ?, updated_at = ? WHERE id = ?",
                               (text, _now(), int(note_id)))
            if cur.rowcount == 0:
                raise KeyError(f"Notitie {note_id} bestaat niet (meer).")

    def delete(self, note_id: int) -> None:
        """Delete a note. KeyError (Dutch) when it no longer exists."""
        with self._write() as conn:
            cur = conn.execute("DELETE FROM notes WHERE id = ?", (int(note_id),))
            if cur.rowcount == 0:
                raise KeyError(f"Notitie {note_id} bestaat niet (meer).")

    def get(self, note_id: int) -> dict[str, Any] | None:
        """One note as a dict, or None."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM notes WHERE id = ?", (int(note_id),)).fetchone()
        return None if row is None else {k: row[k] for k in _COLUMNS}

    def list(self, gemeente_code: str, section: str | None = None,
             area_code: str | None = None) -> list[dict[str, Any]]:
        """Notes of a gemeente (optionally one section / one area), oldest first."""
        sql = "SELECT * FROM notes WHERE gemeente_code = ?"
        args: list[Any] = [_validate_gemeente(gemeente_code)]
        if section is not None:
            sql += " AND section = ?"
            args.append(_validate_section(section))
        if area_code is not None:
            sql += " AND area_code = ?"
            args.append(area_code)
        sql += " ORDER BY created_at, id"
        with self._read() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [{k: r[k] for k in _COLUMNS} for r in rows]

    def export(self, gemeente_code: str) -> builtins.list[dict[str, Any]]:
        """All notes of a gemeente in worksheet order (section order, then oldest first),
        each with ``section_title`` added."""
        order = {key: i for i, key in enumerate(SECTIONS)}
        notes = self.list(gemeente_code)
        notes.sort(key=lambda n: (order.get(n["section"], len(order)), n["created_at"], n["id"]))
        for n in notes:
            n["section_title"] = SECTIONS.get(n["section"], {}).get("title", n["section"])
        return notes
