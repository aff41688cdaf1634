"""Data access for shift handovers (the shift_handovers table is written here and nowhere else;
`uow.shifts`, or a reader's)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..accounts.models import Staff
from ..ledger import PAYMENT, PAYOUT, Movement
from ..ledger.repository import LedgerRepository
from .models import ShiftHandover

_h, _s = ShiftHandover.__table__, Staff.__table__


class ShiftRepository:
    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def last(self, store_id: int):
        """The store's latest handover, or None."""
        return self._connection.execute(select(_h).where(_h.c.store_id == store_id)
                                        .order_by(_h.c.shift_no.desc()).limit(1)).first()

    def history(self, store_id: int, limit: int) -> list:
        """The store's handovers, newest first, each with the closing clerk's name (`clerk`)."""
        return self._connection.execute(
            select(_h, _s.c.name.label("clerk")).join(_s, _s.c.id == _h.c.closed_by)
            .where(_h.c.store_id == store_id).order_by(_h.c.shift_no.desc()).limit(limit)).all()

    def cash_movements(self, store_id: int, start: datetime | None, end: datetime) -> list[Movement]:
        """Payments and counter payouts of the store in [start, end): what moves the drawer's cash."""
        return LedgerRepository(self._connection).movements(store_id, start, end, kinds=(PAYMENT, PAYOUT))

    def insert(self, values: dict) -> int | None:
        """Write the handover; its id, or None when that shift number of the store exists already."""
        dialect_insert = postgresql_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        return self._connection.execute(
            dialect_insert(_h).values(**values).on_conflict_do_nothing(index_elements=["store_id", "shift_no"])
            .returning(_h.c.id)).scalar()
