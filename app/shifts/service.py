"""The current shift of a store's drawer and closing it (rules: the package docstring)."""
from __future__ import annotations

from ..accounts.auth import Principal
from ..clock import utcnow
from ..errors import Conflict, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from ..ledger import drawer_cash

MAX_CENTS = 100_000_000
HISTORY_LIMIT = 30


class ShiftAlreadyClosed(Conflict):
    code = "shift_already_closed"


def current_shift(source, store_id: int) -> dict:
    """The store's open shift: its number, since when, and the cash expected in the drawer now."""
    last = source.shifts.last(store_id)
    opened_at = last.closed_at if last else None
    now = utcnow()
    return {"store_id": store_id, "shift_no": (last.shift_no if last else 0) + 1, "opened_at": opened_at, "as_of": now,
            "expected_cash": drawer_cash(source.shifts.cash_movements(store_id, opened_at, now))}


def close_shift(who: Principal, shift_no, counted_cash, note) -> dict:
    """The clerk hands the drawer over: shift `shift_no` (the one they read: of two clerks closing it at
    once one handover is written, the other is told 409 shift_already_closed) with the cash counted
    (cents); the difference against what was expected is recorded. Returns the handover."""
    shift_no, counted_cash = _whole(shift_no), _whole(counted_cash)
    _check(shift_no, counted_cash, note)
    with unit_of_work() as uow:
        shift = current_shift(uow, who.store_id)
        if shift_no > shift["shift_no"]:
            raise Conflict(f"当前是第 {shift['shift_no']} 班", code="shift_not_current",
                           details={"current_shift_no": shift["shift_no"]})
        if shift_no < shift["shift_no"]:
            raise ShiftAlreadyClosed(f"第 {shift_no} 班已交接,请刷新后查看当前班次", details={"current_shift_no": shift["shift_no"]})
        values = {"store_id": who.store_id, "shift_no": shift_no, "opened_at": shift["opened_at"],
                  "closed_at": shift["as_of"], "closed_by": who.id, "expected_cash": shift["expected_cash"],
                  "counted_cash": counted_cash, "difference": counted_cash - shift["expected_cash"], "note": note}
        handover_id = uow.shifts.insert(values)
        if handover_id is None:
            raise ShiftAlreadyClosed(f"第 {shift_no} 班已交接,请刷新后查看当前班次")
        return {"id": handover_id, **values, "clerk": uow.accounts.staff_name(who.id), **_labels(values["difference"])}


def history(source, store_id: int) -> list[dict]:
    """The store's handovers, newest first."""
    return [{**row._mapping, **_labels(row.difference)} for row in source.shifts.history(store_id, HISTORY_LIMIT)]


def _labels(difference: int) -> dict:
    return {"difference_label": "长款" if difference > 0 else "短款" if difference < 0 else "无差异"}


def _check(shift_no, counted_cash, note) -> None:
    if not _is_int(shift_no) or shift_no < 1:
        raise ValidationFailed("shift_no 必须是当前班次号", code="invalid_shift_no")
    if not _is_int(counted_cash) or not 0 <= counted_cash <= MAX_CENTS:
        raise ValidationFailed("请填写清点的现金金额(分)", code="invalid_counted_cash")
    if not isinstance(note, str) or len(note) > 200:
        raise ValidationFailed("备注不超过 200 字", code="invalid_note")


def _whole(value):
    """A JSON number that is a whole number (3.0 is the integer 3 in JSON) as an int; anything else as is."""
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**53 else value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
