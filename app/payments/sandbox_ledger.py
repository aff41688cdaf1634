"""Data access for the sandbox provider's own ledger (a real provider keeps it on its side): its
transactions, their notification schedule, and its refunds."""
from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from ..infra.fastsql import FastStatement
from .sandbox_models import NOTIFY_PENDING, SandboxRefund, SandboxTransaction

_txns = SandboxTransaction.__table__
_TXN = FastStatement(select(_txns).where(_txns.c.txn_id == bindparam("id")))
_INSERT_TXN = FastStatement(insert(_txns))
_AFTER_ATTEMPT = FastStatement(update(_txns).where(_txns.c.txn_id == bindparam("id")).values(
    notify_status=bindparam("st"), notify_attempts=bindparam("n"), next_notify_at=bindparam("at")
))


class SandboxLedger:
    """The ledger in a unit of work, or on a session (`work`: anything with `connection` and `session`)."""

    __slots__ = ("_work",)

    def __init__(self, work):
        self._work = work

    def book(self, txn: SandboxTransaction) -> None:
        """Write the transaction; IntegrityError when its out_trade_no was booked before."""
        _INSERT_TXN.execute(self._work.connection, {c.key: getattr(txn, c.key) for c in _txns.columns})

    def transaction(self, txn_id: str):
        """The transaction's row, or None."""
        return _TXN.first(self._work.connection, {"id": txn_id})

    def transaction_for(self, out_trade_no: str) -> SandboxTransaction | None:
        return self._work.session.execute(
            select(SandboxTransaction).where(SandboxTransaction.out_trade_no == out_trade_no)
        ).scalar_one_or_none()

    def after_attempt(self, txn_id: str, *, attempts: int, status: str, next_at) -> None:
        _AFTER_ATTEMPT.execute(self._work.connection, {"id": txn_id, "n": attempts, "st": status, "at": next_at})

    def due_for_notification(self, now, limit: int) -> list[str]:
        return list(self._work.session.execute(
            select(SandboxTransaction.txn_id)
            .where(SandboxTransaction.notify_status == NOTIFY_PENDING, SandboxTransaction.next_notify_at <= now)
            .limit(limit)
        ).scalars())

    def refund_booked(self, refund_no: str) -> bool:
        return self._work.session.get(SandboxRefund, refund_no) is not None

    def book_refund(self, txn_id: str, refund_no: str, amount: int) -> bool:
        """Add `amount` to what the transaction refunded, unless that exceeds what was paid (False)."""
        booked = self._work.session.execute(
            update(SandboxTransaction)
            .where(SandboxTransaction.txn_id == txn_id, SandboxTransaction.refunded + amount <= SandboxTransaction.amount)
            .values(refunded=SandboxTransaction.refunded + amount)
        ).rowcount
        if booked:
            self._work.session.add(SandboxRefund(refund_no=refund_no, txn_id=txn_id, amount=amount))
        return bool(booked)
