"""Refunds to the original route (原路退回).

A refund is written in the same transaction as the business change that causes it, then executed
at the provider after commit; a job retries any the provider did not accept, so none is lost.
Orders ask for refunds through their unit of work's refund port (`uow.refunds`, an OrderRefunds).
"""
from __future__ import annotations

import logging
import secrets

from ..clock import utcnow
from ..infra.unit_of_work import unit_of_work
from . import provider as providers
from .models import FAILED, PENDING, SUCCEEDED, Payment, Refund

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20


def refundable_amount(uow, payment: Payment) -> int:
    return payment.amount - uow.payments.refunded_amount(payment.id)


def refund_payment(uow, payment: Payment, amount: int, *, reason: str) -> Refund:
    """Write a refund of `amount` against `payment` and execute it once the transaction commits."""
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, refund_no=_refund_no(),
                    amount=amount, reason=reason[:200], status=PENDING)
    refund_id = uow.payments.add_refund(refund)
    uow.after_commit(lambda: execute(refund_id))
    return refund


def refund_order_in_full(uow, order_id: int, *, reason: str) -> int:
    """Refund everything still unrefunded on the order's successful payments; returns the cents refunded."""
    total = 0
    for payment in uow.payments.succeeded_for_order(order_id):
        amount = refundable_amount(uow, payment)
        if amount > 0:
            refund_payment(uow, payment, amount, reason=reason)
            total += amount
    return total


def refund_order_up_to(uow, order_id: int, amount: int, *, reason: str) -> tuple[int, int]:
    """Refund `amount` (at most what is unrefunded) across the order's successful payments, oldest first.
    Returns (cents refunded, cents still unrefunded after it)."""
    total, left = 0, 0
    for payment in uow.payments.succeeded_for_order(order_id):
        refundable = refundable_amount(uow, payment)
        part = min(amount - total, refundable)
        if part > 0:
            refund_payment(uow, payment, part, reason=reason)
            total += part
        left += refundable - max(part, 0)
    return total, left


class OrderRefunds:
    """The refund port the orders package uses (as `uow.refunds`): orders never import payments."""

    __slots__ = ("_uow",)

    def __init__(self, uow):
        self._uow = uow

    def refund_in_full(self, order_id: int, *, reason: str) -> int:
        """Refund everything paid for the order, in the unit of work; the cents refunded."""
        return refund_order_in_full(self._uow, order_id, reason=reason)

    def refund_up_to(self, order_id: int, amount: int, *, reason: str) -> tuple[int, int]:
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


def retry_pending(limit: int = 100) -> int:
    with unit_of_work() as uow:
        pending = uow.payments.pending_refund_ids(limit)
    return sum(1 for refund_id in pending if execute(refund_id))


def _refund_no() -> str:
    return "RF" + secrets.token_hex(12)
