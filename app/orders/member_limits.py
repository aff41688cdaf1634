"""Per-member limits on what unpaid online orders may hold: how many may be open at once and how
many units they may reserve together. Stock reserved for an order nobody pays is stock no one else
can buy until it expires; without limits one account could hold a store's shelves.

The check runs in the placing unit of work: it locks the member's row (PostgreSQL; on SQLite the
unit of work already runs alone), so a member racing themselves cannot slip past, and counts through
a partial index of unpaid orders, reading at most `max_orders` of them."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal_column, select

from ..accounts.models import Member
from ..errors import Conflict
from ..infra.fastsql import FastStatement
from . import state
from .models import Order, OrderLine


@dataclass(frozen=True)
class MemberLimits:
    max_orders: int = 10  # open unpaid online orders per member (0: no limit)
    max_units: int = 2000  # units those orders reserve together, the new one included (0: no limit)

    @classmethod
    def from_config(cls, config) -> "MemberLimits":
        return cls(config["MAX_UNPAID_ORDERS_PER_MEMBER"], config["MAX_UNPAID_UNITS_PER_MEMBER"])


_orders, _lines, _members = Order.__table__, OrderLine.__table__, Member.__table__
_unpaid = (select(_orders.c.id).where(_orders.c.member_id == _members.c.id,
                                      _orders.c.status == literal_column(f"'{state.PENDING_PAYMENT}'"))
           .limit(bindparam("cap")).correlate(_members))
# Locking the member's row serialises their placements on PostgreSQL. The count is a statement of
# its own: under READ COMMITTED a statement that waited for a lock still reads its first snapshot.
_LOCK_MEMBER = FastStatement(select(_members.c.id).where(_members.c.id == bindparam("member")).with_for_update())
_OPEN_UNPAID = FastStatement(
    select(
        select(func.count()).select_from(_unpaid.subquery()).scalar_subquery().label("orders"),
        select(func.coalesce(func.sum(_lines.c.qty), 0)).where(_lines.c.order_id.in_(_unpaid)).scalar_subquery()
        .label("units"),
    ).where(_members.c.id == bindparam("member"))
)


def check(connection, member_id: int, new_units: int, limits: MemberLimits) -> None:
    """Refuses (409) an unpaid online order that would exceed the member's limits."""
    if not limits.max_orders and not limits.max_units:
        return
    if connection.dialect.name != "sqlite":  # SQLite: the unit of work already runs alone
        _LOCK_MEMBER.first(connection, {"member": member_id})
    cap = limits.max_orders or 1_000_000
    row = _OPEN_UNPAID.first(connection, {"member": member_id, "cap": cap})
    if row is None:
        return
    if limits.max_orders and row.orders >= limits.max_orders:
        raise Conflict(f"您有 {row.orders} 张待支付订单,请先支付或取消后再下单", code="too_many_unpaid_orders",
                       details={"limit": limits.max_orders})
    if limits.max_units and row.units + new_units > limits.max_units:
        raise Conflict(f"待支付订单最多保留 {limits.max_units} 件商品", code="too_many_unpaid_units",
                       details={"limit": limits.max_units, "held": int(row.units), "requested": new_units})
