"""Orders from third-party delivery platforms (美团 / 饿了么-style) and the write-back outbox.

`channel_orders` links a platform's order id to ours: its unique (platform, platform_order_id) key is
what makes a delivery repeated (or raced) by the platform create one order. `channel_outbox` holds
the status changes owed to the platform, written in the transaction of the change itself and
delivered by a background job (app/channels/outbox.py), so they survive a restart.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

# Outbox row states: pending (due at next_attempt_at), delivered, failed (attempts used up).
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class ChannelOrder(db.Model):
    __tablename__ = "channel_orders"
    __table_args__ = (UniqueConstraint("platform", "platform_order_id", name="uq_channel_orders_platform_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_order_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    # A fingerprint of the body that created the order: the same id with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    # What the platform says its customer paid (fen) and its own total for the goods: kept for
    # reconciliation; the order's lines carry our prices (README "Third-party platforms").
    paid_amount: Mapped[int] = mapped_column(Integer)
    platform_total: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ChannelOutbox(db.Model):
    __tablename__ = "channel_outbox"
    __table_args__ = (
        # The delivery job reads pending rows that are due; delivered and failed rows leave the index.
        Index("ix_channel_outbox_pending", "next_attempt_at", sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
        Index("ix_channel_outbox_order", "order_id", "id"),
        Index("ix_channel_outbox_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    # The order's status the platform is told of, and the JSON body sent (fixed when written).
    status: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    # Bumped by every claim: the claim is a compare-and-set on it, so one worker sends each attempt.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
