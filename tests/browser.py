"""Browser tests: Debian's headless Chromium driven by Selenium against the real server (tests/live_server.py).

Use in a test module:

    from .browser import browser, live_server, make_browser  # noqa: F401  (pytest fixtures)

    def test_mall_loads(browser):
        browser.open("/")
        browser.wait_visible("#sl-login")
        browser.screenshot("mall-login")

- `live_server`: the real server (`python wsgi.py`, gevent, demo data, SQLite) for the whole module.
- `browser`: a phone (375x667 CSS pixels, pixel ratio 2) pointed at `live_server`.
- `make_browser(extra_args=[...], mobile=True)`: more browsers, or one with extra Chromium flags (the
  clerk centre passes the fake-camera flags). All are quit at the end of the test.
- `Browser.screenshot(name)` writes tests/screenshots/<name>.png (git-ignored) and returns the path.

Without Chromium (or chromedriver, or selenium) these tests skip with the reason, except when
STORELINK_REQUIRE_SERVICES=1 (CI), where they fail.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .live_server import LiveServer, free_port

CHROMIUM = os.environ.get("STORELINK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("STORELINK_CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRE_SERVICES = os.environ.get("STORELINK_REQUIRE_SERVICES") == "1"
# Chromium's restricted ports above 1024 (net/base/port_util.cc); free_port() rarely hands out these.
UNSAFE_PORTS = {1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669,
                6679, 6697, 10080}
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 375, "height": 667, "pixelRatio": 2}
# Flags checked on this machine kind (../shared/TESTING-NOTES.md): headless as root, no background chatter.
HEADLESS_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--lang=zh-CN")


def browser_safe_port() -> int:
    """A free port Chromium agrees to open (it refuses some outright with ERR_UNSAFE_PORT)."""
    while True:
        port = free_port()
        if port not in UNSAFE_PORTS:
            return port


def chromium_problem() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{what} not found at {path} (apt-get install chromium chromium-driver fonts-noto-cjk)"
    return None


def require_chromium() -> None:
    problem = chromium_problem()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(f"browser tests need Chromium: {problem}; STORELINK_REQUIRE_SERVICES=1 demands it")
        pytest.skip(problem)


class Browser:
    """A Selenium driver bound to a base URL, with the waits and checks page tests need."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url

    # navigation ------------------------------------------------------------------------------
    def open(self, path: str = "/"):
        self.driver.get(path if path.startswith("http") else self.base_url + path)
        return self

    @property
    def path(self) -> str:
        url = self.driver.current_url
        return url[len(self.base_url):] if url.startswith(self.base_url) else url

    # finding and waiting ---------------------------------------------------------------------
    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout: float = 10, message: str = ""):
        """Wait until condition(driver) is truthy; on timeout fail with the page's text and JS errors."""
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:  # an element replaced while the page re-renders is simply looked at again
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(condition)
        except TimeoutException:
            body = self.driver.execute_script("return document.body ? document.body.innerText : ''")
            shown = self.driver.execute_script(
                "var e = document.getElementById('sl-error'); return e ? e.textContent : ''")
            pytest.fail(f"timed out after {timeout}s waiting for {message or condition}\n"
                        f"url: {self.driver.current_url}\nerror bar: {shown}\nconsole: {self.console_errors()}\n"
                        f"page text:\n{body[:2000]}")

    def wait_visible(self, css: str, timeout: float = 10):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout, f"{css} visible")

    def wait_text(self, css: str, text: str, timeout: float = 10):
        """Wait until some element matching css contains text; returns that element."""
        def found(_):
            for element in self.find_all(css):
                try:
                    if text in element.text:
                        return element
                except Exception:  # stale while the page re-renders
                    pass
            return None

        return self.wait(found, timeout, f"{css} containing {text!r}")

    def wait_gone(self, css: str, timeout: float = 10):
        return self.wait(lambda _: not any(e.is_displayed() for e in self.find_all(css)), timeout, f"{css} gone")

    # acting ----------------------------------------------------------------------------------
    def click(self, css: str, timeout: float = 10):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        element = self.wait(ec.element_to_be_clickable((By.CSS_SELECTOR, css)), timeout, f"{css} clickable")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        return element

    def click_text(self, css: str, text: str, timeout: float = 10):
        element = self.wait_text(css, text, timeout)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        return element

    def fill(self, css: str, value: str):
        element = self.wait_visible(css)
        element.clear()
        element.send_keys(value)
        return element

    def select(self, css: str, *, text: str | None = None, value: str | None = None, timeout: float = 10):
        """Choose an <option> by visible text or value, waiting for it to be offered."""
        from selenium.webdriver.support.ui import Select

        def ready(_):
            element = self.find_all(css)
            if not element or not element[0].is_enabled():
                return None
            options = Select(element[0]).options
            wanted = [o for o in options if (text is not None and o.text == text) or (value is not None and o.get_attribute("value") == value)]
            return Select(element[0]) if wanted else None

        chooser = self.wait(ready, timeout, f"{css} offering {text or value!r}")
        chooser.select_by_visible_text(text) if text is not None else chooser.select_by_value(value)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def local_storage(self, key: str):
        return self.js("return window.localStorage.getItem(arguments[0])", key)

    def text(self) -> str:
        return self.js("return document.body.innerText")

    # checks ----------------------------------------------------------------------------------
    def console_errors(self) -> list[str]:
        """JavaScript errors logged since the last call. A 4xx answer of the API is logged by Chromium as
        a failed resource load; that is the page's normal error path, so it is left out."""
        try:
            entries = self.driver.get_log("browser")
        except Exception:
            return []
        return [e["message"] for e in entries
                if e.get("level") == "SEVERE" and "Failed to load resource" not in e["message"]]

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than the viewport (0 on a good phone page)."""
        return self.js("return Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        time.sleep(0.15)  # let a CSS transition (toast, sheet) settle
        self.driver.save_screenshot(str(path))
        return path


def new_driver(extra_args=(), mobile: bool = True):
    """A headless Debian Chromium; a 375x667 phone unless mobile=False (then a 1280x900 desktop)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (*HEADLESS_ARGS, *extra_args):
        options.add_argument(arg)
    if mobile:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
    else:
        options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The real server with the demo chain, on SQLite, for the whole test module. PUBLIC_BASE_URL is left
    unset, as on a shopper's laptop: the server derives it from its PORT (pay page, return, notify)."""
    require_chromium()
    server = LiveServer(tmp_path_factory.mktemp("browser-live"), port=browser_safe_port(), PUBLIC_BASE_URL="").start()
    yield server
    server.stop()


@pytest.fixture
def make_browser(live_server):
    drivers = []

    def make(extra_args=(), mobile: bool = True) -> Browser:
        driver = new_driver(extra_args, mobile)
        drivers.append(driver)
        return Browser(driver, live_server.url)

    yield make
    for driver in drivers:
        try:
            driver.quit()
        except Exception:
            pass


@pytest.fixture
def browser(make_browser) -> Browser:
    return make_browser()


def wait_hq_drawn(page: Browser, timeout: float = 30) -> None:
    """Until /hq has drawn its lists above the forms (escalations, platform write-backs, returns): each
    arrives on its own request, and one that lands between a click's press and release moves the button
    from under it, so the click is lost (seen on a loaded machine)."""
    for box in ("hq-escalations", "hq-writebacks", "hq-returns"):
        page.wait(lambda _: page.js("var b = document.getElementById(arguments[0]); return !!b && b.children.length > 0",
                                    box), timeout, f"#{box} drawn")
