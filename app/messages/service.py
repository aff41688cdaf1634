"""Writing messages from domain events, and reading a member's message centre."""
from __future__ import annotations

from sqlalchemy import and_, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..clock import utcnow
from ..events import DomainEvent
from ..infra.unit_of_work import unit_of_work
from ..locations.models import Location
from ..orders import state
from ..orders.models import PICKUP, Order
from . import PICKUP_CODE, PICKUP_READY, PICKUP_REMINDER, SHIPPED, MemberMessage

PAGE = 50
_messages, _orders, _locations = MemberMessage.__table__, Order.__table__, Location.__table__

def message_kind(event: DomainEvent) -> str | None:
    """Which message an event deserves, if any (the order's method is checked when writing)."""
    payload = event.payload
    if not payload.get("member_id"):
        return None
    if event.name == "order.new":  # paid online, or placed to pay at the store: a pickup code exists
        return PICKUP_CODE
    if event.name == "pickup.reminder":
        return PICKUP_REMINDER
    if event.name == "order.status":
        return {state.READY_FOR_PICKUP: PICKUP_READY, state.SHIPPED: SHIPPED}.get(payload.get("status"))
    return None

def on_event(event: DomainEvent) -> None:
    kind = message_kind(event)
    if kind is None:
        return
    with unit_of_work() as uow:
        record(uow.connection, kind, event.payload["order_id"])

def record(connection, kind: str, order_id: int) -> None:
    """One message for the order's member unless it already has this one (or the kind does not fit
    the order's method): one INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    wants_pickup = kind in (PICKUP_CODE, PICKUP_READY, PICKUP_REMINDER)
    source = select(_orders.c.member_id, _orders.c.id, literal(kind), literal(utcnow())).where(
        _orders.c.id == order_id, _orders.c.member_id.is_not(None),
        (_orders.c.fulfilment == PICKUP) if wants_pickup else (_orders.c.fulfilment != PICKUP),
    )
    columns = ["member_id", "order_id", "kind", "created_at"]
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(insert(_messages).from_select(columns, source).on_conflict_do_nothing(
        index_elements=["order_id", "kind"]))

def _texts(kind: str, number: str, store: str) -> tuple[str, str, str]:
    """(title, text, where the message leads) for a message of `kind`."""
    if kind == PICKUP_CODE:
        return ("提货消息通知", f"订单 {number} 的提货码已生成,请到{store}出示二维码或提货码取货。", "pickup")
    if kind == PICKUP_REMINDER:
        return ("提货提醒", f"订单 {number} 的商品仍在{store}等您提取,已超过提货期限,逾期未取将自动取消并原路退款。", "pickup")
    if kind == PICKUP_READY:
        return ("商品已备好", f"订单 {number} 的商品已在{store}备好,可以到店提货了。", "pickup")
    return ("订单已发货", f"订单 {number} 已由{store}发出,收到后请确认收货。", "order")

def inbox(connection, member_id: int, before_id: int | None = None, limit: int = PAGE) -> dict:
    query = (select(_messages.c.id, _messages.c.kind, _messages.c.order_id, _messages.c.created_at,
                    _messages.c.read_at, _orders.c.number, _locations.c.name.label("store"))
             .join(_orders, _orders.c.id == _messages.c.order_id)
             .join(_locations, _locations.c.id == _orders.c.location_id)
             .where(_messages.c.member_id == member_id).order_by(_messages.c.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(_messages.c.id < before_id)
    rows = connection.execute(query).all()
    messages = []
    for row in rows:
        title, text, target = _texts(row.kind, row.number, row.store)
        link = f"/orders/{row.order_id}/pickup" if target == "pickup" else f"/orders/{row.order_id}"
        messages.append({"id": row.id, "kind": row.kind, "title": title, "text": text, "order_id": row.order_id,
                         "link": link, "created_at": row.created_at, "read": row.read_at is not None})
    return {"messages": messages, "unread": unread_count(connection, member_id),
            "next_before_id": rows[-1].id if len(rows) == limit else None}

def unread_count(connection, member_id: int) -> int:
    return connection.execute(select(func.count()).select_from(_messages).where(
        _messages.c.member_id == member_id, _messages.c.read_at.is_(None))).scalar_one()

def mark_read(member_id: int, message_id: int | None = None) -> int:
    """Mark one of the member's messages (or all of them) read; returns how many changed."""
    with unit_of_work() as uow:
        condition = and_(_messages.c.member_id == member_id, _messages.c.read_at.is_(None))
        if message_id is not None:
            condition = and_(condition, _messages.c.id == message_id)
        return uow.connection.execute(update(_messages).where(condition).values(read_at=utcnow())).rowcount
