"""Login throttling per account and per client address (429 with Retry-After), the right password
refused too while throttled, the counters shared through Redis, failed logins in the audit log."""
from __future__ import annotations

import logging
import os

import pytest

from app.accounts.throttle import MemoryCounters

from .conftest import REQUIRE_SERVICES
from .factories import build_chain

LOGIN = "/api/v1/auth/login"
LIMITS = {"LOGIN_MAX_FAILURES_PER_ACCOUNT": 5, "LOGIN_MAX_FAILURES_PER_ADDRESS": 12, "LOGIN_THROTTLE_WINDOW_SECONDS": 600}


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
    assert sum("too many attempts" in line for line in lines) == 1  # once per window, not per attempt
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
    for counter_key in (f"acct:{key}", "addr:10.9.9.9"):
        first.reset(counter_key)
    limits = LoginLimits(per_account=3, per_address=100, window_seconds=60)
    workers = [LoginThrottle(limits, first), LoginThrottle(limits, RedisCounters(url))]
    for i in range(3):
        workers[i % 2].attempt(key, "10.9.9.9")  # failures: never marked succeeded
    with pytest.raises(TooManyRequests) as refused:
        workers[1].attempt(key, "10.9.9.9")
    assert 1 <= refused.value.details["retry_after"] <= 60
    first.reset(f"acct:{key}")
    first.reset("addr:10.9.9.9")
