"""Data access for platform orders and the write-back outbox: the channel_orders and channel_outbox
tables are written here and nowhere else.

Claiming an outbox row is a compare-and-set on its attempt count (and its being due): of several
workers that read the same due row, one moves it on and sends it; the others update nothing. This
holds on SQLite (writers serialised) and on PostgreSQL (the loser's UPDATE waits for the row lock,
then re-reads the row and no longer matches).
"""
from __future__ import annotations

from sqlalchemy import exists, insert, select, update

from ..locations.models import Location
from ..orders.models import Order
from .models import FAILED, PENDING, ChannelOrder, ChannelOutbox

_links, _outbox, _locations, _orders = (ChannelOrder.__table__, ChannelOutbox.__table__, Location.__table__,
                                        Order.__table__)
_earlier = _outbox.alias("earlier")


class ChannelRepository:
    """Platform orders and their outbox on one connection (a unit of work's, or a reader's)."""

    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    # --- platform orders ---------------------------------------------------------------------------
    def link(self, platform: str, platform_order_id: str):
        """(order_id, request_hash) of the platform's order with this id, or None."""
        return self._connection.execute(select(_links.c.order_id, _links.c.request_hash).where(
            _links.c.platform == platform, _links.c.platform_order_id == platform_order_id)).first()

    def insert_link(self, values: dict) -> None:
        """Link a platform order id to our order; a second link of the same id raises IntegrityError
        (on PostgreSQL only once the first one's transaction has ended)."""
        self._connection.execute(insert(_links).values(**values))

    def of_order(self, order_id: int):
        """(platform, platform_order_id) of our order, or None when no platform sent it."""
        return self._connection.execute(select(_links.c.platform, _links.c.platform_order_id)
                                        .where(_links.c.order_id == order_id)).first()

    def platforms_of(self, order_ids: list[int]) -> dict[int, tuple[str, str]]:
        """{order_id: (platform, platform_order_id)} for those of the orders a platform sent."""
        if not order_ids:
            return {}
        rows = self._connection.execute(select(_links.c.order_id, _links.c.platform, _links.c.platform_order_id)
                                        .where(_links.c.order_id.in_(order_ids)))
        return {row.order_id: (row.platform, row.platform_order_id) for row in rows}

    def store_id_by_code(self, code: str) -> int | None:
        return self._connection.execute(select(_locations.c.id).where(_locations.c.code == code)).scalar()

    # --- the outbox ----------------------------------------------------------------------------------
    def add_outbox(self, *, platform: str, order_id: int, status: str, body: str, now) -> None:
        self._connection.execute(insert(_outbox).values(
            platform=platform, order_id=order_id, status=status, body=body, state=PENDING, attempts=0,
            next_attempt_at=now, last_error="", created_at=now))

    def due(self, now, limit: int) -> list:
        """(id, attempts) of pending rows due by `now`, oldest first; a row waits while an earlier row of
        its order is still pending, so a platform hears an order's changes in order."""
        blocked = exists().where(_earlier.c.order_id == _outbox.c.order_id, _earlier.c.id < _outbox.c.id,
                                 _earlier.c.state == PENDING)
        return self._connection.execute(
            select(_outbox.c.id, _outbox.c.attempts)
            .where(_outbox.c.state == PENDING, _outbox.c.next_attempt_at <= now, ~blocked)
            .order_by(_outbox.c.id).limit(limit)).all()

    def claim(self, row_id: int, attempts: int, now, lease_until):
        """Take the row for one delivery attempt if it is still pending, due and at `attempts` (compare-
        and-set): its attempt count goes up and it is not due again before `lease_until` (a worker that
        dies mid-attempt leaves it to be retried then). Returns (platform, body), or None when another
        worker took it."""
        claimed = self._connection.execute(update(_outbox).where(
            _outbox.c.id == row_id, _outbox.c.state == PENDING, _outbox.c.attempts == attempts,
            _outbox.c.next_attempt_at <= now,
        ).values(attempts=attempts + 1, next_attempt_at=lease_until)).rowcount
        if claimed != 1:
            return None
        return self._connection.execute(select(_outbox.c.platform, _outbox.c.body)
                                        .where(_outbox.c.id == row_id)).first()

    def settle(self, row_id: int, attempts: int, *, state: str, next_attempt_at, error: str, delivered_at) -> bool:
        """Record the outcome of the claimed attempt number `attempts` (False: the claim was lost)."""
        return self._connection.execute(update(_outbox).where(
            _outbox.c.id == row_id, _outbox.c.state == PENDING, _outbox.c.attempts == attempts,
        ).values(state=state, next_attempt_at=next_attempt_at, last_error=error[:300],
                 delivered_at=delivered_at)).rowcount == 1

    def requeue(self, row_id: int, now) -> bool:
        """A failed row pending again, with a fresh round of attempts (HQ's retry)."""
        return self._connection.execute(update(_outbox).where(_outbox.c.id == row_id, _outbox.c.state == FAILED)
                                        .values(state=PENDING, attempts=0, next_attempt_at=now)).rowcount == 1

    def listing(self, states: tuple[str, ...], limit: int) -> list:
        """Outbox rows in `states`, newest first, with the order's number and store."""
        return self._connection.execute(
            select(_outbox.c.id, _outbox.c.platform, _outbox.c.order_id, _orders.c.number, _orders.c.location_id,
                   _outbox.c.status, _outbox.c.state, _outbox.c.attempts, _outbox.c.next_attempt_at,
                   _outbox.c.last_error, _outbox.c.created_at, _outbox.c.delivered_at)
            .join(_orders, _orders.c.id == _outbox.c.order_id)
            .where(_outbox.c.state.in_(states)).order_by(_outbox.c.id.desc()).limit(limit)).all()



