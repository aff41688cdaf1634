"""Bridges registered by HQ for a store, and durable print jobs for them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

JOB_KINDS = ("receipt", "pickup_ticket", "delivery_note", "drawer_kick")
QUEUED, PRINTED, FAILED, EXPIRED = "queued", "printed", "failed", "expired"
JOB_STATUSES = (QUEUED, PRINTED, FAILED, EXPIRED)


class Device(db.Model):
    """A hardware bridge on a store PC. Only the SHA-256 of its token is kept: the token is shown once
    at registration, and a leaked table does not let anyone connect as a bridge."""

    __tablename__ = "devices"

    __table_args__ = (
        # Clerks pick a store's scale and printers by the bridge's name: two live bridges of one store
        # may not share one (a revoked bridge gives its name up).
        Index("uq_devices_store_live_name", "store_id", "name", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(12))  # the token's first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The Socket.IO session of its open connection (any server worker), null when it is not connected.
    connected_sid: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    # What the bridge last reported: {"version", "scale": {...} | null, "printers": [{...}]}.
    hardware: Mapped[dict | None] = mapped_column(JSON)


class PrintJob(db.Model):
    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('receipt', 'pickup_ticket', 'delivery_note', 'drawer_kick')", name="ck_print_jobs_kind"),
        CheckConstraint("status IN ('queued', 'printed', 'failed', 'expired')", name="ck_print_jobs_status"),
        Index("ix_print_jobs_device_status", "device_id", "status"),
        Index("ix_print_jobs_store_created", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    printer: Mapped[str | None] = mapped_column(String(50))  # the bridge's printer name; null: its first
    document: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(64))  # "auto" or the staff actor
    # Set on automatic jobs ("auto-receipt:<order id>"), so a repeated event never queues a second one.
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    printed_at: Mapped[datetime | None] = mapped_column(DateTime)
