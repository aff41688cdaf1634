"""HQ's escalation view (/hq, 375x667 phone): an order nobody at the store accepts in time shows up live
(the escalation job, then an `order.escalated` push to the HQ room), without reloading the page."""
from __future__ import annotations

import pytest
import requests

from .browser import browser_safe_port, make_browser, require_chromium  # noqa: F401  (pytest fixtures)
from .live_server import LiveServer
from .test_live_server import _pay_through_sandbox


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The real server with the demo chain; orders waiting 2 s for acceptance are escalated, swept every second."""
    require_chromium()
    server = LiveServer(tmp_path_factory.mktemp("hq-escalation"), port=browser_safe_port(), PUBLIC_BASE_URL="",
                        ESCALATE_AFTER_SECONDS="2", STORE_JOBS_SWEEP_SECONDS="1").start()
    yield server
    server.stop()


def test_an_order_nobody_accepted_in_time_shows_up_live_at_hq(make_browser, live_server):
    page = make_browser()
    page.open("/hq")
    page.fill("#login-account", "admin")
    page.fill("#login-password", "demo1234")
    page.click("#login-submit")
    page.wait_text("#hq-escalations", "暂无超时未接单的订单")
    page.wait(lambda _: page.js("return !!(window.io && document.querySelector('#hq-escalations'))"), message="page ready")

    member = live_server.login(phone="13800000001")
    body = {"items": [{"sku": "DRK-003", "qty": 1}], "fulfilment": "pickup", "store_id": 1}
    order = requests.post(live_server.url + "/api/v1/orders", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {member}"}).json()
    _pay_through_sandbox(live_server, member, order["id"])  # 待接单 at 徐汇漕溪北路店; nobody accepts it

    card = page.wait_text(f".hq-escalation[data-order-id='{order['id']}']", order["number"], timeout=20)
    assert "徐汇漕溪北路店" in card.text and "仍未接单" in card.text
    assert page.find("#hq-escalation-count").text == "1 单"
    assert page.horizontal_overflow() == 0
    page.screenshot("hq-escalation-live")
    assert page.console_errors() == []
    history = requests.get(f"{live_server.url}/api/v1/orders/{order['id']}", timeout=10,
                           headers={"Authorization": f"Bearer {member}"}).json()["events"]
    assert any(e["kind"] == "escalated" for e in history)

    # Accepted at last: gone from HQ's list on the next read.
    clerk = live_server.login(username="clerk1")
    assert requests.post(f"{live_server.url}/api/v1/clerk/orders/{order['id']}/accept", timeout=10,
                         headers={"Authorization": f"Bearer {clerk}"}).status_code == 200
    page.open("/hq")
    page.wait_text("#hq-escalations", "暂无超时未接单的订单")
