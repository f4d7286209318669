"""Shared machinery of the stand-in servers: a threaded HTTP server on 127.0.0.1 with a
request log and runtime fault injection.

Subclasses implement :meth:`StandinServer.route`, which maps (path, query) to a
:class:`Response`. Everything else (threading, logging, faults) lives here so the CBS and
PDOK stand-ins behave identically under failure.

Fault kinds for :meth:`StandinServer.fail_next`:

``"500"``, ``"503"`` (any 3-digit status)  answer with that status and a JSON error body
                                           (503 also carries ``Retry-After: 0``)
``"reset"``        close the socket abruptly (TCP RST), no response at all
``"truncated"``    200 with a Content-Length that matches the body, but the body is cut off
                   half way, so it is invalid JSON
``"incomplete"``   200 announcing the full Content-Length, send half, then close the socket
                   (the client sees an incomplete read)
``"slow"``         sleep ``delay`` seconds, then answer normally
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = ("reset", "truncated", "incomplete", "slow")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj, status: int = 200, content_type: str = "application/json; charset=utf-8",
                  headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status=status, body=body, content_type=content_type, headers=dict(headers or {}))


@dataclass
class _Fault:
    kind: str
    remaining: int
    path_contains: str | None
    delay: float


class HttpError(Exception):
    """Raised inside route() to answer with an error status (subclasses format the body)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BuurtmonitorStandin/1.0"
    # set per server class
    standin: StandinServer

    def log_message(self, format, *args):  # noqa: A002 - silence stderr logging
        pass

    def do_GET(self):  # noqa: N802
        self.standin._handle(self)

    def do_HEAD(self):  # noqa: N802
        self.standin._handle(self, head=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a "slow" fault must not hold up stop()
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Client timeouts and injected resets produce broken pipes; they are expected.
        pass


class StandinServer:
    """Base class. Use as a context manager, or call start()/stop().

    ``url`` is ``http://127.0.0.1:PORT`` (no trailing slash). ``request_log`` lists
    ``path?query`` (raw, as sent by the client) of every request, in arrival order.
    """

    default_slow_delay = 1.0

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._host = host
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self.request_log: list[str] = []
        self._random: tuple | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> StandinServer:
        if self._httpd is not None:
            return self
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"standin": self})
        self._httpd = _Server((self._host, self._port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def host_port(self) -> str:
        """``127.0.0.1:PORT``, e.g. for ``cbsodata.options.catalog_url``."""
        return f"{self._host}:{self.port}"

    # -- faults and log --------------------------------------------------------------
    def fail_next(self, n: int = 1, kind: str = "500", path_contains: str | None = None,
                  delay: float | None = None) -> None:
        """Make the next ``n`` matching requests fail with ``kind`` (see module doc).

        ``path_contains``: only requests whose ``path?query`` contains this substring
        count (others are served normally). Rules are checked in the order added.
        """
        kind = str(kind)
        if kind not in FAULT_KINDS and not (kind.isdigit() and len(kind) == 3):
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS} or a status")
        with self._lock:
            self._faults.append(_Fault(kind, int(n), path_contains,
                                       self.default_slow_delay if delay is None else float(delay)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def clear_log(self) -> None:
        with self._lock:
            self.request_log.clear()

    def reset(self) -> None:
        """Forget pending faults and the request log."""
        with self._lock:
            self._faults.clear()
            self.request_log.clear()
            self._random = None

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def requests_to(self, substring: str) -> list[str]:
        """Logged requests whose path+query (URL-decoded) contains ``substring``."""
        from urllib.parse import unquote_plus

        with self._lock:
            return [r for r in self.request_log if substring in unquote_plus(r)]

    def fail_randomly(self, rate: float, kinds: tuple[str, ...] = ("503", "reset"), *,
                      seed: int = 0, path_contains: str | None = None) -> None:
        """From now on (until :meth:`reset`), fail each matching request with probability
        ``rate``, with a kind drawn from ``kinds`` (a seeded, repeatable sequence)."""
        import random

        for kind in kinds:
            if kind not in FAULT_KINDS and not (kind.isdigit() and len(kind) == 3):
                raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._random = (float(rate), tuple(kinds), random.Random(seed), path_contains)

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            if self._random is not None:
                rate, kinds, rng, where = self._random
                if (where is None or where in target) and rng.random() < rate:
                    return _Fault(rng.choice(kinds), 1, None, self.default_slow_delay)
            for f in self._faults:
                if f.remaining > 0 and (f.path_contains is None or f.path_contains in target):
                    f.remaining -= 1
                    if f.remaining == 0:
                        self._faults.remove(f)
                    return f
        return None

    # -- request handling ------------------------------------------------------------
    def route(self, path: str, query: dict[str, list[str]], handler: BaseHTTPRequestHandler) -> Response:
        raise NotImplementedError

    def error_response(self, status: int, message: str) -> Response:
        return json_response({"code": status, "description": message}, status=status)

    def _handle(self, h: BaseHTTPRequestHandler, head: bool = False) -> None:
        target = h.path
        with self._lock:
            self.request_log.append(target)
        fault = self._take_fault(target)
        if fault is not None:
            if fault.kind == "reset":
                self._reset(h)
                return
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind.isdigit():
                status = int(fault.kind)
                resp = self.error_response(status, f"Injected fault: HTTP {status}")
                if status == 503:
                    resp.headers.setdefault("Retry-After", "0")
                self._send(h, resp, head)
                return

        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            resp = self.route(parts.path, query, h)
        except HttpError as exc:
            resp = self.error_response(exc.status, exc.message)
        except Exception as exc:  # a bug in the stand-in: answer 500, visibly
            resp = self.error_response(500, f"stand-in error: {type(exc).__name__}: {exc}")

        if fault is not None and fault.kind == "truncated":
            resp = Response(200, resp.body[: max(1, len(resp.body) // 2)], resp.content_type, resp.headers)
        elif fault is not None and fault.kind == "incomplete":
            body = resp.body
            self._send_headers(h, Response(200, body, resp.content_type, resp.headers), len(body))
            try:
                h.wfile.write(body[: len(body) // 2])
                h.wfile.flush()
            except OSError:
                pass
            self._reset(h, rst=False)
            return
        self._send(h, resp, head)

    @staticmethod
    def _send_headers(h: BaseHTTPRequestHandler, resp: Response, length: int) -> None:
        h.send_response(resp.status)
        h.send_header("Content-Type", resp.content_type)
        h.send_header("Content-Length", str(length))
        for k, v in resp.headers.items():
            h.send_header(k, v)
        h.end_headers()

    def _send(self, h: BaseHTTPRequestHandler, resp: Response, head: bool = False) -> None:
        try:
            self._send_headers(h, resp, len(resp.body))
            if not head:
                h.wfile.write(resp.body)
            h.wfile.flush()
        except OSError:  # client went away (e.g. timed out on a slow answer)
            h.close_connection = True

    @staticmethod
    def _reset(h: BaseHTTPRequestHandler, rst: bool = True) -> None:
        h.close_connection = True
        sock = h.connection
        try:
            if rst:  # SO_LINGER 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass
