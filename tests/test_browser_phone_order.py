"""电话下单 on /hq (phone-sized headless Chromium against the real server): HQ takes a cash-on-delivery order
for a caller who is no member, with the region picker the mall uses, and an online pickup order for a member,
which lands in the member's own order list."""
from __future__ import annotations

import requests

from .browser import browser, live_server, make_browser, wait_hq_drawn  # noqa: F401  (pytest fixtures)


def _login_hq(browser):
    browser.open("/hq")
    browser.fill("#login-account", "admin")
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    browser.wait_visible("#po-form")
    wait_hq_drawn(browser)


def _add(browser, sku: str, qty: int):
    browser.select("#po-sku", value=sku)
    browser.fill("#po-qty", str(qty))
    browser.click("#po-add")
    browser.wait_visible(f".hq-po-line[data-sku='{sku}']")


def test_hq_takes_a_cash_on_delivery_order_by_phone_for_a_caller_who_is_no_member(browser, live_server):
    _login_hq(browser)
    browser.fill("#po-phone", "1391234")
    _add(browser, "DRK-003", 2)
    browser.click("#po-submit")
    browser.wait_text("#po-error", "11 位手机号")  # checked before anything is sent

    browser.fill("#po-phone", "13912345678")
    browser.fill("#po-name", "王先生")
    browser.select("#po-method", value="store_delivery")
    browser.select("#region-province", text="上海市")
    browser.wait(lambda _: browser.js("return document.getElementById('region-city').value") != "", 10, "city")
    browser.select("#region-district", text="徐汇区")
    browser.select("#region-street", text="天平路街道")
    browser.fill("#po-detail", "天平路 1 号 302 室")
    assert browser.js("return document.getElementById('po-payment').value") == "cod"
    browser.wait_text("#po-total", "¥")
    browser.screenshot("hq-phone-order-form")
    assert browser.horizontal_overflow() == 0
    browser.click("#po-submit")
    number = browser.wait_visible("#po-number").text
    browser.wait_text("#po-result", "非会员订单")
    browser.screenshot("hq-phone-order-placed")

    clerk = live_server.login(username="clerk1")
    queue = requests.get(f"{live_server.url}/api/v1/clerk/orders", headers={"Authorization": f"Bearer {clerk}"},
                         timeout=10).json()["orders"]
    placed = next(o for o in queue if o["number"] == number)
    assert (placed["channel"], placed["payment_method"], placed["contact_phone"]) == ("phone", "cod", "13912345678")
    assert [(l["sku"], l["qty"]) for l in placed["lines"]] == [("DRK-003", 2)]


def test_a_members_phone_order_waits_in_their_own_order_list(browser, live_server):
    _login_hq(browser)
    browser.fill("#po-phone", "13800000001")
    browser.select("#po-store", text="徐汇漕溪北路店")
    browser.select("#po-payment", value="online")
    _add(browser, "DAI-001", 1)
    browser.click("#po-submit")
    number = browser.wait_visible("#po-number").text
    browser.wait_text("#po-result", "请提醒客户在商城")
    member = live_server.login(phone="13800000001")
    mine = requests.get(f"{live_server.url}/api/v1/orders", headers={"Authorization": f"Bearer {member}"},
                        timeout=10).json()["orders"]
    assert [(o["number"], o["channel"], o["status"]) for o in mine if o["number"] == number] == \
        [(number, "phone", "pending_payment")]
