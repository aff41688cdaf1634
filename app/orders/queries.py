"""The read side of orders, for API responses: OrderRecords straight from Core queries.

Reads are the most frequent requests (a phone polls its order, a clerk screen lists its queue), so
they skip ORM object loading and run outside any unit of work, on the request's connection.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select, union_all

from ..errors import NotFound
from ..infra.fastsql import FastStatement
from .models import Order, OrderEvent, OrderLine
from .records import HistoryEntry, OrderLineRecord, OrderRecord

_orders, _lines, _events = Order.__table__, OrderLine.__table__, OrderEvent.__table__
_ORDER = FastStatement(select(_orders).where(_orders.c.id == bindparam("id")))
_LINES_OF_ORDER = FastStatement(select(_lines).where(_lines.c.order_id == bindparam("id")).order_by(_lines.c.id))
_LINES = select(_lines).where(_lines.c.order_id.in_(bindparam("ids", expanding=True))).order_by(_lines.c.id)
_HISTORY = FastStatement(select(*(_events.c[name] for name in HistoryEntry._fields))
                         .where(_events.c.order_id == bindparam("id")).order_by(_events.c.id))
_new_record = tuple.__new__


def order(connection, order_id, *, with_lines: bool = True) -> OrderRecord:
    """The order (with its lines unless told otherwise); 404 when there is none."""
    row = _ORDER.first(connection, {"id": order_id})
    if row is None:
        raise NotFound("订单不存在", code="order_not_found")
    lines = None
    if with_lines:
        lines = tuple(_new_record(OrderLineRecord, line) for line in _LINES_OF_ORDER.execute(connection, {"id": order_id}))
    return _new_record(OrderRecord, (*row, lines))


def history(connection, order_id: int) -> list[HistoryEntry]:
    """The order's history, oldest first."""
    return [_new_record(HistoryEntry, entry) for entry in _HISTORY.execute(connection, {"id": order_id})]


def list_orders(connection, *, member_id=None, location_id=None, status=None, before_id=None,
                limit: int = 20) -> list[OrderRecord]:
    """Orders matching the filters (None means any), newest first, with their lines. Each filter has an
    index ending in id (ix_orders_member, ix_orders_location_id, ix_orders_location_status,
    ix_orders_status_id) that yields a page in order: no sort of a long history."""
    query = select(_orders).order_by(_orders.c.id.desc()).limit(limit)
    for column, value in ((_orders.c.member_id, member_id), (_orders.c.location_id, location_id),
                          (_orders.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(_orders.c.id < before_id)
    return _with_lines(connection, connection.execute(query).all())


def open_orders(connection, statuses, *, location_id=None, status=None, after_id=None,
                limit: int = 500) -> list[OrderRecord]:
    """Orders in one of `statuses` (only `status`, if given), oldest first, with their lines.

    One index range per status, merged: a single `status IN (...) ORDER BY id` let SQLite's planner
    (which knows only average rows per (location_id, status): no histograms in this build) walk the
    store's whole history in id order through ix_orders_location_id, 0.3 -> 245 ms at a million
    orders (docs/PERFORMANCE.md). Each range holds open orders only, so the merge sorts few rows."""
    legs = []
    for wanted in statuses:
        if status is not None and wanted != status:
            continue
        leg = select(_orders).where(_orders.c.status == wanted)
        if location_id is not None:
            leg = leg.where(_orders.c.location_id == location_id)
        if after_id is not None:
            leg = leg.where(_orders.c.id > after_id)
        legs.append(leg.order_by(_orders.c.id).limit(limit))
    if not legs:
        return []
    if len(legs) == 1:
        query = legs[0]
    else:
        merged = union_all(*(select(leg.subquery()) for leg in legs))
        query = merged.order_by(merged.selected_columns.id).limit(limit)
    return _with_lines(connection, connection.execute(query).all())


def _with_lines(connection, rows) -> list[OrderRecord]:
    lines = _lines_by_order(connection, [row.id for row in rows])
    return [_new_record(OrderRecord, (*row, lines[row.id])) for row in rows]


def _lines_by_order(connection, order_ids: list[int]) -> dict[int, tuple[OrderLineRecord, ...]]:
    """Lines of many orders in one query."""
    grouped: dict[int, list] = {order_id: [] for order_id in order_ids}
    if order_ids:
        for line in connection.execute(_LINES, {"ids": order_ids}):
            grouped[line.order_id].append(_new_record(OrderLineRecord, line))
    return {order_id: tuple(lines) for order_id, lines in grouped.items()}
