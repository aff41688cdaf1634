"""HTTP POST with a shared keep-alive pool (cooperative under gevent's monkey-patching)."""
from __future__ import annotations

import urllib3

_pool = urllib3.PoolManager(num_pools=4, maxsize=32, timeout=urllib3.Timeout(connect=3, read=10), retries=False)


def post_json(url: str, body: bytes, headers: dict) -> int:
    return _pool.request("POST", url, body=body, headers=headers).status
