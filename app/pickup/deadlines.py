"""Pickup deadlines: an order not collected by its code's deadline gets a reminder to the member; if
still not collected PICKUP_CANCEL_AFTER_SECONDS after the reminder (0: never), it is cancelled — what
is still at the store goes back to available stock and its value is refunded to the original route.

Each step is a conditional change (reminded_at IS NULL, status 'open'), so the job may run in every
worker at once.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select, update

from ..clock import utcnow
from ..infra.fastsql import FastStatement
from ..infra.unit_of_work import unit_of_work
from ..orders import lifecycle, state
from .models import OPEN, PickupCode

_c = PickupCode.__table__
_REMIND = FastStatement(update(_c).where(_c.c.id == bindparam("cid"), _c.c.status == OPEN, _c.c.reminded_at.is_(None))
                        .values(reminded_at=bindparam("now")))


def remind_overdue(now=None, limit: int = 200) -> list[int]:
    """Remind the members whose pickup deadline has passed (once each); returns the order ids."""
    now = now or utcnow()
    with unit_of_work() as uow:
        due = uow.connection.execute(
            select(_c.c.id, _c.c.order_id).where(_c.c.status == OPEN, _c.c.deadline_at <= now,
                                                 _c.c.reminded_at.is_(None)).order_by(_c.c.deadline_at).limit(limit)).all()
    reminded = []
    for code_id, order_id in due:
        with unit_of_work() as uow:
            if _REMIND.execute(uow.connection, {"cid": code_id, "now": now}) != 1:
                continue
            order = lifecycle.load_order(uow, order_id, with_lines=False)
            event = state.record(uow, order.id, actor="system", kind="pickup_reminder",
                                 reason="已超过提货期限,已提醒会员尽快到店提货", at=now)
            uow.publish("pickup.reminder", order_id=order.id, location_id=order.location_id,
                        member_id=order.member_id, event_id=event.id)
            reminded.append(order_id)
    return reminded


def cancel_uncollected(grace_seconds: int, now=None, limit: int = 200) -> list[int]:
    """Cancel the orders still uncollected `grace_seconds` after their reminder; returns the order ids."""
    if not grace_seconds or grace_seconds <= 0:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(seconds=grace_seconds)
    with unit_of_work() as uow:
        due = uow.connection.execute(
            select(_c.c.order_id).where(_c.c.status == OPEN, _c.c.reminded_at <= cutoff)
            .order_by(_c.c.reminded_at).limit(limit)).scalars().all()
    cancelled = []
    for order_id in due:
        with unit_of_work() as uow:
            order = lifecycle.load_order(uow, order_id)
            code = uow.connection.execute(select(_c).where(_c.c.order_id == order_id)).one()
            # Re-checked under the order's lock: a hand-over may have happened since the scan.
            if code.status != OPEN or code.reminded_at is None or code.reminded_at > cutoff:
                continue
            if order.status not in (state.AWAITING_ACCEPTANCE, state.ACCEPTED, state.READY_FOR_PICKUP):
                continue
            lifecycle.close(uow, order, state.CANCELLED, actor="system", reason="超过提货期限未提货,自动取消")
            cancelled.append(order_id)
    return cancelled
