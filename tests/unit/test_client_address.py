"""Reading the client's address from X-Forwarded-For: only behind a trusted proxy, right to left."""
import pytest

from app.config import ConfigError, from_environment
from app.infra.client_address import client_address, parse_trusted_proxies

PROXIES = parse_trusted_proxies("10.0.0.0/8, 192.0.2.1 ::1")


def test_without_trusted_proxies_the_header_is_never_read():
    assert client_address("203.0.113.5", "198.51.100.1", ()) == "203.0.113.5"
    assert client_address("10.0.0.3", "198.51.100.1", ()) == "10.0.0.3"


def test_an_untrusted_peer_is_the_client_whatever_it_says():
    assert client_address("203.0.113.5", "198.51.100.1, 10.0.0.3", PROXIES) == "203.0.113.5"


def test_the_right_most_untrusted_hop_is_the_client():
    assert client_address("10.0.0.3", "198.51.100.1", PROXIES) == "198.51.100.1"
    # The client's own entries (left) are ignored; trusted hops (right) are skipped.
    assert client_address("10.0.0.3", "6.6.6.6, 198.51.100.1, 10.1.2.3, 192.0.2.1", PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.3", ["6.6.6.6", "198.51.100.1, 10.9.9.9"], PROXIES) == "198.51.100.1"


def test_ports_brackets_and_mapped_addresses():
    assert client_address("::1", "[2001:db8::7]:443", PROXIES) == "2001:db8::7"
    assert client_address("::1", "198.51.100.1:5123", PROXIES) == "198.51.100.1"
    assert client_address("::ffff:10.0.0.3", "2001:db8::7", PROXIES) == "2001:db8::7"
    assert client_address("10.0.0.3", "::ffff:198.51.100.1", PROXIES) == "198.51.100.1"


def test_garbage_stops_the_walk_at_the_proxy_that_wrote_it():
    assert client_address("10.0.0.3", "198.51.100.1, unknown", PROXIES) == "10.0.0.3"
    assert client_address("10.0.0.3", "198.51.100.1, garbage, 10.0.0.9", PROXIES) == "10.0.0.9"
    assert client_address("10.0.0.3", "", PROXIES) == "10.0.0.3"


def test_only_trusted_hosts_means_the_left_most_is_the_client():
    assert client_address("10.0.0.3", "10.0.0.8, 10.0.0.9", PROXIES) == "10.0.0.8"


def test_the_setting_is_checked_at_start(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1, nginx.local")
    with pytest.raises(ConfigError, match="nginx.local"):
        from_environment()
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert from_environment()["TRUSTED_PROXIES"] == ()
