"""Writing status changes back to the platform that sent the order, through a durable outbox.

A status change of a platform's order adds an outbox row in the change's own transaction (the orders
state machine asks this port, `uow.channel_writeback`), so the change and the duty to report it
commit together or not at all. A background job (app/jobs.py) delivers due rows: each attempt is
claimed with a compare-and-set (one worker sends it), POSTed signed to the platform's write-back URL,
and then marked delivered, or retried later with exponential backoff, or failed once the attempts are
used up (HQ sees those: GET /api/v1/hq/channel-outbox). Rows live in the database: a restart resumes.
The body carries the row's id (`event_id`): a platform told twice (a worker died after sending, before
recording) can tell.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Callable

from ..clock import utcnow
from ..extensions import db
from ..infra.unit_of_work import SessionReads, unit_of_work
from ..orders import state
from .models import DELIVERED, FAILED, PENDING
from .platforms import Platform
from .repository import ChannelRepository
from .signing import signed_headers

log = logging.getLogger(__name__)

# Our status -> what the platform is told: accepted, handed to its rider, delivered, cancelled.
WRITE_BACK = {state.ACCEPTED: "accepted", state.SHIPPED: "picked_up", state.COMPLETED: "delivered",
              state.CANCELLED: "cancelled"}
MAX_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 3600
# A claimed attempt is not due again before this: longer than the transport's timeout (10 s).
LEASE_SECONDS = 60
# Sends (url, body, headers) and returns the HTTP status (app/payments/http_transport.post_json).
Transport = Callable[[str, bytes, dict], int]


class ChannelWriteback:
    """The write-back port of the orders package: `status_changed` inside the change's transaction."""

    def __init__(self, uow):
        self._uow = uow

    def status_changed(self, order, entry) -> None:
        event = WRITE_BACK.get(order.status)
        if event is None:
            return
        link = self._uow.channels.of_order(order.id)
        if link is None:
            return
        platform, platform_order_id = link
        body = json.dumps({
            "platform_order_id": platform_order_id, "order_id": order.id, "order_number": order.number,
            "event": event, "status": order.status, "reason": entry.reason, "at": entry.at.isoformat() + "Z",
        }, ensure_ascii=False)
        self._uow.channels.add_outbox(platform=platform, order_id=order.id, status=order.status, body=body,
                                      now=entry.at)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 10 s, 20 s, 40 s, ... at most an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_CAP_SECONDS))


def deliver_due(platforms: dict[str, Platform], transport: Transport, *, now=None, limit: int = 50,
                max_attempts: int = MAX_ATTEMPTS) -> int:
    """One attempt for every row due by `now` (default: now); returns how many were delivered."""
    now = now or utcnow()
    # Read outside any unit of work: on SQLite a unit holds the write lock, for nothing here.
    due = ChannelRepository(SessionReads(db.session).connection).due(now, limit)
    db.session.rollback()  # no transaction stays open across the deliveries
    return sum(1 for row_id, attempts in due
               if deliver(row_id, attempts, platforms, transport, now=now, max_attempts=max_attempts))


def deliver(row_id: int, attempts: int, platforms: dict[str, Platform], transport: Transport, *, now,
            max_attempts: int = MAX_ATTEMPTS) -> bool:
    """Claim the row at `attempts`, send it (no transaction open across the network call), record the
    outcome. False when another worker had claimed it, or the attempt failed."""
    with unit_of_work() as uow:
        claimed = uow.channels.claim(row_id, attempts, now, now + timedelta(seconds=LEASE_SECONDS))
    if claimed is None:
        return False
    error = _send(platforms.get(claimed.platform), claimed.body.encode(), transport)
    attempt = attempts + 1
    if not error:
        outcome = dict(state=DELIVERED, next_attempt_at=now, error="", delivered_at=utcnow())
    elif attempt >= max_attempts:
        log.warning("write-back %s to %s failed for good after %d attempts: %s", row_id, claimed.platform, attempt, error)
        outcome = dict(state=FAILED, next_attempt_at=now, error=error, delivered_at=None)
    else:
        outcome = dict(state=PENDING, next_attempt_at=now + backoff(attempt), error=error, delivered_at=None)
    with unit_of_work() as uow:
        uow.channels.settle(row_id, attempt, **outcome)
    return not error


def _send(platform: Platform | None, body: bytes, transport: Transport) -> str:
    """'' when the platform took it (2xx), else what went wrong."""
    if platform is None or not platform.writeback_url:
        return "平台未配置回写地址"
    try:
        status = transport(platform.writeback_url, body, signed_headers(platform.secret, body))
    except Exception as exc:  # unreachable platform: retried later
        return f"无法连接平台:{type(exc).__name__}: {exc}"
    return "" if 200 <= status < 300 else f"平台返回 HTTP {status}"
