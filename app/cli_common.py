"""What the data commands of ``python -m buurtmonitor`` share: the harmonised rows of ``table``
(from the data path or from a CBS download) and the errors that mean "the source is not
reachable" (exit 4). Imported by the command modules, never by the dispatcher (:mod:`app.cli`)."""

from __future__ import annotations

import sys

import pandas as pd

from app.cli import CliError
from app.cli_output import write
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.model import AreaTable
from loaders.http import SourceUnavailable
from loaders.repository import DataUnavailable

#: exceptions that end a command with "de bron is niet bereikbaar" (exit 4)
SOURCE_ERRORS: tuple[type[BaseException], ...] = (SourceUnavailable, DataUnavailable)


def harmonised_rows(table: AreaTable, level: str) -> pd.DataFrame:
    """One row per area of ``level``: code, name, level, population, every origin group count,
    then the other variables (column names from the catalogue)."""
    cat = load_catalogue()
    d = table.data[table.data["level"] == level]
    scheme = cat.schemes[table.meta.scheme]
    origin = [g.variable for g in scheme.groups]
    other = [v for v in table.variables if v not in origin and v != "inwoners"
             and table.data[v].notna().any()]
    cols = ["code", "name", "level", "gemeente_code", "year", "inwoners"] + origin + other
    out = d[cols].copy()
    for c in ["inwoners"] + origin + other:
        if cat.variables[c].unit == "aantal":
            out[c] = out[c].round(0).astype("Int64")
    return out.reset_index(drop=True)


def print_table(table: AreaTable, args) -> int:
    """``table``: the rows of ``args.level`` (of ``args.gemeente`` when given) and the source line."""
    d = table.data
    if args.gemeente:
        num = args.gemeente[2:]
        keep = (d["code"] == args.gemeente) | d["code"].str.startswith(("WK" + num, "BU" + num))
        if args.level == "gemeente":
            keep = d["code"] == args.gemeente
        table = table.select(keep)
    rows = harmonised_rows(table, args.level)
    if rows.empty:
        raise CliError(f"Geen gebieden op niveau '{args.level}' voor {args.gemeente or 'dit bestand'} in {args.year}.")
    write(rows, args.format)
    print(table.meta.source_line(), file=sys.stderr)
    return 0
