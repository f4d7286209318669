"""Commands that read or write files: ``table --from`` (a CBS download: kwb-JJJJ.xlsx/.csv or
the Wijk- en Buurtkaart GeoPackage), ``import`` (a gemeente's own figures by origin group) and
``voorbeeld-eigen-gegevens`` (the fictitious example file)."""

from __future__ import annotations

import sys
from pathlib import Path

from app.cli import EXIT_DATA, EXIT_USAGE, CliError
from app.cli_common import SOURCE_ERRORS, print_table
from buurtmonitor import formatting
from loaders import imports
from loaders import own_data as own_data_io
from loaders.files import UnsafeTarget

__all__ = ["SOURCE_ERRORS", "cmd_example_own_data", "cmd_import", "cmd_table"]


def cmd_table(args) -> int:
    """``table --from FILE``: the harmonised rows of a CBS download instead of the API."""
    path = Path(args.from_file)
    if not path.exists():
        raise CliError(f"Bestand niet gevonden: {path}", EXIT_USAGE)
    table = imports.read_any(path, year=args.year)
    if isinstance(table, tuple):
        table = table[0]
    if table.meta.year != args.year:
        print(f"Let op: het bestand bevat jaar {table.meta.year}, niet {args.year}.", file=sys.stderr)
    return print_table(table, args)


def cmd_import(args) -> int:
    """Check and store an own-data file: 0 stored (or checked), 2 row errors, 3 unreadable."""
    path = Path(args.file)
    try:
        result = own_data_io.import_file(path, gemeente=args.gemeente, check=args.check)
    except own_data_io.UnreadableFile as exc:
        raise CliError(f"{path.name} is niet te lezen: {exc} Er is niets ingelezen.", EXIT_DATA) from exc
    report = result.report
    for line in (*result.notes, *report.warnings):
        print(f"Let op: {line}", file=sys.stderr)
    if not report.ok:
        for err in report.errors:
            print(str(err), file=sys.stderr)
        print(f"Fout: {formatting.integer(len(report.errors))} fout(en) in {path.name}; er is niets ingelezen.",
              file=sys.stderr)
        return EXIT_USAGE
    if args.check or result.stored is None:
        print(f"Controle van {path.name} geslaagd ({result.gemeente}): {report.summary()} "
              "Er is niets opgeslagen (--check).")
    else:
        print(f"Ingelezen voor {result.gemeente} als set {result.stored.id} ({result.stored.provenance}): "
              f"{report.summary()}")
    return 0


def cmd_example_own_data(args) -> int:
    try:
        out, rows = own_data_io.write_example(args.out)
    except UnsafeTarget as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    print(f"Geschreven: {out} ({formatting.integer(rows)} rijen; FICTIEVE cijfers van de Voorbeeldgemeente, "
          "geen echte gegevens).", file=sys.stderr)
    return 0
