"""Reading and closing a store's business day (rules: the package docstring)."""
from __future__ import annotations

import re
from datetime import date, timedelta

from ..accounts.auth import Principal
from ..accounts.models import CLERK
from ..clock import business_day_bounds, business_time, utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from ..ledger import SALE
from ..locations.models import STORE
from .report import summarize

# A movement dated in a closed day but written after it closed is counted in the next open day; one
# stamped further back than this (a month) is not looked for, so a report reads a bounded window.
LATE_WINDOW_DAYS = 31
_DATE = re.compile(r"2\d{3}-\d{2}-\d{2}")  # years 2000-2999


class DayAlreadyClosed(Conflict):
    code = "day_already_closed"


def parse_business_date(raw) -> date:
    """A business date written YYYY-MM-DD (years 2000 to 2999), or 422 invalid_date."""
    if isinstance(raw, str) and _DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise ValidationFailed("date 必须是 YYYY-MM-DD 格式的营业日期", code="invalid_date")


def check_store_access(who: Principal, store_id: int) -> None:
    """HQ closes and reads any store's days; a clerk only their own store's."""
    if who.is_hq or (who.role == CLERK and who.store_id == store_id):
        return
    raise Forbidden("只能查看或日结本门店的营业日", code="other_store")


def day_report(source, store_id: int, business_date: date) -> dict:
    """The day's report: from its snapshot once closed, computed live while open (`source`: a unit of
    work or a reader)."""
    store = _store(source, store_id)
    closed = source.day_ends.find(store_id, business_date)
    if closed is not None:
        movements = source.day_ends.items(closed.id)
    else:
        movements = _open_day_movements(source, store_id, business_date)
    return _report_dict(source, store, business_date, closed, movements)


def close_day(store_id: int, business_date: date, who: Principal) -> dict:
    """Close the store's business day: refused before it has ended (409 day_not_ended) and when it is
    closed already (409 day_already_closed: of concurrent closes one wins, the unique constraint on
    (store, date) deciding). Writes the snapshot and returns the closed day's report."""
    check_store_access(who, store_id)
    now = utcnow()
    with unit_of_work() as uow:
        _store(uow, store_id)
        if business_day_bounds(business_date)[1] > now:
            raise Conflict("该营业日尚未结束(按北京时间),不能日结", code="day_not_ended",
                           details={"business_date": business_date.isoformat()})
        movements = _open_day_movements(uow, store_id, business_date)
        day_end_id = uow.day_ends.insert_day_end(store_id, business_date, now, who.id)
        if day_end_id is None:
            raise _already_closed(uow, store_id, business_date)
        sold = [m.order_id for m in movements if m.kind == SALE]
        uow.day_ends.insert_snapshot(day_end_id, movements, uow.day_ends.sold_lines(sold))
        return day_report(uow, store_id, business_date)


def closed_day(source, store_id: int, business_date: date):
    """(store, day_end row, movements, lines) of a closed day for the ERP export; 409 day_not_closed."""
    store = _store(source, store_id)
    closed = source.day_ends.find(store_id, business_date)
    if closed is None:
        raise Conflict("该营业日尚未日结,不能导出", code="day_not_closed")
    return store, closed, source.day_ends.items(closed.id), source.day_ends.lines(closed.id)


def _open_day_movements(source, store_id: int, business_date: date):
    """An open day's movements: those dated in it, and those dated in the closed days just before it
    that their snapshots did not count (they arrived after those days closed)."""
    start = business_day_bounds(_first_of_closed_run(source, store_id, business_date))[0]
    return source.day_ends.unreported(store_id, start, business_day_bounds(business_date)[1])


def _first_of_closed_run(source, store_id: int, business_date: date) -> date:
    """The earliest day of the unbroken run of closed days right before `business_date` (itself if the
    day before is open), at most LATE_WINDOW_DAYS back."""
    first = business_date
    for closed in source.day_ends.closed_dates(store_id, business_date, LATE_WINDOW_DAYS):
        if closed != first - timedelta(days=1):
            break
        first = closed
    return first


def _store(source, store_id: int):
    store = source.day_ends.store(store_id)
    if store is None or store.kind != STORE:
        raise NotFound("门店不存在", code="store_not_found")
    return store


def _already_closed(source, store_id: int, business_date: date) -> DayAlreadyClosed:
    closed = source.day_ends.find(store_id, business_date)
    by = source.accounts.staff_name(closed.closed_by) if closed else None
    return DayAlreadyClosed(f"{business_date.isoformat()} 已日结" + (f"(经办 {by})" if by else ""),
                            details={"closed_at": closed.closed_at if closed else None, "closed_by": by})


def _report_dict(source, store, business_date: date, closed, movements) -> dict:
    sales = [{"order_id": m.order_id, "order_number": m.order_number, "completed_at": local_iso(m.at),
              "channel": m.channel, "payment_method": m.payment_method, "amount": m.amount}
             for m in movements if m.kind == SALE]
    return {
        "store": {"id": store.id, "code": store.code, "name": store.name},
        "business_date": business_date.isoformat(),
        "status": "closed" if closed else "open",
        "ended": business_day_bounds(business_date)[1] <= utcnow(),
        "closed_at": closed.closed_at if closed else None,
        "closed_by": source.accounts.staff_name(closed.closed_by) if closed else None,
        **summarize(movements), "sales_orders": sales,
    }


def local_iso(utc) -> str:
    """A stored time as China time in ISO 8601 with its offset (what the ERP reads)."""
    return business_time(utc).isoformat(timespec="seconds") + "+08:00"
