"""WAL checkpoints run on their own thread: writers no longer copy the log into the database file,
the background thread does."""
import os
import sqlite3
import time

from sqlalchemy import create_engine, event, text

from app.infra.engine import configure_engine
from app.infra.wal_checkpoint import SAFETY_NET_PAGES, WalCheckpointer, start_wal_checkpointer

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


def test_with_the_thread_running_the_log_is_restarted_once_copied(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'restart.db'}")
    configure_engine(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)"))
    checkpointer = start_wal_checkpointer(engine, restart_frames=100)
    try:
        _write(engine)  # ~400 pages of log
        deadline = time.monotonic() + 5
        frames = None
        while time.monotonic() < deadline:
            time.sleep(0.05)
            with engine.begin() as conn:  # a small commit: after a restart it writes from the log's start
                conn.execute(text("INSERT INTO blobs (data) VALUES (x'00')"))
            probe = sqlite3.connect(tmp_path / "restart.db")
            try:
                frames = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
            finally:
                probe.close()
            if frames < 50:
                break
        assert frames is not None and frames < 50, f"log still {frames} frames long"
    finally:
        checkpointer.stop()
        engine.dispose()


class FakeConnection:
    """Answers the checkpoint pragmas with scripted (busy, log frames, copied frames) rows."""

    def __init__(self, answers):
        self.answers, self.sent = list(answers), []

    def execute(self, sql):
        self.sent.append(sql)
        row = self.answers.pop(0)
        return type("Cursor", (), {"fetchone": lambda _: row})()


def test_restart_only_once_the_log_is_long_and_fully_copied_and_back_off_when_readers_hold_it():
    checkpointer = WalCheckpointer("unused.db", restart_frames=100)
    passive, restart = "PRAGMA wal_checkpoint(PASSIVE)", "PRAGMA wal_checkpoint(RESTART)"

    conn = FakeConnection([(0, 99, 99)])  # short log: copy only
    checkpointer._checkpoint(conn)
    assert conn.sent == [passive]
    conn = FakeConnection([(0, 150, 140)])  # long, but not all copied yet
    checkpointer._checkpoint(conn)
    assert conn.sent == [passive]
    conn = FakeConnection([(0, 150, 150), (1, 150, 150)])  # restart held off by a reader...
    checkpointer._checkpoint(conn)
    assert conn.sent == [passive, restart]
    conn = FakeConnection([(0, 200, 200)])  # ...so writers are not held again before the log grew
    checkpointer._checkpoint(conn)
    assert conn.sent == [passive]
    conn = FakeConnection([(0, 260, 260), (0, 0, 0)])
    checkpointer._checkpoint(conn)
    assert conn.sent == [passive, restart]
    conn = FakeConnection([(0, 120, 120), (0, 0, 0)])  # after a restart the normal mark applies again
    checkpointer._checkpoint(conn)
    assert conn.sent == [passive, restart]


def test_only_file_backed_sqlite_gets_a_checkpointer(tmp_path):
    assert start_wal_checkpointer(create_engine("sqlite://")) is None
    assert start_wal_checkpointer(create_engine("postgresql+psycopg://u@127.0.0.1:1/none")) is None
