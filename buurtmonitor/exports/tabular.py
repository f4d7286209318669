"""Tables as CSV bytes: the one CSV dialect of every download and of the CLI.

Dutch spreadsheet dialect: ``;``-separated, decimal comma, no thousands separator (a
spreadsheet must read the cell as a number), whole numbers without ``,0`` (``10210``, not
``10210,0``), a missing value as an empty cell (never 0), CRLF line ends, UTF-8 with BOM (so
Excel detects the encoding). Text cells that a spreadsheet would run as a formula (starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, e.g. ``=HYPERLINK(...)``) get a
leading apostrophe, so a CBS name or a user's note can never become a formula.

Read it back with ``pandas.read_csv(f, sep=";", decimal=",", encoding="utf-8-sig")``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from buurtmonitor.formatting import csv_number

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> object:
    """``value`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every cell as the text it gets in the CSV."""
    out = pd.DataFrame(index=range(len(df)))
    for col in df.columns:
        s = df[col].reset_index(drop=True)
        if _is_numeric(s):
            out[str(col)] = [csv_number(v) for v in s.to_numpy(dtype=float, na_value=np.nan)]
        else:
            out[str(col)] = ["" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                             else safe_text(v if isinstance(v, str) else str(v)) for v in s]
    return out


def frame_to_csv(df: pd.DataFrame) -> bytes:
    """``df`` as CSV bytes in the dialect of the module docstring."""
    text = csv_frame(df).to_csv(sep=";", index=False, lineterminator="\r\n")
    return ("\ufeff" + text).encode("utf-8")
