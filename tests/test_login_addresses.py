"""Logins by client address, attacked against the real server: X-Forwarded-For is believed only from a
trusted proxy (TRUSTED_PROXIES) and only for its right-most untrusted hop; a guesser's flood at one
account from one address does not lock its owner out, a flood spread over many addresses is stopped.

The servers trust 127.0.0.2 as their proxy; requests sent from 127.0.0.2 play the proxy (the header
is what nginx's `$proxy_add_x_forwarded_for` would pass on), requests from 127.0.0.1 a client
reaching the server directly. Each test spends the limits of its own addresses and accounts."""
from __future__ import annotations

import http.client
import json
import socket

import pytest

from .live_server import LiveServer

LOGIN = "/api/v1/auth/login"
PROXY = "127.0.0.2"
PER_ADDRESS = 4


def _loopback_alias_works() -> bool:
    with socket.socket() as s:
        try:
            s.bind((PROXY, 0))
        except OSError:
            return False
    return True


pytestmark = pytest.mark.skipif(not _loopback_alias_works(), reason="127.0.0.2 is not a loopback address here")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("proxied"), TRUSTED_PROXIES=f"{PROXY}/32",
                      LOGIN_MAX_FAILURES_PER_ADDRESS=str(PER_ADDRESS),
                      # Only the per-address limit is under test: the per-account ones stay out of reach.
                      LOGIN_MAX_FAILURES_PER_ACCOUNT="1000", LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS="1000").start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def lockout_server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("lockout"), TRUSTED_PROXIES=PROXY,
                      LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS=str(PER_ACCOUNT_AND_ADDRESS),
                      LOGIN_MAX_FAILURES_PER_ACCOUNT=str(PER_ACCOUNT), LOGIN_MAX_FAILURES_PER_ADDRESS="1000").start()
    yield live
    live.stop()


PER_ACCOUNT_AND_ADDRESS, PER_ACCOUNT = 5, 20


def login(server, phone, password="wrong", *, source="127.0.0.1", forwarded_for=None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30, source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    try:
        connection.request("POST", LOGIN, json.dumps({"phone": phone, "password": password}), headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def audit_lines(server) -> list[str]:
    return [line for line in server.log_path.read_text(errors="replace").splitlines() if "storelink.audit" in line]


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_escape_the_address_throttle(server):
    statuses = [login(server, f"139000001{i:02d}", forwarded_for=f"203.0.113.{i + 1}") for i in range(PER_ADDRESS + 2)]
    assert statuses == [401] * PER_ADDRESS + [429] * 2
    assert login(server, "13800000001", "demo1234", forwarded_for="203.0.113.200") == 429
    lines = [line for line in audit_lines(server) if "139****01" in line or "138****0001" in line]
    assert lines and all("from 127.0.0.1" in line and "203.0.113." not in line for line in lines)


def test_through_the_trusted_proxy_two_clients_are_throttled_separately(server):
    attacker, neighbour = "198.51.100.7", "198.51.100.8"
    statuses = [login(server, f"139000002{i:02d}", source=PROXY, forwarded_for=attacker) for i in range(PER_ADDRESS + 1)]
    assert statuses == [401] * PER_ADDRESS + [429]
    # Another client behind the same proxy is served; the attacker is still held back.
    assert login(server, "13800000001", "demo1234", source=PROXY, forwarded_for=neighbour) == 200
    assert login(server, "13800000001", "demo1234", source=PROXY, forwarded_for=attacker) == 429
    lines = [line for line in audit_lines(server) if "139****02" in line]
    assert len(lines) == PER_ADDRESS + 1 and all(f"from {attacker}" in line for line in lines)


def test_through_the_trusted_proxy_a_client_cannot_choose_its_address(server):
    """What the client sent itself sits left of the hop the proxy appended: it is never believed."""
    client = "198.51.100.9"
    statuses = [login(server, f"139000003{i:02d}", source=PROXY, forwarded_for=f"192.0.2.{i + 1}, {client}")
                for i in range(PER_ADDRESS + 2)]
    assert statuses == [401] * PER_ADDRESS + [429] * 2


def test_a_flood_at_one_account_from_one_address_does_not_lock_its_owner_out(lockout_server):
    attacker, owner = "203.0.113.66", "198.51.100.20"
    statuses = [login(lockout_server, "13800000001", source=PROXY, forwarded_for=attacker) for _ in range(3 * PER_ACCOUNT)]
    assert statuses == [401] * PER_ACCOUNT_AND_ADDRESS + [429] * (3 * PER_ACCOUNT - PER_ACCOUNT_AND_ADDRESS)
    assert login(lockout_server, "13800000001", "demo1234", source=PROXY, forwarded_for=owner) == 200
    # The guesser stays refused, the right password included.
    assert login(lockout_server, "13800000001", "demo1234", source=PROXY, forwarded_for=attacker) == 429
    lines = [line for line in audit_lines(lockout_server) if "138****0001" in line and "too many" in line]
    assert len(lines) == 1 and "this account from this address" in lines[0] and attacker in lines[0]


def test_a_flood_over_many_addresses_is_stopped_and_the_owners_known_address_still_gets_in(lockout_server):
    owner = "198.51.100.30"
    assert login(lockout_server, "13800000002", "demo1234", source=PROXY, forwarded_for=owner) == 200
    statuses = [login(lockout_server, "13800000002", source=PROXY, forwarded_for=f"203.0.{i // 250}.{i % 250 + 1}")
                for i in range(PER_ACCOUNT + 10)]  # one guess per address: no address near its own limit
    assert statuses == [401] * PER_ACCOUNT + [429] * 10
    assert login(lockout_server, "13800000002", "demo1234", source=PROXY, forwarded_for="203.0.9.9") == 429
    assert login(lockout_server, "13800000002", "demo1234", source=PROXY, forwarded_for=owner) == 200
    lines = [line for line in audit_lines(lockout_server) if "138****0002" in line and "too many" in line]
    assert len(lines) == 1 and "this account from every address" in lines[0]
