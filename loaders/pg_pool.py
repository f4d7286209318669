"""Idle PostgreSQL connections kept per process and URL, for the notes and the cache stores.

A new connection costs ~25 ms (TCP, startup, authentication); a page asks the stores for ~10
things. :func:`connection` hands out an idle connection of this process that still answers
(checked with ``SELECT 1``) or a new one, in autocommit mode (a caller that needs a transaction
opens one with ``conn.transaction()``), and keeps it for the next caller when it is clean. A
forked child never uses its parent's connections (the pool is per process id).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

#: idle connections kept per (process, URL, row factory)
MAX_IDLE = 4

_idle: dict[tuple[int, str, str], list[psycopg.Connection[Any]]] = {}
_lock = threading.Lock()


def _take(key: tuple[int, str, str], connect: Callable[[], psycopg.Connection[Any]]) -> psycopg.Connection[Any]:
    while True:
        with _lock:
            pool = _idle.get(key)
            conn = pool.pop() if pool else None
        if conn is None:
            return connect()
        try:
            conn.execute("SELECT 1")
            return conn
        except psycopg.Error:
            conn.close()


def _give_back(key: tuple[int, str, str], conn: psycopg.Connection[Any]) -> None:
    if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.close()
        return
    with _lock:
        pool = _idle.setdefault(key, [])
        if len(pool) < MAX_IDLE:
            pool.append(conn)
            return
    conn.close()


@contextmanager
def connection(url: str, connect: Callable[[], psycopg.Connection[Any]], *,
               kind: str = "") -> Iterator[psycopg.Connection[Any]]:
    """A connection to ``url`` for one operation (``connect()`` makes a new one, in autocommit
    mode; ``kind`` tells pools of different row factories apart). A connection that saw a
    database error, or is left inside a transaction, is closed, not kept."""
    key = (os.getpid(), url, kind)
    conn = _take(key, connect)
    try:
        yield conn
    except psycopg.Error:
        conn.close()
        raise
    except BaseException:
        _give_back(key, conn)          # e.g. a refused edit: rolled back, the connection is fine
        raise
    _give_back(key, conn)
