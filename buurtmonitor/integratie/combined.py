"""CBS figures by origin and a gemeente's own figures (eigen gegevens) as one frame.

The CBS side (:mod:`buurtmonitor.integratie.harmonise`) and the import of own data
(:mod:`buurtmonitor.integratie.own_data`) share the indicator ids; this module maps the rest
so one set of measures (:mod:`buurtmonitor.integratie.measures`) works on both:

* the group ids of ``data/origin_groups.toml`` that own files use (``nederland``,
  ``buiten_europa``) become the CBS group ids (``herkomst_nederland``, ...) through
  :func:`~buurtmonitor.integratie.catalogue.own_group_map`; countries of origin (``syrie``)
  keep their id;
* the scheme of a row is the scheme of its group; a country of origin takes the scheme of the
  other groups of its file and year (an own file speaks one scheme per year);
* the small-number reason of own data becomes the CBS-side reason (``klein_aantal``), so the
  same label is shown;
* ``table_id`` is the id of the imported set, ``api`` is ``"eigen"``; ``area_code`` and
  ``area_name`` say which area a row describes (for CBS rows: the gemeente or the country).
"""

from __future__ import annotations

import pandas as pd

from .catalogue import OriginCatalogue, load_origin_catalogue, own_group_map
from .harmonise import FRAME_COLUMNS, MISSING_SMALL_N, normalise_frame
from .own_data import API_OWN
from .own_data import MISSING_SMALL_N as OWN_SMALL_N

#: columns of a combined frame: the CBS long frame plus the area and the source line
COMBINED_COLUMNS = [*FRAME_COLUMNS, "area_code", "area_name", "source"]


def own_as_origin_frame(own: pd.DataFrame, *, levels: tuple[str, ...] = ("gemeente",),
                        catalogue: OriginCatalogue | None = None) -> pd.DataFrame:
    """Own data (columns of :data:`buurtmonitor.integratie.own_data.FRAME_COLUMNS`) as a
    combined frame (:data:`COMBINED_COLUMNS`), only the rows of ``levels``."""
    cat = catalogue or load_origin_catalogue()
    if own.empty:
        return empty_combined()
    rows = own[own["level"].isin(levels)].copy()
    if rows.empty:
        return empty_combined()
    gmap = own_group_map(cat)
    rows["group"] = rows["group"].map(lambda g: gmap.get(g, g))
    rows = rows[rows["group"].isin(cat.groups.keys())]
    scheme_of = {gid: g.scheme for gid, g in cat.groups.items()}
    rows["scheme"] = rows["group"].map(lambda g: scheme_of[g] if scheme_of[g] != "*" else None)
    known = rows.dropna(subset=["scheme"]).groupby(["table_id", "year"])["scheme"].agg(
        lambda s: s.mode().iloc[0])
    fill = [known.get((t, y), "herkomst") for t, y in zip(rows["table_id"], rows["year"])]
    rows["scheme"] = rows["scheme"].where(rows["scheme"].notna(), pd.Series(fill, index=rows.index))
    rows["missing"] = rows["missing"].map(lambda m: MISSING_SMALL_N if m == OWN_SMALL_N else m)
    rows["api"] = API_OWN
    out = rows.reindex(columns=COMBINED_COLUMNS)
    return _types(out)


def cbs_as_combined(frame: pd.DataFrame, *, source: str = "Bron: CBS") -> pd.DataFrame:
    """A harmonised CBS frame with the combined columns (area = the gemeente or the country)."""
    out = normalise_frame(frame).copy()
    out["area_code"] = out["gemeente_code"]
    out["area_name"] = out["gemeente_name"]
    out["source"] = [f"{source}, {t}" for t in out["table_id"]] if len(out) else []
    return _types(out.reindex(columns=COMBINED_COLUMNS))


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    """Concatenate combined frames (rows of later frames come after earlier ones)."""
    parts = [f for f in frames if not f.empty]
    if not parts:
        return empty_combined()
    return _types(pd.concat(parts, ignore_index=True).reindex(columns=COMBINED_COLUMNS))


def empty_combined() -> pd.DataFrame:
    """A combined frame without rows."""
    return _types(pd.DataFrame(columns=COMBINED_COLUMNS))


def _types(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    for col in ("value", "n"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["year"] = pd.to_numeric(out["year"], errors="coerce").fillna(0).astype("int64")
    for col in set(COMBINED_COLUMNS) - {"value", "n", "year"}:
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out
