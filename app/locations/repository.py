"""Data access for stores and warehouses (ORM objects: routing reads few of them, and responses
show their delivery areas)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .models import STORE, WAREHOUSE, DeliveryArea, Location


class LocationRepository:
    __slots__ = ("_session",)

    def __init__(self, session):
        self._session = session

    def exists(self, location_id: int) -> bool:
        return self._session.get(Location, location_id) is not None

    def stores_covering(self, province: str, city: str, *, street: str | None = None,
                        district: str | None = None) -> list[Location]:
        """Active stores with a delivery area at this street (or, given `district`, this district)."""
        level, value = (DeliveryArea.street, street) if street is not None else (DeliveryArea.district, district)
        covering = select(DeliveryArea.location_id).where(
            DeliveryArea.province == province, DeliveryArea.city == city, level == value
        )
        return list(self._session.execute(
            select(Location)
            .where(Location.kind == STORE, Location.active.is_(True), Location.id.in_(covering))
            .order_by(Location.id)
        ).scalars())

    def fenced_stores(self) -> list[Location]:
        """Active stores with an electronic fence."""
        return list(self._session.execute(
            select(Location).where(Location.kind == STORE, Location.active.is_(True), Location.fence.is_not(None))
            .order_by(Location.id)
        ).scalars())

    def warehouses(self) -> list[Location]:
        """Active warehouses."""
        return list(self._session.execute(
            select(Location).where(Location.kind == WAREHOUSE, Location.active.is_(True)).order_by(Location.id)
        ).scalars())

    def active(self, kind: str | None = None) -> list[Location]:
        """Active locations (of one kind), with their delivery areas loaded."""
        query = select(Location).options(selectinload(Location.areas)).where(Location.active.is_(True)).order_by(Location.id)
        if kind:
            query = query.where(Location.kind == kind)
        return list(self._session.execute(query).scalars())
