"""Data access for member returns (the returns and return_lines tables are written here and nowhere
else). Returns are rare: the unit of work's ORM session. State changes are compare-and-set UPDATEs on
the status the caller read, so of two clerks receiving the same return exactly one moves it."""
from __future__ import annotations

from sqlalchemy import func, select, update

from ..orders.models import Order, OrderLine
from . import HOLDS_UNITS, RECEIVABLE, ReturnLine, ReturnRequest


class ReturnRepository:
    """Returns in one unit of work or reader (`source`: anything with a `session`)."""

    __slots__ = ("_source",)

    def __init__(self, source):
        self._source = source

    @property
    def _session(self):
        return self._source.session

    def add(self, request: ReturnRequest, lines: list[ReturnLine]) -> ReturnRequest:
        self._session.add(request)
        self._session.flush()
        for line in lines:
            line.return_id = request.id
        self._session.add_all(lines)
        self._session.flush()
        return request

    def get(self, return_id: int, *, fresh: bool = False) -> ReturnRequest | None:
        return self._session.get(ReturnRequest, return_id, populate_existing=fresh)

    def units_held(self, order_id: int) -> dict[int, int]:
        """Units of each of the order's lines already asked back by returns that still hold them
        (requested, approved, shipped, refunded), by order line id."""
        rows = self._session.execute(
            select(ReturnLine.order_line_id, func.sum(ReturnLine.qty))
            .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
            .where(ReturnRequest.order_id == order_id, ReturnRequest.status.in_(HOLDS_UNITS))
            .group_by(ReturnLine.order_line_id)).all()
        return {line_id: int(qty) for line_id, qty in rows}

    def move(self, return_id: int, from_statuses: tuple[str, ...], to_status: str, **values) -> bool:
        """Compare-and-set: the return moves to `to_status` (with `values`) only if it is still in one of
        `from_statuses`; False when someone moved it first."""
        changed = self._session.execute(
            update(ReturnRequest).where(ReturnRequest.id == return_id, ReturnRequest.status.in_(from_statuses))
            .values(status=to_status, **values).execution_options(synchronize_session=False)).rowcount
        return changed == 1

    def lines_of(self, return_ids: list[int]) -> dict[int, list[tuple[ReturnLine, OrderLine]]]:
        """Each return's lines, each with the order line it returns units of."""
        lines: dict[int, list] = {rid: [] for rid in return_ids}
        if return_ids:
            for line, order_line in self._session.execute(
                    select(ReturnLine, OrderLine).join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
                    .where(ReturnLine.return_id.in_(return_ids)).order_by(ReturnLine.id)).all():
                lines[line.return_id].append((line, order_line))
        return lines

    def of_member(self, member_id: int, *, order_id: int | None = None, limit: int = 50) -> list[tuple[ReturnRequest, Order]]:
        query = self._listing().where(ReturnRequest.member_id == member_id)
        if order_id is not None:
            query = query.where(ReturnRequest.order_id == order_id)
        return self._rows(query.order_by(ReturnRequest.id.desc()).limit(limit))

    def by_status(self, status: str | None, limit: int = 100) -> list[tuple[ReturnRequest, Order]]:
        """HQ's list: returns in `status` (any, when None), newest first."""
        query = self._listing()
        if status is not None:
            query = query.where(ReturnRequest.status == status)
        return self._rows(query.order_by(ReturnRequest.id.desc()).limit(limit))

    def receivable_at(self, location_id: int, limit: int = 100) -> list[tuple[ReturnRequest, Order]]:
        """Approved (or shipped) returns whose goods come back to this location, oldest first."""
        query = self._listing().where(ReturnRequest.location_id == location_id, ReturnRequest.status.in_(RECEIVABLE))
        return self._rows(query.order_by(ReturnRequest.id).limit(limit))

    def received_at(self, location_id: int, limit: int = 20) -> list[tuple[ReturnRequest, Order]]:
        """Returns recently received at this location, newest first."""
        query = self._listing().where(ReturnRequest.location_id == location_id, ReturnRequest.received_at.is_not(None))
        return self._rows(query.order_by(ReturnRequest.received_at.desc(), ReturnRequest.id.desc()).limit(limit))

    @staticmethod
    def _listing():
        return select(ReturnRequest, Order).join(Order, Order.id == ReturnRequest.order_id)

    def _rows(self, query) -> list[tuple[ReturnRequest, Order]]:
        return [tuple(row) for row in self._session.execute(query).all()]
