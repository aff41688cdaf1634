"""Engine set-up: SQLite pragmas, write transactions opened with BEGIN IMMEDIATE, pool options.

SQLite: WAL journal, a busy timeout, and write transactions opened with BEGIN IMMEDIATE so two
writers never both read and then fail to upgrade their lock. pysqlite's legacy transaction
handling would otherwise emit its own deferred BEGIN, so it is switched off as SQLAlchemy's
documentation describes and we emit BEGIN ourselves.

Waiting for another process's write lock must not stall the event loop: SQLite's own busy wait
sleeps inside C, so it is kept short and BEGIN IMMEDIATE is retried with a cooperative sleep instead.
"""
from __future__ import annotations

import sqlite3
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 1  # SQLite's own wait blocks the whole process: longer waits are cooperative, below
WRITE_LOCK_TIMEOUT_SECONDS = 30
IMMEDIATE = "storelink_immediate"  # execution option: open the transaction with BEGIN IMMEDIATE


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
        if conn.get_execution_options().get(IMMEDIATE):
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
