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

import gevent
import gevent.event
import gevent.lock
from flask import current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .events import DomainEvent, dispatch
from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 1  # SQLite's own wait blocks the whole process: longer waits are cooperative, below
WRITE_LOCK_TIMEOUT_SECONDS = 30
WRITER_CACHE_KIB = 16 * 1024
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

    @event.listens_for(engine, "checkin")
    def _sqlite_checkin(dbapi_connection, _record):
        # A COMMIT that SQLite refuses (a deferred constraint, a full disk) leaves the transaction
        # open, and the pool's own reset does not end it: end it here, or the next user of this
        # connection could not begin.
        if dbapi_connection.in_transaction:
            dbapi_connection.rollback()

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
    uow = UnitOfWork(db.engine.connect().execution_options(**{_IMMEDIATE: True}))
    try:
        with uow.connection.begin():
            yield uow
            uow._finish_session()
    finally:
        uow._close_session()
        uow.connection.close()
    uow._run_after_commit()


class GroupCommit:
    """Group commit for SQLite under gevent: the units of work that start in the same turn of the
    event loop share one write transaction, each inside its own SAVEPOINT (a failing unit rolls back
    only its own work), and a single COMMIT makes the batch durable. Every unit waits for that
    COMMIT before it answers, so nothing is reported done before it is on disk; what a unit pays
    for its transaction falls to a SAVEPOINT and its share of one COMMIT.

    SQLite serialises writers anyway and its statements never yield to gevent, so batching costs
    no concurrency; it is not used on PostgreSQL, which commits concurrent transactions itself."""

    def __init__(self, engine):
        self._engine = engine
        self._open: _Batch | None = None
        self._inside: set = set()  # greenlets inside a unit right now
        # Every batch writes through one connection, kept between batches. SQLite empties a
        # connection's whole page cache when it finds that another connection wrote since its last
        # transaction: batches taking turns with readers' connections from the pool re-read every
        # page they touched (measured: 1 to 3 page reads per order, more as the database grew).
        self._writer = None
        self._writer_free = gevent.lock.Semaphore()  # one batch on the writer at a time

    def close(self) -> None:
        """Give the writer connection back (tests, shutdown); a later batch opens a new one."""
        self._drop_writer()

    def _writer_connection(self):
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            self._writer = self._engine.connect().execution_options(**{_IMMEDIATE: True})
            # Its cache now lasts, so give it room for the indexes orders touch (SQLite's default is
            # 2 MB; readers keep it, their caches empty at every write anyway). Measured at 60,000
            # orders: 0.6 page reads per order with 2 MB, 0.2 with 16 MB.
            _raw(self._writer).execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        return self._writer

    def _drop_writer(self) -> None:
        # Back to the pool, whose check-in handler ends any transaction a failure left open.
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    @staticmethod
    def applies(engine) -> bool:
        from gevent import monkey

        return engine.dialect.name == "sqlite" and monkey.is_module_patched("socket")

    def unit(self) -> "_GroupUnit":
        return _GroupUnit(self)

    def _join(self) -> "_Batch":
        batch = self._open
        if batch is not None:
            batch.ready.wait()  # its BEGIN IMMEDIATE may still be waiting for the write lock
            if batch.failure is not None:
                raise batch.failure
            return batch
        batch = self._open = _Batch()
        self._writer_free.acquire()  # a batch still committing ends first (a guard: SQLite's COMMIT never yields)
        try:
            batch.connection = self._writer_connection()
            batch.transaction = batch.connection.begin()
        except BaseException as exc:
            batch.failure = exc
            self._open = None
            self._drop_writer()
            self._writer_free.release()
            batch.ready.set()
            batch.done.set()
            raise
        batch.ready.set()
        gevent.spawn(self._commit, batch)
        return batch

    def _commit(self, batch: "_Batch") -> None:
        gevent.sleep(0)  # every unit already runnable joins this batch first
        while batch.pending:
            gevent.sleep(0)
        self._open = None  # units from now on open the next batch
        try:
            batch.transaction.commit()
        except BaseException as exc:  # every unit of the batch reports the failure
            batch.failure = exc
            self._drop_writer()
        finally:
            self._writer_free.release()
            batch.done.set()


class _Batch:
    def __init__(self):
        self.connection = None
        self.transaction = None
        self.failure: BaseException | None = None
        self.pending = 0  # units joined and not yet through their savepoint
        self.lock = gevent.lock.Semaphore()  # held by the unit inside its savepoint
        self.ready = gevent.event.Event()
        self.done = gevent.event.Event()


class _GroupUnit:
    """One unit of work inside a batch's shared transaction, in its own SAVEPOINT.

    A class rather than a generator-based context manager: this runs for every order placed, and
    the generator machinery cost more than the savepoint. The savepoint is issued on the DB-API
    connection (SQLAlchemy's own savepoints cost a fifth of an order's time here); units never
    interleave (the batch lock), so one name suffices."""

    __slots__ = ("_group", "_greenlet", "_batch", "_uow")

    def __init__(self, group: GroupCommit):
        self._group = group

    def __enter__(self) -> UnitOfWork:
        group, me = self._group, gevent.getcurrent()
        if me in group._inside:
            # It would wait for a COMMIT that waits for the unit it is nested in.
            raise RuntimeError("units of work do not nest: finish one before starting the next")
        batch = group._join()
        batch.pending += 1  # the batch does not commit before this unit is through
        group._inside.add(me)
        self._greenlet, self._batch = me, batch
        try:
            # One unit at a time inside the transaction: savepoints must not interleave, should a
            # unit ever yield half-way (SQLite work itself never does).
            batch.lock.acquire()
            try:
                _raw(batch.connection).execute("SAVEPOINT unit_of_work")
            except BaseException:
                batch.lock.release()
                raise
        except BaseException:
            self._leave()
            raise
        self._uow = UnitOfWork(batch.connection, own_savepoint=True)
        return self._uow

    def __exit__(self, exc_type, exc, traceback) -> bool:
        batch, uow = self._batch, self._uow
        failed = exc_type is not None
        try:
            if not failed:
                try:
                    uow._finish_session()
                except BaseException:
                    failed = True
                    raise
        finally:
            try:
                uow._close_session()
                raw = _raw(batch.connection)
                if failed:
                    raw.execute("ROLLBACK TO unit_of_work")
                raw.execute("RELEASE unit_of_work")
            finally:
                batch.lock.release()
                self._leave()
        if failed:
            return False  # the body's error goes on up
        batch.done.wait()
        if batch.failure is not None:
            raise batch.failure
        uow._run_after_commit()
        return False

    def _leave(self) -> None:
        self._batch.pending -= 1
        self._group._inside.discard(self._greenlet)


def _raw(connection):
    return connection.connection.dbapi_connection


def init_group_commit(app) -> None:
    if app.config.get("SQLITE_GROUP_COMMIT", True) and GroupCommit.applies(db.engine):
        app.extensions["storelink_group_commit"] = GroupCommit(db.engine)
