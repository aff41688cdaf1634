"""Data access for accounts (members and staff) beyond the login read: who a staff member or a member
is (as other packages need them), token versions for revocation, deactivating staff, replacing a
password."""
from __future__ import annotations

from sqlalchemy import select, update

from .models import Member, Staff

_MODELS = {"member": Member, "staff": Staff}
_CURRENT_SQL = {
    "member": "SELECT token_version FROM members WHERE id = {p}",
    "staff": "SELECT token_version FROM staff WHERE id = {p} AND active",
}
_compiled: dict[tuple[str, str], str] = {}


def current_token_version(engine, kind: str, account_id: int) -> int | None:
    """The account's token version, None when it is gone (staff: deactivated).

    Read on every authenticated request, so not through a unit of work or the request's session:
    one primary-key read straight on the driver, on a pooled connection of its own (outside the
    request's transaction), a few tens of µs on SQLite. On PostgreSQL the read runs in autocommit:
    otherwise psycopg sends BEGIN before it and the pool's reset sends ROLLBACK after it, three round
    trips for one row (docs/PERFORMANCE.md)."""
    key = (engine.dialect.name, kind)
    sql = _compiled.get(key)
    if sql is None:
        sql = _compiled[key] = _CURRENT_SQL[kind].format(p="?" if engine.dialect.paramstyle == "qmark" else "%s")
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
