"""The escalation job and HQ's view of escalated orders.

An order waiting for acceptance longer than the configured time (ESCALATE_AFTER_SECONDS, counted from
when it became 待接单: its last update) is escalated once: a history entry, and an `order.escalated` push
to its store's clerks (a louder alarm) and to the HQ room on /clerk.
"""
from __future__ import annotations

from sqlalchemy import and_, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..clock import utcnow
from ..infra.sweep import sweep
from ..locations.models import Location
from ..orders import state
from ..orders.models import Order
from . import OrderEscalation

_e, _o, _l = OrderEscalation.__table__, Order.__table__, Location.__table__


def escalate_overdue(after_seconds: int, now=None, limit: int = 200) -> list[int]:
    """Escalate orders waiting for acceptance since before now - after_seconds; returns the ids escalated."""
    def due(uow, cutoff):
        return uow.connection.execute(
            select(_o.c.id).outerjoin(_e, _e.c.order_id == _o.c.id)
            .where(_o.c.status == state.AWAITING_ACCEPTANCE, _o.c.updated_at <= cutoff, _e.c.order_id.is_(None))
            .order_by(_o.c.id).limit(limit)).scalars().all()

    return sweep(due, _escalate, now=now, after_seconds=after_seconds or 0)


def _escalate(uow, order_id: int, cutoff, now) -> int | None:
    connection = uow.connection
    # INSERT ... SELECT re-checks the order is still waiting; the primary key makes it once only.
    source = select(_o.c.id, _o.c.location_id, literal(now)).where(
        _o.c.id == order_id, _o.c.status == state.AWAITING_ACCEPTANCE, _o.c.updated_at <= cutoff)
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # RETURNING says whether a row went in (psycopg reports no rowcount for INSERT ... SELECT here).
    written = connection.execute(insert(_e).from_select(["order_id", "location_id", "escalated_at"], source)
                                 .on_conflict_do_nothing(index_elements=["order_id"])
                                 .returning(_e.c.order_id)).first()
    if written is None:
        return None
    order = connection.execute(
        select(_o.c.id, _o.c.number, _o.c.location_id, _o.c.member_id, _o.c.updated_at, _l.c.name.label("store"))
        .join(_l, _l.c.id == _o.c.location_id).where(_o.c.id == order_id)).one()
    waited = int((now - order.updated_at).total_seconds())
    event = state.record(uow, order_id, actor="system", kind="escalated",
                         reason=f"超过 {waited // 60} 分钟未接单,已提醒门店并通知总部", at=now)
    uow.publish("order.escalated", order_id=order_id, location_id=order.location_id, event_id=event.id,
                number=order.number, store_name=order.store, waited_seconds=waited,
                status=state.AWAITING_ACCEPTANCE)
    return order_id


def open_escalations(connection, now=None) -> list[dict]:
    """Escalated orders still waiting for acceptance, longest waiting first (HQ's list)."""
    now = now or utcnow()
    rows = connection.execute(
        select(_o.c.id, _o.c.number, _o.c.status, _o.c.location_id, _o.c.updated_at, _l.c.name.label("store"),
               _e.c.escalated_at)
        .join(_o, _o.c.id == _e.c.order_id).join(_l, _l.c.id == _o.c.location_id)
        .where(and_(_o.c.status == state.AWAITING_ACCEPTANCE)).order_by(_o.c.updated_at)).all()
    return [{"order_id": r.id, "number": r.number, "status": r.status, "location_id": r.location_id,
             "store_name": r.store, "escalated_at": r.escalated_at,
             "waited_seconds": int((now - r.updated_at).total_seconds())} for r in rows]
