"""The page foundation in a real browser: the mall shell loads on a phone, the shared login form
keeps a bearer token in localStorage (no cookie), and a 401 sends the page back to its login."""
from __future__ import annotations

from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)

TOKEN_KEY = "storelink.token.mall"


def test_mall_loads_and_member_logs_in(browser):
    browser.open("/me")  # the account asks for a login; browsing does not
    browser.wait_visible("#login-account")
    assert browser.horizontal_overflow() == 0
    browser.screenshot("foundation-mall-login")

    browser.fill("#login-account", "13800000001")
    browser.fill("#login-password", "wrong-password")
    browser.click("#login-submit")
    browser.wait_text("#login-error", "账号或密码错误")
    assert browser.local_storage(TOKEN_KEY) is None

    browser.fill("#login-password", "demo1234")
    browser.click("#login-submit")
    browser.wait_text("#mall-user", "张小萌")
    token = browser.local_storage(TOKEN_KEY)
    assert token and token.count(".") == 2  # the signed bearer token, kept by the page's JS
    assert browser.driver.get_cookies() == []  # and no cookie at all: no CSRF surface

    # A reload stays logged in.
    browser.open("/me")
    browser.wait_text("#mall-user", "张小萌")
    browser.screenshot("foundation-mall-logged-in")
    assert browser.console_errors() == []

    browser.click("#logout")  # logging out forgets the token
    browser.wait(lambda _: browser.local_storage(TOKEN_KEY) is None, 5, "the token gone")
    browser.open("/me")
    browser.wait_visible("#login-account")


def test_rejected_token_clears_it_and_shows_login(browser):
    browser.open("/me")
    browser.wait_visible("#login-account")
    browser.js("localStorage.setItem(arguments[0], 'forged.token.value')", TOKEN_KEY)
    browser.open("/me")
    browser.wait_visible("#login-account")
    assert browser.local_storage(TOKEN_KEY) is None
