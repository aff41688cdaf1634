"""The escalation job and HQ's view of escalated orders.

An order waiting for acceptance longer than the configured time (ESCALATE_AFTER_SECONDS, counted from
when it became 待接单: its last update) is escalated once: a history entry, and an `order.escalated` push
to its store's clerks (a louder alarm) and to the HQ room on /clerk.
"""
from __future__ import annotations

from ..clock import utcnow
from ..infra.sweep import sweep
from ..orders import state

WAITING = state.AWAITING_ACCEPTANCE


def escalate_overdue(after_seconds: int, now=None, limit: int = 200) -> list[int]:
    """Escalate orders waiting for acceptance since before now - after_seconds; returns the ids escalated."""
    return sweep(lambda uow, cutoff: uow.escalations.due(WAITING, cutoff, limit), _escalate, now=now,
                 after_seconds=after_seconds or 0)


def _escalate(uow, order_id: int, cutoff, now) -> int | None:
    order = uow.escalations.escalate(order_id, WAITING, cutoff, now)  # re-checks the order still waits
    if order is None:
        return None
    waited = int((now - order.updated_at).total_seconds())
    event = state.record(uow, order_id, actor="system", kind="escalated",
                         reason=f"超过 {waited // 60} 分钟未接单,已提醒门店并通知总部", at=now)
    uow.publish("order.escalated", order_id=order_id, location_id=order.location_id, event_id=event.id,
                number=order.number, store_name=order.store, waited_seconds=waited, status=WAITING)
    return order_id


def open_escalations(source, now=None) -> list[dict]:
    """Escalated orders still waiting for acceptance, longest waiting first (HQ's list). `source`: a
    reader or a unit of work."""
    now = now or utcnow()
    return [{"order_id": r.id, "number": r.number, "status": r.status, "location_id": r.location_id,
             "store_name": r.store, "escalated_at": r.escalated_at,
             "waited_seconds": int((now - r.updated_at).total_seconds())}
            for r in source.escalations.still_waiting(WAITING)]
