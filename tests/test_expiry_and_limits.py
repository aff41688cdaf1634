"""Unpaid orders: the sweep runs until nothing overdue is left, an overdue order cannot be paid even
before the sweep reaches it, and one member's unpaid orders may hold only so much."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import update

from app.clock import utcnow
from app.extensions import db
from app.orders.lifecycle import expire_overdue
from app.orders.member_limits import MemberLimits
from app.orders.models import Order

from .factories import build_chain, stock_row
from .helpers import confirm_payment, get_order, pay, pay_url, place, race


def limits(app, max_orders=0, max_units=0):
    app.extensions["storelink_member_limits"] = MemberLimits(max_orders, max_units)


def test_the_sweep_runs_until_no_overdue_order_is_left(app, client):
    limits(app)  # no per-member limits: one member places them all
    chain = build_chain(app, stock={("A", "MILK"): 100})
    ids = [place(client, chain, items=[("MILK", 2)]).json["id"] for _ in range(25)]
    with app.app_context():
        closed = expire_overdue(now=utcnow() + timedelta(minutes=16), batch=10)  # three batches
    assert sorted(closed) == sorted(ids)
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (100, 0)


def _make_overdue(app, order_id):
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == order_id).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()


def test_a_payment_for_an_overdue_order_is_refunded_as_late_even_before_the_sweep(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("RICE", 2)]).json["id"]
    confirm_payment(client, pay_url(client, chain, oid))  # paid at the provider in time...
    _make_overdue(app, oid)  # ...but the notification arrives after the order's expiry
    assert deferred.run_all(app) == [True]
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"]) == ("expired", "refunded")
    assert [e["kind"] for e in order["events"]].count("late_payment") == 1
    assert stock_row(app, chain.stores["A"], chain.products["RICE"]) == (50, 0)  # released, not sold
    with app.app_context():
        assert expire_overdue() == []  # nothing left for the sweep


def test_an_overdue_order_cannot_start_a_payment(app, client):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    _make_overdue(app, oid)
    with app.app_context():
        expire_overdue()
    r = client.post(f"/api/v1/orders/{oid}/pay", headers=chain.h("m0"))
    assert r.status_code == 409 and r.json["error"]["code"] == "not_payable"


def test_a_member_may_hold_only_so_many_unpaid_orders(app, client, deferred):
    limits(app, max_orders=3)
    chain = build_chain(app)
    ids = [place(client, chain).json["id"] for _ in range(3)]
    refused = place(client, chain)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "too_many_unpaid_orders"
    assert place(client, chain, who="m1").status_code == 201  # another member is not held back
    cod = place(client, chain, fulfilment="store_delivery", payment="cod")
    assert cod.status_code == 201  # cash on delivery holds no unpaid online order
    pay(app, client, chain, ids[0], deferred)
    assert client.post(f"/api/v1/orders/{ids[1]}/cancel", headers=chain.h("m0")).status_code == 200
    assert [place(client, chain).status_code for _ in range(3)] == [201, 201, 409]


def test_a_member_may_reserve_only_so_many_units_unpaid(app, client):
    limits(app, max_units=10)
    chain = build_chain(app)
    assert place(client, chain, items=[("MILK", 6)]).status_code == 201
    refused = place(client, chain, items=[("MILK", 3), ("RICE", 2)])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "too_many_unpaid_units"
    assert refused.json["error"]["details"] == {"limit": 10, "held": 6, "requested": 5}
    assert place(client, chain, items=[("MILK", 4)]).status_code == 201


def test_a_member_racing_themselves_gets_exactly_the_limit(app):
    limits(app, max_orders=5)
    chain = build_chain(app)
    outcomes = Counter(race(30, lambda i: place(app.test_client(), chain).status_code))
    assert outcomes == {201: 5, 409: 25}
