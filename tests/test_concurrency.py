"""Races: many buyers, one shelf. Stock must never oversell, on SQLite and on PostgreSQL."""
from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.orders.models import Order, OrderEvent

from .conftest import token_for
from .factories import build_chain, stock_row
from .helpers import confirm_payment, pay_url, place, race

BUYERS = 100


def test_100_buyers_race_for_20_units(app):
    chain = build_chain(app, stock={("A", "MILK"): 20}, members=BUYERS)

    def buy(i):
        client = app.test_client()
        return place(client, chain, who=f"m{i}", items=[("MILK", 1)]).status_code

    outcomes = Counter(race(BUYERS, buy))
    assert outcomes == {201: 20, 409: 80}
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (20, 20)  # available 0
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 20


def test_buyers_of_several_units_never_take_available_below_zero(app):
    """Mixed quantities on two lines: reservations add up to at most what is on hand, per SKU."""
    chain = build_chain(app, stock={("A", "MILK"): 30, ("A", "RICE"): 25}, members=60)

    def buy(i):
        client = app.test_client()
        items = [("MILK", 1 + i % 3), ("RICE", 1 + i % 2)] if i % 2 else [("RICE", 2), ("MILK", 1)]
        return place(client, chain, who=f"m{i}", items=items)

    responses = race(60, buy)
    placed = [r.json for r in responses if r.status_code == 201]
    assert all(r.status_code in (201, 409) for r in responses)
    for sku, on_hand in (("MILK", 30), ("RICE", 25)):
        reserved = sum(line["qty"] for o in placed for line in o["lines"] if line["sku"] == sku)
        assert stock_row(app, chain.stores["A"], chain.products[sku]) == (on_hand, reserved)
        assert reserved <= on_hand


def test_concurrent_retries_with_one_idempotency_key_make_one_order(app):
    chain = build_chain(app)

    def retry(_):
        client = app.test_client()
        return place(client, chain, items=[("MILK", 2)], headers={"Idempotency-Key": "tap-once-123"})

    responses = race(20, retry)
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json["id"] for r in responses}) == 1
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)
    with app.app_context():
        assert db.session.execute(
            select(func.count()).select_from(Order).where(Order.idempotency_key == "tap-once-123")).scalar_one() == 1


def test_repeated_notifications_delivered_concurrently_apply_once(app, client, deferred):
    chain = build_chain(app)
    order_id = place(client, chain).json["id"]
    assert confirm_payment(client, pay_url(client, chain, order_id)).status_code == 200
    (fn, args), = deferred.calls
    provider = fn.__self__
    with app.app_context():
        from app.payments.sandbox import SandboxTransaction

        txn = db.session.get(SandboxTransaction, args[0])
        body, headers = provider.notification_for(txn)
        db.session.remove()

    def notify(_):
        return app.test_client().post("/api/v1/payments/sandbox/notify", data=body, headers=headers).json["outcome"]

    outcomes = Counter(race(20, notify))
    assert outcomes == {"paid": 1, "duplicate": 19}
    with app.app_context():
        kinds = db.session.execute(
            select(OrderEvent.to_status).where(OrderEvent.order_id == order_id)
        ).scalars().all()
    assert kinds.count("awaiting_acceptance") == 1


def test_cancel_racing_the_payment_notification_never_loses_money_or_stock(app, client, deferred):
    """Whichever lands first, the end state is consistent: paid and open, or cancelled and refunded."""
    chain = build_chain(app, stock={("A", "MILK"): 5})
    order_id = place(client, chain, items=[("MILK", 5)]).json["id"]
    assert confirm_payment(client, pay_url(client, chain, order_id)).status_code == 200

    def act(i):
        if i == 0:
            return deferred.run_all(app)
        return app.test_client().post(f"/api/v1/orders/{order_id}/cancel", headers=chain.h("m0")).status_code

    race(2, act)
    with app.app_context():
        order = db.session.get(Order, order_id)
        status, payment_status = order.status, order.payment_status
        db.session.remove()
    on_hand, reserved = stock_row(app, chain.stores["A"], chain.products["MILK"])
    assert on_hand == 5
    # A paid order may still be cancelled before the store accepts it; then it must be refunded.
    assert (status, payment_status, reserved) in {
        ("awaiting_acceptance", "paid", 5),
        ("cancelled", "refunded", 0),
    }


def test_hq_count_racing_orders_keeps_on_hand_at_or_above_reserved(app):
    chain = build_chain(app, stock={("A", "MILK"): 10}, members=30)
    hq = token_for(app, chain.principals["hq"])

    def act(i):
        client = app.test_client()
        if i % 10 == 0:
            return client.post("/api/v1/hq/stock", json={"location_id": chain.stores["A"], "sku": "MILK", "on_hand": 5},
                               headers={"Authorization": f"Bearer {hq}"}).status_code
        return place(client, chain, who=f"m{i}", items=[("MILK", 1)]).status_code

    results = race(30, act)
    assert set(results) <= {200, 201, 409}
    on_hand, reserved = stock_row(app, chain.stores["A"], chain.products["MILK"])
    assert 0 <= reserved <= on_hand
    assert reserved == results.count(201)
