"""A throwaway PostgreSQL server for the tests and the bench (Debian's postgresql package):
``initdb`` in a temporary folder, ``postgres`` on 127.0.0.1 and a free port, trust
authentication for the local test user only, stopped and removed afterwards. As root (CI), the
server runs as the ``postgres`` system user, as PostgreSQL requires.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .streamlit_server import free_port


def pg_bindir() -> Path | None:
    """The folder with initdb/postgres of the newest installed PostgreSQL, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("postgres")
    return Path(exe).parent if exe else None


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")            # KeyError: no postgres user (package not installed)
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def postgres_server(dbname: str = "buurtmonitor") -> Iterator[str]:
    """Yield a connection URL ``postgresql://…@127.0.0.1:<port>/<dbname>`` of a fresh server."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL ontbreekt (Debian: postgresql).")
    prefix = _as_user()
    tmp = Path(tempfile.mkdtemp(prefix="buurtmonitor-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if prefix:
        shutil.chown(tmp, "postgres")
        shutil.chown(sock, "postgres")
    user = "postgres" if prefix else pwd.getpwuid(os.geteuid()).pw_name
    port = free_port()
    proc = None
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120)
        proc = subprocess.Popen([*prefix, str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sock}",
                                 "-c", "fsync=off", "-c", "max_connections=200"],
                                stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "wb"))
        deadline = time.monotonic() + 30
        while True:
            ok = subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                                capture_output=True).returncode == 0
            if ok:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL startte niet: " + (tmp / "server.log").read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, dbname],
                       check=True, capture_output=True, timeout=60)
        yield f"postgresql://{user}@127.0.0.1:{port}/{dbname}"
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
