"""SQLite group commit under gevent: units of work started in the same turn of the event loop share
one write transaction and one COMMIT."""
from __future__ import annotations

import gevent
import gevent.event
import gevent.lock

from .engine import IMMEDIATE
from .unit_of_work import UnitOfWork

WRITER_CACHE_KIB = 16 * 1024


class GroupCommit:
    """Group commit for SQLite under gevent: the units of work that start in the same turn of the
    event loop share one write transaction, each inside its own SAVEPOINT (a failing unit rolls back
    only its own work), and a single COMMIT makes the batch durable. Every unit waits for that
    COMMIT before it answers, so nothing is reported done before it is on disk; what a unit pays
    for its transaction falls to a SAVEPOINT and its share of one COMMIT.

    SQLite serialises writers anyway and its statements never yield to gevent, so batching costs
    no concurrency; it is not used on PostgreSQL, which commits concurrent transactions itself."""

    def __init__(self, engine, uow_class: type[UnitOfWork] = UnitOfWork):
        self._engine = engine
        self._uow_class = uow_class
        self._open: _Batch | None = None
        self._inside: set = set()  # greenlets inside a unit right now
        # Every batch writes through one connection, kept between batches. SQLite empties a
        # connection's whole page cache when it finds that another connection wrote since its last
        # transaction: batches taking turns with readers' connections from the pool re-read every
        # page they touched (docs/PERFORMANCE.md).
        self._writer = None
        self._writer_free = gevent.lock.Semaphore()  # one batch on the writer at a time

    def close(self) -> None:
        """Give the writer connection back (tests, shutdown); a later batch opens a new one."""
        self._drop_writer()

    def _writer_connection(self):
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            self._writer = self._engine.connect().execution_options(**{IMMEDIATE: True})
            # Its cache now lasts, so give it room for the indexes orders touch (SQLite's default is
            # 2 MB; readers keep it, their caches empty at every write anyway; docs/PERFORMANCE.md).
            _raw(self._writer).execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
            # Each unit's SAVEPOINT keeps the original of every page it changes in a sub-journal;
            # past 64 KiB (about one order's pages) SQLite moves it to a temporary file unless
            # temp_store is MEMORY, and those writes cost a sixth of an order (docs/PERFORMANCE.md).
            _raw(self._writer).execute("PRAGMA temp_store=MEMORY")
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
    connection (SQLAlchemy's own savepoints cost a large share of an order's time); units never
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
        self._uow = group._uow_class(batch.connection, own_savepoint=True)
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


def group_commit_for(app, engine, uow_class: type[UnitOfWork] = UnitOfWork) -> GroupCommit | None:
    """The group commit for this app's engine, where it applies (SQLite under gevent, unless the
    SQLITE_GROUP_COMMIT setting is off)."""
    if app.config.get("SQLITE_GROUP_COMMIT", True) and GroupCommit.applies(engine):
        return GroupCommit(engine, uow_class)
    return None
