"""What happens to an order after it is placed: cancel, expiry, store actions, hand-over, delivery outcome.

Each function is one transaction. Stock follows the goods: cancelling or expiring releases the
reservation, handing over or shipping commits it, a rejection at the door restocks it; money paid
for goods that will not be delivered is refunded to its original route.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select

from ..accounts.auth import Principal
from ..clock import utcnow
from ..infra.unit_of_work import unit_of_work
from ..errors import Forbidden, IllegalTransition, NotFound
from ..payments import refunds
from ..pickup import codes as pickup_codes
from ..stock import service as stock
from . import state
from ..ids import is_row_id
from .models import PAID, PICKUP, UNPAID, Order

STORE_STAFF_ROLES = ("clerk", "courier")


def load_order(session, order_id, *, lock: bool = False) -> Order:
    if not is_row_id(order_id):
        raise NotFound("订单不存在", code="order_not_found")
    order = session.get(Order, order_id, with_for_update=lock, populate_existing=lock)
    if order is None:
        raise NotFound("订单不存在", code="order_not_found")
    return order


def check_access(order: Order, who: Principal) -> None:
    """Members see their own orders, store staff their store's, HQ all. Others get 404, not a hint."""
    if who.is_hq:
        return
    if who.is_member and order.member_id == who.id:
        return
    if who.role in STORE_STAFF_ROLES and order.location_id == who.store_id:
        return
    raise NotFound("订单不存在", code="order_not_found")


def cancel(order_id: int, who: Principal, reason: str = "") -> Order:
    with unit_of_work() as uow:
        order = load_order(uow.session, order_id, lock=True)
        check_access(order, who)
        store_has_it = order.status not in (state.PENDING_PAYMENT, state.AWAITING_ACCEPTANCE, *state.TERMINAL)
        if who.is_member and store_has_it:
            raise Forbidden("门店已接单,请联系门店取消", code="cancel_not_allowed")
        _close(uow, order, state.CANCELLED, actor=who.actor, reason=reason or "取消订单")
    return order


def expire_overdue(now=None, limit: int = 200) -> list[int]:
    """Close unpaid online orders whose payment window has passed; returns the ids closed."""
    now = now or utcnow()
    with unit_of_work() as uow:
        due = uow.session.execute(
            select(Order.id).where(Order.status == state.PENDING_PAYMENT, Order.expires_at <= now)
            .order_by(Order.expires_at).limit(limit)
        ).scalars().all()
    closed = []
    for order_id in due:
        with unit_of_work() as uow:
            order = load_order(uow.session, order_id, lock=True)
            # Re-checked under the lock: a payment may have landed since the scan.
            if order.status == state.PENDING_PAYMENT and order.payment_status == UNPAID and order.expires_at <= now:
                _close(uow, order, state.EXPIRED, actor="system", reason="超时未支付,自动关闭")
                closed.append(order_id)
    return closed


def advance(order_id: int, to_status: str, who: Principal, reason: str = "", *,
            only_from: tuple[str, ...] | None = None) -> Order:
    """A store or HQ action that moves the goods along (accept, ready, ship, hand over, delivered).

    `only_from` narrows the graph for actions that mean one specific move (a courier's "delivered"
    must not complete a pickup order)."""
    if to_status in (state.REJECTED, state.CANCELLED, state.EXPIRED):
        raise Forbidden("请使用对应的拒签或取消操作", code="wrong_action")
    with _store_action(order_id, who) as (uow, order):
        if only_from is not None and order.status not in only_from:
            raise IllegalTransition(
                f"订单状态为「{state.LABELS[order.status]}」,不能执行该操作",
                details={"from": order.status, "to": to_status},
            )
        goods_leave = (to_status == state.SHIPPED) or (to_status == state.COMPLETED and order.status == state.READY_FOR_PICKUP)
        event = state.transition(uow.connection, order, to_status, actor=who.actor, reason=reason)
        if goods_leave:
            stock.commit(uow.connection, order.location_id, _lines(order))
        _announce(uow, order, event.id)
    return order


def mark_ready(order_id: int, who: Principal, reason: str = "") -> Order:
    """Goods picked and packed: 待提货 for a pickup order, 待发货 for a delivery."""
    with _store_action(order_id, who) as (uow, order):
        to_status = state.READY_FOR_PICKUP if order.fulfilment == PICKUP else state.READY_TO_SHIP
        event = state.transition(uow.connection, order, to_status, actor=who.actor, reason=reason)
        _announce(uow, order, event.id)
    return order


def confirm_receipt(order_id: int, who: Principal) -> Order:
    """确认收货: the member says a shipped, paid delivery arrived. Cash on delivery is the courier's to
    close (the cash must be collected first)."""
    with unit_of_work() as uow:
        order = load_order(uow.session, order_id, lock=True)
        if not (who.is_member and order.member_id == who.id):
            raise NotFound("订单不存在", code="order_not_found")
        if order.fulfilment == PICKUP or order.status != state.SHIPPED:
            raise IllegalTransition(f"订单状态为「{state.LABELS[order.status]}」,不能确认收货",
                                    details={"from": order.status, "to": state.COMPLETED})
        if order.payment_status != PAID:
            raise Forbidden("货到付款订单由配送员收款后完成", code="cod_confirm_by_courier")
        event = state.transition(uow.connection, order, state.COMPLETED, actor=who.actor, reason="会员确认收货")
        _announce(uow, order, event.id)
    return order


@contextmanager
def _store_action(order_id: int, who: Principal):
    """One store-staff action: the order locked and checked against the caller's store. The action
    announces the new status with the history entry it wrote."""
    with unit_of_work() as uow:
        order = load_order(uow.session, order_id, lock=True)
        _check_staff(order, who)
        yield uow, order


def _close(uow, order: Order, to_status: str, *, actor: str, reason: str) -> None:
    held = order.status in state.HOLDS_RESERVATION
    event = state.transition(uow.connection, order, to_status, actor=actor, reason=reason)
    if held:
        stock.release(uow.connection, order.location_id, _lines(order))
    order.expires_at = None
    pickup_codes.void(uow.connection, order.id)
    if order.payment_status == PAID:
        reason = f"{state.LABELS[to_status]}退款"
        if any(line.handed_over_qty for line in order.lines):  # partly collected: refund what stays behind
            refunds.refund_up_to(uow, order, _remaining_value(order), actor=actor, reason=reason)
        else:
            refunds.refund_order_in_full(uow, order, actor=actor, reason=reason)
    _announce(uow, order, event.id)


def close(uow, order: Order, to_status: str, *, actor: str, reason: str) -> None:
    """Close an order inside the caller's unit of work (a job's cancellation): stock released, code
    voided, money for goods not handed over refunded, the new status announced."""
    _close(uow, order, to_status, actor=actor, reason=reason)


def _remaining_value(order: Order) -> int:
    return sum(line.unit_price * (line.qty - line.handed_over_qty) for line in order.lines)


def _check_staff(order: Order, who: Principal) -> None:
    if who.is_member:
        raise Forbidden("会员不能执行门店操作", code="forbidden_role")
    check_access(order, who)


def _lines(order: Order) -> list[tuple[int, int]]:
    """The units still at the store (a partial pickup already took the rest)."""
    return [(line.product_id, line.qty - line.handed_over_qty) for line in order.lines
            if line.qty > line.handed_over_qty]


def _announce(uow, order: Order, event_id: int) -> None:
    uow.publish("order.status", order_id=order.id, status=order.status, location_id=order.location_id,
                member_id=order.member_id, payment_status=order.payment_status, event_id=event_id)

