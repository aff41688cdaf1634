"""The read side of orders: rows straight from Core queries, for API responses and access checks.

Reads are the most frequent requests (a phone polls its order, a clerk screen lists its queue), so
they skip ORM object loading; the rows carry the same attribute names as the models.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select

from ..errors import NotFound
from ..infra.fastsql import FastStatement
from .models import Order, OrderEvent, OrderLine

_orders, _lines, _events = Order.__table__, OrderLine.__table__, OrderEvent.__table__
_ORDER = FastStatement(select(_orders).where(_orders.c.id == bindparam("id")))
_LINES_OF_ORDER = FastStatement(select(_lines).where(_lines.c.order_id == bindparam("id")).order_by(_lines.c.id))
_LINES = select(_lines).where(_lines.c.order_id.in_(bindparam("ids", expanding=True))).order_by(_lines.c.id)
_EVENTS = FastStatement(select(_events).where(_events.c.order_id == bindparam("id")).order_by(_events.c.id))


def order_row(connection, order_id):
    row = _ORDER.first(connection, {"id": order_id})
    if row is None:
        raise NotFound("订单不存在", code="order_not_found")
    return row


def lines_of(connection, order_id: int) -> list:
    return _LINES_OF_ORDER.execute(connection, {"id": order_id})


def lines_by_order(connection, order_ids: list[int]) -> dict[int, list]:
    """Lines of many orders in one query (lists of orders)."""
    grouped: dict[int, list] = {order_id: [] for order_id in order_ids}
    if order_ids:
        for line in connection.execute(_LINES, {"ids": order_ids}):
            grouped[line.order_id].append(line)
    return grouped


def events_of(connection, order_id: int) -> list:
    return _EVENTS.execute(connection, {"id": order_id})


def list_orders(connection, *, member_id=None, location_id=None, statuses=None, status=None,
                before_id=None, after_id=None, limit: int = 20, oldest_first: bool = False) -> list:
    """Orders matching the filters (None means any), newest first unless `oldest_first`."""
    query = select(_orders).limit(limit)
    query = query.order_by(_orders.c.id if oldest_first else _orders.c.id.desc())
    for column, value in ((_orders.c.member_id, member_id), (_orders.c.location_id, location_id),
                          (_orders.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    if statuses is not None:
        query = query.where(_orders.c.status.in_(statuses))
    if before_id is not None:
        query = query.where(_orders.c.id < before_id)
    if after_id is not None:
        query = query.where(_orders.c.id > after_id)
    return connection.execute(query).all()
