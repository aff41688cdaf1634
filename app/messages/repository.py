"""Data access for the member's message centre (the member_messages table is written here and nowhere else)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..locations.models import Location
from ..orders.models import PICKUP, Order
from . import MemberMessage

_messages, _orders, _locations = MemberMessage.__table__, Order.__table__, Location.__table__


class MessageRepository:
    """Member messages on one connection (a unit of work's, or a reader's)."""

    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def add_for_order(self, kind: str, order_id: int, *, pickup_only: bool, now: datetime) -> None:
        """One message of `kind` for the order's member unless it already has it, or the order has no
        member, or its method does not fit (pickup_only: pickup orders; else deliveries): one
        INSERT ... SELECT ... ON CONFLICT DO NOTHING, reading the order in the same statement."""
        source = select(_orders.c.member_id, _orders.c.id, literal(kind), literal(now)).where(
            _orders.c.id == order_id, _orders.c.member_id.is_not(None),
            (_orders.c.fulfilment == PICKUP) if pickup_only else (_orders.c.fulfilment != PICKUP),
        )
        columns = ["member_id", "order_id", "kind", "created_at"]
        insert = postgresql_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        self._connection.execute(insert(_messages).from_select(columns, source).on_conflict_do_nothing(
            index_elements=["order_id", "kind", "return_id"]))

    def add_for_return(self, kind: str, order_id: int, return_id: int, member_id: int, now: datetime) -> None:
        """One message of `kind` about the member's return (written once per return and kind)."""
        values = {"member_id": member_id, "order_id": order_id, "kind": kind, "return_id": return_id, "created_at": now}
        insert = postgresql_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        self._connection.execute(insert(_messages).values(**values).on_conflict_do_nothing(
            index_elements=["order_id", "kind", "return_id"]))

    def page(self, member_id: int, before_id: int | None, limit: int) -> list:
        """The member's messages newest first (id, kind, order_id, created_at, read_at, number, store)."""
        query = (select(_messages.c.id, _messages.c.kind, _messages.c.order_id, _messages.c.created_at,
                        _messages.c.read_at, _orders.c.number, _locations.c.name.label("store"))
                 .join(_orders, _orders.c.id == _messages.c.order_id)
                 .join(_locations, _locations.c.id == _orders.c.location_id)
                 .where(_messages.c.member_id == member_id).order_by(_messages.c.id.desc()).limit(limit))
        if before_id is not None:
            query = query.where(_messages.c.id < before_id)
        return self._connection.execute(query).all()

    def unread_count(self, member_id: int) -> int:
        return self._connection.execute(select(func.count()).select_from(_messages).where(
            _messages.c.member_id == member_id, _messages.c.read_at.is_(None))).scalar_one()

    def mark_read(self, member_id: int, message_id: int | None, now: datetime) -> int:
        """Mark one of the member's unread messages (or all of them) read; how many changed."""
        condition = and_(_messages.c.member_id == member_id, _messages.c.read_at.is_(None))
        if message_id is not None:
            condition = and_(condition, _messages.c.id == message_id)
        return self._connection.execute(update(_messages).where(condition).values(read_at=now)).rowcount
