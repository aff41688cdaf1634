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


def test_the_pickup_preview_leads_to_the_reweigh_screen_for_weighed_goods(browser, live_server):
    order_id, member, _ = ready_pickup_order(live_server)
    code = _call(live_server, "GET", f"/orders/{order_id}", member)["pickup"]["code"]
    browser.open("/clerk")
    browser.fill("#login-account", "clerk1")
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    browser.wait_visible("#clerk-scan")
    browser.click("#clerk-scan")
    browser.fill("#pickup-code", code)
    browser.click("#pickup-lookup")
    browser.wait_visible("#pickup-preview")
    browser.wait_text("#reweigh-link", "称重补退")
    browser.screenshot("clerk-pickup-preview-weighed")
    browser.click("#reweigh-link")
    browser.wait_text(".rw-line__meta", "应重 1500 g")
    assert browser.path == f"/clerk/orders/{order_id}/reweigh"
    assert browser.console_errors() == []
    # ‹ back: the pickup the clerk left reopens, without asking the member for the code again.
    browser.click("#rw-back")
    browser.wait_visible("#pickup-preview")
    assert browser.find("#pickup-confirm").is_displayed() and browser.find("#reweigh-link").is_displayed()
    browser.screenshot("clerk-pickup-resumed-after-reweigh")
    browser.find("#clerk-sheet-close").click()
    browser.open("/clerk")  # once only: a later visit starts with the queue
    browser.wait_visible("#clerk-tabs")
    assert not browser.find_all("#pickup-preview")


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


class ContinuousScale:
    """A continuous-output scale on a pseudo-terminal: sends its current frame five times a second, as a
    real one does, until stopped."""

    def __init__(self, pty_scale):
        import threading

        self.pty, self.frame, self._stop = pty_scale, None, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def show(self, frame: bytes):
        self.frame = frame

    def _run(self):
        while not self._stop.wait(0.2):
            if self.frame:
                try:
                    self.pty.write(self.frame)
                except OSError:
                    pass

    def stop(self):
        self._stop.set()
        self._thread.join(2)


def test_a_frame_on_the_scales_pty_is_captured_on_the_reweigh_screen(make_browser, live_server, tmp_path):
    """End to end, each part its own process: the real server, the real bridge daemon reading a scale on a
    pseudo-terminal, and the clerk's screen in headless Chromium: only a stable reading can be captured, and
    it settles to the right refund."""
    from .bridge_harness import BridgeProcess, PtyScale, device, register_bridge, wait_until

    order_id, member, clerk = ready_pickup_order(live_server)
    store_id = _call(live_server, "GET", "/auth/me", clerk)["store_id"]
    hq = live_server.login(username="admin")
    device_id, token = register_bridge(live_server, hq, store_id, name="称重台")
    pty = PtyScale(tmp_path)
    scale = ContinuousScale(pty)
    bridge = BridgeProcess(tmp_path, live_server.url, token, scale=str(pty.path), protocol="continuous").start()
    try:
        assert wait_until(lambda: (d := device(live_server, hq, device_id))["online"] and d["scale"]
                          and d["scale"]["state"] == "online"), bridge.log()
        browser = make_browser()
        clerk_logs_in(browser, order_id)
        scale.show(b"US,GS,+  1.380kg\r\n")  # the chicken still settling on the plate
        browser.wait_text(".rw-scale__state", "称重中", timeout=15)
        browser.wait_text(".rw-scale__weight", "1380 g")
        assert browser.find(".rw-capture-scale").get_attribute("disabled") is not None  # not while in motion
        browser.screenshot("reweigh-clerk-scale-moving")
        scale.show(b"ST,GS,+  1.420kg\r\n")
        browser.wait_text(".rw-scale__state", "稳定")
        browser.wait_text(".rw-scale__weight", "1420 g")
        browser.wait(lambda _: browser.find(".rw-capture-scale").get_attribute("disabled") is None, 5,
                     "capture enabled on a stable reading")
        browser.screenshot("reweigh-clerk-scale-stable")
        browser.click(".rw-capture-scale")
        browser.wait_text(".rw-result", "实称 1420 g(电子秤)")
        browser.wait_text(".rw-result__diff", "应退 ¥4.78")
        browser.click("#rw-choice-refund")
        browser.wait_text("#rw-footer", "可以交付")
        browser.screenshot("reweigh-clerk-scale-refunded")
        assert browser.horizontal_overflow() == 0 and browser.console_errors() == []
    finally:
        scale.stop()
        bridge.stop()
        pty.close()
    statement = _call(live_server, "GET", f"/orders/{order_id}/weighings", member)
    weighing = statement["lines"][0]["weighing"]
    assert (weighing["source"], weighing["device_id"], weighing["weight_g"]) == ("scale", device_id, 1420)
    assert statement["totals"]["refunded"] == 478
