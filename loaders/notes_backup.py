"""Backups of the worksheet notes: every note (deleted ones too) with every version, as one JSON
file, from either store (SQLite or PostgreSQL) into either store.

:func:`backup_bytes` reads the store in one consistent snapshot (one read transaction:
:meth:`loaders.notes.NotesRepository.dump`) and writes a JSON document with a SHA-256 over its
content. :func:`restore` checks the whole file first (format, checksum, every row, every note
with its complete history), then puts it back in one transaction
(:meth:`loaders.notes.NotesRepository.load`): all or nothing. A store that already holds notes
(of that gemeente, with ``gemeente``) is refused unless ``replace``. The CLI is
``python -m buurtmonitor notes backup|restore`` (:mod:`app.cli`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from buurtmonitor import formatting

from .notes import ACTIONS, NOTE_KEYS, SECTIONS, VERSION_KEYS, Note, NotesRepository, _validate_gemeente

FORMAT = "buurtmonitor-notities"
FORMAT_VERSION = 1
#: a backup larger than this is refused (10.000 notes of 10.000 characters with a few versions fit)
MAX_BYTES = 2_000_000_000


class BackupError(ValueError):
    """The backup file cannot be used (message in Dutch); nothing was changed."""


@dataclass(frozen=True)
class Backup:
    """A checked backup: its notes and versions and what it says about itself."""

    notes: list[Note]
    versions: list[dict[str, Any]]
    gemeente: str | None
    made_at: str
    source: str


@dataclass(frozen=True)
class RestoreReport:
    notes: int
    versions: int
    renumbered: bool
    where: str


def _digest(notes: list[Note], versions: list[dict[str, Any]]) -> str:
    canon = json.dumps({"notes": notes, "versions": versions}, sort_keys=True, ensure_ascii=False,
                       separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def backup_bytes(store: NotesRepository, gemeente: str | None = None) -> tuple[bytes, Backup]:
    """The JSON backup of ``store`` (of one gemeente, or all) and what is in it."""
    code = _validate_gemeente(gemeente) if gemeente is not None else None
    notes, versions = store.dump(code)
    made_at = datetime.now(UTC).isoformat(timespec="seconds")
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "made_at": made_at, "gemeente": code,
           "source": store.describe(), "counts": {"notes": len(notes), "versions": len(versions)},
           "sha256": _digest(notes, versions), "notes": notes, "versions": versions}
    data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    return data, Backup(notes, versions, code, made_at, store.describe())


def _fail(msg: str) -> BackupError:
    return BackupError(f"{msg} Er is niets teruggezet.")


def _check_rows(rows: Any, keys: tuple[str, ...], what: str) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) and tuple(sorted(r)) == tuple(sorted(keys))
                                             for r in rows):
        raise _fail(f"De back-up is onvolledig of van een ander formaat (de {what} hebben niet de verwachte velden).")
    return rows


def _text(value: Any, *, optional: bool = False) -> bool:
    return (optional and value is None) or isinstance(value, str)


def read_backup(data: bytes) -> Backup:
    """The checked content of a backup file; :class:`BackupError` (Dutch) when it is not one,
    is damaged, or its notes and histories do not fit together."""
    if len(data) > MAX_BYTES:
        raise _fail("Het bestand is te groot voor een back-up van notities.")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"Het bestand is geen leesbare back-up van notities (geen geldige JSON: {exc}).") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _fail("Het bestand is geen back-up van Buurtmonitor-notities.")
    if doc.get("format_version") != FORMAT_VERSION:
        raise _fail(f"De back-up heeft indeling {doc.get('format_version')!r}; deze versie van Buurtmonitor "
                    f"leest indeling {FORMAT_VERSION}.")
    notes = _check_rows(doc.get("notes"), NOTE_KEYS, "notities")
    versions = _check_rows(doc.get("versions"), VERSION_KEYS, "versies")
    if doc.get("sha256") != _digest(notes, versions):
        raise _fail("De back-up is beschadigd of gewijzigd (het controlegetal klopt niet).")
    gemeente = doc.get("gemeente")
    by_note: dict[int, list[dict[str, Any]]] = {}
    for v in versions:
        ok = (isinstance(v["note_id"], int) and isinstance(v["version"], int) and v["action"] in ACTIONS
              and _text(v["text"]) and _text(v["author"]) and _text(v["changed_at"]))
        if not ok:
            raise _fail(f"Versie {v.get('version')!r} van notitie {v.get('note_id')!r} in de back-up is ongeldig.")
        by_note.setdefault(v["note_id"], []).append(v)
    seen: set[int] = set()
    for n in notes:
        ok = (isinstance(n["id"], int) and n["id"] > 0 and n["id"] not in seen and isinstance(n["version"], int)
              and n["section"] in SECTIONS and (n["year"] is None or isinstance(n["year"], int))
              and all(_text(n[k]) for k in ("gemeente_code", "text", "author", "created_at", "updated_at",
                                            "updated_by"))
              and all(_text(n[k], optional=True) for k in ("area_code", "deleted_at", "deleted_by")))
        if not ok:
            raise _fail(f"Notitie {n.get('id')!r} in de back-up is ongeldig.")
        try:
            _validate_gemeente(n["gemeente_code"])
        except ValueError as exc:
            raise _fail(f"Notitie {n['id']} in de back-up: {exc}") from exc
        if gemeente is not None and n["gemeente_code"] != gemeente:
            raise _fail(f"Notitie {n['id']} in de back-up hoort niet bij {gemeente}.")
        seen.add(n["id"])
        hist = sorted(by_note.get(n["id"], []), key=lambda v: v["version"])
        if [v["version"] for v in hist] != list(range(1, n["version"] + 1)) or hist[-1]["text"] != n["text"]:
            raise _fail(f"De geschiedenis van notitie {n['id']} in de back-up is onvolledig.")
    if set(by_note) - seen:
        raise _fail("De back-up bevat versies van notities die er niet in staan.")
    return Backup(notes, versions, gemeente, str(doc.get("made_at") or ""), str(doc.get("source") or ""))


def restore(store: NotesRepository, data: bytes, *, gemeente: str | None = None,
            replace: bool = False) -> RestoreReport:
    """Put the backup ``data`` into ``store`` (only the notes of ``gemeente`` when given), in one
    transaction. :class:`BackupError` for a file that cannot be used,
    :class:`loaders.notes.NotesNotEmptyError` for a store that holds notes (without ``replace``)."""
    backup = read_backup(data)
    code = _validate_gemeente(gemeente) if gemeente is not None else None
    notes, versions = backup.notes, backup.versions
    if code is not None:
        notes = [n for n in notes if n["gemeente_code"] == code]
        keep = {n["id"] for n in notes}
        versions = [v for v in versions if v["note_id"] in keep]
        if not notes and backup.notes:
            raise _fail(f"De back-up bevat geen notities van {code}.")
    ids = store.load(notes, versions, gemeente_code=code, replace=replace)
    return RestoreReport(len(notes), len(versions), any(k != v for k, v in ids.items()), store.describe())


def summary(notes: int, versions: int) -> str:
    """'12 notities, 30 versies' in Dutch number format."""
    return (f"{formatting.integer(notes)} {'notitie' if notes == 1 else 'notities'}, "
            f"{formatting.integer(versions)} {'versie' if versions == 1 else 'versies'}")
