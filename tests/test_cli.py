"""``python -m buurtmonitor``: table, fetch, indicators, error handling (real subprocesses)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from devtools import kwb_files
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR
from devtools.standins.shared_data import require_shared
from loaders import notes, repository

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


def test_table_from_kwb_xlsx_of_another_year(tmp_path):
    """`table --from` on a kwb-2019.xlsx gives the numbers in that file (old scheme)."""
    from test_imports import KWB_2019
    path = tmp_path / "kwb-2019.xlsx"
    KWB_2019.to_excel(path, index=False)
    res = run_cli("table", "--year", "2019", "--level", "buurt", "--from", str(path), "--format", "csv",
                  env={"BUURTMONITOR_CACHE_DIR": str(tmp_path / "c"), "CBS_ODATA_URL": "http://127.0.0.1:9"})
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(io.StringIO(res.stdout), dtype={"code": str}).set_index("code")
    src = KWB_2019.set_index("gwb_code_10")
    buurten = [c for c in src.index if c.startswith("BU")]
    assert sorted(out.index) == sorted(buurten)
    for code in buurten:
        for ours, theirs in {"inwoners": "a_inw", "westers": "a_w_all", "marokko": "a_marok",
                             "turkije": "a_tur"}.items():
            raw = src.at[code, theirs]
            if raw == ".":
                assert pd.isna(out.at[code, ours])  # suppressed: empty, never 0
            else:
                assert int(out.at[code, ours]) == int(raw)


def test_table_from_generated_kwb_2022_prints_turkije_and_suriname(tmp_path):
    """A kwb-2022.xlsx in the CBS layout (a_tur, a_suri, lone ',' cells) through the CLI."""
    gen = kwb_files.write_kwb_files(tmp_path, 2022)
    res = run_cli("table", "--year", "2022", "--level", "buurt", "--from", str(gen.xlsx), "--format", "csv",
                  env={"BUURTMONITOR_CACHE_DIR": str(tmp_path / "c"), "CBS_ODATA_URL": "http://127.0.0.1:9"})
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    out = pd.read_csv(io.StringIO(res.stdout), dtype={"code": str}).set_index("code")
    assert {"turkije", "suriname", "marokko", "westers", "niet_westers"} <= set(out.columns)
    buurten = [c for c in gen.expected.index if c.startswith("BU")]
    assert sorted(out.index) == sorted(buurten)
    for code in buurten:
        for var in ("inwoners", "turkije", "suriname", "marokko"):
            want = gen.expected.at[code, var]
            if pd.isna(want):
                assert pd.isna(out.at[code, var]), (code, var)  # suppressed or ',': empty, never 0
            else:
                assert int(out.at[code, var]) == int(want), (code, var)
    assert out["turkije"].notna().sum() >= 3 and out["suriname"].notna().sum() >= 3


def test_table_from_real_utrecht_xlsx(tmp_path):
    shared = require_shared("kwb_utrecht_2024/kwb-2024-gemeente-utrecht.xlsx")
    path = shared / "kwb_utrecht_2024" / "kwb-2024-gemeente-utrecht.xlsx"
    res = run_cli("table", "--year", "2024", "--gemeente", "GM0344", "--level", "wijk", "--from", str(path),
                  "--format", "csv", env={"BUURTMONITOR_CACHE_DIR": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(io.StringIO(res.stdout), dtype={"code": str}).set_index("code")
    src = pd.read_excel(path, dtype=str).set_index("gwb_code_10")
    wijken = [c for c in src.index if c.startswith("WK")]
    assert sorted(out.index) == sorted(wijken) and len(wijken) == 10
    for code in wijken:
        for ours, theirs in {"inwoners": "a_inw", "herkomst_nederland": "a_nl_all",
                             "herkomst_europa": "a_eur_al", "herkomst_buiten_europa": "a_neu_al"}.items():
            assert int(out.at[code, ours]) == int(src.at[code, theirs])


# ------------------------------------------------------------------------------ fetch NL
def _pdok_country(tmp_path):
    """A PDOK stand-in with 600 generated buurten (PDOK-like properties) and their gemeenten."""
    from devtools import synth_nl
    from devtools.standins.pdok import PdokServer
    gdf = synth_nl.generate(600, work=tmp_path / "synth", log=lambda m: None)
    gm = synth_nl.dissolve(gdf, "gemeentecode")
    gm["gemeentenaam"] = "Gemeente " + gm["gemeentecode"].str[2:]
    server = PdokServer()
    server.add_collection(2024, "buurten", synth_nl.features(gdf))
    server.add_collection(2024, "gemeenten", synth_nl.features(gm))
    return server, gdf


@pytest.mark.slow
def test_fetch_nl_warms_the_national_maps(cbs_kwb2024, tmp_path, monkeypatch):
    """``fetch --gemeente NL``: every area's statistics, all gemeente and buurt boundaries and the
    buurten simplified for the national map go into the cache; afterwards the national views
    load without CBS or PDOK. With PDOK down nothing is written at all."""
    server, gdf = _pdok_country(tmp_path)
    cache = tmp_path / "cache"
    with server:
        # PDOK down: exit 4, Dutch message, not a byte in the cache (CBS answered first)
        env = {"CBS_ODATA_URL": cbs_kwb2024.url, "PDOK_URL": "http://127.0.0.1:9", "BUURTMONITOR_CACHE_DIR": str(cache),
               "BUURTMONITOR_RETRIES": "0"}
        res = run_cli("fetch", "--year", "2024", "--gemeente", "NL", env=env, timeout=300)
        assert res.returncode == 4 and "niet bereikbaar" in res.stderr and "Traceback" not in res.stderr, res.stderr
        assert not cache.exists() or not any(cache.rglob("*.parquet"))

        env["PDOK_URL"] = server.url
        res = run_cli("fetch", "--year", "2024", "--gemeente", "nl", env=env, timeout=300)
        assert res.returncode == 0, res.stderr
        assert "600 buurtgrenzen" in res.stdout and "[100%] Klaar" in res.stderr, (res.stdout, res.stderr)

    # now without any network: the national data come from the cache
    monkeypatch.delenv("BUURTMONITOR_OFFLINE", raising=False)
    monkeypatch.setenv("CBS_ODATA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PDOK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BUURTMONITOR_CACHE_DIR", str(cache))
    every = repository.load_table(2024, "alle")
    assert every.origin == "cache" and len(every.table.data) == 10_000
    assert repository.load_table(2024, "gemeenten").origin == "cache"
    web = repository.load_web_boundaries(2024, "buurt", None, national=True)
    assert web.origin == "cache" and len(web.gdf) == 600
    assert set(web.gdf["code"]) == set(gdf["buurtcode"])
    gm = repository.load_web_boundaries(2024, "gemeente", None)
    assert gm.origin == "cache" and len(gm.gdf) == gdf["gemeentecode"].nunique()


def test_fetch_accepts_nl_but_not_nonsense(tmp_path):
    res = run_cli("fetch", "--year", "2024", "--gemeente", "Nederlandje",
                  env={"BUURTMONITOR_CACHE_DIR": str(tmp_path), "CBS_ODATA_URL": "http://127.0.0.1:9"})
    assert res.returncode == 2 and "NL voor heel Nederland" in res.stderr and "Traceback" not in res.stderr


# ------------------------------------------------------------------ notes backup / restore
@pytest.fixture(params=["sqlite", "postgresql"])
def notes_env(request, tmp_path):
    """``notes_env()``: the env of a fresh, empty notes store of the backend (a data folder, or a
    new database in BUURTMONITOR_DATABASE_URL), and a way to open it here."""
    made = []

    def make() -> tuple[dict, object]:
        if request.param == "postgresql":
            env = {"BUURTMONITOR_DATABASE_URL": request.getfixturevalue("pg_database")(),
                   "BUURTMONITOR_DATA_DIR": str(tmp_path / "unused")}
            store = notes.notes_pg.PgNotesStore(env["BUURTMONITOR_DATABASE_URL"])
        else:
            data = tmp_path / f"data{len(made)}"
            env = {"BUURTMONITOR_DATA_DIR": str(data), "BUURTMONITOR_DATABASE_URL": ""}
            store = notes.SQLiteNotesStore(data / "notes" / "werkblad.sqlite")
        made.append(env)
        return env, store

    return make


def test_notes_backup_restore_and_compare(notes_env, tmp_path):
    src_env, src = notes_env()
    a = src.add("GM0228", "themas", "VERTROUWELIJK: aanjagers bij het plein – ‘wij/zij’ 🙂", author="Sanne")
    src.add("GM0344", "fase", "Onderstroom")
    src.update(a, "Tweede versie", expected_version=1, author="Piet")
    b = src.add("GM0228", "plekken", "weg")
    src.delete(b, author="Ali")
    out = tmp_path / "backup.json"
    res = run_cli("notes", "backup", "--out", str(out), env=src_env)
    assert res.returncode == 0, res.stderr
    assert "3 notities, 5 versies" in res.stderr
    assert out.stat().st_mode & 0o077 == 0                        # readable by the owner only

    dst_env, dst = notes_env()
    res = run_cli("notes", "restore", "--file", str(out), env=dst_env)
    assert res.returncode == 0, res.stderr
    assert "Teruggezet" in res.stderr and "3 notities, 5 versies" in res.stderr
    assert dst.dump() == src.dump()                                # restore-and-compare

    # over a store with notes: refused without --replace, nothing changed
    dst.add("GM0228", "beleid", "na de back-up geschreven")
    before = dst.dump()
    res = run_cli("notes", "restore", "--file", str(out), env=dst_env)
    assert res.returncode == 3 and "--replace" in res.stderr and "niets teruggezet" in res.stderr
    assert dst.dump() == before
    res = run_cli("notes", "restore", "--file", str(out), "--replace", env=dst_env)
    assert res.returncode == 0, res.stderr
    assert dst.dump() == src.dump()

    # one gemeente, to standard output
    res = run_cli("notes", "backup", "--out", "-", "--gemeente", "GM0344", env=src_env)
    assert res.returncode == 0 and '"gemeente": "GM0344"' in res.stdout and "VERTROUWELIJK" not in res.stdout
    assert "Traceback" not in res.stderr


def test_notes_restore_refuses_bad_files_and_targets(notes_env, tmp_path):
    env, store = notes_env()
    store.add("GM0228", "themas", "blijft staan")
    before = store.dump()
    bad = tmp_path / "kapot.json"
    bad.write_text('{"format": "buurtmonitor-notities", "format_version": 1, "notes": [', encoding="utf-8")
    cases = [(["notes", "restore", "--file", str(bad), "--replace"], 3, "geen geldige JSON"),
             (["notes", "restore", "--file", str(tmp_path / "bestaat-niet.json")], 2, "niet gevonden"),
             (["notes", "backup", "--out", "/dev/null"], 2, "geen gewoon bestand"),
             (["notes", "restore", "--file", str(bad), "--gemeente", "XX"], 2, "gemeentecode")]
    for args, code, msg in cases:
        res = run_cli(*args, env=env)
        assert res.returncode == code, (args, res.stderr)
        assert msg in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert store.dump() == before


def test_notes_check_reports_an_emptied_database(notes_env):
    env, store = notes_env()
    for i in range(3):
        store.add("GM0228", "themas", f"notitie {i}")
    assert run_cli("notes", "check", env=env).returncode == 0
    if env.get("BUURTMONITOR_DATABASE_URL"):
        with psycopg.connect(env["BUURTMONITOR_DATABASE_URL"]) as conn:
            conn.execute("TRUNCATE buurtmonitor_note_versions, buurtmonitor_notes")
    else:
        for p in store.path.parent.glob("werkblad.sqlite*"):
            if not p.name.endswith(".stand.json"):
                p.unlink()
    res = run_cli("notes", "check", env=env)
    assert res.returncode == 3 and "eerder 3 in stonden" in res.stderr and "Traceback" not in res.stderr


# ------------------------------------------------------------------------------ start-up
HEAVY = ("plotly", "streamlit", "kaleido", "pptx", "pyogrio", "matplotlib")


def imported_top_level(stderr: str) -> set[str]:
    """The top-level packages in the ``python -X importtime`` report on ``stderr``."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_table_from_the_cache_imports_neither_plotly_nor_streamlit(cbs_kwb2024, tmp_path):
    """``table`` for a cached gemeente loads only what it needs: the data path and pandas, not
    plotly, Streamlit, the briefing stack or the file readers (the dispatcher imports the module
    of the chosen command). The same report of the export command does name plotly, so the
    check can fail."""
    env = {"CBS_ODATA_URL": cbs_kwb2024.url, "BUURTMONITOR_CACHE_DIR": str(tmp_path)}
    args = ("table", "--year", "2024", "--gemeente", "GM0228", "--format", "csv")
    assert run_cli(*args, env=env).returncode == 0                      # fills the cache
    env["CBS_ODATA_URL"] = "http://127.0.0.1:9"                           # now from the cache only
    e = {**os.environ, **env}
    e.pop("BUURTMONITOR_OFFLINE", None)
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "buurtmonitor", *args], cwd=REPO, env=e,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(pd.read_csv(io.StringIO(res.stdout))) == 17
    seen = imported_top_level(res.stderr)
    assert {"pandas", "loaders", "app"} <= seen
    assert not set(HEAVY) & seen, sorted(set(HEAVY) & seen)
    assert "app.briefing_export" not in res.stderr and "loaders.imports" not in res.stderr

    export = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app.cli_export"], cwd=REPO,
                            env=e, capture_output=True, text=True, timeout=120)
    assert "plotly" in imported_top_level(export.stderr)


def test_every_command_has_its_handler_in_its_module():
    """The dispatcher (standard library only) names a module per command; each has the handler."""
    import ast
    import importlib

    from app import cli
    tree = ast.parse((REPO / "app" / "cli.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "argparse", "importlib", "sys"}, imported
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert set(subparsers.choices) == set(cli.MODULES)
    for command, sub in subparsers.choices.items():
        nested = [a for a in sub._actions if a.dest == f"{command}_command"]
        subs = list(nested[0].choices.values()) if nested else [sub]     # notes backup|restore|check
        for leaf in subs:
            handler = leaf.get_default("handler")
            assert callable(getattr(importlib.import_module(cli.MODULES[command]), handler)), command
    assert callable(importlib.import_module(cli.TABLE_FROM_FILE).cmd_table)
