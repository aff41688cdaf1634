"""Login throttling per account from one address, per account from every address and per client
address (429 with Retry-After), the right password refused too while throttled, nobody locked out by
someone else's guesses, the counters shared through Redis, failed logins in the audit log."""
from __future__ import annotations

import logging
import os

import pytest

from app.accounts.throttle import MemoryCounters

from .conftest import REQUIRE_SERVICES
from .factories import build_chain

LOGIN = "/api/v1/auth/login"
LIMITS = {"LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS": 5, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 8,
          "LOGIN_MAX_FAILURES_PER_ADDRESS": 12, "LOGIN_THROTTLE_WINDOW_SECONDS": 600, "LOGIN_KNOWN_ADDRESS_DAYS": 30}


@pytest.fixture
def limited(app):
    app.config.update(LIMITS)
    from app.accounts.throttle import LoginLimits, LoginThrottle

    app.extensions["storelink_login_throttle"] = LoginThrottle(LoginLimits.from_config(app.config), MemoryCounters())
    build_chain(app, members=4)
    return app


def login(client, password, address="10.0.0.1", **who):
    return client.post(LOGIN, json={**who, "password": password}, environ_overrides={"REMOTE_ADDR": address})


def test_an_account_is_throttled_after_its_failures_and_the_right_password_is_refused_too(limited):
    client = limited.test_client()
    statuses = [login(client, "wrong", phone="13800000000").status_code for _ in range(5)]
    assert statuses == [401] * 5
    refused = login(client, "secret-pass", phone="13800000000")
    assert refused.status_code == 429 and refused.json["error"]["code"] == "too_many_login_attempts"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert refused.json["error"]["details"]["retry_after"] == int(refused.headers["Retry-After"])
    # Another account from the same address is not held back by this one's failures.
    assert login(client, "secret-pass", phone="13800000001").status_code == 200


def test_a_flood_from_one_address_does_not_lock_the_owner_out(limited):
    """The guesser's refused attempts never reach the account-wide count: the owner, from another
    address, logs in as usual however long the flood goes on."""
    client = limited.test_client()
    statuses = [login(client, "wrong", address="203.0.113.66", phone="13800000000").status_code for _ in range(40)]
    assert statuses == [401] * 5 + [429] * 35
    assert login(client, "secret-pass", address="198.51.100.20", phone="13800000000").status_code == 200
    assert login(client, "secret-pass", address="203.0.113.66", phone="13800000000").status_code == 429


def test_a_flood_over_many_addresses_is_stopped_but_known_addresses_get_in(limited):
    client = limited.test_client()
    assert login(client, "secret-pass", address="198.51.100.20", phone="13800000000").status_code == 200  # the owner
    statuses = [login(client, "wrong", address=f"203.0.113.{i}", phone="13800000000").status_code for i in range(1, 13)]
    assert statuses == [401] * 8 + [429] * 4  # one guess per address: only the account-wide limit stops them
    assert login(client, "secret-pass", address="203.0.113.99", phone="13800000000").status_code == 429
    # The owner's known address is let through (still under the strict per-address limits).
    assert login(client, "secret-pass", address="198.51.100.20", phone="13800000000").status_code == 200
    # Attempts refused by the account's lock did not spend those addresses' own limits.
    assert login(client, "secret-pass", address="203.0.113.12", phone="13800000001").status_code == 200


def test_a_success_forgives_the_accounts_failures(limited):
    client = limited.test_client()
    for _ in range(4):
        assert login(client, "wrong", username="clerkA").status_code == 401
    assert login(client, "secret-pass", username="clerkA").status_code == 200
    for _ in range(4):
        assert login(client, "wrong", username="clerkA").status_code == 401
    assert login(client, "secret-pass", username="clerkA").status_code == 200


def test_an_address_guessing_across_accounts_is_throttled_and_others_are_not(limited):
    client = limited.test_client()
    accounts = [{"phone": f"1380000{i:04d}"} for i in range(4)] + [{"username": "clerkA"}, {"username": "nobody"}]
    statuses = [login(client, "wrong", **accounts[i % len(accounts)]).status_code for i in range(12)]
    assert statuses == [401] * 12  # no account reached its own limit (at most 2 each)
    assert login(client, "secret-pass", phone="13800000003").status_code == 429
    assert login(client, "secret-pass", address="10.0.0.2", phone="13800000003").status_code == 200


def test_failed_and_throttled_logins_are_audited(limited, caplog):
    client = limited.test_client()
    with caplog.at_level(logging.WARNING, logger="storelink.audit"):
        for _ in range(8):
            login(client, "wrong", phone="13800000002")
    lines = [r.getMessage() for r in caplog.records if r.name == "storelink.audit"]
    assert sum("login failed" in line for line in lines) == 5
    assert sum("too many attempts (this account from this address)" in line for line in lines) == 1  # once, not per attempt
    assert all("138****0002" in line and "10.0.0.1" in line for line in lines)
    assert "13800000002" not in " ".join(lines)


def test_redis_counters_are_shared_by_every_worker():
    from app.accounts.throttle import LoginLimits, LoginThrottle, RedisCounters
    from app.errors import TooManyRequests

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        first = RedisCounters(url)
        first._redis.ping()
    except Exception as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis required but unavailable at {url}: {exc}")
        pytest.skip(f"Redis is not available at {url} ({exc})")
    key = f"member:test-{os.getpid()}"
    addresses = ["10.9.9.9", "10.9.9.10", "10.9.9.11", "10.9.9.12"]

    def clean():
        for counter_key in [f"acct:{key}"] + [f"{kind}:{key}|{a}" for a in addresses for kind in ("pair", "known")] \
                + [f"addr:{a}" for a in addresses]:
            first.reset(counter_key)

    clean()
    try:
        limits = LoginLimits(per_account_and_address=3, per_account=5, per_address=100, window_seconds=60)
        workers = [LoginThrottle(limits, first), LoginThrottle(limits, RedisCounters(url))]
        workers[0].attempt(key, addresses[3]).succeeded()  # the owner's address becomes known
        for i in range(3):
            workers[i % 2].attempt(key, addresses[0])  # failures: never marked succeeded
        with pytest.raises(TooManyRequests) as refused:
            workers[1].attempt(key, addresses[0])
        assert refused.value.scope == "account_and_address" and 1 <= refused.value.details["retry_after"] <= 60
        workers[0].attempt(key, addresses[1]).succeeded()  # the owner elsewhere: forgiven, nothing left counted
        workers[0].attempt(key, addresses[1])
        workers[1].attempt(key, addresses[2])  # five failures over three addresses: the account's limit
        with pytest.raises(TooManyRequests) as refused:
            workers[0].attempt(key, addresses[2])
        assert refused.value.scope == "account"
        workers[1].attempt(key, addresses[3]).succeeded()  # known: let through
        # A take-back after the window ended leaves no count behind (no key at -1 without expiry).
        first.reset(f"addr:{addresses[0]}")
        first.take_back(f"addr:{addresses[0]}")
        assert first._redis.exists(first.PREFIX + f"addr:{addresses[0]}") == 0
    finally:
        clean()
