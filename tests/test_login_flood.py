"""Password guessing against the real server: throttled with 429 while everyone else is served,
and the password check itself off the event loop. Order of events, never timings."""
from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.security import generate_password_hash

from .live_server import LiveServer

LOGIN = "/api/v1/auth/login"
SLOW_MEMBER = "13800000002"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("logins")
    live = LiveServer(instance, LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS="5",
                      LOGIN_MAX_FAILURES_PER_ADDRESS="1000").start()
    # One member whose password hash takes long to check (a costly PBKDF2), so a check in progress
    # is easy to overlap with other requests.
    with sqlite3.connect(instance / "storelink.db") as db:
        db.execute("UPDATE members SET password_hash = ? WHERE phone = ?",
                   (generate_password_hash("demo1234", method="pbkdf2:sha256:600000"), SLOW_MEMBER))
    yield live
    live.stop()


def test_a_wrong_password_flood_is_answered_429_while_other_requests_complete(server):
    events, lock = [], threading.Lock()

    def note(kind, response):
        with lock:
            events.append((kind, response.status_code, response.headers.get("Retry-After")))

    def guess(_):
        note("guess", requests.post(server.url + LOGIN, json={"phone": "13800000001", "password": "wrong"}, timeout=60))

    stop = threading.Event()

    def browse():
        with requests.Session() as s:
            while not stop.is_set():
                note("other", s.get(server.url + "/api/v1/products?location_id=1", timeout=60))

    browser = threading.Thread(target=browse)
    browser.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(guess, range(40)))
    finally:
        stop.set()
        browser.join()
    guesses = [(status, retry) for kind, status, retry in events if kind == "guess"]
    assert sorted(status for status, _ in guesses) == [401] * 5 + [429] * 35
    assert all(retry is not None and int(retry) >= 1 for status, retry in guesses if status == 429)
    first, last = (i for i in (events.index(next(e for e in events if e[0] == "guess")),
                               max(i for i, e in enumerate(events) if e[0] == "guess")))
    served_meanwhile = [e for e in events[first:last] if e[0] == "other"]
    assert served_meanwhile and all(status == 200 for _, status, _ in served_meanwhile)
    # The right password is refused too until the window ends; other accounts are untouched.
    right = requests.post(server.url + LOGIN, json={"phone": "13800000001", "password": "demo1234"}, timeout=60)
    assert right.status_code == 429 and right.json()["error"]["code"] == "too_many_login_attempts"
    assert server.login(username="clerk1")


def test_a_password_check_in_progress_does_not_hold_up_other_requests(server):
    """The costly check runs on a worker thread: /healthz keeps being answered while it runs. On the
    event loop, every request arriving during the check would wait for it to end."""
    events, lock = [], threading.Lock()
    done = threading.Event()

    def slow_login():
        r = requests.post(server.url + LOGIN, json={"phone": SLOW_MEMBER, "password": "demo1234"}, timeout=60)
        with lock:
            events.append(("login", r.status_code))
        done.set()

    thread = threading.Thread(target=slow_login)
    thread.start()
    with requests.Session() as s:
        while not done.is_set():
            r = s.get(server.url + "/healthz", timeout=60)
            with lock:
                if not done.is_set():
                    events.append(("healthz", r.status_code))
    thread.join()
    assert events[-1] == ("login", 200)
    assert len(events) >= 4 and set(events[:-1]) == {("healthz", 200)}
