"""The bridge's durable print spool: one SQLite file. A job is stored once by its server id (a job the
server sends again after a reconnect is recognised, never queued twice), printed once, and its outcome
kept until the server has acknowledged it.

States: pending -> sending -> printed | failed | expired; sending -> pending when the printer went
away before confirming. A job found `sending` after a restart of the bridge is marked failed
("uncertain"), not printed again: the printer was alive and may well have printed it, and a clerk
reprints with one button, while a double receipt cannot be taken back.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass

# How long a job may wait for its printer, by kind (seconds): a drawer kick is pointless minutes later.
TTL = {"drawer_kick": 10, "receipt": 3600, "pickup_ticket": 3600, "delivery_note": 4 * 3600}
DEFAULT_TTL = 3600
FINAL = ("printed", "failed", "expired")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    printer TEXT NOT NULL,
    kind TEXT NOT NULL,
    document TEXT NOT NULL,
    received_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'printed', 'failed', 'expired')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    finished_at REAL,
    reported INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (printer, state, received_at);
"""


@dataclass(frozen=True)
class SpooledJob:
    job_id: str
    printer: str
    kind: str
    document: dict
    attempts: int


class Spool:
    def __init__(self, path: str):
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a job marked printed stays printed across a power cut
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def recover(self) -> list[str]:
        """After a restart: jobs caught half-way are failed as uncertain (see the module's note)."""
        with self._lock:
            rows = self._db.execute("SELECT job_id FROM jobs WHERE state = 'sending'").fetchall()
            self._db.execute("UPDATE jobs SET state = 'failed', error = 'uncertain: the bridge stopped while "
                             "printing; check the printer and reprint if needed', finished_at = ?, reported = 0 "
                             "WHERE state = 'sending'", (time.time(),))
        return [r[0] for r in rows]

    def add(self, job_id: str, printer: str, kind: str, document: dict, ttl: float | None = None) -> bool:
        """Store a job; False when this job id is already known (whatever its state)."""
        now = time.time()
        limit = TTL.get(kind, DEFAULT_TTL)
        ttl = limit if ttl is None else max(0.0, min(float(ttl), limit))
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO jobs (job_id, printer, kind, document, received_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (job_id, printer, kind, json.dumps(document), now, now + ttl))
        return cursor.rowcount == 1

    def state(self, job_id: str) -> tuple[str, str] | None:
        with self._lock:
            row = self._db.execute("SELECT state, error FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return tuple(row) if row else None

    def expire_due(self, now: float | None = None) -> list[str]:
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute("SELECT job_id FROM jobs WHERE state = 'pending' AND expires_at <= ?",
                                    (now,)).fetchall()
            self._db.execute("UPDATE jobs SET state = 'expired', error = 'expired before the printer was back', "
                             "finished_at = ?, reported = 0 WHERE state = 'pending' AND expires_at <= ?", (now, now))
        return [r[0] for r in rows]

    def take(self, printer: str) -> SpooledJob | None:
        """The printer's oldest pending job, now marked sending (and its attempt counted)."""
        with self._lock:
            row = self._db.execute(
                "SELECT job_id, printer, kind, document, attempts FROM jobs WHERE printer = ? AND state = 'pending' "
                "AND expires_at > ? ORDER BY received_at, rowid LIMIT 1", (printer, time.time())).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE jobs SET state = 'sending', attempts = attempts + 1 WHERE job_id = ?", (row[0],))
        return SpooledJob(row[0], row[1], row[2], json.loads(row[3]), row[4] + 1)

    def release(self, job_id: str, error: str) -> None:
        """The printer went away before confirming: the job waits for it again."""
        with self._lock:
            self._db.execute("UPDATE jobs SET state = 'pending', error = ? WHERE job_id = ? AND state = 'sending'",
                             (error, job_id))

    def finish(self, job_id: str, state: str, error: str = "") -> None:
        assert state in FINAL
        with self._lock:
            self._db.execute("UPDATE jobs SET state = ?, error = ?, finished_at = ?, reported = 0 WHERE job_id = ?",
                             (state, error, time.time(), job_id))

    def unreported(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, state, error FROM jobs WHERE reported = 0 AND state IN ('printed', 'failed', 'expired') "
                "ORDER BY finished_at").fetchall()
        return [{"job_id": r[0], "status": r[1], "error": r[2]} for r in rows]

    def mark_reported(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET reported = 1 WHERE job_id = ?", (job_id,))

    def purge(self, older_than_seconds: float = 7 * 86400) -> None:
        """Forget reported outcomes after a week (long after the server stopped re-sending them)."""
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE reported = 1 AND finished_at < ?",
                             (time.time() - older_than_seconds,))

    def pending_count(self, printer: str) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM jobs WHERE printer = ? AND state IN ('pending', 'sending')",
                                    (printer,)).fetchone()[0]
