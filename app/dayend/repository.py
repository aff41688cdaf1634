"""Data access for day-ends (the day_ends, day_end_items and day_end_lines tables are written here and
nowhere else; `uow.day_ends`, or a reader's)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..ledger import Movement
from ..ledger.repository import LedgerRepository
from ..locations.models import Location
from ..orders.models import Order, OrderLine
from .models import DayEnd, DayEndItem, DayEndLine

_d, _i, _l = DayEnd.__table__, DayEndItem.__table__, DayEndLine.__table__
_o, _ol, _loc = Order.__table__, OrderLine.__table__, Location.__table__
_MOVEMENT_COLUMNS = [_i.c[name] for name in Movement._fields]
_LINE_FIELDS = ("order_number", "kind", "sku", "name", "qty", "unit_price", "amount", "location_code")


class DayEndRepository:
    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def find(self, store_id: int, business_date: date):
        """The store's closed day (id, store_id, business_date, closed_at, closed_by), or None."""
        return self._connection.execute(
            select(_d).where(_d.c.store_id == store_id, _d.c.business_date == business_date)).first()

    def closed_dates(self, store_id: int, before: date, limit: int) -> list[date]:
        """The store's closed business dates before `before`, newest first."""
        return list(self._connection.execute(
            select(_d.c.business_date).where(_d.c.store_id == store_id, _d.c.business_date < before)
            .order_by(_d.c.business_date.desc()).limit(limit)).scalars())

    def unreported(self, store_id: int, start: datetime, end: datetime) -> list[Movement]:
        """The store's movements dated in [start, end) that no closed day counted."""
        return LedgerRepository(self._connection).movements(store_id, start, end, counted_in=_i)

    def insert_day_end(self, store_id: int, business_date: date, closed_at: datetime, closed_by: int) -> int | None:
        """Write the closed day; its id, or None when that day was closed already (a unique constraint
        decides between concurrent closes: the loser inserts nothing)."""
        dialect_insert = postgresql_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        return self._connection.execute(
            dialect_insert(_d).values(store_id=store_id, business_date=business_date, closed_at=closed_at,
                                      closed_by=closed_by)
            .on_conflict_do_nothing(index_elements=["store_id", "business_date"]).returning(_d.c.id)).scalar()

    def insert_snapshot(self, day_end_id: int, movements: list[Movement], lines: list[dict]) -> None:
        if movements:
            self._connection.execute(insert(_i), [{"day_end_id": day_end_id, **m._asdict()} for m in movements])
        if lines:
            self._connection.execute(insert(_l), [{"day_end_id": day_end_id, **line} for line in lines])

    def items(self, day_end_id: int) -> list[Movement]:
        rows = self._connection.execute(select(*_MOVEMENT_COLUMNS).where(_i.c.day_end_id == day_end_id)
                                        .order_by(_i.c.at, _i.c.kind, _i.c.ref_id)).all()
        return [Movement(*row) for row in rows]

    def lines(self, day_end_id: int) -> list[dict]:
        rows = self._connection.execute(select(*(_l.c[f] for f in _LINE_FIELDS)).where(_l.c.day_end_id == day_end_id)
                                        .order_by(_l.c.id)).all()
        return [dict(row._mapping) for row in rows]

    def sold_lines(self, order_ids: list[int]) -> list[dict]:
        """Goods lines and delivery fees of these orders, with the code of the location the goods left."""
        if not order_ids:
            return []
        rows = self._connection.execute(
            select(_o.c.id, _o.c.number, _o.c.delivery_fee, _loc.c.code, _ol.c.sku, _ol.c.name, _ol.c.qty,
                   _ol.c.unit_price, _ol.c.line_total)
            .select_from(_o.join(_loc, _loc.c.id == _o.c.location_id).join(_ol, _ol.c.order_id == _o.c.id))
            .where(_o.c.id.in_(order_ids)).order_by(_o.c.id, _ol.c.id)).all()
        lines, fees = [], {}
        for row in rows:
            lines.append({"order_number": row.number, "kind": "goods", "sku": row.sku, "name": row.name, "qty": row.qty,
                          "unit_price": row.unit_price, "amount": row.line_total, "location_code": row.code})
            if row.delivery_fee:
                fees[row.id] = {"order_number": row.number, "kind": "fee", "sku": "FREIGHT", "name": "运费", "qty": 1,
                                "unit_price": row.delivery_fee, "amount": row.delivery_fee, "location_code": row.code}
        return lines + list(fees.values())

    def store(self, store_id: int):
        """(id, code, name, kind) of the location, or None."""
        return self._connection.execute(
            select(_loc.c.id, _loc.c.code, _loc.c.name, _loc.c.kind).where(_loc.c.id == store_id)).first()
