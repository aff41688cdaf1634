"""The unit of work every state change runs in: one transaction, side effects after commit.

SQLite never yields to gevent, so a write transaction must not do network I/O: side effects
(Socket.IO pushes, provider calls) are collected and run after commit.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from flask import current_app
from sqlalchemy.orm import Session

from ..events import DomainEvent, dispatch
from ..extensions import db
from .engine import IMMEDIATE

class UnitOfWork:
    """One database transaction plus the side effects to run once it has committed.

    `connection` runs the prebuilt statements of the hot paths; `session`, an ORM session on the
    same connection and transaction, is created only for the paths that work with model objects
    (an ORM flush costs about ten times a prebuilt statement here)."""

    def __init__(self, connection, *, own_savepoint: bool = False):
        self.connection = connection
        # Inside a shared (group-committed) transaction the ORM session keeps its changes in a
        # savepoint of its own, so whatever it does on failure stays within this unit.
        self._join_mode = "create_savepoint" if own_savepoint else "conditional_savepoint"
        self._session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False,
                                    join_transaction_mode=self._join_mode)
        return self._session

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def publish(self, name: str, **payload) -> None:
        """Announce a domain event to subscribers once (and only if) this transaction commits."""
        event = DomainEvent(name, payload)
        self._after_commit.append(lambda: dispatch(event))

    def _finish_session(self) -> None:
        """Write the ORM session's changes into the transaction (or the unit's savepoint); the
        session never commits the connection's own transaction."""
        if self._session is not None:
            self._session.commit()

    def _close_session(self) -> None:
        if self._session is not None:
            self._session.close()

    def _run_after_commit(self) -> None:
        for callback in self._after_commit:
            callback()


_current_app = current_app._get_current_object  # reading through the proxy costs ~2 µs (see app.api)


def unit_of_work():
    """Run a state change as one transaction; roll back everything on any error. Use as
    `with unit_of_work() as uow:`.

    On SQLite the transaction starts with BEGIN IMMEDIATE: it holds the write lock from the start,
    so it never fails half-way for want of it. In the gevent server, SQLite units of work are
    group-committed (see GroupCommit); elsewhere each has its own connection and transaction.
    """
    group = _current_app().extensions.get("storelink_group_commit")
    return group.unit() if group is not None else _own_transaction()


@contextmanager
def _own_transaction() -> Iterator[UnitOfWork]:
    uow = UnitOfWork(db.engine.connect().execution_options(**{IMMEDIATE: True}))
    try:
        with uow.connection.begin():
            yield uow
            uow._finish_session()
    finally:
        uow._close_session()
        uow.connection.close()
    uow._run_after_commit()
