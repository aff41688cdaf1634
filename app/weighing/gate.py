"""Goods leave the store only when every weighed line's difference is settled; an order paid when the
goods leave (cash on delivery, pay at the counter) is paid in its amount due."""
from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select

from ..errors import Conflict
from ..infra.fastsql import FastStatement
from .models import AWAITING_PAYMENT, OPEN, SETTLED, LineWeighing

_w = LineWeighing.__table__
_UNSETTLED = FastStatement(select(func.count()).select_from(_w).where(
    _w.c.order_id == bindparam("oid"), or_(_w.c.status == OPEN, _w.c.status == AWAITING_PAYMENT)))


def ensure_settled(connection, order_id: int) -> None:
    """Refuse the hand-over (or shipping) while a weighed line still has a difference to settle."""
    (row,) = _UNSETTLED.execute(connection, {"oid": order_id})
    if row[0]:
        raise Conflict("还有称重差额未处理(多退少补),请先结算再交付", code="weighing_unsettled",
                       details={"unsettled_lines": row[0]})


_DUE_CHANGE = FastStatement(select(func.coalesce(func.sum(_w.c.due_change), 0)).where(
    _w.c.order_id == bindparam("oid"), _w.c.status == SETTLED))


def amount_due(connection, order) -> int:
    """What an order paid on hand-over costs now: its total plus the weighed lines settled in the amount due."""
    (row,) = _DUE_CHANGE.execute(connection, {"oid": order.id})
    return order.total + row[0]


def pickup_guard(connection, order, taking) -> None:
    """The pickup hand-over's guard (app.pickup.verification): every weighed line settled first."""
    ensure_settled(connection, order.id)


def goods_leave_guard(uow, order) -> None:
    """The orders package's guard for a hand-over or shipping (lifecycle.advance)."""
    ensure_settled(uow.connection, order.id)


def install() -> None:
    from ..orders.lifecycle import register_goods_leave_guard
    from ..pickup.verification import register_handover_guard

    register_handover_guard(pickup_guard)
    register_goods_leave_guard(goods_leave_guard)
