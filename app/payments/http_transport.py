"""HTTP POST over a small pool of keep-alive connections (cooperative under gevent's monkey-patching).

Plain http.client: the sandbox sends one small POST per payment, and urllib3's layers cost several
times the request itself here (docs/PERFORMANCE.md).
"""
from __future__ import annotations

import http.client
import queue
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10
POOL_SIZE = 32

_idle: dict[tuple[str, str, int], queue.LifoQueue] = {}


def post_json(url: str, body: bytes, headers: dict) -> int:
    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    pool = _idle.setdefault(key, queue.LifoQueue(maxsize=POOL_SIZE))
    for attempt in range(2):
        # The retry takes a new connection: the other pooled ones have idled as long and are as likely
        # stale (a server's keep-alive timeout drops them all).
        connection = _checkout(pool, key) if attempt == 0 else _connect(key)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            if attempt:  # a fresh connection failed too: the merchant is unreachable
                raise
            continue  # the pooled connection had gone stale: retry once on a new one
        _checkin(pool, connection, response)
        return response.status
    raise AssertionError("unreachable")


def _checkout(pool: queue.LifoQueue, key) -> http.client.HTTPConnection:
    try:
        return pool.get_nowait()
    except queue.Empty:
        return _connect(key)


def _connect(key) -> http.client.HTTPConnection:
    scheme, host, port = key
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    return cls(host, port, timeout=TIMEOUT_SECONDS)


def _checkin(pool: queue.LifoQueue, connection, response) -> None:
    if response.will_close:
        connection.close()
        return
    try:
        pool.put_nowait(connection)
    except queue.Full:
        connection.close()
