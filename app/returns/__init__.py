"""Member returns (退货 / 电商退货): a member asks to return lines of a completed order, HQ approves or
refuses, the goods come back to the store or warehouse the order left from (brought to the counter, or
sent by courier with a tracking number), are restocked there and refunded to the original route.

States: requested (待审核) → approved (已同意) | refused (已拒绝) | withdrawn (已撤销, by the member while
requested); approved → shipped (已寄回: the member sent a parcel, tracking number noted) → refunded;
approved or shipped → refunded (已退款) when the goods are received: receipt, restock and refund are one
transaction, so no return sits "received but not refunded" (the refund itself may still be on its
way at the provider, or owed at the store's counter for money taken there).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

REQUESTED, APPROVED, REFUSED, WITHDRAWN, SHIPPED, REFUNDED = (
    "requested", "approved", "refused", "withdrawn", "shipped", "refunded")
STATUSES = (REQUESTED, APPROVED, REFUSED, WITHDRAWN, SHIPPED, REFUNDED)
LABELS = {REQUESTED: "待审核", APPROVED: "已同意", REFUSED: "已拒绝", WITHDRAWN: "已撤销", SHIPPED: "已寄回",
          REFUNDED: "已退款"}
# A return in one of these holds its units: they count against what may still be returned.
HOLDS_UNITS = (REQUESTED, APPROVED, SHIPPED, REFUNDED)
# Goods may be received while the return is in one of these.
RECEIVABLE = (APPROVED, SHIPPED)

REASONS = {"quality": "质量问题", "damaged": "商品破损", "wrong_item": "商家发错货", "not_as_described": "与描述不符",
           "not_wanted": "不想要了", "other": "其他"}


class ReturnRequest(db.Model):
    __tablename__ = "returns"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="ck_returns_amount"),
        Index("ix_returns_member", "member_id", "id"),
        Index("ix_returns_status", "status", "id"),
        Index("ix_returns_location_status", "location_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # Where the goods come back to: the store or warehouse the order left from.
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[int] = mapped_column(Integer)  # cents: the returned lines' paid value
    refuse_reason: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    carrier: Mapped[str] = mapped_column(String(32), default="")
    tracking_no: Mapped[str] = mapped_column(String(64), default="")
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ReturnLine(db.Model):
    __tablename__ = "return_lines"
    __table_args__ = (CheckConstraint("qty > 0", name="ck_return_lines_qty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)  # cents: qty × the line's unit price
