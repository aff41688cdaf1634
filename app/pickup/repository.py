"""Data access for pickup codes, verification attempts, the guess throttle's counters and the deadline
job (the pickup_codes, pickup_attempts and pickup_guess_counters tables are written here and nowhere
else). The hand-over path runs prebuilt statements (FastStatement); the rest is plain Core."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..infra.fastsql import FastStatement
from .models import OPEN, PickupAttempt, PickupCode, PickupGuessCounter

_codes, _attempts, _counters = PickupCode.__table__, PickupAttempt.__table__, PickupGuessCounter.__table__
_OPEN_ONLY = text("status = 'open'")
_INSERT_CODE = FastStatement({
    "sqlite": sqlite_insert(_codes).on_conflict_do_nothing(index_elements=[_codes.c.code], index_where=_OPEN_ONLY),
    "postgresql": postgresql_insert(_codes).on_conflict_do_nothing(index_elements=[_codes.c.code], index_where=_OPEN_ONLY)
    .returning(_codes.c.id),
})
_OF_ORDER = FastStatement(select(_codes).where(_codes.c.order_id == bindparam("oid")))
_VOID = FastStatement(update(_codes).where(_codes.c.order_id == bindparam("oid"), _codes.c.status == OPEN)
                      .values(status="void"))
_OPEN_BY_CODE = FastStatement(select(_codes).where(_codes.c.code == bindparam("c"), _codes.c.status == OPEN))
_LATEST_BY_CODE = FastStatement(select(_codes).where(_codes.c.code == bindparam("c")).order_by(_codes.c.id.desc())
                                .limit(1))
_BY_ID = FastStatement(select(_codes).where(_codes.c.id == bindparam("id")))
_HAND_OVER = FastStatement(
    update(_codes).where(_codes.c.id == bindparam("cid"), _codes.c.status == OPEN, _codes.c.version == bindparam("v"))
    .values(version=_codes.c.version + 1, status=bindparam("new_status"), handed_over_at=bindparam("now"),
            handed_over_by=bindparam("staff"))
)
_REMIND = FastStatement(update(_codes).where(_codes.c.id == bindparam("cid"), _codes.c.status == OPEN,
                                             _codes.c.reminded_at.is_(None)).values(reminded_at=bindparam("now")))
_AUDIT = FastStatement(insert(_attempts))


def _take_statement(dialect_insert):
    """Count one more attempt in the scope's window, atomically (one upsert; the row is locked until
    the transaction ends): a window older than the cutoff starts afresh at 1. Returns (count, window_start)."""
    expired = _counters.c.window_start <= bindparam("cutoff")
    statement = dialect_insert(_counters).values(scope=bindparam("s"), window_start=bindparam("now"), count=1)
    return statement.on_conflict_do_update(
        index_elements=[_counters.c.scope],
        set_={"count": case((expired, literal(1)), else_=_counters.c.count + 1),
              "window_start": case((expired, bindparam("now")), else_=_counters.c.window_start)},
    ).returning(_counters.c.count, _counters.c.window_start)


_TAKE = {"sqlite": _take_statement(sqlite_insert), "postgresql": _take_statement(postgresql_insert)}
_GIVE_BACK = update(_counters).where(
    _counters.c.scope == bindparam("s"), _counters.c.window_start == bindparam("ws"), _counters.c.count > 0,
).values(count=_counters.c.count - 1)


class PickupRepository:
    """Pickup codes and their verification on one connection (a unit of work's, or a reader's)."""

    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    # --- codes ---------------------------------------------------------------------------------
    def insert_code(self, values: dict) -> int | None:
        """Write an open code; None when its number is already open (nothing written)."""
        return _INSERT_CODE.insert(self._connection, values)

    def of_order(self, order_id: int):
        """The order's code row, or None."""
        return _OF_ORDER.first(self._connection, {"oid": order_id})

    def void(self, order_id: int) -> None:
        _VOID.execute(self._connection, {"oid": order_id})

    def by_typed_code(self, code: str):
        """The open code with these digits, else the latest one that had them (used or void), or None."""
        return _OPEN_BY_CODE.first(self._connection, {"c": code}) or _LATEST_BY_CODE.first(self._connection, {"c": code})

    def by_id(self, code_id: int):
        return _BY_ID.first(self._connection, {"id": code_id})

    def hand_over(self, code_id: int, version: int, *, new_status: str, now: datetime, staff_id: int) -> bool:
        """Compare-and-set on (open, version): True for the one hand-over that wins."""
        return _HAND_OVER.execute(self._connection, {"cid": code_id, "v": version, "new_status": new_status,
                                                     "now": now, "staff": staff_id}) == 1

    # --- the audit and the guess throttle -------------------------------------------------------
    def audit(self, values: dict) -> None:
        _AUDIT.execute(self._connection, values)

    def count_attempt(self, scope: str, now: datetime, cutoff: datetime) -> tuple[int, datetime]:
        """One more attempt counted in the scope's current window (begun after `cutoff`, else a new one
        begins now), atomically: (attempts in the window including this one, when the window began)."""
        row = self._connection.execute(_TAKE[self._connection.dialect.name],
                                       {"s": scope, "now": now, "cutoff": cutoff}).one()
        return row.count, row.window_start

    def uncount_attempt(self, scope: str, window_start: datetime) -> None:
        """Take back an attempt that turned out not to be a guess, from the window it was counted in."""
        self._connection.execute(_GIVE_BACK, {"s": scope, "ws": window_start})

    # --- deadlines -------------------------------------------------------------------------------
    def due_for_reminder(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(code id, order id) of open codes past their deadline, not reminded yet, earliest first."""
        return [tuple(row) for row in self._connection.execute(
            select(_codes.c.id, _codes.c.order_id).where(_codes.c.status == OPEN, _codes.c.deadline_at <= now,
                                                         _codes.c.reminded_at.is_(None))
            .order_by(_codes.c.deadline_at).limit(limit)).all()]

    def mark_reminded(self, code_id: int, now: datetime) -> bool:
        """Compare-and-set: True for the one job run that reminds."""
        return _REMIND.execute(self._connection, {"cid": code_id, "now": now}) == 1

    def reminded_before(self, cutoff: datetime, limit: int) -> list[int]:
        """Order ids of open codes reminded at or before `cutoff`, earliest first."""
        return list(self._connection.execute(
            select(_codes.c.order_id).where(_codes.c.status == OPEN, _codes.c.reminded_at <= cutoff)
            .order_by(_codes.c.reminded_at).limit(limit)).scalars())
