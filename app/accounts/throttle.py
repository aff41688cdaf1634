"""Login throttling: password guesses are limited per account and per client address.

Each login attempt is counted *before* its password is checked (so a burst of parallel guesses
cannot slip past the count), and a successful one takes its count back. What remains counted is
therefore failed (and in-flight) attempts. Past the limit within the window, attempts are refused
with 429 and the seconds until the window ends, without checking the password: the right password
is refused too until then, which is the point (a guesser never learns it was right).

Counters live in Redis when a Redis URL is configured (RATELIMIT_STORAGE_URL, else
SOCKETIO_MESSAGE_QUEUE), so every worker shares them; otherwise in this process's memory.
A window is fixed: it starts at the first counted attempt and lasts LOGIN_THROTTLE_WINDOW_SECONDS.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from ..errors import TooManyRequests


@dataclass(frozen=True)
class LoginLimits:
    per_account: int = 10
    per_address: int = 50
    window_seconds: int = 900

    @classmethod
    def from_config(cls, config) -> "LoginLimits":
        return cls(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
                   config["LOGIN_THROTTLE_WINDOW_SECONDS"])


class MemoryCounters:
    """Fixed-window counters in this process (one worker, or tests)."""

    MAX_KEYS = 100_000  # beyond this, ended windows are dropped before a new key is added

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, list] = {}  # key -> [count, window end]

    def hit(self, key: str, window: int) -> tuple[int, float]:
        """Counts one attempt; returns (count in the window, seconds until it ends)."""
        now = self._clock()
        with self._lock:
            entry = self._windows.get(key)
            if entry is None or entry[1] <= now:
                if entry is None and len(self._windows) >= self.MAX_KEYS:
                    self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
                entry = self._windows[key] = [0, now + window]
            entry[0] += 1
            return entry[0], entry[1] - now

    def take_back(self, key: str) -> None:
        with self._lock:
            entry = self._windows.get(key)
            if entry is not None and entry[0] > 0:
                entry[0] -= 1

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


class RedisCounters:
    """Fixed-window counters in Redis: INCR, and the window's expiry set by the attempt that opens it."""

    PREFIX = "storelink:login:"

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def hit(self, key: str, window: int) -> tuple[int, float]:
        pipe = self._redis.pipeline()
        pipe.incr(self.PREFIX + key)
        pipe.expire(self.PREFIX + key, window, nx=True)
        pipe.pttl(self.PREFIX + key)
        count, _, ttl_ms = pipe.execute()
        return int(count), max(ttl_ms, 0) / 1000

    def take_back(self, key: str) -> None:
        self._redis.decr(self.PREFIX + key)

    def reset(self, key: str) -> None:
        self._redis.delete(self.PREFIX + key)


def counters_for(config):
    url = config.get("RATELIMIT_STORAGE_URL") or config.get("SOCKETIO_MESSAGE_QUEUE")
    return RedisCounters(url) if url else MemoryCounters()


class LoginThrottle:
    def __init__(self, limits: LoginLimits, counters):
        self.limits = limits
        self.counters = counters

    def attempt(self, account_key: str, address: str) -> "Attempt":
        """Counts an attempt for the account and the address; 429 when either is over its limit."""
        window = self.limits.window_seconds
        keys = (f"acct:{account_key}", f"addr:{address}")
        account_count, account_left = self.counters.hit(keys[0], window)
        address_count, address_left = self.counters.hit(keys[1], window)
        over = [left for count, limit, left in ((account_count, self.limits.per_account, account_left),
                                                (address_count, self.limits.per_address, address_left))
                if count > limit]
        if over:
            retry_after = max(1, math.ceil(max(over)))
            refused = TooManyRequests("登录尝试过于频繁,请稍后再试", code="too_many_login_attempts",
                                      details={"retry_after": retry_after})
            # The audit notes a refusal once per window and key, not every attempt of a flood.
            refused.first_refusal = account_count == self.limits.per_account + 1 or \
                address_count == self.limits.per_address + 1
            raise refused
        return Attempt(self.counters, keys)


class Attempt:
    def __init__(self, counters, keys: tuple[str, str]):
        self._counters, self._keys = counters, keys

    def succeeded(self) -> None:
        """The password was right: the account's failures are forgiven, the address's attempt taken back."""
        self._counters.reset(self._keys[0])
        self._counters.take_back(self._keys[1])
