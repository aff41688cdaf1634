"""Day-end (日结) and shift handover (交接班): thin adapters over app/dayend and app/shifts."""
from flask import Response, request

from ..accounts.models import CLERK, HQ
from ..dayend import export, service as dayend
from ..errors import NotFound, ValidationFailed
from ..ids import is_row_id
from ..repositories import reader
from ..shifts import service as shifts
from . import bp, json_body, json_response, optional_int_arg, principal, require


def _date_arg():
    return dayend.parse_business_date(request.args.get("date"))


def _store_of(who, store_id, *, named: bool = True):
    """The store asked for (`named`: the request named one), a clerk's own when none is named."""
    if not named:
        store_id = who.store_id
    if not is_row_id(store_id):
        raise ValidationFailed("store_id 必须是正整数", code="invalid_field", details={"field": "store_id"})
    dayend.check_store_access(who, store_id)
    return store_id


@bp.get("/clerk/day-end")
@require(CLERK)
def clerk_day_end():
    """The clerk's store's day report (?date=YYYY-MM-DD): live while open, the snapshot once closed."""
    who = principal()
    store_id = optional_int_arg("store_id", minimum=1)
    return json_response(dayend.day_report(reader(), _store_of(who, store_id, named=store_id is not None), _date_arg()))


@bp.post("/clerk/day-end/close")
@require(CLERK)
def clerk_close_day():
    body = json_body()
    who = principal()
    store_id = _store_of(who, body.get("store_id"), named="store_id" in body)
    return json_response(dayend.close_day(store_id, dayend.parse_business_date(body.get("date")), who))


@bp.get("/hq/day-ends")
@require(HQ)
def hq_day_end():
    store_id = optional_int_arg("store_id", minimum=1)
    if store_id is None:
        raise ValidationFailed("请指定 store_id", code="invalid_query")
    return json_response(dayend.day_report(reader(), store_id, _date_arg()))


@bp.post("/hq/day-ends/close")
@require(HQ)
def hq_close_day():
    body = json_body()
    who = principal()
    return json_response(dayend.close_day(_store_of(who, body.get("store_id")), dayend.parse_business_date(body.get("date")), who))


@bp.get("/hq/day-ends/<int:store_id>/<name>")
@require(HQ)
def hq_day_end_export(store_id: int, name: str):
    """A closed day for the ERP: /hq/day-ends/<store>/<date>.json or .csv (or ?format=json|csv)."""
    stem, dot, suffix = name.partition(".")
    fmt = suffix if dot else (request.args.get("format") or "json")
    if fmt not in ("json", "csv"):
        raise NotFound("导出格式只有 json 与 csv", code="unknown_format")
    try:
        business_date = dayend.parse_business_date(stem)
    except ValidationFailed:  # a path naming no day names no resource
        raise NotFound("没有这个营业日", code="day_not_found") from None
    document = export.erp_document(*dayend.closed_day(reader(), store_id, business_date))
    if fmt == "json":
        return json_response(document)
    filename = f"day-end-{document['store_code']}-{stem}.csv"
    return Response(export.erp_csv(document), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/clerk/shifts/current")
@require(CLERK)
def current_shift():
    """The store's open shift with the cash expected in the drawer now."""
    return json_response(shifts.current_shift(reader(), principal().store_id))


@bp.post("/clerk/shifts/close")
@require(CLERK)
def close_shift():
    """{shift_no, counted_cash (cents), note}: hand the drawer over."""
    body = json_body()
    return json_response(shifts.close_shift(principal(), body.get("shift_no"), body.get("counted_cash"),
                                            body.get("note", "")))


@bp.get("/clerk/shifts")
@require(CLERK)
def shift_history():
    """The store's shift handovers, newest first."""
    return json_response({"handovers": shifts.history(reader(), principal().store_id)})
