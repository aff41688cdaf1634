"""Third-party platforms: signed order pushes (one order per platform order, stock reserved once, even
when delivered concurrently) and status changes written back through the outbox (same transaction,
delivered signed with backoff, once across workers, after a restart), on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app import create_app
from app.channels import outbox
from app.channels.models import ChannelOrder, ChannelOutbox
from app.channels.platforms import EXTENSION_KEY
from app.channels.signing import SIGNATURE_HEADER, signed_headers, verify
from app.clock import utcnow
from app.extensions import db, socketio
from app.orders.models import Order, OrderEvent
from app.payments.http_transport import post_json
from app.payments.models import Refund

from .conftest import _base_config
from .factories import build_chain, stock_row
from .helpers import place, race


def platforms(app):
    return app.extensions[EXTENSION_KEY]


def order_body(chain, pid="MT1001", items=(("MILK", 2),), store="A", **extra):
    body = {"platform_order_id": pid, "store_id": chain.stores[store],
            "items": [{"sku": s, "qty": q, "price": 1500} for s, q in items],
            "customer_name": "王先生", "customer_phone": "13912345678", "address": "上海市徐汇区漕溪北路1号",
            "paid": True, "paid_amount": 3000, "platform_total": 3000, "note": "少放冰"}
    body.update(extra)
    return body


def push(client, app, body, platform="meituan", *, secret=None, path=None, timestamp=None, raw=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    key = secret if secret is not None else platforms(app)[platform].secret
    headers = signed_headers(key, data, now=timestamp)
    return client.post(path or f"/api/v1/channels/{platform}/orders", data=data, headers=headers)


def count(app, model, *where) -> int:
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        db.session.remove()
        return n


def outbox_rows(app):
    with app.app_context():
        rows = db.session.execute(select(ChannelOutbox).order_by(ChannelOutbox.id)).scalars().all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def accept(client, chain, order_id, who="clerkA"):
    return client.post(f"/api/v1/clerk/orders/{order_id}/accept", headers=chain.h(who))


class Receiver:
    """A platform's write-back endpoint on a real local HTTP port: answers with `statuses` in turn
    (then 200), records what it was sent."""

    def __init__(self, statuses=(), delay=0.0):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                with receiver.lock:
                    receiver.received.append((json.loads(body), body, dict(self.headers)))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/writeback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(), delay=0.0):
        made.append(Receiver(statuses, delay))
        return made[-1]

    yield make
    for r in made:
        r.close()


def pointed_at(app, url, platform="meituan"):
    """The app's platforms with `platform` writing back to `url`."""
    configured = dict(platforms(app))
    configured[platform] = configured[platform]._replace(writeback_url=url)
    return configured


def deliver(app, configured, **kwargs):
    with app.app_context():
        try:
            return outbox.deliver_due(configured, post_json, **kwargs)
        finally:
            db.session.remove()


# --- inbound -----------------------------------------------------------------------------------------

def test_signed_push_enters_the_order_centre_paid_awaiting_acceptance_and_reserved(app, client):
    chain = build_chain(app)
    clerk_a = socketio.test_client(app, namespace="/clerk", auth={"token": chain.tokens["clerkA"]})
    clerk_b = socketio.test_client(app, namespace="/clerk", auth={"token": chain.tokens["clerkB"]})
    r = push(client, app, order_body(chain))
    assert r.status_code == 201, r.json
    order = r.json
    assert (order["channel"], order["fulfilment"], order["status"], order["payment_status"]) == \
        ("platform", "store_delivery", "awaiting_acceptance", "paid")
    assert order["platform_order_id"] == "MT1001" and order["location_id"] == chain.stores["A"]
    assert order["total"] == 2 * 1590 and order["delivery_fee"] == 0  # our prices
    assert order["address"]["detail"] == "上海市徐汇区漕溪北路1号" and order["contact_phone"] == "13912345678"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)
    pushed = [m["args"][0] for m in clerk_a.get_received("/clerk") if m["name"] == "order.new"]
    assert [p["order_id"] for p in pushed] == [order["id"]]
    assert not [m for m in clerk_b.get_received("/clerk") if m["name"] == "order.new"]
    queue = client.get("/api/v1/clerk/orders", headers=chain.h("clerkA")).json["orders"]
    assert [(o["id"], o["platform"]["label"]) for o in queue] == [(order["id"], "美团")]


def test_signatures_are_checked_and_every_refusal_writes_nothing(app, client):
    chain = build_chain(app)
    body = order_body(chain)
    data = json.dumps(body).encode()
    meituan, eleme = platforms(app)["meituan"], platforms(app)["eleme"]
    assert meituan.secret != eleme.secret
    cases = {
        "wrong secret": (push(client, app, body, secret=b"x" * 64), "bad_signature"),
        "eleme's secret": (push(client, app, body, secret=eleme.secret), "bad_signature"),
        "stale": (push(client, app, body, timestamp=time.time() - 301), "stale_signature"),
        "from the future": (push(client, app, body, timestamp=time.time() + 301), "stale_signature"),
        "missing": (client.post("/api/v1/channels/meituan/orders", json=body), "missing_signature"),
    }
    headers = signed_headers(meituan.secret, data)
    tampered = data.replace(b'"qty": 2', b'"qty": 9')
    assert tampered != data
    cases["tampered body"] = (client.post("/api/v1/channels/meituan/orders", data=tampered, headers=headers),
                              "bad_signature")
    cases["non-ascii signature"] = (client.post("/api/v1/channels/meituan/orders", data=data, headers={
        **headers, SIGNATURE_HEADER: "ü" * 64}), "bad_signature")
    for name, (r, code) in cases.items():
        assert (r.status_code, r.json["error"]["code"]) == (401, code), name
    unknown = push(client, app, body, platform="meituan", path="/api/v1/channels/jd/orders")
    assert (unknown.status_code, unknown.json["error"]["code"]) == (404, "unknown_platform")
    assert count(app, Order) == 0 and count(app, ChannelOrder) == 0
    assert push(client, app, body, platform="eleme").status_code == 201  # its own secret on its own path


def test_bad_bodies_are_refused_with_codes_and_nothing_written(app, client):
    chain = build_chain(app)
    cases = [
        (order_body(chain, items=[]), 422, "invalid_items"),
        (order_body(chain, pid=""), 422, "invalid_platform_order_id"),
        (order_body(chain, paid=False), 422, "not_paid"),
        (order_body(chain, paid_amount=-1), 422, "invalid_amount"),
        (order_body(chain, address=""), 422, "invalid_address"),
        (order_body(chain, store_code="A"), 422, "invalid_store"),  # both store_id and store_code
        (order_body(chain, items=(("NOPE", 1),)), 404, "unknown_sku"),
        (order_body(chain, store="W"), 404, "store_not_found"),  # a warehouse is no store
        ({**order_body(chain), "store_id": None, "store_code": "ZZ"}, 404, "store_not_found"),
    ]
    for body, status, code in cases:
        r = push(client, app, body)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), body
    r = push(client, app, None, raw=b"[1, 2")
    assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_json")
    assert count(app, Order) == 0 and count(app, ChannelOrder) == 0
    by_code = push(client, app, {**order_body(chain), "store_id": None, "store_code": "B"})
    assert by_code.status_code == 201 and by_code.json["location_id"] == chain.stores["B"]


def test_a_replay_answers_the_same_order_and_another_body_under_the_id_conflicts(app, client):
    chain = build_chain(app)
    first = push(client, app, order_body(chain))
    again = push(client, app, order_body(chain))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    other = push(client, app, order_body(chain, items=(("MILK", 3),)))
    assert (other.status_code, other.json["error"]["code"]) == (409, "platform_order_conflict")
    assert count(app, Order) == 1
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)


def test_ten_concurrent_deliveries_of_one_platform_order_make_one_order_reserved_once(app):
    chain = build_chain(app)
    body = order_body(chain, items=(("MILK", 3), ("RICE", 1)))

    def deliver_once(_):
        return push(app.test_client(), app, body)

    responses = race(10, deliver_once)
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201], [r.json for r in responses]
    assert len({r.json["id"] for r in responses}) == 1
    assert count(app, Order) == 1 and count(app, ChannelOrder) == 1
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 3)
    assert stock_row(app, chain.stores["A"], chain.products["RICE"]) == (50, 1)


def test_insufficient_stock_is_refused_with_nothing_written(app, client):
    chain = build_chain(app, stock={("A", "MILK"): 1, ("A", "RICE"): 5})
    r = push(client, app, order_body(chain, items=(("RICE", 2), ("MILK", 2))))
    assert (r.status_code, r.json["error"]["code"]) == (409, "out_of_stock")
    assert count(app, Order) == 0 and count(app, ChannelOrder) == 0 and count(app, OrderEvent) == 0
    assert stock_row(app, chain.stores["A"], chain.products["RICE"]) == (5, 0)


# --- cancellation by the platform ----------------------------------------------------------------------

def cancel(client, app, pid, platform="meituan", body=None):
    return push(client, app, body or {"reason": "顾客取消"}, platform=platform,
                path=f"/api/v1/channels/{platform}/orders/{pid}/cancel")


def test_the_platform_cancels_its_order_releasing_stock_and_is_told_back(app, client):
    chain = build_chain(app)
    order_id = push(client, app, order_body(chain)).json["id"]
    assert accept(client, chain, order_id).status_code == 200
    r = cancel(client, app, "MT1001")
    assert (r.status_code, r.json["status"]) == (200, "cancelled"), r.json
    # The platform gives its customer the money back itself: marked refunded here, nothing sent from here.
    assert r.json["payment_status"] == "refunded"
    events = client.get(f"/api/v1/orders/{order_id}", headers=chain.h("clerkA")).json["events"]
    assert events[-1]["kind"] == "refund" and events[-1]["reason"].endswith("由平台退还顾客")
    assert count(app, Refund) == 0
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 0)
    assert cancel(client, app, "MT1001").status_code == 200  # told twice: still cancelled, nothing moves
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 0)
    assert [row.status for row in outbox_rows(app)] == ["accepted", "cancelled"]
    assert cancel(client, app, "MT1001", platform="eleme").json["error"]["code"] == "platform_order_not_found"
    unsigned = client.post("/api/v1/channels/meituan/orders/MT1001/cancel", json={})
    assert (unsigned.status_code, unsigned.json["error"]["code"]) == (401, "missing_signature")


def delivered(client, app, pid, platform="meituan"):
    return push(client, app, {}, platform=platform, path=f"/api/v1/channels/{platform}/orders/{pid}/delivered")


def test_handed_to_the_rider_the_order_cannot_be_cancelled_and_completes_when_the_platform_delivers(app, client):
    chain = build_chain(app)
    order_id = push(client, app, order_body(chain)).json["id"]
    early = delivered(client, app, "MT1001")
    assert (early.status_code, early.json["error"]["code"]) == (409, "illegal_transition")
    for action, body in (("accept", {}), ("ready", {}), ("ship", {"carrier": "美团骑手", "tracking_no": "MT1001"})):
        assert client.post(f"/api/v1/clerk/orders/{order_id}/{action}", json=body,
                           headers=chain.h("clerkA")).status_code == 200
    r = cancel(client, app, "MT1001")
    assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (48, 0)  # handed to the rider
    done = delivered(client, app, "MT1001")
    assert (done.status_code, done.json["status"]) == (200, "completed")
    assert delivered(client, app, "MT1001").status_code == 200  # told twice
    assert [row.status for row in outbox_rows(app)] == ["accepted", "shipped", "completed"]


def test_shipping_a_platform_order_with_nothing_said_hands_it_to_the_platform_s_rider(app, client):
    """Not to the clerk as a self-delivery: the platform's rider collects it, under the platform's number."""
    chain = build_chain(app)
    order_id = push(client, app, order_body(chain)).json["id"]
    for action in ("accept", "ready", "ship"):
        r = client.post(f"/api/v1/clerk/orders/{order_id}/{action}", json={}, headers=chain.h("clerkA"))
        assert r.status_code == 200, r.json
    assert (r.json["delivery"]["mode"], r.json["delivery"]["carrier"], r.json["delivery"]["tracking_no"]) == \
        ("carrier", "美团骑手", "MT1001"), r.json
    events = client.get(f"/api/v1/orders/{order_id}", headers=chain.h("clerkA")).json["events"]
    assert events[-1]["reason"] == "交美团骑手取货:平台订单号 MT1001"
    # The store's own deliveries still default to the clerk.
    own = place(client, chain, fulfilment="store_delivery", payment="cod").json["id"]
    for action in ("accept", "ready", "ship"):
        r = client.post(f"/api/v1/clerk/orders/{own}/{action}", json={}, headers=chain.h("clerkA"))
        assert r.status_code == 200, r.json
    assert r.json["delivery"]["mode"] == "staff"


# --- the outbox ----------------------------------------------------------------------------------------

def test_accepting_writes_one_outbox_row_in_the_same_transaction(app, client, monkeypatch):
    chain = build_chain(app)
    order_id = push(client, app, order_body(chain)).json["id"]
    assert outbox_rows(app) == []  # a new order is the platform's own news
    other_store = accept(client, chain, order_id, who="clerkB")
    assert other_store.status_code == 404 and outbox_rows(app) == []
    assert accept(client, chain, order_id).status_code == 200
    assert accept(client, chain, order_id).status_code == 409  # illegal now: writes nothing
    (row,) = outbox_rows(app)
    assert (row.platform, row.order_id, row.status, row.state, row.attempts) == \
        ("meituan", order_id, "accepted", "pending", 0)
    assert json.loads(row.body)["event"] == "accepted" and json.loads(row.body)["platform_order_id"] == "MT1001"
    assert client.post(f"/api/v1/clerk/orders/{order_id}/ready", headers=chain.h("clerkA")).status_code == 200

    from app.stock import service as stock

    def broken_hand_over(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(stock, "hand_over", broken_hand_over)
    failed = client.post(f"/api/v1/clerk/orders/{order_id}/ship", json={"carrier": "美团", "tracking_no": "1"},
                         headers=chain.h("clerkA"))
    assert failed.status_code == 500  # a step after the outbox row failed: the unit rolled both back
    assert [r.status for r in outbox_rows(app)] == ["accepted"]


def test_the_job_delivers_signed_write_backs_to_the_platform(app, client, receiver):
    chain = build_chain(app)
    order_id = push(client, app, order_body(chain)).json["id"]
    accept(client, chain, order_id)
    platform = receiver()
    configured = pointed_at(app, platform.url)
    assert deliver(app, configured) == 1
    ((sent, raw, headers),) = platform.received
    verify(configured["meituan"].secret, headers, raw)  # raises if the signature is wrong
    assert {k: sent[k] for k in ("platform_order_id", "order_id", "event")} == \
        {"platform_order_id": "MT1001", "order_id": order_id, "event": "accepted"}
    (row,) = outbox_rows(app)
    assert (row.state, row.attempts, row.delivered_at is not None) == ("delivered", 1, True)
    assert deliver(app, configured) == 0 and len(platform.received) == 1  # once


def test_a_failing_platform_gets_it_on_the_third_attempt_after_backing_off(app, client, receiver):
    chain = build_chain(app)
    accept(client, chain, push(client, app, order_body(chain)).json["id"])
    platform = receiver(statuses=(500, 503))
    configured = pointed_at(app, platform.url)
    t0 = utcnow()
    assert deliver(app, configured, now=t0) == 0
    (row,) = outbox_rows(app)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "平台返回 HTTP 500")
    assert row.next_attempt_at == t0 + outbox.backoff(1)
    assert deliver(app, configured, now=t0 + timedelta(seconds=5)) == 0 and len(platform.received) == 1  # waits
    assert deliver(app, configured, now=t0 + outbox.backoff(1)) == 0
    second = t0 + outbox.backoff(1)
    assert outbox_rows(app)[0].next_attempt_at == second + outbox.backoff(2) > second + outbox.backoff(1)
    assert deliver(app, configured, now=second + outbox.backoff(2)) == 1
    (row,) = outbox_rows(app)
    assert (row.state, row.attempts, len(platform.received)) == ("delivered", 3, 3)


def test_attempts_run_out_the_row_fails_visibly_and_hq_can_retry_it(app, client, receiver):
    chain = build_chain(app)
    order_id = push(client, app, order_body(chain)).json["id"]
    accept(client, chain, order_id)
    platform = receiver(statuses=(500, 500))
    configured = pointed_at(app, platform.url)
    t0 = utcnow()
    deliver(app, configured, now=t0, max_attempts=2)
    deliver(app, configured, now=t0 + timedelta(hours=1), max_attempts=2)
    (row,) = outbox_rows(app)
    assert (row.state, row.attempts) == ("failed", 2)
    listed = client.get("/api/v1/hq/channel-outbox", headers=chain.h("hq"))
    assert [(r["id"], r["state"], r["order_id"], r["last_error"], r["label"]) for r in listed.json["rows"]] == \
        [(row.id, "failed", order_id, "平台返回 HTTP 500", "美团")]
    assert client.get("/api/v1/hq/channel-outbox", headers=chain.h("clerkA")).status_code == 403
    assert client.post(f"/api/v1/hq/channel-outbox/{row.id}/retry", headers=chain.h("hq")).status_code == 200
    assert deliver(app, configured) == 1 and outbox_rows(app)[0].state == "delivered"
    again = client.post(f"/api/v1/hq/channel-outbox/{row.id}/retry", headers=chain.h("hq"))
    assert (again.status_code, again.json["error"]["code"]) == (404, "writeback_not_found")


def test_workers_delivering_at_once_send_each_row_once(app, client, receiver):
    chain = build_chain(app)
    for i in range(6):
        order_id = push(client, app, order_body(chain, pid=f"MT{i}", items=(("MILK", 1),))).json["id"]
        assert accept(client, chain, order_id).status_code == 200
    platform = receiver(delay=0.05)
    configured = pointed_at(app, platform.url)
    delivered = race(4, lambda _: deliver(app, configured))
    assert sum(delivered) == 6
    sent = Counter(body["order_id"] for body, _, _ in platform.received)
    assert len(sent) == 6 and set(sent.values()) == {1}
    assert {(r.state, r.attempts) for r in outbox_rows(app)} == {("delivered", 1)}


def test_an_order_s_changes_reach_the_platform_in_order(app, client, receiver):
    chain = build_chain(app)
    order_id = push(client, app, order_body(chain)).json["id"]
    accept(client, chain, order_id)
    cancel(client, app, "MT1001")
    platform = receiver(statuses=(500,))
    configured = pointed_at(app, platform.url)
    t0 = utcnow()
    deliver(app, configured, now=t0)  # accepted fails; cancelled waits behind it
    assert [b["event"] for b, _, _ in platform.received] == ["accepted"]
    deliver(app, configured, now=t0 + timedelta(hours=1))
    deliver(app, configured, now=t0 + timedelta(hours=1))
    assert [b["event"] for b, _, _ in platform.received] == ["accepted", "accepted", "cancelled"]


def test_a_pending_write_back_survives_a_restart(app, client, receiver):
    chain = build_chain(app)
    accept(client, chain, push(client, app, order_body(chain)).json["id"])
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.engine.dispose()  # the first server is gone
    restarted = create_app(_base_config(url, BACKGROUND_SPAWN=lambda *_: None))
    platform = receiver()
    try:
        assert deliver(restarted, pointed_at(restarted, platform.url)) == 1
    finally:
        with restarted.app_context():
            db.engine.dispose()
    assert [b["event"] for b, _, _ in platform.received] == ["accepted"]
    assert outbox_rows(app)[0].state == "delivered"
