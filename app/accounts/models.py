"""Members (shoppers, keyed on mobile number) and staff (clerks, couriers, HQ) with their store."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

MEMBER = "member"
CLERK = "clerk"
COURIER = "courier"
HQ = "hq"
STAFF_ROLES = (CLERK, COURIER, HQ)


class Member(db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(16), default="普通会员")
    points: Mapped[int] = mapped_column(Integer, default=0)
    # Tokens carry the version they were issued under; a bump (password change) revokes them all.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Staff(db.Model):
    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint("role IN ('clerk', 'courier', 'hq')", name="ck_staff_role"),
        # Store staff always belong to a store; HQ staff never need one.
        CheckConstraint("role = 'hq' OR store_id IS NOT NULL", name="ck_staff_store"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on deactivation and password change: every token issued before stops working.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


def masked_phone(phone: str | None) -> str:
    """A mobile number as staff screens show it (138****0001): enough to match the member's own phone."""
    return phone[:3] + "****" + phone[-4:] if phone and len(phone) >= 8 else phone or ""
