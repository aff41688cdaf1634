"""Starting a payment and applying the provider's asynchronous notification, idempotently.

Both sit on every online order's path, so the common case is a few prebuilt statements: the
notification is one compare-and-set of the payment (pending → succeeded, which makes repeats
harmless) and the orders package's own for the order (lifecycle.mark_paid: 待支付 → 待接单). Only the
rare late notification loads objects. Payments never write an order: they ask the orders package.
"""
from __future__ import annotations

import secrets
from types import SimpleNamespace

from ..accounts.auth import Principal
from ..clock import utcnow
from ..errors import Conflict, NotFound, PaymentUnavailable
from ..infra.unit_of_work import unit_of_work
from ..orders import lifecycle, state
from ..orders.models import ONLINE, UNPAID
from . import provider as providers, purposes
from .models import COUNTER_PROVIDERS, ORDER, PENDING, SUCCEEDED, Payment
from .refunds import refund_payment

DEFAULT_PROVIDER = "sandbox"


def start_payment(order_id: int, who: Principal, *, notify_url: str, return_url: str,
                  provider_name: str = DEFAULT_PROVIDER):
    """Open (or reopen) the payment for an unpaid online order; returns its record, with the pay URL."""
    if not providers.registered(provider_name):  # e.g. production, where the sandbox is refused
        raise PaymentUnavailable("在线支付暂不可用", code="payment_unavailable")
    provider = providers.get(provider_name)
    with unit_of_work() as uow:
        order = lifecycle.load_order(uow, order_id, with_lines=False)  # locked: one payment attempt per order at a time
        lifecycle.check_access(order, who)
        if order.payment_method != ONLINE:
            raise Conflict("货到付款订单无需在线支付", code="not_online_payment")
        if order.status != state.PENDING_PAYMENT or order.payment_status != UNPAID:
            raise Conflict(f"订单状态为「{state.LABELS[order.status]}」,不能支付", code="not_payable")
        payments = uow.payments
        existing = payments.open_payment(order.id, provider.name, order.total)
        if existing is not None:
            return existing
        out_trade_no = "PAY" + secrets.token_hex(12)
        values = dict(order_id=order.id, provider=provider.name, out_trade_no=out_trade_no, provider_txn_id=None,
                      amount=order.total, status=PENDING, created_at=utcnow(), paid_at=None,
                      pay_url=provider.create_payment(
                          out_trade_no=out_trade_no, amount=order.total, subject=f"门店通订单 {order.number}",
                          notify_url=notify_url, return_url=return_url))
        return SimpleNamespace(id=payments.insert_payment(values), **values)


def apply_notification(provider_name: str, body: bytes, headers) -> tuple[str, str]:
    """Verify and apply a payment notification. Returns (out_trade_no, outcome): 'paid', 'duplicate'
    (already applied: answer success again) or 'refunded' (the order had closed: money sent back)."""
    notification = providers.get(provider_name).parse_notification(body, headers)
    with unit_of_work() as uow:
        paid = uow.payments.mark_succeeded(notification.out_trade_no, provider_name, notification.amount,
                                           notification.provider_txn_id, notification.paid_at)
        if paid is None:
            return notification.out_trade_no, _not_pending(uow, provider_name, notification)
        actor = f"provider:{provider_name}"
        if paid.purpose != ORDER:  # a top-up or the like: its own handler, on an order already paid
            handler = purposes.handler_for(paid.purpose)
            if handler is not None and handler(uow, paid, actor):
                return notification.out_trade_no, "paid"
            _refund_late_payment(uow, paid, actor)
            return notification.out_trade_no, "refunded"
        if lifecycle.mark_paid(uow, paid.order_id, actor=actor, reason=f"支付成功 {paid.amount / 100:.2f} 元"):
            return notification.out_trade_no, "paid"
        _refund_late_payment(uow, paid, actor)
        return notification.out_trade_no, "refunded"


def _not_pending(uow, provider_name: str, notification) -> str:
    """Why the payment was not pending: already applied (a repeat), or a notification we must refuse."""
    payment = uow.payments.by_trade_no(notification.out_trade_no)
    if payment is None or payment.provider != provider_name:
        raise NotFound("未知的支付单", code="unknown_payment")
    if notification.amount != payment.amount:
        raise Conflict("通知金额与支付单不符", code="amount_mismatch")
    return "duplicate"


def record_counter_payment(uow, order, method: str, method_label: str, who: Principal, amount: int | None = None):
    """到店付款: the whole of a pay-at-store order paid at the counter, in cash or by card (a step of the
    caller's unit of work): `amount`, the amount due (default the order's total). Returns the order as it
    now is (paid)."""
    now = utcnow()
    amount = order.total if amount is None else amount
    if amount > 0:
        uow.payments.add(Payment(order_id=order.id, provider=COUNTER_PROVIDERS[method], out_trade_no=f"CTR{order.id}",
                                 provider_txn_id=who.actor, amount=amount, status=SUCCEEDED, created_at=now,
                                 paid_at=now))
    return lifecycle.paid_at_counter(uow, order, actor=who.actor,
                                     reason=f"到店付款({method_label}){amount / 100:.2f} 元")


def _refund_late_payment(uow, paid, actor: str) -> None:
    """The money arrived for an order that is closed or already paid: send it straight back."""
    lifecycle.late_payment(uow, paid.order_id, actor=actor)
    payment = uow.payments.get(paid.id, fresh=True)
    refund_payment(uow, payment, payment.amount, reason="迟到的支付通知,自动退款")
