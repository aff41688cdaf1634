"""The sandbox provider's own ledger tables (a real provider keeps these on its side)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

NOTIFY_PENDING, NOTIFY_DELIVERED, NOTIFY_GAVE_UP = "pending", "delivered", "gave_up"


class SandboxTransaction(db.Model):
    """The provider's own ledger (a real provider keeps this on its side)."""

    __tablename__ = "sandbox_transactions"

    txn_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    notify_url: Mapped[str] = mapped_column(String(300))
    paid_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    notify_status: Mapped[str] = mapped_column(String(16), default=NOTIFY_PENDING, index=True)
    notify_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_notify_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SandboxRefund(db.Model):
    __tablename__ = "sandbox_refunds"

    refund_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    txn_id: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
