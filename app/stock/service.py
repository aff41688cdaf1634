"""Stock movements. Each is a single conditional UPDATE whose WHERE clause re-checks the invariant,
so concurrent requests can never take available below zero: the loser updates 0 rows and is told so.
This holds on SQLite (writers serialised by BEGIN IMMEDIATE) and on PostgreSQL (row lock, WHERE
re-evaluated after the wait), and the table's CHECK constraints are the backstop.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, OutOfStock, ValidationFailed
from .models import StockItem

MAX_ON_HAND = 10_000_000


def _row(location_id: int, product_id: int):
    return (StockItem.location_id == location_id) & (StockItem.product_id == product_id)


def _ordered(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    # A fixed lock order (by product) keeps two multi-line orders from deadlocking on PostgreSQL.
    return sorted(lines)


def reserve(session, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Reserve (product_id, qty) lines at a location, all or nothing (the caller's transaction)."""
    for product_id, qty in _ordered(lines):
        result = session.execute(
            update(StockItem)
            .where(_row(location_id, product_id), StockItem.on_hand - StockItem.reserved >= qty)
            .values(reserved=StockItem.reserved + qty)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise OutOfStock(
                "库存不足", details={"location_id": location_id, "product_id": product_id, "qty": qty}
            )


def release(session, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Give reserved units back to available (cancel, expiry)."""
    for product_id, qty in _ordered(lines):
        _apply(session, location_id, product_id, StockItem.reserved >= qty, reserved=StockItem.reserved - qty)


def commit(session, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Goods left the building (hand-over, shipped): on-hand and reserved both fall."""
    for product_id, qty in _ordered(lines):
        _apply(
            session, location_id, product_id, StockItem.reserved >= qty,
            on_hand=StockItem.on_hand - qty, reserved=StockItem.reserved - qty,
        )


def restock(session, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Goods came back (rejection at the door, return): on-hand rises."""
    for product_id, qty in _ordered(lines):
        if not _apply_rows(session, location_id, product_id, True, on_hand=StockItem.on_hand + qty):
            session.add(StockItem(location_id=location_id, product_id=product_id, on_hand=qty, reserved=0))
            session.flush()


def _apply_rows(session, location_id, product_id, condition, **values) -> int:
    return session.execute(
        update(StockItem)
        .where(_row(location_id, product_id), condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount


def _apply(session, location_id, product_id, condition, **values) -> None:
    if _apply_rows(session, location_id, product_id, condition, **values) != 1:
        raise Conflict(
            "库存记录与订单不一致", code="stock_inconsistent",
            details={"location_id": location_id, "product_id": product_id},
        )


def set_on_hand(session, location_id: int, product_id: int, on_hand: int) -> StockItem:
    """HQ count: set on-hand, refusing a figure below what orders already reserve."""
    if not 0 <= on_hand <= MAX_ON_HAND:
        raise ValidationFailed(f"on_hand 必须在 0 到 {MAX_ON_HAND} 之间", code="invalid_quantity")
    updated = _apply_rows(session, location_id, product_id, StockItem.reserved <= on_hand, on_hand=on_hand)
    if not updated:
        if get(session, location_id, product_id) is not None:
            raise Conflict("在手库存不能低于已预留数量", code="on_hand_below_reserved")
        try:
            with session.begin_nested():
                session.add(StockItem(location_id=location_id, product_id=product_id, on_hand=on_hand, reserved=0))
        except IntegrityError:
            # Someone created the row between our UPDATE and INSERT: apply the count to it.
            return set_on_hand(session, location_id, product_id, on_hand)
    return get(session, location_id, product_id)


def adjust_on_hand(session, location_id: int, product_id: int, delta: int) -> StockItem:
    """HQ adjustment by a signed delta, never below reserved nor below zero."""
    if not -MAX_ON_HAND <= delta <= MAX_ON_HAND or delta == 0:
        raise ValidationFailed("调整数量无效", code="invalid_quantity")
    if get(session, location_id, product_id) is None:
        return set_on_hand(session, location_id, product_id, delta)
    updated = _apply_rows(
        session, location_id, product_id,
        (StockItem.on_hand + delta >= StockItem.reserved) & (StockItem.on_hand + delta <= MAX_ON_HAND),
        on_hand=StockItem.on_hand + delta,
    )
    if not updated:
        raise Conflict("调整后在手库存将低于已预留数量", code="on_hand_below_reserved")
    return get(session, location_id, product_id)


def get(session, location_id: int, product_id: int) -> StockItem | None:
    return session.execute(
        select(StockItem).where(_row(location_id, product_id)).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def available_map(session, location_ids: Iterable[int], product_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """{(location_id, product_id): available} for the given locations and products."""
    rows = session.execute(
        select(StockItem.location_id, StockItem.product_id, StockItem.on_hand - StockItem.reserved).where(
            StockItem.location_id.in_(list(location_ids)), StockItem.product_id.in_(list(product_ids))
        )
    )
    return {(loc, prod): avail for loc, prod, avail in rows}
