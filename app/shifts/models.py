"""Shift handovers (交接班) of a store's cash drawer."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ShiftHandover(db.Model):
    """A closed shift: the store's shifts are numbered 1, 2, ... and (store_id, shift_no) is unique, so
    of two clerks closing the same shift at once one handover is written."""

    __tablename__ = "shift_handovers"
    __table_args__ = (UniqueConstraint("store_id", "shift_no", name="uq_shift_handovers_store_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    shift_no: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: the store's first shift
    closed_at: Mapped[datetime] = mapped_column(DateTime)
    closed_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    expected_cash: Mapped[int] = mapped_column(Integer)
    counted_cash: Mapped[int] = mapped_column(Integer)
    difference: Mapped[int] = mapped_column(Integer)  # counted − expected: > 0 长款, < 0 短款
    note: Mapped[str] = mapped_column(String(200), default="")
