"""Pushes carry event_id; a clerk reconnecting with last_event_id is sent what it missed first. Real server
(gevent), real python-socketio client, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text

from .live_server import LiveServer, two_workers
from .test_live_server import _fresh_postgres_database, _order, _pay_through_sandbox


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    url = _fresh_postgres_database() if request.param == "postgresql" else None
    live = LiveServer(tmp_path_factory.mktemp("catchup"), database_url=url).start()
    yield live
    live.stop()


class Screen:
    """A clerk (or member) screen: a python-socketio client that records what it receives."""

    def __init__(self, server, namespace, token, last_event_id=None):
        self.client = socketio.Client(reconnection=False)
        self.received: list[tuple[str, dict]] = []
        self.changed = threading.Condition()
        for name in ("order.new", "order.status"):
            self.client.on(name, lambda data, name=name: self._got(name, data), namespace=namespace)
        auth = {"token": token}
        if last_event_id is not None:
            auth["last_event_id"] = last_event_id
        self.client.connect(server.url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=10)

    def _got(self, name, data):
        with self.changed:
            self.received.append((name, data))
            self.changed.notify_all()

    def wait_for(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        with self.changed:
            while not any(predicate(name, data) for name, data in self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not received; got {self.received}")
                self.changed.wait(left)
        return next(data for name, data in self.received if predicate(name, data))

    def close(self):
        self.client.disconnect()


def _new(order_id):
    return lambda name, data: name == "order.new" and data["order_id"] == order_id


def test_live_push_carries_the_history_entry_id(server):
    member, clerk = server.login(phone="13800000001"), server.login(username="clerk1")
    screen = Screen(server, "/clerk", clerk)
    try:
        order_id = _order(server, member, "DRK-003").json()["id"]
        order = _pay_through_sandbox(server, member, order_id)
        pushed = screen.wait_for(_new(order_id))
        paid_entry = next(e for e in requests.get(f"{server.url}/api/v1/orders/{order_id}", timeout=10,
                                                  headers={"Authorization": f"Bearer {clerk}"}).json()["events"]
                          if e["to"] == "awaiting_acceptance")
        assert order["status"] == "awaiting_acceptance"
        assert isinstance(pushed["event_id"], int) and pushed["event_id"] == paid_entry["id"]
        assert "replayed" not in pushed
        assert (pushed["status"], pushed["payment_status"]) == (paid_entry["to"], "paid")
        # The arrival is announced once: the next status change is the next push the store hears.
        accepted = requests.post(f"{server.url}/api/v1/clerk/orders/{order_id}/accept", timeout=10,
                                 headers={"Authorization": f"Bearer {clerk}"})
        assert accepted.status_code == 200, accepted.text
        screen.wait_for(lambda n, d: n == "order.status" and d["order_id"] == order_id and d["status"] == "accepted")
        about_it = [(n, d["event_id"], d["status"]) for n, d in screen.received if d["order_id"] == order_id]
        assert about_it[0] == ("order.new", paid_entry["id"], "awaiting_acceptance")
        assert [(n, s) for n, _, s in about_it[1:]] == [("order.status", "accepted")]
    finally:
        screen.close()


def test_reconnecting_clerk_catches_up_on_an_old_order_paid_while_it_was_away(server):
    member, clerk = server.login(phone="13800000001"), server.login(username="clerk1")
    old_id = _order(server, member, "DRK-003").json()["id"]  # placed first, paid last
    screen = Screen(server, "/clerk", clerk)
    try:
        newer_id = _order(server, member, "DRK-003").json()["id"]
        _pay_through_sandbox(server, member, newer_id)
        last_seen = screen.wait_for(_new(newer_id))["event_id"]
    finally:
        screen.close()  # the connection drops

    _pay_through_sandbox(server, member, old_id)  # an order with a LOWER id is paid while the clerk is away
    # What today's after_id (an order id) would miss: old_id < newer_id.
    assert old_id < newer_id

    back = Screen(server, "/clerk", clerk, last_event_id=last_seen)
    try:
        replayed = back.wait_for(_new(old_id))
        assert replayed["replayed"] is True and replayed["event_id"] > last_seen
        # And live pushes follow.
        live_id = _order(server, member, "DRK-003").json()["id"]
        _pay_through_sandbox(server, member, live_id)
        live = back.wait_for(_new(live_id))
        assert live["event_id"] > replayed["event_id"] and "replayed" not in live
    finally:
        back.close()


def test_a_clerk_of_another_store_is_not_replayed_this_stores_orders(server):
    member, other = server.login(phone="13800000001"), server.login(username="clerk2")
    order_id = _order(server, member, "DRK-003").json()["id"]
    _pay_through_sandbox(server, member, order_id)
    screen = Screen(server, "/clerk", other, last_event_id=0)
    try:
        time.sleep(1)
        assert not any(d["order_id"] == order_id for _, d in screen.received)
    finally:
        screen.close()


def test_member_reconnecting_catches_up_on_its_own_order(server):
    member = server.login(phone="13800000001")
    clerk = server.login(username="clerk1")
    order_id = _order(server, member, "DRK-003").json()["id"]
    _pay_through_sandbox(server, member, order_id)
    events = requests.get(f"{server.url}/api/v1/orders/{order_id}", headers={"Authorization": f"Bearer {member}"},
                          timeout=10).json()
    assert events["status"] == "awaiting_acceptance"
    latest = requests.get(f"{server.url}/api/v1/clerk/orders", headers={"Authorization": f"Bearer {clerk}"},
                          timeout=10).json()["last_event_id"]
    accepted = requests.post(f"{server.url}/api/v1/clerk/orders/{order_id}/accept",
                             headers={"Authorization": f"Bearer {clerk}"}, timeout=10)
    assert accepted.status_code == 200
    screen = Screen(server, "/member", member, last_event_id=latest)
    try:
        got = screen.wait_for(lambda n, d: n == "order.status" and d["order_id"] == order_id and d["status"] == "accepted")
        assert got["replayed"] is True and got["event_id"] > latest
        assert not any(name == "order.new" for name, _ in screen.received)  # members get statuses only
    finally:
        screen.close()


def _ids(received, *, replayed):
    return [(name, data["event_id"]) for name, data in received if bool(data.get("replayed")) == replayed]


def test_a_reconnect_replays_exactly_what_was_missed_no_more_no_less(server):
    """Events the screen received before the drop are not sent again (the old catch-up re-sent a few
    seconds' worth); everything after its last received event is, once, in the order it was pushed."""
    member, clerk = server.login(phone="13800000001"), server.login(username="clerk1")
    h = {"Authorization": f"Bearer {clerk}"}
    early = [_order(server, member, "DRK-003").json()["id"] for _ in range(2)]
    screen = Screen(server, "/clerk", clerk)
    try:
        for order_id in early:
            _pay_through_sandbox(server, member, order_id)
        screen.wait_for(_new(early[-1]))
        seen = list(screen.received)
        last = seen[-1][1]["event_id"]  # the last event received
    finally:
        screen.close()

    # While the screen is away: one of the orders it saw is accepted, two new ones arrive.
    assert requests.post(f"{server.url}/api/v1/clerk/orders/{early[0]}/accept", headers=h, timeout=10).status_code == 200
    later = [_order(server, member, "DRK-003").json()["id"] for _ in range(2)]
    for order_id in later:
        _pay_through_sandbox(server, member, order_id)
    missed = []
    for order_id in [early[0], *later]:
        events = requests.get(f"{server.url}/api/v1/orders/{order_id}", headers=h, timeout=10).json()["events"]
        missed += [e["id"] for e in events if e["id"] > last and e["to"] in ("accepted", "awaiting_acceptance")]

    back = Screen(server, "/clerk", clerk, last_event_id=last)
    try:
        back.wait_for(_new(later[-1]))
        live_id = _order(server, member, "DRK-003").json()["id"]
        _pay_through_sandbox(server, member, live_id)
        back.wait_for(_new(live_id))
        replayed = _ids(back.received, replayed=True)
        assert sorted(event_id for _, event_id in replayed) == sorted(missed)
        assert len(replayed) == len({event_id for _, event_id in replayed})  # none twice
        assert not {event_id for _, event_id in replayed} & {d["event_id"] for _, d in seen}
        assert [(n, d["order_id"]) for n, d in back.received if d.get("replayed")] == \
            [("order.status", early[0]), ("order.new", later[0]), ("order.new", later[1])]
        assert _ids(back.received, replayed=False) == [("order.new", back.received[-1][1]["event_id"])]
    finally:
        back.close()


def test_a_member_reconnecting_twice_gets_each_missed_status_once(server):
    member, clerk = server.login(phone="13800000001"), server.login(username="clerk1")
    h = {"Authorization": f"Bearer {clerk}"}
    order_id = _order(server, member, "DRK-003").json()["id"]
    screen = Screen(server, "/member", member)
    try:
        _pay_through_sandbox(server, member, order_id)
        last = screen.wait_for(lambda n, d: d["order_id"] == order_id and d["status"] == "awaiting_acceptance")["event_id"]
    finally:
        screen.close()
    for action in ("accept", "ready"):
        assert requests.post(f"{server.url}/api/v1/clerk/orders/{order_id}/{action}", headers=h, timeout=10).status_code == 200
    first = Screen(server, "/member", member, last_event_id=last)
    try:
        got = first.wait_for(lambda n, d: d["order_id"] == order_id and d["status"] == "ready_for_pickup")
        time.sleep(0.5)
        assert [d["status"] for _, d in first.received] == ["accepted", "ready_for_pickup"]
    finally:
        first.close()
    again = Screen(server, "/member", member, last_event_id=got["event_id"])  # nothing new since
    try:
        time.sleep(1)
        assert again.received == []
    finally:
        again.close()


def test_a_clerk_on_another_worker_catches_up_through_redis(tmp_path):
    """Two workers, one database, Redis between them: the clerk's worker logs what it delivered (events
    from the other worker included) and replays exactly what came after the clerk's last event."""
    shared = tmp_path / "shared"
    shared.mkdir()
    first, second = two_workers(shared)
    try:
        member, clerk = first.login(phone="13800000001"), first.login(username="clerk1")
        seen_order = _order(first, member, "DRK-003").json()["id"]
        screen = Screen(second, "/clerk", clerk)
        try:
            _pay_through_sandbox(first, member, seen_order)
            last = screen.wait_for(_new(seen_order))["event_id"]
        finally:
            screen.close()
        missed = [_order(first, member, "DRK-003").json()["id"] for _ in range(2)]
        for order_id in missed:
            _pay_through_sandbox(first, member, order_id)
        back = Screen(second, "/clerk", clerk, last_event_id=last)
        try:
            back.wait_for(_new(missed[-1]))
            time.sleep(0.5)
            assert [(n, d["order_id"], d.get("replayed")) for n, d in back.received] == \
                [("order.new", missed[0], True), ("order.new", missed[1], True)]
        finally:
            back.close()
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("server", ["postgresql"], indirect=True)  # SQLite has one writer: commits in id order
def test_an_event_committed_out_of_id_order_is_replayed_not_lost(server):
    """PostgreSQL: order A's 已发货 entry gets its id, then A's transaction waits (its stock row is locked
    here); order B is paid meanwhile, with a larger id, and pushed first. The screen saw B and dropped;
    A commits while it is away. Reconnecting after B it must get A's entry, though A's id is smaller."""
    url = server.env["DATABASE_URL"]
    member, clerk = server.login(phone="13800000001"), server.login(username="clerk1")
    h = {"Authorization": f"Bearer {clerk}"}
    address = {"province": "上海市", "city": "上海市", "district": "徐汇区", "street": "天平路街道", "detail": "天平路 1 号"}
    a = requests.post(server.url + "/api/v1/orders", headers={"Authorization": f"Bearer {member}"}, timeout=30, json={
        "items": [{"sku": "DRK-003", "qty": 1}], "fulfilment": "store_delivery", "address": address,
        "contact_name": "张小萌", "contact_phone": "13800000001"}).json()
    assert a["location_id"] == 1, a
    _pay_through_sandbox(server, member, a["id"])
    for action in ("accept", "ready"):
        assert requests.post(f"{server.url}/api/v1/clerk/orders/{a['id']}/{action}", headers=h, timeout=10).status_code == 200
    b_id = _order(server, member, "DRK-002").json()["id"]

    engine = create_engine(url)
    blocker = engine.connect()
    transaction = blocker.begin()
    blocker.execute(text("SELECT 1 FROM stock_items WHERE location_id = 1 AND product_id = "
                         "(SELECT id FROM products WHERE sku = 'DRK-003') FOR UPDATE"))
    shipping = threading.Thread(target=lambda: requests.post(f"{server.url}/api/v1/clerk/orders/{a['id']}/ship",
                                                             json={}, headers=h, timeout=60))
    screen = Screen(server, "/clerk", clerk)
    try:
        shipping.start()
        with engine.connect() as watch:  # A's transaction has its 已发货 entry and waits for the stock row
            deadline = time.monotonic() + 10
            while not watch.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND datname = current_database()")).scalar():
                assert time.monotonic() < deadline, "the ship never reached the stock row"
                time.sleep(0.05)
        _pay_through_sandbox(server, member, b_id)
        last = screen.wait_for(_new(b_id))["event_id"]
    finally:
        screen.close()
    transaction.rollback()  # A commits now, while the screen is away
    blocker.close()
    shipping.join(30)
    shipped = next(e for e in requests.get(f"{server.url}/api/v1/orders/{a['id']}", headers=h, timeout=10).json()["events"]
                   if e["to"] == "shipped")
    assert shipped["id"] < last  # committed (and pushed) after B, with a smaller id
    engine.dispose()

    back = Screen(server, "/clerk", clerk, last_event_id=last)
    try:
        got = back.wait_for(lambda n, d: n == "order.status" and d["order_id"] == a["id"])
        time.sleep(0.5)
        assert (got["event_id"], got["status"], got["replayed"]) == (shipped["id"], "shipped", True)
        assert [(n, d["order_id"]) for n, d in back.received] == [("order.status", a["id"])]
    finally:
        back.close()
