"""Store deliveries: shipping by carrier or by the store's own staff (a delivery note), the courier's list and
outcome, cash on delivery counted back at the store (回店校验) with its difference recorded."""
import pytest
from sqlalchemy import select

from app import events
from app.accounts.auth import Principal
from app.accounts.models import Staff
from app.extensions import db
from app.infra.unit_of_work import unit_of_work
from app.delivery.models import DeliveryNote
from app.payments.models import Payment

from .conftest import FAST_HASH, token_for
from .factories import build_chain, stock_row
from .helpers import get_order, pay, place

ADDR = {"province": "上海市", "city": "上海市", "district": "徐汇区", "street": "徐家汇街道", "detail": "漕溪北路 1 号"}


def _ready_delivery(app, client, chain, deferred=None, *, payment="online", items=(("MILK", 2),)):
    r = place(client, chain, items=list(items), fulfilment="store_delivery", store=None, payment=payment,
              address=ADDR, contact_name="李四", contact_phone="13900000000")
    assert r.status_code == 201, r.json
    oid = r.json["id"]
    assert r.json["location_id"] == chain.stores["A"]
    if payment == "online":
        pay(app, client, chain, oid, deferred)
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200
    return oid


def _courier(app, chain, name, store="A"):
    with app.app_context(), unit_of_work() as uow:
        staff = Staff(username=name, name=name, role="courier", store_id=chain.stores[store], password_hash=FAST_HASH)
        uow.session.add(staff)
        uow.session.flush()
        principal = Principal("staff", staff.id, "courier", staff.store_id, name)
    chain.principals[name], chain.tokens[name] = principal, token_for(app, principal)
    return principal.id


def _ship(client, chain, oid, who="clerkA", **body):
    return client.post(f"/api/v1/clerk/orders/{oid}/ship", json=body, headers=chain.h(who))


def test_ship_by_carrier_with_tracking_number(app, client, deferred):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, deferred)
    seen = []
    events._subscribers.append(seen.append)
    try:
        r = _ship(client, chain, oid, carrier="顺丰", tracking_no="SF1234567890")
    finally:
        events._subscribers.remove(seen.append)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "shipped"
    assert (r.json["delivery"]["mode"], r.json["delivery"]["carrier"], r.json["delivery"]["tracking_no"]) == \
        ("carrier", "顺丰", "SF1234567890")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (48, 0)
    pushed = [e.payload for e in seen if e.name == "order.status"]
    assert pushed and pushed[0]["status"] == "shipped" and pushed[0]["member_id"] and pushed[0]["event_id"]
    assert get_order(client, chain, oid)["events"][-1]["reason"] == "快递发货:顺丰 SF1234567890"


@pytest.mark.parametrize("body,code", [
    ({"carrier": "顺丰"}, "invalid_shipping"), ({"tracking_no": "SF1"}, "invalid_shipping"),
    ({"carrier": "顺丰", "tracking_no": "SF1", "courier_id": 1}, "invalid_shipping"),
    ({"courier_id": 999}, "invalid_courier"), ({"courier_id": "1"}, "invalid_courier"),
    ({"carrier": "x" * 40, "tracking_no": "1"}, "invalid_carrier"),
])
def test_bad_shipping_requests_are_refused_and_change_nothing(app, client, deferred, body, code):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, deferred)
    r = _ship(client, chain, oid, **body)
    assert (r.status_code, r.json["error"]["code"]) == (422, code)
    assert get_order(client, chain, oid)["status"] == "ready_to_ship"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)


def test_another_stores_courier_cannot_be_assigned_and_hq_must_name_one(app, client, deferred):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, deferred)
    other = _courier(app, chain, "courierB", store="B")
    assert _ship(client, chain, oid, courier_id=other).json["error"]["code"] == "invalid_courier"
    assert _ship(client, chain, oid, who="hq").json["error"]["code"] == "invalid_courier"
    assert _ship(client, chain, oid, who="clerkB", courier_id=other).status_code == 404
    assert _ship(client, chain, oid, who="courierA").status_code == 403


def test_self_delivery_goes_on_the_couriers_list_with_address_contact_and_cash_to_collect(app, client):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, payment="cod")
    couriers = client.get("/api/v1/clerk/couriers", headers=chain.h("clerkA")).json["couriers"]
    assert [c["name"] for c in couriers] == ["配送A"]
    r = _ship(client, chain, oid, courier_id=couriers[0]["id"])
    assert r.status_code == 200 and r.json["delivery"]["courier_name"] == "配送A"
    mine = client.get("/api/v1/courier/deliveries", headers=chain.h("courierA")).json["deliveries"]
    assert [d["id"] for d in mine] == [oid]
    assert mine[0]["address"]["detail"] == "漕溪北路 1 号" and mine[0]["contact_phone"] == "13900000000"
    assert mine[0]["delivery"]["cod_amount"] == mine[0]["total"] > 0
    # Another courier of the same store neither sees it nor may close it.
    _courier(app, chain, "courierA2")
    assert client.get("/api/v1/courier/deliveries", headers=chain.h("courierA2")).json["deliveries"] == []
    r = client.post(f"/api/v1/courier/deliveries/{oid}/delivered", json={"cash_collected": 1}, headers=chain.h("courierA2"))
    assert (r.status_code, r.json["error"]["code"]) == (403, "not_your_delivery")
    # The clerk's queue shows who is out with it.
    queue = client.get("/api/v1/clerk/orders", headers=chain.h("clerkA")).json
    assert queue["counts"]["shipped"] == 1
    assert next(o for o in queue["orders"] if o["id"] == oid)["delivery"]["courier_name"] == "配送A"


def test_cod_cash_counts_only_once_checked_back_and_the_difference_is_recorded(app, client):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, payment="cod")
    assert _ship(client, chain, oid, courier_id=chain.principals["courierA"].id).status_code == 200
    due = get_order(client, chain, oid)["total"]
    r = client.post(f"/api/v1/courier/deliveries/{oid}/delivered", headers=chain.h("courierA"))
    assert (r.status_code, r.json["error"]["code"]) == (422, "cash_required")
    r = client.post(f"/api/v1/courier/deliveries/{oid}/delivered", json={"cash_collected": due},
                    headers=chain.h("courierA"))
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["payment_status"]) == ("completed", "unpaid")  # not counted yet
    assert client.get("/api/v1/courier/deliveries", headers=chain.h("courierA")).json["deliveries"] == []
    waiting = client.get("/api/v1/clerk/deliveries", headers=chain.h("clerkA")).json["deliveries"]
    assert [(d["id"], d["delivery"]["status"], d["delivery"]["cash_collected"]) for d in waiting] == \
        [(oid, "delivered", due)]
    assert client.post(f"/api/v1/clerk/deliveries/{oid}/check-back", headers=chain.h("courierA")).status_code == 403
    r = client.post(f"/api/v1/clerk/deliveries/{oid}/check-back", json={}, headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (422, "cash_required")
    r = client.post(f"/api/v1/clerk/deliveries/{oid}/check-back", json={"cash_counted": due - 100},
                    headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    assert r.json["payment_status"] == "paid"
    assert (r.json["delivery"]["status"], r.json["delivery"]["cash_counted"], r.json["delivery"]["cash_difference"]) == \
        ("settled", due - 100, -100)
    assert "差额 -1.00 元" in get_order(client, chain, oid)["events"][-1]["reason"]
    with app.app_context():
        payment = db.session.execute(select(Payment).where(Payment.order_id == oid)).scalar_one()
        assert (payment.provider, payment.amount) == ("cod_cash", due - 100)
    assert client.get("/api/v1/clerk/deliveries", headers=chain.h("clerkA")).json["deliveries"] == []


def test_a_paid_delivery_signed_for_needs_no_check_back(app, client, deferred):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, deferred)
    assert _ship(client, chain, oid, courier_id=chain.principals["courierA"].id).status_code == 200
    r = client.post(f"/api/v1/courier/deliveries/{oid}/delivered", headers=chain.h("courierA"))
    assert r.status_code == 200 and r.json["delivery"]["status"] == "settled"
    again = client.post(f"/api/v1/courier/deliveries/{oid}/rejected", headers=chain.h("courierA"))
    assert again.status_code == 409
    assert client.get("/api/v1/clerk/deliveries", headers=chain.h("clerkA")).json["deliveries"] == []


def test_the_clerk_delivering_personally_when_no_one_is_named(app, client, deferred):
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, deferred)
    r = _ship(client, chain, oid)
    assert r.status_code == 200 and r.json["delivery"]["courier_name"] == "店员A"
    assert client.get("/api/v1/courier/deliveries", headers=chain.h("courierA")).json["deliveries"] == []
    assert client.post(f"/api/v1/courier/deliveries/{oid}/delivered", headers=chain.h("courierA")).status_code == 403
    assert client.post(f"/api/v1/courier/deliveries/{oid}/delivered", headers=chain.h("clerkA")).status_code == 200


def test_the_members_confirmation_of_receipt_closes_the_delivery_note(app, client, deferred):
    """确认收货 before the courier marks it: the note is signed for (nothing to collect) and leaves the
    courier's round; the courier can no longer record another outcome."""
    chain = build_chain(app)
    oid = _ready_delivery(app, client, chain, deferred)
    assert _ship(client, chain, oid, courier_id=chain.principals["courierA"].id).status_code == 200
    assert [d["id"] for d in client.get("/api/v1/courier/deliveries", headers=chain.h("courierA")).json["deliveries"]] == [oid]
    r = client.post(f"/api/v1/orders/{oid}/confirm-receipt", headers=chain.h("m0"))
    assert r.status_code == 200 and r.json["status"] == "completed"
    with app.app_context():
        note = db.session.execute(select(DeliveryNote).where(DeliveryNote.order_id == oid)).scalar_one()
        assert (note.status, note.cash_collected) == ("settled", None) and note.outcome_at is not None
        db.session.remove()
    assert client.get("/api/v1/courier/deliveries", headers=chain.h("courierA")).json["deliveries"] == []
    assert client.get("/api/v1/clerk/deliveries", headers=chain.h("clerkA")).json["deliveries"] == []  # nothing to check back
    late = client.post(f"/api/v1/courier/deliveries/{oid}/rejected", headers=chain.h("courierA"))
    assert (late.status_code, late.json["error"]["code"]) == (409, "illegal_transition")
