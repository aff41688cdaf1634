"""Who is calling: password checks, and signed bearer tokens that carry role and store.

Tokens are HMAC-signed with the server's secret (itsdangerous), so they cannot be forged or guessed,
and expire. Staff tokens carry their store so every request can be scoped without a lookup.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from gevent import monkey
from gevent.hub import get_hub
from gevent.threadpool import ThreadPool
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import TooManyRequests, Unauthorized, ValidationFailed
from . import audit
from .models import HQ, MEMBER, Member, Staff
from .throttle import LoginThrottle

TOKEN_SALT = "storelink-bearer-v1"
# A hash to compare against when the account does not exist, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("storelink-no-such-account")


@dataclass(frozen=True)
class Principal:
    kind: str  # 'member' or 'staff'
    id: int
    role: str  # member, clerk, courier, hq
    store_id: int | None = None
    name: str = ""
    token_version: int = 0  # the account's version when the token was issued (see revocation.py)

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.id}"

    @property
    def is_member(self) -> bool:
        return self.role == MEMBER

    @property
    def is_hq(self) -> bool:
        return self.role == HQ

    def to_dict(self) -> dict:
        return {"id": self.id, "role": self.role, "store_id": self.store_id, "name": self.name}


def hash_password(password: str) -> str:
    return off_event_loop(generate_password_hash, password)


def off_event_loop(fn, *args):
    """Runs a CPU-heavy call (a password hash: tens of ms) on a worker thread when the server runs
    under gevent, so the event loop keeps serving every other connection meanwhile; hashlib releases
    the GIL while it hashes. Outside gevent (CLI, tests) the call runs directly."""
    if not monkey.is_module_patched("threading"):
        return fn(*args)
    hub = get_hub()
    pool = getattr(hub, "storelink_hash_pool", None)
    if pool is None:
        pool = hub.storelink_hash_pool = ThreadPool(HASH_THREADS)
    return pool.apply(fn, args)


HASH_THREADS = 2  # hashes at once; more would only take CPU from the event loop on a small machine


def authenticate(session, *, phone: str | None = None, username: str | None = None, password,
                 throttle: LoginThrottle | None = None, address: str = "") -> Principal:
    """Checks a login. With a throttle, the attempt counts toward the throttle's limits first (429
    past them, without looking at the password); failures are audited."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("需要 password", code="invalid_credentials_format")
    if (phone is None) == (username is None):
        raise ValidationFailed("请提供 phone 或 username 之一", code="invalid_credentials_format")
    identifier = phone if phone is not None else username
    if not isinstance(identifier, str) or not identifier or len(identifier) > 50 or len(password) > 200:
        raise ValidationFailed("账号格式不正确", code="invalid_credentials_format")
    kind = "member" if phone is not None else "staff"
    try:
        attempt = throttle.attempt(f"{kind}:{identifier}", address) if throttle is not None else None
    except TooManyRequests as refused:
        if refused.first_refusal:
            audit.throttled(kind, identifier, address, refused.details["retry_after"], refused.scope)
        raise
    if phone is not None:
        account = session.execute(select(Member).where(Member.phone == phone)).scalar_one_or_none()
    else:
        account = session.execute(
            select(Staff).where(Staff.username == username, Staff.active.is_(True))
        ).scalar_one_or_none()
    principal = principal_of(account) if account is not None else None
    stored_hash = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    session.rollback()  # the read is done: no pooled connection stays held while the hash runs
    if not off_event_loop(check_password_hash, stored_hash, password) or principal is None:
        audit.failed(kind, identifier, address, principal.id if principal is not None else None)
        raise Unauthorized("账号或密码错误", code="invalid_credentials")
    if attempt is not None:
        attempt.succeeded()
    return principal


def authenticate_password(stored_hash: str | None, password) -> None:
    """A password check for an account already known (a password change): 401 when wrong."""
    if not isinstance(password, str) or not password or len(password) > 200:
        raise ValidationFailed("需要 password", code="invalid_credentials_format")
    if not off_event_loop(check_password_hash, stored_hash or _DUMMY_HASH, password):
        raise Unauthorized("原密码错误", code="invalid_credentials")


def principal_of(account) -> Principal:
    version = account.token_version or 0
    if isinstance(account, Member):
        return Principal("member", account.id, MEMBER, None, account.name, version)
    return Principal("staff", account.id, account.role, account.store_id, account.name, version)


class TokenService:
    """Issues and verifies bearer tokens. Verified tokens are remembered (bounded LRU, expiry still
    checked on every use): each API call would otherwise redo the HMAC and JSON decoding."""

    CACHE_SIZE = 8192

    def __init__(self, secret_key: str, max_age_seconds: int):
        self._serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
        self._max_age = max_age_seconds
        self._decode = lru_cache(maxsize=self.CACHE_SIZE)(self._decode_uncached)

    def issue(self, principal: Principal) -> str:
        return self._serializer.dumps([principal.kind, principal.id, principal.role, principal.store_id, principal.name,
                                       principal.token_version])

    def verify(self, token: str) -> Principal:
        principal, expires_at = self._decode(token)
        if time.time() > expires_at:
            raise Unauthorized("登录已过期,请重新登录", code="token_expired")
        return principal

    def _decode_uncached(self, token: str) -> tuple[Principal, float]:
        try:
            fields, signed_at = self._serializer.loads(token, max_age=self._max_age, return_timestamp=True)
            if len(fields) == 5:  # issued before tokens carried a version: the account's first
                fields = [*fields, 0]
            kind, pid, role, store_id, name, version = fields
        except SignatureExpired as exc:
            raise Unauthorized("登录已过期,请重新登录", code="token_expired") from exc
        except (BadSignature, ValueError, TypeError) as exc:
            raise Unauthorized("无效的令牌", code="invalid_token") from exc
        return Principal(kind, pid, role, store_id, name, version), signed_at.timestamp() + self._max_age
