"""Store jobs: unaccepted orders escalated once (store alarm, HQ view); uncollected pickups reminded, then
cancelled with the stock released and the money for what stayed behind refunded to its original route."""
from datetime import timedelta

from sqlalchemy import func, select

from app import events
from app.clock import utcnow
from app.escalation import OrderEscalation
from app.escalation.service import escalate_overdue
from app.extensions import db
from app.payments.models import Refund
from app.pickup import deadlines
from app.pickup.models import PickupCode

from .factories import build_chain, stock_row
from .helpers import get_order, pay, place, race

LATER = timedelta(minutes=11)


class Collected:
    def __init__(self):
        self.events = []

    def __enter__(self):
        events._subscribers.append(self.events.append)
        return self.events

    def __exit__(self, *exc):
        events._subscribers.remove(self.events.append)


def _run(app, fn, *args, **kwargs):
    with app.app_context():
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.remove()


def test_an_order_nobody_accepts_is_escalated_once_to_the_store_and_hq(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    pay(app, client, chain, oid, deferred)
    assert _run(app, escalate_overdue, 600) == []  # not overdue yet
    with Collected() as seen:
        assert _run(app, escalate_overdue, 600, now=utcnow() + LATER) == [oid]
    (pushed,) = [e.payload for e in seen if e.name == "order.escalated"]
    assert pushed["location_id"] == chain.stores["A"] and pushed["store_name"] == "徐汇店"
    assert pushed["waited_seconds"] >= 600 and pushed["event_id"]
    assert _run(app, escalate_overdue, 600, now=utcnow() + LATER) == []  # once only
    entry = get_order(client, chain, oid)["events"][-1]
    assert entry["kind"] == "escalated" and "未接单" in entry["reason"]
    listed = client.get("/api/v1/hq/escalations", headers=chain.h("hq"))
    assert [e["order_id"] for e in listed.json["escalations"]] == [oid]
    assert client.get("/api/v1/hq/escalations", headers=chain.h("clerkA")).status_code == 403
    assert client.post(f"/api/v1/clerk/orders/{oid}/accept", headers=chain.h("clerkA")).status_code == 200
    assert client.get("/api/v1/hq/escalations", headers=chain.h("hq")).json["escalations"] == []


def test_escalation_is_off_when_configured_so_and_skips_unpaid_orders(app, client):
    chain = build_chain(app)
    place(client, chain)  # unpaid: not the store's to accept
    assert _run(app, escalate_overdue, 600, now=utcnow() + LATER) == []
    assert _run(app, escalate_overdue, 0, now=utcnow() + LATER) == []


def test_concurrent_escalation_jobs_escalate_each_order_once(app, client, deferred):
    chain = build_chain(app)
    ids = []
    for _ in range(3):
        ids.append(place(client, chain).json["id"])
        pay(app, client, chain, ids[-1], deferred)
    when = utcnow() + LATER
    results = race(6, lambda i: _run(app, escalate_overdue, 600, now=when))
    assert sorted(sum(results, [])) == ids
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(OrderEscalation)).scalar_one() == 3


def _deadline(app, oid):
    with app.app_context():
        code = db.session.execute(select(PickupCode).where(PickupCode.order_id == oid)).scalar_one()
        db.session.remove()
        return code.deadline_at


def test_an_uncollected_pickup_is_reminded_then_cancelled_and_refunded(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("MILK", 2)]).json["id"]
    pay(app, client, chain, oid, deferred)
    deadline = _deadline(app, oid)
    assert deadline is not None
    assert _run(app, deadlines.remind_overdue, now=deadline - timedelta(seconds=1)) == []
    with Collected() as seen:
        assert _run(app, deadlines.remind_overdue, now=deadline + timedelta(seconds=1)) == [oid]
    assert [e.payload["order_id"] for e in seen if e.name == "pickup.reminder"] == [oid]
    assert _run(app, deadlines.remind_overdue, now=deadline + timedelta(hours=1)) == []  # once
    inbox = client.get("/api/v1/me/messages", headers=chain.h("m0")).json["messages"]
    assert any(m["kind"] == "pickup_reminder" and m["title"] == "提货提醒" for m in inbox)

    grace = 3600
    reminded = deadline + timedelta(seconds=1)
    assert _run(app, deadlines.cancel_uncollected, grace, now=reminded + timedelta(seconds=grace - 5)) == []
    assert _run(app, deadlines.cancel_uncollected, 0, now=reminded + timedelta(days=30)) == []  # switched off
    assert _run(app, deadlines.cancel_uncollected, grace, now=reminded + timedelta(seconds=grace + 5)) == [oid]
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"]) == ("cancelled", "refunded")
    assert order["pickup"]["status"] == "void"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 0)
    assert _run(app, deadlines.cancel_uncollected, grace, now=reminded + timedelta(days=2)) == []


def test_a_partly_collected_order_is_refunded_only_for_what_stayed_behind(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("MILK", 3)]).json["id"]
    pay(app, client, chain, oid, deferred)
    code = get_order(client, chain, oid)["pickup"]["code"]
    line = client.post("/api/v1/clerk/pickups/verify", json={"code": code}, headers=chain.h("clerkA")).json["lines"][0]
    r = client.post("/api/v1/clerk/pickups/verify", json={"code": code, "confirm": True,
                                                          "lines": [{"line_id": line["line_id"], "qty": 1}]},
                    headers=chain.h("clerkA"))
    assert r.status_code == 200
    deadline = _deadline(app, oid)
    _run(app, deadlines.remind_overdue, now=deadline + timedelta(seconds=1))
    assert _run(app, deadlines.cancel_uncollected, 60, now=deadline + timedelta(minutes=5)) == [oid]
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"]) == ("cancelled", "partially_refunded")
    with app.app_context():
        refunded = db.session.execute(select(func.sum(Refund.amount)).where(Refund.order_id == oid)).scalar_one()
    assert refunded == 2 * 1590
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (49, 0)


def test_an_uncollected_pay_at_store_order_is_just_released(app, client):
    chain = build_chain(app)
    oid = place(client, chain, items=[("RICE", 1)], payment="at_store").json["id"]
    deadline = _deadline(app, oid)
    _run(app, deadlines.remind_overdue, now=deadline + timedelta(seconds=1))
    assert _run(app, deadlines.cancel_uncollected, 60, now=deadline + timedelta(minutes=5)) == [oid]
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"]) == ("cancelled", "unpaid")
    assert stock_row(app, chain.stores["A"], chain.products["RICE"]) == (50, 0)
