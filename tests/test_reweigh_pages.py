"""The clerk's re-weigh screen in a real phone-sized browser against the real server (demo data)."""
from __future__ import annotations

import time

import requests

from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)

API = "/api/v1"


def _call(server, method, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.request(method, server.url + API + path, headers=headers, timeout=10, **kw)
    assert r.status_code < 300, (path, r.status_code, r.text)
    return r.json()


def ready_pickup_order(server, items=(("FRE-001", 2),)):
    """A paid pickup order at the first store (clerk1's), accepted and packed, through the real API and the
    sandbox provider's asynchronous notification."""
    member = server.login(phone="13800000001")
    clerk = server.login(username="clerk1")
    store_id = _call(server, "GET", "/auth/me", clerk)["store_id"]
    order = _call(server, "POST", "/orders", member, json={
        "items": [{"sku": s, "qty": q} for s, q in items], "fulfilment": "pickup", "store_id": store_id})
    pay_url = _call(server, "POST", f"/orders/{order['id']}/pay", member)["pay_url"]
    r = requests.post(pay_url + "/confirm", headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 15
    while _call(server, "GET", f"/orders/{order['id']}", member)["payment_status"] != "paid":
        assert time.monotonic() < deadline, "the sandbox notification never arrived"
        time.sleep(0.1)
    for action in ("accept", "ready"):
        _call(server, "POST", f"/clerk/orders/{order['id']}/{action}", clerk)
    return order["id"], member, clerk


def clerk_logs_in(browser, order_id):
    browser.open(f"/clerk/orders/{order_id}/reweigh")
    browser.fill("#login-account", "clerk1")
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    return browser.wait_visible(".rw-line")


def test_typed_weight_lighter_refunded_on_the_phone_screen(browser, live_server):
    order_id, member, _ = ready_pickup_order(live_server)
    clerk_logs_in(browser, order_id)
    browser.wait_text(".rw-line__meta", "应重 1500 g")
    browser.wait_text(".rw-scale__state", "未收到电子秤读数")
    assert browser.find(".rw-capture-scale").get_attribute("disabled") is not None  # no stable reading: no capture
    assert browser.horizontal_overflow() == 0
    browser.screenshot("reweigh-clerk-before")

    browser.fill(".rw-typed", "1420")
    browser.click_text(".rw-capture .weui-btn", "录入")
    browser.wait_text(".rw-result__diff", "应退 ¥4.78")
    browser.wait_text("#rw-footer", "请处理称重差额")
    browser.screenshot("reweigh-clerk-lighter")
    browser.click("#rw-choice-refund")
    browser.wait_text("#rw-footer", "可以交付")
    browser.wait_text(".rw-settled", "原路退款")
    assert browser.horizontal_overflow() == 0
    browser.screenshot("reweigh-clerk-refunded")
    assert browser.console_errors() == []

    statement = _call(live_server, "GET", f"/orders/{order_id}/weighings", member)
    assert statement["totals"]["refunded"] == 478 and statement["all_settled"]
    order = _call(live_server, "GET", f"/orders/{order_id}", member)
    assert order["payment_status"] == "partially_refunded"


def test_member_sees_the_top_up_live_and_pays_it(make_browser, live_server):
    order_id, member, clerk = ready_pickup_order(live_server)
    line_id = next(l["id"] for l in _call(live_server, "GET", f"/orders/{order_id}", member)["lines"])
    _call(live_server, "POST", f"/clerk/orders/{order_id}/weighings", clerk,
          json={"lines": [{"line_id": line_id, "weight_g": 1583, "source": "typed"}]})

    browser = make_browser()
    browser.open(f"/orders/{order_id}")
    browser.fill("#login-account", "13800000001")
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    browser.wait_text("#rw-member", "门店处理中")
    # The clerk asks for a top-up: the member's page shows it without a reload (order.status over /member).
    _call(live_server, "POST", f"/clerk/orders/{order_id}/lines/{line_id}/settlement", clerk, json={"settlement": "topup"})
    browser.wait_text("#rw-topup-pay", "补款 ¥4.96")
    assert browser.horizontal_overflow() == 0
    browser.js("document.getElementById('rw-member').scrollIntoView({block: 'center'})")
    browser.screenshot("reweigh-member-topup-due")
    browser.click("#rw-topup-pay")
    browser.wait(lambda d: "/sandbox/pay/" in d.current_url, 15, "the sandbox pay page")
    browser.click("#confirm")
    browser.wait_visible("#paid")
    browser.click("#return")
    browser.wait_text("#rw-member", "会员补款 补 ¥4.96", timeout=20)  # the notification arrives asynchronously
    browser.js("document.getElementById('rw-member').scrollIntoView({block: 'center'})")
    browser.screenshot("reweigh-member-topup-paid")
    statement = _call(live_server, "GET", f"/orders/{order_id}/weighings", member)
    assert (statement["all_settled"], statement["totals"]["collected"]) == (True, 496)
    assert browser.console_errors() == []
