"""The delivery note (配送单): how a shipped order travels, who carries it, what came back."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

CARRIER, STAFF = "carrier", "staff"  # a carrier with a tracking number, or the store's own staff
OUT, DELIVERED, REJECTED, SETTLED, RETURNED = "out", "delivered", "rejected", "settled", "returned"
NOTE_STATUSES = (OUT, DELIVERED, REJECTED, SETTLED, RETURNED)


class DeliveryNote(db.Model):
    """One per shipped order. out → delivered → settled (COD cash checked back, or nothing to check)
    or out → rejected → returned (goods checked back in at the store)."""

    __tablename__ = "delivery_notes"
    __table_args__ = (
        CheckConstraint("mode IN ('carrier', 'staff')", name="ck_delivery_notes_mode"),
        CheckConstraint("(mode = 'carrier' AND carrier <> '' AND tracking_no <> '') OR "
                        "(mode = 'staff' AND courier_id IS NOT NULL)", name="ck_delivery_notes_carried"),
        CheckConstraint("cod_amount >= 0", name="ck_delivery_notes_cod"),
        Index("ix_delivery_notes_courier_status", "courier_id", "status"),
        Index("ix_delivery_notes_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    mode: Mapped[str] = mapped_column(String(8))
    carrier: Mapped[str] = mapped_column(String(32), default="")
    tracking_no: Mapped[str] = mapped_column(String(64), default="")
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(10), default=OUT)
    # Cash to collect at the door (货到付款), in cents; 0 for a paid order.
    cod_amount: Mapped[int] = mapped_column(Integer, default=0)
    cash_collected: Mapped[int | None] = mapped_column(Integer)
    reject_reason: Mapped[str] = mapped_column(String(200), default="")
    shipped_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    shipped_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime)
    # 回店校验: when, by whom, the cash counted and its difference against what was due.
    checked_back_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_back_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cash_counted: Mapped[int | None] = mapped_column(Integer)
    cash_difference: Mapped[int | None] = mapped_column(Integer)
