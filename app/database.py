"""Engine tuning and the unit of work every state change runs in.

SQLite: WAL journal, a busy timeout, and write transactions opened with BEGIN IMMEDIATE so two
writers never both read and then fail to upgrade their lock. pysqlite's legacy transaction
handling would otherwise emit its own deferred BEGIN, so it is switched off as SQLAlchemy's
documentation describes and we emit BEGIN ourselves.

SQLite never yields to gevent, so a write transaction must not do network I/O: side effects
(Socket.IO pushes, provider calls) are collected and run after commit. Waiting for another
process's write lock must not stall the event loop either: SQLite's own busy wait sleeps inside C,
so it is kept short and BEGIN IMMEDIATE is retried with a cooperative sleep instead.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .events import DomainEvent, dispatch
from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 1  # SQLite's own wait blocks the whole process: longer waits are cooperative, below
WRITE_LOCK_TIMEOUT_SECONDS = 30
_IMMEDIATE = "storelink_immediate"


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        dbapi_connection = conn.connection.dbapi_connection
        if conn.get_execution_options().get(_IMMEDIATE):
            _begin_immediate(dbapi_connection)
        else:
            dbapi_connection.execute("BEGIN")


def _begin_immediate(dbapi_connection) -> None:
    """Take SQLite's write lock, waiting cooperatively (time.sleep yields under gevent) while another
    process holds it."""
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT_SECONDS
    delay = 0.0002  # writers hold the lock well under a millisecond: retry soon, back off to 2 ms
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.002)


def engine_options(database_url: str, pool_size: int) -> dict:
    if database_url.startswith("sqlite"):
        return {"pool_size": pool_size, "max_overflow": pool_size * 4, "pool_timeout": 60}
    # No pre-ping (a round trip per checkout, and units of work check out a connection each): stale
    # connections are recycled by age instead.
    return {"pool_size": pool_size, "max_overflow": pool_size, "pool_recycle": 1800, "pool_timeout": 60}


class UnitOfWork:
    """One database transaction plus the side effects to run once it has committed.

    `connection` runs the prebuilt statements of the hot paths; `session`, an ORM session on the
    same connection and transaction, is created only for the paths that work with model objects
    (an ORM flush costs about ten times a prebuilt statement here)."""

    def __init__(self, connection):
        self.connection = connection
        self._session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def publish(self, name: str, **payload) -> None:
        """Announce a domain event to subscribers once (and only if) this transaction commits."""
        event = DomainEvent(name, payload)
        self._after_commit.append(lambda: dispatch(event))

    def _flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
        self.connection.close()


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Run a state change as one transaction on its own connection; roll back everything on any error.

    On SQLite the transaction starts with BEGIN IMMEDIATE: it holds the write lock from the start,
    so it never fails half-way for want of it.
    """
    uow = UnitOfWork(db.engine.connect().execution_options(**{_IMMEDIATE: True}))
    try:
        with uow.connection.begin():
            yield uow
            uow._flush()
    finally:
        uow._close()
    for callback in uow._after_commit:
        callback()
