"""``python -m buurtmonitor notes backup|restore|check``: the worksheet notes as a consistent
JSON backup (every note and version), put back into an empty store, or checked for a database
that was emptied or damaged. Imported by the dispatcher (:mod:`app.cli`) only for these commands."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from app.cli import EXIT_DATA, EXIT_USAGE, CliError
from loaders import notes, notes_backup
from loaders.files import UnsafeTarget, write_atomic

#: exceptions of the notes database that end a command with a Dutch message (exit 3)
NOTES_ERRORS: tuple[type[BaseException], ...] = (notes.NotesSchemaError, sqlite3.Error)


def cmd_notes_backup(args) -> int:
    """All notes with every version (of one gemeente with --gemeente) as JSON, written atomically
    and readable by the owner only; ``--out -`` writes to standard output."""
    store = notes.open_store()
    data, backup = notes_backup.backup_bytes(store, args.gemeente)
    what = notes_backup.summary(len(backup.notes), len(backup.versions))
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        print(f"Back-up van {store.describe()} naar de uitvoer: {what}.", file=sys.stderr)
        return 0
    try:
        out = write_atomic(args.out, data, mode=0o600)
    except UnsafeTarget as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    print(f"Back-up van {store.describe()} geschreven naar {out}: {what}"
          + (f" (alleen {args.gemeente})" if args.gemeente else "") + ".", file=sys.stderr)
    return 0


def cmd_notes_restore(args) -> int:
    """Put a backup back into an empty store (or, with --replace, instead of what is there)."""
    path = Path(args.file)
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"Bestand niet gevonden: {path}. Er is niets teruggezet.", EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"{path} is niet te lezen ({exc.strerror}). Er is niets teruggezet.", EXIT_USAGE) from exc
    store = notes.open_store()
    try:
        report = notes_backup.restore(store, data, gemeente=args.gemeente, replace=args.replace)
    except notes_backup.BackupError as exc:
        raise CliError(f"{path.name}: {exc}", EXIT_DATA) from exc
    except notes.NotesNotEmptyError as exc:
        raise CliError(str(exc), EXIT_DATA) from exc
    print(f"Teruggezet in {report.where}: {notes_backup.summary(report.notes, report.versions)}"
          + (f" van {args.gemeente}" if args.gemeente else "") + ".", file=sys.stderr)
    if report.renumbered:
        print("Let op: de nummers van de notities waren in deze database al in gebruik; de teruggezette "
              "notities hebben nieuwe nummers gekregen.", file=sys.stderr)
    return 0


def cmd_notes_check(args) -> int:
    """0 when the notes database is readable and not smaller than before; 3 (with the reason) otherwise."""
    store = notes.open_store()
    store.verify()
    print(f"De notitiedatabase ({store.describe()}) is in orde.", file=sys.stderr)
    return 0
