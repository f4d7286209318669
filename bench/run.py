"""Buurtmonitor performance benchmark: this project against a naive baseline, side by side,
in one run (``make bench`` or ``.venv/bin/python bench/run.py``).

Writes ``bench/results/latest.json`` and ``bench/results/latest.md`` (and prints the table).
Measured, with the stand-in CBS and PDOK servers of ``tests/standins`` (nothing leaves the
machine):

1. loading one gemeente (Amsterdam, GM0363: the real rows of the KWB 2024 extract, 111
   wijken and 518 buurten, with generated full-detail buurt polygons): cold (empty cache,
   from the stand-in servers) and from the cache;
2. the map figure and its serialised size (``fig.to_json()`` bytes and gzip bytes, plus the
   GeoJSON file the browser fetches once) for one gemeente's buurten, all gemeenten (the real
   2022 gemeenten), and all buurten of NL: (a) the real coarse 2014 TopoJSON (11,691) and
   (b) a generated full-detail set of ~14,000 polygons (``bench/synth_nl.py``, ~125 MB raw);
3. server time of a rerun of ``pages/kaart.py`` when only the indicator changes (AppTest,
   median of several), for the gemeente view and the national buurt view;
4. first paint of the map in headless Chromium (navigation start until MapLibre has drawn
   area polygons), gemeente and national buurt view;
5. warm PNG export of a map (``bench/bench_export.py``);
6. peak memory (RSS of the Streamlit server process and its children, sampled with psutil)
   with the national buurt view open.

The naive baseline (``bench/naive.py``, ``bench/naive_app.py``): unsimplified GeoJSON with all
properties inline, a fresh figure per rerun, no cache.

Generated data goes to ``bench/.work/`` (git-ignored, made once and reused). Without
``../shared/data`` the measurements that need the real extracts are skipped with a note.
Speed goals are measured here, never asserted in tests. Options: ``--quick`` (fewer
repetitions, no naive national browser run), ``--no-browser``, ``--no-naive-national``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
logging.getLogger("streamlit").setLevel(logging.ERROR)

RESULTS = BENCH / "results"
WORK = BENCH / ".work"
YEAR = 2024
GEMEENTE = "GM0363"
GEMEENTE_NAME = "Amsterdam"
INDICATORS = ["pct_herkomst_buiten_europa", "pct_herkomst_europa", "pct_herkomst_nederland"]
TOPO_2014 = "geo_cbs_topojson_2014_2015/Buurt_2014_layer_q1e3.topojson"
GEMEENTEN_2022 = "geo_gemeenten_2022_pdok/gemeente_gegeneraliseerd_2022.geojson"

TARGETS = [
    # key, description, goal text, test(value) -> bool, unit
    ("rerun_gemeente_s", "Indicator switch in a gemeente view: server rerun", "≤ 0.15 s", lambda v: v <= 0.15, "s"),
    ("national_payload_mb", "National buurt map (~14,000): payload (map data + GeoJSON and outline files)", "≤ 5 MB",
     lambda v: v <= 5.0, "MB"),
    ("national_first_paint_s", "National buurt map: first paint (headless Chromium)", "≤ 3 s",
     lambda v: v <= 3.0, "s"),
    ("national_payload_ratio", "National buurt map: smaller than the naive baseline", "≥ 20×",
     lambda v: v >= 20, "×"),
    ("gemeente_from_cache_s", "One gemeente from the cache", "≤ 0.3 s", lambda v: v <= 0.3, "s"),
    ("gemeente_cold_s", "One gemeente from the stand-in servers (empty cache)", "≤ 2 s", lambda v: v <= 2.0, "s"),
    ("national_peak_rss_mb", "Peak memory of the dashboard with the national buurt map open", "≤ 1 GB (1000 MB)",
     lambda v: v <= 1000, "MB"),
    ("floor_s", "Floor: a bare Streamlit page (title + a line of text), first paint (same server flags and browser)",
     "(reference)", lambda v: True, "s"),
    ("gemeente_paint_ratio", f"Gemeente view ({GEMEENTE_NAME} buurten): first paint as a multiple of the floor",
     "≤ 1.5×", lambda v: v <= 1.5, "×"),
    ("national_paint_ratio", "National buurt map: first paint as a multiple of the floor", "≤ 1.5×",
     lambda v: v <= 1.5, "×"),
    ("national_cold_s", "First national buurt view on an empty cache (PDOK stand-in: fetch, simplify, cache)",
     "≤ 5 s", lambda v: v <= 5.0, "s"),
    ("national_cold_peak_mb", "Peak memory added by that first national load", "≤ 1 GB (1000 MB)",
     lambda v: v <= 1000, "MB"),
    ("cli_table_s", "python -m buurtmonitor table, cached gemeente: process start to output (median)", "≤ 0.5 s",
     lambda v: v <= 0.5, "s"),
]
STEPS = ("load", "national", "sizes", "rerun", "browser", "export", "cli")


# ----------------------------------------------------------------------------- helpers
def now() -> float:
    return time.perf_counter()


def med(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 4) if xs else None


def mb(n: float | None) -> float | None:
    return None if n is None else round(n / 1e6, 3)


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.release()})"
    except OSError:
        pass
    versions = {}
    for mod in ("streamlit", "plotly", "shapely", "geopandas", "pandas", "numpy", "pyarrow", "playwright"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    try:
        import shapely
        versions["GEOS"] = ".".join(map(str, shapely.geos_version))
    except Exception:  # noqa: BLE001
        pass
    chromium = None
    try:
        from browser import CHROMIUM
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001
        pass
    return {
        "cpu": cpu, "logical_cores": os.cpu_count(), "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
        "os": os_name, "chromium": chromium, "versions": versions,
    }


class Bench:
    def __init__(self, args):
        self.args = args
        self.out: dict = {"measurements": {}, "notes": [], "skipped": {}, "step_seconds": {}}
        self.t0 = time.monotonic()
        self.shared = None
        self.gdf = None
        self.cbs = self.pdok = None
        self.cache_dir: Path | None = None

    # -- bookkeeping --------------------------------------------------------------
    def note(self, text: str) -> None:
        print(f"  NB: {text}")
        self.out["notes"].append(text)

    def skip(self, key: str, reason: str) -> None:
        print(f"  skipped ({key}): {reason}")
        self.out["skipped"][key] = reason

    def put(self, section: str, values: dict) -> None:
        self.out["measurements"].setdefault(section, {}).update(values)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def step(self, name: str, fn) -> None:
        print(f"\n== {name} ({self.elapsed():.0f} s elapsed, load {load_average()})")
        t = now()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - one failing measurement must not stop the rest
            traceback.print_exc()
            self.skip(name, f"error: {type(exc).__name__}: {exc}")
        self.out["step_seconds"][name] = round(now() - t, 1)

    def env(self, cache_dir: Path | None = None) -> dict:
        e = {"CBS_ODATA_URL": self.cbs.url, "PDOK_URL": self.pdok.url, "BUURTMONITOR_RETRIES": "0",
             "BUURTMONITOR_TIMEOUT": "300", "BUURTMONITOR_CACHE_DIR": str(cache_dir or self.cache_dir)}
        return e

    def set_env(self, cache_dir: Path | None = None) -> None:
        os.environ.pop("BUURTMONITOR_OFFLINE", None)
        os.environ.update(self.env(cache_dir))

    @staticmethod
    def clear_st() -> None:
        import streamlit as st
        st.cache_data.clear()
        st.cache_resource.clear()

    # -- 0: data and servers --------------------------------------------------------
    def prepare(self) -> None:
        import standins_setup as S

        from devtools import synth_nl
        missing = S.shared_missing()
        if missing:
            self.shared = None
            self.note(f"../shared/data is missing ({', '.join(missing)}): the measurements that need the real "
                      "CBS/PDOK extracts are skipped.")
            codes, names = [], {}
        else:
            from devtools.standins.shared_data import shared_data_dir
            self.shared = shared_data_dir()
            codes, names = S.real_codes_and_names()
        t = now()
        self.gdf = synth_nl.generate(synth_nl.N_DEFAULT, real_codes=codes, names=names, work=WORK,
                                     log=lambda m: print(m))
        nv = self.gdf["n_vertices"]
        self.put("data", {"generated_buurten": int(len(self.gdf)), "generated_vertices": int(nv.sum()),
                          "vertices_per_buurt_median": int(nv.median()), "vertices_per_buurt_p5": int(nv.quantile(.05)),
                          "vertices_per_buurt_p95": int(nv.quantile(.95)),
                          "real_codes_used": int(self.gdf["buurtcode"].isin(set(codes)).sum()),
                          "generate_or_load_s": round(now() - t, 1)})
        self.raw_path = synth_nl.raw_geojson_path(self.gdf, work=WORK)
        self.put("data", {"raw_geojson_mb": mb(self.raw_path.stat().st_size)})
        if self.shared is None:
            return
        t = now()
        self.cbs, self.pdok = S.start(self.gdf, GEMEENTE)
        self.put("data", {"standins_start_s": round(now() - t, 1),
                          "gemeente_buurten": int((self.gdf["gemeentecode"] == GEMEENTE).sum())})
        self.cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=WORK))

    # -- 1: one gemeente --------------------------------------------------------------
    def m1_load(self) -> None:
        if self.shared is None:
            return self.skip("1_gemeente_laden", "../shared/data is missing (KWB 2024 extract)")
        from app import maps as app_maps
        from app import ui
        from loaders import cbs, pdok
        from loaders.settings import get_settings

        def project() -> float:
            t = now()
            ui.load_table(YEAR, GEMEENTE)
            app_maps.map_geometry(YEAR, "buurt", GEMEENTE)
            return now() - t

        n = 2 if self.args.quick else 3
        cold, dirs = [], []
        for _ in range(n):
            d = Path(tempfile.mkdtemp(prefix="cold-", dir=WORK))
            dirs.append(d)
            self.set_env(d)
            self.clear_st()
            cold.append(project())
        disk = []
        for _ in range(5):
            self.clear_st()
            disk.append(project())
        mem = [project() for _ in range(5)]
        # the same through the page's cache levels: table, boundaries, simplified boundaries
        from loaders.cache import ParquetStore
        keys = ParquetStore(d).keys()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
        self.set_env()

        def naive() -> float:
            s = get_settings()
            t = now()
            cbs.load(YEAR, GEMEENTE, settings=s)
            url = pdok._with_query(pdok.items_url(s.pdok_url, YEAR, "buurt"),
                                   {"f": "json", "limit": pdok.PAGE_SIZE, "gemeentecode": GEMEENTE})
            feats, _, _ = pdok.fetch_features(url, s)
            return now() - t
        naive_t = [naive() for _ in range(n)]
        self.put("1_gemeente_laden", {
            "gemeente": f"{GEMEENTE_NAME} ({GEMEENTE})", "cold_s": med(cold), "cold_samples": [round(x, 3) for x in cold],
            "from_cache_s": med(disk), "from_cache_samples": [round(x, 3) for x in disk],
            "in_process_s": med(mem), "naive_every_time_s": med(naive_t), "cache_keys": keys})

    # -- national data path (fills the cache used by 2, 3, 4, 6) -----------------------
    def national_cold(self) -> None:
        if self.shared is None:
            return self.skip("landelijk_koud", "../shared/data is missing")
        from browser import TreeMemory

        from app import maps as app_maps
        from app import ui
        from loaders import repository
        from loaders.settings import get_settings
        self.set_env()
        # before: one request at a time, in an empty cache of its own (not used further)
        one_dir = Path(tempfile.mkdtemp(prefix="cache-one-", dir=WORK))
        os.environ.update({"BUURTMONITOR_CACHE_DIR": str(one_dir), "BUURTMONITOR_PDOK_CONCURRENCY": "1"})
        self.clear_st()
        with TreeMemory(os.getpid()) as mem:
            base = mem.rss()
            t = now()
            repository.load_web_boundaries(YEAR, "buurt", None, national=True)
            one_s = now() - t
            one_peak = mem.peak - base
        shutil.rmtree(one_dir, ignore_errors=True)
        os.environ.pop("BUURTMONITOR_PDOK_CONCURRENCY", None)
        self.set_env()
        self.clear_st()
        with TreeMemory(os.getpid()) as mem:
            base = mem.rss()
            t = now()
            got = repository.load_web_boundaries(YEAR, "buurt", None, national=True)
            geo_s = now() - t
            peak = mem.peak - base
        t = now()
        tab = repository.load_table(YEAR, "alle")
        tab_s = now() - t
        self.clear_st()
        t = now()
        app_maps.map_geometry(YEAR, "buurt_nl", GEMEENTE)
        ui.load_national_buurten(YEAR, GEMEENTE)
        proc_s = now() - t
        web = got.meta.get("web", {})
        self.put("landelijk", {
            "boundaries_first_time_s": round(geo_s, 2), "boundaries_origin": got.origin,
            "boundaries_first_time_one_at_a_time_s": round(one_s, 2),
            "pdok_concurrency": get_settings().pdok_concurrency,
            "peak_added_mb": mb(peak), "peak_added_one_at_a_time_mb": mb(one_peak),
            "table_alle_first_time_s": round(tab_s, 2), "table_rows": int(len(tab.table.data)),
            "in_process_from_disk_cache_s": round(proc_s, 2),
            "buurten": web.get("areas_out"), "vertices_raw": web.get("vertices_in"),
            "vertices_simplified": web.get("vertices_out"), "tolerance_m": web.get("tolerance_m"),
            "decimals": web.get("decimals")})

    # -- 7: the command line ---------------------------------------------------------------
    def m7_cli(self) -> None:
        """``python -m buurtmonitor table`` for a cached gemeente: wall time from process start to
        the end of the output, and CPU time (user + system) of the process, median of 9."""
        if self.shared is None:
            return self.skip("7_cli", "../shared/data is missing")
        cache = Path(tempfile.mkdtemp(prefix="cache-cli-", dir=WORK))
        args = [sys.executable, "-m", "buurtmonitor", "table", "--year", str(YEAR), "--gemeente", GEMEENTE,
                "--level", "buurt", "--format", "csv"]
        env = {**os.environ, **self.env(cache)}
        env.pop("BUURTMONITOR_OFFLINE", None)
        first = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, timeout=300)   # fills the cache
        if first.returncode != 0:
            return self.skip("7_cli", f"table failed: {first.stderr.decode()[-300:]}")
        env["CBS_ODATA_URL"] = "http://127.0.0.1:9"   # from the cache only
        wall, cpu, loads = [], [], []
        for _ in range(9):
            before = os.times()
            t = now()
            res = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, timeout=300)
            wall.append(now() - t)
            after = os.times()
            cpu.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
            loads.append(os.getloadavg()[0])
            if res.returncode != 0 or len(res.stdout) < 1000:
                return self.skip("7_cli", f"table from the cache failed: {res.stderr.decode()[-300:]}")
        shutil.rmtree(cache, ignore_errors=True)
        bare = []
        for _ in range(5):
            t = now()
            subprocess.run([sys.executable, "-c", "import pandas"], cwd=ROOT, capture_output=True, timeout=120)
            bare.append(now() - t)
        self.put("7_cli", {"table_wall_s": med(wall), "table_wall_samples": [round(x, 3) for x in wall],
                           "table_cpu_s": med(cpu), "table_cpu_samples": [round(x, 3) for x in cpu],
                           "import_pandas_wall_s": med(bare), "load_1min_during": [round(x, 2) for x in loads]})

    # -- 2: figure sizes ----------------------------------------------------------------
    def _project_sizes(self, geometry, frame, indicator: str, level: str, *, url_rule: bool = True) -> dict:
        """What the dashboard sends for this map: with thousands of areas the canvas map's data
        (as Streamlit serialises it) plus the served GeoJSON and outline files; otherwise the
        plotly figure (plus its GeoJSON file when served). The plotly figure of a canvas-sized
        map is measured too (``plotly_*``)."""
        from app import maps as app_maps
        from buurtmonitor.maps import choropleth as mapping
        from loaders import static_files
        url = app_maps.geojson_url(geometry, served=True) if url_rule else None
        canvas = url_rule and app_maps.use_canvas_map(geometry)
        times, plotly_times = [], []
        data: dict = {}
        for _ in range(3):
            t = now()
            fig = mapping.choropleth(geometry, frame, indicator, level=level, geojson_url=url)
            spec = fig.to_json().encode()
            plotly_times.append(now() - t)
            if canvas:
                t = now()
                data = app_maps.canvas_map_spec(geometry, frame, indicator, served=True)
                payload = json.dumps(data.component_data()).encode()
                times.append(now() - t)
        if not canvas:
            payload, times = spec, plotly_times
        files = [url] if url else []
        if canvas and (data.parent or {}).get("url"):
            files.append(data.parent["url"])
        static = b"".join(static_files.static_path(u).read_bytes() for u in files)
        gz_static = sum(gz(static_files.static_path(u).read_bytes()) for u in files)
        plotly_static = static_files.static_path(url).read_bytes() if url else b""
        return {"renderer": "canvas" if canvas else "plotly",
                "spec_bytes": len(payload), "spec_gzip": gz(payload), "geojson_file_bytes": len(static),
                "geojson_file_gzip": gz_static, "first_load_bytes": len(payload) + len(static),
                "first_load_gzip": gz(payload) + gz_static, "per_rerun_bytes": len(payload),
                "build_s": med(times), "geometry": "URL (static file)" if url else "inline",
                "areas": len(geometry.codes),
                "plotly_spec_bytes": len(spec), "plotly_first_load_bytes": len(spec) + len(plotly_static),
                "plotly_build_s": med(plotly_times)}

    @staticmethod
    def _naive_sizes(fc: dict, codes, values, names, id_key: str, reps: int = 1) -> dict:
        import naive
        times, spec = [], b""
        for _ in range(reps):
            t = now()
            fig = naive.figure(fc, codes, values, names, id_key=id_key)
            spec = fig.to_json().encode()
            times.append(now() - t)
        return {"spec_bytes": len(spec), "spec_gzip": gz(spec), "first_load_bytes": len(spec),
                "first_load_gzip": gz(spec), "per_rerun_bytes": len(spec), "build_s": med(times)}

    @staticmethod
    def _fake_frame(codes, names, seed: int = 7) -> pd.DataFrame:
        """Indicator rows for areas without real statistics: shares, ~3% suppressed."""
        rng = np.random.default_rng(seed)
        n = len(codes)
        val = np.round(rng.beta(1.2, 6, n) * 100, 1)
        miss = rng.random(n) < 0.03
        inw = np.round(rng.lognormal(7.2, 1.0, n) / 5) * 5
        return pd.DataFrame({"code": list(codes), "name": list(names), "level": "buurt",
                             "value": np.where(miss, np.nan, val), "n": inw,
                             "missing": np.where(miss, "geheim", None), "small_n": inw < 100})

    def m2_sizes(self) -> None:
        import geopandas as gpd

        from app import maps as app_maps
        from app import ui
        from buurtmonitor import geo
        from buurtmonitor.harmonise import indicator_frame
        from buurtmonitor.maps import choropleth as mapping
        from buurtmonitor.maps import national
        from buurtmonitor.maps.geometry import prepare_geometry as prepare_level_geometry
        ind = INDICATORS[0]
        rows = {}
        # (1) one gemeente's buurten
        if self.shared is not None:
            self.set_env()
            table = ui.load_table(YEAR, GEMEENTE)[0]
            geometry = app_maps.map_geometry(YEAR, "buurt", GEMEENTE)[0]
            frame = indicator_frame(table, ind)
            frame = frame[frame["level"] == "buurt"]
            p = self._project_sizes(geometry, frame, ind, "buurt")
            mine = self.gdf[self.gdf["gemeentecode"] == GEMEENTE]
            from devtools import synth_nl
            fc = {"type": "FeatureCollection", "features": synth_nl.features(mine)}
            f = frame.set_index("code").reindex(mine["buurtcode"])
            n = self._naive_sizes(fc, list(mine["buurtcode"]), f["value"].tolist(), f["name"].fillna("").tolist(),
                                  "properties.buurtcode", reps=3)
            rows["gemeente_buurten"] = {"label": f"One gemeente: {len(mine)} buurten ({GEMEENTE_NAME}, generated "
                                                 "full detail)", "project": p, "naive": n}
        else:
            self.skip("2_gemeente", "../shared/data is missing")
        # (2) all gemeenten (real 2022)
        if self.shared is not None and (self.shared / GEMEENTEN_2022).exists():
            raw = gpd.read_file(self.shared / GEMEENTEN_2022)
            g = gpd.GeoDataFrame({"code": raw["statcode"].str.strip(), "name": raw["statnaam"]},
                                 geometry=raw.geometry, crs=raw.crs)
            t = now()
            web = geo.prepare_for_web(g, "gemeente")
            geometry = prepare_level_geometry(web, "gemeente", key="bench-gemeenten")
            prep = now() - t
            table = ui.load_table(YEAR, "gemeenten")[0]
            frame = indicator_frame(table, ind)
            frame = frame[frame["level"] == "gemeente"]
            p = self._project_sizes(geometry, frame, ind, "gemeente")
            p["prepare_once_s"] = round(prep, 2)
            fc = json.loads((self.shared / GEMEENTEN_2022).read_text(encoding="utf-8"))
            f = frame.set_index("code").reindex(g["code"])
            n = self._naive_sizes(fc, list(g["code"]), f["value"].tolist(), g["name"].tolist(),
                                  "properties.statcode", reps=3)
            rows["gemeenten"] = {"label": f"All gemeenten: {len(g)} (real 2022 boundaries)", "project": p,
                                 "naive": n}
        else:
            self.skip("2_gemeenten", "../shared/data is missing (gemeenten 2022)")
        # (3a) real coarse 2014 TopoJSON
        if self.shared is not None and (self.shared / TOPO_2014).exists():
            raw = gpd.read_file("TopoJSON:" + str(self.shared / TOPO_2014))
            raw = raw.set_crs("EPSG:4326")
            n_empty = int(raw.geometry.is_empty.sum())
            n_invalid = int((~raw.geometry.is_valid).sum())
            ok = raw[~raw.geometry.is_empty].copy()
            ok["geometry"] = geo.make_valid(ok.geometry.values)
            g = gpd.GeoDataFrame({"code": ok["statcode"].str.strip(), "name": ok["statnaam"],
                                  "gemeente_code": "GM" + ok["statcode"].str.strip().str[2:6]},
                                 geometry=ok.geometry.values, crs="EPSG:4326")
            t = now()
            web, rep = geo.prepare_national(g)
            geometry = national.prepare_geometry(web, key="bench-topo2014")
            prep = now() - t
            frame = self._fake_frame(geometry.codes, [geometry.names[c] for c in geometry.codes])
            p = self._project_sizes(geometry, frame, ind, "buurt_nl")
            p.update(prepare_once_s=round(prep, 2), vertices_in=rep["vertices_in"], vertices_out=rep["vertices_out"])
            fc = json.loads(raw[~raw.geometry.is_empty].to_json(drop_id=True))  # as given: with properties
            codes = [f["properties"]["statcode"] for f in fc["features"]]
            f = frame.set_index("code").reindex(codes)
            n = self._naive_sizes(fc, codes, f["value"].tolist(), f["name"].fillna("").tolist(),
                                  "properties.statcode")
            rows["nl_2014"] = {"label": f"All buurten of NL (a): real coarse 2014 TopoJSON, {len(g)} buurten "
                                        f"({n_empty} empty dropped, {n_invalid} invalid repaired)",
                               "project": p, "naive": n, "empty": n_empty, "invalid": n_invalid,
                               "features_in_file": int(len(raw))}
        else:
            self.skip("2_nl_2014", "../shared/data is missing (TopoJSON 2014)")
        # (3b) generated full detail, ~14,000
        if self.shared is not None:
            table, _, _ = ui.load_national_buurten(YEAR, GEMEENTE)
            geometry = app_maps.map_geometry(YEAR, "buurt_nl", GEMEENTE)[0]
            frame = indicator_frame(table, ind)
            frame = frame[frame["level"] == "buurt"]
            p = self._project_sizes(geometry, frame, ind, "buurt_nl")
            # the same geometry inline (no served file): what an export or a page without
            # the file route sends
            inline = mapping.choropleth(geometry, frame, ind, level="buurt_nl").to_json().encode()
            p["inline_variant_bytes"] = len(inline)
        else:
            from buurtmonitor import geo as g_
            web, rep = g_.prepare_national(self.gdf.rename(columns={"buurtcode": "code", "buurtnaam": "name",
                                                                    "gemeentecode": "gemeente_code"}))
            geometry = national.prepare_geometry(web, key="bench-nl-generated")
            frame = self._fake_frame(geometry.codes, [geometry.names[c] for c in geometry.codes])
            p = self._project_sizes(geometry, frame, ind, "buurt_nl")
        t = now()
        fc = json.loads(self.raw_path.read_bytes())
        read_s = now() - t
        codes = [f["properties"]["buurtcode"] for f in fc["features"]]
        f = frame.set_index("code").reindex(codes)
        n = self._naive_sizes(fc, codes, f["value"].tolist(), f["name"].fillna("").tolist(), "properties.buurtcode")
        n["read_raw_geojson_s"] = round(read_s, 2)
        del fc
        rows["nl_generated"] = {"label": f"All buurten of NL (b): generated, {len(codes)} buurten, full "
                                         "detail", "project": p, "naive": n}
        for r in rows.values():
            r["ratio_first_load"] = round(r["naive"]["first_load_bytes"] / r["project"]["first_load_bytes"], 1)
            r["ratio_per_rerun"] = round(r["naive"]["per_rerun_bytes"] / r["project"]["per_rerun_bytes"], 1)
            r["ratio_first_load_gzip"] = round(r["naive"]["first_load_gzip"] / r["project"]["first_load_gzip"], 1)
        self.put("2_figuur", rows)

    # -- 3: server rerun (AppTest) --------------------------------------------------------
    def _apptest(self, script: Path, params: dict, n: int, timeout: float) -> dict:
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file(str(script), default_timeout=timeout)
        at.query_params.update(params)
        t = now()
        at.run()
        first = now() - t
        if at.exception:
            raise RuntimeError(f"{script.name}: {[e.value for e in at.exception][:1]}")
        key = "w_indicator" if script.name == "kaart.py" else "indicator"
        times = []
        for i in range(n):
            at.sidebar.selectbox(key=key).set_value(INDICATORS[(i + 1) % len(INDICATORS)])
            t = now()
            at.run()
            times.append(now() - t)
            if at.exception:
                raise RuntimeError(f"{script.name}: {[e.value for e in at.exception][:1]}")
        spec = at.get("plotly_chart")[0].proto.spec if at.get("plotly_chart") else ""
        return {"first_run_s": round(first, 3), "rerun_median_s": med(times), "rerun_min_s": round(min(times), 4),
                "samples": [round(x, 4) for x in times], "spec_bytes": len(spec)}

    def m3_rerun(self) -> None:
        if self.shared is None:
            return self.skip("3_rerun", "../shared/data is missing")
        self.set_env()
        self.clear_st()
        page = ROOT / "pages" / "kaart.py"
        naive_page = BENCH / "naive_app.py"
        n = 5 if self.args.quick else 9
        res = {
            "project_gemeente": self._apptest(page, {"jaar": str(YEAR), "gemeente": GEMEENTE, "niveau": "buurt",
                                                     "indicator": INDICATORS[0]}, n, 120),
            "project_national": self._apptest(page, {"jaar": str(YEAR), "gemeente": GEMEENTE, "niveau": "buurt_nl",
                                                     "indicator": INDICATORS[0]}, n, 300),
            "naive_gemeente": self._apptest(naive_page, {"view": "gemeente", "gemeente": GEMEENTE}, 3, 300),
        }
        if self.args.no_naive_national:
            self.skip("3_naive_national", "--no-naive-national")
        else:
            res["naive_national"] = self._apptest(naive_page, {"view": "nl"}, 1, 900)
        # AppTest compiles the page script anew on every run (a new ScriptCache per run); a
        # Streamlit server compiles it once. Measured here so the rerun times can be read.
        from streamlit.runtime.scriptrunner.script_cache import ScriptCache
        comp = []
        for _ in range(5):
            t = now()
            ScriptCache().get_bytecode(str(page))
            comp.append(now() - t)
        res["apptest_script_compile_s"] = med(comp)
        self.put("3_rerun", res)

    # -- 4 + 6: browser and memory ---------------------------------------------------------
    def m4_browser(self) -> None:
        from browser import (
            CHROMIUM,
            CHROMIUM_ARGS,
            TreeMemory,
            chromium_missing,
            first_paint,
            first_visible,
            streamlit_server,
        )
        if self.shared is None:
            return self.skip("4_browser", "../shared/data is missing")
        if self.args.no_browser:
            return self.skip("4_browser", "--no-browser")
        reason = chromium_missing()
        if reason:
            return self.skip("4_browser", reason)
        from playwright.sync_api import sync_playwright
        q_gm = f"?jaar={YEAR}&gemeente={GEMEENTE}&niveau=buurt&indicator={INDICATORS[0]}"
        q_nl = f"?jaar={YEAR}&gemeente={GEMEENTE}&niveau=buurt_nl&indicator={INDICATORS[0]}"
        reps = 2 if self.args.quick else 3
        res: dict = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            vp = {"viewport": {"width": 1440, "height": 1000}, "locale": "nl-NL"}
            try:
                # the floor: a bare page, the same server flags and browser, in this run
                with streamlit_server("bench/floor_app.py", self.env(), log_path=WORK / "streamlit-floor.log") as (url, _):
                    ctx = browser.new_context(**vp)
                    first_visible(ctx, f"{url}/", 60)   # warm the server (first script run)
                    ctx.close()
                    bare = []
                    for _ in range(reps + 2):
                        ctx = browser.new_context(**vp)
                        bare.append(first_visible(ctx, f"{url}/", 60))
                        ctx.close()
                    res["floor"] = {"bare_first_paint_s": med(r.get("painted_s") for r in bare), "samples": bare}
                with streamlit_server("dashboard.py", self.env(), log_path=WORK / "streamlit-project.log") as (url, proc), \
                        TreeMemory(proc.pid) as mem:
                    idle = mem.rss()
                    ctx = browser.new_context(**vp)
                    res["after_restart_gemeente"] = first_paint(ctx, f"{url}/{q_gm}", 90)
                    res["after_restart_national"] = first_paint(ctx, f"{url}/{q_nl}", 120)
                    ctx.close()
                    gm, nl, nl_rep, floor = [], [], [], []
                    for _ in range(reps):
                        ctx = browser.new_context(**vp)  # the floor: the same page with 6 demo wijken
                        floor.append(first_paint(ctx, f"{url}/?jaar={YEAR}&gemeente=GM9901&niveau=wijk", 60))
                        ctx.close()
                        ctx = browser.new_context(**vp)
                        gm.append(first_paint(ctx, f"{url}/{q_gm}", 60))
                        ctx.close()
                        ctx = browser.new_context(**vp)
                        nl.append(first_paint(ctx, f"{url}/{q_nl}", 60))
                        nl_rep.append(first_paint(ctx, f"{url}/{q_nl}", 60))  # same browser: HTTP cache warm
                        ctx.close()
                    # national view open and idle: memory
                    ctx = browser.new_context(**vp)
                    page = ctx.new_page()
                    page.goto(f"{url}/{q_nl}")
                    page.wait_for_timeout(4000)
                    open_rss = mem.rss()
                    ctx.close()
                    res["project"] = {
                        "floor_first_paint_s": med(r.get("painted_s") for r in floor),
                        "floor_samples": floor,
                        "gemeente_first_paint_s": med(r.get("painted_s") for r in gm),
                        "gemeente_samples": gm,
                        "national_first_paint_s": med(r.get("painted_s") for r in nl),
                        "national_samples": nl,
                        "national_repeat_visit_s": med(r.get("painted_s") for r in nl_rep),
                        "national_repeat_samples": nl_rep,
                        "rss_idle_mb": mb(idle), "rss_national_open_mb": mb(open_rss), "rss_peak_mb": mb(mem.peak)}
                # the same national view drawn by plotly's map (canvas off), for comparison
                with streamlit_server("dashboard.py", {**self.env(), "BUURTMONITOR_CANVAS_MIN_AREAS": "100000000"},
                                      log_path=WORK / "streamlit-project-plotly.log") as (url, proc):
                    ctx = browser.new_context(**vp)
                    first_paint(ctx, f"{url}/{q_nl}", 120)  # warm the server's process caches
                    ctx.close()
                    pl = []
                    for _ in range(reps):
                        ctx = browser.new_context(**vp)
                        pl.append(first_paint(ctx, f"{url}/{q_nl}", 60))
                        ctx.close()
                    res["project"]["national_plotly_first_paint_s"] = med(r.get("painted_s") for r in pl)
                    res["project"]["national_plotly_samples"] = pl
                if self.args.quick or self.args.no_naive_national:
                    naive_views = [("gemeente", f"?view=gemeente&gemeente={GEMEENTE}", 2, 90)]
                    self.skip("4_naive_national", "--quick / --no-naive-national")
                else:
                    naive_views = [("gemeente", f"?view=gemeente&gemeente={GEMEENTE}", 2, 90),
                                   ("national", "?view=nl", 1, 150)]
                with streamlit_server("bench/naive_app.py", self.env(), log_path=WORK / "streamlit-naive.log") as (url, proc), \
                        TreeMemory(proc.pid) as mem:
                    naive: dict = {}
                    for name, q, n, timeout in naive_views:
                        samples = []
                        for _ in range(n):
                            ctx = browser.new_context(**vp)
                            samples.append(first_paint(ctx, f"{url}/{q}", timeout))
                            ctx.close()
                        naive[f"{name}_first_paint_s"] = med(r.get("painted_s") for r in samples)
                        naive[f"{name}_samples"] = samples
                        naive[f"{name}_timeout_s"] = timeout
                        naive[f"rss_peak_after_{name}_mb"] = mb(mem.peak)
                    res["naive"] = naive
            finally:
                browser.close()
        self.put("4_browser", res)

    # -- 5: export ---------------------------------------------------------------------------
    def m5_export(self) -> None:
        import bench_export
        r = bench_export.run()
        out = {"bench_export": r}
        if "skipped" not in r and self.shared is not None:
            try:  # the national buurt map as PNG (geometry inline for the browser that renders it)
                from app import maps as app_maps
                from app import ui
                from buurtmonitor.exports.items import ExportItem, figure_to_image
                from buurtmonitor.harmonise import indicator_frame
                from buurtmonitor.maps import choropleth as mapping
                table, _, _ = ui.load_national_buurten(YEAR, GEMEENTE)
                geometry = app_maps.map_geometry(YEAR, "buurt_nl", GEMEENTE)[0]
                frame = indicator_frame(table, INDICATORS[0])
                fig = mapping.choropleth(geometry, frame[frame["level"] == "buurt"], INDICATORS[0], level="buurt_nl",
                                         geojson_url=app_maps.geojson_url(geometry, served=True))
                item = ExportItem(title="Herkomst buiten Europa per buurt, Nederland, 2024",
                                  figure=mapping.with_inline_geojson(fig, geometry),
                                  source_line=table.meta.source_line())
                times = []
                for _ in range(2):
                    t = now()
                    png = figure_to_image(item, "png")
                    times.append(now() - t)
                out["national_png_s"] = [round(x, 2) for x in times]
                out["national_png_bytes"] = len(png)
            except Exception as exc:  # noqa: BLE001
                self.note(f"PNG export of the national buurt map failed: {type(exc).__name__}: {exc}")
        self.put("5_export", out)

    # -- results ------------------------------------------------------------------------------
    def targets(self) -> list[dict]:
        m = self.out["measurements"]
        get = lambda *ks: _dig(m, *ks)  # noqa: E731
        values = {
            "rerun_gemeente_s": get("3_rerun", "project_gemeente", "rerun_median_s"),
            "national_payload_mb": mb(get("2_figuur", "nl_generated", "project", "first_load_bytes")),
            "national_first_paint_s": get("4_browser", "project", "national_first_paint_s"),
            "national_payload_ratio": get("2_figuur", "nl_generated", "ratio_first_load"),
            "gemeente_from_cache_s": get("1_gemeente_laden", "from_cache_s"),
            "gemeente_cold_s": get("1_gemeente_laden", "cold_s"),
            "national_peak_rss_mb": get("4_browser", "project", "rss_peak_mb"),
            "floor_s": get("4_browser", "floor", "bare_first_paint_s"),
            "gemeente_paint_ratio": _div(get("4_browser", "project", "gemeente_first_paint_s"),
                                         get("4_browser", "floor", "bare_first_paint_s")),
            "national_paint_ratio": _div(get("4_browser", "project", "national_first_paint_s"),
                                         get("4_browser", "floor", "bare_first_paint_s")),
            "national_cold_s": get("landelijk", "boundaries_first_time_s"),
            "national_cold_peak_mb": get("landelijk", "peak_added_mb"),
            "cli_table_s": get("7_cli", "table_wall_s"),
        }
        out = []
        for key, desc, goal, test, unit in TARGETS:
            v = values.get(key)
            out.append({"key": key, "target": desc, "goal": goal, "measured": v, "unit": unit,
                        "met": None if v is None else bool(test(v))})
        return out

    def run(self) -> dict:
        RESULTS.mkdir(parents=True, exist_ok=True)
        WORK.mkdir(parents=True, exist_ok=True)
        started = dt.datetime.now(dt.UTC)
        self.out["date"] = started.isoformat(timespec="seconds")
        self.out["machine"] = machine_info()
        self.out["load_average_start"] = load_average()
        self.out["options"] = {k: v for k, v in vars(self.args).items()}
        print(f"Buurtmonitor benchmark {self.out['date']} on {self.out['machine']['cpu']} "
              f"({self.out['machine']['logical_cores']} cores, {self.out['machine']['ram_gb']} GB)")
        try:
            self.step("0 data and stand-in servers", self.prepare)
            chosen = set(self.args.steps.split(",")) if self.args.steps else set(STEPS)
            for key, name, fn in (("load", "1 load one gemeente", self.m1_load),
                                  ("national", "national buurt boundaries (first time)", self.national_cold),
                                  ("sizes", "2 figure and size", self.m2_sizes),
                                  ("rerun", "3 server rerun on indicator switch", self.m3_rerun),
                                  ("browser", "4+6 first paint in Chromium and memory", self.m4_browser),
                                  ("export", "5 PNG export", self.m5_export),
                                  ("cli", "7 python -m buurtmonitor table (cached gemeente)", self.m7_cli)):
                if key in chosen:
                    self.step(name, fn)
        finally:
            for s in (self.cbs, self.pdok):
                if s is not None:
                    s.stop()
            if self.cache_dir is not None:
                shutil.rmtree(self.cache_dir, ignore_errors=True)
        self.out["load_average_end"] = load_average()
        self.out["total_seconds"] = round(self.elapsed(), 1)
        self.out["targets"] = self.targets()
        la = self.out["load_average_start"] + self.out["load_average_end"]
        if la and max(la) > 0.5 * (os.cpu_count() or 1):
            self.note(f"The machine is shared (other engineers' test runs may run at the same time) and the "
                      f"benchmark's own servers and browser load it too: load average {self.out['load_average_start']} "
                      f"at the start, {self.out['load_average_end']} at the end (1/5/15 min) on {os.cpu_count()} "
                      f"cores. Times can be higher than on a quiet machine; browser times vary most.")
        md = _no_paths(markdown(self.out))
        tmp = RESULTS / "latest.json.tmp"
        tmp.write_text(_no_paths(json.dumps(self.out, indent=2, ensure_ascii=False, default=str)), encoding="utf-8")
        tmp.replace(RESULTS / "latest.json")
        tmp = RESULTS / "latest.md.tmp"
        tmp.write_text(md, encoding="utf-8")
        tmp.replace(RESULTS / "latest.md")
        print("\n" + md)
        return self.out


def _div(a, b):
    return None if a is None or not b else round(a / b, 2)


def _no_paths(text: str) -> str:
    """No machine paths in the results (they are kept in the repository)."""
    for path, name in ((str(ROOT), "<repo>"), (str(ROOT.parent), "<repo>/.."), (tempfile.gettempdir(), "<tmp>")):
        text = text.replace(path, name)
    return text


def _dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


# ----------------------------------------------------------------------------- markdown
def _f(v, unit: str = "", nd: int = 2) -> str:
    if v is None:
        return "–"
    s = f"{v:,.{nd}f}" if isinstance(v, float) else f"{v:,}"
    return f"{s} {unit}".strip()


def _mbf(n) -> str:
    return "–" if n is None else _f(n / 1e6, "MB", 2)


def _ratio(a, b) -> str:
    if a is None or b is None or not b:
        return "–"
    return _f(a / b, "×", 1)


def markdown(out: dict) -> str:
    m = out["measurements"]
    mi = out["machine"]
    L = []
    L.append(f"# Buurtmonitor benchmark ({out['date'][:10]})\n")
    L.append(f"Machine: {mi['cpu']}, {mi['logical_cores']} logical cores, {mi['ram_gb']} GB RAM; "
             f"Python {mi['python']}; {mi['os']}; {mi.get('chromium') or 'no Chromium'}. "
             f"Streamlit {mi['versions'].get('streamlit')}, plotly {mi['versions'].get('plotly')}, "
             f"shapely {mi['versions'].get('shapely')} (GEOS {mi['versions'].get('GEOS')}). "
             f"Load average at start / end: {out.get('load_average_start')} / {out.get('load_average_end')}. "
             f"The whole run took {_f(out.get('total_seconds'), 's', 0)}.\n")
    L.append("## Targets\n")
    L.append("| Target | Goal | Measured | Met |")
    L.append("| --- | --- | --- | --- |")
    for t in out.get("targets", []):
        v = t["measured"]
        meas = "–" if v is None else (_f(v, t["unit"], 1) if t["unit"] == "×" else _f(v, t["unit"], 3 if t["unit"] == "s" else 2))
        met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        L.append(f"| {t['target']} | {t['goal']} | {meas} | {met} |")
    L.append("")
    L.append("## Buurtmonitor beside the naive baseline\n")
    L.append("Naive = unsimplified GeoJSON with all properties inline in the figure, a fresh figure on every "
             "rerun, no cache (bench/naive.py, bench/naive_app.py).\n")
    L.append("| Measurement | Buurtmonitor | Naive baseline | Naive ÷ Buurtmonitor |")
    L.append("| --- | --- | --- | --- |")
    g = m.get("1_gemeente_laden", {})
    if g:
        L.append(f"| 1. Load {g['gemeente']}: empty cache (from the stand-in servers) | {_f(g.get('cold_s'), 's', 3)} | "
                 f"{_f(g.get('naive_every_time_s'), 's', 3)} (every time) | – |")
        L.append(f"| 1. Load {g['gemeente']} from the cache (disk) | {_f(g.get('from_cache_s'), 's', 3)} | "
                 f"{_f(g.get('naive_every_time_s'), 's', 3)} | {_ratio(g.get('naive_every_time_s'), g.get('from_cache_s'))} |")
        L.append(f"| 1. The same, again in the same process (st.cache) | {_f(g.get('in_process_s'), 's', 4)} | "
                 f"{_f(g.get('naive_every_time_s'), 's', 3)} | {_ratio(g.get('naive_every_time_s'), g.get('in_process_s'))} |")
    for r in (m.get("2_figuur") or {}).values():
        p, n = r["project"], r["naive"]
        where = "geometry as a file" if p["geometry"].startswith("URL") else "geometry inline"
        canvas = p.get("renderer") == "canvas"
        what = "canvas map data + GeoJSON and outline files" if canvas else "figure + GeoJSON file"
        L.append(f"| 2. {r['label']}: first load ({what}) | {_mbf(p['first_load_bytes'])} "
                 f"(gzip {_mbf(p['first_load_gzip'])}; {where}) | {_mbf(n['first_load_bytes'])} "
                 f"(gzip {_mbf(n['first_load_gzip'])}) | {_f(r['ratio_first_load'], '×', 1)} |")
        L.append(f"| 2. {r['label']}: per indicator switch ({'canvas map data' if canvas else 'figure JSON'}) | "
                 f"{_mbf(p['per_rerun_bytes'])} | {_mbf(n['per_rerun_bytes'])} | {_f(r['ratio_per_rerun'], '×', 1)} |")
        L.append(f"| 2. {r['label']}: build {'map data + JSON' if canvas else 'figure + to_json'} | "
                 f"{_f(p['build_s'], 's', 3)} | {_f(n['build_s'], 's', 2)} | {_ratio(n['build_s'], p['build_s'])} |")
        if canvas:
            L.append(f"| 2. {r['label']}: the same as a plotly figure (canvas off): first load / build | "
                     f"{_mbf(p['plotly_first_load_bytes'])} / {_f(p['plotly_build_s'], 's', 3)} | – | – |")
    r3 = m.get("3_rerun", {})
    for view, label in (("gemeente", f"gemeente view ({GEMEENTE_NAME}, buurten)"), ("national", "all buurten of NL")):
        p, n = r3.get(f"project_{view}"), r3.get(f"naive_{view}")
        if p or n:
            L.append(f"| 3. Server rerun after an indicator switch, {label} (median) | {_f(p and p['rerun_median_s'], 's', 3)} | "
                     f"{_f(n and n['rerun_median_s'], 's', 2)} | {_ratio(n and n['rerun_median_s'], p and p['rerun_median_s'])} |")
    if r3.get("apptest_script_compile_s"):
        L.append(f"| 3. (of which: AppTest compiles the page script on every run; a server does it once) | "
                 f"{_f(r3['apptest_script_compile_s'], 's', 3)} | – | – |")
    b = m.get("4_browser", {})
    bp, bn = b.get("project") or {}, b.get("naive") or {}
    if bp:
        def paint(v, timeout=None):
            return f"not drawn within {timeout} s" if v is None and timeout else _f(v, "s", 2)
        fl = (b.get("floor") or {}).get("bare_first_paint_s")
        L.append(f"| 4. Floor: first paint of a bare Streamlit page (title + a line of text; new browser, median) | "
                 f"{paint(fl)} (1×) | – | – |")
        L.append(f"| 4. First paint, the same page with 6 demo wijken on plotly's map (page start-up; new browser, median) | "
                 f"{paint(bp.get('floor_first_paint_s'))} ({_f(_div(bp.get('floor_first_paint_s'), fl), '×', 1)} the floor) | – | – |")
        L.append(f"| 4. First paint, gemeente view (new browser, median) | {paint(bp.get('gemeente_first_paint_s'))} "
                 f"({_f(_div(bp.get('gemeente_first_paint_s'), fl), '×', 1)} the floor) | "
                 f"{paint(bn.get('gemeente_first_paint_s'), bn.get('gemeente_timeout_s'))} | "
                 f"{_ratio(bn.get('gemeente_first_paint_s'), bp.get('gemeente_first_paint_s'))} |")
        L.append(f"| 4. First paint, all buurten of NL (new browser, median) | {paint(bp.get('national_first_paint_s'))} "
                 f"({_f(_div(bp.get('national_first_paint_s'), fl), '×', 1)} the floor) | "
                 f"{paint(bn.get('national_first_paint_s'), bn.get('national_timeout_s')) if 'national_samples' in bn else 'not measured'} | "
                 f"{_ratio(bn.get('national_first_paint_s'), bp.get('national_first_paint_s'))} |")
        if bp.get("national_plotly_first_paint_s") is not None:
            L.append(f"| 4. First paint, all buurten of NL, plotly map instead of the canvas (new browser, median) | "
                     f"{paint(bp.get('national_plotly_first_paint_s'))} | – | – |")
        L.append(f"| 4. First paint, all buurten of NL, repeat visit (browser cache warm) | "
                 f"{paint(bp.get('national_repeat_visit_s'))} | – | – |")
        ar = b.get("after_restart_national", {})
        L.append(f"| 4. First paint, all buurten of NL, first visit after a server restart (disk cache warm) | "
                 f"{paint(ar.get('painted_s'))} | – | – |")
        L.append(f"| 6. Peak memory of the server (RSS incl. children), national buurt map open | "
                 f"{_f(bp.get('rss_peak_mb'), 'MB', 0)} | "
                 f"{_f(bn.get('rss_peak_after_national_mb') or bn.get('rss_peak_after_gemeente_mb'), 'MB', 0)}"
                 f"{'' if 'rss_peak_after_national_mb' in bn else ' (gemeente only)'} | "
                 f"{_ratio(bn.get('rss_peak_after_national_mb'), bp.get('rss_peak_mb'))} |")
    e = (m.get("5_export") or {}).get("bench_export") or {}
    if e and "skipped" not in e:
        L.append(f"| 5. PNG export of a map, warm browser (3 / 100 polygons, median) | "
                 f"{_f(e.get('warm_map_png_median_s'), 's', 2)} / {_f(e.get('warm_map100_png_median_s'), 's', 2)} | – | – |")
        L.append(f"| 5. Cold start of the export browser | {_f(e.get('cold_start_s'), 's', 2)} | – | – |")
        nat = (m.get("5_export") or {}).get("national_png_s")
        if nat:
            L.append(f"| 5. PNG export of all buurten of NL (first / second) | {' / '.join(_f(x, 's', 2) for x in nat)} | – | – |")
    nd = m.get("landelijk", {})
    if nd:
        L.append("")
        L.append(f"National buurt boundaries, first time (PDOK stand-in, {nd.get('buurten')} buurten in pages of 1,000, "
                 f"{_f(nd.get('vertices_raw'))} → {_f(nd.get('vertices_simplified'))} vertices at "
                 f"{_f(nd.get('tolerance_m'), 'm', 0)} and {nd.get('decimals')} decimals): "
                 f"{_f(nd.get('boundaries_first_time_s'), 's', 1)}; afterwards from the cache "
                 f"{_f(nd.get('in_process_from_disk_cache_s'), 's', 2)} (boundaries + table into the process). "
                 f"With {nd.get('pdok_concurrency')} bbox strips side by side: {_f(nd.get('boundaries_first_time_s'), 's', 1)}, "
                 f"peak memory +{_f(nd.get('peak_added_mb'), 'MB', 0)}; one request at a time (before): "
                 f"{_f(nd.get('boundaries_first_time_one_at_a_time_s'), 's', 1)}, +{_f(nd.get('peak_added_one_at_a_time_mb'), 'MB', 0)} "
                 f"(the stand-in PDOK runs in the benchmark's own process and shares its 2 cores).")
    c = m.get("7_cli", {})
    if c:
        L.append("")
        L.append(f"`python -m buurtmonitor table` ({GEMEENTE_NAME}, buurten, csv) from the cache: "
                 f"{_f(c.get('table_wall_s'), 's', 2)} wall, {_f(c.get('table_cpu_s'), 's', 2)} CPU (median of 9; "
                 f"`python -c 'import pandas'` alone: {_f(c.get('import_pandas_wall_s'), 's', 2)} wall; "
                 f"1-minute load during the runs {c.get('load_1min_during')}).")
    d = m.get("data", {})
    if d:
        L.append("")
        L.append(f"Generated national set: {d.get('generated_buurten')} buurten, {_f(d.get('generated_vertices'))} "
                 f"vertices (median {d.get('vertices_per_buurt_median')} per buurt, p5–p95 "
                 f"{d.get('vertices_per_buurt_p5')}–{d.get('vertices_per_buurt_p95')}), raw GeoJSON with properties "
                 f"{_f(d.get('raw_geojson_mb'), 'MB', 1)}; "
                 + (f"{d.get('real_codes_used')} buurten carry a real CBS code of the KWB 2024 extract (the rest "
                    "belong to fictitious gemeenten GM70xx with copied real values)." if d.get("real_codes_used") else
                    "fictitious codes only (GM70xx), with made-up values."))
    if out.get("notes") or out.get("skipped"):
        L.append("\n## Notes\n")
        for n in out.get("notes", []):
            L.append(f"- {n}")
        for k, v in out.get("skipped", {}).items():
            L.append(f"- Skipped ({k}): {v}")
    L.append("")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, no naive national browser run")
    ap.add_argument("--no-browser", action="store_true", help="no Chromium measurements (4 and 6)")
    ap.add_argument("--no-naive-national", action="store_true", help="do not measure the naive national map")
    ap.add_argument("--steps", help=f"only these measurements, comma-separated ({','.join(STEPS)}); "
                                    "the national one fills the cache the browser step uses")
    ap.add_argument("--markdown-only", action="store_true",
                    help="only rewrite results/latest.md from results/latest.json (no measurements)")
    args = ap.parse_args(argv)
    if args.markdown_only:
        text = markdown(json.loads((RESULTS / "latest.json").read_text(encoding="utf-8")))
        tmp = RESULTS / "latest.md.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(RESULTS / "latest.md")
        print(text)
        return 0
    Bench(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
