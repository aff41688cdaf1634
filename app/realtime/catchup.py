"""What a reconnecting Socket.IO client missed, rebuilt from the order history (the source of every
push): used when the worker's delivery log (pushlog) does not hold the client's last event.

Ids of history entries grow with insertion, and on SQLite (one writer at a time) with commit order too:
there the entries after the client's last one are exactly what it missed. On PostgreSQL two transactions
may commit out of id order (entry 10 visible after entry 11 was pushed), so from the history alone the
replay also re-sends the entries written in the few seconds before the client's last one (LOOKBACK):
no miss, at the price of events the client may have seen (it drops ids it has seen). This is only the
fallback after a worker restart or a long absence; the delivery log replays exactly.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from ..orders import state
from ..orders.models import Order, OrderEvent

LOOKBACK = timedelta(seconds=5)
MAX_REPLAY = 500

_e, _o = OrderEvent.__table__, Order.__table__
_entry_order = _o.alias("entry_order")
_store_of_entry = select(_entry_order.c.location_id).where(_entry_order.c.id == _e.c.order_id).scalar_subquery()


def missed_events(connection, *, after_id: int, location_id: int | None = None, member_id: int | None = None,
                  limit: int = MAX_REPLAY) -> list[tuple[str, dict]]:
    """[(event name, payload)] for the store's (or the member's) history entries after `after_id`,
    oldest first, in the shapes the live pushes have (plus "replayed": true)."""
    newer, floor = _e.c.id > after_id, after_id
    since = None
    if connection.dialect.name == "postgresql":
        since = connection.execute(select(_e.c.at).where(_e.c.id == after_id)).scalar()
    if since is not None:
        newer = or_(newer, _e.c.at >= since - LOOKBACK)
        # The entries the look-back may take lie just below `after_id` (ids follow writing order, which
        # follows `at` to within a transaction's span): the last entry written well before the look-back
        # bounds them, found walking the primary key back a few seconds' worth of entries.
        floor = connection.execute(
            select(_e.c.id).where(_e.c.id < after_id, _e.c.at < since - 2 * LOOKBACK).order_by(_e.c.id.desc())
            .limit(1)).scalar() or 0
    query = (select(_e.c.id, _e.c.order_id, _e.c.kind, _e.c.from_status, _e.c.to_status, _o.c.location_id,
                    _o.c.member_id, _o.c.payment_status)
             .join(_o, _o.c.id == _e.c.order_id).where(_e.c.id > floor, newer).order_by(_e.c.id).limit(limit))
    if location_id is not None:
        # Entry by entry from `floor` on, each one's store looked up by primary key. A join condition on
        # orders.location_id let the planners start from the store's whole history (SQLite: 0.4-0.7 s at a
        # million orders, or a Bloom filter built over all orders) and sort it; docs/PERFORMANCE.md.
        query = query.where(_store_of_entry == location_id)
    if member_id is not None:
        query = query.where(_o.c.member_id == member_id)
    pushes = []
    for row in connection.execute(query):
        pushes.extend(_pushes_of(row, for_store=location_id is not None))
    return pushes


def _pushes_of(row, *, for_store: bool) -> list[tuple[str, dict]]:
    common = {"order_id": row.order_id, "location_id": row.location_id, "member_id": row.member_id,
              "event_id": row.id, "replayed": True}
    if row.kind == "escalated":
        return [("order.escalated", {**common, "status": state.AWAITING_ACCEPTANCE})] if for_store else []
    if row.kind == "partial_pickup":
        return [("order.status", {**common, "status": state.READY_FOR_PICKUP, "payment_status": row.payment_status,
                                  "pickup": "partial"})]
    if row.to_status is None or row.to_status == state.PENDING_PAYMENT:
        return []  # refunds and notes are not pushed; an unpaid order is not the store's business yet
    change = {**common, "status": row.to_status, "payment_status": row.payment_status}
    if not for_store:
        return [("order.status", change)]
    if not store_hears_status(row.to_status):
        return [("order.new", change)]
    return [("order.status", change)]


def store_hears_status(status: str) -> bool:
    """A store learns of an order's arrival (paid, or placed to pay at the counter) from `order.new`,
    which carries the status: a separate `order.status` would double every new order's frames to
    every clerk screen of the store, for nothing the screen does not already know."""
    return status != state.AWAITING_ACCEPTANCE


def latest_event_id(connection) -> int:
    """The newest history entry, where a fresh screen starts counting. Of any store: the replay takes
    the store's entries after it, and there are none between the store's newest and this one. The
    store's own newest meant joining its whole history to the orders (130 ms at a million orders on
    SQLite, docs/PERFORMANCE.md); this is the primary key's last entry."""
    return connection.execute(select(func.max(_e.c.id))).scalar() or 0
