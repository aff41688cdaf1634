"""Refunds to the original route (原路退回).

A refund is written in the same transaction as the business change that causes it, then executed
at the provider after commit; a job retries any the provider did not accept, so none is lost.
Money taken at the store (到店付款 in cash or by card, cash on delivery) has no provider to return it:
its refund is owed at the store's counter (at_store) until a clerk pays it out there (pay_out), which
records who, when and how, once.
Orders ask for refunds through their unit of work's refund port (`uow.refunds`, an OrderRefunds).
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from ..accounts.auth import Principal
from ..accounts.models import CLERK, masked_phone
from ..clock import short_local, utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..ids import is_row_id
from ..infra.unit_of_work import unit_of_work
from ..orders import lifecycle
from . import provider as providers
from .models import AT_STORE, FAILED, PAYOUT_METHODS, PENDING, SUCCEEDED, TAKEN_AT_STORE, Payment, Refund

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20


def refundable_amount(uow, payment: Payment) -> int:
    return payment.amount - uow.payments.refunded_amount(payment.id)


def refund_payment(uow, payment: Payment, amount: int, *, reason: str) -> Refund:
    """Write a refund of `amount` against `payment`: executed at its provider once the transaction
    commits, or, for money taken at the store, owed at the store's counter."""
    at_store = payment.provider in TAKEN_AT_STORE
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, refund_no=_refund_no(),
                    amount=amount, reason=reason[:200], status=AT_STORE if at_store else PENDING)
    refund_id = uow.payments.add_refund(refund)
    if not at_store:
        uow.after_commit(lambda: execute(refund_id))
    return refund


@dataclass(frozen=True)
class Refunded:
    """What a refund of an order wrote: cents in all, and how many of them are owed at the store."""

    total: int = 0
    at_store: int = 0

    def __bool__(self) -> bool:
        return self.total > 0

    def plus(self, payment: Payment, amount: int) -> "Refunded":
        return Refunded(self.total + amount, self.at_store + (amount if payment.provider in TAKEN_AT_STORE else 0))

    def describe(self) -> str:
        """For the order's history: where the money goes."""
        parts = []
        if self.total > self.at_store:
            parts.append(f"原路退回 {(self.total - self.at_store) / 100:.2f} 元")
        if self.at_store:
            parts.append(f"{self.at_store / 100:.2f} 元在门店收取,请到门店柜台领取退款")
        return ",".join(parts)


def refund_order_in_full(uow, order_id: int, *, reason: str) -> Refunded:
    """Refund everything still unrefunded on the order's successful payments."""
    refunded = Refunded()
    for payment in uow.payments.succeeded_for_order(order_id):
        amount = refundable_amount(uow, payment)
        if amount > 0:
            refund_payment(uow, payment, amount, reason=reason)
            refunded = refunded.plus(payment, amount)
    return refunded


def refund_order_up_to(uow, order_id: int, amount: int, *, reason: str) -> tuple[Refunded, int]:
    """Refund `amount` (at most what is unrefunded) across the order's successful payments, oldest first.
    Returns (what was refunded, cents still unrefunded after it)."""
    refunded, left = Refunded(), 0
    for payment in uow.payments.succeeded_for_order(order_id):
        refundable = refundable_amount(uow, payment)
        part = min(amount - refunded.total, refundable)
        if part > 0:
            refund_payment(uow, payment, part, reason=reason)
            refunded = refunded.plus(payment, part)
        left += refundable - max(part, 0)
    return refunded, left


class OrderRefunds:
    """The refund port the orders package uses (as `uow.refunds`): orders never import payments."""

    __slots__ = ("_uow",)

    def __init__(self, uow):
        self._uow = uow

    def refund_in_full(self, order_id: int, *, reason: str) -> Refunded:
        """Refund everything paid for the order, in the unit of work."""
        return refund_order_in_full(self._uow, order_id, reason=reason)

    def refund_up_to(self, order_id: int, amount: int, *, reason: str) -> tuple[Refunded, int]:
        """Refund at most `amount` of what was paid (goods partly handed over); (refunded, still unrefunded)."""
        return refund_order_up_to(self._uow, order_id, amount, reason=reason)


def execute(refund_id: int) -> bool:
    """Ask the provider to refund; record the outcome. Safe to call again (refund_no makes it idempotent)."""
    with unit_of_work() as uow:
        refund = uow.payments.refund(refund_id)
        if refund is None or refund.status != PENDING:
            return False
        payment = uow.payments.get(refund.payment_id)
        out_trade_no, refund_no, amount, provider_name = payment.out_trade_no, refund.refund_no, refund.amount, payment.provider
    try:
        providers.get(provider_name).refund(out_trade_no=out_trade_no, refund_no=refund_no, amount=amount)
        outcome, error = SUCCEEDED, ""
    except providers.RefundFailed as exc:
        outcome, error = None, str(exc)
    except Exception as exc:  # network trouble and the like: keep the refund pending and retry
        log.exception("refund %s failed", refund_no)
        outcome, error = None, f"{type(exc).__name__}: {exc}"
    with unit_of_work() as uow:
        refund = uow.payments.refund(refund_id, lock=True)
        refund.attempts += 1
        refund.last_error = error[:300]
        if outcome == SUCCEEDED:
            refund.status, refund.done_at = SUCCEEDED, utcnow()
        elif refund.attempts >= MAX_ATTEMPTS:
            refund.status = FAILED  # left for HQ to handle by hand
    return outcome == SUCCEEDED


class AlreadyPaidOut(Conflict):
    code = "already_paid_out"


def pay_out(refund_id, who: Principal, method) -> dict:
    """A clerk hands a refund owed at the store over the counter (cash, or back to the card): recorded
    once, with who, when and how, by a compare-and-set (of two clerks at the same moment exactly one
    wins; the other is told who did it and when); the order's history notes it. Only a clerk of the
    order's own store. Returns the refund as it now is (refund_dict)."""
    if method not in PAYOUT_METHODS:
        raise ValidationFailed("method 必须是 cash(现金)或 card(刷卡)", code="invalid_payout_method")
    with unit_of_work() as uow:
        refund = uow.payments.refund(refund_id) if is_row_id(refund_id) else None
        if refund is None:
            raise NotFound("退款不存在", code="refund_not_found")
        order = lifecycle.load_order(uow, refund.order_id, with_lines=False)
        if who.role != CLERK or order.location_id != who.store_id:
            raise NotFound("退款不存在", code="refund_not_found")  # another store's: no hint that it exists
        now = utcnow()
        if refund.status != AT_STORE or not uow.payments.mark_refund_paid_out(refund.id, who.id, method, now):
            raise _not_owed(uow, uow.payments.refund(refund.id, lock=True))
        refund = uow.payments.refund(refund.id, lock=True)
        clerk = uow.accounts.staff_name(who.id) or who.name
        lifecycle.refund_paid_out(uow, order, actor=who.actor, reason=(
            f"门店退款 {refund.amount / 100:.2f} 元已{PAYOUT_METHODS[method]}退还,经办店员 {clerk}"))
        return refund_dict(refund, uow.payments.get(refund.payment_id).provider, {who.id: clerk})


def _not_owed(uow, refund: Refund) -> Conflict:
    if refund.paid_out_by is not None:
        clerk = uow.accounts.staff_name(refund.paid_out_by) or "未知店员"
        return AlreadyPaidOut(
            f"该退款已于 {short_local(refund.done_at)} 由店员 {clerk} {PAYOUT_METHODS.get(refund.payout_method, '')}退还",
            details={"paid_out_at": refund.done_at, "clerk": clerk, "method": refund.payout_method})
    return Conflict("该退款原路退回,无需在门店办理", code="refund_not_at_store")


STATUS_LABELS = {PENDING: "退款中", SUCCEEDED: "已退款", FAILED: "退款失败,客服处理中", AT_STORE: "请到门店领取退款"}


def refund_dict(refund: Refund, provider: str, clerk_names: dict | None = None) -> dict:
    """A refund as the member and the clerk see it: where the money goes and whether it has."""
    at_store = provider in TAKEN_AT_STORE
    label = STATUS_LABELS.get(refund.status, refund.status)
    if refund.paid_out_by is not None:
        label = f"已在门店{PAYOUT_METHODS.get(refund.payout_method, '')}退还"
    return {"id": refund.id, "order_id": refund.order_id, "amount": refund.amount, "reason": refund.reason,
            "status": refund.status, "status_label": label, "route": "store" if at_store else "original",
            "paid_with": provider, "created_at": refund.created_at, "done_at": refund.done_at,
            "payout_method": refund.payout_method,
            "paid_out_by": (clerk_names or {}).get(refund.paid_out_by) if refund.paid_out_by else None}


def refunds_of_order(source, order_id: int) -> list[dict]:
    """The order's refunds as JSON (`source`: a unit of work or a reader)."""
    pairs = source.payments.refunds_of_order(order_id)
    names = {r.paid_out_by: source.accounts.staff_name(r.paid_out_by) for r, _ in pairs if r.paid_out_by}
    return [refund_dict(refund, provider, names) for refund, provider in pairs]


def store_refunds(source, store_id: int) -> dict:
    """The store's counter refunds: owed (oldest first) and recently paid out (newest first), as JSON."""
    listed = {}
    for key, owed in (("owed", True), ("paid_out", False)):
        rows = source.payments.store_refunds(store_id, owed=owed, limit=100 if owed else 20)
        names = {r.paid_out_by: source.accounts.staff_name(r.paid_out_by) for r, _, _ in rows if r.paid_out_by}
        listed[key] = [{**refund_dict(refund, provider, names), "order_number": order.number,
                        "member": _member_of(source, order), "fulfilment": order.fulfilment,
                        "payment_method": order.payment_method}
                       for refund, order, provider in rows]
    return listed


def _member_of(source, order) -> dict:
    """Who collects the refund at the counter: the order's contact, else the member; the phone masked
    (the clerk matches it against the member's own phone)."""
    member = source.accounts.member_contact(order.member_id)
    name = order.contact_name or (member.name if member else "")
    phone = order.contact_phone or (member.phone if member else "")
    return {"name": name, "phone": masked_phone(phone)}


def retry_pending(limit: int = 100) -> int:
    with unit_of_work() as uow:
        pending = uow.payments.pending_refund_ids(limit)
    return sum(1 for refund_id in pending if execute(refund_id))


def _refund_no() -> str:
    return "RF" + secrets.token_hex(12)
