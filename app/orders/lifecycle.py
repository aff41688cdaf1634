"""What happens to an order after it is placed: payment, cancel, expiry, store actions, hand-over,
delivery outcome.

Each public function is one transaction (or a step inside the caller's: mark_paid, late_payment).
Stock follows the goods: cancelling or expiring releases the reservation, handing over or shipping
hands it over, a rejection at the door restocks it; money paid for goods that will not be delivered
is refunded to its original route through the unit of work's refund port (`uow.refunds`, which the
payments package provides: orders never import payments); a pickup order's code is issued and voided
through the pickup-code port (`uow.pickup_codes`, provided by the pickup package).

Every announcement of a new status carries the id of the history entry that recorded it (`event_id`),
after which a reconnecting client catches up.
"""
from __future__ import annotations

from contextlib import contextmanager

from ..accounts.auth import Principal
from ..clock import utcnow
from ..errors import Conflict, Forbidden, IllegalTransition, NotFound
from ..ids import is_row_id
from ..infra.unit_of_work import unit_of_work
from ..stock import service as stock
from . import state
from .models import PAID, PARTIALLY_REFUNDED, PICKUP, PLATFORM_COLLECTED, REFUNDED, UNPAID
from .records import HistoryEntry, OrderRecord

STORE_STAFF_ROLES = ("clerk", "courier")
# Payment moves an order 待支付 → 待接单 for the fulfilments the state graph allows it for (all of them).
_PAID_MOVE = (state.PENDING_PAYMENT, state.AWAITING_ACCEPTANCE)
_PAYABLE_FULFILMENTS = state.legal_fulfilments(*_PAID_MOVE)


def load_order(uow, order_id, *, with_lines: bool = True) -> OrderRecord:
    """The order (with its lines unless told otherwise), locked for the rest of the unit of work; 404
    when there is none."""
    order = uow.orders.lock(order_id, with_lines=with_lines) if is_row_id(order_id) else None
    if order is None:
        raise NotFound("订单不存在", code="order_not_found")
    return order


def check_access(order, who: Principal) -> None:
    """Members see their own orders, store staff their store's, HQ all. Others get 404, not a hint."""
    if who.is_hq:
        return
    if who.is_member and order.member_id == who.id:
        return
    if who.role in STORE_STAFF_ROLES and order.location_id == who.store_id:
        return
    raise NotFound("订单不存在", code="order_not_found")


def mark_paid(uow, order_id: int, *, actor: str, reason: str) -> bool:
    """The order's payment succeeded (a step of the caller's unit of work): 待支付 → 待接单 and paid, if
    the order still awaits its payment; False if it does not (closed, or paid already). The graph is
    checked before the compare-and-set, which then decides between concurrent notifications. A paid
    pickup order gets its pickup code."""
    now = utcnow()
    paid = uow.orders.mark_paid(order_id, *_PAID_MOVE, _PAYABLE_FULFILMENTS, now)
    if paid is None:
        return False
    entry = state.record(uow, order_id, actor=actor, kind="status", from_status=state.PENDING_PAYMENT,
                         to_status=state.AWAITING_ACCEPTANCE, reason=reason, at=now)
    if paid.fulfilment == PICKUP:
        uow.pickup_codes.issue(order_id, paid.location_id, now)
    common = dict(order_id=order_id, location_id=paid.location_id, member_id=paid.member_id, event_id=entry.id,
                  status=state.AWAITING_ACCEPTANCE, payment_status=PAID)
    uow.publish("order.new", **common)
    uow.publish("order.status", **common)
    return True


def paid_at_counter(uow, order: OrderRecord, *, actor: str, reason: str) -> OrderRecord:
    """A pay-at-store order (到店付款) was paid at the counter (a step of the caller's unit of work; the
    payments package records the payment itself)."""
    paid = order._replace(payment_status=PAID)
    state.save(uow, order, paid)
    state.record(uow, order.id, actor=actor, kind="payment", reason=reason)
    return paid


def late_payment(uow, order_id: int, *, actor: str) -> OrderRecord:
    """Money arrived for an order that no longer awaits it (closed, or paid already): noted in its
    history; an unpaid order is marked refunded, as the payments package sends the money straight back
    (a step of the caller's unit of work)."""
    order = load_order(uow, order_id)
    if _overdue(order, utcnow()):  # not swept yet: it expires now, its stock goes back
        order = _close(uow, order, state.EXPIRED, actor="system", reason="超时未支付,自动关闭")
    state.record(uow, order.id, actor=actor, kind="late_payment",
                 reason=f"订单已是「{state.LABELS[order.status]}」时收到付款,原路退回")
    if order.payment_status != UNPAID:
        return order
    refunded = order._replace(payment_status=REFUNDED)
    state.save(uow, order, refunded)
    return refunded


def cancel(order_id: int, who: Principal, reason: str = "") -> OrderRecord:
    with unit_of_work() as uow:
        order = load_order(uow, order_id)
        check_access(order, who)
        store_has_it = order.status not in (state.PENDING_PAYMENT, state.AWAITING_ACCEPTANCE, *state.TERMINAL)
        if who.is_member and store_has_it:
            raise Forbidden("门店已接单,请联系门店取消", code="cancel_not_allowed")
        return _close(uow, order, state.CANCELLED, actor=who.actor, reason=reason or "取消订单")


def expire_overdue(now=None, batch: int = 200) -> list[int]:
    """Close unpaid online orders whose payment window has passed, batch after batch until none is
    left (or a batch closes nothing: what remains is not ours to close); returns the ids closed."""
    now = now or utcnow()
    closed: list[int] = []
    while True:
        with unit_of_work() as uow:
            due = uow.orders.overdue(state.PENDING_PAYMENT, now, batch)
        closed_before = len(closed)
        for order_id in due:
            with unit_of_work() as uow:
                order = load_order(uow, order_id)
                # Re-checked under the lock: a payment may have landed since the scan.
                if _overdue(order, now):
                    _close(uow, order, state.EXPIRED, actor="system", reason="超时未支付,自动关闭")
                    closed.append(order_id)
        if len(due) < batch or len(closed) == closed_before:
            return closed


def _overdue(order, now) -> bool:
    return (order.status == state.PENDING_PAYMENT and order.payment_status == UNPAID
            and order.expires_at is not None and order.expires_at <= now)


def advance(order_id: int, to_status: str, who: Principal, reason: str = "", *,
            only_from: tuple[str, ...] | None = None) -> OrderRecord:
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
        if goods_leave:
            _ensure_weighings_settled(uow, order)
        moved, entry = state.transition(uow, order, to_status, actor=who.actor, reason=reason)
        if goods_leave:
            stock.hand_over(uow, order.location_id, order.line_quantities())
        return _announce(uow, moved, entry)


def mark_ready(order_id: int, who: Principal, reason: str = "") -> OrderRecord:
    """Goods picked and packed: 待提货 for a pickup order, 待发货 for a delivery."""
    with _store_action(order_id, who) as (uow, order):
        to_status = state.READY_FOR_PICKUP if order.fulfilment == PICKUP else state.READY_TO_SHIP
        return _announce(uow, *state.transition(uow, order, to_status, actor=who.actor, reason=reason))


@contextmanager
def _store_action(order_id: int, who: Principal):
    """One store-staff action: the order locked and checked against the caller's store. The action
    announces the new status with the history entry it wrote."""
    with unit_of_work() as uow:
        order = load_order(uow, order_id)
        _check_staff(order, who)
        yield uow, order


def _close(uow, order: OrderRecord, to_status: str, *, actor: str, reason: str) -> OrderRecord:
    held = order.status in state.HOLDS_RESERVATION
    closed, entry = state.transition(uow, order, to_status, actor=actor, reason=reason, expires_at=None)
    if held:
        stock.release(uow, order.location_id, order.line_quantities())
    uow.pickup_codes.void(order.id)
    if closed.payment_status in (PAID, PARTIALLY_REFUNDED):  # partially: after a re-weighing refund
        reason = f"{state.LABELS[to_status]}退款"
        if closed.payment_method == PLATFORM_COLLECTED:
            closed = _refunded_by_platform(uow, closed, actor=actor, reason=reason)
        elif any(line.handed_over_qty for line in order.lines):  # partly collected: refund what stays behind
            closed = _refund_up_to(uow, closed, _remaining_value(order), actor=actor, reason=reason)
        else:
            closed = _refund_in_full(uow, closed, actor=actor, reason=reason)
    return _announce(uow, closed, entry)


def _refunded_by_platform(uow, order: OrderRecord, *, actor: str, reason: str) -> OrderRecord:
    """A delivery platform took the money and gives it back to its customer itself (it hears of the
    closing through the write-back): nothing is refunded from here, the order is marked refunded."""
    after = order._replace(payment_status=REFUNDED)
    state.save(uow, order, after)
    state.record(uow, order.id, actor=actor, kind="refund", reason=f"{reason}:由平台退还顾客")
    return after


def close(uow, order: OrderRecord, to_status: str, *, actor: str, reason: str) -> OrderRecord:
    """Close an order inside the caller's unit of work (a job's cancellation): stock released, code
    voided, the money for goods not handed over refunded, the new status announced."""
    return _close(uow, order, to_status, actor=actor, reason=reason)


def complete(uow, order: OrderRecord, *, actor: str, reason: str) -> OrderRecord:
    """A shipped delivery reached its customer, inside the caller's unit of work (a platform's rider
    delivered it); the new status announced."""
    return _announce(uow, *state.transition(uow, order, state.COMPLETED, actor=actor, reason=reason))


def _remaining_value(order: OrderRecord) -> int:
    return sum(line.unit_price * (line.qty - line.handed_over_qty) for line in order.lines)


def _refund_up_to(uow, order: OrderRecord, amount: int, *, actor: str, reason: str) -> OrderRecord:
    refunded, left = uow.refunds.refund_up_to(order.id, amount, reason=reason)
    if not refunded:
        return order
    after = order._replace(payment_status=REFUNDED if left == 0 else PARTIALLY_REFUNDED)
    state.save(uow, order, after)
    state.record(uow, order.id, actor=actor, kind="refund", reason=f"{reason}:{refunded.describe()}")
    return after


def refund_returned_goods(uow, order: OrderRecord, amount: int, *, actor: str, reason: str) -> OrderRecord:
    """Goods returned after the order was completed: their value (at most what is still unrefunded)
    refunded to the original route, inside the caller's unit of work; the order as it now is."""
    return _refund_up_to(uow, order, amount, actor=actor, reason=reason)


def refund_in_full(uow, order: OrderRecord, *, actor: str, reason: str) -> OrderRecord:
    """Everything paid for the order refunded, inside the caller's unit of work (rejected goods checked
    back in); the order as it now is."""
    return _refund_in_full(uow, order, actor=actor, reason=reason)


def _refund_in_full(uow, order: OrderRecord, *, actor: str, reason: str) -> OrderRecord:
    """Have everything paid for the order refunded (the refund port writes the refunds and sends them
    after commit); the order notes it and is marked refunded."""
    refunded = uow.refunds.refund_in_full(order.id, reason=reason)
    if not refunded:
        return order
    after = order._replace(payment_status=REFUNDED)
    state.save(uow, order, after)
    state.record(uow, order.id, actor=actor, kind="refund", reason=f"{reason}:{refunded.describe()}")
    return after


def refund_paid_out(uow, order: OrderRecord, *, actor: str, reason: str) -> None:
    """A refund owed at the store was handed over the counter (a step of the caller's unit of work; the
    payments package records the refund itself): the order's history notes who, how much and how."""
    state.record(uow, order.id, actor=actor, kind="refund_paid_out", reason=reason)


def _ensure_weighings_settled(uow, order: OrderRecord) -> None:
    """Fresh goods re-weighed at the store leave only once every difference is settled (多退少补); asked
    through the weighing port (`uow.weighings`)."""
    unsettled = uow.weighings.unsettled_lines(order.id)
    if unsettled:
        raise Conflict("还有称重差额未处理(多退少补),请先结算再交付", code="weighing_unsettled",
                       details={"unsettled_lines": unsettled})


def _check_staff(order: OrderRecord, who: Principal) -> None:
    if who.is_member:
        raise Forbidden("会员不能执行门店操作", code="forbidden_role")
    check_access(order, who)


def _announce(uow, order: OrderRecord, entry: HistoryEntry) -> OrderRecord:
    """Announce the order's status (after commit), with the id of the history entry that recorded it."""
    uow.publish("order.status", order_id=order.id, status=order.status, location_id=order.location_id,
                member_id=order.member_id, payment_status=order.payment_status, event_id=entry.id)
    return order
