"""Starting a payment and applying the provider's asynchronous notification, idempotently."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from ..accounts.auth import Principal
from ..database import unit_of_work
from ..errors import Conflict, NotFound
from ..orders import state
from ..orders.lifecycle import check_access, load_order
from ..orders.models import ONLINE, PAID, REFUNDED, UNPAID, Order
from . import provider as providers
from .models import PENDING, SUCCEEDED, Payment
from .provider import PaymentNotification
from .refunds import refund_payment

DEFAULT_PROVIDER = "sandbox"


def start_payment(order_id: int, who: Principal, *, notify_url: str, return_url: str,
                  provider_name: str = DEFAULT_PROVIDER) -> Payment:
    """Open (or reopen) the payment for an unpaid online order; returns it with its pay URL."""
    provider = providers.get(provider_name)
    with unit_of_work() as uow:
        order = load_order(uow.session, order_id, lock=True)
        check_access(order, who)
        if order.payment_method != ONLINE:
            raise Conflict("货到付款订单无需在线支付", code="not_online_payment")
        if order.status != state.PENDING_PAYMENT or order.payment_status != UNPAID:
            raise Conflict(f"订单状态为「{state.LABELS[order.status]}」,不能支付", code="not_payable")
        payment = uow.session.execute(
            select(Payment).where(Payment.order_id == order.id, Payment.status == PENDING,
                                  Payment.provider == provider.name, Payment.amount == order.total)
        ).scalars().first()
        if payment is None:
            payment = Payment(order_id=order.id, provider=provider.name, out_trade_no="PAY" + secrets.token_hex(12),
                              amount=order.total, status=PENDING)
            payment.pay_url = provider.create_payment(
                out_trade_no=payment.out_trade_no, amount=payment.amount, subject=f"门店通订单 {order.number}",
                notify_url=notify_url, return_url=return_url,
            )
            uow.session.add(payment)
    return payment


def apply_notification(provider_name: str, body: bytes, headers) -> tuple[Payment, str]:
    """Verify and apply a payment notification. Returns (payment, outcome) where outcome is
    'paid', 'duplicate' (already applied: answer success again) or 'refunded' (arrived too late)."""
    notification = providers.get(provider_name).parse_notification(body, headers)
    with unit_of_work() as uow:
        payment = uow.session.execute(
            select(Payment).where(Payment.out_trade_no == notification.out_trade_no).with_for_update()
        ).scalar_one_or_none()
        if payment is None or payment.provider != provider_name:
            raise NotFound("未知的支付单", code="unknown_payment")
        if notification.amount != payment.amount:
            raise Conflict("通知金额与支付单不符", code="amount_mismatch")
        if payment.status == SUCCEEDED:
            return payment, "duplicate"
        order = load_order(uow.session, payment.order_id, lock=True)
        _mark_succeeded(payment, notification)
        if order.status == state.PENDING_PAYMENT and order.payment_status == UNPAID:
            _mark_order_paid(uow, order, payment)
            return payment, "paid"
        # The money arrived for an order that is closed or already paid: send it straight back.
        state.record(uow.session, order, actor=f"provider:{provider_name}", kind="late_payment",
                     reason=f"订单已是「{state.LABELS[order.status]}」时收到付款,原路退回")
        refund_payment(uow, payment, payment.amount, reason="迟到的支付通知,自动退款")
        if order.payment_status == UNPAID:
            order.payment_status = REFUNDED
        return payment, "refunded"


def _mark_succeeded(payment: Payment, notification: PaymentNotification) -> None:
    payment.status = SUCCEEDED
    payment.provider_txn_id = notification.provider_txn_id
    payment.paid_at = notification.paid_at


def _mark_order_paid(uow, order: Order, payment: Payment) -> None:
    order.payment_status = PAID
    order.expires_at = None
    state.transition(uow.session, order, state.AWAITING_ACCEPTANCE, actor=f"provider:{payment.provider}",
                     reason=f"支付成功 {payment.amount / 100:.2f} 元")
    uow.publish("order.new", order_id=order.id, location_id=order.location_id, member_id=order.member_id)
    uow.publish("order.status", order_id=order.id, status=order.status, location_id=order.location_id,
                member_id=order.member_id, payment_status=order.payment_status)
