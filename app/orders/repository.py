"""Data access for orders (the write side; orders.queries is the read side for the API): the orders,
order_lines and order_events tables are written here and nowhere else.

Placing an order is the hottest write path: prebuilt statements (FastStatement), no ORM objects or
flush. Status changes are compare-and-set UPDATEs on the status the caller read.
"""
from __future__ import annotations

from operator import itemgetter

from sqlalchemy import bindparam, func, insert, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..accounts.models import Member
from .models import PAID, UNPAID, Order, OrderEvent, OrderLine
from .state import PENDING_PAYMENT
from .records import ORDER_COLUMNS, HistoryEntry, OrderLineRecord, OrderRecord
from ..infra.fastsql import FastStatement

_orders, _lines, _events, _members = Order.__table__, OrderLine.__table__, OrderEvent.__table__, Member.__table__
assert ORDER_COLUMNS == tuple(c.key for c in _orders.columns), "OrderRecord must list the orders columns in order"
assert OrderLineRecord._fields == tuple(c.key for c in _lines.columns), "OrderLineRecord must list order_lines' columns"

_BY_KEY = FastStatement(select(_orders.c.id, _orders.c.request_hash).where(
    _orders.c.member_id == bindparam("member"), _orders.c.idempotency_key == bindparam("k")
))
# A clash of order numbers inserts nothing (ON CONFLICT DO NOTHING on the number); any other unique
# key still raises. SQLite reports the new id without RETURNING, which costs it more than the rest of
# the statement's bookkeeping.
_INSERT_ORDER = FastStatement({
    "sqlite": sqlite_insert(_orders).on_conflict_do_nothing(index_elements=[_orders.c.number]),
    "postgresql": postgresql_insert(_orders).on_conflict_do_nothing(index_elements=[_orders.c.number])
    .returning(_orders.c.id),
})
_INSERT_LINES = FastStatement(insert(_lines))
# A history entry's id is the `event_id` pushes carry: SQLite reports it as lastrowid, PostgreSQL
# through RETURNING.
_INSERT_HISTORY = FastStatement({
    "sqlite": insert(_events),
    "postgresql": postgresql_insert(_events).returning(_events.c.id),
})
_TAKE_LINE = FastStatement(
    update(_lines).where(_lines.c.id == bindparam("lid"), _lines.c.order_id == bindparam("oid"),
                         _lines.c.handed_over_qty + bindparam("q") <= _lines.c.qty)
    .values(handed_over_qty=_lines.c.handed_over_qty + bindparam("q"))
)
_LOCK = FastStatement(select(_orders).where(_orders.c.id == bindparam("id")).with_for_update())
_LINES_OF = FastStatement(select(_lines).where(_lines.c.order_id == bindparam("id")).order_by(_lines.c.id))
# Parameter names differ from column names, as UPDATE statements require.
_SAVE = FastStatement(
    update(_orders)
    .where(_orders.c.id == bindparam("oid"), _orders.c.status == bindparam("was"),
           _orders.c.payment_status == bindparam("was_paid"))
    .values(status=bindparam("st"), payment_status=bindparam("paid"), expires_at=bindparam("exp"),
            updated_at=bindparam("now"))
)
_OVERDUE = FastStatement(
    select(_orders.c.id).where(_orders.c.status == bindparam("st"), _orders.c.expires_at <= bindparam("now"))
    .order_by(_orders.c.expires_at).limit(bindparam("lim"))
)
# A member's unpaid online orders (at most `cap` of them), for the per-member limits (member_limits.py).
_unpaid = (select(_orders.c.id).where(_orders.c.member_id == _members.c.id,
                                      _orders.c.status == literal_column(f"'{PENDING_PAYMENT}'"))
           .limit(bindparam("cap")).correlate(_members))
# Locking the member's row serialises their placements on PostgreSQL. The count is a statement of
# its own: under READ COMMITTED a statement that waited for a lock still reads its first snapshot.
_LOCK_MEMBER = FastStatement(select(_members.c.id).where(_members.c.id == bindparam("member")).with_for_update())
_UNPAID_HOLDINGS = FastStatement(
    select(
        select(func.count()).select_from(_unpaid.subquery()).scalar_subquery().label("orders"),
        select(func.coalesce(func.sum(_lines.c.qty), 0)).where(_lines.c.order_id.in_(_unpaid)).scalar_subquery()
        .label("units"),
    ).where(_members.c.id == bindparam("member"))
)
_new_record = tuple.__new__
_line_values = itemgetter(*OrderLineRecord._fields[1:])


def _paid_statement(from_status: str, to_status: str, fulfilments) -> FastStatement:
    """Payment succeeded: `from_status` → `to_status` and paid, for an unpaid order of a fulfilment for
    which the state graph allows the move (the graph's answer is part of the WHERE clause)."""
    legal = [literal_column(f"'{fulfilment}'") for fulfilment in sorted(fulfilments)]  # our own constants
    return FastStatement(
        update(_orders)
        .where(_orders.c.id == bindparam("oid"), _orders.c.status == from_status,
               _orders.c.payment_status == UNPAID, _orders.c.fulfilment.in_(legal),
               # Past its expiry an order is no longer payable, swept or not: the money goes back.
               or_(_orders.c.expires_at.is_(None), _orders.c.expires_at > bindparam("now")))
        .values(status=to_status, payment_status=PAID, expires_at=None, updated_at=bindparam("now"))
        # Only what announcing the payment needs: every column more is converted (datetimes parsed)
        # on every online order's path.
        .returning(_orders.c.id, _orders.c.fulfilment, _orders.c.location_id, _orders.c.member_id)
    )


class OrderRepository:
    """Orders on the unit of work's connection."""

    __slots__ = ("_connection",)
    _paid_statements: dict = {}

    def __init__(self, connection):
        self._connection = connection

    # --- placing -------------------------------------------------------------------------------
    def by_idempotency_key(self, member_id: int, key: str):
        """(id, request_hash) of the member's order placed with this key, or None."""
        return _BY_KEY.first(self._connection, {"member": member_id, "k": key})

    def insert_order(self, values: dict) -> int | None:
        """Write the order row (every column but id); its new id, or None when its number is taken."""
        return _INSERT_ORDER.insert(self._connection, values)

    def insert_lines(self, order_id: int, lines: list[dict]) -> tuple[OrderLineRecord, ...]:
        """Write the order's lines (dicts of the line columns but id and order_id); returns their records
        (without ids: one executemany for all lines reports none)."""
        for line in lines:
            line["order_id"] = order_id
        _INSERT_LINES.execute_many(self._connection, lines)
        return tuple(_new_record(OrderLineRecord, (None, *_line_values(line))) for line in lines)

    def append_history(self, entry: HistoryEntry) -> int:
        """Write the entry (its id is None); returns its new id. History is append-only (the database
        refuses UPDATE and DELETE on it)."""
        return _INSERT_HISTORY.insert(self._connection, entry._asdict())

    # --- after placing ---------------------------------------------------------------------------
    def lock(self, order_id: int, *, with_lines: bool = True) -> OrderRecord | None:
        """The order (with its lines unless told otherwise), its row locked until the transaction ends
        (PostgreSQL; SQLite's writers are serialised anyway)."""
        row = _LOCK.first(self._connection, {"id": order_id})
        if row is None:
            return None
        lines = None
        if with_lines:
            lines = tuple(_new_record(OrderLineRecord, line) for line in _LINES_OF.execute(self._connection, {"id": order_id}))
        return _new_record(OrderRecord, (*row, lines))

    def save(self, before: OrderRecord, after: OrderRecord) -> bool:
        """Write `after`'s status, payment status, expiry and update time, if the row still has
        `before`'s status and payment status (compare-and-set); False when it has not."""
        return _SAVE.execute(self._connection, {
            "oid": before.id, "was": before.status, "was_paid": before.payment_status, "st": after.status,
            "paid": after.payment_status, "exp": after.expires_at, "now": after.updated_at,
        }) == 1

    def mark_paid(self, order_id: int, from_status: str, to_status: str, fulfilments, now):
        """Compare-and-set: an unpaid order in `from_status` whose fulfilment is one of `fulfilments`
        becomes paid and `to_status`. Returns (id, fulfilment, location_id, member_id) of the order, or
        None when it did not match."""
        key = (from_status, to_status, fulfilments)
        statement = self._paid_statements.get(key)
        if statement is None:
            statement = self._paid_statements[key] = _paid_statement(from_status, to_status, fulfilments)
        return statement.first(self._connection, {"oid": order_id, "now": now})

    def take_line(self, order_id: int, line_id: int, qty: int) -> bool:
        """`qty` more units of the order's line handed over, unless that is more than it has left (False)."""
        return _TAKE_LINE.execute(self._connection, {"lid": line_id, "oid": order_id, "q": qty}) == 1

    def serialise_member(self, member_id: int) -> None:
        """Hold the member's row until the transaction ends, so their placements take turns (PostgreSQL;
        on SQLite the unit of work already runs alone)."""
        if self._connection.dialect.name != "sqlite":
            _LOCK_MEMBER.first(self._connection, {"member": member_id})

    def unpaid_holdings(self, member_id: int, cap: int):
        """(orders, units): how many unpaid online orders the member has open (counting up to `cap`) and
        the units they reserve; None when there is no such member."""
        return _UNPAID_HOLDINGS.first(self._connection, {"member": member_id, "cap": cap})

    def reached_at(self, order_id: int, status: str):
        """When the order last moved to `status` (from its history), or None if it never did."""
        return self._connection.execute(select(func.max(_events.c.at)).where(
            _events.c.order_id == order_id, _events.c.to_status == status)).scalar_one()

    def overdue(self, status: str, now, limit: int) -> list[int]:
        """Ids of orders in `status` whose expiry has passed, soonest expired first."""
        return [row.id for row in _OVERDUE.execute(self._connection, {"st": status, "now": now, "lim": limit})]
