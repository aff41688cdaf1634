"""The order state machine (fulfilment status) and the append-only history it writes.

Payment status is kept apart (orders.payment_status); this graph is about the goods. A move is checked
against the graph before it is written, and written as a compare-and-set on the status it was read
with (`uow.orders`, the orders repository).
"""
from __future__ import annotations

from ..clock import utcnow
from ..errors import Conflict, IllegalTransition
from .models import EXPRESS, PICKUP, PLATFORM, STORE_DELIVERY
from .records import HistoryEntry, OrderRecord

PENDING_PAYMENT = "pending_payment"
AWAITING_ACCEPTANCE = "awaiting_acceptance"
ACCEPTED = "accepted"
READY_FOR_PICKUP = "ready_for_pickup"
READY_TO_SHIP = "ready_to_ship"
SHIPPED = "shipped"
COMPLETED = "completed"
REJECTED = "rejected"
CANCELLED = "cancelled"
EXPIRED = "expired"

LABELS = {
    PENDING_PAYMENT: "待支付",
    AWAITING_ACCEPTANCE: "待接单",
    ACCEPTED: "备货中",
    READY_FOR_PICKUP: "待提货",
    READY_TO_SHIP: "待发货",
    SHIPPED: "已发货",
    COMPLETED: "已完成",
    REJECTED: "已拒签",
    CANCELLED: "已取消",
    EXPIRED: "已超时关闭",
}

ALL_FULFILMENTS = frozenset({PICKUP, STORE_DELIVERY, EXPRESS})
DELIVERED_FULFILMENTS = frozenset({STORE_DELIVERY, EXPRESS})

# from status -> {to status: fulfilment methods for which the move is legal}
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    PENDING_PAYMENT: {AWAITING_ACCEPTANCE: ALL_FULFILMENTS, CANCELLED: ALL_FULFILMENTS, EXPIRED: ALL_FULFILMENTS},
    AWAITING_ACCEPTANCE: {ACCEPTED: ALL_FULFILMENTS, CANCELLED: ALL_FULFILMENTS},
    ACCEPTED: {
        READY_FOR_PICKUP: frozenset({PICKUP}),
        READY_TO_SHIP: DELIVERED_FULFILMENTS,
        CANCELLED: ALL_FULFILMENTS,
    },
    READY_FOR_PICKUP: {COMPLETED: frozenset({PICKUP}), CANCELLED: frozenset({PICKUP})},
    READY_TO_SHIP: {SHIPPED: DELIVERED_FULFILMENTS, CANCELLED: DELIVERED_FULFILMENTS},
    SHIPPED: {COMPLETED: DELIVERED_FULFILMENTS, REJECTED: DELIVERED_FULFILMENTS},
    COMPLETED: {},
    REJECTED: {},
    CANCELLED: {},
    EXPIRED: {},
}
TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# Statuses in which the order's units are still reserved (not yet handed over).
HOLDS_RESERVATION = frozenset({PENDING_PAYMENT, AWAITING_ACCEPTANCE, ACCEPTED, READY_FOR_PICKUP, READY_TO_SHIP})


def is_legal(from_status: str, to_status: str, fulfilment: str) -> bool:
    return fulfilment in TRANSITIONS.get(from_status, {}).get(to_status, frozenset())


def ensure_legal(from_status: str, to_status: str, fulfilment: str) -> None:
    if not is_legal(from_status, to_status, fulfilment):
        raise IllegalTransition(
            f"订单状态为「{LABELS.get(from_status, from_status)}」,不能变为「{LABELS.get(to_status, to_status)}」",
            details={"from": from_status, "to": to_status, "fulfilment": fulfilment},
        )


def legal_fulfilments(from_status: str, to_status: str) -> frozenset[str]:
    """The fulfilment methods for which the move is legal (none: it never is)."""
    return TRANSITIONS.get(from_status, {}).get(to_status, frozenset())


def transition(uow, order: OrderRecord, to_status: str, *, actor: str, reason: str = "", kind: str = "status",
               **changes) -> tuple[OrderRecord, HistoryEntry]:
    """Move the order to `to_status` or refuse with IllegalTransition; record who, when, from, to, why.
    `changes` (payment_status, expires_at) are written with the move. Returns the order as it now is
    and the history entry written."""
    ensure_legal(order.status, to_status, order.fulfilment)
    now = utcnow()
    moved = order._replace(status=to_status, updated_at=now, **changes)
    save(uow, order, moved)
    entry = record(uow, order.id, actor=actor, kind=kind, from_status=order.status, to_status=to_status,
                   reason=reason, at=now)
    if order.channel == PLATFORM:  # the platform is told through the outbox, in this same transaction
        uow.channel_writeback.status_changed(moved, entry)
    return moved, entry


def save(uow, before: OrderRecord, after: OrderRecord) -> None:
    """Write a change of the order's status fields, refusing if someone changed them since `before` was read."""
    if not uow.orders.save(before, after):
        raise Conflict("订单已被他人修改,请刷新后重试", code="order_changed")


def record(uow, order_id: int, *, actor: str, kind: str, reason: str = "",
           from_status: str | None = None, to_status: str | None = None, at=None) -> HistoryEntry:
    """Append a history entry that is no status change of its own (a refund, a late payment; the
    'placed' entry), stamped `at` (default now). Returns it as written, with its id (the `event_id`
    pushes carry, after which clients catch up)."""
    at = at or utcnow()
    entry_id = uow.orders.append_history(HistoryEntry(None, order_id, actor, kind, from_status, to_status, reason, at))
    return HistoryEntry(entry_id, order_id, actor, kind, from_status, to_status, reason, at)
