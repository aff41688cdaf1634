"""The order state machine (fulfilment status) and the append-only history it writes.

Payment status is kept apart (orders.payment_status); this graph is about the goods.
"""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from ..clock import utcnow
from ..infra.fastsql import FastStatement
from ..errors import IllegalTransition
from .models import EXPRESS, PICKUP, STORE_DELIVERY, Order, OrderEvent

# The new entry's id is the `event_id` pushes carry (clients catch up after it): SQLite reports it as
# lastrowid, PostgreSQL through RETURNING.
_INSERT_EVENT = FastStatement({
    "sqlite": insert(OrderEvent.__table__),
    "postgresql": postgresql_insert(OrderEvent.__table__).returning(OrderEvent.__table__.c.id),
})

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


def transition(connection, order: Order, to_status: str, *, actor: str, reason: str = "", kind: str = "status"):
    """Move the order to `to_status` or refuse with IllegalTransition; record who, when, from, to, why."""
    ensure_legal(order.status, to_status, order.fulfilment)
    from_status = order.status
    order.status = to_status
    order.updated_at = utcnow()
    return record(connection, order, actor=actor, kind=kind, from_status=from_status, to_status=to_status, reason=reason)


def record(connection, order, *, actor: str, kind: str, reason: str = "",
           from_status: str | None = None, to_status: str | None = None, at=None):
    """Append a history entry (also used for entries that are not a status change: a refund, a late payment),
    stamped `at` (default now).

    Written with one prebuilt INSERT (no ORM flush): history is append-only; the returned record is
    what was written, with its `id`."""
    event = SimpleNamespace(order_id=order.id, actor=actor, kind=kind, from_status=from_status,
                            to_status=to_status, reason=reason, at=at or utcnow())
    event.id = _INSERT_EVENT.insert(connection, vars(event))
    return event
