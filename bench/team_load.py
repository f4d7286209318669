"""Load test of the team deployment: N concurrent sessions (default 50) over two dashboard
processes behind nginx (deploy/nginx.conf, TLS, affinity cookie), everything on 127.0.0.1.

Each session is what a browser tab does over Streamlit's WebSocket, spoken directly (the
protobuf messages of the installed Streamlit): it gets its affinity cookie from nginx, opens the
Kaart of a gemeente (Ede, GM0228, from the stand-in CBS and PDOK servers with the real
extracts; the fictitious Voorbeeldgemeente when the extracts are absent) and switches the
indicator a few times. Measured: errors (an exception element, a script that did not finish,
a dropped connection, a timeout), the time from sending the rerun to the server's
``script_finished`` (the indicator switch on the server, plus loopback), and the peak memory
(RSS of the process tree) of each replica. Bounded: a deadline per step and for the whole run.

    .venv/bin/python bench/team_load.py [--sessions 50] [--switches 3]

Writes ``bench/results/team_load.json`` and prints a short table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import ssl
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from devtools.nginx_proxy import nginx_binary, nginx_proxy
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR, CbsODataServer, table_from_shared_kwb2024
from devtools.standins.pdok import EDE_WIJKEN_2024, PdokServer, features_from_shared_ede_wijken
from devtools.standins.shared_data import missing_shared
from devtools.streamlit_server import streamlit_process

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "team_load.json"
INDICATOR_LABEL = "Indicator"
FINISHED_OK, FINISHED_EARLY = 0, 2      # ScriptFinishedStatus values


def _tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE   # the proxy's self-signed test certificate
    return ctx


def _affinity_cookie(url: str) -> str:
    """What a new browser gets from nginx on its first request."""
    with urllib.request.urlopen(url + "/_stcore/health", context=_tls(), timeout=10) as r:
        for c in r.headers.get_all("Set-Cookie") or []:
            if c.startswith("bm_replica="):
                return c.split(";", 1)[0]
    raise RuntimeError("nginx gaf geen bm_replica-cookie")


class SessionError(Exception):
    pass


async def _run_script(ws, msg: BackMsg, timeout: float) -> dict:
    """Send a rerun and read until the script finished; the selectboxes seen and any error."""
    t0 = time.perf_counter()
    await ws.send(msg.SerializeToString())
    boxes: dict[str, tuple[str, list[str]]] = {}
    deadline = t0 + timeout
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise SessionError("timeout")
        f = ForwardMsg()
        f.ParseFromString(await asyncio.wait_for(ws.recv(), left))
        kind = f.WhichOneof("type")
        if kind == "delta" and f.delta.WhichOneof("type") == "new_element":
            el = f.delta.new_element
            what = el.WhichOneof("type")
            if what == "exception":
                raise SessionError(f"exception: {el.exception.type}")
            if what == "selectbox":
                boxes[el.selectbox.label] = (el.selectbox.id, list(el.selectbox.options))
        elif kind == "script_finished":
            if f.script_finished == FINISHED_OK:
                return {"seconds": time.perf_counter() - t0, "boxes": boxes}
            if f.script_finished != FINISHED_EARLY:     # compile error, or finished with an error
                raise SessionError(f"script_finished {f.script_finished}")


async def one_session(url: str, query: str, switches: int, step_timeout: float, seed: int) -> dict:
    cookie = await asyncio.to_thread(_affinity_cookie, url)
    out: dict = {"replica": cookie.split("=", 1)[1], "open": None, "switches": [], "error": None}
    try:
        async with websockets.connect(url.replace("https://", "wss://") + "/_stcore/stream",
                                      subprotocols=["streamlit"], ssl=_tls(), max_size=None,
                                      additional_headers={"Cookie": cookie}, open_timeout=step_timeout) as ws:
            first = BackMsg()
            first.rerun_script.query_string = query
            first.rerun_script.page_name = "kaart"
            res = await _run_script(ws, first, step_timeout)
            out["open"] = res["seconds"]
            if INDICATOR_LABEL not in res["boxes"]:
                raise SessionError("geen indicatorkeuze op de pagina")
            wid, options = res["boxes"][INDICATOR_LABEL]
            rnd = random.Random(seed)
            for _ in range(switches):
                msg = BackMsg()
                msg.rerun_script.query_string = query
                msg.rerun_script.page_name = "kaart"
                w = msg.rerun_script.widget_states.widgets.add()
                w.id = wid
                w.string_value = rnd.choice(options)
                res = await _run_script(ws, msg, step_timeout)
                out["switches"].append(res["seconds"])
    except (TimeoutError, SessionError, OSError, websockets.WebSocketException) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


class MemorySampler:
    """Peak RSS of each replica's process tree, sampled every 0.2 s."""

    def __init__(self, pids: list[int]):
        self.pids, self.peak = pids, [0] * len(pids)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self, pid: int) -> int:
        try:
            p = psutil.Process(pid)
            return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)])
        except psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            for i, pid in enumerate(self.pids):
                self.peak[i] = max(self.peak[i], self._rss(pid))
            time.sleep(0.2)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def p95(xs: list[float]) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs) + 0.5) - 1))]


async def _all(url: str, query: str, n: int, switches: int, step_timeout: float) -> list[dict]:
    return await asyncio.gather(*(one_session(url, query, switches, step_timeout, seed=i) for i in range(n)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--switches", type=int, default=3, help="indicator switches per session")
    ap.add_argument("--step-timeout", type=float, default=120.0, help="seconds per page run")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if nginx_binary() is None:
        print("nginx ontbreekt (make sysdeps): de belastingtest wordt overgeslagen.", file=sys.stderr)
        return 1
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="buurtmonitor-team-load-")))
        env = {"BUURTMONITOR_CACHE_DIR": str(work / "cache"), "BUURTMONITOR_DATA_DIR": str(work / "data")}
        if not missing_shared(f"{KWB2024_DIR}/{KWB2024_CSV}", EDE_WIJKEN_2024):
            cbs = stack.enter_context(CbsODataServer([table_from_shared_kwb2024()]))
            pdok = PdokServer()
            pdok.add_collection(2024, "wijken", features_from_shared_ede_wijken())
            stack.enter_context(pdok)
            env.update(CBS_ODATA_URL=cbs.url, PDOK_URL=pdok.url)
            query, gemeente = "gemeente=GM0228&jaar=2024", "GM0228 (Ede, stand-in CBS/PDOK met de echte extracten)"
        else:
            query, gemeente = "", "GM9901 (Voorbeeldgemeente, fictief; de gedeelde extracten ontbreken)"
        replicas = [stack.enter_context(streamlit_process(env, log_path=work / f"replica{i}.log")) for i in (1, 2)]
        proxy = stack.enter_context(nginx_proxy((replicas[0][0].split("//")[1], replicas[1][0].split("//")[1])))
        # warm-up: one session per replica fills the shared cache (not measured)
        for cookie in ("bm_replica=1", "bm_replica=2"):
            asyncio.run(_warm(proxy.url, query, cookie))
        t0 = time.perf_counter()
        with MemorySampler([p.pid for _, p in replicas]) as mem:
            results = asyncio.run(asyncio.wait_for(_all(proxy.url, query, args.sessions, args.switches,
                                                        args.step_timeout), timeout=args.step_timeout * (args.switches + 2)))
        wall = time.perf_counter() - t0
    errors = [r["error"] for r in results if r["error"]]
    switches = [s for r in results for s in r["switches"]]
    opens = [r["open"] for r in results if r["open"] is not None]
    out = {
        "date": time.strftime("%Y-%m-%d"), "sessions": args.sessions, "switches_per_session": args.switches,
        "gemeente": gemeente, "cpus": os.cpu_count(), "load_average": list(os.getloadavg()),
        "errors": len(errors), "error_kinds": sorted(set(errors)),
        "sessions_per_replica": {k: sum(1 for r in results if r["replica"] == k) for k in ("1", "2")},
        "open_p50_s": statistics.median(opens) if opens else None, "open_p95_s": p95(opens),
        "switch_n": len(switches), "switch_p50_s": statistics.median(switches) if switches else None,
        "switch_p95_s": p95(switches), "switch_max_s": max(switches) if switches else None,
        "peak_rss_mb_per_replica": [round(b / 2**20, 1) for b in mem.peak], "wall_s": round(wall, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(out))
    return 0 if not errors else 2


async def _warm(url: str, query: str, cookie: str) -> None:
    async with websockets.connect(url.replace("https://", "wss://") + "/_stcore/stream", subprotocols=["streamlit"],
                                  ssl=_tls(), max_size=None, additional_headers={"Cookie": cookie}) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = "kaart"
        await _run_script(ws, msg, 300)


def _s(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} s".replace(".", ",")


def markdown(out: dict) -> str:
    rows = [
        ("sessies (per replica)", f"{out['sessions']} ({out['sessions_per_replica']['1']} / {out['sessions_per_replica']['2']})"),
        ("fouten", str(out["errors"])),
        ("pagina openen, p50 / p95", f"{_s(out['open_p50_s'])} / {_s(out['open_p95_s'])}"),
        (f"indicatorwissel op de server ({out['switch_n']}×), p50 / p95 / max",
         f"{_s(out['switch_p50_s'])} / {_s(out['switch_p95_s'])} / {_s(out['switch_max_s'])}"),
        ("piekgeheugen per replica", " / ".join(f"{m:.0f} MB" for m in out["peak_rss_mb_per_replica"])),
        ("duur", _s(out["wall_s"])),
    ]
    return "\n".join([f"Gemeente: {out['gemeente']}", "", "| meting | waarde |", "| --- | --- |",
                      *(f"| {a} | {b} |" for a, b in rows)])


if __name__ == "__main__":
    sys.exit(main())
