"""Goods leave the store only when every weighed line's difference is settled; an order paid when the
goods leave (cash on delivery, pay at the counter) is paid in its amount due."""
from __future__ import annotations

from ..errors import Conflict
from .repository import WeighingRepository


def ensure_settled(connection, order_id: int) -> None:
    """Refuse the hand-over (or shipping) while a weighed line still has a difference to settle."""
    unsettled = WeighingRepository(connection).unsettled_lines(order_id)
    if unsettled:
        raise Conflict("还有称重差额未处理(多退少补),请先结算再交付", code="weighing_unsettled",
                       details={"unsettled_lines": unsettled})


def amount_due(connection, order) -> int:
    """What an order paid on hand-over costs now: its total plus the weighed lines settled in the amount due."""
    return order.total + WeighingRepository(connection).due_change(order.id)


def pickup_guard(connection, order, taking) -> None:
    """The pickup hand-over's guard (app.pickup.verification): every weighed line settled first."""
    ensure_settled(connection, order.id)


def install() -> None:
    from ..pickup.verification import register_handover_guard

    register_handover_guard(pickup_guard)
