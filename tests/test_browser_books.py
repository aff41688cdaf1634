"""The clerk centre's 交接班 and 日结 in headless Debian Chromium (375x667 phone) against the real server:
a pay-at-store order paid in cash is the shift's expected cash; the clerk counts the drawer and hands
over (短款 shown and recorded); 日结 shows the live report of today and closes yesterday. Screenshots."""
from __future__ import annotations

from datetime import datetime, timedelta

import requests

from app.clock import business_time

from .browser import browser, live_server, make_browser, wait_hq_drawn  # noqa: F401  (pytest fixtures)
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
    browser.wait_text("#shift-expected", f"¥{total / 100:.2f}", timeout=30)
    browser.fill("#shift-counted", f"{(total - 100) / 100:.2f}")
    browser.wait_text("#shift-difference", "短款 ¥1.00", timeout=30)
    assert browser.horizontal_overflow() == 0
    browser.screenshot("clerk-shift-count")
    browser.click("#shift-close")
    browser.wait_text("#shift-history", "短款", timeout=30)
    browser.wait_text("#shift-expected", "¥0.00", timeout=30)
    browser.screenshot("clerk-shift-handed-over")

    browser.click("#clerk-sheet-close")
    _click(browser, "#clerk-dayend")
    browser.wait_text("#dayend-status", "营业中", timeout=30)
    browser.wait_text("#dayend-sales", f"¥{total / 100:.2f}", timeout=30)
    assert browser.horizontal_overflow() == 0
    browser.screenshot("clerk-dayend-today")

    yesterday = (business_time(datetime.utcnow()) - timedelta(days=1)).date().isoformat()
    browser.js("var d = document.getElementById('dayend-date'); d.value = arguments[0];"
               "d.dispatchEvent(new Event('change'))", yesterday)
    browser.wait_text("#dayend-status", "待日结", timeout=30)
    browser.click("#dayend-close")
    browser.wait_text("#sl-dialog", "不可更改", timeout=30)
    browser.click("#sl-dialog-ok")
    browser.wait_text("#dayend-status", "已日结", timeout=30)
    browser.screenshot("clerk-dayend-closed")
    assert browser.console_errors() == []


def test_hq_closes_a_stores_day_and_gets_its_erp_export(browser, live_server):
    """HQ's 门店日结: yesterday of the second store (静安) read live, closed, then offered for export."""
    browser.open("/hq")
    browser.fill("#login-account", "admin")
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    browser.wait_text("#de-store", "静安", timeout=30)
    wait_hq_drawn(browser)
    browser.select("#de-store", text="静安南京西路店")
    browser.click("#de-load")
    browser.wait_text("#de-status", "待日结", timeout=30)
    browser.js("document.getElementById('de-form').scrollIntoView({block: 'start'})")
    assert browser.horizontal_overflow() == 0
    browser.screenshot("hq-dayend-open")
    browser.click("#de-close")
    browser.wait_text("#sl-dialog", "静安南京西路店", timeout=30)
    browser.click("#sl-dialog-ok")
    browser.wait_text("#de-status", "已日结", timeout=30)
    browser.wait_visible("#de-csv")
    # The export the button fetches: the CSV starts with a BOM (Excel reads the Chinese right).
    first = browser.driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "fetch('/api/v1/hq/day-ends/' + document.getElementById('de-store').value + '/' + "
        "document.getElementById('de-date').value + '.csv', {headers: {Authorization: 'Bearer ' + SL.token()}})"
        ".then(function (r) { return r.arrayBuffer(); }).then(function (b) { done(Array.from(new Uint8Array(b).slice(0, 3))); });")
    assert first == [0xEF, 0xBB, 0xBF]
    browser.js("document.getElementById('de-form').scrollIntoView({block: 'start'})")
    browser.screenshot("hq-dayend-closed")
    assert browser.console_errors() == []
