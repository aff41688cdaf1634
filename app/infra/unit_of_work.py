"""The unit of work every state change runs in: one transaction, side effects after commit.

SQLite never yields to gevent, so a write transaction must not do network I/O: side effects
(Socket.IO pushes, provider calls) are collected and run after commit.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator

from flask import current_app
from sqlalchemy.orm import Session

from ..events import DomainEvent, dispatch
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


class SessionReads:
    """What a unit of work offers (`connection`, `session`), on an existing ORM session (the request's):
    for reads outside any unit of work."""

    def __init__(self, session):
        self.session = session
        self.connection = session.connection()


_current_app = current_app._get_current_object  # read behind the proxy once per call (see app.api)
FACTORY_KEY = "storelink_unit_of_work"


def unit_of_work():
    """Run a state change as one transaction; roll back everything on any error. Use as
    `with unit_of_work() as uow:`.

    The application's unit-of-work factory makes it (create_app wires it in: group-committed units
    for SQLite under gevent, each its own transaction elsewhere; tests may wire a fake). On SQLite the
    transaction starts with BEGIN IMMEDIATE: it holds the write lock from the start, so it never fails
    half-way for want of it.
    """
    return _current_app().extensions[FACTORY_KEY]()


def own_transactions(engine, uow_class: type[UnitOfWork] = UnitOfWork) -> Callable[[], ContextManager[UnitOfWork]]:
    """A unit-of-work factory whose units each run on a connection and transaction of their own."""

    @contextmanager
    def own_transaction() -> Iterator[UnitOfWork]:
        uow = uow_class(engine.connect().execution_options(**{IMMEDIATE: True}))
        try:
            with uow.connection.begin():
                yield uow
                uow._finish_session()
        finally:
            uow._close_session()
            uow.connection.close()
        uow._run_after_commit()

    return own_transaction
