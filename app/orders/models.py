"""Orders from every channel, their lines, and the append-only event history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db

# Channels (渠道)
MALL, POS, PLATFORM, PHONE = "mall", "pos", "platform", "phone"
CHANNELS = (MALL, POS, PLATFORM, PHONE)
# Fulfilment methods (配送方式)
PICKUP, STORE_DELIVERY, EXPRESS = "pickup", "store_delivery", "express"
FULFILMENTS = (PICKUP, STORE_DELIVERY, EXPRESS)
# Payment methods and statuses
ONLINE, COD, AT_STORE = "online", "cod", "at_store"  # at_store: a pickup order paid at the counter (到店付款)
PAYMENT_METHODS = (ONLINE, COD, AT_STORE)
# A third-party platform's order: the platform collected the money (never a shopper's choice here).
PLATFORM_COLLECTED = "platform"
UNPAID, PAID, PARTIALLY_REFUNDED, REFUNDED = "unpaid", "paid", "partially_refunded", "refunded"


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total >= 0 AND goods_total >= 0 AND delivery_fee >= 0", name="ck_orders_money"),
        # A member's orders newest first (by id): the index yields them in order, no sort.
        Index("ix_orders_member", "member_id", "id"),
        # A retried POST /orders carries the same Idempotency-Key: one order per member and key.
        Index("uq_orders_member_idempotency_key", "member_id", "idempotency_key", unique=True,
              sqlite_where=text("idempotency_key IS NOT NULL"), postgresql_where=text("idempotency_key IS NOT NULL")),
        # A store's orders newest first (clerk's list), by status too (and the clerk queue, one status at a
        # time: orders.queries.open_orders), HQ's by status; id last so a page comes in index order
        # without sorting the history. The expiry and escalation sweeps read their status's rows through
        # ix_orders_status_id (open orders only, few). Plans at scale: tests/test_list_plans.py.
        Index("ix_orders_location_id", "location_id", "id"),
        Index("ix_orders_location_status", "location_id", "status", "id"),
        Index("ix_orders_status_id", "status", "id"),
        # A member's unpaid online orders, for the per-member limits (member_limits.py).
        Index("ix_orders_member_unpaid", "member_id", sqlite_where=text("status = 'pending_payment'"),
              postgresql_where=text("status = 'pending_payment'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    channel: Mapped[str] = mapped_column(String(16))
    fulfilment: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    payment_method: Mapped[str] = mapped_column(String(8))
    payment_status: Mapped[str] = mapped_column(String(20), default=UNPAID)
    status: Mapped[str] = mapped_column(String(24))
    routing_reason: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[dict | None] = mapped_column(JSON)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    goods_total: Mapped[int] = mapped_column(Integer)
    delivery_fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Unpaid online orders lapse at this time and give their stock back.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The member's Idempotency-Key and a fingerprint of the request body that placed the order.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", lazy="selectin", order_by="OrderLine.id", cascade="all, delete-orphan"
    )


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="ck_order_lines_qty"),
        CheckConstraint("handed_over_qty >= 0 AND handed_over_qty <= qty", name="ck_order_lines_handed_over"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(Integer)
    # Weighed goods sold per piece: the nominal grams per piece and the price per kg at the time of
    # ordering (the conversion the line was sold with; re-weighing settles against it).
    standard_weight_g: Mapped[int | None] = mapped_column(Integer)
    # Units already handed to the member (partial pickup); the rest stays reserved at the store.
    handed_over_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    price_per_kg: Mapped[int | None] = mapped_column(Integer)
    # Goods added at re-weighing to make up a shortfall (增补商品): the line they make up for.
    adjusts_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))

    order: Mapped[Order] = relationship(back_populates="lines", foreign_keys=[order_id])


class OrderEvent(db.Model):
    """Append-only history: who moved the order from which status to which, when and why.

    The migration adds triggers that refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "order_events"
    # The store's book (app/ledger) reads completions by date (the day-end); partial, so the other
    # history entries written on every order's path maintain no index for it.
    __table_args__ = (Index("ix_order_events_completed_at", "at", sqlite_where=text("to_status = 'completed'"),
                            postgresql_where=text("to_status = 'completed'")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
