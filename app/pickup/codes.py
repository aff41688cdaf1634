"""Issuing pickup codes and reading them back: the typed numeric code and the signed QR token.

The numeric code comes from `secrets` (12 digits: with at most tens of thousands of codes open
chain-wide and typed guesses throttled to a few dozen an hour per store, a guess hits an open code
of the clerk's own store with odds of about 1 in 10^8). It is unique among open codes by a partial
unique index; an insert that collides inserts nothing (ON CONFLICT DO NOTHING) and a fresh code is
drawn, so there is no read-then-write window.

The QR code carries no number at all: a token signed with the server's secret (itsdangerous) that
names the code row and its store and expires; a forged or altered token fails the signature.
"""
from __future__ import annotations

import io
import secrets
import time
from datetime import datetime, timedelta

import qrcode
from itsdangerous import BadSignature, URLSafeSerializer

from ..errors import DomainError, NotFound, TryAgain
from .models import OPEN, USED, VOID

CODE_DIGITS = 12
QR_PREFIX = "SLPK1."
QR_SALT = "storelink-pickup-qr-v1"
DRAWS = 5


class InvalidCode(NotFound):
    code = "invalid_code"


class QrExpired(DomainError):
    status = 410
    code = "qr_expired"


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def issue(pickup, *, order_id: int, store_id: int, now: datetime, deadline_seconds: int | None) -> str:
    """Give the order its pickup code (in the caller's transaction; `pickup`: its pickup repository);
    returns the code."""
    deadline = now + timedelta(seconds=deadline_seconds) if deadline_seconds else None
    for _ in range(DRAWS):
        code = new_code()
        inserted = pickup.insert_code({
            "order_id": order_id, "store_id": store_id, "code": code, "status": OPEN, "version": 0,
            "issued_at": now, "deadline_at": deadline, "reminded_at": None, "handed_over_at": None,
            "handed_over_by": None,
        })
        if inserted is not None:
            return code
    raise TryAgain("提货码生成失败,请重试", code="pickup_code_unavailable")


class OrderPickupCodes:
    """The pickup-code port of the orders package (`uow.pickup_codes`, wired in app/repositories.py): a
    pickup order gets its code when paid (or placed to pay at the store), with the configured pickup
    deadline (PICKUP_DEADLINE_SECONDS; 0: none), and the code stops working when the order closes.
    Orders never import this package."""

    __slots__ = ("_uow",)

    def __init__(self, uow):
        self._uow = uow

    def issue(self, order_id: int, store_id: int, now: datetime) -> str:
        from flask import current_app

        return issue(self._uow.pickup, order_id=order_id, store_id=store_id, now=now,
                     deadline_seconds=current_app.config.get("PICKUP_DEADLINE_SECONDS") or None)

    def void(self, order_id: int) -> None:
        self._uow.pickup.void(order_id)


def normalise_typed(raw: str) -> str | None:
    """A typed code as digits (spaces and dashes allowed between groups), or None if it is not one."""
    digits = raw.replace(" ", "").replace("-", "")
    return digits if len(digits) == CODE_DIGITS and digits.isdigit() and digits.isascii() else None


def display(code: str) -> str:
    """Grouped for reading aloud and typing: 1234 5678 9012."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def qr_token(secret: str, code_row, *, ttl_seconds: int, now: float | None = None) -> str:
    expires = int((now or time.time()) + ttl_seconds)
    return QR_PREFIX + URLSafeSerializer(secret, salt=QR_SALT).dumps({"k": code_row.id, "s": code_row.store_id,
                                                                      "x": expires})


def read_qr(secret: str, token: str, *, now: float | None = None) -> tuple[int, int]:
    """(code id, store id) from a scanned QR token; InvalidCode if forged, QrExpired if too old."""
    try:
        data = URLSafeSerializer(secret, salt=QR_SALT).loads(token[len(QR_PREFIX):])
        code_id, store_id, expires = int(data["k"]), int(data["s"]), int(data["x"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise InvalidCode("二维码无效", code="invalid_code") from None
    if expires < (now or time.time()):
        raise QrExpired("二维码已过期,请会员刷新提货码页面", code="qr_expired")
    return code_id, store_id


def is_qr(raw: str) -> bool:
    return raw.startswith(QR_PREFIX)


def qr_png(payload: str) -> bytes:
    image = qrcode.make(payload, box_size=8, border=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = ["OPEN", "USED", "VOID", "InvalidCode", "QrExpired", "issue", "qr_token", "read_qr", "qr_png",
           "normalise_typed", "display", "is_qr"]
