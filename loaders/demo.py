"""The fictitious Voorbeeldgemeente as a data source: tables and boundaries built in memory
from the pure generator :mod:`buurtmonitor.synthetic`, never from the network or the cache.

:mod:`loaders.repository` decides when the demo is served (``demo=True``, a demo gemeente
code such as ``GM9901``, or no real data at all); this module only makes it. Every table
carries ``meta.fictitious = True`` and ``source_kind = "demo"``, so each view labels it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd

from buurtmonitor import synthetic
from buurtmonitor.harmonise import harmonise_odata
from buurtmonitor.model import AreaTable, TableMeta

DEMO_GEMEENTE = synthetic.DEMO_GEMEENTE
DEMO_NAME = synthetic.DEMO_NAME
DEMO_YEARS = tuple(synthetic.DEMO_YEARS)
#: the scopes that cover more than one gemeente (the demo's fictitious "country")
NATIONAL_SCOPES = ("gemeenten", "alle")
_LEVEL_FEATURES = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}


def is_demo_scope(scope: str | None) -> bool:
    """Whether ``scope`` is a gemeente of the fictitious demo (``GM99xx``, e.g. ``GM9901``)."""
    return bool(scope) and (scope == DEMO_GEMEENTE or str(scope).upper().startswith("GM99"))


def check_scope(scope: str) -> str:
    """``scope`` if the demo can serve it (a demo gemeente, ``"gemeenten"`` or ``"alle"``).

    Raises
    ------
    ValueError
        For a real gemeente code: the demo never stands in for real data without saying so.
    """
    if scope in NATIONAL_SCOPES or is_demo_scope(scope):
        return scope
    raise ValueError(f"'{scope}' is geen gemeente van de fictieve demo; kies {DEMO_GEMEENTE} "
                     f"({DEMO_NAME}).")


def demo_table(year: int, scope: str) -> AreaTable:
    """The fictitious data of ``scope`` in ``year``.

    Parameters
    ----------
    year
        Any year; :data:`DEMO_YEARS` are the ones the demo offers.
    scope
        A demo gemeente code (its row, wijken, buurten and the fictitious Nederland row),
        ``"gemeenten"`` (every fictitious gemeente and the country) or ``"alle"`` (every area).

    Returns
    -------
    AreaTable
        Harmonised like a CBS table, with ``meta.fictitious = True``.
    """
    check_scope(scope)
    raw = synthetic.generate(year)
    meta = TableMeta(year=year, table_id=raw.table_id,
                     table_title=f"Kerncijfers wijken en buurten {year} (fictief)", scheme=raw.scheme,
                     source_kind="demo", source_url="", fictitious=True, scope=scope,
                     fetched_at=datetime.now(UTC).isoformat(timespec="seconds"))
    table = harmonise_odata(raw.rows_with_titles(), raw.data_properties, meta)
    d = table.data
    if scope == "gemeenten":
        mask = d["level"].isin(["land", "gemeente"])
    elif scope == "alle":
        mask = d["level"].notna()
    else:
        num = scope[2:]
        mask = (d["level"] == "land") | (d["code"] == scope) | d["code"].str.startswith(("WK" + num, "BU" + num))
    return table.select(mask)


def demo_boundaries(year: int, level: str, gemeente: str | None = None) -> gpd.GeoDataFrame:
    """Fictitious boundaries (EPSG:4326; ``code, name, level, gemeente_code, geometry``) of
    ``level`` (gemeente|wijk|buurt), of one demo gemeente or (``gemeente=None``) all of them."""
    if level not in _LEVEL_FEATURES:
        raise ValueError(f"Onbekend niveau {level!r}; kies uit {', '.join(_LEVEL_FEATURES)}.")
    raw = synthetic.generate(year)
    gdf = gpd.GeoDataFrame.from_features(raw.features[_LEVEL_FEATURES[level]], crs="EPSG:4326")
    gdf["code"] = gdf[f"{level}code"]
    gdf["name"] = gdf[f"{level}naam"]
    gdf["level"] = level
    gdf = gdf[["code", "name", "level", "gemeentecode", "geometry"]].rename(columns={"gemeentecode": "gemeente_code"})
    if gemeente and level != "gemeente":
        gdf = gdf[gdf["gemeente_code"] == gemeente]
    return gdf.reset_index(drop=True)
