"""Starting a payment and applying the provider's asynchronous notification, idempotently.

Both sit on every online order's path, so the common case runs as a few prebuilt Core statements:
the notification is one conditional UPDATE of the payment (pending → succeeded, which makes repeats
harmless) and one of the order (待支付 → 待接单). Only the rare late notification loads objects.
"""
from __future__ import annotations

import secrets

from types import SimpleNamespace

from sqlalchemy import bindparam, insert, select, update

from ..accounts.auth import Principal
from ..clock import utcnow
from ..infra.unit_of_work import unit_of_work
from ..errors import Conflict, NotFound
from ..infra.fastsql import FastStatement
from ..orders import state
from ..orders.lifecycle import check_access, load_order
from ..orders.models import ONLINE, PAID, PICKUP, REFUNDED, UNPAID, Order
from ..pickup import codes as pickup_codes
from . import provider as providers
from .models import PENDING, SUCCEEDED, Payment
from .refunds import refund_payment

DEFAULT_PROVIDER = "sandbox"

_orders, _payments = Order.__table__, Payment.__table__
_LOCK_ORDER = FastStatement(select(_orders).where(_orders.c.id == bindparam("id")).with_for_update())
_OPEN_PAYMENT = FastStatement(select(_payments).where(
    _payments.c.order_id == bindparam("order"), _payments.c.status == PENDING,
    _payments.c.provider == bindparam("prov"), _payments.c.amount == bindparam("amt"),
).limit(1))
_INSERT_PAYMENT = FastStatement(insert(_payments).returning(_payments.c.id))
# Parameter names differ from column names, as UPDATE statements require.
_PAYMENT_SUCCEEDED = FastStatement(
    update(_payments)
    .where(_payments.c.out_trade_no == bindparam("otn"), _payments.c.provider == bindparam("prov"),
           _payments.c.amount == bindparam("amt"), _payments.c.status == PENDING)
    .values(status=SUCCEEDED, provider_txn_id=bindparam("txn"), paid_at=bindparam("paid"))
    .returning(_payments.c.id, _payments.c.order_id, _payments.c.amount, _payments.c.provider)
)
_PAYMENT_BY_TRADE_NO = FastStatement(select(_payments).where(_payments.c.out_trade_no == bindparam("otn")))
_ORDER_PAID = FastStatement(
    update(_orders)
    .where(_orders.c.id == bindparam("oid"), _orders.c.status == state.PENDING_PAYMENT, _orders.c.payment_status == UNPAID)
    .values(status=state.AWAITING_ACCEPTANCE, payment_status=PAID, expires_at=None, updated_at=bindparam("now"))
    .returning(_orders.c.id, _orders.c.fulfilment, _orders.c.location_id, _orders.c.member_id)
)


def start_payment(order_id: int, who: Principal, *, notify_url: str, return_url: str,
                  provider_name: str = DEFAULT_PROVIDER):
    """Open (or reopen) the payment for an unpaid online order; returns its record, with the pay URL."""
    provider = providers.get(provider_name)
    with unit_of_work() as uow:
        conn = uow.connection
        order = _LOCK_ORDER.first(conn, {"id": order_id})  # one payment attempt per order at a time
        if order is None:
            raise NotFound("订单不存在", code="order_not_found")
        check_access(order, who)
        if order.payment_method != ONLINE:
            raise Conflict("货到付款订单无需在线支付", code="not_online_payment")
        if order.status != state.PENDING_PAYMENT or order.payment_status != UNPAID:
            raise Conflict(f"订单状态为「{state.LABELS[order.status]}」,不能支付", code="not_payable")
        existing = _OPEN_PAYMENT.first(conn, {"order": order.id, "prov": provider.name, "amt": order.total})
        if existing is not None:
            return existing
        out_trade_no = "PAY" + secrets.token_hex(12)
        values = dict(order_id=order.id, provider=provider.name, out_trade_no=out_trade_no, provider_txn_id=None,
                      amount=order.total, status=PENDING, created_at=utcnow(), paid_at=None,
                      pay_url=provider.create_payment(
                          out_trade_no=out_trade_no, amount=order.total, subject=f"门店通订单 {order.number}",
                          notify_url=notify_url, return_url=return_url))
        return SimpleNamespace(id=_INSERT_PAYMENT.first(conn, values).id, **values)


def apply_notification(provider_name: str, body: bytes, headers) -> tuple[str, str]:
    """Verify and apply a payment notification. Returns (out_trade_no, outcome): 'paid', 'duplicate'
    (already applied: answer success again) or 'refunded' (the order had closed: money sent back)."""
    notification = providers.get(provider_name).parse_notification(body, headers)
    with unit_of_work() as uow:
        paid = _PAYMENT_SUCCEEDED.first(uow.connection, {
            "otn": notification.out_trade_no, "prov": provider_name, "amt": notification.amount,
            "txn": notification.provider_txn_id, "paid": notification.paid_at,
        })
        if paid is None:
            return notification.out_trade_no, _not_pending(uow.connection, provider_name, notification)
        actor = f"provider:{provider_name}"
        order = _ORDER_PAID.first(uow.connection, {"oid": paid.order_id, "now": utcnow()})
        if order is not None:
            state.ensure_legal(state.PENDING_PAYMENT, state.AWAITING_ACCEPTANCE, order.fulfilment)
            now = utcnow()
            event = state.record(uow.connection, order, actor=actor, kind="status",
                                 from_status=state.PENDING_PAYMENT, to_status=state.AWAITING_ACCEPTANCE,
                                 reason=f"支付成功 {paid.amount / 100:.2f} 元", at=now)
            if order.fulfilment == PICKUP:
                pickup_codes.issue_for_order(uow.connection, order.id, order.location_id, now)
            _announce_paid(uow, order, event.id)
            return notification.out_trade_no, "paid"
        _refund_late_payment(uow, paid, actor)
        return notification.out_trade_no, "refunded"


def _not_pending(connection, provider_name: str, notification) -> str:
    """Why the payment was not pending: already applied (a repeat), or a notification we must refuse."""
    payment = _PAYMENT_BY_TRADE_NO.first(connection, {"otn": notification.out_trade_no})
    if payment is None or payment.provider != provider_name:
        raise NotFound("未知的支付单", code="unknown_payment")
    if notification.amount != payment.amount:
        raise Conflict("通知金额与支付单不符", code="amount_mismatch")
    return "duplicate"


def _refund_late_payment(uow, paid, actor: str) -> None:
    """The money arrived for an order that is closed or already paid: send it straight back."""
    order = load_order(uow.session, paid.order_id, lock=True)
    state.record(uow.connection, order, actor=actor, kind="late_payment",
                 reason=f"订单已是「{state.LABELS[order.status]}」时收到付款,原路退回")
    payment = uow.session.get(Payment, paid.id, populate_existing=True)
    refund_payment(uow, payment, payment.amount, reason="迟到的支付通知,自动退款")
    if order.payment_status == UNPAID:
        order.payment_status = REFUNDED


def _announce_paid(uow, order, event_id: int) -> None:
    common = dict(order_id=order.id, location_id=order.location_id, member_id=order.member_id, event_id=event_id)
    uow.publish("order.new", **common)
    uow.publish("order.status", status=state.AWAITING_ACCEPTANCE, payment_status=PAID, **common)
