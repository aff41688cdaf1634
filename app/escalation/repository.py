"""Data access for escalations (the order_escalations table is written here and nowhere else)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..locations.models import Location
from ..orders.models import Order
from . import OrderEscalation

_e, _o, _l = OrderEscalation.__table__, Order.__table__, Location.__table__


class EscalationRepository:
    """Escalations on one connection (a unit of work's, or a reader's). `waiting`: the status of an
    order still waiting for acceptance (the orders package's, passed in)."""

    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def due(self, waiting: str, cutoff: datetime, limit: int) -> list[int]:
        """Ids of orders waiting since before `cutoff` and not escalated yet, oldest first."""
        return list(self._connection.execute(
            select(_o.c.id).outerjoin(_e, _e.c.order_id == _o.c.id)
            .where(_o.c.status == waiting, _o.c.updated_at <= cutoff, _e.c.order_id.is_(None))
            .order_by(_o.c.id).limit(limit)).scalars())

    def escalate(self, order_id: int, waiting: str, cutoff: datetime, now: datetime):
        """Escalate the order if it is still waiting since before `cutoff` and was never escalated: one
        INSERT ... SELECT (the primary key makes it once only). The order's number, store, member and
        wait start when it was escalated now, else None."""
        source = select(_o.c.id, _o.c.location_id, literal(now)).where(
            _o.c.id == order_id, _o.c.status == waiting, _o.c.updated_at <= cutoff)
        insert = postgresql_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        # RETURNING says whether a row went in (psycopg reports no rowcount for INSERT ... SELECT here).
        written = self._connection.execute(insert(_e).from_select(["order_id", "location_id", "escalated_at"], source)
                                           .on_conflict_do_nothing(index_elements=["order_id"])
                                           .returning(_e.c.order_id)).first()
        if written is None:
            return None
        return self._connection.execute(
            select(_o.c.id, _o.c.number, _o.c.location_id, _o.c.member_id, _o.c.updated_at, _l.c.name.label("store"))
            .join(_l, _l.c.id == _o.c.location_id).where(_o.c.id == order_id)).one()

    def still_waiting(self, waiting: str) -> list:
        """Escalated orders still waiting, longest waiting first, with their store's name."""
        return self._connection.execute(
            select(_o.c.id, _o.c.number, _o.c.status, _o.c.location_id, _o.c.updated_at, _l.c.name.label("store"),
                   _e.c.escalated_at)
            .join(_o, _o.c.id == _e.c.order_id).join(_l, _l.c.id == _o.c.location_id)
            .where(_o.c.status == waiting).order_by(_o.c.updated_at)).all()
