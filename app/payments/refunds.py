"""Refunds to the original route (原路退回).

A refund is written in the same transaction as the business change that causes it, then executed
at the provider after commit; a job retries any the provider did not accept, so none is lost.
"""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import func, select

from ..clock import utcnow
from ..infra.unit_of_work import unit_of_work
from ..orders import state
from ..orders.models import PARTIALLY_REFUNDED, REFUNDED
from . import provider as providers
from .models import FAILED, PENDING, SUCCEEDED, Payment, Refund

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20


def refundable_amount(session, payment: Payment) -> int:
    refunded = session.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.payment_id == payment.id)
    ).scalar_one()
    return payment.amount - refunded


def refund_payment(uow, payment: Payment, amount: int, *, reason: str) -> Refund:
    """Write a refund of `amount` against `payment` and execute it once the transaction commits."""
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, refund_no=_refund_no(),
                    amount=amount, reason=reason[:200], status=PENDING)
    uow.session.add(refund)
    uow.session.flush()
    refund_id = refund.id
    uow.after_commit(lambda: execute(refund_id))
    return refund


def refund_order_in_full(uow, order, *, actor: str, reason: str) -> int:
    """Refund everything still unrefunded on the order's successful payments; returns the cents refunded."""
    total = 0
    payments = uow.session.execute(
        select(Payment).where(Payment.order_id == order.id, Payment.status == SUCCEEDED).order_by(Payment.id)
    ).scalars().all()
    for payment in payments:
        amount = refundable_amount(uow.session, payment)
        if amount > 0:
            refund_payment(uow, payment, amount, reason=reason)
            total += amount
    if total:
        order.payment_status = REFUNDED
        state.record(uow.connection, order, actor=actor, kind="refund", reason=f"{reason}:原路退回 {total / 100:.2f} 元")
    return total


def refund_up_to(uow, order, amount: int, *, actor: str, reason: str) -> int:
    """Refund `amount` (at most what is still unrefunded) across the order's successful payments, oldest
    first; returns the cents refunded. The order is then partly (or, if nothing is left, fully) refunded."""
    total = 0
    payments = uow.session.execute(
        select(Payment).where(Payment.order_id == order.id, Payment.status == SUCCEEDED).order_by(Payment.id)
    ).scalars().all()
    for payment in payments:
        part = min(amount - total, refundable_amount(uow.session, payment))
        if part > 0:
            refund_payment(uow, payment, part, reason=reason)
            total += part
    if total:
        left = sum(refundable_amount(uow.session, p) for p in payments)
        order.payment_status = REFUNDED if left == 0 else PARTIALLY_REFUNDED
        state.record(uow.connection, order, actor=actor, kind="refund", reason=f"{reason}:原路退回 {total / 100:.2f} 元")
    return total


def execute(refund_id: int) -> bool:
    """Ask the provider to refund; record the outcome. Safe to call again (refund_no makes it idempotent)."""
    with unit_of_work() as uow:
        refund = uow.session.get(Refund, refund_id)
        if refund is None or refund.status != PENDING:
            return False
        payment = uow.session.get(Payment, refund.payment_id)
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
        refund = uow.session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
        refund.attempts += 1
        refund.last_error = error[:300]
        if outcome == SUCCEEDED:
            refund.status, refund.done_at = SUCCEEDED, utcnow()
        elif refund.attempts >= MAX_ATTEMPTS:
            refund.status = FAILED  # left for HQ to handle by hand
    return outcome == SUCCEEDED


def retry_pending(limit: int = 100) -> int:
    with unit_of_work() as uow:
        pending = uow.session.execute(
            select(Refund.id).where(Refund.status == PENDING).order_by(Refund.id).limit(limit)
        ).scalars().all()
    return sum(1 for refund_id in pending if execute(refund_id))


def _refund_no() -> str:
    return "RF" + secrets.token_hex(12)
