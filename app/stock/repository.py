"""Data access for stock rows: each movement is one conditional UPDATE whose WHERE clause re-checks
the invariant, so a concurrent request can never take available below zero: the loser updates 0 rows
(False here) and the service says why. This holds on SQLite (writers serialised by BEGIN IMMEDIATE)
and on PostgreSQL (row lock, WHERE re-evaluated after the wait); the table's CHECK constraints are
the backstop.

Stock moves sit on every order's hot path, so the statements are prebuilt (FastStatement).
"""
from __future__ import annotations

from typing import Iterable, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..infra.fastsql import FastStatement
from .models import StockItem

MAX_ON_HAND = 10_000_000


class StockLevel(NamedTuple):
    location_id: int
    product_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


_t = StockItem.__table__
# Parameter names must differ from column names in UPDATE statements.
_row = (_t.c.location_id == bindparam("loc")) & (_t.c.product_id == bindparam("prod"))
_qty = bindparam("qty")

_RESERVE = FastStatement(update(_t).where(_row, _t.c.on_hand - _t.c.reserved >= _qty).values(reserved=_t.c.reserved + _qty))
_RELEASE = FastStatement(update(_t).where(_row, _t.c.reserved >= _qty).values(reserved=_t.c.reserved - _qty))
_HAND_OVER = FastStatement(
    update(_t).where(_row, _t.c.reserved >= _qty).values(on_hand=_t.c.on_hand - _qty, reserved=_t.c.reserved - _qty)
)
_RESTOCK = FastStatement(update(_t).where(_row).values(on_hand=_t.c.on_hand + _qty))
_SET = FastStatement(update(_t).where(_row, _t.c.reserved <= bindparam("count")).values(on_hand=bindparam("count")))
_ADJUST = FastStatement(update(_t).where(
    _row, _t.c.on_hand + bindparam("delta") >= _t.c.reserved, _t.c.on_hand + bindparam("delta") <= MAX_ON_HAND
).values(on_hand=_t.c.on_hand + bindparam("delta")))
_GET = FastStatement(select(_t.c.on_hand, _t.c.reserved).where(_row))
_CREATE = FastStatement(insert(_t))


class StockRepository:
    """Stock rows on one connection (the unit of work's, or a reader's). Movements answer whether the
    row matched (True) or the invariant refused it (False)."""

    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def reserve(self, location_id: int, product_id: int, qty: int) -> bool:
        """available falls by qty, if that many are available."""
        return _RESERVE.execute(self._connection, {"loc": location_id, "prod": product_id, "qty": qty}) == 1

    def release(self, location_id: int, product_id: int, qty: int) -> bool:
        """reserved units go back to available."""
        return _RELEASE.execute(self._connection, {"loc": location_id, "prod": product_id, "qty": qty}) == 1

    def hand_over(self, location_id: int, product_id: int, qty: int) -> bool:
        """reserved units leave the building: on-hand and reserved both fall."""
        return _HAND_OVER.execute(self._connection, {"loc": location_id, "prod": product_id, "qty": qty}) == 1

    def restock(self, location_id: int, product_id: int, qty: int) -> bool:
        """on-hand rises; False when the location has no row for the product yet."""
        return _RESTOCK.execute(self._connection, {"loc": location_id, "prod": product_id, "qty": qty}) == 1

    def set_count(self, location_id: int, product_id: int, count: int) -> bool:
        """on-hand becomes `count`, unless orders reserve more than that (or there is no row)."""
        return _SET.execute(self._connection, {"loc": location_id, "prod": product_id, "count": count}) == 1

    def adjust(self, location_id: int, product_id: int, delta: int) -> bool:
        """on-hand moves by `delta`, staying at or above reserved and at or below MAX_ON_HAND."""
        return _ADJUST.execute(self._connection, {"loc": location_id, "prod": product_id, "delta": delta}) == 1

    def create(self, location_id: int, product_id: int, on_hand: int) -> None:
        _CREATE.execute(self._connection, {"location_id": location_id, "product_id": product_id, "on_hand": on_hand,
                                           "reserved": 0})

    def create_unless_exists(self, location_id: int, product_id: int, on_hand: int) -> bool:
        """Create the row; False when another transaction created it first (in a savepoint, so the
        unit of work carries on)."""
        try:
            with self._connection.begin_nested():
                self.create(location_id, product_id, on_hand)
        except IntegrityError:
            return False
        return True

    def level(self, location_id: int, product_id: int) -> StockLevel | None:
        """The row as it is now in this transaction."""
        row = _GET.first(self._connection, {"loc": location_id, "prod": product_id})
        return None if row is None else StockLevel(location_id, product_id, row.on_hand, row.reserved)

    def available_map(self, location_ids: Iterable[int], product_ids: Iterable[int]) -> dict[tuple[int, int], int]:
        """{(location_id, product_id): available} for the given locations and products."""
        rows = self._connection.execute(
            select(_t.c.location_id, _t.c.product_id, _t.c.on_hand - _t.c.reserved).where(
                _t.c.location_id.in_(list(location_ids)), _t.c.product_id.in_(list(product_ids))
            )
        )
        return {(loc, prod): avail for loc, prod, avail in rows}
