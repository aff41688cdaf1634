"""Data access for our side of payments: payment attempts and refunds (the payments and refunds tables
are written here and nowhere else). The notification path runs prebuilt statements (FastStatement);
refunds, which are rare, use the ORM session of the unit of work."""
from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update

from ..infra.fastsql import FastStatement
from ..orders.models import Order
from .models import AT_STORE, PENDING, SUCCEEDED, Payment, Refund

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
    .returning(_payments.c.id, _payments.c.order_id, _payments.c.amount, _payments.c.provider, _payments.c.purpose)
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
        (id, order_id, amount, provider, purpose) of the payment, or None when no pending payment matched."""
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

    def mark_refund_paid_out(self, refund_id: int, staff_id: int, method: str, now) -> bool:
        """Compare-and-set at_store → succeeded, paid out by this clerk this way now: of two clerks paying
        out the same refund at the same moment exactly one updates the row."""
        changed = self._uow.session.execute(
            update(Refund).where(Refund.id == refund_id, Refund.status == AT_STORE)
            .values(status=SUCCEEDED, done_at=now, paid_out_by=staff_id, payout_method=method)
            .execution_options(synchronize_session=False)).rowcount
        return changed == 1

    def refunds_of_order(self, order_id: int) -> list[tuple[Refund, str]]:
        """The order's refunds, oldest first, each with the provider of the payment it returns."""
        return [tuple(row) for row in self._uow.session.execute(
            select(Refund, Payment.provider).join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.order_id == order_id).order_by(Refund.id)).all()]

    def store_refunds(self, store_id: int, *, owed: bool, limit: int = 100) -> list[tuple[Refund, Order, str]]:
        """Refunds of the store's orders owed at its counter (oldest first), or the ones paid out there
        (newest first): each with its order and the provider of the payment it returns."""
        query = (select(Refund, Order, Payment.provider).join(Order, Order.id == Refund.order_id)
                 .join(Payment, Payment.id == Refund.payment_id).where(Order.location_id == store_id).limit(limit))
        if owed:
            query = query.where(Refund.status == AT_STORE).order_by(Refund.id)
        else:
            query = query.where(Refund.paid_out_by.is_not(None)).order_by(Refund.done_at.desc(), Refund.id.desc())
        return [tuple(row) for row in self._uow.session.execute(query).all()]
