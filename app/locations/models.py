"""Stores and warehouses (locations), and the 4th-level address areas a store delivers to."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

STORE = "store"
WAREHOUSE = "warehouse"


class Location(db.Model):
    __tablename__ = "locations"
    __table_args__ = (CheckConstraint("kind IN ('store', 'warehouse')", name="ck_locations_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str] = mapped_column(String(32))
    district: Mapped[str] = mapped_column(String(32))
    street: Mapped[str] = mapped_column(String(64))
    address_detail: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    # Electronic fence: a polygon as a list of [lat, lng] points, or null.
    fence: Mapped[list | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Re-weighing: the most an order's top-ups may be waived by at this store, in fen (None: the chain's
    # WEIGH_WAIVE_LIMIT).
    weigh_waive_limit: Mapped[int | None] = mapped_column(Integer)

    areas: Mapped[list["DeliveryArea"]] = relationship(back_populates="location")


class DeliveryArea(db.Model):
    """One 4th-level address area (province + city + district + street/town) a store delivers to."""

    __tablename__ = "delivery_areas"
    __table_args__ = (
        Index("ix_delivery_areas_street", "province", "city", "street"),
        Index("ix_delivery_areas_district", "province", "city", "district"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str] = mapped_column(String(32))
    district: Mapped[str] = mapped_column(String(32))
    street: Mapped[str] = mapped_column(String(64))

    location: Mapped[Location] = relationship(back_populates="areas")
