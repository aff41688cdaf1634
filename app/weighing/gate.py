"""Goods leave the store only when every weighed line's difference is settled."""
from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select

from ..errors import Conflict
from ..infra.fastsql import FastStatement
from .models import AWAITING_PAYMENT, OPEN, LineWeighing

_w = LineWeighing.__table__
_UNSETTLED = FastStatement(select(func.count()).select_from(_w).where(
    _w.c.order_id == bindparam("oid"), or_(_w.c.status == OPEN, _w.c.status == AWAITING_PAYMENT)))


def ensure_settled(connection, order_id: int) -> None:
    """Refuse the hand-over (or shipping) while a weighed line still has a difference to settle."""
    (row,) = _UNSETTLED.execute(connection, {"oid": order_id})
    if row[0]:
        raise Conflict("还有称重差额未处理(多退少补),请先结算再交付", code="weighing_unsettled",
                       details={"unsettled_lines": row[0]})
