"""The HQ back office (/hq) on a phone: HQ logs in, registers a store's bridge and sees its token once,
sees it come online with its scale and printer, and revokes it (its connection is cut at once)."""
from __future__ import annotations

import threading

import socketio

from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)

STATUS = {"version": "1.0", "scale": {"port": "/dev/ttyUSB0", "protocol": "toledo8217", "state": "online"},
          "printers": [{"name": "receipt", "uri": "tcp://192.168.1.50:9100", "kind": "tcp", "paper": 80,
                        "state": "online", "detail": ""}]}


def test_hq_registers_sees_and_revokes_a_bridge(browser, live_server):
    browser.open("/hq")
    browser.wait_visible("#login-account")
    assert browser.js("return document.title") == "门店通总部"
    browser.fill("#login-account", "clerk1")  # a store clerk is not let in
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    browser.wait_text("#sl-error", "不是总部账号")
    browser.fill("#login-account", "admin")
    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    browser.wait_visible("#hq-register")
    browser.wait_text(".hq-empty", "还没有注册硬件桥")
    browser.screenshot("hq-empty")

    browser.select("#hq-store", text="徐汇漕溪北路店")
    browser.fill("#hq-name", "收银台电脑")
    browser.click("#hq-register-submit")
    token = browser.wait_visible("#hq-token-value").text
    assert token.startswith("slb_")
    assert token in browser.find("#hq-token-command").text
    browser.wait_text(".hq-device", "离线")
    assert browser.horizontal_overflow() == 0
    browser.screenshot("hq-token-shown-once")
    browser.click("#hq-token-close")
    assert browser.find("#hq-token-value").text == ""
    browser.open("/hq")  # the token is never shown again
    browser.wait_text(".hq-device", "收银台电脑")
    assert token not in browser.text()

    # The store PC's bridge connects with it and reports its hardware.
    bridge, cut = socketio.Client(reconnection=False), threading.Event()
    bridge.on("disconnect", lambda *reason: cut.set(), namespace="/bridge")
    bridge.connect(live_server.url, namespaces=["/bridge"], auth={"token": token}, transports=["websocket"],
                   wait_timeout=10)
    try:
        assert bridge.call("bridge.status", STATUS, namespace="/bridge", timeout=10) == {"ok": True}
        browser.open("/hq")
        card = browser.wait_text(".hq-device", "在线")
        assert "/dev/ttyUSB0" in card.text and "receipt 80mm" in card.text
        assert browser.horizontal_overflow() == 0
        browser.screenshot("hq-bridge-online")

        browser.click(".hq-revoke")
        browser.wait_text("#sl-dialog", "立即断开")
        browser.screenshot("hq-revoke-confirm")
        browser.click("#sl-dialog-ok")
        card = browser.wait_text(".hq-device", "已撤销")
        assert "在线" not in card.text  # its scale and printer are no longer shown as online
        assert cut.wait(10)  # cut off at once
        browser.screenshot("hq-bridge-revoked")
        assert browser.console_errors() == []
    finally:
        bridge.disconnect()

