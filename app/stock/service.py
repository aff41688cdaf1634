"""Stock movements, all or nothing per order: reserve when an order is placed, release when it is
cancelled or expires, hand over when the goods leave (pickup, shipping), restock when they come back;
and HQ's counts. The conditional UPDATEs behind them live in stock.repository.

Every function takes the unit of work it runs in (`uow.stock` is its data access).
"""
from __future__ import annotations

from typing import Iterable

from ..errors import Conflict, NotFound, OutOfStock, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from .repository import MAX_ON_HAND, StockLevel

__all__ = ["MAX_ON_HAND", "StockLevel", "reserve", "release", "hand_over", "restock", "set_on_hand",
           "adjust_on_hand", "count"]


def _ordered(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    # A fixed lock order (by product) keeps two multi-line orders from deadlocking on PostgreSQL.
    return sorted(lines)


def reserve(uow, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Reserve (product_id, qty) lines at a location, all or nothing (the caller's transaction)."""
    rows = uow.stock
    for product_id, qty in _ordered(lines):
        if not rows.reserve(location_id, product_id, qty):
            raise OutOfStock(
                "库存不足", details={"location_id": location_id, "product_id": product_id, "qty": qty}
            )


def release(uow, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Give reserved units back to available (cancel, expiry)."""
    rows = uow.stock
    for product_id, qty in _ordered(lines):
        _expect(rows.release(location_id, product_id, qty), location_id, product_id)


def hand_over(uow, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Goods left the building (hand-over at pickup, shipped): on-hand and reserved both fall."""
    rows = uow.stock
    for product_id, qty in _ordered(lines):
        _expect(rows.hand_over(location_id, product_id, qty), location_id, product_id)


def restock(uow, location_id: int, lines: Iterable[tuple[int, int]]) -> None:
    """Goods came back (rejection at the door, return): on-hand rises."""
    rows = uow.stock
    for product_id, qty in _ordered(lines):
        if not rows.restock(location_id, product_id, qty):
            rows.create(location_id, product_id, qty)


def _expect(matched: bool, location_id: int, product_id: int) -> None:
    if not matched:
        raise Conflict(
            "库存记录与订单不一致", code="stock_inconsistent",
            details={"location_id": location_id, "product_id": product_id},
        )


def set_on_hand(uow, location_id: int, product_id: int, on_hand: int) -> StockLevel:
    """HQ count: set on-hand, refusing a figure below what orders already reserve."""
    if not 0 <= on_hand <= MAX_ON_HAND:
        raise ValidationFailed(f"on_hand 必须在 0 到 {MAX_ON_HAND} 之间", code="invalid_quantity")
    rows = uow.stock
    if not rows.set_count(location_id, product_id, on_hand):
        if rows.level(location_id, product_id) is not None:
            raise Conflict("在手库存不能低于已预留数量", code="on_hand_below_reserved")
        if not rows.create_unless_exists(location_id, product_id, on_hand):
            # Someone created the row between our UPDATE and INSERT: apply the count to it.
            return set_on_hand(uow, location_id, product_id, on_hand)
    return rows.level(location_id, product_id)


def adjust_on_hand(uow, location_id: int, product_id: int, delta: int) -> StockLevel:
    """HQ adjustment by a signed delta, never below reserved nor below zero."""
    if not -MAX_ON_HAND <= delta <= MAX_ON_HAND or delta == 0:
        raise ValidationFailed("调整数量无效", code="invalid_quantity")
    rows = uow.stock
    if rows.level(location_id, product_id) is None:
        return set_on_hand(uow, location_id, product_id, delta)
    if not rows.adjust(location_id, product_id, delta):
        raise Conflict("调整后在手库存将低于已预留数量", code="on_hand_below_reserved")
    return rows.level(location_id, product_id)


def count(location_id: int, sku: str, *, on_hand: int | None = None, delta: int | None = None) -> StockLevel:
    """HQ sets a location's on-hand for a SKU (`on_hand`) or adjusts it (`delta`), in one transaction."""
    with unit_of_work() as uow:
        if not uow.locations.exists(location_id):
            raise NotFound("门店或仓库不存在", code="location_not_found")
        product_id = uow.catalog.product_id(sku)
        if product_id is None:
            raise NotFound("商品不存在", code="unknown_sku", details={"skus": [sku]})
        if on_hand is not None:
            return set_on_hand(uow, location_id, product_id, on_hand)
        return adjust_on_hand(uow, location_id, product_id, delta)
