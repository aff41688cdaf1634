"""Returns (退货) in headless Chromium on a 375x667 phone against the real server with the demo chain: the
member opens a completed order, asks to return lines (申请退货: quantities, reason) and sees it 待审核;
HQ approves it in the back office's 退货审核; the member fills in the courier's tracking number (已寄回);
the store's clerk receives it in the clerk centre's 退货 tab; the member sees it 已退款, to be collected
at the counter (the order was paid in cash there). Screenshots of every step go to tests/screenshots/."""
from __future__ import annotations

import requests

from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)


def _api(live_server, token, method, path, **body):
    r = requests.request(method, f"{live_server.url}/api/v1{path}", json=body or None,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code < 300, r.text
    return r.json()


def _completed_cash_order(live_server, member, clerk) -> int:
    """A pickup order (2 milk, 1 soy sauce) at clerk1's store, paid in cash at the counter and collected."""
    store_id = _api(live_server, clerk, "GET", "/auth/me")["store_id"]
    order = _api(live_server, member, "POST", "/orders", fulfilment="pickup", store_id=store_id, payment="at_store",
                 items=[{"sku": "DAI-001", "qty": 2}, {"sku": "GRA-003", "qty": 1}])
    code = _api(live_server, member, "GET", f"/orders/{order['id']}")["pickup"]["code"]
    _api(live_server, clerk, "POST", "/clerk/pickups/verify", code=code, confirm=True, payment="cash")
    return order["id"]


def _staff_login(browser, path, username):
    browser.open(path)
    browser.fill("#login-account", username)
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")


def _looks_right(browser, name):
    assert browser.horizontal_overflow() == 0, f"{name} scrolls sideways"
    browser.screenshot(name)
    assert browser.console_errors() == []


def test_member_asks_for_a_return_and_follows_it_to_the_refund(browser, make_browser, live_server):
    member, clerk = live_server.login(phone="13800000001"), live_server.login(username="clerk1")
    order_id = _completed_cash_order(live_server, member, clerk)

    browser.open("/")
    browser.js("localStorage.setItem('storelink.token.mall', arguments[0])", member)
    browser.open(f"/orders/{order_id}")
    browser.click("#request-return")
    browser.wait_text("#return-lines", "可退 2 件")
    browser.click("#return-submit")
    browser.wait_text("#return-error", "请选择要退的商品")  # nothing chosen yet: said on the page
    browser.click(".return-plus")
    browser.click(".return-plus")
    browser.click('#return-reasons input[value="damaged"]')
    browser.fill("#return-note", "盒子压坏了")
    browser.wait_text("#return-total", "¥31.80")
    _looks_right(browser, "returns-1-form")
    browser.click("#return-submit")
    browser.wait_text("#order-returns", "待审核")
    assert browser.path == f"/orders/{order_id}"
    assert "光明鲜牛奶 950ml ×2" in browser.find("#order-returns").text
    _looks_right(browser, "returns-2-requested")
    (requested,) = [r for r in _api(live_server, member, "GET", "/me/returns")["returns"] if r["order_id"] == order_id]
    rid = requested["id"]

    hq = make_browser()
    _staff_login(hq, "/hq", "admin")
    hq.wait_visible(f"#approve-{rid}")
    _looks_right(hq, "returns-3-hq-review")
    hq.click(f"#approve-{rid}")
    hq.wait(lambda _: not hq.find_all(f"#approve-{rid}"), 10, "the approved return to leave the 待审核 list")

    browser.open(f"/orders/{order_id}")
    browser.wait_text("#order-returns", "已同意")
    browser.click(f"#ship-{rid}")
    browser.fill("#ship-carrier", "顺丰")
    browser.fill("#ship-tracking", "SF1234567890")
    _looks_right(browser, "returns-4-tracking-number")
    browser.click("#ship-submit")
    browser.wait_text("#order-returns", "已寄回")
    assert "SF1234567890" in browser.find("#order-returns").text

    store = make_browser()
    _staff_login(store, "/clerk", "clerk1")
    store.click("#tab-returns")
    store.wait_visible(f"#receive-{rid}")
    _looks_right(store, "returns-5-clerk-to-receive")
    store.click(f"#receive-{rid}")
    store.click("#sl-dialog-ok")
    store.wait_text("#clerk-list", "最近已收货")
    _looks_right(store, "returns-6-clerk-received")

    browser.open(f"/orders/{order_id}")
    browser.wait_text("#order-returns", "已退款")
    assert "柜台领取" in browser.find("#order-returns").text
    browser.wait_text("#order-refunds", "¥31.80")
    _looks_right(browser, "returns-7-refunded")
