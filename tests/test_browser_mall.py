"""The member mall in headless Chromium (a 375x667 phone) against the real server with the demo chain:
a shopper registers, fills a cart that survives a reload, orders a pickup (stores nearest first) and a
store delivery (4-level region picker), pays on the sandbox page, comes back to the order page, sees
the pickup QR and code and the 提货消息通知, and watches the status change live while a clerk acts
through the API; a warehouse-express switch must be accepted; an unpaid order shows its time left
and is cancelled. Every view is screenshotted into tests/screenshots/."""
from __future__ import annotations

import random
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)

JINGAN = (31.2290, 121.4520)  # next to the demo's 静安南京西路店 (clerk2's store)
MAX_PAGE_JS = 200 * 1024


def _phone() -> str:
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


def _register(browser, phone: str, name: str = "测试买家") -> None:
    browser.open("/me")
    browser.click("#go-register")
    browser.fill("#reg-phone", phone)
    browser.fill("#reg-password", "short")
    browser.click("#reg-submit")
    browser.wait_text("#reg-error", "至少 8 位")  # checked next to the field before any request
    browser.fill("#reg-password", "mall2026pass")
    browser.fill("#reg-name", name)
    browser.screenshot("mall-register")
    browser.click("#reg-submit")
    browser.wait_text("#me-name", name)
    browser.wait_text("#me-phone", phone[:3] + "****" + phone[7:])  # the number, masked on a shared screen
    browser.screenshot("mall-me")


def _add_from_home(browser, sku: str, times: int = 1) -> None:
    for _ in range(times):
        browser.click(f'.mall-add[data-sku="{sku}"]')


def _order_id(browser) -> int:
    browser.wait(lambda d: re.search(r"/orders/(\d+)$", d.current_url), 15, "an order page")
    return int(re.search(r"/orders/(\d+)$", browser.driver.current_url).group(1))


def _pay_on_sandbox(browser, name: str) -> int:
    """On the provider's page: pay, then follow its link back to the mall's order page."""
    browser.wait(lambda d: "/sandbox/pay/" in d.current_url, 15, "the sandbox pay page")
    browser.wait_visible("#confirm")
    browser.screenshot(f"sandbox-pay-{name}")
    browser.click("#confirm")
    browser.wait_visible("#paid")
    back = browser.find("#return").get_attribute("href")
    assert back.startswith(browser.base_url + "/orders/"), back  # this server's port, not 5000
    browser.click("#return")
    return _order_id(browser)


def _clerk(live_server, order_id: int, *actions: str) -> None:
    token = live_server.login(username="clerk2")
    for action in actions:
        r = requests.post(f"{live_server.url}/api/v1/clerk/orders/{order_id}/{action}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 200, r.text


def _check_phone_page(browser, name: str) -> None:
    assert browser.horizontal_overflow() == 0, f"{name} scrolls sideways"
    browser.screenshot(name)
    assert browser.console_errors() == []


def test_shopper_registers_orders_pays_and_follows_orders_live(browser, live_server):
    driver = browser.driver
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": live_server.url, "permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                           {"latitude": JINGAN[0], "longitude": JINGAN[1], "accuracy": 50})

    # Browsing needs no login.
    browser.open("/")
    browser.wait_visible('.mall-product[data-sku="FRE-001"]')
    _check_phone_page(browser, "mall-home")
    browser.fill("#search", "牛奶")
    browser.js("document.querySelector('.mall-search').requestSubmit()")
    browser.wait(lambda _: len(browser.find_all(".mall-product")) == 2, 10, "two milk products")
    _check_phone_page(browser, "mall-search")
    browser.fill("#search", "")
    browser.js("document.querySelector('.mall-search').requestSubmit()")
    browser.click_text(".mall-chip", "熟食")
    browser.wait(lambda _: {e.get_attribute("data-sku")[:3] for e in browser.find_all(".mall-product")} == {"FRE"}, 10,
                 "only the 熟食 category")

    # A weighed product: price per piece from the standard weight, price per kg, stock at the store.
    browser.click('.mall-product[data-sku="FRE-001"]')
    browser.wait_text("#detail-name", "德州扒鸡")
    page = browser.text()
    assert "¥44.85" in page and "¥59.80/kg" in page and "750g" in page and "多退少补" in page
    assert re.search(r"门店库存\s*\d+ 只", page)
    _check_phone_page(browser, "mall-product-weighed")
    browser.click("#detail-add")
    browser.wait(lambda _: browser.js("return document.querySelector('#tab-cart .weui-badge').textContent") == "1", 5,
                 "the cart badge (the tab bar is hidden on the product page)")

    # Register with a mobile number; the cart survives, and so does the login, across a reload.
    phone = _phone()
    _register(browser, phone)
    browser.open("/")
    browser.wait_visible('.mall-add[data-sku="DAI-001"]')
    _add_from_home(browser, "DAI-001", 2)
    browser.open("/cart")
    browser.wait_visible('.mall-cart-line[data-sku="DAI-001"]')
    assert browser.find("#tab-cart .weui-badge").text == "3"
    assert "13,000" not in browser.text() and browser.find("#cart-total").text == "¥76.65"  # 44.85 + 2 × 15.90
    _check_phone_page(browser, "mall-cart")

    # 门店自提: stores nearest first once the browser gives its location, then pay online.
    browser.click("#go-checkout")
    browser.wait_visible('#pickup-stores .mall-option')
    browser.click("#locate")
    browser.wait_text("#locate", "已按距离排序")
    browser.wait(lambda _: "静安南京西路店" in browser.find("#pickup-stores .mall-option").text, 10, "静安 first")
    assert "距您" in browser.find("#pickup-stores .mall-option").text
    browser.click('#pickup-stores .mall-option input')
    browser.wait_text("#quote-location", "静安南京西路店")
    assert browser.find("#quote-total").text == "¥76.65" and "门店自提" in browser.find("#quote-reason").text
    _check_phone_page(browser, "mall-checkout-pickup")
    browser.click("#place-order")
    pickup_id = _pay_on_sandbox(browser, "pickup")

    # Back on the order page: the payment lands (asynchronously) and the page follows it live.
    browser.wait_text("#order-status", "待接单", 20)
    assert browser.local_storage("storelink.mall.cart") == "[]"
    _check_phone_page(browser, "mall-order-paid")

    # The pickup page: QR image and numeric code.
    browser.click("#show-pickup")
    browser.wait_visible("#pickup-code")
    browser.wait(lambda _: browser.js("var i = document.getElementById('pickup-qr'); return i.complete && i.naturalWidth > 100"),
                 10, "the QR image")
    assert re.fullmatch(r"[\d ]{6,}", browser.find("#pickup-code").text)
    _check_phone_page(browser, "mall-pickup-code")

    # A clerk accepts through the API: the member's page changes without a reload.
    browser.open(f"/orders/{pickup_id}")
    browser.wait_text("#order-status", "待接单")
    browser.js("window.__stayed = true")
    _clerk(live_server, pickup_id, "accept")
    browser.wait_text("#order-status", "备货中", 10)
    _clerk(live_server, pickup_id, "ready")
    browser.wait_text("#order-status", "待提货", 10)
    assert browser.js("return window.__stayed") is True  # no reload happened
    timeline = browser.find("#order-timeline").text
    assert all(label in timeline for label in ("待支付", "待接单", "备货中", "待提货"))
    _check_phone_page(browser, "mall-order-live")

    # The message centre holds the 提货消息通知, leading to the pickup page.
    browser.open("/messages")
    notice = browser.wait_text('.mall-message[data-kind="pickup_code"]', "提货消息通知")
    _check_phone_page(browser, "mall-messages")
    notice.click()
    browser.wait(lambda d: d.current_url.endswith(f"/orders/{pickup_id}/pickup"), 10, "the pickup page")
    browser.wait_visible("#pickup-code")

    # 到店付款: the code exists as soon as the order is placed; nothing to pay online.
    browser.open("/")
    _add_from_home(browser, "DRK-002")
    browser.open("/checkout")
    browser.click("#locate")
    browser.wait_text("#locate", "已按距离排序")
    browser.wait(lambda _: "静安南京西路店" in browser.find("#pickup-stores .mall-option").text, 10, "静安 first")
    browser.click('#pickup-stores .mall-option input')
    browser.click("#payment-at_store")
    browser.wait(lambda _: browser.find("#place-order").is_enabled(), 10, "a quote for paying at the store")
    browser.click("#place-order")
    browser.wait(lambda d: re.search(r"/orders/\d+/pickup$", d.current_url), 15, "the pickup page")
    browser.wait_visible("#pickup-code")
    assert "待接单" in browser.find("#pickup-status").text
    assert "到店付款 ¥19.90" in browser.find("#pickup-pay-at-store").text
    _check_phone_page(browser, "mall-pickup-at-store")

    # At the counter the clerk types the code and takes the cash: the member's page shows it collected.
    typed = browser.find("#pickup-code").text
    token = live_server.login(username="clerk2")
    r = requests.post(f"{live_server.url}/api/v1/clerk/pickups/verify", json={"code": typed, "confirm": True, "payment": "cash"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    browser.wait_text("#pickup-status", "已完成", 10)
    assert "提货" in browser.find("#pickup-closed").text

    # 门店配送 with the 4-level region picker; the address is saved for next time.
    browser.open("/")
    _add_from_home(browser, "GRA-001")  # 五常大米 ¥69.90: above ¥59 the delivery is free
    browser.open("/checkout")
    browser.click("#method-store_delivery")
    browser.select("#region-province", text="上海市")
    browser.wait(lambda _: browser.js("return document.getElementById('region-city').value") != "", 10, "city")
    assert browser.js("var s = document.getElementById('region-city'); return s.options[s.selectedIndex].text") == "上海市"
    browser.select("#region-district", text="静安区")
    browser.select("#region-street", text="南京西路街道")
    browser.fill("#address-detail", "南京西路 1 号 1001 室")
    browser.fill("#address-contact-name", "测试买家")
    # The shopper's own number is offered as the contact number.
    assert browser.find("#address-contact-phone").get_attribute("value") == phone
    browser.wait_text("#quote-location", "静安南京西路店")
    assert "街道" in browser.find("#quote-reason").text and browser.find("#quote-fee").text == "免配送费"
    _check_phone_page(browser, "mall-checkout-delivery")
    browser.click("#place-order")
    delivery_id = _pay_on_sandbox(browser, "delivery")
    browser.wait_text("#order-status", "待接单", 20)
    _clerk(live_server, delivery_id, "accept", "ready", "ship")
    browser.wait_text("#order-status", "已发货", 10)
    browser.click("#confirm-receipt")
    browser.wait_visible("#sl-dialog")
    browser.screenshot("mall-confirm-receipt-dialog")
    browser.click("#sl-dialog-ok")
    browser.wait_text("#order-status", "已完成", 10)
    _check_phone_page(browser, "mall-order-completed")
    browser.click("#mall-back")  # ‹ leads to the order list, not back to the provider's page
    browser.wait(lambda d: d.current_url.endswith("/orders"), 10, "the order list")

    # No store serves 南京: the quote says it becomes warehouse express, which must be accepted.
    browser.open("/")
    _add_from_home(browser, "DRK-003")
    browser.open("/checkout")
    browser.click("#method-store_delivery")
    browser.wait_visible("#saved-addresses .mall-option")
    assert "南京西路 1 号 1001 室" in browser.find("#saved-addresses").text  # saved from the last order
    browser.click("#address-new")
    browser.select("#region-province", text="江苏省")
    browser.select("#region-city", text="南京市")
    browser.select("#region-district", text="玄武区")
    browser.select("#region-street", text="梅园新村街道")
    browser.fill("#address-detail", "长江路 292 号")
    browser.fill("#address-contact-phone", "1234")
    browser.wait_visible("#method-change")
    assert "总仓快递" in browser.find("#method-change").text and browser.find("#quote-method").text == "总仓快递"
    assert not browser.find("#place-order").is_enabled()
    browser.js("document.getElementById('method-change').scrollIntoView({block: 'center'})")
    _check_phone_page(browser, "mall-checkout-method-change")
    browser.click("#accept-change")
    browser.wait(lambda _: browser.find("#place-order").is_enabled(), 5, "submit enabled once accepted")
    browser.click("#place-order")  # a wrong phone number is pointed out next to its field
    browser.wait_text("#address-contact-phone-error", "11 位手机号")
    assert "/checkout" in browser.driver.current_url
    browser.js("document.getElementById('address-contact-phone').scrollIntoView({block: 'center'})")
    browser.screenshot("mall-checkout-field-error")
    browser.fill("#address-contact-phone", phone)
    assert browser.find("#address-contact-phone-error").text == ""

    # Left unpaid (back from the provider without paying): time left, then cancelled.
    browser.click("#place-order")
    browser.wait(lambda d: "/sandbox/pay/" in d.current_url, 15, "the sandbox pay page")
    browser.click("#return")
    unpaid_id = _order_id(browser)
    browser.wait_text("#order-status", "待支付")
    assert re.search(r"请在 \d\d:\d\d 内完成支付", browser.find("#order-sub").text)
    assert browser.find("#pay-order").is_displayed()
    _check_phone_page(browser, "mall-order-unpaid")
    browser.click("#cancel-order")
    browser.click("#sl-dialog-ok")
    browser.wait_text("#order-status", "已取消", 10)

    browser.open("/orders")
    for order_id in (pickup_id, delivery_id, unpaid_id):
        browser.wait_visible(f'.mall-order[data-order="{order_id}"]')
    _check_phone_page(browser, "mall-orders")


def test_order_pages_read_in_china_time_draw_once_and_lead_back_from_a_wrong_link(browser, live_server):
    """A phone set to another zone still reads Beijing time (order numbers and the server's messages are in
    it); a second render while the first is loading (a live push, a second tap) does not draw the order twice;
    an unpaid order is neither "已付款" nor "实付"; a wrong order link leads back; a delivery address without
    its region says what is missing."""
    phone = _phone()
    r = requests.post(live_server.url + "/api/v1/auth/register",
                      json={"phone": phone, "password": "mall2026pass", "name": "时区买家"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    token = r.json()["token"]
    r = requests.post(live_server.url + "/api/v1/orders", headers={"Authorization": f"Bearer {token}",
                      "Idempotency-Key": "tz-" + phone}, timeout=10,
                      json={"items": [{"sku": "FRU-002", "qty": 1}], "fulfilment": "pickup", "payment": "at_store",
                            "store_id": 2, "contact_name": "时区买家"})
    assert r.status_code in (200, 201), r.text
    order = r.json()
    created = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    beijing = created.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")

    browser.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/New_York"})
    browser.open("/")
    browser.js("localStorage.setItem('storelink.token.mall', arguments[0]);"
               "localStorage.setItem('storelink.mall.cart', JSON.stringify([{sku: 'FRU-002', qty: 1}]))", token)
    browser.open(f"/orders/{order['id']}")
    browser.wait_visible("#order-timeline")
    assert beijing in browser.find("#order-info").text  # not New York's (or UTC's) wall clock
    assert browser.find("#order-sub").text == "等待门店接单"  # to be paid at the counter: not "已付款"
    assert "路由" not in browser.find("#order-info").text  # routing rules are staff talk

    # Two renders in flight (popstate twice, as a push arriving during a tap does): one page, not two.
    browser.js("window.dispatchEvent(new PopStateEvent('popstate')); window.dispatchEvent(new PopStateEvent('popstate'))")
    browser.wait_visible("#order-timeline")
    time.sleep(0.5)  # let the slower of the two reads land (the old page appended its copy then)
    assert len(browser.find_all("#order-status")) == 1 and len(browser.find_all("#order-timeline")) == 1
    _check_phone_page(browser, "mall-order-china-time")

    browser.open("/orders")
    browser.wait_visible(f'.mall-order[data-order="{order["id"]}"]')
    assert "待付 ¥12.90" in browser.find(f'.mall-order[data-order="{order["id"]}"]').text

    browser.open("/orders/999999")
    browser.wait_visible("#back-to-orders")
    assert "订单不存在" in browser.text()
    _check_phone_page(browser, "mall-order-missing")
    browser.click("#back-to-orders")
    browser.wait(lambda d: d.current_url.endswith("/orders"), 10, "the order list")

    browser.open("/checkout")
    browser.click("#method-store_delivery")
    browser.wait_text("#quote-missing", "请选择收货地区")
    assert not browser.find("#place-order").is_enabled()


def test_each_page_serves_under_200_kb_of_javascript(live_server):
    html = requests.get(live_server.url + "/", timeout=10).text
    scripts = re.findall(r'<script src="([^"]+)"', html)
    sizes = {src: len(requests.get(live_server.url + src, timeout=10).content) for src in scripts}
    assert any("mall.js" in s for s in sizes) and any("api.js" in s for s in sizes)
    total = sum(sizes.values())
    print(f"\nJS served for /: {total} bytes " + ", ".join(f"{s.split('?')[0]}={n}" for s, n in sizes.items()))
    assert total < MAX_PAGE_JS
