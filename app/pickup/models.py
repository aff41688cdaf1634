"""A pickup order's code, and the audit trail of every attempt to verify one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

OPEN, USED, VOID = "open", "used", "void"


class PickupCode(db.Model):
    """One code per pickup order. `open` while goods wait at the store (also between partial hand-overs),
    `used` once everything is handed over, `void` when the order closed without it."""

    __tablename__ = "pickup_codes"
    __table_args__ = (
        # No two open codes are alike: a typed code names exactly one order. Used and void codes
        # leave the index, so the (astronomically rare) reuse of an old number is allowed.
        Index("uq_pickup_codes_open_code", "code", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        Index("ix_pickup_codes_code", "code"),
        Index("ix_pickup_codes_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    code: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    # Bumped by every hand-over: a hand-over is a conditional UPDATE on (status, version), so of
    # two clerks confirming at the same moment exactly one wins.
    version: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Not collected by then: the member is reminded, then the order may be cancelled (jobs).
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The last hand-over (the only one when the order was collected at once).
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime)
    handed_over_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class PickupAttempt(db.Model):
    """Every verification attempt, successful or not (审计). Failed guesses (`guess`) drive the throttle."""

    __tablename__ = "pickup_attempts"
    __table_args__ = (
        Index("ix_pickup_attempts_staff_at", "staff_id", "at"),
        Index("ix_pickup_attempts_store_at", "store_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    input_kind: Mapped[str] = mapped_column(String(8))  # typed | qr
    # Typed codes are kept masked (last 4 digits): the audit must not become a list of live codes.
    input_hint: Mapped[str] = mapped_column(String(16), default="")
    confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(32))
    guess: Mapped[bool] = mapped_column(Boolean, default=False)


class PickupGuessCounter(db.Model):
    """The guess throttle's count per scope ("staff:<id>", "store:<id>") in its current window. Every
    verification counts itself here first, by one atomic upsert, and is refused if that makes too many:
    so concurrent guesses can never pass the limit; an attempt that turns out not to be a guess (found
    the order) is taken back. The audit (pickup_attempts) keeps every attempt."""

    __tablename__ = "pickup_guess_counters"

    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
