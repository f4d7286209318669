"""Debian's nginx in front of two dashboard processes, for the team-deployment tests and the bench:
``deploy/nginx.conf`` rendered for the test's ports (the ``${BM_...}`` placeholders, as envsubst
does in the nginx image), a self-signed certificate made with openssl, everything (pid, logs,
temp files) in a temporary prefix folder, listening on 127.0.0.1 only. No root needed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .streamlit_server import free_port

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
_PLACEHOLDER = re.compile(r"\$\{(BM_[A-Z0-9_]+)\}")

MAIN_CONF = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/buurtmonitor.conf;
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill the ``${BM_...}`` placeholders; a placeholder without a value is an error."""
    missing = sorted({m for m in _PLACEHOLDER.findall(template) if m not in values})
    if missing:
        raise KeyError(f"geen waarde voor {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def self_signed_cert(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for ``host`` (IP or name) valid for two days, and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    san = f"IP:{host}" if re.fullmatch(r"[0-9.]+", host) else f"DNS:{host}"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={host}", "-addext", f"subjectAltName={san}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


@dataclass
class Proxy:
    url: str                 # https://127.0.0.1:<port>
    http_url: str            # the plain-HTTP port (redirects)
    prefix: Path
    access_log: Path
    error_log: Path
    cert: Path
    proc: subprocess.Popen

    def access_lines(self) -> list[str]:
        return self.access_log.read_text(encoding="utf-8", errors="replace").splitlines() \
            if self.access_log.exists() else []


def _ssl_context_unverified() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@contextlib.contextmanager
def nginx_proxy(replicas: tuple[str, str], *, form_action: str = "", port: int | None = None,
                timeout: float = 20.0) -> Iterator[Proxy]:
    """Yield a running nginx on 127.0.0.1 in front of ``replicas`` (two ``host:port``), HTTPS on
    ``port`` (default: a free one)."""
    exe = nginx_binary()
    if exe is None:
        raise RuntimeError("nginx ontbreekt (Debian: nginx; make sysdeps).")
    prefix = Path(tempfile.mkdtemp(prefix="buurtmonitor-nginx-"))
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / sub).mkdir(parents=True)
    if os.geteuid() == 0:       # the workers run as an unprivileged user: let them use the folders
        os.chmod(prefix, 0o755)
        for sub in (prefix / "tmp", *(prefix / "tmp").iterdir()):
            os.chmod(sub, 0o777)
    cert, key = self_signed_cert(prefix)
    os.chmod(key, 0o644)
    port, http_port = port or free_port(), free_port()
    access_log = prefix / "access.log"
    (prefix / "buurtmonitor.conf").write_text(render(TEMPLATE.read_text(encoding="utf-8"), {
        "BM_LISTEN": f"127.0.0.1:{port}", "BM_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "BM_SERVER_NAME": "127.0.0.1", "BM_TLS_CERT": str(cert), "BM_TLS_KEY": str(key),
        "BM_REPLICA_1": replicas[0], "BM_REPLICA_2": replicas[1], "BM_FORM_ACTION": form_action,
        "BM_ACCESS_LOG": str(access_log)}), encoding="utf-8")
    (prefix / "nginx.conf").write_text(MAIN_CONF.format(prefix=prefix), encoding="utf-8")
    subprocess.run([exe, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
                   check=True, capture_output=True, timeout=30)
    proc = subprocess.Popen([exe, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    proxy = Proxy(f"https://127.0.0.1:{port}", f"http://127.0.0.1:{http_port}", prefix, access_log,
                  prefix / "error.log", cert, proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("nginx stopte: " + proxy.error_log.read_text(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(f"{proxy.url}/_stcore/health", timeout=2,
                                            context=_ssl_context_unverified()) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("nginx antwoordde niet op /_stcore/health")
            time.sleep(0.2)
        yield proxy
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        shutil.rmtree(prefix, ignore_errors=True)
