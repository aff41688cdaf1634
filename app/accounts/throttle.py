"""Login throttling: password guesses are limited per account from one address, per account across
all addresses, and per client address.

The strict limit is keyed by account AND address: a guesser hammering one account from one place is
stopped after a few tries, while the account's owner elsewhere logs in as usual, so nobody can lock
a member or clerk out by typing wrong passwords at their name. Against guessing spread over many
addresses the account has a much higher limit of its own; only attempts the strict limits let
through count toward it (a refused flood from one address adds nothing). Past it the account is
refused from everywhere, except from addresses it logged in from successfully before (within
LOGIN_KNOWN_ADDRESS_DAYS): the owner's usual place keeps working during a distributed flood, still
under the strict limit. The per-address limit stops one address guessing across many accounts.

Each attempt is counted *before* its password is checked (so a burst of parallel guesses cannot slip
past the count), and a successful one takes its count back. What remains counted is therefore failed
(and in-flight) attempts. Past a limit within the window, attempts are refused with 429 and the
seconds until the window ends, without checking the password: the right password is refused too
until then, which is the point (a guesser never learns it was right).

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
    per_account_and_address: int = 10
    per_account: int = 100
    per_address: int = 50
    window_seconds: int = 900
    known_address_seconds: int = 30 * 86400  # 0: no address is exempt from the account-wide limit

    @classmethod
    def from_config(cls, config) -> "LoginLimits":
        return cls(config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"], config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
                   config["LOGIN_MAX_FAILURES_PER_ADDRESS"], config["LOGIN_THROTTLE_WINDOW_SECONDS"],
                   config["LOGIN_KNOWN_ADDRESS_DAYS"] * 86400)


class MemoryCounters:
    """Fixed-window counters in this process (one worker, or tests)."""

    MAX_KEYS = 100_000  # beyond this, ended windows are dropped before a new key is added

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, list] = {}  # key -> [count, window end]

    def hit(self, keys: tuple[str, ...], window: int) -> list[tuple[int, float]]:
        """Counts one attempt on each key; returns (count in the window, seconds until it ends) for each."""
        now = self._clock()
        with self._lock:
            return [self._hit(key, window, now) for key in keys]

    def _hit(self, key: str, window: int, now: float) -> tuple[int, float]:
        entry = self._windows.get(key)
        if entry is None or entry[1] <= now:
            if entry is None and len(self._windows) >= self.MAX_KEYS:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            entry = self._windows[key] = [0, now + window]
        entry[0] += 1
        return entry[0], entry[1] - now

    def take_back(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                entry = self._windows.get(key)
                if entry is not None and entry[0] > 0:
                    entry[0] -= 1

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def remember(self, key: str, seconds: int) -> None:
        """A mark that lasts `seconds` (a count of 1 in a window of its own)."""
        with self._lock:
            self._windows.pop(key, None)
            self._hit(key, seconds, self._clock())

    def remembered(self, key: str) -> bool:
        with self._lock:
            entry = self._windows.get(key)
            return entry is not None and entry[1] > self._clock() and entry[0] > 0


class RedisCounters:
    """Fixed-window counters in Redis: INCR, and the window's expiry set by the attempt that opens it."""

    PREFIX = "storelink:login:"
    # DECR only a count that still exists: on an ended window DECR would create a key at -1 with no
    # expiry, a count that never goes away.
    _TAKE_BACK = "for _, key in ipairs(KEYS) do if redis.call('exists', key) == 1 then redis.call('decr', key) end end"

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._take_back = self._redis.register_script(self._TAKE_BACK)

    def hit(self, keys: tuple[str, ...], window: int) -> list[tuple[int, float]]:
        pipe = self._redis.pipeline()
        for key in keys:
            pipe.incr(self.PREFIX + key)
            pipe.expire(self.PREFIX + key, window, nx=True)
            pipe.pttl(self.PREFIX + key)
        replies = pipe.execute()
        return [(int(replies[i]), max(replies[i + 2], 0) / 1000) for i in range(0, len(replies), 3)]

    def take_back(self, *keys: str) -> None:
        self._take_back(keys=[self.PREFIX + key for key in keys])

    def reset(self, key: str) -> None:
        self._redis.delete(self.PREFIX + key)

    def remember(self, key: str, seconds: int) -> None:
        self._redis.set(self.PREFIX + key, 1, ex=seconds)

    def remembered(self, key: str) -> bool:
        return bool(self._redis.exists(self.PREFIX + key))


def counters_for(config):
    url = config.get("RATELIMIT_STORAGE_URL") or config.get("SOCKETIO_MESSAGE_QUEUE")
    return RedisCounters(url) if url else MemoryCounters()


class LoginThrottle:
    def __init__(self, limits: LoginLimits, counters):
        self.limits = limits
        self.counters = counters

    def attempt(self, account_key: str, address: str) -> "Attempt":
        """Counts an attempt; 429 when the account from this address, the address, or the account
        from every address (unless this address is known to it) is over its limit."""
        limits, window = self.limits, self.limits.window_seconds
        pair, by_address, by_account = f"pair:{account_key}|{address}", f"addr:{address}", f"acct:{account_key}"
        (pair_count, pair_left), (address_count, address_left) = self.counters.hit((pair, by_address), window)
        _refuse_if_over((pair_count, limits.per_account_and_address, pair_left, "account_and_address"),
                        (address_count, limits.per_address, address_left, "address"))
        [(account_count, account_left)] = self.counters.hit((by_account,), window)
        known = f"known:{account_key}|{address}"
        if account_count > limits.per_account and not (limits.known_address_seconds and
                                                       self.counters.remembered(known)):
            # Refused unchecked: the account's lock, not this address's doing (an owner retrying from a
            # new address must not spend the strict limit as well).
            self.counters.take_back(pair, by_address)
            _refuse_if_over((account_count, limits.per_account, account_left, "account"))
        return Attempt(self, (pair, by_address, by_account, known))


def _refuse_if_over(*checks: tuple[int, int, float, str]) -> None:
    """429 if any (count, limit, seconds left, scope) is over its limit, Retry-After the longest wait."""
    over = [(left, scope) for count, limit, left, scope in checks if count > limit]
    if not over:
        return
    retry_after = max(1, math.ceil(max(left for left, _ in over)))
    refused = TooManyRequests("登录尝试过于频繁,请稍后再试", code="too_many_login_attempts",
                              details={"retry_after": retry_after})
    refused.scope = max(over)[1]
    # The audit notes a refusal once per window and key, not every attempt of a flood.
    refused.first_refusal = any(count == limit + 1 for count, limit, _, _ in checks)
    raise refused


class Attempt:
    def __init__(self, throttle: LoginThrottle, keys: tuple[str, str, str, str]):
        self._throttle, self._keys = throttle, keys

    def succeeded(self) -> None:
        """The password was right: the account's failures from this address are forgiven, the attempt
        taken back from the address's and the account's counts (others' failures stay counted), and
        the address is known to the account from now on."""
        pair, by_address, by_account, known = self._keys
        counters, limits = self._throttle.counters, self._throttle.limits
        counters.reset(pair)
        counters.take_back(by_address, by_account)
        if limits.known_address_seconds:
            counters.remember(known, limits.known_address_seconds)
