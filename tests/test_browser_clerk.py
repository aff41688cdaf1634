"""The clerk centre and the courier page in headless Debian Chromium (375x667 phone) against the real server:
the camera (a fake device playing a y4m of a real issued pickup QR) scans and the page verifies the order;
without a camera the page says so and the typed code works; a new order arrives live with a badge; shipping to
a courier; the courier signs it for with the cash; the clerk counts the cash back. Screenshots of every view."""
from __future__ import annotations

import io
from pathlib import Path

import requests
from PIL import Image

from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)
from .test_live_server import _pay_through_sandbox

STORE = 1  # 徐汇漕溪北路店: clerk1, courier1
ADDRESS = {"province": "上海市", "city": "上海市", "district": "徐汇区", "street": "天平路街道", "detail": "天平路 1 号 302 室"}


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def _place(server, token, **extra):
    body = {"items": [{"sku": "DRK-003", "qty": 2}], "fulfilment": "pickup", "store_id": STORE, **extra}
    r = requests.post(server.url + "/api/v1/orders", json=body, headers=_h(token), timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _paid_pickup(server, member):
    order_id = _place(server, member)
    _pay_through_sandbox(server, member, order_id)
    return order_id


def qr_video(png: bytes, path: Path, frames: int = 20) -> Path:
    """A y4m video (640x480, 4:2:0, grey) of the QR image centred on white: what a fake camera plays."""
    qr = Image.open(io.BytesIO(png)).convert("L")
    side = 400
    qr = qr.resize((side, side), Image.NEAREST)
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, ((640 - side) // 2, (480 - side) // 2))
    luma, chroma = frame.tobytes(), bytes([128]) * (320 * 240)
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420\n")
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def _click(page, css, attempts=5):
    """Click, again if the list re-rendered under the pointer (live pushes redraw it)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for attempt in range(attempts):
        try:
            return page.click(css)
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise


def _gone(page, css):
    """Wait until nothing matches css (checked in the page itself: a redraw cannot go stale under it)."""
    page.wait(lambda _: page.js("return document.querySelector(arguments[0]) === null", css), message=f"{css} gone")


def _login(page, username):
    page.open("/clerk" if username.startswith("clerk") else "/courier")
    page.fill("#login-account", username)
    page.fill("#login-password", "demo1234")
    page.click("#login-submit")


def test_camera_scans_a_real_pickup_qr_and_the_clerk_hands_the_order_over(make_browser, live_server, tmp_path):
    member = live_server.login(phone="13800000001")
    order_id = _paid_pickup(live_server, member)
    png = requests.get(f"{live_server.url}/api/v1/orders/{order_id}/pickup-qr.png", headers=_h(member), timeout=10)
    assert png.status_code == 200
    video = qr_video(png.content, tmp_path / "qr.y4m")
    page = make_browser(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                         f"--use-file-for-fake-video-capture={video}"])
    page.open("/clerk")
    page.wait_visible("#login-account")
    page.screenshot("clerk-login")
    _login(page, "clerk1")
    page.wait_visible(f".staff-card[data-order-id='{order_id}']")
    assert page.horizontal_overflow() == 0
    page.screenshot("clerk-orders")

    page.click("#clerk-scan")
    page.wait_visible("#pickup-preview", timeout=30)  # the camera found and decoded the QR
    page.wait_text("#pickup-preview", "张小萌")
    assert page.horizontal_overflow() == 0
    page.screenshot("clerk-pickup-preview")
    page.click("#pickup-confirm")
    page.wait_text("#pickup-result", "提货成功")
    page.screenshot("clerk-pickup-done")
    order = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=_h(member), timeout=10).json()
    assert order["status"] == "completed" and order["pickup"]["status"] == "used"
    assert page.console_errors() == []


def test_without_a_camera_the_page_says_so_and_a_typed_code_works(browser, live_server):
    member = live_server.login(phone="13800000001")
    order_id = _place(live_server, member, payment="at_store")  # paid at the counter
    code = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=_h(member), timeout=10).json()["pickup"]["code"]
    _login(browser, "clerk1")
    browser.wait_visible(f".staff-card[data-order-id='{order_id}']")
    _click(browser, "#clerk-scan")
    status = browser.wait(lambda d: browser.find("#scan-status").get_attribute("data-camera") == "unavailable"
                          and browser.find("#scan-status"), message="no-camera message")
    assert "无法使用摄像头" in status.text and "提货码" in status.text
    browser.screenshot("clerk-scan-no-camera")
    browser.fill("#pickup-code", "1234")
    browser.click("#pickup-lookup")
    browser.wait_text("#scan-status", "12 位数字")
    browser.fill("#pickup-code", code[:4] + " " + code[4:8] + " " + code[8:])
    browser.click("#pickup-lookup")
    browser.wait_text("#amount-due", "¥11.80")
    browser.click("#pickup-confirm")
    browser.wait_text("#pickup-status", "请先收款")
    browser.click("#pay-cash")
    browser.screenshot("clerk-pickup-pay-at-store")
    browser.click("#pickup-confirm")
    browser.wait_text("#pickup-result", "提货成功")
    order = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=_h(member), timeout=10).json()
    assert (order["status"], order["payment_status"]) == ("completed", "paid")


def test_a_new_order_arrives_live_with_a_badge(browser, live_server):
    member = live_server.login(phone="13800000001")
    _login(browser, "clerk1")
    browser.wait_visible("#clerk-tabs")
    browser.wait(lambda d: browser.js("return document.getElementById('clerk-online').classList.contains('is-on')"),
                 message="socket connected")
    order_id = _paid_pickup(live_server, member)
    browser.wait_visible("#clerk-badge")
    browser.wait_visible(f".staff-card.is-new[data-order-id='{order_id}']")
    assert browser.js("return document.title").startswith("(")
    browser.screenshot("clerk-new-order-badge")
    _click(browser, f"#accept-{order_id}")
    _gone(browser, f".staff-card[data-order-id='{order_id}']")
    _click(browser, "#tab-accepted")
    browser.wait_visible(f"#ready-{order_id}")


def test_ship_to_the_courier_who_signs_it_for_and_the_clerk_counts_the_cash(make_browser, live_server):
    member = live_server.login(phone="13800000001")
    clerk = live_server.login(username="clerk1")
    order_id = _place(live_server, member, fulfilment="store_delivery", payment="cod", address=ADDRESS,
                      contact_name="张小萌", contact_phone="13800000001")
    for action in ("accept", "ready"):
        assert requests.post(f"{live_server.url}/api/v1/clerk/orders/{order_id}/{action}", headers=_h(clerk),
                             timeout=10).status_code == 200
    clerk_page = make_browser()
    _login(clerk_page, "clerk1")
    _click(clerk_page, "#tab-ready_to_ship")
    _click(clerk_page, f"#ship-{order_id}")
    clerk_page.select("#ship-courier", text="赵配送")
    clerk_page.screenshot("clerk-ship")
    clerk_page.click("#ship-submit")
    _click(clerk_page, "#tab-shipped")
    clerk_page.wait_text(f".staff-card[data-order-id='{order_id}']", "赵配送")

    courier_page = make_browser()
    courier_page.open("/courier")
    courier_page.wait_visible("#login-account")
    courier_page.screenshot("courier-login")
    _login(courier_page, "courier1")
    courier_page.wait_text(f".staff-card[data-order-id='{order_id}']", "天平路 1 号 302 室")
    assert courier_page.horizontal_overflow() == 0
    courier_page.screenshot("courier-deliveries")
    _click(courier_page, f"#deliver-{order_id}")
    courier_page.fill("#cash-collected", "16.00")
    courier_page.screenshot("courier-delivered")
    courier_page.click("#deliver-confirm")
    # 16.00 of 16.80: the courier is asked before the short amount is recorded
    courier_page.wait_text("#sl-dialog", "与应收 ¥16.80 不一致")
    courier_page.screenshot("courier-cash-mismatch")
    courier_page.click("#sl-dialog-ok")
    _gone(courier_page, f".staff-card[data-order-id='{order_id}']")

    _click(clerk_page, "#tab-check_back")
    clerk_page.wait_visible(f"#check-back-{order_id}")
    clerk_page.fill(f"#cash-{order_id}", "16.00")
    clerk_page.screenshot("clerk-check-back")
    _click(clerk_page, f"#check-back-{order_id}")
    _gone(clerk_page, f"#check-back-{order_id}")
    order = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=_h(clerk), timeout=10).json()
    assert (order["status"], order["payment_status"]) == ("completed", "paid")
    assert "差额 -0.80 元" in order["events"][-1]["reason"]


def test_a_refund_owed_at_the_counter_is_paid_out_and_the_member_sees_it(make_browser, live_server):
    """A pay-at-store order paid in cash on collecting part of it, then cancelled by HQ: the rest is owed
    at the counter; the clerk pays it out from 待退款; the member's order shows it."""
    member, clerk = live_server.login(phone="13800000001"), live_server.login(username="clerk1")
    hq = live_server.login(username="admin")
    body = {"items": [{"sku": "DRK-003", "qty": 2}, {"sku": "DRK-001", "qty": 1}], "fulfilment": "pickup", "store_id": STORE,
            "payment": "at_store"}
    order_id = requests.post(live_server.url + "/api/v1/orders", json=body, headers=_h(member), timeout=30).json()["id"]
    code = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=_h(member), timeout=10).json()["pickup"]["code"]
    verify = live_server.url + "/api/v1/clerk/pickups/verify"
    first = requests.post(verify, json={"code": code}, headers=_h(clerk), timeout=10).json()["lines"][0]
    r = requests.post(verify, json={"code": code, "confirm": True, "payment": "cash",
                                    "lines": [{"line_id": first["line_id"], "qty": first["qty"]}]}, headers=_h(clerk), timeout=10)
    assert r.status_code == 200, r.text
    assert requests.post(f"{live_server.url}/api/v1/orders/{order_id}/cancel", json={"reason": "会员不要了"},
                         headers=_h(hq), timeout=10).status_code == 200
    (owed,) = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=_h(member), timeout=10).json()["refunds"]

    page = make_browser()
    _login(page, "clerk1")
    _click(page, "#tab-refunds")
    page.wait_text(f".staff-card[data-refund-id='{owed['id']}']", "到店付款 · 现金")
    assert page.horizontal_overflow() == 0
    page.screenshot("clerk-refunds-owed")
    _click(page, f"#payout-cash-{owed['id']}")
    page.wait_text("#sl-dialog", "现金退还")
    page.click("#sl-dialog-ok")
    page.wait_text(f".staff-card.is-done[data-refund-id='{owed['id']}']", "现金退还")
    page.screenshot("clerk-refunds-paid-out")
    assert page.console_errors() == []

    mall = make_browser()
    mall.open("/")
    mall.js("window.localStorage.setItem('storelink.token.mall', arguments[0])", member)  # the member logged in
    mall.open(f"/orders/{order_id}")
    mall.wait_text("#order-refunds", "已在门店现金退还")
    mall.js("document.getElementById('order-refunds').scrollIntoView({block: 'center'})")
    mall.screenshot("mall-order-refund-at-store")


def test_the_queue_says_it_is_loading_and_a_failed_first_load_offers_a_retry(browser, live_server):
    """Live pushes start once the first list is there: a first load that fails must say so, not leave a
    blank screen that hears nothing."""
    driver = browser.driver
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/v1/clerk/orders*"]})
    try:
        _login(browser, "clerk1")
        browser.wait_text("#clerk-load-failed", "订单加载失败")
        browser.screenshot("clerk-load-failed")
        assert browser.js("return document.getElementById('clerk-online').classList.contains('is-on')") is False
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.click("#clerk-retry")
    _gone(browser, "#clerk-load-failed")
    browser.wait(lambda _: browser.js("return document.getElementById('clerk-online').classList.contains('is-on')"),
                 message="the live connection after the retry")
    assert browser.js("return document.getElementById('clerk-loading')") is None


def test_a_platform_order_leaves_with_the_platform_s_rider(browser, live_server):
    """A 美团 order pushed through the signed webhook: accepted and prepared, then handed to the rider —
    the ship sheet offers nothing to choose, and the history names the rider and the platform's number."""
    import json

    from app.channels.platforms import derived_secret
    from app.channels.signing import signed_headers

    secret_key = (live_server.log_path.parent / "secret_key").read_text().strip()  # the instance's dev key
    body = json.dumps({"platform_order_id": "MT-RIDER-1", "store_code": "SH-XH", "items": [{"sku": "SNK-003", "qty": 1}],
                       "address": "上海市徐汇区漕溪北路 88 号", "customer_name": "李女士", "paid": True,
                       "paid_amount": 1690}, ensure_ascii=False).encode()
    pushed = requests.post(live_server.url + "/api/v1/channels/meituan/orders", data=body, timeout=10,
                           headers=signed_headers(derived_secret(secret_key, "meituan").encode(), body))
    assert pushed.status_code == 201, pushed.text
    order_id = pushed.json()["id"]
    clerk = live_server.login(username="clerk1")
    for action in ("accept", "ready"):
        assert requests.post(f"{live_server.url}/api/v1/clerk/orders/{order_id}/{action}", json={},
                             headers=_h(clerk), timeout=10).status_code == 200
    _login(browser, "clerk1")
    _click(browser, "#tab-ready_to_ship")
    _click(browser, f"#ship-{order_id}")
    browser.wait_text("#ship-submit", "已交给美团骑手")
    assert browser.js("return document.getElementById('ship-courier')") is None  # nothing to choose
    browser.screenshot("clerk-platform-rider")
    browser.click("#ship-submit")
    _gone(browser, f".staff-card[data-order-id='{order_id}']")
    order = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=_h(clerk), timeout=10).json()
    assert order["status"] == "shipped" and order["events"][-1]["reason"] == "交美团骑手取货:平台订单号 MT-RIDER-1"
