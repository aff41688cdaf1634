"""Per-member limits on what unpaid online orders may hold: how many may be open at once and how
many units they may reserve together. Stock reserved for an order nobody pays is stock no one else
can buy until it expires; without limits one account could hold a store's shelves.

The check runs in the placing unit of work: it locks the member's row (PostgreSQL; on SQLite the
unit of work already runs alone), so a member racing themselves cannot slip past, and counts through
a partial index of unpaid orders, reading at most `max_orders` of them."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Conflict


@dataclass(frozen=True)
class MemberLimits:
    max_orders: int = 10  # open unpaid online orders per member (0: no limit)
    max_units: int = 2000  # units those orders reserve together, the new one included (0: no limit)

    @classmethod
    def from_config(cls, config) -> "MemberLimits":
        return cls(config["MAX_UNPAID_ORDERS_PER_MEMBER"], config["MAX_UNPAID_UNITS_PER_MEMBER"])


def check(uow, member_id: int, new_units: int, limits: MemberLimits) -> None:
    """Refuses (409) an unpaid online order that would exceed the member's limits (a step of the
    placing unit of work)."""
    if not limits.max_orders and not limits.max_units:
        return
    orders = uow.orders
    orders.serialise_member(member_id)
    row = orders.unpaid_holdings(member_id, limits.max_orders or 1_000_000)
    if row is None:
        return
    if limits.max_orders and row.orders >= limits.max_orders:
        raise Conflict(f"您有 {row.orders} 张待支付订单,请先支付或取消后再下单", code="too_many_unpaid_orders",
                       details={"limit": limits.max_orders})
    if limits.max_units and row.units + new_units > limits.max_units:
        raise Conflict(f"待支付订单最多保留 {limits.max_units} 件商品", code="too_many_unpaid_units",
                       details={"limit": limits.max_units, "held": int(row.units), "requested": new_units})
