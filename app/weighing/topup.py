"""The member's top-up (补款) for weighed lines that came out heavier: a payment of purpose 'topup' on an
order already paid, for the lines the clerk marked as awaiting it.

One top-up payment covers every line awaiting one. If the lines change before it is paid (the clerk asks
for another line, or takes cash instead), a new payment is opened for the new amount and the old one no
longer settles anything: should it be paid after all, it is refunded as a late payment.
"""
from __future__ import annotations

import secrets
from types import SimpleNamespace

from sqlalchemy import select

from ..accounts.auth import Principal
from ..clock import utcnow
from ..errors import Conflict, PaymentUnavailable
from ..infra.unit_of_work import unit_of_work
from ..orders import state
from ..orders.lifecycle import check_access, load_order
from ..orders.models import ONLINE
from ..payments import provider as providers, purposes
from ..payments.models import PENDING, TOPUP
from . import rules
from .models import AWAITING_PAYMENT, LineWeighing
from .service import WEIGHABLE_STATUSES, announce, mark_settled


def start_topup(order_id: int, who: Principal, *, notify_url: str, return_url: str,
                provider_name: str = "sandbox"):
    """Open (or reopen) the top-up payment for the order's lines awaiting one; returns its record."""
    if not providers.registered(provider_name):  # e.g. production, where the sandbox is refused
        raise PaymentUnavailable("在线支付暂不可用", code="payment_unavailable")
    provider = providers.get(provider_name)
    with unit_of_work() as uow:
        session = uow.session
        order = load_order(uow, order_id, with_lines=False)
        check_access(order, who)
        if order.payment_method != ONLINE or order.status not in WEIGHABLE_STATUSES:
            raise Conflict("该订单没有待支付的补款", code="no_topup_due")
        awaiting = _awaiting(session, order.id)
        amount = sum(w.difference for w in awaiting)
        if amount <= 0:
            raise Conflict("该订单没有待支付的补款", code="no_topup_due")
        linked = {w.topup_payment_id for w in awaiting}
        if len(linked) == 1 and None not in linked:
            payment = uow.payments.get(linked.pop())
            if payment.status == PENDING and payment.amount == amount and payment.provider == provider.name:
                return payment  # the same top-up, not paid yet: the same pay page
        out_trade_no = "TOP" + secrets.token_hex(12)
        values = dict(order_id=order.id, provider=provider.name, out_trade_no=out_trade_no, provider_txn_id=None,
                      amount=amount, purpose=TOPUP, status=PENDING, created_at=utcnow(), paid_at=None,
                      pay_url=provider.create_payment(
                          out_trade_no=out_trade_no, amount=amount, subject=f"门店通订单 {order.number} 称重补款",
                          notify_url=notify_url, return_url=return_url))
        payment = SimpleNamespace(id=uow.payments.insert_payment(values), **values)
        for weighing in awaiting:
            weighing.topup_payment_id = payment.id
        return payment


def apply_paid(uow, paid, actor: str) -> bool:
    """A top-up was paid: settle the lines it was opened for. False when they no longer wait for it."""
    session = uow.session
    order = load_order(uow, paid.order_id, with_lines=False)
    weighings = session.execute(select(LineWeighing).where(
        LineWeighing.topup_payment_id == paid.id, LineWeighing.status == AWAITING_PAYMENT)).scalars().all()
    if not weighings or order.status not in WEIGHABLE_STATUSES or sum(w.difference for w in weighings) != paid.amount:
        return False
    now = utcnow()
    for weighing in weighings:
        mark_settled(weighing, rules.TOPUP, rules.Split(collected=weighing.difference), actor, now)
    event = state.record(uow, order.id, actor=actor, kind="topup_paid",
                         reason=f"会员称重补款 {paid.amount / 100:.2f} 元已支付")
    announce(uow, order, event.id)
    return True


def _awaiting(session, order_id: int) -> list[LineWeighing]:
    return session.execute(select(LineWeighing).where(
        LineWeighing.order_id == order_id, LineWeighing.status == AWAITING_PAYMENT).order_by(LineWeighing.id)).scalars().all()


purposes.register(TOPUP, apply_paid)
