"""Stock movements. Each is a single conditional UPDATE whose WHERE clause re-checks the invariant,
so concurrent requests can never take available below zero: the loser updates 0 rows and is told so.
This holds on SQLite (writers serialised by BEGIN IMMEDIATE) and on PostgreSQL (row lock, WHERE
re-evaluated after the wait), and the table's CHECK constraints are the backstop.

Stock moves sit on every order's hot path: the statements are prebuilt FastStatements, and every
function takes the unit of work's Connection.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import bindparam, insert, select, update

from ..infra.fastsql import FastStatement
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, OutOfStock, ValidationFailed
from .models import StockItem

MAX_ON_HAND = 10_000_000

_t = StockItem.__table__
# Parameter names must differ from column names in UPDATE statements.
_row = (_t.c.location_id == bindparam("loc")) & (_t.c.product_id == bindparam("prod"))
_qty = bindparam("qty")

_RESERVE = FastStatement(update(_t).where(_row, _t.c.on_hand - _t.c.reserved >= _qty).values(reserved=_t.c.reserved + _qty))
_RELEASE = FastStatement(update(_t).where(_row, _t.c.reserved >= _qty).values(reserved=_t.c.reserved - _qty))
_COMMIT = FastStatement(
    update(_t).where(_row, _t.c.reserved >= _qty).values(on_hand=_t.c.on_hand - _qty, reserved=_t.c.reserved - _qty)
)
_RESTOCK = FastStatement(update(_t).where(_row).values(on_hand=_t.c.on_hand + _qty))
_SET = FastStatement(update(_t).where(_row, _t.c.reserved <= bindparam("count")).values(on_hand=bindparam("count")))
_ADJUST = FastStatement(update(_t).where(
    _row, _t.c.on_hand + bindparam("delta") >= _t.c.reserved, _t.c.on_hand + bindparam("delta") <= MAX_ON_HAND
).values(on_hand=_t.c.on_hand + bindparam("delta")))
_GET = FastStatement(select(_t.c.on_hand, _t.c.reserved).where(_row))
_CREATE = FastStatement(insert(_t))


def _ordered(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    # A fixed lock order (by product) keeps two multi-line orders from deadlocking on PostgreSQL.
    return sorted(lines)


def _run(connection, statement: FastStatement, location_id: int, product_id: int, **params) -> int:
    return statement.execute(connection, {"loc": location_id, "prod": product_id, **params})


def reserve(connection, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Reserve (product_id, qty) lines at a location, all or nothing (the caller's transaction)."""
    for product_id, qty in _ordered(lines):
        if _run(connection, _RESERVE, location_id, product_id, qty=qty) != 1:
            raise OutOfStock(
                "库存不足", details={"location_id": location_id, "product_id": product_id, "qty": qty}
            )


def release(connection, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Give reserved units back to available (cancel, expiry)."""
    for product_id, qty in _ordered(lines):
        _expect_one(_run(connection, _RELEASE, location_id, product_id, qty=qty), location_id, product_id)


def commit(connection, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Goods left the building (hand-over, shipped): on-hand and reserved both fall."""
    for product_id, qty in _ordered(lines):
        _expect_one(_run(connection, _COMMIT, location_id, product_id, qty=qty), location_id, product_id)


def restock(connection, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Goods came back (rejection at the door, return): on-hand rises."""
    for product_id, qty in _ordered(lines):
        if not _run(connection, _RESTOCK, location_id, product_id, qty=qty):
            _create(connection, location_id, product_id, qty)


def _expect_one(rowcount: int, location_id: int, product_id: int) -> None:
    if rowcount != 1:
        raise Conflict(
            "库存记录与订单不一致", code="stock_inconsistent",
            details={"location_id": location_id, "product_id": product_id},
        )


def set_on_hand(connection, location_id: int, product_id: int, on_hand: int) -> StockItem:
    """HQ count: set on-hand, refusing a figure below what orders already reserve."""
    if not 0 <= on_hand <= MAX_ON_HAND:
        raise ValidationFailed(f"on_hand 必须在 0 到 {MAX_ON_HAND} 之间", code="invalid_quantity")
    if not _run(connection, _SET, location_id, product_id, count=on_hand):
        if get(connection, location_id, product_id) is not None:
            raise Conflict("在手库存不能低于已预留数量", code="on_hand_below_reserved")
        try:
            with connection.begin_nested():
                _create(connection, location_id, product_id, on_hand)
        except IntegrityError:
            # Someone created the row between our UPDATE and INSERT: apply the count to it.
            return set_on_hand(connection, location_id, product_id, on_hand)
    return get(connection, location_id, product_id)


def adjust_on_hand(connection, location_id: int, product_id: int, delta: int) -> StockItem:
    """HQ adjustment by a signed delta, never below reserved nor below zero."""
    if not -MAX_ON_HAND <= delta <= MAX_ON_HAND or delta == 0:
        raise ValidationFailed("调整数量无效", code="invalid_quantity")
    if get(connection, location_id, product_id) is None:
        return set_on_hand(connection, location_id, product_id, delta)
    if not _run(connection, _ADJUST, location_id, product_id, delta=delta):
        raise Conflict("调整后在手库存将低于已预留数量", code="on_hand_below_reserved")
    return get(connection, location_id, product_id)


def _create(connection, location_id: int, product_id: int, on_hand: int) -> None:
    _CREATE.execute(connection, {"location_id": location_id, "product_id": product_id, "on_hand": on_hand, "reserved": 0})


def get(connection, location_id: int, product_id: int) -> StockItem | None:
    """The row as it is now in this transaction (a detached snapshot, not tracked by the connection)."""
    row = _GET.first(connection, {"loc": location_id, "prod": product_id})
    if row is None:
        return None
    return StockItem(location_id=location_id, product_id=product_id, on_hand=row.on_hand, reserved=row.reserved)


def available_map(connection, location_ids: Iterable[int], product_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """{(location_id, product_id): available} for the given locations and products."""
    rows = connection.execute(
        select(_t.c.location_id, _t.c.product_id, _t.c.on_hand - _t.c.reserved).where(
            _t.c.location_id.in_(list(location_ids)), _t.c.product_id.in_(list(product_ids))
        )
    )
    return {(loc, prod): avail for loc, prod, avail in rows}
