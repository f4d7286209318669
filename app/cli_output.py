"""Output of ``python -m buurtmonitor``: a frame as csv or json (for programs: decimal point, no
thousands separator) or text (for people: Dutch numbers through :mod:`buurtmonitor.formatting`),
and the progress line on stderr."""

from __future__ import annotations

import sys

import pandas as pd

from buurtmonitor import formatting


def progress(frac: float, msg: str) -> None:
    print(f"[{frac * 100:3.0f}%] {msg}", file=sys.stderr, flush=True)


def write(df: pd.DataFrame, fmt: str) -> None:
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
