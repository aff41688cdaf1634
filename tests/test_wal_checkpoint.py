"""WAL checkpoints run on their own thread: writers no longer copy the log into the database file,
the background thread does."""
import os
import sqlite3
import time

from sqlalchemy import create_engine, event, text

from app.database import configure_engine
from app.wal_checkpoint import SAFETY_NET_PAGES, start_wal_checkpointer

ROWS, ROW_BYTES = 400, 4000


def _write(engine) -> None:
    with engine.begin() as conn:
        for _ in range(ROWS):
            conn.execute(text("INSERT INTO blobs (data) VALUES (randomblob(:n))"), {"n": ROW_BYTES})


def _database_file_holds_the_rows(path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.getsize(path) >= ROWS * ROW_BYTES:
            return True
        time.sleep(0.01)
    return os.path.getsize(path) >= ROWS * ROW_BYTES


def test_the_log_reaches_the_database_file_through_the_background_thread(tmp_path):
    path = tmp_path / "wal.db"
    engine = create_engine(f"sqlite:///{path}")
    configure_engine(engine)
    event.listen(engine, "connect",
                 lambda dbapi_connection, _: dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)"))
    # SQLite checkpoints when the last connection to a database closes: keep one open throughout.
    bystander = sqlite3.connect(path)
    bystander.execute("SELECT count(*) FROM sqlite_master").fetchone()  # joins the WAL (lazily done)
    _write(engine)
    # Below the safety net nobody checkpoints: the rows are in the log, not in the database file.
    assert not _database_file_holds_the_rows(path, timeout=0.3)

    checkpointer = start_wal_checkpointer(engine)
    try:
        with engine.connect() as conn:  # a connection opened from now on leaves checkpoints to the thread
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SAFETY_NET_PAGES
        assert _database_file_holds_the_rows(path, timeout=5)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM blobs")).scalar() == ROWS
    finally:
        checkpointer.stop()
        engine.dispose()
        bystander.close()


def test_only_file_backed_sqlite_gets_a_checkpointer(tmp_path):
    assert start_wal_checkpointer(create_engine("sqlite://")) is None
    assert start_wal_checkpointer(create_engine("postgresql+psycopg://u@127.0.0.1:1/none")) is None
