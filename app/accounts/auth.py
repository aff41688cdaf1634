"""Who is calling: password checks, and signed bearer tokens that carry role and store.

Tokens are HMAC-signed with the server's secret (itsdangerous), so they cannot be forged or guessed,
and expire. Staff tokens carry their store so every request can be scoped without a lookup.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Unauthorized, ValidationFailed
from .models import HQ, MEMBER, Member, Staff

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
    return generate_password_hash(password)


def authenticate(session, *, phone: str | None = None, username: str | None = None, password) -> Principal:
    if not isinstance(password, str) or not password:
        raise ValidationFailed("需要 password", code="invalid_credentials_format")
    if (phone is None) == (username is None):
        raise ValidationFailed("请提供 phone 或 username 之一", code="invalid_credentials_format")
    identifier = phone if phone is not None else username
    if not isinstance(identifier, str) or not identifier or len(identifier) > 50:
        raise ValidationFailed("账号格式不正确", code="invalid_credentials_format")
    if phone is not None:
        account = session.execute(select(Member).where(Member.phone == phone)).scalar_one_or_none()
    else:
        account = session.execute(
            select(Staff).where(Staff.username == username, Staff.active.is_(True))
        ).scalar_one_or_none()
    stored_hash = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    if not check_password_hash(stored_hash, password) or account is None:
        raise Unauthorized("账号或密码错误", code="invalid_credentials")
    return principal_of(account)


def principal_of(account) -> Principal:
    if isinstance(account, Member):
        return Principal("member", account.id, MEMBER, None, account.name)
    return Principal("staff", account.id, account.role, account.store_id, account.name)


class TokenService:
    """Issues and verifies bearer tokens. Verified tokens are remembered (bounded LRU, expiry still
    checked on every use): each API call would otherwise redo the HMAC and JSON decoding."""

    CACHE_SIZE = 8192

    def __init__(self, secret_key: str, max_age_seconds: int):
        self._serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
        self._max_age = max_age_seconds
        self._decode = lru_cache(maxsize=self.CACHE_SIZE)(self._decode_uncached)

    def issue(self, principal: Principal) -> str:
        return self._serializer.dumps([principal.kind, principal.id, principal.role, principal.store_id, principal.name])

    def verify(self, token: str) -> Principal:
        principal, expires_at = self._decode(token)
        if time.time() > expires_at:
            raise Unauthorized("登录已过期,请重新登录", code="token_expired")
        return principal

    def _decode_uncached(self, token: str) -> tuple[Principal, float]:
        try:
            (kind, pid, role, store_id, name), signed_at = self._serializer.loads(
                token, max_age=self._max_age, return_timestamp=True
            )
        except SignatureExpired as exc:
            raise Unauthorized("登录已过期,请重新登录", code="token_expired") from exc
        except (BadSignature, ValueError, TypeError) as exc:
            raise Unauthorized("无效的令牌", code="invalid_token") from exc
        return Principal(kind, pid, role, store_id, name), signed_at.timestamp() + self._max_age
