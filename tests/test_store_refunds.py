"""Refunds of money taken at the store (到店付款 cash/card, cash on delivery): owed at the counter, listed
in the clerk centre, paid out once by a clerk of the order's own store (who, when, how), shown to the
member in the order. Two clerks paying out the same refund at once: exactly one wins, on SQLite and
PostgreSQL."""
from collections import Counter

from sqlalchemy import select

from app.extensions import db
from app.infra.unit_of_work import unit_of_work
from app.payments import refunds
from app.payments.models import Refund

from .factories import build_chain
from .helpers import get_order, place, race
from .test_delivery import _ready_delivery, _ship
from .test_pickup import VERIFY, _second_clerk

REFUNDS = "/api/v1/clerk/refunds"


def _partly_collected_at_store(client, chain, payment="cash"):
    """A pay-at-store order (3 milk, 1 rice) paid at the counter on collecting the milk; the rice stays."""
    oid = place(client, chain, items=[("MILK", 3), ("RICE", 1)], payment="at_store").json["id"]
    code = get_order(client, chain, oid)["pickup"]["code"]
    lines = {l["sku"]: l for l in client.post(VERIFY, json={"code": code}, headers=chain.h("clerkA")).json["lines"]}
    r = client.post(VERIFY, json={"code": code, "confirm": True, "payment": payment,
                                  "lines": [{"line_id": lines["MILK"]["line_id"], "qty": 3}]}, headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    return oid, lines["RICE"]["line_total"]


def _pay_out(client, chain, refund_id, who="clerkA", method="cash"):
    return client.post(f"{REFUNDS}/{refund_id}/pay-out", json={"method": method}, headers=chain.h(who))


def test_a_cancelled_order_paid_at_the_counter_is_owed_at_the_store_until_a_clerk_pays_it_out(app, client):
    chain = build_chain(app)
    oid, rice = _partly_collected_at_store(client, chain, payment="card")
    assert client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("hq")).status_code == 200

    order = get_order(client, chain, oid)
    assert order["payment_status"] == "partially_refunded"
    (owed,) = order["refunds"]
    assert (owed["amount"], owed["status"], owed["route"], owed["status_label"]) == \
        (rice, "at_store", "store", "请到门店领取退款")
    assert any(e["kind"] == "refund" and "请到门店柜台领取退款" in e["reason"] for e in order["events"])
    # No provider can send it back: the retry job leaves it alone, it stays owed.
    with app.app_context():
        assert refunds.retry_pending() == 0
        assert db.session.get(Refund, owed["id"]).status == "at_store"
        db.session.remove()

    listed = client.get(REFUNDS, headers=chain.h("clerkA")).json
    assert [(r["id"], r["order_id"], r["amount"], r["paid_with"]) for r in listed["owed"]] == \
        [(owed["id"], oid, rice, "store_card")]
    assert listed["paid_out"] == []
    # Another store's clerk neither sees it nor can pay it out; members and couriers have no business here.
    assert client.get(REFUNDS, headers=chain.h("clerkB")).json == {"owed": [], "paid_out": []}
    other = _pay_out(client, chain, owed["id"], who="clerkB")
    assert (other.status_code, other.json["error"]["code"]) == (404, "refund_not_found")
    assert _pay_out(client, chain, owed["id"], who="m0").status_code == 403
    assert _pay_out(client, chain, owed["id"], who="courierA").status_code == 403
    for body in ({}, {"method": "iou"}, {"method": 1}):
        bad = client.post(f"{REFUNDS}/{owed['id']}/pay-out", json=body, headers=chain.h("clerkA"))
        assert (bad.status_code, bad.json["error"]["code"]) == (422, "invalid_payout_method")
    assert _pay_out(client, chain, 999999).json["error"]["code"] == "refund_not_found"

    paid = _pay_out(client, chain, owed["id"], method="card")
    assert paid.status_code == 200, paid.json
    assert (paid.json["status"], paid.json["payout_method"], paid.json["paid_out_by"]) == ("succeeded", "card", "店员A")
    assert paid.json["done_at"] and paid.json["status_label"] == "已在门店刷卡退还"
    again = _pay_out(client, chain, owed["id"])
    assert (again.status_code, again.json["error"]["code"]) == (409, "already_paid_out")
    assert "店员A" in again.json["error"]["message"] and again.json["error"]["details"]["method"] == "card"

    order = get_order(client, chain, oid)
    assert order["refunds"][0]["status_label"] == "已在门店刷卡退还" and order["refunds"][0]["paid_out_by"] == "店员A"
    assert [e["reason"] for e in order["events"] if e["kind"] == "refund_paid_out"] == \
        [f"门店退款 {rice / 100:.2f} 元已刷卡退还,经办店员 店员A"]
    listed = client.get(REFUNDS, headers=chain.h("clerkA")).json
    assert listed["owed"] == [] and [r["id"] for r in listed["paid_out"]] == [owed["id"]]


def test_a_refund_paid_to_its_provider_is_not_paid_out_at_the_counter(app, client, deferred):
    from .helpers import pay

    chain = build_chain(app)
    oid = place(client, chain, items=[("MILK", 1)]).json["id"]
    pay(app, client, chain, oid, deferred)
    assert client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("m0")).status_code == 200
    (refund,) = get_order(client, chain, oid)["refunds"]
    assert (refund["route"], refund["status"], refund["status_label"]) == ("original", "succeeded", "已退款")
    assert client.get(REFUNDS, headers=chain.h("clerkA")).json["owed"] == []
    r = _pay_out(client, chain, refund["id"])
    assert (r.status_code, r.json["error"]["code"]) == (409, "refund_not_at_store")


def test_cash_on_delivery_counted_back_is_refunded_at_the_store(app, client):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, payment="cod")
    assert _ship(client, chain, oid, courier_id=chain.principals["courierA"].id).status_code == 200
    due = get_order(client, chain, oid)["total"]
    assert client.post(f"/api/v1/courier/deliveries/{oid}/delivered", json={"cash_collected": due},
                       headers=chain.h("courierA")).status_code == 200
    assert client.post(f"/api/v1/clerk/deliveries/{oid}/check-back", json={"cash_counted": due},
                       headers=chain.h("clerkA")).status_code == 200
    with app.app_context(), unit_of_work() as uow:  # a refund of that order (e.g. a return, once approved)
        refunded = uow.refunds.refund_in_full(oid, reason="退货退款")
    assert (refunded.total, refunded.at_store) == (due, due)
    (owed,) = client.get(REFUNDS, headers=chain.h("clerkA")).json["owed"]
    assert (owed["order_id"], owed["paid_with"], owed["amount"]) == (oid, "cod_cash", due)
    assert _pay_out(client, chain, owed["id"]).status_code == 200


def test_two_clerks_paying_out_the_same_refund_at_once_exactly_one_wins(app, client):
    chain = build_chain(app)
    second = _second_clerk(app, chain)
    for _ in range(3):
        oid, _rice = _partly_collected_at_store(client, chain)
        assert client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("hq")).status_code == 200
        (owed,) = get_order(client, chain, oid)["refunds"]
        clerks = ["clerkA", second] * 4

        def pay_out(i):
            return _pay_out(app.test_client(), chain, owed["id"], who=clerks[i])

        responses = race(len(clerks), pay_out)
        assert Counter(r.status_code for r in responses) == {200: 1, 409: len(clerks) - 1}, [r.json for r in responses]
        assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"already_paid_out"}
        winner = next(r.json for r in responses if r.status_code == 200)
        events = [e for e in get_order(client, chain, oid)["events"] if e["kind"] == "refund_paid_out"]
        assert len(events) == 1 and events[0]["reason"].endswith(winner["paid_out_by"])
        with app.app_context():
            rows = db.session.execute(select(Refund).where(Refund.order_id == oid)).scalars().all()
            assert [(r.status, r.payout_method) for r in rows] == [("succeeded", "cash")]
            db.session.remove()
