"""Data access for re-weighing on the unit of work's connection (`uow.weighings`): what the orders package
asks before goods leave (the weighing-settlement port) and what pay-on-hand-over orders now cost."""
from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select

from ..infra.fastsql import FastStatement
from .models import AWAITING_PAYMENT, OPEN, SETTLED, LineWeighing

_w = LineWeighing.__table__
_UNSETTLED = FastStatement(select(func.count()).select_from(_w).where(
    _w.c.order_id == bindparam("oid"), or_(_w.c.status == OPEN, _w.c.status == AWAITING_PAYMENT)))
_DUE_CHANGE = FastStatement(select(func.coalesce(func.sum(_w.c.due_change), 0)).where(
    _w.c.order_id == bindparam("oid"), _w.c.status == SETTLED))


class WeighingRepository:
    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def unsettled_lines(self, order_id: int) -> int:
        """How many of the order's weighed lines still have a difference to settle."""
        (row,) = _UNSETTLED.execute(self._connection, {"oid": order_id})
        return row[0]

    def due_change(self, order_id: int) -> int:
        """The change of the amount due from weighed lines settled in it (cash on delivery, pay at store)."""
        (row,) = _DUE_CHANGE.execute(self._connection, {"oid": order_id})
        return row[0]
