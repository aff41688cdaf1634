"""The real server under gevent: racing buyers over HTTP, the sandbox notification over HTTP,
and Socket.IO pushes to the store's clerks (across two workers through Redis)."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.channels.signing import signed_headers

from .conftest import PG_URL, REQUIRE_SERVICES, _postgres_reachable
from .helpers import race
from .live_server import LiveServer, two_workers

# Named after the test database, so suites run side by side against one server (test_a, test_b) never
# drop each other's live-server database.
E2E_DB = f"{make_url(PG_URL).database}_e2e"
PLATFORM_SECRET = "live-test-platform-secret-" + "0" * 16  # test-only: the live server's 美团 key


def _fresh_postgres_database() -> str:
    problem = _postgres_reachable()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL required but unavailable: {problem}")
        pytest.skip(f"PostgreSQL is not available ({problem})")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {E2E_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {E2E_DB}"))
    admin.dispose()
    return make_url(PG_URL).set(database=E2E_DB).render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    url = _fresh_postgres_database() if request.param == "postgresql" else None
    live = LiveServer(tmp_path_factory.mktemp("live"), database_url=url, CHANNEL_MEITUAN_SECRET=PLATFORM_SECRET).start()
    yield live
    live.stop()


def _set_stock(server, sku: str, on_hand: int, location_id: int = 1) -> None:
    hq = server.login(username="admin")
    r = requests.post(server.url + "/api/v1/hq/stock", json={"location_id": location_id, "sku": sku, "on_hand": on_hand},
                      headers={"Authorization": f"Bearer {hq}"}, timeout=10)
    assert r.status_code == 200, r.text


def _order(server, token, sku, qty=1, store_id=1):
    return requests.post(server.url + "/api/v1/orders", json={"items": [{"sku": sku, "qty": qty}], "fulfilment": "pickup",
                                                                "store_id": store_id},
                         headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_100_http_buyers_race_for_20_units_on_the_gevent_server(server):
    _set_stock(server, "GRA-004", 20)
    token = server.login(phone="13800000001")
    outcomes = Counter(race(100, lambda i: _order(server, token, "GRA-004").status_code))
    assert outcomes == {201: 20, 409: 80}, server.log()
    products = requests.get(server.url + "/api/v1/products?location_id=1", timeout=10).json()["products"]
    assert next(p for p in products if p["sku"] == "GRA-004")["available"] == 0


def test_a_platform_order_pushed_ten_times_at_once_is_one_order_reserved_once_and_reaches_its_clerks(server):
    _set_stock(server, "SNK-003", 5)
    clerk1, clerk2 = server.login(username="clerk1"), server.login(username="clerk2")
    c1, got1, ready1 = _connect(server.url, "/clerk", clerk1)
    c2, got2, _ = _connect(server.url, "/clerk", clerk2)
    body = json.dumps({"platform_order_id": "MT-LIVE-1", "store_code": "SH-XH", "items": [{"sku": "SNK-003", "qty": 2}],
                       "address": "上海市徐汇区漕溪北路 88 号", "paid": True, "paid_amount": 3380}).encode()
    try:
        responses = race(10, lambda _: requests.post(
            server.url + "/api/v1/channels/meituan/orders", data=body,
            headers=signed_headers(PLATFORM_SECRET.encode(), body), timeout=60))
        assert sorted(r.status_code for r in responses) == [200] * 9 + [201], [r.text for r in responses]
        (order_id,) = {r.json()["id"] for r in responses}
        assert ready1.wait(5), "the store's clerk got no push"
        assert [data["order_id"] for name, data in got1 if name == "order.new"] == [order_id]
        time.sleep(0.3)
        assert got2 == []
    finally:
        c1.disconnect()
        c2.disconnect()
    products = requests.get(server.url + "/api/v1/products?location_id=1", timeout=10).json()["products"]
    assert next(p for p in products if p["sku"] == "SNK-003")["available"] == 3


def _raw_order_request(server, token: str, framing: str, body: bytes) -> tuple[bytes, bytes]:
    head = (f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)  # nothing more is coming: a short body stays short
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    status_line, _, rest = response.partition(b"\r\n")
    return status_line, rest.partition(b"\r\n\r\n")[2]


def test_order_bodies_are_read_whole_chunked_or_not_and_a_short_one_is_refused(server):
    token = server.login(phone="13800000001")
    order = json.dumps({"items": [{"sku": "DAI-001", "qty": 1}], "fulfilment": "pickup", "store_id": 1}).encode()
    status, body = _raw_order_request(server, token, f"Content-Length: {len(order)}", order)
    assert status.startswith(b"HTTP/1.1 201"), body
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(order), order)
    status, body = _raw_order_request(server, token, "Transfer-Encoding: chunked", chunked)
    assert status.startswith(b"HTTP/1.1 201"), body
    status, body = _raw_order_request(server, token, f"Content-Length: {len(order) + 10}", order)
    assert status.startswith(b"HTTP/1.1 400"), body  # the client hung up before the declared length
    assert json.loads(body)["error"]["code"] == "bad_request"
    status, body = _raw_order_request(server, token, f"Content-Length: {2 * 1024 * 1024}", order)
    assert status.startswith(b"HTTP/1.1 413") and json.loads(body)["error"]["code"] == "request_entity_too_large"


def _connect(server_url: str, namespace: str, token: str | None):
    client = socketio.Client(reconnection=False)
    received, ready = [], threading.Event()
    client.on("order.new", lambda data: (received.append(("order.new", data)), ready.set()), namespace=namespace)
    client.on("order.status", lambda data: received.append(("order.status", data)), namespace=namespace)
    client.connect(server_url, namespaces=[namespace], auth={"token": token} if token else None,
                   transports=["websocket"], wait_timeout=10)
    return client, received, ready


def _pay_through_sandbox(server, token, order_id):
    h = {"Authorization": f"Bearer {token}"}
    pay_url = requests.post(f"{server.url}/api/v1/orders/{order_id}/pay", headers=h, timeout=10).json()["pay_url"]
    assert "确认支付" in requests.get(pay_url, timeout=10).text
    r = requests.post(pay_url + "/confirm", headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        order = requests.get(f"{server.url}/api/v1/orders/{order_id}", headers=h, timeout=10).json()
        if order["payment_status"] == "paid":
            return order
        time.sleep(0.05)
    raise AssertionError(f"notification never applied:\n{server.log()}")


def test_paid_order_is_pushed_to_the_stores_clerks_and_to_the_member(server):
    member = server.login(phone="13800000001")
    clerk1, clerk2 = server.login(username="clerk1"), server.login(username="clerk2")
    c1, got1, ready1 = _connect(server.url, "/clerk", clerk1)
    c2, got2, _ = _connect(server.url, "/clerk", clerk2)
    m, got_member, _ = _connect(server.url, "/member", member)
    try:
        order_id = _order(server, member, "DRK-003").json()["id"]
        order = _pay_through_sandbox(server, member, order_id)
        assert order["status"] == "awaiting_acceptance"
        assert ready1.wait(5), "clerk of the order's store got no push"
        assert ("order.new", order_id) in [(name, data["order_id"]) for name, data in got1]
        time.sleep(0.3)
        assert got2 == []  # the other store's clerk hears nothing
        assert any(name == "order.status" and data["order_id"] == order_id for name, data in got_member)
    finally:
        for client in (c1, c2, m):
            client.disconnect()


@pytest.mark.parametrize("namespace,token", [("/clerk", None), ("/clerk", "forged"), ("/member", "forged")])
def test_socketio_refuses_unauthenticated_clients(server, namespace, token):
    with pytest.raises(socketio.exceptions.ConnectionError):
        _connect(server.url, namespace, token)


def test_member_token_cannot_join_the_clerk_namespace(server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        _connect(server.url, "/clerk", server.login(phone="13800000001"))


def test_event_reaches_a_clerk_connected_to_another_worker_through_redis(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    first, second = two_workers(shared)
    try:
        clerk = first.login(username="clerk1")
        c, got, ready = _connect(second.url, "/clerk", clerk)
        try:
            member = first.login(phone="13800000001")
            order_id = _order(first, member, "DRK-002").json()["id"]
            _pay_through_sandbox(first, member, order_id)
            assert ready.wait(5), f"no push through Redis:\n{first.log()}\n{second.log()}"
            assert got[0][1]["order_id"] == order_id
        finally:
            c.disconnect()
    finally:
        first.stop()
        second.stop()


def test_two_workers_sharing_one_sqlite_file_never_oversell(tmp_path):
    """Production runs several workers: buyers spread over two processes still get exactly the stock."""
    first = LiveServer(tmp_path).start()
    second = LiveServer(tmp_path).start()
    try:
        _set_stock(first, "SNK-002", 20)
        token = first.login(phone="13800000001")
        servers = (first, second)
        outcomes = Counter(race(100, lambda i: _order(servers[i % 2], token, "SNK-002").status_code))
        assert outcomes == {201: 20, 409: 80}, first.log() + second.log()
        products = requests.get(second.url + "/api/v1/products?location_id=1", timeout=10).json()["products"]
        assert next(p for p in products if p["sku"] == "SNK-002")["available"] == 0
    finally:
        first.stop()
        second.stop()
