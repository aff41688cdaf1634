"""HMAC-SHA256 signatures both ways: a platform signs what it pushes to us, we sign what we write back.

The signature covers the timestamp and the raw body (`<timestamp>.<body>`), so neither can be
changed, and a timestamp outside the replay window is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from ..errors import Unauthorized

TIMESTAMP_HEADER = "X-Platform-Timestamp"
SIGNATURE_HEADER = "X-Platform-Signature"
REPLAY_WINDOW_SECONDS = 300


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict:
    timestamp = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(secret: bytes, headers, body: bytes, now: float | None = None) -> None:
    """Refuse (401 with a code) a request whose signature is missing, stale or wrong."""
    timestamp, signature = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature:
        raise Unauthorized("缺少平台签名", code="missing_signature")
    now = time.time() if now is None else now
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) \
            or abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise Unauthorized("平台签名已过期或时间戳无效", code="stale_signature")
    # Bytes on both sides: compare_digest refuses str with non-ASCII characters (TypeError, a 500).
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode("utf-8", "replace")):
        raise Unauthorized("平台签名校验失败", code="bad_signature")
