"""Start the dashboard (``streamlit run dashboard.py``) for browser tests, like Streamlit's own
e2e conftest: a free port, poll ``/_stcore/health``, stop the whole process group afterwards.

Default environment = the offline demo: ``CBS_ODATA_URL``/``PDOK_URL`` point at a closed port
and the cache is an empty folder, so nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit stopte met code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url}/_stcore/health antwoordde niet binnen {timeout:.0f} s")


@contextlib.contextmanager
def streamlit_process(env: dict[str, str] | None = None, *, script: str = "dashboard.py",
                      log_path: Path | None = None, timeout: float = 60.0, port: int | None = None,
                      args: tuple[str, ...] = ()) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (base URL, process) of a running dashboard; kill its process group on exit.
    ``env`` overrides the offline-demo defaults (the benchmark points it at its stand-ins);
    ``port`` (default: a free one) and extra ``args`` for ``streamlit run`` (e.g.
    ``("--secrets.files", path)`` for a login test)."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="buurtmonitor-e2e-") as tmp:
        full_env = {**os.environ, "CBS_ODATA_URL": CLOSED, "PDOK_URL": CLOSED,
                    "BUURTMONITOR_CACHE_DIR": str(Path(tmp) / "cache"),
                    "BUURTMONITOR_DATA_DIR": str(Path(tmp) / "data"),
                    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
        if "BUURTMONITOR_OFFLINE" not in (env or {}):
            full_env.pop("BUURTMONITOR_OFFLINE", None)
        cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *args]
        log = open(log_path or Path(tmp) / "streamlit.log", "wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, timeout)
            yield url, proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            log.close()


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None, *, script: str = "dashboard.py",
                     log_path: Path | None = None) -> Iterator[str]:
    """Yield the base URL of a running dashboard (see :func:`streamlit_process`)."""
    with streamlit_process(env, script=script, log_path=log_path) as (url, _proc):
        yield url
