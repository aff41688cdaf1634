"""Placing an order on a fake unit of work: where it goes, what it costs, what it reserves, and what
happens when it cannot be placed (nothing written)."""
import pytest

from app.errors import Conflict, NotFound, OutOfStock
from app.locations.models import WAREHOUSE
from app.orders import placement, state
from app.orders.member_limits import MemberLimits
from app.orders.models import COD, EXPRESS, PICKUP, STORE_DELIVERY, UNPAID

from .fakes import FakeUnitOfWork, location, product

XUHUI = location(1, "徐汇店", areas=[("徐汇区", "天平路街道")], lat=31.19, lng=121.43)
CLOSED = location(2, "停业店", areas=[("徐汇区", "天平路街道")], active=False)
WAREHOUSE_W = location(9, "中心仓", kind=WAREHOUSE)
MILK = product(11, "MILK", unit_price=1590)
CHICKEN = product(12, "CHICKEN", price_per_kg=5980, standard_weight_g=750)
OLD = product(13, "OLD", unit_price=100, active=False)
ADDRESS = {"province": "上海市", "city": "上海市", "district": "徐汇区", "street": "天平路街道"}


def shop(stock=None):
    stock = {(1, 11): 10, (1, 12): 10, (9, 11): 100} if stock is None else stock
    return FakeUnitOfWork(products=[MILK, CHICKEN, OLD], locations=[XUHUI, CLOSED, WAREHOUSE_W], stock=stock)


def place(items, *, fulfilment=PICKUP, store=XUHUI.id, payment="online", key=None, body_hash="h1", limits=None):
    body = {"items": [{"sku": sku, "qty": qty} for sku, qty in items], "fulfilment": fulfilment, "payment": payment}
    if fulfilment == PICKUP:
        body["store_id"] = store
    else:
        body["address"] = ADDRESS
    return placement.place_order(placement.parse_order_request(body), member_id=3, actor="member:3",
                                 idempotency_key=key, fingerprint=body_hash, limits=limits)


def test_a_pickup_order_is_priced_reserved_and_recorded(wired):
    uow = wired(shop())
    order, created = place([("MILK", 2), ("CHICKEN", 1)])
    assert created and (order.location_id, order.fulfilment, order.status) == (XUHUI.id, PICKUP, state.PENDING_PAYMENT)
    assert (order.goods_total, order.delivery_fee, order.total) == (2 * 1590 + 4485, 0, 2 * 1590 + 4485)
    assert [(line.sku, line.qty, line.unit_price, line.standard_weight_g) for line in order.lines] == \
        [("MILK", 2, 1590, None), ("CHICKEN", 1, 4485, 750)]
    assert uow.stock.of(XUHUI.id, MILK.id) == (10, 2) and uow.stock.of(XUHUI.id, CHICKEN.id) == (10, 1)
    assert uow.orders.statuses(order.id) == [(None, state.PENDING_PAYMENT)]
    assert order.expires_at is not None and uow.events("order.new") == []  # the store hears of it once paid
    assert uow.pickup_codes.issued == {}  # nor has the member a pickup code before paying


def test_a_cash_on_delivery_order_goes_straight_to_the_store(wired):
    uow = wired(shop())
    order, _ = place([("MILK", 1)], fulfilment=STORE_DELIVERY, payment=COD)
    assert (order.fulfilment, order.status, order.expires_at) == (STORE_DELIVERY, state.AWAITING_ACCEPTANCE, None)
    assert order.delivery_fee == 500
    (placed,) = uow.orders.history
    assert uow.events("order.new") == [{"order_id": order.id, "location_id": XUHUI.id, "member_id": 3,
                                        "event_id": placed.id, "status": state.AWAITING_ACCEPTANCE,
                                        "payment_status": UNPAID}]


def test_a_pickup_order_paid_at_the_store_gets_its_code_at_once(wired):
    uow = wired(shop())
    order, _ = place([("MILK", 1)], payment="at_store")
    assert (order.status, order.expires_at) == (state.AWAITING_ACCEPTANCE, None)
    assert uow.pickup_codes.issued == {order.id: XUHUI.id}


def test_a_delivery_no_store_can_supply_ships_from_the_warehouse_but_not_cash_on_delivery(wired):
    uow = wired(shop({(1, 11): 1, (9, 11): 100}))
    order, _ = place([("MILK", 3)], fulfilment=STORE_DELIVERY)
    assert (order.location_id, order.fulfilment) == (WAREHOUSE_W.id, EXPRESS)
    with pytest.raises(Conflict) as info:
        place([("MILK", 3)], fulfilment=STORE_DELIVERY, payment=COD)
    assert info.value.code == "cod_not_available"
    assert len(uow.orders.rows) == 1 and uow.stock.of(WAREHOUSE_W.id, MILK.id) == (100, 3)


@pytest.mark.parametrize("store", [CLOSED.id, WAREHOUSE_W.id, 404])
def test_only_an_open_store_takes_pickup_orders(wired, store):
    uow = wired(shop())
    with pytest.raises(NotFound) as info:
        place([("MILK", 1)], store=store)
    assert info.value.code == "store_not_found" and uow.orders.rows == {}


def test_unknown_and_delisted_goods_are_refused_together(wired):
    uow = wired(shop())
    with pytest.raises(NotFound) as info:
        place([("MILK", 1), ("OLD", 1), ("NOPE", 1)])
    assert info.value.details == {"skus": ["OLD", "NOPE"]}
    assert uow.orders.rows == {}


def test_an_order_the_store_cannot_supply_writes_nothing(wired):
    uow = wired(shop())
    with pytest.raises(OutOfStock):
        place([("MILK", 1), ("CHICKEN", 11)])
    assert uow.orders.rows == {} and uow.orders.history == []
    assert uow.stock.of(XUHUI.id, MILK.id) == (10, 0)


def test_a_retry_with_the_same_key_gets_the_first_order(wired):
    uow = wired(shop({(1, 11): 1}))
    first, created = place([("MILK", 1)], key="k1")
    again, created_again = place([("MILK", 1)], key="k1")  # the stock is gone now: still answered
    assert (created, created_again) == (True, False) and again.id == first.id
    assert [line.sku for line in again.lines] == ["MILK"] and len(uow.orders.rows) == 1
    with pytest.raises(Conflict) as info:
        place([("MILK", 1)], key="k1", body_hash="another body")
    assert info.value.code == "idempotency_key_reused"


def test_a_clashing_order_number_is_drawn_again(wired, monkeypatch):
    uow = wired(shop())
    first, _ = place([("MILK", 1)])
    draws = iter([first.number, "2026112200000000099999"])
    monkeypatch.setattr(placement, "_order_number", lambda now: next(draws))
    second, _ = place([("MILK", 1)])
    assert second.number == "2026112200000000099999" and uow.stock.of(XUHUI.id, MILK.id) == (10, 2)


def test_a_member_holds_only_so_many_unpaid_orders_and_units(wired):
    uow = wired(shop())
    limits = MemberLimits(max_orders=2, max_units=5)
    place([("MILK", 2)], limits=limits)
    with pytest.raises(Conflict) as info:
        place([("MILK", 4)], limits=limits)
    assert info.value.code == "too_many_unpaid_units"
    place([("MILK", 3)], limits=limits)
    with pytest.raises(Conflict) as info:
        place([("CHICKEN", 1)], limits=limits)
    assert info.value.code == "too_many_unpaid_orders"
    place([("CHICKEN", 1)], payment="at_store", limits=limits)  # paid at the counter: no unpaid online order
    assert len(uow.orders.rows) == 3
