"""Revocation against the real server: deactivating staff or changing a password refuses every token
issued before at once, over HTTP and on Socket.IO, and closes the account's open sockets."""
from __future__ import annotations

import threading

import pytest
import requests
import socketio

from .live_server import LiveServer, two_workers


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("revocation")).start()
    yield live
    live.stop()


def h(token):
    return {"Authorization": f"Bearer {token}"}


def connect(server, namespace, token):
    client = socketio.Client(reconnection=False)
    gone = threading.Event()
    client.on("disconnect", lambda *_: gone.set(), namespace=namespace)
    client.connect(server.url, namespaces=[namespace], auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return client, gone


def staff_id(server, token):
    return requests.get(server.url + "/api/v1/auth/me", headers=h(token), timeout=10).json()["id"]


def test_deactivating_a_clerk_refuses_their_token_and_disconnects_their_open_socket(server):
    hq, clerk = server.login(username="admin"), server.login(username="clerk2")
    clerk_id = staff_id(server, clerk)
    client, gone = connect(server, "/clerk", clerk)
    other, other_gone = connect(server, "/clerk", server.login(username="clerk1"))
    try:
        assert requests.get(server.url + "/api/v1/clerk/orders", headers=h(clerk), timeout=10).status_code == 200
        assert requests.post(f"{server.url}/api/v1/hq/staff/{clerk_id}/deactivate", headers=h(clerk),
                             timeout=10).status_code == 403  # only HQ
        r = requests.post(f"{server.url}/api/v1/hq/staff/{clerk_id}/deactivate", headers=h(hq), timeout=10)
        assert r.status_code == 200 and r.json()["active"] is False
        assert gone.wait(10), "the deactivated clerk's socket stayed open"
        assert client.connected is False and other.connected and not other_gone.is_set()
        refused = requests.get(server.url + "/api/v1/clerk/orders", headers=h(clerk), timeout=10)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
        with pytest.raises(socketio.exceptions.ConnectionError):
            connect(server, "/clerk", clerk)
        login = requests.post(server.url + "/api/v1/auth/login", json={"username": "clerk2", "password": "demo1234"}, timeout=10)
        assert login.status_code == 401
    finally:
        for c in (client, other):
            c.disconnect()


def test_changing_a_password_refuses_every_earlier_token_and_closes_their_sockets(server):
    phone = "13800000002"
    first, second = server.login(phone=phone), server.login(phone=phone)  # two devices
    client, gone = connect(server, "/member", first)
    try:
        wrong = requests.post(server.url + "/api/v1/auth/password", headers=h(first), timeout=30,
                              json={"old_password": "not-it", "new_password": "new-pass-5678"})
        assert wrong.status_code == 401 and not gone.is_set()
        r = requests.post(server.url + "/api/v1/auth/password", headers=h(first), timeout=30,
                          json={"old_password": "demo1234", "new_password": "new-pass-5678"})
        assert r.status_code == 200, r.text
        fresh = r.json()["token"]
        assert gone.wait(10), "the member's socket stayed open after the password change"
        for old in (first, second):
            refused = requests.get(server.url + "/api/v1/orders", headers=h(old), timeout=10)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
        assert requests.get(server.url + "/api/v1/orders", headers=h(fresh), timeout=10).status_code == 200
        relogin = requests.post(server.url + "/api/v1/auth/login", json={"phone": phone, "password": "new-pass-5678"}, timeout=30)
        assert relogin.status_code == 200
    finally:
        client.disconnect()


def test_a_clerk_connected_to_another_worker_is_disconnected_through_redis(tmp_path):
    first, second = two_workers(tmp_path)
    try:
        clerk = first.login(username="clerk1")
        client, gone = connect(second, "/clerk", clerk)
        try:
            hq = first.login(username="admin")
            clerk_id = staff_id(first, clerk)
            assert requests.post(f"{first.url}/api/v1/hq/staff/{clerk_id}/deactivate", headers=h(hq),
                                 timeout=10).status_code == 200
            assert gone.wait(10), f"socket on the other worker stayed open:\n{second.log()}"
        finally:
            client.disconnect()
    finally:
        first.stop()
        second.stop()
