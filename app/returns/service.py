"""Member returns, from request to refund (see the package's docstring for the states).

Each public function is one transaction: the order row is locked first (every change of a return of
that order takes turns on it, on PostgreSQL as on SQLite), the return moves by compare-and-set on the
status it was read in, and the order's history and the member's message centre note the change.

Rules:
- only the member's own completed (handed-over) order, paid, within `window_days` of its completion;
- per line, at most what was handed over minus what other returns already hold (requested, approved,
  shipped, refunded);
- re-weighed fresh goods (lines sold by weight, or goods added at re-weighing) are not returned here:
  what they were finally worth is spread over weighings and settlements (`weighed_line_not_returnable`);
- the goods come back to the location the order left from: a clerk of that store receives them at the
  counter or from a parcel (HQ for the warehouse's parcels); they are restocked there and their value
  refunded to the original route (money taken at the store is owed at its counter).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from ..accounts.auth import Principal
from ..accounts.models import CLERK, masked_phone
from ..clock import utcnow
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..ids import is_row_id
from ..infra.unit_of_work import unit_of_work
from ..orders import lifecycle, state
from ..orders.models import AT_STORE, COD, PAID, PARTIALLY_REFUNDED
from ..stock import service as stock
from . import (APPROVED, LABELS, REASONS, RECEIVABLE, REFUNDED, REFUSED, REQUESTED, SHIPPED, WITHDRAWN,
               ReturnLine, ReturnRequest)

MAX_LINES = 50
MAX_QTY = 999


def request_return(order_id, who: Principal, *, lines, reason, note: str, window_days: int) -> dict:
    """The member asks to return `lines` ([{"line_id", "qty"}]) of their completed order."""
    wanted = _parse_lines(lines)
    _check_reason(reason, note)
    with unit_of_work() as uow:
        order = lifecycle.load_order(uow, order_id)
        if not who.is_member or order.member_id != who.id:
            raise NotFound("订单不存在", code="order_not_found")
        _check_returnable(uow, order, window_days)
        chosen = _choose_lines(uow, order, wanted)
        now = utcnow()
        request = uow.returns.add(
            ReturnRequest(order_id=order.id, member_id=who.id, location_id=order.location_id, status=REQUESTED,
                          reason=reason, note=note, amount=sum(l.amount for l in chosen), refuse_reason="",
                          carrier="", tracking_no="", created_at=now, updated_at=now), chosen)
        _note(uow, order, request, who, REQUESTED,
              f"会员申请退货:{_goods(order, chosen)},原因 {REASONS[reason]},退款金额 {request.amount / 100:.2f} 元")
        return return_dict(uow, request, order)


def withdraw(return_id, who: Principal) -> dict:
    """The member withdraws their return while HQ has not decided it."""
    with _locked(return_id, who, _owner) as (uow, order, request):
        _move(uow, request, (REQUESTED,), WITHDRAWN)
        _note(uow, order, request, who, WITHDRAWN, "会员撤销了退货申请")
        return return_dict(uow, request, order)


def ship(return_id, who: Principal, *, carrier: str, tracking_no: str) -> dict:
    """The member sent the approved return's goods by courier (a wrong tracking number may be corrected
    until the goods arrive)."""
    if not carrier or not tracking_no:
        raise ValidationFailed("请填写快递公司和快递单号", code="invalid_shipping")
    with _locked(return_id, who, _owner) as (uow, order, request):
        _move(uow, request, RECEIVABLE, SHIPPED, carrier=carrier, tracking_no=tracking_no, shipped_at=utcnow())
        _note(uow, order, request, who, SHIPPED, f"会员已寄回退货:{carrier} {tracking_no}")
        return return_dict(uow, request, order)


def approve(return_id, who: Principal) -> dict:
    with _locked(return_id, who, _hq) as (uow, order, request):
        _move(uow, request, (REQUESTED,), APPROVED, decided_by=who.id, decided_at=utcnow())
        _note(uow, order, request, who, APPROVED, "总部同意退货,请将商品送回下单门店或快递寄回")
        return return_dict(uow, request, order)


def refuse(return_id, who: Principal, reason: str) -> dict:
    if not reason:
        raise ValidationFailed("请填写拒绝原因", code="refuse_reason_required")
    with _locked(return_id, who, _hq) as (uow, order, request):
        _move(uow, request, (REQUESTED,), REFUSED, decided_by=who.id, decided_at=utcnow(), refuse_reason=reason)
        _note(uow, order, request, who, REFUSED, f"总部拒绝退货:{reason}")
        return return_dict(uow, request, order)


def receive(return_id, who: Principal) -> dict:
    """The goods of an approved return arrived (at the counter, or a parcel): restocked at the return's
    location and their value refunded to the original route, once (of two clerks at the same moment one
    wins; the other is told who received it and when)."""
    with _locked(return_id, who, _receiver) as (uow, order, request):
        now = utcnow()
        _move(uow, request, RECEIVABLE, REFUNDED, received_by=who.id, received_at=now)
        lines = uow.returns.lines_of([request.id])[request.id]
        stock.restock(uow, request.location_id, [(line.product_id, line.qty) for line, _ in lines])
        goods = "、".join(f"{order_line.name}×{line.qty}" for line, order_line in lines)
        staff = uow.accounts.staff_name(who.id) or who.name
        _note(uow, order, request, who, REFUNDED, f"退货已收货入库({goods}),经办 {staff}")
        lifecycle.refund_returned_goods(uow, order, request.amount, actor=who.actor, reason=f"退货退款(退货单 {request.id})")
        return return_dict(uow, request, order)


# --- reads ---------------------------------------------------------------------------------------

def member_returns(source, member_id: int) -> list[dict]:
    return _dicts(source, source.returns.of_member(member_id))


def order_returns(source, order, *, window_days: int) -> dict:
    """What the member's order page needs: the order's returns and, while the order may still be
    returned, what may be (`return_options`: deadline, reasons, returnable units per line), else None."""
    returns = _dicts(source, source.returns.of_member(order.member_id, order_id=order.id))
    try:
        deadline = _check_returnable(source, order, window_days)
    except Conflict:
        return {"returns": returns, "return_options": None}
    held = source.returns.units_held(order.id)
    lines = [{"line_id": line.id, "returnable": max(line.handed_over_qty - held.get(line.id, 0), 0),
              "reason": _unreturnable_reason(line)} for line in order.lines]
    return {"returns": returns, "return_options": {"deadline": deadline, "reasons": REASONS, "lines": lines}}


def hq_returns(source, status: str | None) -> list[dict]:
    return _dicts(source, source.returns.by_status(status), with_member=True)


def store_returns(source, store_id: int) -> dict:
    """The store's approved returns to receive (oldest first) and those it received lately."""
    return {"to_receive": _dicts(source, source.returns.receivable_at(store_id), with_member=True),
            "received": _dicts(source, source.returns.received_at(store_id), with_member=True)}


def return_dict(source, request: ReturnRequest, order, lines=None, with_member: bool = False) -> dict:
    if lines is None:
        lines = source.returns.lines_of([request.id])[request.id]
    data = {
        "id": request.id, "order_id": request.order_id, "order_number": order.number, "status": request.status,
        "status_label": LABELS[request.status], "reason": request.reason, "reason_label": REASONS[request.reason],
        "note": request.note, "amount": request.amount, "location_id": request.location_id,
        "refund_route": "store" if order.payment_method in (AT_STORE, COD) else "original",
        "refuse_reason": request.refuse_reason, "carrier": request.carrier, "tracking_no": request.tracking_no,
        "created_at": request.created_at, "decided_at": request.decided_at, "shipped_at": request.shipped_at,
        "received_at": request.received_at, "received_by": source.accounts.staff_name(request.received_by),
        "lines": [{"order_line_id": line.order_line_id, "sku": order_line.sku, "name": order_line.name,
                   "qty": line.qty, "unit_price": order_line.unit_price, "amount": line.amount}
                  for line, order_line in lines],
    }
    if with_member:
        contact = source.accounts.member_contact(request.member_id)
        data["member"] = {"name": contact.name if contact else "", "phone": masked_phone(contact.phone) if contact else ""}
    return data


def _dicts(source, pairs, with_member: bool = False) -> list[dict]:
    lines = source.returns.lines_of([request.id for request, _ in pairs])
    return [return_dict(source, request, order, lines[request.id], with_member) for request, order in pairs]


# --- rules ---------------------------------------------------------------------------------------

def _parse_lines(lines) -> dict[int, int]:
    """[{"line_id", "qty"}] → {line_id: qty} (a line listed twice: its quantities added), or 422 saying
    what is wrong."""
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise ValidationFailed(f"lines 必须是 1 到 {MAX_LINES} 项的列表", code="invalid_lines")
    wanted: dict[int, int] = {}
    for item in lines:
        line_id = item.get("line_id") if isinstance(item, dict) else None
        qty = item.get("qty") if isinstance(item, dict) else None
        if not is_row_id(line_id) or not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= MAX_QTY:
            raise ValidationFailed(f"每项需要 line_id 和 1 到 {MAX_QTY} 的 qty", code="invalid_lines")
        wanted[line_id] = wanted.get(line_id, 0) + qty
    return wanted


def _check_reason(reason, note: str) -> None:
    if not isinstance(reason, str) or reason not in REASONS:
        raise ValidationFailed("请选择退货原因", code="invalid_return_reason", details={"reasons": list(REASONS)})
    if reason == "other" and not note:
        raise ValidationFailed("原因为「其他」时请填写说明", code="note_required")


def _check_returnable(source, order, window_days: int):
    """409 with a code unless the order may be returned now; the deadline otherwise."""
    if order.status != state.COMPLETED:
        raise Conflict(f"订单状态为「{state.LABELS[order.status]}」,完成后才能申请退货", code="order_not_completed")
    if order.payment_status not in (PAID, PARTIALLY_REFUNDED):
        raise Conflict("订单未付款或已全额退款,不能申请退货", code="order_not_refundable")
    completed_at = source.orders.reached_at(order.id, state.COMPLETED)
    deadline = (completed_at or order.updated_at) + timedelta(days=window_days)
    if utcnow() >= deadline:
        raise Conflict(f"已超过 {window_days} 天退货期限", code="return_window_passed", details={"deadline": deadline})
    return deadline


def _unreturnable_reason(line) -> str | None:
    if line.standard_weight_g is not None or line.price_per_kg is not None or line.adjusts_line_id is not None:
        return "称重生鲜商品请到门店处理"
    return None


def _choose_lines(uow, order, wanted: dict[int, int]) -> list[ReturnLine]:
    """The return's lines, each within what was handed over and not yet asked back by other returns."""
    by_id = {line.id: line for line in order.lines}
    held = uow.returns.units_held(order.id)
    chosen = []
    for line_id, qty in wanted.items():
        line = by_id.get(line_id)
        if line is None:
            raise ValidationFailed("订单中没有该商品行", code="unknown_line", details={"line_id": line_id})
        if _unreturnable_reason(line):
            raise ValidationFailed(f"{line.name} 为称重生鲜商品,不支持线上退货,请到门店处理",
                                   code="weighed_line_not_returnable", details={"line_id": line_id})
        returnable = line.handed_over_qty - held.get(line_id, 0)
        if qty > returnable:
            raise Conflict(f"{line.name} 最多还可退 {max(returnable, 0)} 件", code="over_quantity",
                           details={"line_id": line_id, "returnable": max(returnable, 0)})
        chosen.append(ReturnLine(order_line_id=line_id, product_id=line.product_id, qty=qty, amount=line.unit_price * qty))
    return chosen


# --- steps ---------------------------------------------------------------------------------------

@contextmanager
def _locked(return_id, who: Principal, check):
    """A return and its order, the order's row locked for the unit of work; `check` decides whether
    the caller may act on it (404 return_not_found otherwise: no hint that it exists)."""
    with unit_of_work() as uow:
        request = uow.returns.get(return_id) if is_row_id(return_id) else None
        if request is None or not check(request, who):
            raise NotFound("退货申请不存在", code="return_not_found")
        order = lifecycle.load_order(uow, request.order_id)
        yield uow, order, uow.returns.get(request.id, fresh=True)  # read again now that the order is locked


def _owner(request: ReturnRequest, who: Principal) -> bool:
    return who.is_member and request.member_id == who.id


def _hq(request: ReturnRequest, who: Principal) -> bool:
    if not who.is_hq:
        raise Forbidden("只有总部可以审核退货", code="forbidden_role")
    return True


def _receiver(request: ReturnRequest, who: Principal) -> bool:
    """A clerk of the store the goods come back to; HQ for any location (the warehouse's parcels)."""
    return who.is_hq or (who.role == CLERK and who.store_id == request.location_id)


def _move(uow, request: ReturnRequest, from_statuses: tuple[str, ...], to_status: str, **values) -> None:
    now = utcnow()
    if request.status not in from_statuses or not uow.returns.move(request.id, from_statuses, to_status,
                                                                    updated_at=now, **values):
        raise _cannot_move(uow, uow.returns.get(request.id, fresh=True), to_status)
    uow.returns.get(request.id, fresh=True)  # the session's copy now shows the move


def _cannot_move(uow, request: ReturnRequest, to_status: str) -> Conflict:
    if to_status == REFUNDED and request.received_at is not None:
        staff = uow.accounts.staff_name(request.received_by) or "未知店员"
        return Conflict(f"该退货已由 {staff} 收货并退款", code="already_received",
                        details={"received_at": request.received_at, "received_by": staff})
    return Conflict(f"退货申请当前为「{LABELS[request.status]}」,不能执行该操作", code="return_state_conflict",
                    details={"status": request.status})


def _note(uow, order, request: ReturnRequest, who: Principal, status: str, text: str) -> None:
    """The order's history and the member's message centre note the return's new state."""
    now = utcnow()
    state.record(uow, order.id, actor=who.actor, kind=f"return_{status}", reason=f"退货单 {request.id}:{text}", at=now)
    uow.messages.add_for_return(f"return_{status}", order.id, request.id, request.member_id, now)


def _goods(order, chosen: list[ReturnLine]) -> str:
    names = {line.id: line.name for line in order.lines}
    return "、".join(f"{names[line.order_line_id]}×{line.qty}" for line in chosen)
