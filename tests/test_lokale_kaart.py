"""The lokale-kaart glue and ``python -m buurtmonitor indices`` on real KWB 2024 data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from buurtmonitor.lokale_kaart import indices as lokale_kaart
from buurtmonitor.lokale_kaart.change import SchemeBreakError
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR
from devtools.standins.shared_data import require_shared
from loaders import repository

REPO = Path(__file__).resolve().parents[1]


def ede_expected_d() -> tuple[float, int]:
    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}")
    df = pd.read_csv(shared / KWB2024_DIR / KWB2024_CSV, sep=";", encoding="utf-8-sig", dtype=str)
    df["code"] = df["Codering_3"].str.strip()
    b = df[df["code"].str.startswith("BU0228")]
    a_i = pd.to_numeric(b["Nederland_17"]).to_numpy(float)
    b_i = pd.to_numeric(b["BuitenEuropa_19"]).to_numpy(float)
    tot = pd.to_numeric(b["AantalInwoners_5"]).to_numpy(float)
    keep = tot > 0  # areas without residents have no composition
    a_i, b_i = a_i[keep], b_i[keep]
    return 0.5 * np.abs(a_i / a_i.sum() - b_i / b_i.sum()).sum(), int(keep.sum())


def test_cli_indices_ede_dissimilarity(cbs_kwb2024, tmp_path):
    expected, n = ede_expected_d()
    env = {**os.environ, "CBS_ODATA_URL": cbs_kwb2024.url, "BUURTMONITOR_CACHE_DIR": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", "buurtmonitor", "indices", "--year", "2024", "--gemeente",
                          "GM0228", "--level", "buurt", "--format", "json"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert abs(out["dissimilarity"] - expected) < 1e-6
    assert out["n_areas"] == n and out["pair"] == ["herkomst_nederland", "herkomst_buiten_europa"]
    assert out["groups"] == ["herkomst_nederland", "herkomst_europa", "herkomst_buiten_europa"]
    for key in ("multigroup_dissimilarity", "theil_h", "isolation", "exposure", "areas"):
        assert out[key]
    # set against all gemeenten of the extract
    nat = out["national"]
    assert nat["n_gemeenten"] > 150 and 1 <= nat["dissimilarity"]["rank"] <= nat["n_gemeenten"]
    text = subprocess.run([sys.executable, "-m", "buurtmonitor", "indices", "--year", "2024", "--gemeente",
                           "GM0228"], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert f"{expected:.4f}" in text.stdout and "Plaats" in text.stdout


def test_change_signals_demo_and_scheme_break():
    t23 = repository.demo_table(2023, "GM9901")
    t24 = repository.demo_table(2024, "GM9901")
    res = lokale_kaart.change_signals(t23, t24, "GM9901", "buurt")
    assert len(res.areas) >= 30
    t22 = repository.demo_table(2022, "GM9901")
    with pytest.raises(SchemeBreakError):
        lokale_kaart.change_signals(t22, t23, "GM9901", "buurt")
    assert lokale_kaart.previous_comparable_year(2024, [2019, 2022, 2023, 2024]) == 2023
    assert lokale_kaart.previous_comparable_year(2023, [2019, 2022, 2023, 2024]) is None


def test_measures_migratieachtergrond_demo():
    t = repository.demo_table(2020, "GM9901")
    res = lokale_kaart.measures(t, "GM9901", "buurt")
    assert res.pair == ("nederlandse_achtergrond", "niet_westers") and 0 < res.dissimilarity < 1
    assert res.fictitious is True


def test_worksheet_sections_of_the_catalogue_are_the_sections_notes_are_stored_under():
    from buurtmonitor.catalogue import load_lokale_kaart
    from loaders.notes import SECTIONS

    texts = load_lokale_kaart()
    assert [s.id for s in texts.sections] == list(SECTIONS)
    for s in texts.sections:
        assert s.title == SECTIONS[s.id]["title"] and s.prompt.strip()
    with pytest.raises(KeyError):
        texts.section("bestaat_niet")


SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


@pytest.fixture
def demo_only(monkeypatch, tmp_path):
    """No CBS (nothing listens on port 9), an empty cache and notes folder: the demo."""
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUURTMONITOR_DATA_DIR", str(tmp_path / "data"))
    return {k: os.environ[k] for k in ("CBS_ODATA_URL", "PDOK_URL", "BUURTMONITOR_CACHE_DIR",
                                       "BUURTMONITOR_DATA_DIR")}


@pytest.mark.parametrize("year, level, key", [(2024, "buurt", "cli_2024_buurt"),
                                               (2024, "wijk", "cli_2024_wijk"),
                                               (2020, "buurt", "cli_2020_buurt")])
def test_cli_indices_json_is_what_it_was_before_the_typed_results(demo_only, year, level, key):
    """``indices --format json`` of the generated demo gemeente, against the output the CLI
    gave when the measures were a dict (tests/snapshots, recorded before the change; the
    PySAL ``cross_check`` entry it had then is gone with the run-time check)."""
    expected = json.loads((SNAPSHOTS / "indices_demo.json").read_text(encoding="utf-8"))[key]
    res = subprocess.run([sys.executable, "-m", "buurtmonitor", "indices", "--year", str(year),
                          "--gemeente", "GM9901", "--level", level, "--format", "json"], cwd=REPO,
                         env={**os.environ, **demo_only}, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out == expected
    assert list(out) == list(expected)                      # the same keys in the same order


def test_cli_indices_text_is_what_it_was(demo_only):
    res = subprocess.run([sys.executable, "-m", "buurtmonitor", "indices", "--year", "2024",
                          "--gemeente", "GM9901"], cwd=REPO, env={**os.environ, **demo_only},
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (SNAPSHOTS / "indices_demo_2024_buurt.txt").read_text(encoding="utf-8")


def test_measures_with_national_comparison_to_dict_as_before():
    """The typed result with a national comparison (the fictitious country of the demo)
    gives the dict the untyped measures gave."""
    table = repository.demo_table(2024, "GM9901")
    m = lokale_kaart.measures(table, "GM9901", "wijk", national=repository.demo_table(2024, "alle"))
    expected = json.loads((SNAPSHOTS / "indices_demo.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(m.to_dict(), default=float)) == expected["measures_2024_wijk_national"]
    assert m.national is not None and m.national.ranks["dissimilarity"].of == m.national.n_gemeenten
    with pytest.raises(FrozenInstanceError):
        m.dissimilarity = 0.0  # type: ignore[misc]
