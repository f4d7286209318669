"""``integratie``: every indicator by origin group of a gemeente (the CBS tables by origin and
the gemeente's own figures): value, n, gap to herkomst Nederland, one row per indicator x
group x year x table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from app.cli import EXIT_DATA, EXIT_SOURCE, EXIT_USAGE, CliError
from app.cli_common import SOURCE_ERRORS
from buurtmonitor import formatting
from buurtmonitor.briefing.sentences import year_ranges
from buurtmonitor.integratie import table as origin_table
from buurtmonitor.integratie.sentences import key_figures
from buurtmonitor.model import FICTITIOUS_LABEL
from loaders.by_origin import load_by_origin
from loaders.files import UnsafeTarget, write_atomic

__all__ = ["SOURCE_ERRORS", "cmd_integratie", "integratie_bytes"]


def integratie_bytes(rows: pd.DataFrame, fmt: str) -> bytes:
    """The rows of ``integratie`` as CSV (decimal point, for programs) or JSON (records, null
    for a missing value)."""
    if fmt == "csv":
        return rows.to_csv(index=False, lineterminator="\n").encode("utf-8")
    records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
               for rec in rows.astype(object).to_dict("records")]
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def cmd_integratie(args) -> int:
    """Every indicator by origin group of one gemeente (one row per indicator x group x year x
    table): 0 written, 2 bad input, 3 unknown gemeente or year, 4 no table could be loaded."""
    out = Path(args.out) if args.out else None
    if out is not None and not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise CliError(f"De map '{out.parent}' bestaat niet; maak die eerst aan of kies een andere plek "
                       "voor --out.", EXIT_USAGE)
    got = load_by_origin(args.gemeente)
    frame = got.frame
    mine = frame[(frame["gemeente_code"] == args.gemeente) & (frame["level"] == "gemeente")]
    if mine.empty:
        unreachable = [p for p in got.problems if "kon nu niet" in p.message]
        if unreachable and not got.sources:
            raise CliError("de cijfers naar herkomst konden niet worden geladen: "
                           + " ".join(p.message for p in unreachable), EXIT_SOURCE)
        tables = ", ".join([p.table_id for p in got.sources] + [p.table_id for p in got.problems])
        raise CliError(f"Gemeente {args.gemeente} komt niet voor in de CBS-tabellen naar herkomst "
                       f"({tables or 'geen tabel geladen'}).", EXIT_DATA)
    name = str(mine["gemeente_name"].dropna().iloc[0]) if mine["gemeente_name"].notna().any() else args.gemeente
    years = origin_table.years_of(frame, args.gemeente)
    if args.year is not None and args.year not in years:
        raise CliError(f"Geen cijfers naar herkomst voor {name} in {args.year}. Jaren met cijfers: "
                       f"{year_ranges(years) or 'geen'}.", EXIT_DATA)
    rows = origin_table.indicator_rows(frame, args.gemeente, year=args.year)
    if got.fictitious:
        rows.insert(0, "let_op", FICTITIOUS_LABEL)
    data = integratie_bytes(rows, args.format)
    for problem in got.problems:
        print(f"Let op: {problem.message}", file=sys.stderr)
    for warning in got.warnings:
        print(f"Let op: {warning}", file=sys.stderr)
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
    else:
        try:
            write_atomic(out, data)
        except UnsafeTarget as exc:
            raise CliError(str(exc), EXIT_USAGE) from exc
        print(f"Geschreven: {out} ({formatting.integer(len(rows))} rijen)", file=sys.stderr)
    kf = key_figures(frame, args.gemeente, year=args.year, place=name)
    if kf is not None:
        print(kf.sentences[0], file=sys.stderr)
    for line in dict.fromkeys([*(p.source_line() for p in got.sources), *got.own_sources]):
        print(line, file=sys.stderr)
    if got.fictitious:
        print(f"Let op: {FICTITIOUS_LABEL}.", file=sys.stderr)
    return 0
