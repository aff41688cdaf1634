"""A weighing of one order line and how its difference was settled."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

SCALE, TYPED = "scale", "typed"
SOURCES = (SCALE, TYPED)

# Statuses of a weighing.
OPEN = "open"  # weighed, difference not settled yet
AWAITING_PAYMENT = "awaiting_payment"  # the member is to pay a top-up
SETTLED = "settled"
SUPERSEDED = "superseded"  # replaced by a later weighing of the same line (kept for the history)
CURRENT = (OPEN, AWAITING_PAYMENT, SETTLED)


class LineWeighing(db.Model):
    __tablename__ = "line_weighings"
    __table_args__ = (
        CheckConstraint("weight_g >= 0 AND expected_g > 0 AND price_per_kg > 0 AND line_cost >= 0",
                        name="ck_line_weighings_figures"),
        CheckConstraint("source IN ('scale', 'typed')", name="ck_line_weighings_source"),
        CheckConstraint("line_cost + difference >= 0", name="ck_line_weighings_refund_within_cost"),
        CheckConstraint("refunded >= 0 AND goods_value >= 0 AND waived >= 0 AND collected >= 0",
                        name="ck_line_weighings_split_nonnegative"),
        # The backstop for "every fen accounted for": a settled difference is fully split.
        CheckConstraint(
            "status <> 'settled' OR "
            "refunded + goods_value + waived + collected + abs(due_change) = abs(difference)",
            name="ck_line_weighings_settled_in_full",
        ),
        # One current weighing per line: a new one supersedes it, or is refused (service.weigh).
        Index("uq_line_weighings_current", "line_id", unique=True,
              sqlite_where=text("status <> 'superseded'"), postgresql_where=text("status <> 'superseded'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    weight_g: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8))
    # The bridge device whose stable reading was taken (scale weighings); no FK: devices are the bridge's.
    device_id: Mapped[int | None] = mapped_column(Integer)
    # The line as sold, copied so the record stands on its own (receipts, disputes).
    pieces: Mapped[int] = mapped_column(Integer)
    expected_g: Mapped[int] = mapped_column(Integer)
    price_per_kg: Mapped[int] = mapped_column(Integer)
    line_cost: Mapped[int] = mapped_column(Integer)
    tolerance: Mapped[str] = mapped_column(String(16), default="")
    within_tolerance: Mapped[bool] = mapped_column(Boolean, default=False)
    difference: Mapped[int] = mapped_column(Integer)  # fen: > 0 the member owes, < 0 the member is owed
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    settlement: Mapped[str | None] = mapped_column(String(16))
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    goods_value: Mapped[int] = mapped_column(Integer, default=0)
    waived: Mapped[int] = mapped_column(Integer, default=0)
    collected: Mapped[int] = mapped_column(Integer, default=0)
    due_change: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    adjustment_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    topup_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    weighed_by: Mapped[str] = mapped_column(String(64))
    weighed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    settled_by: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime)
