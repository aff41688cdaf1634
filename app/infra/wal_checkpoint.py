"""SQLite WAL checkpoints on a thread of their own, off the event loop.

In WAL mode every commit appends pages to the write-ahead log, and by default the commit that takes
the log past 1,000 pages copies the log back into the database file itself (a checkpoint), inside
the COMMIT. SQLite never yields to gevent, so that copy stalls every request of the process (about half
of what committing cost: docs/PERFORMANCE.md).

A WalCheckpointer runs PASSIVE checkpoints every few milliseconds on a real OS thread with its own
connection. The sqlite3 module releases the GIL while SQLite works, so the copy runs beside the event
loop, on another core. PASSIVE never waits for, or blocks, readers and writers; several worker
processes may each run one (SQLite lets one checkpoint run at a time and the others return at once).
The serving connections keep automatic checkpoints, at a much higher mark, as a safety net should
this thread fall behind or stop.
"""
from __future__ import annotations

import logging
import sqlite3

from gevent import monkey
from sqlalchemy import event

log = logging.getLogger(__name__)

# Real threads and sleeps even when gevent has patched the standard library.
_start_thread = monkey.get_original("_thread", "start_new_thread")
_allocate_lock = monkey.get_original("_thread", "allocate_lock")
_sleep = monkey.get_original("time", "sleep")

INTERVAL_SECONDS = 0.02
SAFETY_NET_PAGES = 20_000  # ~80 MB of log: writers checkpoint themselves only if this thread fell behind
# PASSIVE copies the log but never restarts it, and under steady commits no writer finds it fully
# copied, so it would grow to the safety net. Past this many frames, once all are copied, a RESTART
# checkpoint makes the next commit write from the log's start again; it holds off writers only for
# the moment it waits (at most RESTART_WAIT_MS) for readers to leave the log.
RESTART_FRAMES = 4_000
RESTART_WAIT_MS = 50


class WalCheckpointer:
    def __init__(self, database_path: str, *, interval: float = INTERVAL_SECONDS,
                 restart_frames: int = RESTART_FRAMES):
        self._path = database_path
        self._interval = interval
        self._restart_frames = restart_frames
        self._restart_at = restart_frames  # raised after a RESTART that readers held off
        self._stopping = False
        self._running = _allocate_lock()  # held by the thread while it runs

    def start(self) -> None:
        self._running.acquire()
        _start_thread(self._run, ())

    def stop(self) -> None:
        self._stopping = True
        self._running.acquire()  # returns once the thread has closed its connection
        self._running.release()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            connection.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")  # waits on this thread only
            try:
                while not self._stopping:
                    self._checkpoint(connection)
                    _sleep(self._interval)
            finally:
                connection.close()
        except Exception:
            log.exception("WAL checkpoint thread stopped; writers fall back to automatic checkpoints")
        finally:
            self._running.release()

    def _checkpoint(self, connection) -> None:
        try:
            busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if not busy and frames >= self._restart_at and copied == frames:
                self._restart(connection, frames)
        except sqlite3.OperationalError as exc:  # locked by a schema change, say: try again next time
            log.warning("WAL checkpoint skipped: %s", exc)

    def _restart(self, connection, frames: int) -> None:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        # Held off by readers: writers were kept waiting meanwhile, so let the log grow again first.
        self._restart_at = frames + self._restart_frames if busy else self._restart_frames


def start_wal_checkpointer(engine, **options) -> WalCheckpointer | None:
    """For a file-backed SQLite engine: raise the writers' automatic checkpoint to the safety net
    and checkpoint on a background thread. Returns None for any other database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None

    @event.listens_for(engine, "connect")
    def _safety_net_only(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")

    engine.dispose()  # connections opened before now would still checkpoint at 1,000 pages
    checkpointer = WalCheckpointer(database, **options)
    checkpointer.start()
    return checkpointer
