"""The CBS tables by origin in ``<shared>/cbs_origin_socioeconomic_odata`` as the stand-ins
serve them (OData v3 through :class:`~devtools.standins.cbs_odata.CbsODataServer`, OData v4
through :class:`~devtools.standins.cbs_odata4.CbsOData4Server`).

The extracts are cbsodata dumps: dimension columns hold TITLES, not keys. CBS itself serves
keys, so the keys are rebuilt here, at test time, from the shared data (nothing derived is
stored in the repository):

* gemeenten: the title -> code mapping of the 345 gemeenten of 2022
  (``geo_gemeenten_2022_pdok``) and of the gemeenten in the KWB 2024 extract, with the suffix
  rules of the shared README (``Utrecht (gemeente)`` -> Utrecht; ``Hengelo (O.)`` -> Hengelo
  when the full title is not itself a gemeente name);
* the country ``NL01``, landsdelen ``LD01``-``LD04`` and provincies ``PV20``-``PV31`` (real CBS
  codes, by name); COROP regions ``CR01``-``CR40`` and arbeidsmarktregio's ``AM01``-``AM35`` numbered
  in the order of the extract (CBS lists them in code order; the AM numbering is not verified);
* everything else (gemeenten of later or earlier years that are in neither list, the
  agglomeraties and stadsgewesten of 71317ned, all non-region dimension members, the v4 measure
  identifiers) gets a stable MADE-UP key starting with ``X`` (v4 measures: ``MX``), listed in
  :attr:`OriginExtract.made_up_keys`. Harmonisation keeps only ``GM``/``NL`` regions, so a
  made-up region key is never shown as a gemeente.

71317ned has no region suffixes at all: rows are told apart by their order only. Its first 57
regions are the country, 4 landsdelen, 12 provincies and 40 COROP regions; then come two blocks
of 22 large-city regions (agglomeraties / stadsgewesten: made-up keys), then the ~496 gemeenten
of that year in code order. A gemeente name that occurs as often as there are current gemeenten
of that base name (``Bergen``: Bergen (NH.) GM0373, Bergen (L.) GM0893) is assigned in code
order; a name that occurs more often (``Hengelo``: Overijssel and the former Gelderland
gemeente) or that no longer exists (``Bathmen``, ``Menterwolde``) cannot be attributed and
gets a made-up key.

80860ned has the real codes in ``RegiocodeKoppelvariabele_1`` (``NL01  `` right-padded):
those are its keys.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.standins.cbs_odata import CbsTable, table_from_generated
from devtools.standins.shared_data import shared_data_dir

ORIGIN_DIR = "cbs_origin_socioeconomic_odata"
GEMEENTEN_2022 = "geo_gemeenten_2022_pdok/gemeente_gegeneraliseerd_2022.geojson"
KWB2024 = "kwb_2024_85984NED_odata/85984NED_TypedDataSet_first10000rows.csv"
TABLES = ("85512NED", "86008NED", "85458NED", "71317ned", "80860ned")

LANDSDELEN = {"Noord-Nederland": "LD01", "Oost-Nederland": "LD02", "West-Nederland": "LD03",
              "Zuid-Nederland": "LD04"}
PROVINCIES = {"Groningen": "PV20", "Fryslân": "PV21", "Friesland": "PV21", "Drenthe": "PV22",
              "Overijssel": "PV23", "Flevoland": "PV24", "Gelderland": "PV25", "Utrecht": "PV26",
              "Noord-Holland": "PV27", "Zuid-Holland": "PV28", "Zeeland": "PV29",
              "Noord-Brabant": "PV30", "Limburg": "PV31"}
#: region dimension key, its title, and the v3 "Key_N" columns that are not measures
REGION_DIM = "RegioS"
PERIOD_DIM = "Perioden"
DIM_TITLES = {"RegioS": "Regio's", "Perioden": "Perioden", "Geslacht": "Geslacht",
              "Persoonskenmerken": "Persoonskenmerken", "GeboortelandOuders": "Geboorteland ouders",
              "Herkomstland": "Herkomstland", "Geboorteland": "Geboorteland", "Leeftijd": "Leeftijd",
              "Migratieachtergrond": "Migratieachtergrond"}
TEXT_MEASURES = ("RegiocodeKoppelvariabele",)
_SUFFIX = re.compile(r"^(?P<name>.*?) \((?P<kind>LD|PV|CR|AM|JZ|gemeente|[A-Z]{1,2}\.)\)$")


@dataclass
class OriginMeasure:
    key: str               # v3 key, "NettoArbeidsparticipatie_3"
    title: str             # made from the key ("Netto arbeidsparticipatie"); CBS titles differ slightly
    unit: str
    decimals: int
    datatype: str          # "Double" | "Long" | "String"


@dataclass
class OriginExtract:
    """One table of the shared extracts with CBS-style keys (see module doc)."""

    table_id: str
    title: str
    dimensions: dict[str, list[tuple[str, str]]]   # dimension key -> [(member key, title)] in order
    dimension_kinds: dict[str, str]                # "GeoDimension" | "TimeDimension" | "Dimension"
    measures: list[OriginMeasure]
    rows: list[dict[str, Any]]                     # dimension keys + measure values (None = empty)
    made_up_keys: set[str] = field(default_factory=set)
    unattributed: list[str] = field(default_factory=list)  # region titles given a made-up key


def _camel_title(key: str) -> str:
    base = re.sub(r"_\d+$", "", key)
    words = re.findall(r"[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z]?[a-z]+|\d+|[A-Z]+", base)
    out = [w if (w.isupper() and len(w) > 1) else w.lower() for w in words]
    if out:
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def _unit(key: str) -> tuple[str, int, str]:
    """(unit, decimals, datatype) of a measure, inferred from its name (the dumps carry no
    DataProperties; these are stand-in values)."""
    if key.startswith(TEXT_MEASURES):
        return "", 0, "String"
    if key.startswith(("NettoArbeidsparticipatie", "Werknemer", "Zelfst")):
        return "%", 0, "Double"
    if key.startswith("GemiddeldBesteedbaarInkomen"):
        return "x 1 000 euro", 1, "Double"
    if key.startswith("AantalPersonenMet52WekenInkomen"):
        return "x 1 000", 1, "Double"
    return "aantal", 0, "Long"


@functools.lru_cache(maxsize=2)
def _gemeente_codes(shared: str) -> dict[str, str]:
    """Gemeente title -> code from the 2022 gemeenten and the KWB 2024 extract."""
    base = Path(shared)
    names: dict[str, str] = {}
    with open(base / KWB2024, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            if (r.get("SoortRegio_2") or "").strip() == "Gemeente":
                names[r["WijkenEnBuurten"].strip()] = r["Codering_3"].strip()
    geo = json.loads((base / GEMEENTEN_2022).read_text(encoding="utf-8"))
    for f in geo["features"]:
        p = f["properties"]
        names[p["statnaam"].strip()] = p["statcode"].strip()   # 2022 wins over 2024 for a clash
    return names


def _base_name(title: str) -> str:
    m = _SUFFIX.match(title)
    return m.group("name") if m and m.group("kind") not in ("LD", "PV", "CR", "AM", "JZ") else title


class _Keys:
    def __init__(self, gemeenten: dict[str, str]):
        self.gemeenten = gemeenten
        self.by_base: dict[str, list[str]] = {}
        for name, code in sorted(gemeenten.items(), key=lambda kv: kv[1]):
            codes = self.by_base.setdefault(_base_name(name), [])
            if code not in codes:
                codes.append(code)
        self.made_up: set[str] = set()
        self.unattributed: list[str] = []
        self.counters: dict[str, int] = {}

    def made_up_key(self, title: str, prefix: str = "X") -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        key = f"{prefix}{n:05d}"
        self.made_up.add(key)
        self.unattributed.append(title)
        return key

    def numbered(self, kind: str) -> str:
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return f"{kind}{n:02d}"

    def gemeente(self, title: str) -> str | None:
        if title in self.gemeenten:
            return self.gemeenten[title]
        m = _SUFFIX.match(title)
        if m and m.group("kind") not in ("LD", "PV", "CR", "AM", "JZ"):
            name = m.group("name")
            if name in self.gemeenten:
                return self.gemeenten[name]
            cands = self.by_base.get(name, [])
            if len(cands) == 1:
                return cands[0]
            for cand_name, code in self.gemeenten.items():     # "Bergen (NH.)" style
                if cand_name == title:
                    return code
        return None

    def region(self, title: str) -> str:
        if title == "Nederland":
            return "NL01"
        m = _SUFFIX.match(title)
        kind = m.group("kind") if m else None
        if kind == "LD" and m and m.group("name") in LANDSDELEN:
            return LANDSDELEN[m.group("name")]
        if kind == "PV" and m and m.group("name") in PROVINCIES:
            return PROVINCIES[m.group("name")]
        if kind in ("CR", "AM"):
            return self.numbered(kind)
        code = self.gemeente(title)
        return code if code is not None else self.made_up_key(title)


def _suffixless_regions(titles: list[str], keys: _Keys) -> dict[int, str]:
    """71317ned: region keys by position (module doc)."""
    out: dict[int, str] = {}
    counts: dict[str, int] = {}
    gm_start = 1 + 4 + 12 + 40 + 22 + 22
    for i, t in enumerate(titles):
        if i >= gm_start:
            counts[t] = counts.get(t, 0) + 1
    seen: dict[str, int] = {}
    for i, t in enumerate(titles):
        if i == 0:
            out[i] = "NL01"
        elif i <= 4:
            out[i] = LANDSDELEN.get(t) or keys.made_up_key(t)
        elif i <= 16:
            out[i] = PROVINCIES.get(t) or keys.made_up_key(t)
        elif i <= 56:
            out[i] = keys.numbered("CR")
        elif i < gm_start:
            out[i] = keys.made_up_key(t)
        else:
            cands = keys.by_base.get(t, [])
            j = seen.get(t, 0)
            seen[t] = j + 1
            out[i] = cands[j] if len(cands) == counts[t] else keys.made_up_key(t)
    return out


def _num(s: str) -> float | int | None:
    if s is None or s.strip() == "":
        return None
    v = float(s)
    if math.isnan(v):
        return None
    return v


@functools.lru_cache(maxsize=8)
def _load(table_id: str, shared: str) -> OriginExtract:
    base = Path(shared)
    keys = _Keys(_gemeente_codes(shared))
    with open(base / ORIGIN_DIR / f"{table_id}.csv", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        header = next(reader)
        raw = [r for r in reader if r]
    dim_cols = [c for c in header[1:] if not re.search(r"_\d+$", c)]
    measure_cols = [c for c in header[1:] if re.search(r"_\d+$", c)]
    regio_col = header.index(REGION_DIM)
    region_titles = list(dict.fromkeys(r[regio_col] for r in raw))
    region_key: dict[str, str] = {}
    by_position: dict[int, str] = {}
    if table_id.lower() == "71317ned":
        # titles repeat: one title per region block (a block starts with the first origin member)
        first_col = next(header.index(c) for c in dim_cols if c != REGION_DIM)
        region_titles = [r[regio_col] for r in raw if r[first_col] == raw[0][first_col]]
        by_position = _suffixless_regions(region_titles, keys)
    elif "RegiocodeKoppelvariabele_1" in header:
        code_col = header.index("RegiocodeKoppelvariabele_1")
        for r in raw:
            region_key.setdefault(r[regio_col], r[code_col])     # padded, as CBS writes keys
    else:
        for t in region_titles:
            region_key[t] = keys.region(t)
    dims: dict[str, list[tuple[str, str]]] = {}
    member_key: dict[str, dict[str, str]] = {}
    for d in dim_cols:
        if d == REGION_DIM:
            if by_position:
                dims[d] = [(by_position[i], t) for i, t in enumerate(region_titles)]
            else:
                dims[d] = [(region_key[t], t) for t in region_titles]
            continue
        titles = list(dict.fromkeys(r[header.index(d)] for r in raw))
        if d == PERIOD_DIM:
            member_key[d] = {t: f"{t}JJ00" for t in titles}
        else:
            member_key[d] = {t: f"X{d[:3].upper()}{i:03d}" for i, t in enumerate(titles, 1)}
            keys.made_up |= set(member_key[d].values())
        dims[d] = [(member_key[d][t], t) for t in titles]
    measures = [OriginMeasure(c, _camel_title(c), *_unit(c)) for c in measure_cols]
    kinds = {m.key: m.datatype for m in measures}
    rows: list[dict[str, Any]] = []
    pos = -1
    for r in raw:
        rec: dict[str, Any] = {}
        for j, col in enumerate(header):
            if col == "ID":
                rec["ID"] = int(r[j])
            elif col == REGION_DIM:
                rec[col] = None if by_position else region_key[r[j]]   # by position: below
            elif col in member_key:
                rec[col] = member_key[col][r[j]]
            elif kinds.get(col) == "String":
                rec[col] = r[j] if r[j] != "" else None
            else:
                v = _num(r[j])
                rec[col] = int(v) if (v is not None and kinds.get(col) == "Long" and float(v).is_integer()) else v
        rows.append(rec)
    if by_position:
        # 71317ned repeats titles; its rows come region by region (the 5 origin members each),
        # so a region's position is the number of times the first member has been seen
        origin_col = next(c for c in dim_cols if c != REGION_DIM)
        first_member = raw[0][header.index(origin_col)]
        for rec, r in zip(rows, raw):
            if r[header.index(origin_col)] == first_member:
                pos += 1
            rec[REGION_DIM] = by_position[pos]
    kinds_d = {d: ("GeoDimension" if d == REGION_DIM else "TimeDimension" if d == PERIOD_DIM else "Dimension")
               for d in dim_cols}
    return OriginExtract(table_id=table_id, title=f"{table_id} (stand-in; title not in the extract)",
                         dimensions=dims, dimension_kinds=kinds_d, measures=measures, rows=rows,
                         made_up_keys=keys.made_up, unattributed=keys.unattributed)


def origin_extract(table_id: str, shared_dir: str | Path | None = None) -> OriginExtract:
    """One of :data:`TABLES` with CBS-style keys (cached; do not mutate).

    Raises FileNotFoundError when the shared data is absent (tests: ``require_shared`` first).
    """
    base = Path(shared_dir) if shared_dir is not None else shared_data_dir()
    for rel in (f"{ORIGIN_DIR}/{table_id}.csv", GEMEENTEN_2022, KWB2024):
        if not (base / rel).is_file():
            raise FileNotFoundError(f"shared extract missing: {base / rel}")
    return _load(table_id, str(base.resolve()))


def v3_table(extract: OriginExtract) -> CbsTable:
    """The extract as a :class:`CbsTable` for the OData v3 stand-in (TableInfos, DataProperties
    with the dimensions and topics, one entity set per dimension with Key/Title, TypedDataSet)."""
    props: list[dict] = []
    for i, (d, kind) in enumerate(extract.dimension_kinds.items()):
        props.append({"ID": i, "Position": i, "ParentID": None, "Type": kind, "Key": d,
                      "Title": DIM_TITLES.get(d, d), "Description": "", "MapYear": None,
                      "ReleasePolicyKey": None})
    off = len(props)
    for j, m in enumerate(extract.measures):
        props.append({"ID": off + j, "Position": off + j, "ParentID": None, "Type": "Topic", "Key": m.key,
                      "Title": m.title, "Description": "", "Datatype": m.datatype, "Unit": m.unit,
                      "Decimals": m.decimals, "Default": "Impossible",
                      "PresentationType": "Relative" if m.unit == "%" else "Absolute"})
    dims = {d: [{"Key": k, "Title": t, "Description": None, "CategoryGroupID": None} for k, t in members]
            for d, members in extract.dimensions.items()}
    infos = [{"ID": 0, "Identifier": extract.table_id, "Title": extract.title, "ShortTitle": extract.title,
              "Summary": "Stand-in of a CBS table by origin, from a public extract", "Period": "",
              "Language": "nl", "Catalog": "CBS"}]
    return table_from_generated(table_id=extract.table_id, table_infos=infos, data_properties=props,
                                dimensions=dims, rows=extract.rows)


def shared_origin_v3_tables(shared_dir: str | Path | None = None,
                            table_ids: tuple[str, ...] = TABLES) -> list[CbsTable]:
    """Every origin table of the shared extracts as v3 :class:`CbsTable` s."""
    return [v3_table(origin_extract(t, shared_dir)) for t in table_ids]
