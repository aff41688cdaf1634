"""The order flows over the API, on both databases. (Every move of the state machine, legal or not, is
tested without a database in tests/unit/test_state_machine.py.)"""
import pytest

from app.orders import state

from .factories import build_chain, stock_row
from .helpers import get_order, pay, place


def _statuses(client, chain, order_id, who="m0"):
    return [(e["from"], e["to"]) for e in get_order(client, chain, order_id, who)["events"] if e["to"]]


def test_pickup_flow_commits_stock_at_hand_over(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("MILK", 3)]).json["id"]
    pay(app, client, chain, oid, deferred)
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 3)
    from app.orders.lifecycle import advance

    with app.app_context():
        advance(oid, state.COMPLETED, chain.principals["clerkA"], "提货码核销")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (47, 0)
    assert _statuses(client, chain, oid) == [
        (None, "pending_payment"), ("pending_payment", "awaiting_acceptance"), ("awaiting_acceptance", "accepted"),
        ("accepted", "ready_for_pickup"), ("ready_for_pickup", "completed"),
    ]


def test_store_delivery_flow_ship_then_deliver(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("RICE", 1)], fulfilment="store_delivery", store=None).json["id"]
    order = get_order(client, chain, oid)
    store = order["location_id"]
    clerk = "clerkA" if store == chain.stores["A"] else "clerkB"
    pay(app, client, chain, oid, deferred)
    for action in ("accept", "ready"):
        r = client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h(clerk))
        assert r.status_code == 200, r.json
    courier = {"courier_id": chain.principals["courierA"].id} if clerk == "clerkA" else {}
    r = client.post(f"/api/v1/clerk/orders/{oid}/ship", json=courier, headers=chain.h(clerk))
    assert r.status_code == 200, r.json
    assert r.json["status"] == "shipped"
    assert stock_row(app, store, chain.products["RICE"]) == (49, 0)
    if clerk == "clerkA":
        r = client.post(f"/api/v1/courier/deliveries/{oid}/delivered", headers=chain.h("courierA"))
    else:
        r = client.post(f"/api/v1/courier/deliveries/{oid}/delivered", headers=chain.h("clerkB"))
    assert r.status_code == 200 and r.json["status"] == "completed"


def test_rejected_paid_delivery_is_restocked_and_refunded_when_checked_back_in(app, client, deferred):
    chain = build_chain(app, stock={("A", "MILK"): 10})
    oid = place(client, chain, items=[("MILK", 2)], fulfilment="store_delivery", store=None,
                address={"province": "上海市", "city": "上海市", "district": "徐汇区", "street": "徐家汇街道"}).json["id"]
    pay(app, client, chain, oid, deferred)
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200
    assert _ship_to_courier(client, chain, oid).status_code == 200
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (8, 0)
    r = client.post(f"/api/v1/courier/deliveries/{oid}/rejected", json={"reason": "客户不在家"}, headers=chain.h("courierA"))
    assert r.status_code == 200, r.json
    # The goods are on their way back: nothing restocked or refunded yet.
    assert (r.json["status"], r.json["payment_status"]) == ("rejected", "paid")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (8, 0)
    r = client.post(f"/api/v1/clerk/deliveries/{oid}/check-back", headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["payment_status"]) == ("rejected", "refunded")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (10, 0)
    kinds = [e["kind"] for e in get_order(client, chain, oid)["events"]]
    assert "returned" in kinds and "refund" in kinds
    again = client.post(f"/api/v1/clerk/deliveries/{oid}/check-back", headers=chain.h("clerkA"))
    assert (again.status_code, again.json["error"]["code"]) == (409, "nothing_to_check_back")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (10, 0)


def test_rejected_cod_delivery_only_restocks_when_checked_back_in(app, client):
    chain = build_chain(app, stock={("A", "MILK"): 10})
    r = place(client, chain, items=[("MILK", 2)], fulfilment="store_delivery", store=None, payment="cod",
              address={"province": "上海市", "city": "上海市", "district": "徐汇区", "street": "徐家汇街道"})
    assert r.status_code == 201 and r.json["status"] == "awaiting_acceptance"
    oid = r.json["id"]
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200
    assert _ship_to_courier(client, chain, oid).status_code == 200
    r = client.post(f"/api/v1/courier/deliveries/{oid}/rejected", headers=chain.h("courierA"))
    assert (r.json["status"], r.json["payment_status"]) == ("rejected", "unpaid")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (8, 0)
    r = client.post(f"/api/v1/clerk/deliveries/{oid}/check-back", headers=chain.h("clerkA"))
    assert (r.json["status"], r.json["payment_status"]) == ("rejected", "unpaid")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (10, 0)


def _ship_to_courier(client, chain, oid):
    return client.post(f"/api/v1/clerk/orders/{oid}/ship", json={"courier_id": chain.principals["courierA"].id},
                       headers=chain.h("clerkA"))


def test_illegal_actions_over_the_api_are_refused_and_change_nothing(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    # Unpaid: the store cannot accept it yet.
    r = client.post(f"/api/v1/clerk/orders/{oid}/accept", headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
    pay(app, client, chain, oid, deferred)
    # Shipping a pickup order, and "delivered" on a pickup order, are both wrong.
    assert client.post(f"/api/v1/clerk/orders/{oid}/accept", headers=chain.h("clerkA")).status_code == 200
    r = client.post(f"/api/v1/clerk/orders/{oid}/ship", headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
    assert client.post(f"/api/v1/clerk/orders/{oid}/ready", headers=chain.h("clerkA")).status_code == 200
    r = client.post(f"/api/v1/courier/deliveries/{oid}/delivered", headers=chain.h("courierA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
    # The member can no longer cancel once the store has the goods ready.
    r = client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (403, "cancel_not_allowed")
    assert get_order(client, chain, oid)["status"] == "ready_for_pickup"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 1)


def test_cancel_unpaid_releases_and_cancel_twice_is_refused(app, client):
    chain = build_chain(app)
    oid = place(client, chain, items=[("MILK", 4)]).json["id"]
    r = client.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "不想要了"}, headers=chain.h("m0"))
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 0)
    r = client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 0)


def test_order_history_is_append_only_in_the_database(app, client):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from app.extensions import db

    chain = build_chain(app)
    place(client, chain)
    with app.app_context():
        for statement in ("UPDATE order_events SET reason = 'forged'", "DELETE FROM order_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.execute(text("select count(*) from order_events")).scalar_one() == 1
