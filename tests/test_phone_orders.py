"""Phone orders (400 客服): HQ places an order for a caller, found by mobile number, in the one order centre."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.orders.models import Order

from .factories import ADDR_TIANPING, build_chain, stock_row
from .helpers import get_order


@pytest.fixture
def chain(app):
    return build_chain(app)


def _phone_order(client, chain, caller="13912345678", who="hq", **body):
    body = {"items": [{"sku": "MILK", "qty": 2}], "fulfilment": "store_delivery", "address": ADDR_TIANPING,
            "payment": "cod", "caller_phone": caller, **body}
    return client.post("/api/v1/hq/orders", json=body, headers=chain.h(who))


def _orders(app) -> int:
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(Order)).scalar_one()
        db.session.remove()
        return count


def test_a_caller_who_is_no_member_orders_cash_on_delivery_and_the_store_gets_it(app, client, chain):
    r = _phone_order(client, chain, contact_name="王先生")
    assert r.status_code == 201, r.json
    order = r.json
    assert (order["channel"], order["status"], order["payment_method"]) == ("phone", "awaiting_acceptance", "cod")
    assert (order["contact_phone"], order["contact_name"], r.json["caller_is_member"]) == ("13912345678", "王先生", False)
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)  # reserved at the routed store
    queue = client.get("/api/v1/clerk/orders", headers=chain.h("clerkA")).json["orders"]
    assert order["id"] in [o["id"] for o in queue]
    history = client.get(f"/api/v1/orders/{order['id']}", headers=chain.h("hq")).json["events"]
    assert history[0]["actor"] == f"hq:{chain.principals['hq'].id}"


def test_a_members_phone_order_is_theirs_and_an_online_one_waits_for_them_to_pay(app, client, chain):
    r = _phone_order(client, chain, caller="13800000000", fulfilment="pickup", store_id=chain.stores["A"],
                     payment="online", address=None)
    assert r.status_code == 201, r.json
    assert (r.json["status"], r.json["caller_is_member"]) == ("pending_payment", True)
    mine = client.get("/api/v1/orders", headers=chain.h("m0")).json["orders"]
    assert [o["id"] for o in mine] == [r.json["id"]]
    assert get_order(client, chain, r.json["id"])["channel"] == "phone"
    assert client.post(f"/api/v1/orders/{r.json['id']}/pay", headers=chain.h("m0")).status_code == 200
    # Another member does not see it.
    assert client.get(f"/api/v1/orders/{r.json['id']}", headers=chain.h("m1")).status_code in (403, 404)


def test_online_payment_needs_a_member_and_nothing_is_written(app, client, chain):
    r = _phone_order(client, chain, payment="online")
    assert (r.status_code, r.json["error"]["code"]) == (422, "payment_needs_member")
    assert _orders(app) == 0
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 0)


@pytest.mark.parametrize("caller", [None, "", "12345", "139123456789", 13912345678])
def test_the_caller_needs_a_mobile_number(client, chain, caller):
    r = _phone_order(client, chain, caller=caller)
    assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_phone")


def test_only_hq_takes_phone_orders(client, chain):
    for who in ("m0", "clerkA", "courierA"):
        assert _phone_order(client, chain, who=who).status_code == 403
    assert client.post("/api/v1/hq/orders", json={"caller_phone": "13912345678"}).status_code == 401


def test_a_phone_order_is_refused_like_any_other_when_stock_runs_short(app, client, chain):
    r = _phone_order(client, chain, fulfilment="pickup", store_id=chain.stores["A"], payment="at_store", address=None,
                     items=[{"sku": "MILK", "qty": 51}])
    assert (r.status_code, r.json["error"]["code"]) == (409, "out_of_stock"), r.json
    r = _phone_order(client, chain, items=[{"sku": "MILK", "qty": 999}])  # cash on delivery: nowhere has it
    assert (r.status_code, r.json["error"]["code"]) == (409, "out_of_stock"), r.json
    assert _orders(app) == 0
