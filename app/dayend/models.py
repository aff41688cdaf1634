"""A closed business day of a store (日结) and its snapshot: the movements it counted and, for the ERP,
the goods lines of the orders it sold. All three tables are append-only (the migration adds triggers)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class DayEnd(db.Model):
    """One per store and business date: the unique constraint is what lets only one close win."""

    __tablename__ = "day_ends"
    __table_args__ = (UniqueConstraint("store_id", "business_date", name="uq_day_ends_store_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    business_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class DayEndItem(db.Model):
    """A movement (app/ledger) counted in a closed day. (kind, ref_id) is unique: a sale, payment or
    refund is counted in one day's report only; one that arrives after its day closed is counted in the
    next open day."""

    __tablename__ = "day_end_items"
    __table_args__ = (UniqueConstraint("kind", "ref_id", name="uq_day_end_items_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_end_id: Mapped[int] = mapped_column(ForeignKey("day_ends.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    ref_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    order_id: Mapped[int] = mapped_column(Integer)
    order_number: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    payment_method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer)


class DayEndLine(db.Model):
    """A goods line (kind goods) or the delivery fee (kind fee) of an order sold in a closed day, as the
    ERP's outbound and invoice lines need it."""

    __tablename__ = "day_end_lines"
    __table_args__ = (Index("ix_day_end_lines_day_end", "day_end_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_end_id: Mapped[int] = mapped_column(ForeignKey("day_ends.id"))
    order_number: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    location_code: Mapped[str] = mapped_column(String(32))
