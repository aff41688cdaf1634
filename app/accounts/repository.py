"""Data access for accounts as other packages need them: who a staff member or a member is."""
from __future__ import annotations

from sqlalchemy import select

from .models import Member, Staff


class AccountRepository:
    """Staff and members, read on a unit of work's (or a reader's) connection."""

    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def staff_name(self, staff_id: int | None) -> str | None:
        """The staff member's name (or username when unnamed); None when there is no such staff."""
        if staff_id is None:
            return None
        row = self._connection.execute(select(Staff.name, Staff.username).where(Staff.id == staff_id)).first()
        return (row.name or row.username) if row else None

    def member_contact(self, member_id: int | None):
        """(name, phone) of the member, or None."""
        if member_id is None:
            return None
        return self._connection.execute(select(Member.name, Member.phone).where(Member.id == member_id)).first()
