"""The member's message centre (消息中心): notices about their orders, such as 提货消息通知.

Messages are fed by committed domain events (app.events): the subscriber writes one row per (order,
kind) with a single INSERT ... SELECT that reads the order in the same statement, so a repeated event
writes nothing twice and a payment costs one small statement more. A message keeps only its kind, its
order and its times; the title and text are composed when read, from the order as it is then.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

PICKUP_CODE = "pickup_code"      # 提货消息通知: paid (or to pay at the store), the code is ready
PICKUP_READY = "pickup_ready"    # the store has the goods ready for collection
SHIPPED = "shipped"              # a delivery left the store or warehouse
PICKUP_REMINDER = "pickup_reminder"  # the pickup deadline passed and the goods still wait (app/pickup/deadlines)
# A member's return (app/returns) moved on: one message per return and state it reached ("return_<state>").
RETURN_KINDS = tuple(f"return_{status}" for status in ("requested", "withdrawn", "approved", "refused", "shipped",
                                                       "refunded"))
KINDS = (PICKUP_CODE, PICKUP_READY, SHIPPED, PICKUP_REMINDER, *RETURN_KINDS)
NO_RETURN = 0  # return_id of a message that is about the order itself


class MemberMessage(db.Model):
    __tablename__ = "member_messages"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", "return_id", name="uq_member_messages_order_kind_return"),
        Index("ix_member_messages_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # The return the message is about (a member may return lines of one order more than once); 0: none.
    return_id: Mapped[int] = mapped_column(Integer, default=NO_RETURN, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
