"""Pickup deadlines: an order not collected by its code's deadline gets a reminder to the member; if
still not collected PICKUP_CANCEL_AFTER_SECONDS after the reminder (0: never), it is cancelled — what
is still at the store goes back to available stock and its value is refunded to the original route.

Each step is a conditional change (reminded_at IS NULL, status 'open'), so the job may run in every
worker at once.
"""
from __future__ import annotations

from ..infra.sweep import sweep
from ..orders import lifecycle, state
from .models import OPEN


def remind_overdue(now=None, limit: int = 200) -> list[int]:
    """Remind the members whose pickup deadline has passed (once each); returns the order ids."""
    def remind(uow, due, _cutoff, at):
        code_id, order_id = due
        if not uow.pickup.mark_reminded(code_id, at):
            return None
        order = lifecycle.load_order(uow, order_id, with_lines=False)
        event = state.record(uow, order.id, actor="system", kind="pickup_reminder",
                             reason="已超过提货期限,已提醒会员尽快到店提货", at=at)
        uow.publish("pickup.reminder", order_id=order.id, location_id=order.location_id,
                    member_id=order.member_id, event_id=event.id)
        return order_id

    return sweep(lambda uow, cutoff: uow.pickup.due_for_reminder(cutoff, limit), remind, now=now)


def cancel_uncollected(grace_seconds: int, now=None, limit: int = 200) -> list[int]:
    """Cancel the orders still uncollected `grace_seconds` after their reminder; returns the order ids."""
    def cancel(uow, order_id, cutoff, _at):
        order = lifecycle.load_order(uow, order_id)
        code = uow.pickup.of_order(order_id)
        # Re-checked under the order's lock: a hand-over may have happened since the scan.
        if code.status != OPEN or code.reminded_at is None or code.reminded_at > cutoff:
            return None
        if order.status not in (state.AWAITING_ACCEPTANCE, state.ACCEPTED, state.READY_FOR_PICKUP):
            return None
        lifecycle.close(uow, order, state.CANCELLED, actor="system", reason="超过提货期限未提货,自动取消")
        return order_id

    return sweep(lambda uow, cutoff: uow.pickup.reminded_before(cutoff, limit), cancel, now=now,
                 after_seconds=grace_seconds or 0)
