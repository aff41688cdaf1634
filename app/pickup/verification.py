"""Verifying a pickup code at the counter (核销): preview, then hand-over.

Rules (SPEC "Pickup code", issue 10):
- a code verifies only at its own store and only while the order waits for pickup; a paid order can be
  handed over at whatever preparation step it is at (the steps it skipped are written to its history);
- the hand-over is a conditional UPDATE of the code row on (status 'open', version): of two clerks
  confirming at the same moment exactly one wins, the other is told who picked it up and when;
- a clerk may hand over some lines (partial pickup): the rest stays open on the same code;
- a pay-at-store order (到店付款) is paid at the counter, cash or card, as part of the hand-over;
- typed-code guessing is throttled per clerk and per store; every attempt is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Callable

from ..accounts.auth import Principal
from ..accounts.models import CLERK, masked_phone
from ..clock import short_local, utcnow
from ..infra.unit_of_work import unit_of_work
from ..errors import Conflict, DomainError, Forbidden, TooManyRequests, ValidationFailed
from ..orders import state
from ..orders.lifecycle import load_order
from ..orders.models import AT_STORE, PAID, PARTIALLY_REFUNDED, PICKUP, UNPAID
from ..payments.service import record_counter_payment
from ..stock import service as stock
from ..weighing.gate import amount_due as weighing_amount_due
from . import codes
from .models import USED, VOID

# Statuses in which a paid pickup order's goods can be handed over.
OPEN_FOR_PICKUP = (state.AWAITING_ACCEPTANCE, state.ACCEPTED, state.READY_FOR_PICKUP)
COUNTER_METHODS = {"cash": "现金", "card": "刷卡"}
MAX_INPUT = 512


@dataclass(frozen=True)
class Settings:
    secret: str
    qr_ttl_seconds: int = 24 * 3600
    guesses_per_clerk: int = 10
    guesses_per_store: int = 30
    window_seconds: int = 600


def settings_from(config) -> Settings:
    return Settings(config["SECRET_KEY"], config["PICKUP_QR_TTL_SECONDS"], config["PICKUP_GUESSES_PER_CLERK"],
                    config["PICKUP_GUESSES_PER_STORE"], config["PICKUP_GUESS_WINDOW_SECONDS"])


# Checks other modules add before goods leave (the re-weigh settlement, say): each gets
# (connection, order, [(line, qty)]) and raises a DomainError to refuse the hand-over.
_handover_guards: list[Callable] = []


def register_handover_guard(guard: Callable) -> None:
    if guard not in _handover_guards:
        _handover_guards.append(guard)


class AlreadyPickedUp(Conflict):
    code = "already_picked_up"


class Refused(DomainError):
    """A refusal that counts as a guess for the throttle (unknown code, another store's code)."""

    def __init__(self, message: str, *, code: str, status: int):
        super().__init__(message, code=code)
        self.status = status


@dataclass
class Request:
    raw: str
    confirm: bool = False
    lines: list[tuple[int, int]] | None = None  # (line id, qty); None: everything still open
    payment: str | None = None  # cash | card, for a pay-at-store order


def parse_request(body: dict) -> Request:
    raw = body.get("code")
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_INPUT:
        raise ValidationFailed("请扫描或输入提货码", code="invalid_code_format")
    confirm = body.get("confirm", False)
    if not isinstance(confirm, bool):
        raise ValidationFailed("confirm 必须是 true 或 false", code="invalid_confirm")
    lines = body.get("lines")
    if lines is not None:
        lines = _parse_lines(lines)
    payment = body.get("payment")
    if payment is not None and payment not in COUNTER_METHODS:
        raise ValidationFailed("payment 必须是 cash 或 card", code="invalid_payment_method")
    return Request(raw.strip(), confirm, lines, payment)


def _parse_lines(raw) -> list[tuple[int, int]]:
    if not isinstance(raw, list) or not raw or len(raw) > 50:
        raise ValidationFailed("lines 必须是非空数组 [{line_id, qty}]", code="invalid_lines")
    taken: dict[int, int] = {}
    for item in raw:
        line_id = item.get("line_id") if isinstance(item, dict) else None
        qty = item.get("qty") if isinstance(item, dict) else None
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2 ** 62 for v in (line_id, qty)):
            raise ValidationFailed("lines 的每一项必须是 {line_id, qty},均为正整数", code="invalid_lines")
        taken[line_id] = taken.get(line_id, 0) + qty
    return list(taken.items())


def verify(request: Request, who: Principal, settings: Settings) -> dict:
    """Preview (confirm false) or hand over (confirm true). The attempt is first counted against the
    throttle in a transaction of its own (counted before it is checked, so guesses in flight at once
    can never pass the limit), then taken back unless it turns out a guess. Every attempt is audited:
    a refused one in a transaction of its own, since the refusal rolls the attempt's own back."""
    if who.role != CLERK or who.store_id is None:
        raise Forbidden("只有门店店员可以核销提货码", code="forbidden_role")
    attempt = SimpleNamespace(staff_id=who.id, store_id=who.store_id, order_id=None, confirm=request.confirm,
                              **_describe_input(request.raw))
    counted = _count_attempt(attempt, who, settings)
    try:
        with unit_of_work() as uow:
            result = _verify(uow, request, who, settings, attempt)
            _audit(uow.pickup, attempt, outcome=result["outcome"], guess=False)
            _uncount(uow.pickup, counted)
        return result
    except DomainError as exc:
        guess = isinstance(exc, Refused)
        with unit_of_work() as uow:
            _audit(uow.pickup, attempt, outcome=exc.code, guess=guess)
            if not guess:
                _uncount(uow.pickup, counted)
        raise


def _describe_input(raw: str) -> dict:
    typed = codes.normalise_typed(raw)
    if typed is not None:
        return {"input_kind": "typed", "input_hint": "…" + typed[-4:], "typed": typed}
    return {"input_kind": "qr" if codes.is_qr(raw) else "other", "input_hint": "", "typed": None}


def _count_attempt(attempt, who: Principal, settings: Settings) -> list[tuple[str, datetime]]:
    """Count the attempt for the clerk and for the store (each one atomic increment, committed before
    anything is checked); refused with 429, taken back and audited, if either count passes its limit.
    Returns [(scope, window start)] to take back from should the attempt not be a guess."""
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.window_seconds)
    limits = ((f"staff:{who.id}", settings.guesses_per_clerk), (f"store:{who.store_id}", settings.guesses_per_store))
    with unit_of_work() as uow:
        pickup = uow.pickup
        counts = [(scope, limit, *pickup.count_attempt(scope, now, cutoff)) for scope, limit in limits]
        over = [window_start for _, limit, count, window_start in counts if count > limit]
        counted = [(scope, window_start) for scope, _, _, window_start in counts]
        if over:
            _uncount(pickup, counted)
            _audit(pickup, attempt, outcome="too_many_attempts", guess=False)
    if over:
        wait = max(1, int((max(over) + timedelta(seconds=settings.window_seconds) - now).total_seconds()))
        minutes = max(1, -(-wait // 60))
        raise TooManyRequests(f"提货码输错次数过多,请 {minutes} 分钟后再试,或扫描会员的提货二维码",
                              code="too_many_attempts", details={"retry_after_seconds": wait})
    return counted


def _uncount(pickup, counted: list[tuple[str, datetime]]) -> None:
    for scope, window_start in counted:
        pickup.uncount_attempt(scope, window_start)


def _find_code(pickup, request: Request, who: Principal, settings: Settings, attempt):
    if attempt.typed is not None:
        row = pickup.by_typed_code(attempt.typed)
    elif codes.is_qr(request.raw):
        try:
            code_id, _store = codes.read_qr(settings.secret, request.raw)
        except codes.InvalidCode:
            raise Refused("二维码无效", code="invalid_code", status=404) from None
        row = pickup.by_id(code_id)
    else:
        raise Refused("无法识别的提货码:请扫描会员的提货二维码或输入 12 位数字提货码", code="invalid_code", status=404)
    if row is None:
        raise Refused("提货码不存在,请核对后重试", code="invalid_code", status=404)
    if row.store_id != who.store_id:
        raise Refused("该提货码不属于本门店,请会员到下单门店提货", code="wrong_store", status=403)
    return row


def _verify(uow, request: Request, who: Principal, settings: Settings, attempt) -> dict:
    connection, pickup = uow.connection, uow.pickup
    code = _find_code(pickup, request, who, settings, attempt)
    attempt.order_id = code.order_id
    _refuse_unless_open(uow, code)
    order = load_order(uow, code.order_id)
    # On PostgreSQL the lock may have waited for another clerk's hand-over: read the code again, so
    # the loser is told who won (the conditional UPDATE below decides either way).
    code = pickup.by_id(code.id)
    _refuse_unless_open(uow, code)
    if order.fulfilment != PICKUP or order.status not in OPEN_FOR_PICKUP:
        raise Conflict(f"订单状态为「{state.LABELS.get(order.status, order.status)}」,不能提货",
                       code="not_open_for_pickup", details={"status": order.status})
    # Partially refunded: paid, and a re-weighed line's shortfall refunded already.
    if order.payment_status not in (PAID, PARTIALLY_REFUNDED) and order.payment_method != AT_STORE:
        raise Conflict("订单尚未支付", code="not_paid")
    member = uow.accounts.member_contact(order.member_id)
    if not request.confirm:
        return {"outcome": "previewed", **_describe(order, code, member, due=weighing_amount_due(connection, order))}
    order, handed = _hand_over(uow, order, code, request, who)
    return {"outcome": "handed_over", **_describe(order, code, member, handed=handed)}


def _refuse_unless_open(uow, code) -> None:
    if code.status == USED:
        raise _already_picked_up(uow, code)
    if code.status == VOID:
        raise Conflict("订单已关闭(已取消或已超时),提货码已失效", code="code_void")


def _already_picked_up(uow, code) -> AlreadyPickedUp:
    name = uow.accounts.staff_name(code.handed_over_by) or "未知店员"
    return AlreadyPickedUp(f"该提货码已于 {short_local(code.handed_over_at)} 由店员 {name} 核销提货", details={
        "picked_up_at": code.handed_over_at, "clerk": name, "order_id": code.order_id})


def _hand_over(uow, order, code, request: Request, who: Principal) -> tuple:
    """Hand over the requested lines; returns the order as it now is and [(line, qty)] handed over now."""
    connection, now = uow.connection, utcnow()
    taking = _lines_to_hand_over(order, request.lines)
    completes = all(line.qty - line.handed_over_qty == qty for line, qty in taking) and \
        len(taking) == sum(1 for line in order.lines if line.handed_over_qty < line.qty)
    for guard in _handover_guards:
        guard(connection, order, taking)
    # The race is decided here: the loser updates no row.
    if not uow.pickup.hand_over(code.id, code.version, new_status=USED if completes else codes.OPEN, now=now,
                                staff_id=who.id):
        latest = uow.pickup.by_id(code.id)
        if latest.status == USED:
            raise _already_picked_up(uow, latest)
        raise Conflict("其他店员刚刚办理了该订单的提货,请重新扫码查看", code="handover_raced")
    if order.payment_status == UNPAID:
        order = _take_counter_payment(uow, order, request.payment, who)
    order = _record_implied_steps(uow, order, who)
    taken = {line.id: qty for line, qty in taking}
    for line, qty in taking:
        if not uow.orders.take_line(order.id, line.id, qty):
            raise Conflict("提货数量超过剩余数量", code="qty_exceeds_remaining", details={"line_id": line.id})
    order = order._replace(lines=tuple(line._replace(handed_over_qty=line.handed_over_qty + taken[line.id])
                                       if line.id in taken else line for line in order.lines))
    stock.hand_over(uow, order.location_id, [(line.product_id, qty) for line, qty in taking])
    summary = "、".join(f"{line.name}×{qty}" for line, qty in taking)
    if completes:
        order, event = state.transition(uow, order, state.COMPLETED, actor=who.actor, reason=f"提货核销:{summary}")
    else:
        event = state.record(uow, order.id, actor=who.actor, kind="partial_pickup", reason=f"部分提货:{summary}")
    _announce(uow, order, event, who, taking, completes)
    return order, taking


def _lines_to_hand_over(order, requested) -> list[tuple]:
    open_lines = {line.id: line for line in order.lines if line.handed_over_qty < line.qty}
    if requested is None:
        return [(line, line.qty - line.handed_over_qty) for line in open_lines.values()]
    taking = []
    for line_id, qty in requested:
        line = open_lines.get(line_id)
        if line is None:
            raise ValidationFailed("该商品行不属于此订单或已全部提走", code="invalid_line", details={"line_id": line_id})
        if qty > line.qty - line.handed_over_qty:
            raise ValidationFailed("提货数量超过剩余数量", code="qty_exceeds_remaining",
                                   details={"line_id": line_id, "remaining": line.qty - line.handed_over_qty})
        taking.append((line, qty))
    return taking


def _take_counter_payment(uow, order, method: str | None, who: Principal):
    """到店付款: the whole order is paid at the first hand-over, in cash or by card. Returns the order paid."""
    due = weighing_amount_due(uow.connection, order)  # the total, as re-weighing settled it
    if method is None:
        raise ValidationFailed(f"该订单到店付款,请先收款 {due / 100:.2f} 元(payment: cash 或 card)",
                               code="payment_required", details={"amount_due": due})
    return record_counter_payment(uow, order, method, COUNTER_METHODS[method], who, amount=due)


def _record_implied_steps(uow, order, who: Principal):
    """A paid order handed over before the store accepted or packed it: the history shows those steps.
    Returns the order as it now is."""
    if order.status == state.AWAITING_ACCEPTANCE:
        order, _ = state.transition(uow, order, state.ACCEPTED, actor=who.actor, reason="提货时补记:接单")
    if order.status == state.ACCEPTED:
        order, _ = state.transition(uow, order, state.READY_FOR_PICKUP, actor=who.actor, reason="提货时补记:备货完成")
    return order


def _announce(uow, order, event, who: Principal, taking, completes: bool) -> None:
    uow.publish("order.status", order_id=order.id, status=order.status, location_id=order.location_id,
                member_id=order.member_id, payment_status=order.payment_status, event_id=event.id,
                pickup="completed" if completes else "partial")
    uow.publish("pickup.handed_over", order_id=order.id, location_id=order.location_id, member_id=order.member_id,
                event_id=event.id, staff_id=who.id, clerk=who.name, completed=completes,
                lines=[{"line_id": line.id, "sku": line.sku, "name": line.name, "qty": qty} for line, qty in taking])


def _describe(order, code, member, handed=None, due=None) -> dict:
    # `due`: the total as re-weighing settled it (weighed lines settled in the amount due)
    amount_due = (order.total if due is None else due) \
        if order.payment_status == UNPAID and order.payment_method == AT_STORE else 0
    data = {
        "order": {"id": order.id, "number": order.number, "status": order.status,
                  "status_label": state.LABELS.get(order.status, order.status), "payment_method": order.payment_method,
                  "payment_status": order.payment_status, "total": order.total, "created_at": order.created_at,
                  "note": order.note},
        "member": {"name": member.name if member else order.contact_name, "phone": masked_phone(member.phone if member else order.contact_phone)},
        "lines": [{"line_id": line.id, "sku": line.sku, "name": line.name, "qty": line.qty,
                   "handed_over_qty": line.handed_over_qty, "remaining": line.qty - line.handed_over_qty,
                   "unit_price": line.unit_price, "line_total": line.line_total,
                   "standard_weight_g": line.standard_weight_g, "price_per_kg": line.price_per_kg,
                   "adjusts_line_id": line.adjusts_line_id} for line in order.lines],
        "amount_due": amount_due,
    }
    if handed is not None:
        data["handed_over"] = [{"line_id": line.id, "qty": qty} for line, qty in handed]
        data["completed"] = order.status == state.COMPLETED
    return data


def _audit(pickup, attempt, *, outcome: str, guess: bool) -> None:
    pickup.audit({"at": utcnow(), "staff_id": attempt.staff_id, "store_id": attempt.store_id,
                                "order_id": attempt.order_id, "input_kind": attempt.input_kind,
                                "input_hint": attempt.input_hint, "confirm": attempt.confirm,
                                "outcome": outcome[:32], "guess": guess})
