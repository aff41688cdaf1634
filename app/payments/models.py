"""Our side of payments: a payment attempt per provider transaction, and refunds to the original route."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# A refund of money taken at the store (the counter, cash on delivery): no provider can send it back, so
# it is owed at the store's counter until a clerk pays it out (then SUCCEEDED, with who, when and how).
AT_STORE = "at_store"
# Payments taken at the store (provider names): 到店付款 in cash or by card, cash on delivery counted back.
COUNTER_CASH, COUNTER_CARD, COD_CASH = "store_cash", "store_card", "cod_cash"
COUNTER_PROVIDERS = {"cash": COUNTER_CASH, "card": COUNTER_CARD}
TAKEN_AT_STORE = frozenset({COUNTER_CASH, COUNTER_CARD, COD_CASH})
PAYOUT_METHODS = {"cash": "现金", "card": "刷卡"}
# What a payment pays for: the order itself, or a top-up after re-weighing (补款) on an order already paid.
ORDER, TOPUP = "order", "topup"


class Payment(db.Model):
    __tablename__ = "payments"
    # paid_at: the store's book (app/ledger) reads payments by date (day-end, shift handover).
    __table_args__ = (CheckConstraint("amount > 0", name="ck_payments_amount"), Index("ix_payments_paid_at", "paid_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    # Our reference at the provider (商户订单号); unguessable and unique.
    out_trade_no: Mapped[str] = mapped_column(String(40), unique=True)
    provider_txn_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(8), default=ORDER, server_default=ORDER)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    pay_url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)


class Refund(db.Model):
    """A refund to the route the money came from: executed at the provider after our commit, or, for
    money taken at the store, owed at its counter (status at_store) until a clerk pays it out."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_refunds_amount"),
        Index("ix_refunds_status", "status"),
        # The store's book (app/ledger) reads refunds by when they were made and when paid out.
        Index("ix_refunds_created_at", "created_at"),
        Index("ix_refunds_done_at", "done_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    refund_no: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Paid out at the store's counter: by which clerk, and how (cash | card); done_at says when.
    paid_out_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    payout_method: Mapped[str | None] = mapped_column(String(8))
