"""Data access for our side of payments: payment attempts and refunds (the payments and refunds tables
are written here and nowhere else). The notification path runs prebuilt statements (FastStatement);
refunds, which are rare, use the ORM session of the unit of work."""
from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update

from ..infra.fastsql import FastStatement
from .models import PENDING, SUCCEEDED, Payment, Refund

_payments = Payment.__table__
_OPEN_PAYMENT = FastStatement(select(_payments).where(
    _payments.c.order_id == bindparam("order"), _payments.c.status == PENDING,
    _payments.c.provider == bindparam("prov"), _payments.c.amount == bindparam("amt"),
).limit(1))
_INSERT_PAYMENT = FastStatement(insert(_payments).returning(_payments.c.id))
# Parameter names differ from column names, as UPDATE statements require.
_SUCCEEDED = FastStatement(
    update(_payments)
    .where(_payments.c.out_trade_no == bindparam("otn"), _payments.c.provider == bindparam("prov"),
           _payments.c.amount == bindparam("amt"), _payments.c.status == PENDING)
    .values(status=SUCCEEDED, provider_txn_id=bindparam("txn"), paid_at=bindparam("paid"))
    .returning(_payments.c.id, _payments.c.order_id, _payments.c.amount, _payments.c.provider)
)
_BY_TRADE_NO = FastStatement(select(_payments).where(_payments.c.out_trade_no == bindparam("otn")))


class PaymentRepository:
    """Payments and refunds in one unit of work (`uow`: its connection, and its ORM session for refunds)."""

    __slots__ = ("_uow",)

    def __init__(self, uow):
        self._uow = uow

    # --- payments ------------------------------------------------------------------------------
    def open_payment(self, order_id: int, provider: str, amount: int):
        """A pending payment of the order at this provider for this amount, or None."""
        return _OPEN_PAYMENT.first(self._uow.connection, {"order": order_id, "prov": provider, "amt": amount})

    def insert_payment(self, values: dict) -> int:
        return _INSERT_PAYMENT.first(self._uow.connection, values).id

    def mark_succeeded(self, out_trade_no: str, provider: str, amount: int, txn_id: str, paid_at):
        """Compare-and-set pending → succeeded for the payment with this number, provider and amount;
        (id, order_id, amount, provider) of the payment, or None when no pending payment matched."""
        return _SUCCEEDED.first(self._uow.connection, {
            "otn": out_trade_no, "prov": provider, "amt": amount, "txn": txn_id, "paid": paid_at,
        })

    def by_trade_no(self, out_trade_no: str):
        return _BY_TRADE_NO.first(self._uow.connection, {"otn": out_trade_no})

    def add(self, payment: Payment) -> None:
        """Write a payment made outside the providers (at the counter)."""
        self._uow.session.add(payment)

    def get(self, payment_id: int, *, fresh: bool = False) -> Payment | None:
        return self._uow.session.get(Payment, payment_id, populate_existing=fresh)

    def succeeded_for_order(self, order_id: int) -> list[Payment]:
        return list(self._uow.session.execute(
            select(Payment).where(Payment.order_id == order_id, Payment.status == SUCCEEDED).order_by(Payment.id)
        ).scalars())

    # --- refunds -------------------------------------------------------------------------------
    def refunded_amount(self, payment_id: int) -> int:
        return self._uow.session.execute(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.payment_id == payment_id)
        ).scalar_one()

    def add_refund(self, refund: Refund) -> int:
        """Write the refund; its new id."""
        self._uow.session.add(refund)
        self._uow.session.flush()
        return refund.id

    def refund(self, refund_id: int, *, lock: bool = False) -> Refund | None:
        return self._uow.session.get(Refund, refund_id, with_for_update=lock, populate_existing=lock)

    def pending_refund_ids(self, limit: int) -> list[int]:
        return list(self._uow.session.execute(
            select(Refund.id).where(Refund.status == PENDING).order_by(Refund.id).limit(limit)
        ).scalars())
