"""Start the test OpenID Connect provider (``devtools/oidc/provider.mjs``, the npm package
``oidc-provider``) on 127.0.0.1 for the login tests: users with passwords and groups, one or more
clients. Installs the pinned npm package on first use (``npm ci``, from the npm registry).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .streamlit_server import free_port

OIDC_DIR = Path(__file__).resolve().parent / "oidc"


@dataclass(frozen=True)
class User:
    login: str
    password: str
    name: str
    email: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = field(default_factory=tuple)


def ensure_installed(timeout: float = 300.0) -> None:
    """``npm ci`` in devtools/oidc when its node_modules lack oidc-provider."""
    if (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm ontbreekt: installeer Node.js en npm (Debian: nodejs npm).")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=OIDC_DIR, check=True,
                   timeout=timeout)


class OidcProvider:
    """A running provider: ``issuer``, ``metadata_url``; use as a context manager."""

    def __init__(self, users: list[User], clients: list[Client], *, port: int | None = None):
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self._users, self._clients = users, clients
        self._proc: subprocess.Popen | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.log: list[str] = []

    def __enter__(self) -> OidcProvider:
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node ontbreekt: installeer Node.js (Debian: nodejs).")
        self._tmp = tempfile.TemporaryDirectory(prefix="buurtmonitor-oidc-")
        cfg = Path(self._tmp.name) / "config.json"
        cfg.write_text(json.dumps({
            "port": self.port, "cookie_key": os.urandom(16).hex(),
            "users": [{"login": u.login, "password": u.password, "name": u.name, "email": u.email,
                       "groups": list(u.groups)} for u in self._users],
            "clients": [{"client_id": c.client_id, "client_secret": c.client_secret,
                         "redirect_uris": list(c.redirect_uris),
                         "post_logout_redirect_uris": list(c.redirect_uris)} for c in self._clients],
        }), encoding="utf-8")
        self._proc = subprocess.Popen([node, str(OIDC_DIR / "provider.mjs")], cwd=OIDC_DIR,
                                      env={**os.environ, "OIDC_CONFIG": str(cfg), "NODE_ENV": "test"},
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError("de OIDC-testaanbieder stopte: " + "\n".join(self.log[-20:]))
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise TimeoutError("de OIDC-testaanbieder antwoordde niet binnen 30 s")

    def _drain(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.log.append(line.rstrip())

    def __exit__(self, *exc) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        if self._tmp is not None:
            self._tmp.cleanup()
