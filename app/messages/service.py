"""Writing messages from domain events, and reading a member's message centre."""
from __future__ import annotations

from ..clock import utcnow
from ..events import DomainEvent
from ..infra.unit_of_work import unit_of_work
from ..orders import state
from . import PICKUP_CODE, PICKUP_READY, PICKUP_REMINDER, SHIPPED

PAGE = 50


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
        record(uow.messages, kind, event.payload["order_id"])

def record(messages, kind: str, order_id: int) -> None:
    """One message for the order's member unless it already has this one (or the kind does not fit
    the order's method). `messages`: the unit of work's message repository."""
    wants_pickup = kind in (PICKUP_CODE, PICKUP_READY, PICKUP_REMINDER)
    messages.add_for_order(kind, order_id, pickup_only=wants_pickup, now=utcnow())

RETURN_TEXTS = {
    "return_requested": ("退货申请已提交", "订单 {number} 的退货申请已提交,等待总部审核。"),
    "return_withdrawn": ("退货申请已撤销", "订单 {number} 的退货申请已撤销。"),
    "return_approved": ("退货申请已同意", "订单 {number} 的退货申请已同意,请将商品送到{store},或快递寄回并填写快递单号。"),
    "return_refused": ("退货申请未通过", "订单 {number} 的退货申请未通过,原因请查看订单详情。"),
    "return_shipped": ("退货快递已登记", "订单 {number} 的退货快递单号已登记,门店收货后将为您退款。"),
    "return_refunded": ("退货已退款", "订单 {number} 的退货已收货,退款已原路退回(到店付款的订单请到门店柜台领取)。"),
}


def _texts(kind: str, number: str, store: str) -> tuple[str, str, str]:
    """(title, text, where the message leads) for a message of `kind`."""
    if kind in RETURN_TEXTS:
        title, text = RETURN_TEXTS[kind]
        return title, text.format(number=number, store=store), "order"
    if kind == PICKUP_CODE:
        return ("提货消息通知", f"订单 {number} 的提货码已生成,请到{store}出示二维码或提货码取货。", "pickup")
    if kind == PICKUP_REMINDER:
        return ("提货提醒", f"订单 {number} 的商品仍在{store}等您提取,已超过提货期限,逾期未取将自动取消并原路退款。", "pickup")
    if kind == PICKUP_READY:
        return ("商品已备好", f"订单 {number} 的商品已在{store}备好,可以到店提货了。", "pickup")
    return ("订单已发货", f"订单 {number} 已由{store}发出,收到后请确认收货。", "order")

def inbox(source, member_id: int, before_id: int | None = None, limit: int = PAGE) -> dict:
    """The member's message centre page (`source`: a reader or a unit of work)."""
    rows = source.messages.page(member_id, before_id, limit)
    messages = []
    for row in rows:
        title, text, target = _texts(row.kind, row.number, row.store)
        link = f"/orders/{row.order_id}/pickup" if target == "pickup" else f"/orders/{row.order_id}"
        messages.append({"id": row.id, "kind": row.kind, "title": title, "text": text, "order_id": row.order_id,
                         "link": link, "created_at": row.created_at, "read": row.read_at is not None})
    return {"messages": messages, "unread": source.messages.unread_count(member_id),
            "next_before_id": rows[-1].id if len(rows) == limit else None}

def unread_count(source, member_id: int) -> int:
    return source.messages.unread_count(member_id)

def mark_read(member_id: int, message_id: int | None = None) -> int:
    """Mark one of the member's messages (or all of them) read; returns how many changed."""
    with unit_of_work() as uow:
        return uow.messages.mark_read(member_id, message_id, utcnow())
