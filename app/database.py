"""Engine tuning and the unit of work every state change runs in.

SQLite: WAL journal, a busy timeout, and write transactions opened with BEGIN IMMEDIATE so two
writers never both read and then fail to upgrade their lock. pysqlite's legacy transaction
handling would otherwise emit its own deferred BEGIN, so it is switched off as SQLAlchemy's
documentation describes and we emit BEGIN ourselves.

SQLite never yields to gevent, so a write transaction must not do network I/O: side effects
(Socket.IO pushes, provider calls) are collected and run after commit.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .events import DomainEvent, dispatch
from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 30_000
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
        immediate = conn.get_execution_options().get(_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def engine_options(database_url: str, pool_size: int) -> dict:
    if database_url.startswith("sqlite"):
        return {"pool_size": pool_size, "max_overflow": pool_size * 4, "pool_timeout": 60}
    return {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True, "pool_timeout": 60}


class UnitOfWork:
    """One database transaction plus the side effects to run once it has committed.

    `session` is the ORM session; `connection` is its connection, for the prebuilt Core statements
    the hot paths use (an ORM flush costs about ten times a Core statement here)."""

    def __init__(self, session, connection):
        self.session = session
        self.connection = connection
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def publish(self, name: str, **payload) -> None:
        """Announce a domain event to subscribers once (and only if) this transaction commits."""
        event = DomainEvent(name, payload)
        self._after_commit.append(lambda: dispatch(event))


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Run a state change as one transaction; roll back everything on any error.

    Any read transaction the request already had is ended first so the write transaction
    starts fresh (and, on SQLite, takes the write lock up front).
    """
    session = db.session()  # the request's (or greenlet's) own Session
    if session.in_transaction():
        session.rollback()
    uow = UnitOfWork(session, session.connection(execution_options={_IMMEDIATE: True}))
    try:
        yield uow
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for callback in uow._after_commit:
        callback()

