"""Importing a gemeente's own figures by origin group ("eigen gegevens"): read, check, store.

:func:`read_file` reads a CSV (``;`` or ``,``, UTF-8 with or without BOM) or XLSX (first sheet)
within :class:`Limits` (file size, rows, columns, cells, time); an XLSX is read with openpyxl
in read-only mode, its declared dimensions are checked before any row is read and the rows and
cells are counted while iterating, so a sheet that claims or holds a million rows or 16,384
columns is refused at once, never allocated.

:func:`import_file` reads, checks every row against the gemeente's KWB areas
(:func:`buurtmonitor.integratie.own_data.validate`) and, only when there is no error at all,
stores the harmonised long frame as one cache entry with its provenance ("eigen gegevens van
<bron>", file name, imported_at, sha256 of the file). :func:`list_sets`, :func:`remove_set`
and :func:`load_own_data` manage and read what was imported. The demo gemeente's own data is
generated (:mod:`buurtmonitor.integratie.synthetic`) and goes through the same check.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from buurtmonitor import formatting
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.integratie import synthetic as own_synthetic
from buurtmonitor.integratie.own_data import (
    FILE_COLUMNS,
    AreaIndex,
    ImportReport,
    ParsedFile,
    ParsedRow,
    RowMessage,
    empty_frame,
    validate,
)
from buurtmonitor.model import AreaTable
from buurtmonitor.synthetic import DEMO_GEMEENTE

from . import repository
from .cache import CacheStore, Store
from .files import write_atomic
from .http import SourceUnavailable
from .settings import Settings, get_settings
from .stores import open_cache

KEY_PREFIX = "eigen"
SUFFIXES_CSV = (".csv", ".txt")
SUFFIXES_XLSX = (".xlsx", ".xlsm")


class UnreadableFile(ValueError):
    """The file cannot be read as an import file within the limits (message in Dutch)."""


@dataclass(frozen=True)
class Limits:
    """What an import file may be: beyond any of these it is refused before it is parsed
    (size, declared sheet size) or as soon as the count is passed (rows, columns, cells, time)."""

    max_bytes: int = 20_000_000
    max_unzipped_bytes: int = 200_000_000
    max_rows: int = 200_000
    max_columns: int = 40
    max_cells: int = 2_000_000
    max_seconds: float = 60.0


@dataclass(frozen=True)
class OwnDataSet:
    """One imported set (one file) in the cache."""

    id: str
    gemeente: str
    provenance: str
    file_name: str
    imported_at: str
    sha256: str
    rows: int
    years: tuple[int, ...]
    indicators: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_file` did: the check's report and, when stored, the set."""

    report: ImportReport
    gemeente: str | None
    file_name: str
    sha256: str
    stored: OwnDataSet | None = None
    notes: tuple[str, ...] = ()       # remarks of the loader (areas of a later year, overlaps)

    @property
    def ok(self) -> bool:
        return self.report.ok


@dataclass(frozen=True)
class LoadedOwnData:
    """The own data of a gemeente: every imported set as one long frame."""

    frame: pd.DataFrame
    sets: tuple[OwnDataSet, ...]
    origin: str                      # "cache" | "demo" | "none"
    warning: str | None = None
    fictitious: bool = False


# ============================================================================ reading
class _Clock:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.start = time.monotonic()

    def check(self) -> None:
        if time.monotonic() - self.start > self.limits.max_seconds:
            raise UnreadableFile(f"Het bestand is niet binnen {formatting.integer(self.limits.max_seconds)} "
                                 "seconden te lezen; maak het kleiner of splits het.")


def _too_many(what: str, limit: int) -> UnreadableFile:
    return UnreadableFile(f"Het bestand heeft meer dan {formatting.integer(limit)} {what}; dat is meer dan een "
                          "import van eigen gegevens kan bevatten. Splits het bestand of verwijder lege "
                          "rijen en kolommen.")


def _read_bytes(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UnreadableFile(f"{path.name} is geen gewoon bestand.")
        if size > limits.max_bytes:
            raise UnreadableFile(f"{path.name} is {formatting.number(size / 1e6, 1)} MB; het maximum is "
                                 f"{formatting.number(limits.max_bytes / 1e6, 0)} MB.")
        with path.open("rb") as fh:
            data = fh.read(size + 1)  # never more than the limit allows: a growing file is refused below
    except FileNotFoundError as exc:
        raise UnreadableFile(f"Bestand niet gevonden: {path.name}.") from exc
    except OSError as exc:
        raise UnreadableFile(f"{path.name} is niet te lezen ({exc.strerror or exc}).") from exc
    if len(data) > limits.max_bytes:
        raise UnreadableFile(f"{path.name} is groter dan {formatting.number(limits.max_bytes / 1e6, 0)} MB.")
    return data


def _trim(cells: Iterable[object]) -> tuple[object, ...]:
    out = list(cells)
    while out and (out[-1] is None or (isinstance(out[-1], str) and not out[-1].strip())):
        out.pop()
    return tuple(out)


def _table(rows: Iterable[tuple[int, tuple[object, ...]]], limits: Limits, clock: _Clock) -> ParsedFile:
    """Header (the first non-empty row) and data rows, counting rows, columns and cells."""
    header: tuple[str, ...] | None = None
    header_row = 0
    data: list[ParsedRow] = []
    cells = 0
    for count, (number, raw) in enumerate(rows, start=1):
        if count > limits.max_rows + 1:
            raise _too_many("rijen", limits.max_rows)
        if count % 2000 == 0:
            clock.check()
        row = _trim(raw)
        if len(row) > limits.max_columns:
            raise _too_many("kolommen", limits.max_columns)
        cells += sum(c is not None for c in row)
        if cells > limits.max_cells:
            raise _too_many("gevulde cellen", limits.max_cells)
        if not row:
            continue
        if header is None:
            header = tuple("" if c is None else str(c) for c in row)
            header_row = number
            continue
        data.append(ParsedRow(number, row))
    if header is None:
        raise UnreadableFile("Het bestand is leeg: er staat geen kopregel in "
                             f"(verwacht: {', '.join(FILE_COLUMNS)}).")
    return ParsedFile(header=header, rows=tuple(data), header_row=header_row)


def parse_csv(data: bytes, *, limits: Limits | None = None) -> ParsedFile:
    """A CSV file (``;``, ``,`` or tab separated; UTF-8 with or without BOM) as rows.

    Raises
    ------
    UnreadableFile
        Not UTF-8, no header, or over a limit.
    """
    lim = limits or Limits()
    clock = _Clock(lim)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("Het CSV-bestand is geen UTF-8-tekst (byte "
                             f"{formatting.integer(exc.start + 1)}). Sla het op als 'CSV UTF-8'.") from exc
    if "\x00" in text:
        raise UnreadableFile("Het bestand bevat nul-tekens: het is geen CSV-tekstbestand.")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    sep_line = first.strip().casefold().startswith("sep=") and len(first.strip()) == 5
    if sep_line:      # Excel's "sep=;" hint: it names the delimiter and is no row of the table
        delimiter = first.strip()[4]
    else:
        delimiter = max((";", ",", "\t"), key=first.count) if first else ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)

    def rows() -> Iterable[tuple[int, tuple[object, ...]]]:
        skip = sep_line
        try:
            for i, row in enumerate(reader, start=1):
                if skip and any(c.strip() for c in row):
                    skip = False
                    continue
                yield i, tuple(row)
        except csv.Error as exc:
            raise UnreadableFile(f"Het CSV-bestand is niet te lezen rond rij {reader.line_num}: {exc}.") from exc

    return _table(rows(), lim, clock)


def _xlsx_value(cell) -> object:
    """A cell's value; a number shown as a percentage (format ``0,0%``) as the text the user
    sees (``0.125`` -> ``"12.5%"``), so 12,5% is read as 12,5 and not as 0,125."""
    v = getattr(cell, "value", None)
    if isinstance(v, (int, float)) and not isinstance(v, bool) and "%" in str(getattr(cell, "number_format", "")):
        return f"{v * 100:.12g}%"
    return v


def parse_xlsx(data: bytes, *, limits: Limits | None = None) -> ParsedFile:
    """The first sheet of an XLSX file as rows, within ``limits`` (see the module doc).

    Raises
    ------
    UnreadableFile
        Not an XLSX file, or over a limit (declared or counted).
    """
    import openpyxl  # heavy; only when an xlsx is read

    lim = limits or Limits()
    clock = _Clock(lim)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unzipped = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("Het bestand is geen geldig XLSX-bestand (geen zip-archief).") from exc
    if unzipped > lim.max_unzipped_bytes:
        raise UnreadableFile(f"Het XLSX-bestand pakt uit tot {formatting.number(unzipped / 1e6, 0)} MB; "
                             f"het maximum is {formatting.number(lim.max_unzipped_bytes / 1e6, 0)} MB.")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure of a foreign file: refuse it
        raise UnreadableFile(f"Het bestand is geen leesbaar XLSX-bestand ({type(exc).__name__}).") from exc
    try:
        if not wb.worksheets:
            raise UnreadableFile("Het XLSX-bestand heeft geen werkblad.")
        ws = wb.worksheets[0]
        if not hasattr(ws, "reset_dimensions"):
            raise UnreadableFile("Het eerste blad van het XLSX-bestand is geen werkblad met cellen.")
        declared_rows, declared_cols = ws.max_row or 0, ws.max_column or 0
        if declared_rows > lim.max_rows + 1 or declared_cols > lim.max_columns:
            raise UnreadableFile(
                f"Het werkblad is volgens het bestand {formatting.integer(declared_rows)} rijen bij "
                f"{formatting.integer(declared_cols)} kolommen groot; een import van eigen gegevens mag hoogstens "
                f"{formatting.integer(lim.max_rows)} rijen en {formatting.integer(lim.max_columns)} kolommen hebben. "
                "Verwijder lege rijen en kolommen (of cellen ver buiten de tabel) en sla het bestand opnieuw op.")
        # the declared size may be wrong or absent: read what is really there, and count it
        ws.reset_dimensions()

        def rows() -> Iterable[tuple[int, tuple[object, ...]]]:
            try:
                for i, row in enumerate(ws.iter_rows(), start=1):
                    if i > lim.max_rows + 1:
                        raise _too_many("rijen", lim.max_rows)
                    if not row:
                        continue  # a row that is not in the file (a gap): nothing to keep
                    if len(row) > lim.max_columns and any(c.value is not None for c in row[lim.max_columns:]):
                        raise _too_many("kolommen", lim.max_columns)
                    yield i, tuple(_xlsx_value(c) for c in row[:lim.max_columns + 1])
            except UnreadableFile:
                raise
            except Exception as exc:  # noqa: BLE001 - a damaged sheet: refuse it
                raise UnreadableFile(f"Het werkblad is niet te lezen ({type(exc).__name__}).") from exc

        return _table(rows(), lim, clock)
    finally:
        wb.close()


def read_file(path: str | Path, *, limits: Limits | None = None) -> tuple[ParsedFile, bytes]:
    """Read an import file (CSV or XLSX, by content and name) within ``limits``.

    Returns
    -------
    (ParsedFile, bytes)
        The rows and the file's bytes (for its checksum).

    Raises
    ------
    UnreadableFile
        Missing, too large, of another type, damaged, or over a limit.
    """
    p = Path(path)
    lim = limits or Limits()
    data = _read_bytes(p, lim)
    suffix = p.suffix.lower()
    if data.startswith(b"PK\x03\x04") or suffix in SUFFIXES_XLSX:
        if suffix in SUFFIXES_CSV:
            raise UnreadableFile(f"{p.name} heet een CSV-bestand maar is een zip-archief (XLSX?).")
        return parse_xlsx(data, limits=lim), data
    if suffix == ".xls":
        raise UnreadableFile("Oude Excel-bestanden (.xls) worden niet gelezen; sla het bestand op als .xlsx of CSV.")
    if suffix not in SUFFIXES_CSV:
        raise UnreadableFile(f"{p.name}: alleen CSV (.csv) en Excel (.xlsx) worden gelezen.")
    return parse_csv(data, limits=lim), data


# ============================================================================ areas
class _DeferredStore:
    """Reads from the cache, keeps writes until :meth:`flush` (nothing is written on error)."""

    def __init__(self, store: CacheStore):
        self.store = store
        self.pending: dict[str, AreaTable] = {}

    def get_table(self, key: str) -> AreaTable | None:
        return self.pending.get(key) or self.store.get_table(key)

    def put_table(self, key: str, table: AreaTable) -> None:
        self.pending[key] = table

    def get_geo(self, key: str) -> tuple[gpd.GeoDataFrame, dict] | None:
        return self.store.get_geo(key)

    def put_geo(self, key: str, gdf: gpd.GeoDataFrame, meta: dict) -> None:  # pragma: no cover - unused
        return None

    def keys(self) -> list[str]:
        return sorted(set(self.store.keys()) | set(self.pending))

    def size_bytes(self) -> int:
        return self.store.size_bytes()

    def flush(self) -> None:
        for key, table in self.pending.items():
            self.store.put_table(key, table)
        self.pending.clear()


def area_names(table: AreaTable, gemeente: str) -> dict[str, str]:
    """code -> name of the gemeente, its wijken and buurten in a KWB table."""
    d = table.data
    num = gemeente[2:]
    keep = (d["code"] == gemeente) | d["code"].str.startswith(("WK" + num, "BU" + num))
    return {str(c): str(n or c) for c, n in zip(d.loc[keep, "code"], d.loc[keep, "name"])}


def _file_years_and_gemeenten(parsed: ParsedFile) -> tuple[set[int], set[str]]:
    keys = [h.lstrip("\ufeff").strip().casefold() for h in parsed.header]
    years: set[int] = set()
    gemeenten: set[str] = set()
    ci = keys.index("gebiedscode") if "gebiedscode" in keys else None
    yi = keys.index("jaar") if "jaar" in keys else None
    for row in parsed.rows:
        raw = row.cells[ci] if ci is not None and ci < len(row.cells) else None
        if isinstance(raw, str):
            code = raw.strip().upper()
            if len(code) >= 6 and code[:2] in ("GM", "WK", "BU") and code[2:6].isdigit():
                gemeenten.add("GM" + code[2:6])
        if yi is not None and yi < len(row.cells):
            try:
                y = int(float(str(row.cells[yi]).strip()))
            except ValueError:
                continue
            if 1990 <= y <= 2100:
                years.add(y)
    return years, gemeenten


def area_index_for(gemeente: str, years: Iterable[int], *, store: Store,
                   settings: Settings) -> tuple[AreaIndex, list[str]]:
    """The KWB areas of ``gemeente`` for each year (through the repository: cache, CBS, demo).

    A year without a KWB table of its own (later than the newest table) uses the newest table
    before it, with a note; a year whose table does not exist is left out (its rows are then
    refused with a message that says so).

    Raises
    ------
    loaders.repository.DataUnavailable
        A table is neither in the cache nor reachable at CBS.
    """
    names: dict[int, dict[str, str]] = {}
    notes: list[str] = []
    cat_years = load_catalogue().years
    for year in sorted(set(years)):
        # a year without a table of its own: the newest tables before it, newest first
        candidates = [year] if year in cat_years or not cat_years or year < min(cat_years) else \
            sorted((y for y in cat_years if y < year), reverse=True)[:3]
        got: dict[str, str] | None = None
        problems: list[str] = []
        for use in candidates:
            try:
                loaded = repository.load_table(use, gemeente, store=store, settings=settings)
            except (repository.DataUnavailable, SourceUnavailable) as exc:
                raise repository.DataUnavailable(
                    f"De CBS-gebiedsindeling {use} van {gemeente} is nodig om de gebiedscodes te controleren, "
                    f"maar is niet in de cache en CBS is niet bereikbaar ({exc}). Er is niets ingelezen.") from exc
            except (LookupError, ValueError, OSError) as exc:
                problems.append(f"{use}: {exc}")
                continue
            got = area_names(loaded.table, gemeente)
            if gemeente not in got:
                problems.append(f"{use}: {gemeente} staat niet in de CBS-tabel")
                got = None
                continue
            if use != year:
                notes.append(f"Voor {year} is er nog geen CBS-gebiedsindeling; de gebiedscodes zijn "
                             f"gecontroleerd tegen die van {use}.")
            break
        if got is None:
            notes.append(f"De CBS-gebiedsindeling voor {year} van {gemeente} is niet te laden ("
                         + "; ".join(problems) + ").")
            continue
        names[year] = got
    return AreaIndex(names, gemeente), notes


# ============================================================================ the cache
def set_key(gemeente: str, sha256: str) -> str:
    """Cache key of an imported set: one per gemeente and file content."""
    return f"{KEY_PREFIX}_{gemeente}_{sha256[:16]}"


def _set_from_meta(key: str, meta: Mapping) -> OwnDataSet:
    return OwnDataSet(id=key, gemeente=str(meta.get("gemeente", "")), provenance=str(meta.get("provenance", "")),
                      file_name=str(meta.get("file_name", "")), imported_at=str(meta.get("imported_at", "")),
                      sha256=str(meta.get("sha256", "")), rows=int(meta.get("rows", 0)),
                      years=tuple(int(y) for y in meta.get("years", ())),
                      indicators=tuple(str(i) for i in meta.get("indicators", ())),
                      sources=tuple(str(s) for s in meta.get("sources", ())))


def provenance_line(sources: Iterable[str]) -> str:
    """"eigen gegevens van <bron>" for the distinct sources of a set."""
    uniq = list(dict.fromkeys(s for s in sources if s))
    return "eigen gegevens van " + "; ".join(uniq)


def import_file(path: str | Path, *, gemeente: str | None = None, check: bool = False,
                store: CacheStore | None = None, settings: Settings | None = None,
                areas: AreaIndex | None = None, limits: Limits | None = None,
                now: Callable[[], datetime] | None = None) -> ImportResult:
    """Read, check and (unless ``check`` or on any error) store an own-data file.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX in the format of ``docs/eigen-gegevens.md``.
    gemeente : str, optional
        The gemeente (GM code) the file belongs to; by default the one its area codes name.
    check : bool
        Only check; write nothing.
    store : ParquetStore, optional
        The cache (default: ``BUURTMONITOR_CACHE_DIR``).
    settings : Settings, optional
    areas : AreaIndex, optional
        The areas to check against (default: from the gemeente's KWB tables via the repository).
    limits : Limits, optional
    now : callable, optional
        Clock for ``imported_at`` (tests).

    Returns
    -------
    ImportResult
        ``report.errors`` lists every row error; ``stored`` is the set when it was written.

    Raises
    ------
    UnreadableFile
        The file cannot be read (missing, too large, damaged, over a limit).
    loaders.repository.DataUnavailable
        The gemeente's KWB areas are not in the cache and CBS is not reachable.
    """
    p = Path(path)
    s = settings or get_settings()
    st = store or open_cache(s)
    parsed, data = read_file(p, limits=limits)
    sha = hashlib.sha256(data).hexdigest()
    years, named = _file_years_and_gemeenten(parsed)
    notes: list[str] = []
    gm = gemeente.upper() if gemeente else None
    if gm is None:
        if len(named) > 1:
            report = ImportReport(
                errors=(RowMessage(0, "het bestand bevat gebieden van meer dan één gemeente ("
                                   + ", ".join(sorted(named)) + "); importeer per gemeente, of geef de "
                                   "gemeente op (--gemeente) om de andere rijen als fout te zien"),),
                warnings=(), rows_read=len(parsed.rows), rows_accepted=0, small_n=0, frame=empty_frame())
            return ImportResult(report, None, p.name, sha)
        gm = next(iter(named), None)
    deferred = _DeferredStore(st)
    if areas is None:
        if gm is None:
            areas = AreaIndex({})
        else:
            areas, notes = area_index_for(gm, years, store=deferred, settings=s)
    key = set_key(gm or "GM0000", sha)
    report = validate(parsed, areas, set_id=key)
    if not report.ok or check:
        return ImportResult(report, gm, p.name, sha, notes=tuple(notes))
    assert gm is not None  # a valid report has areas, so a gemeente
    sources = tuple(dict.fromkeys(report.frame["source"]))
    stamp = (now or (lambda: datetime.now(UTC)))().isoformat(timespec="microseconds")
    meta = {"gemeente": gm, "provenance": provenance_line(sources), "file_name": p.name, "imported_at": stamp,
            "sha256": sha, "years": report.years, "indicators": report.indicators, "sources": list(sources),
            "small_n": report.small_n}
    overlap = _overlaps(report.frame, gm, st, exclude=key)
    if overlap:
        notes.append(overlap)
    deferred.flush()
    st.put_frame(key, report.frame, meta)
    stored = _set_from_meta(key, {**meta, "rows": len(report.frame)})
    return ImportResult(report, gm, p.name, sha, stored=stored, notes=tuple(notes))


_KEY_COLUMNS = ["area_code", "year", "group", "indicator"]


def _overlaps(frame: pd.DataFrame, gemeente: str, store: CacheStore, *, exclude: str) -> str | None:
    others = [s for s in list_sets(gemeente, store=store) if s.id != exclude]
    if not others:
        return None
    mine = frame[_KEY_COLUMNS].drop_duplicates()
    names = []
    for other in others:
        got = store.get_frame(other.id)
        if got is None:
            continue
        if len(mine.merge(got[0][_KEY_COLUMNS].drop_duplicates(), on=_KEY_COLUMNS)):
            names.append(f"{other.file_name} ({other.imported_at[:10]})")
    if not names:
        return None
    return ("Een deel van deze cijfers stond al in een eerder ingelezen set: " + ", ".join(names)
            + ". Waar ze overlappen gelden de cijfers van de laatst ingelezen set.")


def list_sets(gemeente: str | None = None, *, store: CacheStore | None = None) -> list[OwnDataSet]:
    """The imported sets (of ``gemeente``, or all), oldest import first."""
    st = store or open_cache()
    out = []
    for key in st.keys():
        if not key.startswith(KEY_PREFIX + "_"):
            continue
        meta = st.meta(key)
        if not meta or meta.get("kind") != "frame":
            continue
        ds = _set_from_meta(key, meta)
        if gemeente is None or ds.gemeente == gemeente:
            out.append(ds)
    return sorted(out, key=lambda d: (d.imported_at, d.id))


def remove_set(set_id: str, *, store: CacheStore | None = None) -> bool:
    """Remove an imported set; False when there is no such set."""
    st = store or open_cache()
    if not set_id.startswith(KEY_PREFIX + "_") or set_id not in st.keys():
        return False
    st.delete(set_id)
    return True


def load_own_data(gemeente: str, *, demo: bool = False, store: CacheStore | None = None) -> LoadedOwnData:
    """Every imported set of ``gemeente`` as one long frame; where sets overlap (same area,
    year, group and indicator) the later import wins.

    ``demo=True``, or a demo gemeente (GM99xx) without imported sets, gives the generated,
    fictitious own data of the Voorbeeldgemeente, checked like an import (origin ``"demo"``).
    """
    fictitious = demo or repository.is_demo_scope(gemeente)
    if demo:
        return LoadedOwnData(own_synthetic.demo_own_data().frame.copy(), (), "demo", fictitious=True)
    st = store or open_cache()
    frames, sets, damaged = [], [], []
    for ds in list_sets(gemeente, store=st):
        got = st.get_frame(ds.id)
        if got is None:
            damaged.append(ds.file_name)
            continue
        frames.append(got[0])
        sets.append(ds)
    warning = (f"De eigen gegevens uit {', '.join(damaged)} zijn beschadigd en weggelaten; lees ze opnieuw in."
               if damaged else None)
    if not frames:
        if gemeente == DEMO_GEMEENTE:
            return LoadedOwnData(own_synthetic.demo_own_data().frame.copy(), (), "demo", warning, fictitious=True)
        return LoadedOwnData(empty_frame(), (), "none", warning, fictitious=fictitious)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.drop_duplicates(_KEY_COLUMNS, keep="last").reset_index(drop=True)
    return LoadedOwnData(frame, tuple(sets), "cache", warning, fictitious=fictitious)


# ============================================================================ writing files
def records_bytes(records: list[dict], fmt: str) -> bytes:
    """Rows in the import format as the bytes of an XLSX (``fmt="xlsx"``) or CSV (``"csv"``:
    ``;`` separated, decimal comma, UTF-8 with BOM, as Excel in Dutch writes it)."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(FILE_COLUMNS)
        for r in records:
            w.writerow(["" if r.get(c) is None else
                        (str(r[c]).replace(".", ",") if isinstance(r[c], float) else r[c]) for c in FILE_COLUMNS])
        return codecs.BOM_UTF8 + buf.getvalue().encode("utf-8")
    if fmt == "xlsx":
        import openpyxl  # heavy; only when an xlsx is written

        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "eigen gegevens"
        ws.append(list(FILE_COLUMNS))
        for r in records:
            ws.append([r.get(c) for c in FILE_COLUMNS])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise ValueError(f"Onbekend formaat {fmt!r} (csv of xlsx)")


def write_example(path: str | Path, *, fmt: str | None = None) -> tuple[Path, int]:
    """Write the fictitious example file of the Voorbeeldgemeente (format by suffix).

    Returns
    -------
    (Path, int)
        The file written and its number of data rows.
    """
    p = Path(path)
    kind = fmt or ("csv" if p.suffix.lower() in SUFFIXES_CSV else "xlsx")
    records = own_synthetic.example_records()
    write_atomic(p, records_bytes(records, kind))
    return p, len(records)


__all__ = [
    "ImportResult", "Limits", "LoadedOwnData", "OwnDataSet", "UnreadableFile", "area_index_for",
    "area_names", "import_file", "list_sets", "load_own_data", "parse_csv", "parse_xlsx", "provenance_line",
    "read_file", "records_bytes", "remove_set", "set_key", "write_example",
]
