"""Token revocation: every account has a token version, every token the version it was issued
under. Deactivating staff or changing a password bumps the version, so every token issued before is
refused at once, over HTTP and on Socket.IO (open sockets of the account are disconnected: the
`account.revoked` event).

The check runs on every authenticated request (accounts.repository.current_token_version)."""
from __future__ import annotations

from ..errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from ..extensions import db
from ..infra.unit_of_work import unit_of_work
from ..repositories import reader
from .auth import Principal, authenticate_password, hash_password, principal_of
from .repository import current_token_version


def is_current(who: Principal) -> bool:
    """Whether the account still exists (staff: is active) and has not bumped its token version."""
    return current_token_version(db.engine, who.kind, who.id) == who.token_version


def require_current(who: Principal) -> Principal:
    if not is_current(who):
        raise Unauthorized("登录已失效,请重新登录", code="token_revoked")
    return who


def deactivate_staff(staff_id: int, who: Principal) -> dict:
    """HQ takes a staff account out of service: its tokens stop working and its sockets close."""
    if not who.is_hq:
        raise Forbidden("没有权限执行此操作", code="forbidden_role")
    if who.kind == "staff" and who.id == staff_id:
        raise ValidationFailed("不能停用自己的账号", code="cannot_deactivate_self")
    with unit_of_work() as uow:
        row = uow.accounts.deactivate_staff(staff_id)
        if row is None:
            raise NotFound("员工不存在", code="staff_not_found")
        uow.publish("account.revoked", kind="staff", id=row.id)
    return {"id": row.id, "username": row.username, "active": False}


def change_password(who: Principal, old_password, new_password, *, throttle=None, address: str = "") -> Principal:
    """The caller changes their own password: every token issued before (other devices too) stops
    working; the caller gets the principal for a fresh token. Wrong old passwords count toward the
    login throttle like failed logins (the endpoint must be no faster oracle than login)."""
    if not isinstance(new_password, str) or not 8 <= len(new_password) <= 200:
        raise ValidationFailed("新密码需要 8 到 200 个字符", code="invalid_new_password")
    attempt = throttle.attempt(f"{who.kind}#{who.id}", address) if throttle is not None else None
    account = reader().accounts.account(who.kind, who.id)
    if account is None or account.token_version != who.token_version:
        raise Unauthorized("登录已失效,请重新登录", code="token_revoked")
    stored_hash = account.password_hash
    db.session.rollback()  # the read is done: no pooled connection stays held while the hashes run
    authenticate_password(stored_hash, old_password)
    if attempt is not None:
        attempt.succeeded()
    new_hash = hash_password(new_password)
    with unit_of_work() as uow:
        account = uow.accounts.account(who.kind, who.id, lock=True)
        if account is None or account.token_version != who.token_version:
            raise Unauthorized("登录已失效,请重新登录", code="token_revoked")
        uow.accounts.replace_password(account, new_hash)
        principal = principal_of(account)
        uow.publish("account.revoked", kind=who.kind, id=who.id)
    return principal

