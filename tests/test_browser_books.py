"""The clerk centre's 交接班 and 日结 in headless Debian Chromium (375x667 phone) against the real server:
a pay-at-store order paid in cash is the shift's expected cash; the clerk counts the drawer and hands
over (短款 shown and recorded); 日结 shows the live report of today and closes yesterday. Screenshots."""
from __future__ import annotations

from datetime import datetime, timedelta

import requests

from app.clock import business_time

from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)
from .test_browser_clerk import STORE, _click, _h, _login


def _paid_in_cash_at_the_counter(server) -> int:
    member, clerk = server.login(phone="13800000001"), server.login(username="clerk1")
    body = {"items": [{"sku": "DRK-003", "qty": 2}], "fulfilment": "pickup", "store_id": STORE, "payment": "at_store"}
    order = requests.post(server.url + "/api/v1/orders", json=body, headers=_h(member), timeout=30).json()
    code = requests.get(f"{server.url}/api/v1/orders/{order['id']}", headers=_h(member), timeout=10).json()["pickup"]["code"]
    r = requests.post(server.url + "/api/v1/clerk/pickups/verify", json={"code": code, "confirm": True, "payment": "cash"},
                      headers=_h(clerk), timeout=10)
    assert r.status_code == 200, r.text
    return order["total"]


def test_the_clerk_hands_the_shift_over_and_closes_yesterday(browser, live_server):
    total = _paid_in_cash_at_the_counter(live_server)
    _login(browser, "clerk1")
    _click(browser, "#clerk-shift")
    browser.wait_visible("#shift-counted")
    browser.wait_text("#shift-expected", f"¥{total / 100:.2f}")
    browser.fill("#shift-counted", f"{(total - 100) / 100:.2f}")
    browser.wait_text("#shift-difference", "短款 ¥1.00")
    assert browser.horizontal_overflow() == 0
    browser.screenshot("clerk-shift-count")
    browser.click("#shift-close")
    browser.wait_text("#shift-history", "短款")
    browser.wait_text("#shift-expected", "¥0.00")
    browser.screenshot("clerk-shift-handed-over")

    browser.click("#clerk-sheet-close")
    _click(browser, "#clerk-dayend")
    browser.wait_text("#dayend-status", "营业中")
    browser.wait_text("#dayend-sales", f"¥{total / 100:.2f}")
    assert browser.horizontal_overflow() == 0
    browser.screenshot("clerk-dayend-today")

    yesterday = (business_time(datetime.utcnow()) - timedelta(days=1)).date().isoformat()
    browser.js("var d = document.getElementById('dayend-date'); d.value = arguments[0];"
               "d.dispatchEvent(new Event('change'))", yesterday)
    browser.wait_text("#dayend-status", "待日结")
    browser.click("#dayend-close")
    browser.wait_text("#sl-dialog", "不可更改")
    browser.click("#sl-dialog-ok")
    browser.wait_text("#dayend-status", "已日结")
    browser.screenshot("clerk-dayend-closed")
    assert browser.console_errors() == []
