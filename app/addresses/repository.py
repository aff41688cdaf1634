"""Data access for members' saved delivery addresses (the member_addresses table)."""
from __future__ import annotations

from sqlalchemy import delete, func, select

from .models import SavedAddress

_table = SavedAddress.__table__


class AddressRepository:
    """On a unit of work or a reader: its ORM session for the model objects, its connection for the delete."""

    __slots__ = ("_uow",)

    def __init__(self, uow):
        self._uow = uow

    def count(self, member_id: int) -> int:
        return self._uow.session.execute(select(func.count()).select_from(SavedAddress)
                                         .where(SavedAddress.member_id == member_id)).scalar_one()

    def add(self, member_id: int, address, contact_name: str, contact_phone: str) -> SavedAddress:
        """Saves a parsed address (locations.address.Address); the new row, with its id."""
        saved = SavedAddress(member_id=member_id, province=address.province, city=address.city,
                             district=address.district, street=address.street, detail=address.detail,
                             contact_name=contact_name, contact_phone=contact_phone)
        self._uow.session.add(saved)
        self._uow.session.flush()
        return saved

    def of_member(self, member_id: int) -> list[SavedAddress]:
        """Newest first."""
        return list(self._uow.session.execute(select(SavedAddress).where(SavedAddress.member_id == member_id)
                                              .order_by(SavedAddress.id.desc())).scalars())

    def remove(self, member_id: int, address_id: int) -> bool:
        """False when the member has no such address (someone else's included)."""
        return bool(self._uow.connection.execute(
            delete(_table).where(_table.c.id == address_id, _table.c.member_id == member_id)).rowcount)
