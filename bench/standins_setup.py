"""The stand-in CBS and PDOK servers of the benchmarks (from ``tests/standins``).

* CBS: table 85984NED (KWB 2024) = the real extract (10,000 rows: NL00, 172 gemeenten incl.
  Amsterdam with 111 wijken and 518 buurten) plus rows for the fictitious gemeenten
  ``GM70xx`` of the generated national set, so every generated buurt has statistics. The
  fictitious rows copy the values of real rows of the same level (realistic distributions).
* PDOK: ``wijken-en-buurten-2024`` with ``buurten`` = the generated national full-detail set
  (~14,000 features, PDOK-like properties) and ``wijken`` = the generated buurten of the
  benchmark gemeente dissolved per wijk.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd

from devtools import synth_nl
from devtools.standins.cbs_odata import (
    KWB2024_CSV,
    KWB2024_DIR,
    CbsODataServer,
    table_from_generated,
    table_from_shared_kwb2024,
)
from devtools.standins.pdok import PdokServer
from devtools.standins.shared_data import missing_shared, shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2024


def shared_missing() -> list[str]:
    return missing_shared(f"{KWB2024_DIR}/{KWB2024_CSV}", f"{KWB2024_DIR}/DataProperties.json")


def real_codes_and_names() -> tuple[list[str], dict[str, str]]:
    """Buurt codes and names (buurt + gemeente) of the KWB 2024 extract."""
    table = table_from_shared_kwb2024(shared_data_dir())
    titles = {d["Key"]: d["Title"] for d in table.dimensions["WijkenEnBuurten"]}
    codes, names = [], {}
    for r in table.rows:
        code = str(r["Codering_3"]).strip()
        names[code] = str(titles.get(r["WijkenEnBuurten"], code)).strip()
        if code.startswith("BU"):
            codes.append(code)
    return codes, names


def cbs_table_for(gdf: gpd.GeoDataFrame):
    """85984NED: the real extract plus copied rows for the fictitious buurten of ``gdf``."""
    real = table_from_shared_kwb2024(shared_data_dir())
    have = {str(r["Codering_3"]).strip() for r in real.rows}
    by_level: dict[str, list[dict]] = {}
    for r in real.rows:
        by_level.setdefault(str(r["SoortRegio_2"]).strip(), []).append(r)
    donors = {lvl: itertools.cycle(rows) for lvl, rows in by_level.items()}
    extra_rows, extra_dim = [], []
    fict = gdf[~gdf["buurtcode"].isin(have)]
    seen: set[str] = set()

    def add(code: str, level: str, name: str, gemeente_name: str) -> None:
        if code in seen or code in have:
            return
        seen.add(code)
        row = dict(next(donors[level]))
        key = code.ljust(10)
        row.update({"WijkenEnBuurten": key, "Codering_3": key, "SoortRegio_2": level.ljust(10),
                    "Gemeentenaam_1": gemeente_name.ljust(40)})
        extra_rows.append(row)
        extra_dim.append({"Key": key, "Title": name, "Description": None, "CategoryGroupID": None})

    for gm, wk, bu, bname, gname in zip(fict["gemeentecode"], fict["wijkcode"], fict["buurtcode"],
                                        fict["buurtnaam"], fict["gemeentenaam"]):
        add(gm, "Gemeente", gname, gname)
        add(wk, "Wijk", f"Wijk {wk[2:]}", gname)
        add(bu, "Buurt", bname, gname)
    n0 = len(real.rows)
    rows = list(real.rows) + [{**r, "ID": n0 + i} for i, r in enumerate(extra_rows)]
    return table_from_generated(
        table_id=real.table_id, table_infos=real.table_infos, data_properties=real.data_properties,
        dimensions={"WijkenEnBuurten": list(real.dimensions["WijkenEnBuurten"]) + extra_dim},
        rows=rows, category_groups=real.category_groups, validate=False)


def pdok_server_for(gdf: gpd.GeoDataFrame, gemeente: str) -> PdokServer:
    server = PdokServer()
    server.add_collection(YEAR, "buurten", synth_nl.features(gdf))
    mine = gdf[gdf["gemeentecode"] == gemeente]
    if len(mine):
        wijken = synth_nl.dissolve(mine, "wijkcode")
        wijken["wijknaam"] = ["Wijk " + c[2:] for c in wijken["wijkcode"]]
        wijken["gemeentecode"] = gemeente
        wijken["jaar"] = YEAR
        wijken["water"] = "NEE"
        feats = synth_nl.features(wijken)
        for i, f in enumerate(feats):
            f["id"] = f"wijken.{i + 1}"
        server.add_collection(YEAR, "wijken", feats)
    return server


def start(gdf: gpd.GeoDataFrame, gemeente: str) -> tuple[CbsODataServer, PdokServer]:
    """Started servers (stop them with ``.stop()``)."""
    cbs = CbsODataServer([cbs_table_for(gdf)])
    pdok = pdok_server_for(gdf, gemeente)
    return cbs.start(), pdok.start()
