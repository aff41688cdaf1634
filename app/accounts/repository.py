"""Data access for accounts (members and staff) beyond the login read: who a staff member or a member
is (as other packages need them), token versions for revocation, deactivating staff, replacing a
password."""
from __future__ import annotations

import sqlite3
import weakref

from gevent.monkey import get_original
from sqlalchemy import select, update

from ..infra.engine import SQLITE_BUSY_TIMEOUT_MS
from .models import Member, Staff

_MODELS = {"member": Member, "staff": Staff}
_CURRENT_SQL = {
    "member": "SELECT token_version FROM members WHERE id = {p}",
    "staff": "SELECT token_version FROM staff WHERE id = {p} AND active",
}
_compiled: dict[tuple[str, str], str] = {}


def current_token_version(engine, kind: str, account_id: int) -> int | None:
    """The account's token version, None when it is gone (staff: deactivated).

    Read on every authenticated request, so not through a unit of work or the request's session: one
    primary-key read straight on the driver, outside the request's transaction. SQLite: on the thread's
    own reader connection (below). PostgreSQL: on a pooled connection, in autocommit: otherwise psycopg
    sends BEGIN before it and the pool's reset sends ROLLBACK after it, three round trips for one row
    (docs/PERFORMANCE.md)."""
    key = (engine.dialect.name, kind)
    sql = _compiled.get(key)
    if sql is None:
        sql = _compiled[key] = _CURRENT_SQL[kind].format(p="?" if engine.dialect.paramstyle == "qmark" else "%s")
    reader = _sqlite_reader(engine)
    if reader is not None:
        # fetchall runs the statement to its end, which ends the read (a statement left on its row would
        # hold a snapshot open and keep checkpoints from resetting the WAL); sqlite3 never yields in between.
        rows = reader.execute(sql, (account_id,)).fetchall()
        return rows[0][0] if rows else None
    connection = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            return _read_in_autocommit(connection.driver_connection, sql, account_id)
        cursor = connection.cursor()
        cursor.execute(sql, (account_id,))
        row = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()
    return row[0] if row is not None else None


# SQLite: each OS thread of the process keeps one connection of its own for this read. Checking a
# connection out of SQLAlchemy's pool and back in cost three times the read itself, ~70 µs of an
# order's ~890 under load (docs/PERFORMANCE.md). Greenlets of a thread share its connection safely:
# sqlite3 runs a statement without yielding. In autocommit each read sees the latest commit, so
# revocation stays immediate.
_sqlite_readers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_thread_id = get_original("threading", "get_ident")  # the OS thread's, not the greenlet's


def _sqlite_reader(engine) -> sqlite3.Connection | None:
    """This thread's connection for the token read, for a file-backed SQLite engine; else None."""
    if engine.dialect.name != "sqlite" or engine.url.query or engine.url.database in (None, "", ":memory:"):
        return None
    per_thread = _sqlite_readers.get(engine)
    if per_thread is None:
        per_thread = _sqlite_readers[engine] = {}
    connection = per_thread.get(_thread_id())
    if connection is None:
        connection = sqlite3.connect(engine.url.database, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        per_thread[_thread_id()] = connection
    return connection


def _read_in_autocommit(driver_connection, sql: str, account_id: int) -> int | None:
    """One statement outside any transaction; the connection goes back to the pool as it came (idle,
    not in autocommit), so its next user sees no difference."""
    driver_connection.autocommit = True
    try:
        row = driver_connection.execute(sql, (account_id,)).fetchone()
    finally:
        driver_connection.autocommit = False
    return row[0] if row is not None else None


class AccountRepository:
    """On a unit of work (its connection, and its ORM session where accounts are changed as objects)
    or on a reader."""

    __slots__ = ("_uow",)

    def __init__(self, uow):
        self._uow = uow

    def staff_name(self, staff_id: int | None) -> str | None:
        """The staff member's name (or username when unnamed); None when there is no such staff."""
        if staff_id is None:
            return None
        row = self._uow.connection.execute(select(Staff.name, Staff.username).where(Staff.id == staff_id)).first()
        return (row.name or row.username) if row else None

    def member_contact(self, member_id: int | None):
        """(name, phone) of the member, or None."""
        if member_id is None:
            return None
        return self._uow.connection.execute(select(Member.name, Member.phone).where(Member.id == member_id)).first()

    def member_id_by_phone(self, phone: str) -> int | None:
        """The id of the member with this mobile number (members are keyed on it), or None."""
        return self._uow.connection.execute(select(Member.id).where(Member.phone == phone)).scalar()

    def account(self, kind: str, account_id: int, *, lock: bool = False):
        """The member or staff account (the model object), or None; `lock`: held until the unit ends
        and read afresh."""
        if lock:
            return self._uow.session.get(_MODELS[kind], account_id, with_for_update=True, populate_existing=True)
        return self._uow.session.get(_MODELS[kind], account_id)

    def replace_password(self, account, password_hash: str) -> None:
        """The new hash, and the token version bumped: every token issued before is refused."""
        account.password_hash = password_hash
        account.token_version += 1
        self._uow.session.flush()

    def deactivate_staff(self, staff_id: int):
        """Takes the staff account out of service and bumps its token version; (id, username,
        token_version) or None when there is no such account."""
        return self._uow.connection.execute(
            update(Staff).where(Staff.id == staff_id)
            .values(active=False, token_version=Staff.token_version + 1)
            .returning(Staff.id, Staff.username, Staff.token_version)
        ).first()
