"""Worksheet notes for the lokale-kaart analysis, with their history.

The storage interface is :class:`NotesRepository` (a Protocol); :class:`SQLiteNotesStore`
(alias :data:`NotesStore`) implements it on one SQLite file,
``<data_dir>/notes/werkblad.sqlite`` (``data_dir`` from :func:`loaders.settings.get_settings`,
env ``BUURTMONITOR_DATA_DIR``) or a path of your own. :func:`open_store` is the one place that
chooses the implementation, so another backend (PostgreSQL) plugs in there.

History. Every change is a new *version* of a note, kept with who and when
(:meth:`NotesRepository.history`): ``aangemaakt``, ``gewijzigd``, ``verwijderd``,
``hersteld`` (and ``overgenomen`` for a note that came from the store before it kept a
history). A delete is soft: the note leaves the lists but stays, and a beheerder can restore
it. An edit names the version it was based on (``expected_version``); when the note has
changed since, the edit is refused with :class:`StaleNoteError`, which carries the newer
note, so nobody's edit silently overwrites a colleague's.

Roles. Each write takes ``role`` (``lezer``, ``schrijver``, ``beheerder``; see
:func:`can_write`, :func:`can_restore`, :func:`can_see_history`). Without a login (the
embedded single-user default) the user is :data:`LOCAL_ROLE`, beheerder; a login layer
passes the role it knows.

Limits. Text at most :data:`MAX_TEXT` characters and not only invisible characters
(whitespace, zero-width and other format characters, control characters, fillers); no
control characters other than tab and newline. Author at most :data:`MAX_AUTHOR` characters
on one line, without control or format characters (no zero-width look-alike names). Text is
stored exactly as typed (no stripping, no HTML escaping: escape when rendering).

Concurrency (SQLite). WAL journal, a busy timeout, a new connection per operation and
``BEGIN IMMEDIATE`` for every write, so two writers (Streamlit sessions, processes) wait for
each other instead of losing a note. The schema carries its version in ``PRAGMA
user_version``; a database of an older version is migrated in place, in one transaction,
without losing a note.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import sqlite3
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from buurtmonitor import formatting

from .files import write_atomic
from .settings import get_settings

log = logging.getLogger(__name__)

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
MAX_AUTHOR = 80
MAX_CODE = 32
BUSY_TIMEOUT_MS = 30_000
#: Version of the SQLite schema (``PRAGMA user_version``). 0: the notes table without history.
SCHEMA_VERSION = 1

#: Roles per gemeente, weakest first.
ROLES = ("lezer", "schrijver", "beheerder")
#: The role of the user when there is no login (the embedded single-user default).
LOCAL_ROLE = "beheerder"

#: What a version records, in Dutch (shown in the history).
ACTIONS = {
    "aangemaakt": "aangemaakt",
    "gewijzigd": "gewijzigd",
    "verwijderd": "verwijderd",
    "hersteld": "hersteld",
    "overgenomen": "overgenomen uit de opslag zonder geschiedenis (eerdere versies onbekend)",
}

#: Keys of a note (a dict) as every implementation returns it.
NOTE_KEYS = ("id", "gemeente_code", "year", "section", "area_code", "text", "author",
             "created_at", "updated_at", "version", "updated_by", "deleted_at", "deleted_by")
#: Keys of one version in :meth:`NotesRepository.history`.
VERSION_KEYS = ("note_id", "version", "action", "text", "author", "changed_at")

Note = dict[str, Any]


# ----------------------------------------------------------------------------- errors
class NoteNotFoundError(KeyError):
    """The note does not exist (or is deleted, where that matters). Message in Dutch."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Notitie niet gevonden."


class NotAllowedError(PermissionError):
    """The role does not allow this change. Message in Dutch."""


class StaleNoteError(RuntimeError):
    """An edit was based on an older version. ``current`` is the newer note (a dict)."""

    def __init__(self, current: Note, expected_version: int) -> None:
        self.current = current
        self.expected_version = int(expected_version)
        who = current.get("updated_by") or "onbekend"
        super().__init__(
            f"Deze notitie is intussen gewijzigd (versie {current['version']} van {who}, "
            f"{_local_time(current.get('updated_at'))}; u bewerkte versie {self.expected_version}). "
            f"Uw wijziging is niet opgeslagen. De nieuwere tekst is:\n{current['text']}")


class NotesSchemaError(RuntimeError):
    """The notes database has a schema this version does not know (newer). Dutch message."""


class NotesUnavailableError(OSError):
    """The notes database cannot be reached or read now. Dutch message."""


class NotesDamagedError(NotesUnavailableError):
    """The notes database is damaged, or holds fewer notes or versions than it did before
    (emptied, replaced or restored from an old copy): reported, never shown as "no notes yet"."""


class NotesNotEmptyError(ValueError):
    """A restore into a store that already holds notes (without ``replace``). Dutch message."""


# ----------------------------------------------------------------------------- high-water mark
#: What a store remembers of its own size (the most versions and the highest note id it ever
#: held), so that an emptied or replaced database is noticed (:meth:`NotesRepository.verify`).
Tally = tuple[int, int]


def check_tally(seen: Tally | None, now: Tally, where: str) -> None:
    """:class:`NotesDamagedError` when ``now`` (versions, highest id) is below what was ``seen``."""
    if seen is None or (now[0] >= seen[0] and now[1] >= seen[1]):
        return
    raise NotesDamagedError(
        f"De notitiedatabase ({where}) bevat {formatting.integer(now[0])} versies van notities, terwijl er "
        f"eerder {formatting.integer(seen[0])} in stonden: ze is leeggemaakt, vervangen of beschadigd. "
        "De notities worden daarom niet getoond. Zet een back-up terug met "
        "'python -m buurtmonitor notes restore --file <back-up> --replace', of vraag het de beheerder.")


# ----------------------------------------------------------------------------- roles
def _role(role: str) -> str:
    if role not in ROLES:
        raise NotAllowedError(f"Onbekende rol '{role}'. Kies uit: {', '.join(ROLES)}.")
    return role


def can_write(role: str) -> bool:
    """schrijver and beheerder may add, edit and delete notes."""
    return _role(role) in ("schrijver", "beheerder")


def can_restore(role: str) -> bool:
    """Only a beheerder may restore a deleted note."""
    return _role(role) == "beheerder"


def can_see_history(role: str) -> bool:
    """Only a beheerder sees the earlier versions and the deleted notes."""
    return _role(role) == "beheerder"


def _require(allowed: bool, what: str) -> None:
    if not allowed:
        raise NotAllowedError(f"U mag {what} niet; vraag het een beheerder van deze gemeente.")


# ----------------------------------------------------------------------------- validation
#: Characters that show nothing although Unicode calls them letters or symbols (fillers,
#: blank braille, invisible Khmer vowels, the Mongolian vowel separator).
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")
#: Categories that show nothing on their own: controls, format (zero-width, bidi), surrogates,
#: private use, unassigned, separators, and combining marks (nothing to sit on).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn"})
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_CODE_RE = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_CODE}}}")


def is_invisible(ch: str) -> bool:
    """True for a character that shows nothing on its own."""
    return ch.isspace() or ch in _BLANK_LOOKALIKES or unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def validate_text(text: Any) -> str:
    """``text`` unchanged when it may be stored; ValueError in Dutch otherwise."""
    if not isinstance(text, str):
        raise ValueError("De notitie moet tekst zijn.")
    if not text.strip():
        raise ValueError("De notitie is leeg. Schrijf eerst iets op.")
    if len(text) > MAX_TEXT:
        raise ValueError(f"De notitie is te lang ({formatting.integer(len(text))} tekens); het maximum is "
                         f"{formatting.integer(MAX_TEXT)} tekens.")
    bad = sorted({f"U+{ord(c):04X}" for c in text
                  if (unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS)
                  or unicodedata.category(c) == "Cs"})
    if bad:
        raise ValueError("De notitie bevat besturingstekens die niet getoond kunnen worden "
                         f"({', '.join(bad[:5])}). Haal ze weg en probeer het opnieuw.")
    if all(is_invisible(c) for c in text):
        raise ValueError("De notitie bevat alleen onzichtbare tekens (spaties, tekens zonder "
                         "breedte of besturingstekens). Schrijf eerst iets op.")
    return text


def validate_author(author: Any) -> str:
    """The author, surrounding whitespace removed ('' = unknown); ValueError in Dutch."""
    if author is None:
        return ""
    if not isinstance(author, str):
        raise ValueError("De naam moet tekst zijn.")
    author = author.strip()
    if len(author) > MAX_AUTHOR:
        raise ValueError(f"De naam is te lang ({formatting.integer(len(author))} tekens); het maximum is "
                         f"{formatting.integer(MAX_AUTHOR)} tekens.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in author):
        raise ValueError("De naam mag geen regeleinden, tekens zonder breedte of andere "
                         "onzichtbare besturingstekens bevatten.")
    if author and all(is_invisible(c) for c in author):
        raise ValueError("De naam bevat alleen onzichtbare tekens. Laat het veld leeg of vul een naam in.")
    return author


def _validate_section(section: Any) -> str:
    if section not in SECTIONS:
        raise ValueError(f"Onbekende rubriek '{section}'. Kies uit: "
                         f"{', '.join(SECTIONS)}.")
    return str(section)


def _validate_gemeente(code: Any) -> str:
    if not isinstance(code, str) or not code.strip():
        raise ValueError("Geef een gemeentecode op (bijvoorbeeld GM0228).")
    code = code.strip()
    if not _CODE_RE.fullmatch(code):
        raise ValueError(f"Ongeldige gemeentecode (bijvoorbeeld GM0228; hoogstens {MAX_CODE} letters en cijfers).")
    return code


def _validate_area(code: Any) -> str | None:
    if code is None or code == "":
        return None
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise ValueError(f"Ongeldige gebiedscode (bijvoorbeeld BU02280301; hoogstens {MAX_CODE} "
                         f"letters en cijfers).")
    return code


def _validate_year(year: Any) -> int | None:
    if year is None:
        return None
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise ValueError("Ongeldig jaar voor de notitie (een jaartal tussen 1900 en 2100).")
    return int(year)


def _validate_page(limit: int | None, offset: int) -> None:
    if limit is not None and (isinstance(limit, bool) or int(limit) < 1):
        raise ValueError("Het aantal notities per pagina moet minstens 1 zijn.")
    if isinstance(offset, bool) or int(offset) < 0:
        raise ValueError("De beginpositie van een pagina kan niet negatief zijn.")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _local_time(iso: Any) -> str:
    try:
        return datetime.fromisoformat(str(iso)).astimezone().strftime("%d-%m-%Y %H:%M")
    except ValueError:
        return str(iso or "")[:16]


def default_path() -> Path:
    """``<data_dir>/notes/werkblad.sqlite`` from the current settings."""
    return get_settings().data_dir / "notes" / "werkblad.sqlite"


def export_order(notes: list[Note]) -> list[Note]:
    """``notes`` in worksheet order (section order, then oldest first), each with
    ``section_title`` added."""
    order = {key: i for i, key in enumerate(SECTIONS)}
    out = sorted(notes, key=lambda n: (order.get(n["section"], len(order)), n["created_at"], n["id"]))
    for n in out:
        n["section_title"] = SECTIONS.get(n["section"], {}).get("title", n["section"])
    return out


# ----------------------------------------------------------------------------- interface
@runtime_checkable
class NotesRepository(Protocol):
    """What the app, the briefing and the CLI need of a notes store. Every method validates
    its input (ValueError in Dutch); notes are dicts with :data:`NOTE_KEYS`."""

    def add(self, gemeente_code: str, section: str, text: str, area_code: str | None = None,
            author: str = "", year: int | None = None, *, role: str = LOCAL_ROLE) -> int:
        """Store a new note (version 1); returns its id."""
        ...

    def update(self, note_id: int, text: str, *, expected_version: int, author: str = "",
               role: str = LOCAL_ROLE) -> int:
        """A new version with ``text``; returns the new version number (the same one when the
        text did not change). :class:`StaleNoteError` when the note is no longer at
        ``expected_version``; :class:`NoteNotFoundError` when it does not exist or is deleted."""
        ...

    def delete(self, note_id: int, *, expected_version: int | None = None, author: str = "",
               role: str = LOCAL_ROLE) -> int:
        """Soft delete (a new version); returns the new version number."""
        ...

    def restore(self, note_id: int, *, author: str = "", role: str = LOCAL_ROLE) -> int:
        """Undo a delete (beheerder only; a new version); returns the new version number."""
        ...

    def get(self, note_id: int, *, include_deleted: bool = False) -> Note | None:
        """One note, or None (also for a deleted note unless ``include_deleted``)."""
        ...

    def list(self, gemeente_code: str, section: str | None = None, area_code: str | None = None, *,
             deleted: bool = False, newest_first: bool = False, limit: int | None = None,
             offset: int = 0) -> builtins.list[Note]:
        """Notes of a gemeente (optionally one section / one area), oldest first (or newest
        first), a page of ``limit`` from ``offset``; ``deleted=True``: the deleted ones."""
        ...

    def count(self, gemeente_code: str, section: str | None = None, area_code: str | None = None, *,
              deleted: bool = False) -> int:
        """How many notes :meth:`list` would give without a limit."""
        ...

    def counts(self, gemeente_code: str, area_code: str | None = None, *,
               deleted: bool = False) -> dict[str, int]:
        """:meth:`count` for every section at once (every key of :data:`SECTIONS`)."""
        ...

    def history(self, note_id: int, *, role: str = LOCAL_ROLE) -> builtins.list[dict[str, Any]]:
        """Every version of a note, oldest first (dicts with :data:`VERSION_KEYS`)."""
        ...

    def export(self, gemeente_code: str) -> builtins.list[Note]:
        """The notes of a gemeente that are not deleted, in worksheet order (:func:`export_order`)."""
        ...

    def verify(self) -> None:
        """Raise :class:`NotesDamagedError` when the database is damaged or holds fewer versions
        or a lower highest note id than it once did (see :func:`check_tally`)."""
        ...

    def dump(self, gemeente_code: str | None = None) -> tuple[builtins.list[Note], builtins.list[dict[str, Any]]]:
        """Every note (deleted ones too) and every version, of one gemeente or all, read in one
        consistent snapshot, ordered by id and version (for a backup)."""
        ...

    def load(self, notes: builtins.list[Note], versions: builtins.list[dict[str, Any]], *,
             gemeente_code: str | None = None, replace: bool = False) -> dict[int, int]:
        """Put backed-up notes and versions back, in one transaction (all or nothing).
        :class:`NotesNotEmptyError` when the store (or the gemeente) already holds notes and not
        ``replace``; with ``replace`` those are removed first. Ids are kept unless one is taken;
        then every restored note gets a new id. Returns {old id: new id}."""
        ...

    def describe(self) -> str:
        """Where the notes are, in Dutch (for messages)."""
        ...


def renumber(ids: builtins.list[int], taken: set[int], next_id: int) -> dict[int, int]:
    """{old: new}: the ids unchanged when none of them is taken, else all renumbered from ``next_id``."""
    if not taken.intersection(ids):
        return {i: i for i in ids}
    return {old: next_id + k for k, old in enumerate(sorted(ids))}


# ----------------------------------------------------------------------------- SQLite
_CREATE = (
    """CREATE TABLE IF NOT EXISTS notes (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        gemeente_code TEXT    NOT NULL,
        year          INTEGER,
        section       TEXT    NOT NULL,
        area_code     TEXT,
        text          TEXT    NOT NULL,
        author        TEXT    NOT NULL DEFAULT '',
        created_at    TEXT    NOT NULL,
        updated_at    TEXT    NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS notes_gemeente_section ON notes (gemeente_code, section)",
)
#: Schema 0 -> 1: version, who changed last, soft delete; one row per version.
_MIGRATE_1_COLUMNS = (
    ("version", "INTEGER NOT NULL DEFAULT 1"),
    ("updated_by", "TEXT NOT NULL DEFAULT ''"),
    ("deleted_at", "TEXT"),
    ("deleted_by", "TEXT"),
)
_MIGRATE_1 = (
    """CREATE TABLE IF NOT EXISTS note_versions (
        note_id    INTEGER NOT NULL REFERENCES notes (id),
        version    INTEGER NOT NULL,
        action     TEXT    NOT NULL,
        text       TEXT    NOT NULL,
        author     TEXT    NOT NULL DEFAULT '',
        changed_at TEXT    NOT NULL,
        PRIMARY KEY (note_id, version)
    )""",
    # every note of the old store becomes version 1, "overgenomen" (its earlier texts were not kept)
    """INSERT OR IGNORE INTO note_versions (note_id, version, action, text, author, changed_at)
       SELECT id, 1, 'overgenomen', text, author, updated_at FROM notes""",
    "UPDATE notes SET updated_by = author",
    "CREATE INDEX IF NOT EXISTS notes_listing ON notes (gemeente_code, deleted_at, section, created_at)",
)


class SQLiteNotesStore:
    """:class:`NotesRepository` on one SQLite file. Cheap to create; holds no open connection."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise
            raise NotesDamagedError(f"De notitiedatabase {self.path.name} is beschadigd en kan niet worden "
                                    f"gelezen ({exc}). Zet een back-up terug met 'python -m buurtmonitor "
                                    "notes restore'.") from exc

    @property
    def marker_path(self) -> Path:
        """The high-water mark beside the database (``werkblad.sqlite.stand.json``): outside the
        file, so that it survives the file being emptied, replaced or removed."""
        return self.path.with_name(self.path.name + ".stand.json")

    def describe(self) -> str:
        return f"bestand {self.path.name}"

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
    def _write(self, *, exact_mark: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the write lock up front. After the commit
        the high-water mark beside the file is raised (``exact_mark``: set, after a restore)."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                tally = self._tally(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
        self._mark(tally, exact=exact_mark)

    @staticmethod
    def _tally(conn: sqlite3.Connection) -> Tally:
        row = conn.execute("SELECT (SELECT COUNT(*) FROM note_versions), "
                           "(SELECT COALESCE(MAX(id), 0) FROM notes)").fetchone()
        return int(row[0]), int(row[1])

    def _seen(self) -> Tally | None:
        try:
            raw = json.loads(self.marker_path.read_text(encoding="utf-8"))
            return int(raw["versions"]), int(raw["max_id"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise NotesDamagedError(f"Het controlebestand {self.marker_path.name} naast de notitiedatabase "
                                    f"is onleesbaar ({exc}).") from exc

    def _mark(self, tally: Tally, *, exact: bool = False) -> None:
        try:
            seen = None if exact else self._seen()
        except NotesDamagedError:
            seen = None
        if seen is not None:
            tally = (max(tally[0], seen[0]), max(tally[1], seen[1]))
            if tally == seen:
                return
        try:
            write_atomic(self.marker_path, json.dumps({"versions": tally[0], "max_id": tally[1]}).encode(),
                         mode=0o600)
        except OSError as exc:  # the note itself is saved; only the check is weaker
            log.warning("Controlebestand %s niet bijgewerkt: %s", self.marker_path, exc)

    def _init_schema(self) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn = self._connect()
                try:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if str(mode).lower() != "wal":  # pragma: no cover - e.g. network FS
                        raise sqlite3.OperationalError(f"journal_mode={mode}")
                    if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                        self._migrate(conn)
                finally:
                    conn.close()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the schema to :data:`SCHEMA_VERSION` in one transaction (all or nothing);
        another process may be doing the same, so the version is read under the lock."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise NotesSchemaError(
                    f"De notitiedatabase {self.path.name} is gemaakt door een nieuwere versie van "
                    f"Buurtmonitor (schema {version}, deze versie kent {SCHEMA_VERSION}). Er is niets "
                    f"gewijzigd; werk Buurtmonitor bij.")
            if version < 1:
                for sql in _CREATE:
                    conn.execute(sql)
                have = {r["name"] for r in conn.execute("PRAGMA table_info(notes)")}
                for name, decl in _MIGRATE_1_COLUMNS:
                    if name not in have:
                        conn.execute(f"ALTER TABLE notes ADD COLUMN {name} {decl}")
                for sql in _MIGRATE_1:
                    conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _note(row: sqlite3.Row) -> Note:
        return {k: row[k] for k in NOTE_KEYS}

    def _current(self, conn: sqlite3.Connection, note_id: int) -> Note:
        row = conn.execute("SELECT * FROM notes WHERE id = ?", (int(note_id),)).fetchone()
        if row is None:
            raise NoteNotFoundError(f"Notitie {note_id} bestaat niet (meer).")
        return self._note(row)

    @staticmethod
    def _new_version(conn: sqlite3.Connection, note: Note, action: str, text: str, author: str,
                     now: str, *, deleted: bool) -> int:
        version = int(note["version"]) + 1
        cur = conn.execute(
            "UPDATE notes SET text = ?, version = ?, updated_at = ?, updated_by = ?, "
            "deleted_at = ?, deleted_by = ? WHERE id = ? AND version = ?",
            (text, version, now, author, now if deleted else None, author if deleted else None,
             int(note["id"]), int(note["version"])))
        if cur.rowcount != 1:  # pragma: no cover - the write lock is held; belt and braces
            raise StaleNoteError(note, int(note["version"]))
        conn.execute("INSERT INTO note_versions (note_id, version, action, text, author, changed_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (int(note["id"]), version, action, text, author, now))
        return version

    @staticmethod
    def _where(gemeente_code: str, section: str | None, area_code: str | None,
               deleted: bool) -> tuple[str, builtins.list[Any]]:
        sql = " WHERE gemeente_code = ? AND deleted_at IS " + ("NOT NULL" if deleted else "NULL")
        args: builtins.list[Any] = [_validate_gemeente(gemeente_code)]
        if section is not None:
            sql += " AND section = ?"
            args.append(_validate_section(section))
        if area_code is not None:
            sql += " AND area_code = ?"
            args.append(area_code)
        return sql, args

    # -- API ---------------------------------------------------------------------------

    def add(self, gemeente_code: str, section: str, text: str, area_code: str | None = None,
            author: str = "", year: int | None = None, *, role: str = LOCAL_ROLE) -> int:
        _require(can_write(role), "geen notities schrijven")
        gemeente_code = _validate_gemeente(gemeente_code)
        _validate_section(section)
        validate_text(text)
        author = validate_author(author)
        area = _validate_area(area_code)
        year = _validate_year(year)
        now = _now()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO notes (gemeente_code, year, section, area_code, text, author, "
                "created_at, updated_at, version, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (gemeente_code, year, section, area, text, author, now, now, author))
            assert cur.lastrowid is not None  # an INSERT always sets it
            conn.execute("INSERT INTO note_versions (note_id, version, action, text, author, changed_at) "
                         "VALUES (?, 1, 'aangemaakt', ?, ?, ?)", (cur.lastrowid, text, author, now))
            return int(cur.lastrowid)

    def update(self, note_id: int, text: str, *, expected_version: int, author: str = "",
               role: str = LOCAL_ROLE) -> int:
        _require(can_write(role), "geen notities wijzigen")
        validate_text(text)
        author = validate_author(author)
        with self._write() as conn:
            note = self._current(conn, note_id)
            if note["deleted_at"] is not None:
                raise NoteNotFoundError(f"Notitie {note_id} is verwijderd; er is niets gewijzigd.")
            if int(note["version"]) != int(expected_version):
                raise StaleNoteError(note, int(expected_version))
            if note["text"] == text:
                return int(note["version"])
            return self._new_version(conn, note, "gewijzigd", text, author, _now(), deleted=False)

    def delete(self, note_id: int, *, expected_version: int | None = None, author: str = "",
               role: str = LOCAL_ROLE) -> int:
        _require(can_write(role), "geen notities verwijderen")
        author = validate_author(author)
        with self._write() as conn:
            note = self._current(conn, note_id)
            if note["deleted_at"] is not None:
                raise NoteNotFoundError(f"Notitie {note_id} is al verwijderd.")
            if expected_version is not None and int(note["version"]) != int(expected_version):
                raise StaleNoteError(note, int(expected_version))
            return self._new_version(conn, note, "verwijderd", note["text"], author, _now(), deleted=True)

    def restore(self, note_id: int, *, author: str = "", role: str = LOCAL_ROLE) -> int:
        _require(can_restore(role), "geen verwijderde notities terugzetten")
        author = validate_author(author)
        with self._write() as conn:
            note = self._current(conn, note_id)
            if note["deleted_at"] is None:
                raise NoteNotFoundError(f"Notitie {note_id} is niet verwijderd; er is niets teruggezet.")
            return self._new_version(conn, note, "hersteld", note["text"], author, _now(), deleted=False)

    def get(self, note_id: int, *, include_deleted: bool = False) -> Note | None:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM notes WHERE id = ?", (int(note_id),)).fetchone()
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            return None
        return self._note(row)

    def list(self, gemeente_code: str, section: str | None = None, area_code: str | None = None, *,
             deleted: bool = False, newest_first: bool = False, limit: int | None = None,
             offset: int = 0) -> builtins.list[Note]:
        _validate_page(limit, offset)
        where, args = self._where(gemeente_code, section, area_code, deleted)
        sql = "SELECT * FROM notes" + where
        sql += " ORDER BY created_at DESC, id DESC" if newest_first else " ORDER BY created_at, id"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            args += [-1 if limit is None else int(limit), int(offset)]
        with self._read() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [self._note(r) for r in rows]

    def count(self, gemeente_code: str, section: str | None = None, area_code: str | None = None, *,
              deleted: bool = False) -> int:
        where, args = self._where(gemeente_code, section, area_code, deleted)
        with self._read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM notes" + where, args).fetchone()[0])

    def counts(self, gemeente_code: str, area_code: str | None = None, *,
               deleted: bool = False) -> dict[str, int]:
        where, args = self._where(gemeente_code, None, area_code, deleted)
        with self._read() as conn:
            rows = conn.execute("SELECT section, COUNT(*) AS n FROM notes" + where + " GROUP BY section",
                                args).fetchall()
        got = {r["section"]: int(r["n"]) for r in rows}
        return {key: got.get(key, 0) for key in SECTIONS}

    def history(self, note_id: int, *, role: str = LOCAL_ROLE) -> builtins.list[dict[str, Any]]:
        _require(can_see_history(role), "de geschiedenis van notities niet inzien")
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM note_versions WHERE note_id = ? ORDER BY version",
                                (int(note_id),)).fetchall()
        if not rows:
            raise NoteNotFoundError(f"Notitie {note_id} bestaat niet (meer).")
        return [{k: r[k] for k in VERSION_KEYS} for r in rows]

    def export(self, gemeente_code: str) -> builtins.list[Note]:
        return export_order(self.list(gemeente_code))

    def verify(self) -> None:
        seen = self._seen()
        try:
            with self._read() as conn:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                tally = self._tally(conn)
        except sqlite3.DatabaseError as exc:
            raise NotesDamagedError(f"De notitiedatabase {self.path.name} is beschadigd ({exc}).") from exc
        if str(check).lower() != "ok":
            raise NotesDamagedError(f"De notitiedatabase {self.path.name} is beschadigd (controle: {check}).")
        check_tally(seen, tally, self.describe())

    def dump(self, gemeente_code: str | None = None) -> tuple[builtins.list[Note], builtins.list[dict[str, Any]]]:
        where, args = "", []
        if gemeente_code is not None:
            where, args = " WHERE n.gemeente_code = ?", [_validate_gemeente(gemeente_code)]
        with self._read() as conn:
            conn.execute("BEGIN")                         # one snapshot for both tables
            rows = conn.execute("SELECT n.* FROM notes n" + where + " ORDER BY n.id", args).fetchall()
            vers = conn.execute("SELECT v.* FROM note_versions v JOIN notes n ON n.id = v.note_id" + where
                                + " ORDER BY v.note_id, v.version", args).fetchall()
            conn.execute("COMMIT")
        return [self._note(r) for r in rows], [{k: r[k] for k in VERSION_KEYS} for r in vers]

    def load(self, notes: builtins.list[Note], versions: builtins.list[dict[str, Any]], *,
             gemeente_code: str | None = None, replace: bool = False) -> dict[int, int]:
        scope, args = "", []
        if gemeente_code is not None:
            scope, args = " WHERE gemeente_code = ?", [_validate_gemeente(gemeente_code)]
        with self._write(exact_mark=True) as conn:
            present = int(conn.execute("SELECT COUNT(*) FROM notes" + scope, args).fetchone()[0])
            if present and not replace:
                raise NotesNotEmptyError(
                    f"Er staan al {formatting.integer(present)} notities in {self.describe()}"
                    + (f" voor {gemeente_code}" if gemeente_code else "")
                    + "; er is niets teruggezet. Gebruik --replace om ze te vervangen door de back-up.")
            if present:
                conn.execute("DELETE FROM note_versions WHERE note_id IN (SELECT id FROM notes" + scope + ")", args)
                conn.execute("DELETE FROM notes" + scope, args)
            taken = {int(r[0]) for r in conn.execute("SELECT id FROM notes")}
            next_id = max([*taken, *(int(r[0]) for r in conn.execute("SELECT seq FROM sqlite_sequence "
                                                                    "WHERE name = 'notes'"))], default=0) + 1
            ids = renumber([int(n["id"]) for n in notes], taken, next_id)
            conn.executemany(f"INSERT INTO notes ({', '.join(NOTE_KEYS)}) VALUES ({', '.join('?' * len(NOTE_KEYS))})",
                             [tuple(ids[int(n['id'])] if k == "id" else n[k] for k in NOTE_KEYS) for n in notes])
            conn.executemany(f"INSERT INTO note_versions ({', '.join(VERSION_KEYS)}) "
                             f"VALUES ({', '.join('?' * len(VERSION_KEYS))})",
                             [tuple(ids[int(v['note_id'])] if k == "note_id" else v[k] for k in VERSION_KEYS)
                              for v in versions])
        return ids


#: The default implementation under its historic name.
NotesStore = SQLiteNotesStore


def open_store(path: str | Path | None = None) -> NotesRepository:
    """The notes store of this installation, the one place that chooses the backend: SQLite at
    ``path`` when given; else PostgreSQL when ``BUURTMONITOR_DATABASE_URL`` is set
    (:class:`loaders.notes_pg.PgNotesStore`); else SQLite at :func:`default_path`."""
    if path is None:
        url = get_settings().database_url
        if url:
            return notes_pg.PgNotesStore(url)
    return SQLiteNotesStore(path)


from . import notes_pg  # noqa: E402 - notes_pg builds on the definitions above
