"""``python -m buurtmonitor``: table, fetch, indicators, error handling (real subprocesses)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from standins.cbs_odata import KWB2024_CSV, KWB2024_DIR
from standins.shared_data import require_shared

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args, env=None, timeout=120):
    e = {**os.environ, **(env or {})}
    e.pop("BUURTMONITOR_OFFLINE", None)
    return subprocess.run([sys.executable, "-m", "buurtmonitor", *args], cwd=REPO, env=e,
                          capture_output=True, text=True, timeout=timeout)


def test_table_ede_wijken_csv_exact(cbs_kwb2024, tmp_path):
    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}")
    env = {"CBS_ODATA_URL": cbs_kwb2024.url, "BUURTMONITOR_CACHE_DIR": str(tmp_path)}
    res = run_cli("table", "--year", "2024", "--gemeente", "GM0228", "--level", "wijk", "--format", "csv", env=env)
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(io.StringIO(res.stdout), dtype={"code": str})
    src = pd.read_csv(shared / KWB2024_DIR / KWB2024_CSV, sep=";", encoding="utf-8-sig", dtype=str)
    src["code"] = src["Codering_3"].str.strip()
    src = src[src["code"].str.startswith("WK0228")].set_index("code")
    assert len(out) == 17 and set(out["code"]) == set(src.index)
    cols = {"inwoners": "AantalInwoners_5", "herkomst_nederland": "Nederland_17",
            "herkomst_europa": "EuropaExclusiefNederland_18", "herkomst_buiten_europa": "BuitenEuropa_19",
            "geb_nl_herkomst_europa": "EuropaExclusiefNederland_21",
            "geb_buiten_nl_herkomst_buiten_europa": "BuitenEuropa_24"}
    for _, row in out.iterrows():
        for ours, theirs in cols.items():
            assert int(row[ours]) == int(src.at[row["code"], theirs]), (row["code"], ours)
    assert {"code", "name", "level"} <= set(out.columns)
    assert "Bron: CBS" in res.stderr


def test_unreachable_server_clear_message_nonzero_cache_unchanged(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())
    env = {"CBS_ODATA_URL": "http://127.0.0.1:9", "BUURTMONITOR_CACHE_DIR": str(tmp_path),
           "BUURTMONITOR_RETRIES": "1", "BUURTMONITOR_BACKOFF": "0.01", "PDOK_URL": "http://127.0.0.1:9"}
    for args in (["table", "--year", "2024", "--gemeente", "GM0228", "--format", "csv"],
                 ["fetch", "--year", "2024", "--gemeente", "GM0228"]):
        res = run_cli(*args, env=env)
        assert res.returncode == 4, res
        assert "niet bereikbaar" in res.stderr or "niet bruikbaar" in res.stderr
        assert "Traceback" not in res.stderr
        assert res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_failing_server_5xx(cbs_kwb2024, tmp_path):
    cbs_kwb2024.fail_next(100, "500")
    env = {"CBS_ODATA_URL": cbs_kwb2024.url, "BUURTMONITOR_CACHE_DIR": str(tmp_path),
           "BUURTMONITOR_RETRIES": "1", "BUURTMONITOR_BACKOFF": "0.01"}
    res = run_cli("table", "--year", "2024", "--gemeente", "GM0228", env=env)
    assert res.returncode == 4 and "500" in res.stderr and "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,msg", [
    (["table", "--year", "2024", "--gemeente", "Ede"], "geen gemeentecode"),
    (["table", "--year", "2024"], "--gemeente"),
    (["table", "--year", "2024", "--from", "bestaat-niet.xlsx"], "niet gevonden"),
])
def test_bad_input(args, msg, tmp_path):
    res = run_cli(*args, env={"BUURTMONITOR_CACHE_DIR": str(tmp_path), "CBS_ODATA_URL": "http://127.0.0.1:9"})
    assert res.returncode != 0 and msg in res.stderr and "Traceback" not in res.stderr


def test_demo_gemeente_offline(tmp_path):
    res = run_cli("table", "--year", "2020", "--gemeente", "GM9901", "--level", "buurt", "--format", "csv",
                  env={"BUURTMONITOR_CACHE_DIR": str(tmp_path), "CBS_ODATA_URL": "http://127.0.0.1:9"})
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(io.StringIO(res.stdout))
    assert len(out) == 36 and "westers" in out.columns and "marokko" in out.columns
    assert "FICTIEVE" in res.stderr


def test_indicators_lists_ids():
    res = run_cli("indicators", "--format", "csv")
    assert res.returncode == 0
    ids = pd.read_csv(io.StringIO(res.stdout))["id"].tolist()
    assert "pct_herkomst_buiten_europa" in ids and "pct_niet_westers" in ids and len(ids) >= 30
