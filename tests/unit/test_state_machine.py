"""The order state machine on a fake unit of work: every legal move allowed and recorded, every other
move refused with nothing written; the lifecycle's stock and refund consequences."""
import itertools
from datetime import datetime, timedelta

import pytest

from app.accounts.auth import Principal
from app.errors import Conflict, IllegalTransition
from app.orders import lifecycle, state
from app.orders.models import FULFILMENTS, PAID, PICKUP, REFUNDED, STORE_DELIVERY, UNPAID
from app.orders.records import OrderLineRecord, OrderRecord

from .fakes import FakeUnitOfWork

ALL_STATUSES = list(state.TRANSITIONS)
LEGAL = {
    (state.PENDING_PAYMENT, state.AWAITING_ACCEPTANCE, f) for f in FULFILMENTS
} | {(state.PENDING_PAYMENT, state.CANCELLED, f) for f in FULFILMENTS} | {
    (state.PENDING_PAYMENT, state.EXPIRED, f) for f in FULFILMENTS
} | {(state.AWAITING_ACCEPTANCE, state.ACCEPTED, f) for f in FULFILMENTS} | {
    (state.AWAITING_ACCEPTANCE, state.CANCELLED, f) for f in FULFILMENTS
} | {(state.ACCEPTED, state.CANCELLED, f) for f in FULFILMENTS} | {
    (state.ACCEPTED, state.READY_FOR_PICKUP, "pickup"),
    (state.ACCEPTED, state.READY_TO_SHIP, "store_delivery"),
    (state.ACCEPTED, state.READY_TO_SHIP, "express"),
    (state.READY_FOR_PICKUP, state.COMPLETED, "pickup"),
    (state.READY_FOR_PICKUP, state.CANCELLED, "pickup"),
    (state.READY_TO_SHIP, state.SHIPPED, "store_delivery"),
    (state.READY_TO_SHIP, state.SHIPPED, "express"),
    (state.READY_TO_SHIP, state.CANCELLED, "store_delivery"),
    (state.READY_TO_SHIP, state.CANCELLED, "express"),
    (state.SHIPPED, state.COMPLETED, "store_delivery"),
    (state.SHIPPED, state.COMPLETED, "express"),
    (state.SHIPPED, state.REJECTED, "store_delivery"),
    (state.SHIPPED, state.REJECTED, "express"),
}
STORE, MILK = 1, 11
CLERK = Principal("staff", 7, "clerk", STORE, "店员")
MEMBER = Principal("member", 3, "member", None, "会员")
T0 = datetime(2026, 11, 22, 8, 0, 0)


def an_order(uow, *, status, fulfilment=PICKUP, payment_status=UNPAID, qty=2, expires_at=None,
             channel="mall") -> OrderRecord:
    """An order stored in the fake, holding `qty` MILK reserved at STORE as its status implies."""
    order_id = len(uow.orders.rows) + 1
    line = OrderLineRecord(order_id * 10, order_id, MILK, "MILK", "鲜牛奶", qty, 1590, 1590 * qty, None, 0)
    order = OrderRecord(order_id, f"N{order_id}", MEMBER.id, channel, fulfilment, STORE, "online", payment_status,
                        status, "", None, "", "", "", 1590 * qty, 0, 1590 * qty, T0, T0, expires_at, None, None,
                        (line,))
    uow.orders.rows[order_id] = order
    uow.stock.rows.setdefault((STORE, MILK), [50, 0])
    if status in state.HOLDS_RESERVATION:
        uow.stock.rows[(STORE, MILK)][1] += qty
    return order


@pytest.mark.parametrize("from_status,to_status,fulfilment", list(itertools.product(ALL_STATUSES, ALL_STATUSES, FULFILMENTS)))
def test_every_transition_is_allowed_exactly_when_legal(from_status, to_status, fulfilment):
    uow = FakeUnitOfWork()
    order = an_order(uow, status=from_status, fulfilment=fulfilment)
    if (from_status, to_status, fulfilment) in LEGAL:
        moved, entry = state.transition(uow, order, to_status, actor="test", reason="why")
        assert moved.status == uow.orders.rows[order.id].status == to_status
        assert uow.orders.history == [entry]
        assert (entry.order_id, entry.from_status, entry.to_status, entry.actor, entry.reason) == \
            (order.id, from_status, to_status, "test", "why")
    else:
        with pytest.raises(IllegalTransition) as info:
            state.transition(uow, order, to_status, actor="test")
        assert info.value.code == "illegal_transition"
        assert uow.orders.rows[order.id].status == from_status
        assert uow.orders.history == []


def test_a_platform_order_s_every_move_is_handed_to_the_write_back_port_and_others_are_not():
    uow = FakeUnitOfWork()
    platform_order = an_order(uow, status=state.AWAITING_ACCEPTANCE, fulfilment=STORE_DELIVERY, channel="platform")
    mall_order = an_order(uow, status=state.AWAITING_ACCEPTANCE, fulfilment=STORE_DELIVERY)
    _, entry = state.transition(uow, platform_order, state.ACCEPTED, actor="test")
    state.transition(uow, mall_order, state.ACCEPTED, actor="test")
    with pytest.raises(IllegalTransition):
        state.transition(uow, uow.orders.rows[platform_order.id], state.COMPLETED, actor="test")
    assert uow.channel_writeback.changes == [(platform_order.id, state.ACCEPTED, entry.id)]


def test_terminal_statuses_have_no_way_out():
    assert state.TERMINAL == {state.COMPLETED, state.REJECTED, state.CANCELLED, state.EXPIRED}


def test_a_move_on_a_status_changed_since_it_was_read_is_refused():
    uow = FakeUnitOfWork()
    order = an_order(uow, status=state.AWAITING_ACCEPTANCE)
    state.transition(uow, order, state.ACCEPTED, actor="a")
    with pytest.raises(Conflict):
        state.transition(uow, order, state.CANCELLED, actor="b")  # `order` is the stale read
    assert uow.orders.rows[order.id].status == state.ACCEPTED


def test_payment_moves_an_unpaid_order_once(wired):
    uow = wired(FakeUnitOfWork())
    order = an_order(uow, status=state.PENDING_PAYMENT, expires_at=T0 + timedelta(minutes=15))
    assert lifecycle.mark_paid(uow, order.id, actor="provider:x", reason="支付成功") is True
    paid = uow.orders.rows[order.id]
    assert (paid.status, paid.payment_status, paid.expires_at) == (state.AWAITING_ACCEPTANCE, PAID, None)
    assert lifecycle.mark_paid(uow, order.id, actor="provider:x", reason="again") is False
    assert uow.orders.statuses(order.id) == [(state.PENDING_PAYMENT, state.AWAITING_ACCEPTANCE)]
    assert uow.pickup_codes.issued == {order.id: STORE}  # a paid pickup order gets its code


def test_a_closed_pickup_order_voids_its_code(wired):
    uow = wired(FakeUnitOfWork())
    order = an_order(uow, status=state.AWAITING_ACCEPTANCE, payment_status=PAID)
    uow.pickup_codes.issued[order.id] = STORE
    lifecycle.cancel(order.id, MEMBER)
    assert uow.pickup_codes.voided == [order.id]


def test_cancelling_a_paid_order_releases_its_stock_and_refunds_it(wired):
    uow = wired(FakeUnitOfWork())
    order = an_order(uow, status=state.AWAITING_ACCEPTANCE, payment_status=PAID, qty=3)
    uow.refunds.paid[order.id] = order.total
    cancelled = lifecycle.cancel(order.id, MEMBER, "不要了")
    assert (cancelled.status, cancelled.payment_status) == (state.CANCELLED, REFUNDED)
    assert uow.stock.of(STORE, MILK) == (50, 0)
    assert uow.refunds.requests == [(order.id, order.total, "已取消退款")]
    assert [e.kind for e in uow.orders.history] == ["status", "refund"]
    assert uow.events("order.status")[-1]["payment_status"] == REFUNDED


def test_a_member_cannot_cancel_once_the_store_has_the_goods(wired):
    uow = wired(FakeUnitOfWork())
    order = an_order(uow, status=state.READY_FOR_PICKUP)
    with pytest.raises(Exception) as info:
        lifecycle.cancel(order.id, MEMBER)
    assert info.value.code == "cancel_not_allowed"
    assert uow.orders.rows[order.id].status == state.READY_FOR_PICKUP and uow.published == []


def test_handing_over_a_pickup_order_takes_its_units_out_of_stock(wired):
    uow = wired(FakeUnitOfWork())
    order = an_order(uow, status=state.READY_FOR_PICKUP, qty=2)
    completed = lifecycle.advance(order.id, state.COMPLETED, CLERK, "提货码核销")
    assert completed.status == state.COMPLETED
    assert uow.stock.of(STORE, MILK) == (48, 0)


def test_a_failing_step_leaves_nothing_written(wired):
    uow = wired(FakeUnitOfWork())
    order = an_order(uow, status=state.READY_FOR_PICKUP, qty=2)
    uow.stock.rows[(STORE, MILK)] = [50, 0]  # the reservation is missing: handing over must fail
    with pytest.raises(Conflict) as info:
        lifecycle.advance(order.id, state.COMPLETED, CLERK)
    assert info.value.code == "stock_inconsistent"
    assert uow.orders.rows[order.id].status == state.READY_FOR_PICKUP and uow.orders.history == []


def test_overdue_unpaid_orders_expire_and_release_their_stock(wired):
    uow = wired(FakeUnitOfWork())
    due = an_order(uow, status=state.PENDING_PAYMENT, expires_at=T0)
    later = an_order(uow, status=state.PENDING_PAYMENT, expires_at=T0 + timedelta(hours=1))
    assert lifecycle.expire_overdue(now=T0 + timedelta(seconds=1)) == [due.id]
    assert uow.orders.rows[due.id].status == state.EXPIRED and uow.orders.rows[due.id].expires_at is None
    assert uow.orders.rows[later.id].status == state.PENDING_PAYMENT
    assert uow.stock.of(STORE, MILK) == (50, later.lines[0].qty)


@pytest.mark.parametrize("status, to, fulfilment", [(state.READY_FOR_PICKUP, state.COMPLETED, PICKUP),
                                                    (state.READY_TO_SHIP, state.SHIPPED, STORE_DELIVERY)])
def test_goods_wait_for_every_weighed_line_to_be_settled(wired, status, to, fulfilment):
    uow = wired(FakeUnitOfWork())
    order = an_order(uow, status=status, fulfilment=fulfilment, qty=2)
    uow.weighings.unsettled[order.id] = 1  # re-weighed, its difference not settled yet (多退少补)
    with pytest.raises(Conflict) as info:
        lifecycle.advance(order.id, to, CLERK)
    assert info.value.code == "weighing_unsettled"
    assert uow.orders.rows[order.id].status == status and uow.stock.of(STORE, MILK) == (50, 2)
    uow.weighings.unsettled[order.id] = 0
    assert lifecycle.advance(order.id, to, CLERK).status == to
