"""HQ's view of the write-back outbox: what is still owed to platforms, what failed for good."""
from __future__ import annotations

from ..clock import utcnow
from ..errors import NotFound, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from .models import DELIVERED, FAILED, PENDING
from .platforms import Platform, label

STATES = {"open": (PENDING, FAILED), PENDING: (PENDING,), FAILED: (FAILED,), DELIVERED: (DELIVERED,)}


def listing(source, platforms: dict[str, Platform], which: str, limit: int) -> dict:
    """Rows in `which` (open: pending and failed), newest first, with the platform's name for people.
    `source`: a reader or a unit of work."""
    states = STATES.get(which)
    if states is None:
        raise ValidationFailed("state 必须是 open、pending、failed 或 delivered", code="invalid_query")
    rows = source.channels.listing(states, limit)
    return {"rows": [{**row._mapping, "label": label(platforms, row.platform)} for row in rows]}


def retry(row_id: int) -> dict:
    """A failed row pending again, from its first attempt."""
    with unit_of_work() as uow:
        if not uow.channels.requeue(row_id, utcnow()):
            raise NotFound("没有该失败的回写记录", code="writeback_not_found")
    return {"id": row_id, "state": PENDING}
