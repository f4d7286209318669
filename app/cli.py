"""Command line: ``python -m buurtmonitor <command>``.

fetch       load statistics and boundaries of one gemeente into the cache
table       print the harmonised table (one row per area)
indicators  list the indicator ids of the catalogue
indices     segregation and diversity measures of one gemeente (lokale kaart)
export      export a chart/map/table of one indicator (png, svg, pdf, csv, xlsx, pptx)
integratie  every indicator by origin group of a gemeente: value, n, gap to herkomst Nederland
import      import a gemeente's own figures by origin group (CSV/XLSX, docs/eigen-gegevens.md)
voorbeeld-eigen-gegevens  write the fictitious example file of such figures (Voorbeeldgemeente)
notes       backup | restore | check of the worksheet notes (SQLite, or PostgreSQL with
            BUURTMONITOR_DATABASE_URL)

Every failure ends with a clear Dutch message on stderr and a non-zero exit code.
Statistics come through the one data path, :mod:`loaders.repository`. ``--format csv`` and
``json`` are for programs (decimal point, no thousands separator); ``text`` and the messages
are for people and write numbers the Dutch way (:mod:`buurtmonitor.formatting`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from pathlib import Path

import pandas as pd

from app import briefing_export
from buurtmonitor import formatting
from buurtmonitor.briefing.sentences import year_ranges
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.integratie import table as origin_table
from buurtmonitor.integratie.sentences import key_figures
from buurtmonitor.lokale_kaart import indices as lokale_kaart
from buurtmonitor.model import FICTITIOUS_LABEL
from loaders import imports, notes, notes_backup, repository
from loaders import own_data as own_data_io
from loaders.by_origin import load_by_origin
from loaders.files import UnsafeTarget, write_atomic
from loaders.http import SourceUnavailable

log = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_SOURCE = 4


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_DATA):
        super().__init__(message)
        self.code = code


def _gemeente(value: str) -> str:
    v = value.strip().upper()
    if not (len(v) == 6 and v.startswith("GM") and v[2:].isdigit()):
        raise argparse.ArgumentTypeError(f"'{value}' is geen gemeentecode (verwacht zoiets als GM0228)")
    return v


def _gemeente_or_nl(value: str) -> str:
    """A gemeente code, or NL (Nederland) for the whole country."""
    if value.strip().upper() in ("NL", "NEDERLAND"):
        return "NL"
    try:
        return _gemeente(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is geen gemeentecode (verwacht zoiets als GM0228, of NL voor heel Nederland)") from None


def _progress(frac: float, msg: str) -> None:
    print(f"[{frac * 100:3.0f}%] {msg}", file=sys.stderr, flush=True)


def harmonised_rows(table, level: str) -> pd.DataFrame:
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


def _write(df: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", force_ascii=False, indent=1))
        sys.stdout.write("\n")
    else:
        numeric = {c: formatting.smart for c in df.columns if c != "year"
                   if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
        with pd.option_context("display.max_rows", None, "display.max_columns", 12, "display.width", 200):
            print(df.to_string(index=False, formatters=numeric))


def cmd_table(args) -> int:
    if args.from_file:
        path = Path(args.from_file)
        if not path.exists():
            raise CliError(f"Bestand niet gevonden: {path}", EXIT_USAGE)
        table = imports.read_any(path, year=args.year)
        if isinstance(table, tuple):
            table = table[0]
        if table.meta.year != args.year:
            print(f"Let op: het bestand bevat jaar {table.meta.year}, niet {args.year}.", file=sys.stderr)
    else:
        table = repository.load_table(args.year, args.gemeente, progress=_progress if args.verbose else None).table
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
    _write(rows, args.format)
    print(table.meta.source_line(), file=sys.stderr)
    return 0


def cmd_fetch(args) -> int:
    n = formatting.integer
    if args.gemeente == "NL":
        nl = repository.fetch_country_into_cache(args.year, progress=_progress)
        print(f"Opgeslagen in de cache: {n(nl.rows)} rijen (alle gebieden), {n(nl.gemeenten)} "
              f"gemeentegrenzen, {n(nl.buurten)} buurtgrenzen ({n(nl.vertices)} punten; voor de "
              f"landelijke kaart {n(nl.vertices_kaart)}); cache nu {formatting.number(nl.cache_bytes / 1e6, 1)} MB.")
        return 0
    got = repository.fetch_into_cache(args.year, args.gemeente, progress=_progress)
    print(f"Opgeslagen in de cache: {n(got.rows)} rijen, {n(got.wijken)} wijken, {n(got.buurten)} buurten; "
          f"cache nu {formatting.number(got.cache_bytes / 1e6, 1)} MB.")
    return 0


def cmd_indicators(args) -> int:
    cat = load_catalogue()
    rows = [{"id": i.id, "thema": cat.themes.get(i.theme, i.theme), "label": i.label, "eenheid": i.unit,
             "indeling": i.scheme or "alle jaren"} for i in cat.indicators.values()]
    _write(pd.DataFrame(rows), args.format)
    return 0


def indices_for(year: int, gemeente: str, level: str = "buurt") -> lokale_kaart.GemeenteMeasures:
    """CLI ``indices``: every measure for one gemeente, with the groups used and, where the
    source allows, its rank among all gemeenten (``repository.load_table(year, "alle")``)."""
    table = repository.load_table(year, gemeente).table
    national = None
    if not repository.is_demo_scope(gemeente):
        try:
            national = repository.load_table(year, "alle").table
        except Exception as exc:  # noqa: BLE001 - the comparison is optional
            log.warning("Landelijke vergelijking niet beschikbaar: %s", exc)
    return lokale_kaart.measures(table, gemeente, level, national=national)


def cmd_indices(args) -> int:
    result = indices_for(args.year, args.gemeente, args.level)
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1, default=float))
    else:
        print(lokale_kaart.format_indices(result))
    return 0


def cmd_export(args) -> int:
    out = Path(args.out)
    briefing_export.export_indicator(year=args.year, gemeente=args.gemeente, indicator=args.indicator,
                              level=args.level, fmt=args.format, out=out)
    print(f"Geschreven: {out} ({out.stat().st_size / 1e3:.0f} kB)", file=sys.stderr)
    return 0


INTEGRATIE_FORMATS = ("csv", "json")


def _integratie_format(value: str) -> str:
    v = value.strip().lower()
    if v not in INTEGRATIE_FORMATS:
        raise argparse.ArgumentTypeError(f"'{value}' is geen formaat: kies csv of json")
    return v


def _year(value: str) -> int:
    try:
        y = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is geen jaartal (verwacht zoiets als 2021)") from None
    if not 1900 <= y <= 2100:
        raise argparse.ArgumentTypeError(f"{y} is geen geldig jaartal")
    return y


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m buurtmonitor",
                                description="Buurtmonitor: CBS-wijk- en buurtcijfers naar herkomst.")
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fetch", help="cijfers en grenzen van een gemeente (of met NL: heel Nederland) "
                                     "in de cache laden")
    f.add_argument("--year", type=int, required=True)
    f.add_argument("--gemeente", type=_gemeente_or_nl, required=True,
                   help="gemeentecode (GM0228), of NL: alle gebieden en buurtgrenzen van het land, "
                        "voor de landelijke kaarten")
    f.set_defaults(func=cmd_fetch)

    t = sub.add_parser("table", help="geharmoniseerde tabel, één rij per gebied")
    t.add_argument("--year", type=int, required=True)
    t.add_argument("--gemeente", type=_gemeente)
    t.add_argument("--level", choices=["gemeente", "wijk", "buurt"], default="wijk")
    t.add_argument("--from", dest="from_file", metavar="FILE",
                   help="CBS-download (kwb-JJJJ.xlsx/.csv of Wijk- en Buurtkaart .gpkg) in plaats van de API")
    t.add_argument("--format", choices=["csv", "json", "text"], default="text")
    t.add_argument("-v", "--verbose", action="store_true")
    t.set_defaults(func=cmd_table)

    i = sub.add_parser("indicators", help="lijst van indicator-id's")
    i.add_argument("--format", choices=["csv", "json", "text"], default="text")
    i.set_defaults(func=cmd_indicators)

    x = sub.add_parser("indices", help="segregatie- en diversiteitsmaten van een gemeente")
    x.add_argument("--year", type=int, required=True)
    x.add_argument("--gemeente", type=_gemeente, required=True)
    x.add_argument("--level", choices=["wijk", "buurt"], default="buurt")
    x.add_argument("--format", choices=["json", "text"], default="text")
    x.set_defaults(func=cmd_indices)

    e = sub.add_parser("export", help="kaart, grafiek of tabel van een indicator exporteren")
    e.add_argument("--year", type=int, required=True)
    e.add_argument("--gemeente", type=_gemeente, required=True)
    e.add_argument("--indicator", required=True)
    e.add_argument("--level", choices=["wijk", "buurt"], default="wijk")
    e.add_argument("--format", choices=["png", "svg", "pdf", "csv", "xlsx", "pptx", "html"], required=True)
    e.add_argument("--out", required=True)
    e.set_defaults(func=cmd_export)

    g = sub.add_parser("integratie", help="alle indicatoren naar herkomstgroep van een gemeente: waarde, n, "
                                          "verschil met herkomst Nederland, tabel")
    g.add_argument("--gemeente", type=_gemeente, required=True)
    g.add_argument("--year", type=_year, help="alleen dit jaar (standaard: alle jaren)")
    g.add_argument("--format", type=_integratie_format, default="csv", help="csv of json (standaard csv)")
    g.add_argument("--out", help="doelbestand (standaard: de uitvoer op het scherm)")
    g.set_defaults(func=cmd_integratie)

    m = sub.add_parser("import", help="eigen cijfers naar herkomst (maatwerk, O&S) inlezen uit CSV of XLSX")
    m.add_argument("--file", required=True, help="CSV of XLSX in het formaat van docs/eigen-gegevens.md")
    m.add_argument("--gemeente", type=_gemeente,
                   help="gemeentecode (standaard: de gemeente van de gebiedscodes in het bestand)")
    m.add_argument("--check", action="store_true", help="alleen controleren, niets opslaan")
    m.set_defaults(func=cmd_import)

    v = sub.add_parser("voorbeeld-eigen-gegevens",
                       help="fictief voorbeeldbestand met eigen cijfers naar herkomst (Voorbeeldgemeente)")
    v.add_argument("--out", required=True, help="doelbestand, .xlsx of .csv")
    v.set_defaults(func=cmd_example_own_data)

    n = sub.add_parser("notes", help="de notities van het werkblad: back-up maken, terugzetten, controleren")
    nsub = n.add_subparsers(dest="notes_command", required=True)
    nb = nsub.add_parser("backup", help="alle notities met elke versie als JSON-bestand (alleen voor de eigenaar leesbaar)")
    nb.add_argument("--out", required=True, help="doelbestand, of - voor de uitvoer")
    nb.add_argument("--gemeente", type=_gemeente, help="alleen de notities van deze gemeente")
    nb.set_defaults(func=cmd_notes_backup)
    nr = nsub.add_parser("restore", help="een back-up terugzetten (in een lege database, of met --replace)")
    nr.add_argument("--file", required=True, help="het back-upbestand (van notes backup), of - voor de invoer")
    nr.add_argument("--gemeente", type=_gemeente, help="alleen de notities van deze gemeente terugzetten")
    nr.add_argument("--replace", action="store_true",
                    help="de notities die er staan (van de gemeente, met --gemeente) vervangen door de back-up")
    nr.set_defaults(func=cmd_notes_restore)
    nc = nsub.add_parser("check", help="controleren of de notitiedatabase leesbaar is en niet kleiner dan eerder")
    nc.set_defaults(func=cmd_notes_check)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "table" and not args.gemeente and not args.from_file:
        parser.error("geef --gemeente, of --from met een CBS-bestand")
    try:
        return args.func(args)
    except CliError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return exc.code
    except (SourceUnavailable, repository.DataUnavailable) as exc:
        print(f"Fout: de bron is niet bereikbaar. {exc}", file=sys.stderr)
        return EXIT_SOURCE
    except notes.NotesSchemaError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return EXIT_DATA
    except sqlite3.Error as exc:
        print(f"Fout: de notitiedatabase kan niet worden gebruikt ({exc}). Er is niets gewijzigd.", file=sys.stderr)
        return EXIT_DATA
    except (LookupError, ValueError, OSError) as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return EXIT_DATA
    except BrokenPipeError:
        return 0
