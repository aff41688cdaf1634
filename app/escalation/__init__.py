"""Escalation of orders nobody accepts in time (超时未接单): a louder alert to the store and a line for HQ."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class OrderEscalation(db.Model):
    """An order escalated once: the row's primary key is the guard (a conditional INSERT), so however
    many workers run the job, each order is escalated exactly once."""

    __tablename__ = "order_escalations"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    escalated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
