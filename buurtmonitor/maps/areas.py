"""The indicator values of the areas on a map: one row per area of a geometry, the reference
values (gemeente, Nederland) and the counts of the "wat zie je" text. Pure functions."""

from __future__ import annotations

from typing import Any

import pandas as pd

from buurtmonitor.maps.geometry import MapGeometry


def rows_for(geom: MapGeometry, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per code of the geometry (index = code; columns name, value, missing, n,
    small_n). Areas without statistics get missing = ``niet_in_tabel``, never 0."""
    f = frame.reindex(columns=["code", "name", "value", "missing", "n", "small_n"]).copy()
    f["code"] = f["code"].astype(str).str.strip()
    f = f.drop_duplicates("code").set_index("code")
    rows = f.reindex(geom.codes)
    if rows["name"].isna().any():
        rows["name"] = rows["name"].fillna(pd.Series(geom.names)).fillna(pd.Series(rows.index, index=rows.index))
    no_row = rows["value"].isna() & rows["missing"].isna()
    rows.loc[no_row, "missing"] = "niet_in_tabel"
    rows["small_n"] = rows["small_n"].fillna(False).astype(bool)
    return rows


def reference_values(frame: pd.DataFrame, gemeente: str | None) -> dict[str, tuple[str, float]]:
    """{"gemeente": (name, value), "nederland": ("Nederland", value)} from an indicator frame
    that holds the gemeente and land rows (where present and not missing)."""
    out: dict[str, tuple[str, float]] = {}
    if gemeente:
        g = frame[(frame["code"] == gemeente)]
        if len(g) and pd.notna(g["value"].iloc[0]):
            out["gemeente"] = (str(g["name"].iloc[0]), float(g["value"].iloc[0]))
    nl = frame[frame["level"] == "land"]
    if len(nl) and pd.notna(nl["value"].iloc[0]):
        out["nederland"] = ("Nederland", float(nl["value"].iloc[0]))
    return out


def summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts for the "wat zie je" text: areas, with a value, missing by reason, small n."""
    missing = frame["missing"].dropna()
    n = pd.to_numeric(frame["n"], errors="coerce")
    return {
        "areas": int(len(frame)),
        "with_value": int(frame["value"].notna().sum()),
        "missing": int(frame["value"].isna().sum()),
        "missing_by_reason": {k: int(v) for k, v in missing.value_counts().items()},
        "small_n": int(frame["small_n"].fillna(False).astype(bool).sum()),
        "n_total": float(n.sum()) if n.notna().any() else float("nan"),
        "min": float(frame["value"].min()) if frame["value"].notna().any() else float("nan"),
        "max": float(frame["value"].max()) if frame["value"].notna().any() else float("nan"),
    }
