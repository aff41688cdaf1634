"""Production never pays through the sandbox provider unless a staging system asks for it
(ALLOW_SANDBOX_PAYMENTS=1), and says which at start-up. Against the real server: a database made in
demo mode, then served in production mode."""
from __future__ import annotations

import re

import pytest
import requests

from .live_server import LiveServer

PRODUCTION = {"STORELINK_ENV": "production", "SECRET_KEY": "p" * 48}


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    path = tmp_path_factory.mktemp("production")
    LiveServer(path).start().stop()  # development mode: migrates and creates the demo chain
    return path


def _member_order(server) -> tuple[dict, int]:
    token = server.login(phone="13800000001")
    h = {"Authorization": f"Bearer {token}"}
    r = requests.post(server.url + "/api/v1/orders", headers=h, timeout=30,
                      json={"items": [{"sku": "DRK-003", "qty": 1}], "fulfilment": "pickup", "store_id": 1})
    assert r.status_code == 201, r.text
    return h, r.json()["id"]


def test_production_refuses_the_sandbox_provider(instance):
    server = LiveServer(instance, **PRODUCTION).start()
    try:
        h, order_id = _member_order(server)
        pay = requests.post(f"{server.url}/api/v1/orders/{order_id}/pay", headers=h, timeout=30)
        assert pay.status_code == 503 and pay.json()["error"]["code"] == "payment_unavailable"
        # The sandbox's own pages and notifications are gone too, whatever token or body comes.
        assert requests.post(server.url + "/sandbox/pay/anything/confirm", timeout=30).status_code == 404
        notify = requests.post(server.url + "/api/v1/payments/sandbox/notify", data=b"{}", timeout=30,
                               headers={"Content-Type": "application/json"})
        assert notify.status_code == 404 and notify.json()["error"]["code"] == "unknown_provider"
        order = requests.get(f"{server.url}/api/v1/orders/{order_id}", headers=h, timeout=30).json()
        assert order["payment_status"] == "unpaid"
        log = server.log()
    finally:
        server.stop()
    assert "sandbox payment provider is NOT registered" in log and "ALLOW_SANDBOX_PAYMENTS=1" in log


def test_a_staging_system_may_allow_the_sandbox_and_is_warned(instance):
    server = LiveServer(instance, ALLOW_SANDBOX_PAYMENTS="1", **PRODUCTION).start()
    try:
        h, order_id = _member_order(server)
        pay = requests.post(f"{server.url}/api/v1/orders/{order_id}/pay", headers=h, timeout=30)
        assert pay.status_code == 200, pay.text
        confirm = requests.post(pay.json()["pay_url"] + "/confirm", headers={"Accept": "application/json"}, timeout=30)
        assert confirm.status_code == 200
        log = server.log()
    finally:
        server.stop()
    assert re.search(r"ALLOW_SANDBOX_PAYMENTS=1: the sandbox payment provider is registered", log)
