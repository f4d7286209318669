"""The one Dutch formatter (buurtmonitor.formatting) and the one CSV dialect (exports.tabular)."""

from __future__ import annotations

import doctest
import io
import math

import numpy as np
import pandas as pd
import pytest

from buurtmonitor import formatting as f
from buurtmonitor.exports.tabular import frame_to_csv


def test_doctests():
    assert doctest.testmod(f).failed == 0


@pytest.mark.parametrize("x, decimals, text", [
    (12345.67, 1, "12.345,7"), (3455, 0, "3.455"), (4.3, 1, "4,3"), (0.59, 2, "0,59"),
    (-1.44, 1, "\u22121,4"), (-0.04, 1, "0,0"), (1_234_567.891, 2, "1.234.567,89"),
    (None, 1, "–"), (math.nan, 1, "–"), (math.inf, 1, "–"), ("abc", 1, "–"), (pd.NA, 1, "–"),
    (np.float32(27.8), 1, "27,8"), (np.int64(10210), 0, "10.210"),
])
def test_number(x, decimals, text):
    assert f.number(x, decimals) == text


def test_no_english_format_leaks():
    """The English forms found in tables ("3,455", "4.3", "0.59", "10210,0") never come out."""
    assert (f.smart(3455), f.smart(4.3), f.number(0.59, 2), f.smart(10210.0)) == ("3.455", "4,3", "0,59", "10.210")
    assert f.percent(0.177) == "17,7%" and f.pp(-14.2) == "\u221214,2 procentpunt"
    assert f.pp(3, sign=True) == "+3,0 procentpunt"
    assert f.value(299_000, "euro") == "€ 299.000" and f.value(61, "%") == "61,0%"
    assert f.value(12345, "aantal") == "12.345" and f.value(None, "%") == "–"
    assert f.index(0.3264) == "0,326" and f.z_score(-1.44) == "\u22121,4" and f.z_score(2) == "+2,0"
    assert f.smart(10210.0) == "10.210" and f.smart(27.84) == "27,8"
    assert f.level_plural("wijk") == "wijken" and f.level_plural("buurt") == "buurten"


@pytest.mark.parametrize("x, text", [(10210.0, "10210"), (27.8, "27,8"), (0.00001, "0,00001"),
                                     (-3.5, "-3,5"), (None, ""), (math.nan, ""), (math.inf, ""), (0.0, "0")])
def test_csv_number(x, text):
    assert f.csv_number(x) == text


def test_csv_dialect_round_trips_and_neutralises_formulas():
    df = pd.DataFrame({"Naam": ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "+31", "-1", "Ede"],
                       "n": [10210.0, 5.0, np.nan, 0.0, 3.0],
                       "Aandeel (%)": [27.84, 4.3, 0.59, np.nan, 100.0]})
    raw = frame_to_csv(df)
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert "10210;" in text and "10210,0" not in text and "27,84" in text
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+31" in text and "'-1" in text
    back = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig")
    assert back["n"].tolist()[:2] == [10210, 5] and math.isnan(back["n"][2])
    assert back["Aandeel (%)"][0] == pytest.approx(27.84)
    assert back["Naam"][4] == "Ede"
