"""Command line: ``python -m buurtmonitor <command>``: the parser and a small dispatcher.

fetch       load statistics and boundaries of one gemeente into the cache
table       print the harmonised table (one row per area)
indicators  list the indicator ids of the catalogue
indices     segregation and diversity measures of one gemeente (lokale kaart)
export      export a chart/map/table of one indicator (png, svg, pdf, csv, xlsx, pptx)
integratie  every indicator by origin group of a gemeente: value, n, gap to herkomst Nederland
import      import a gemeente's own figures by origin group (CSV/XLSX, docs/eigen-gegevens.md)
voorbeeld-eigen-gegevens  write the fictitious example file of such figures (Voorbeeldgemeente)
notes       back up, restore or check the worksheet notes

This module imports only the standard library. The commands live in modules per group
(:data:`MODULES`); the dispatcher imports the module of the chosen command by name, so
``table`` never loads plotly, the briefing stack or Streamlit, and ``indicators`` not even
the data path.

Every failure ends with a clear Dutch message on stderr and a non-zero exit code.
Statistics come through the one data path, :mod:`loaders.repository`. ``--format csv`` and
``json`` are for programs (decimal point, no thousands separator); ``text`` and the messages
are for people and write numbers the Dutch way (:mod:`buurtmonitor.formatting`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_SOURCE = 4

#: the module of every command (``handler`` is a function ``cmd_*(args) -> int`` in it)
MODULES = {
    "fetch": "app.cli_data",
    "table": "app.cli_data",
    "indicators": "app.cli_catalogue",
    "indices": "app.cli_indices",
    "export": "app.cli_export",
    "integratie": "app.cli_integratie",
    "import": "app.cli_files",
    "voorbeeld-eigen-gegevens": "app.cli_files",
    "notes": "app.cli_notes",
}
#: ``table --from FILE`` reads a CBS download: the file readers instead of the data path
TABLE_FROM_FILE = "app.cli_files"


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
    f.set_defaults(handler="cmd_fetch")

    t = sub.add_parser("table", help="geharmoniseerde tabel, één rij per gebied")
    t.add_argument("--year", type=int, required=True)
    t.add_argument("--gemeente", type=_gemeente)
    t.add_argument("--level", choices=["gemeente", "wijk", "buurt"], default="wijk")
    t.add_argument("--from", dest="from_file", metavar="FILE",
                   help="CBS-download (kwb-JJJJ.xlsx/.csv of Wijk- en Buurtkaart .gpkg) in plaats van de API")
    t.add_argument("--format", choices=["csv", "json", "text"], default="text")
    t.add_argument("-v", "--verbose", action="store_true")
    t.set_defaults(handler="cmd_table")

    i = sub.add_parser("indicators", help="lijst van indicator-id's")
    i.add_argument("--format", choices=["csv", "json", "text"], default="text")
    i.set_defaults(handler="cmd_indicators")

    x = sub.add_parser("indices", help="segregatie- en diversiteitsmaten van een gemeente")
    x.add_argument("--year", type=int, required=True)
    x.add_argument("--gemeente", type=_gemeente, required=True)
    x.add_argument("--level", choices=["wijk", "buurt"], default="buurt")
    x.add_argument("--format", choices=["json", "text"], default="text")
    x.set_defaults(handler="cmd_indices")

    e = sub.add_parser("export", help="kaart, grafiek of tabel van een indicator exporteren")
    e.add_argument("--year", type=int, required=True)
    e.add_argument("--gemeente", type=_gemeente, required=True)
    e.add_argument("--indicator", required=True)
    e.add_argument("--level", choices=["wijk", "buurt"], default="wijk")
    e.add_argument("--format", choices=["png", "svg", "pdf", "csv", "xlsx", "pptx", "html"], required=True)
    e.add_argument("--out", required=True)
    e.set_defaults(handler="cmd_export")

    g = sub.add_parser("integratie", help="alle indicatoren naar herkomstgroep van een gemeente: waarde, n, "
                                          "verschil met herkomst Nederland, tabel")
    g.add_argument("--gemeente", type=_gemeente, required=True)
    g.add_argument("--year", type=_year, help="alleen dit jaar (standaard: alle jaren)")
    g.add_argument("--format", type=_integratie_format, default="csv", help="csv of json (standaard csv)")
    g.add_argument("--out", help="doelbestand (standaard: de uitvoer op het scherm)")
    g.set_defaults(handler="cmd_integratie")

    m = sub.add_parser("import", help="eigen cijfers naar herkomst (maatwerk, O&S) inlezen uit CSV of XLSX")
    m.add_argument("--file", required=True, help="CSV of XLSX in het formaat van docs/eigen-gegevens.md")
    m.add_argument("--gemeente", type=_gemeente,
                   help="gemeentecode (standaard: de gemeente van de gebiedscodes in het bestand)")
    m.add_argument("--check", action="store_true", help="alleen controleren, niets opslaan")
    m.set_defaults(handler="cmd_import")

    v = sub.add_parser("voorbeeld-eigen-gegevens",
                       help="fictief voorbeeldbestand met eigen cijfers naar herkomst (Voorbeeldgemeente)")
    v.add_argument("--out", required=True, help="doelbestand, .xlsx of .csv")
    v.set_defaults(handler="cmd_example_own_data")

    n = sub.add_parser("notes", help="de notities van het werkblad: back-up maken, terugzetten, controleren")
    nsub = n.add_subparsers(dest="notes_command", required=True)
    nb = nsub.add_parser("backup", help="alle notities met elke versie als JSON-bestand (alleen voor de eigenaar leesbaar)")
    nb.add_argument("--out", required=True, help="doelbestand, of - voor de uitvoer")
    nb.add_argument("--gemeente", type=_gemeente, help="alleen de notities van deze gemeente")
    nb.set_defaults(handler="cmd_notes_backup")
    nr = nsub.add_parser("restore", help="een back-up terugzetten (in een lege database, of met --replace)")
    nr.add_argument("--file", required=True, help="het back-upbestand (van notes backup), of - voor de invoer")
    nr.add_argument("--gemeente", type=_gemeente, help="alleen de notities van deze gemeente terugzetten")
    nr.add_argument("--replace", action="store_true",
                    help="de notities die er staan (van de gemeente, met --gemeente) vervangen door de back-up")
    nr.set_defaults(handler="cmd_notes_restore")
    nc = nsub.add_parser("check", help="controleren of de notitiedatabase leesbaar is en niet kleiner dan eerder")
    nc.set_defaults(handler="cmd_notes_check")
    return p


def module_for(args: argparse.Namespace) -> str:
    """The dotted name of the module that runs the command of ``args``."""
    if args.command == "table" and args.from_file:
        return TABLE_FROM_FILE
    return MODULES[args.command]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "table" and not args.gemeente and not args.from_file:
        parser.error("geef --gemeente, of --from met een CBS-bestand")
    module = importlib.import_module(module_for(args))
    try:
        return getattr(module, args.handler)(args)
    except CliError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if isinstance(exc, getattr(module, "SOURCE_ERRORS", ())):
            print(f"Fout: de bron is niet bereikbaar. {exc}", file=sys.stderr)
            return EXIT_SOURCE
        if isinstance(exc, getattr(module, "NOTES_ERRORS", ())):
            print(f"Fout: de notitiedatabase kan niet worden gebruikt ({exc}). Er is niets gewijzigd.",
                  file=sys.stderr)
            return EXIT_DATA
        if isinstance(exc, (LookupError, ValueError, OSError)):
            print(f"Fout: {exc}", file=sys.stderr)
            return EXIT_DATA
        raise
