"""Stock rules on fake stock rows: all or nothing per order, counts never below what is reserved."""
import pytest

from app.errors import Conflict, OutOfStock, ValidationFailed
from app.stock import service as stock

from .fakes import FakeUnitOfWork

STORE, MILK, RICE = 1, 11, 12


def test_an_order_is_reserved_whole_or_not_at_all():
    uow = FakeUnitOfWork(stock={(STORE, MILK): 5, (STORE, RICE): 1})
    with pytest.raises(OutOfStock) as info, uow:
        stock.reserve(uow, STORE, [(RICE, 2), (MILK, 3)])
    assert info.value.details == {"location_id": STORE, "product_id": RICE, "qty": 2}
    assert (uow.stock.of(STORE, MILK), uow.stock.of(STORE, RICE)) == ((5, 0), (1, 0))
    with uow:
        stock.reserve(uow, STORE, [(RICE, 1), (MILK, 3)])
    assert (uow.stock.of(STORE, MILK), uow.stock.of(STORE, RICE)) == ((5, 3), (1, 1))


def test_goods_handed_over_leave_on_hand_and_reserved_released_return_to_available():
    uow = FakeUnitOfWork(stock={(STORE, MILK): 5})
    stock.reserve(uow, STORE, [(MILK, 3)])
    stock.hand_over(uow, STORE, [(MILK, 2)])
    stock.release(uow, STORE, [(MILK, 1)])
    assert uow.stock.of(STORE, MILK) == (3, 0)
    with pytest.raises(Conflict) as info:
        stock.release(uow, STORE, [(MILK, 1)])  # nothing reserved any more
    assert info.value.code == "stock_inconsistent"


def test_goods_coming_back_to_a_location_without_a_row_create_it():
    uow = FakeUnitOfWork()
    stock.restock(uow, STORE, [(MILK, 2)])
    assert uow.stock.of(STORE, MILK) == (2, 0)


def test_hq_counts_never_go_below_what_orders_reserve():
    uow = FakeUnitOfWork(stock={(STORE, MILK): 5})
    stock.reserve(uow, STORE, [(MILK, 3)])
    assert stock.set_on_hand(uow, STORE, MILK, 4).available == 1
    with pytest.raises(Conflict) as info:
        stock.set_on_hand(uow, STORE, MILK, 2)
    assert info.value.code == "on_hand_below_reserved"
    with pytest.raises(Conflict):
        stock.adjust_on_hand(uow, STORE, MILK, -2)
    assert stock.adjust_on_hand(uow, STORE, MILK, -1).on_hand == 3
    assert stock.set_on_hand(uow, STORE, RICE, 7).on_hand == 7  # a first count creates the row
    with pytest.raises(ValidationFailed):
        stock.set_on_hand(uow, STORE, MILK, -1)
