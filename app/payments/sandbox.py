"""The sandbox payment provider: behaves like a real one, lives in this process for demos and tests.

- create_payment returns a pay-page URL carrying a payload signed with the provider's key;
- when the shopper confirms on that page the provider books the transaction in its own ledger and
  delivers an HMAC-signed notification to the merchant's notify URL asynchronously, retrying with
  backoff until the merchant answers 2xx (so late and repeated notifications happen, as in real life);
- refunds are booked against the original transaction, idempotent per refund number.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timedelta
from typing import Callable

from itsdangerous import BadSignature as BadToken, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from ..infra.unit_of_work import SessionReads, unit_of_work
from .provider import BadSignature, PaymentNotification, PaymentProvider, RefundFailed
from .sandbox_ledger import SandboxLedger
from .sandbox_models import NOTIFY_DELIVERED, NOTIFY_GAVE_UP, NOTIFY_PENDING, SandboxRefund, SandboxTransaction

__all__ = ["SandboxProvider", "SandboxTransaction", "SandboxRefund", "SIGNATURE_HEADER"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Sandbox-Signature"
MAX_CLOCK_SKEW_SECONDS = 300
# Retry schedule after a failed delivery, like real providers' (15 s, 15 s, 30 s, 3 min, ...).
RETRY_DELAYS_SECONDS = (15, 15, 30, 180, 600, 1200, 1800, 3600)
# Sends (url, body, headers) and returns the HTTP status; swapped for the test client in tests.
Transport = Callable[[str, bytes, dict], int]


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def __init__(self, secret: str, pay_page_base: str, transport: Transport, spawn: Callable):
        self._secret = secret.encode()
        self._pay_tokens = URLSafeSerializer(secret, salt="sandbox-pay-page")
        self._pay_page_base = pay_page_base.rstrip("/")
        self.transport = transport
        self._spawn = spawn

    # --- the merchant-facing API -------------------------------------------------
    def create_payment(self, *, out_trade_no, amount, subject, notify_url, return_url) -> str:
        token = self._pay_tokens.dumps({"o": out_trade_no, "a": amount, "s": subject, "n": notify_url, "r": return_url})
        return f"{self._pay_page_base}/sandbox/pay/{token}"

    def parse_notification(self, body: bytes, headers) -> PaymentNotification:
        header = headers.get(SIGNATURE_HEADER, "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        timestamp, signature = parts.get("t", ""), parts.get("v1", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            raise BadSignature("通知签名时间无效", code="bad_signature")
        if not hmac.compare_digest(self._sign(timestamp, body), signature):
            raise BadSignature("通知签名校验失败", code="bad_signature")
        try:
            data = json.loads(body)
            return PaymentNotification(
                out_trade_no=str(data["out_trade_no"]), provider_txn_id=str(data["transaction_id"]),
                amount=int(data["amount"]), paid_at=datetime.fromisoformat(data["paid_at"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadSignature("通知内容格式错误", code="bad_notification") from exc

    def refund(self, *, out_trade_no, refund_no, amount) -> None:
        with unit_of_work() as uow:
            ledger = SandboxLedger(uow)
            if ledger.refund_booked(refund_no):
                return  # already booked: refunds are idempotent per refund number
            txn = ledger.transaction_for(out_trade_no)
            if txn is None:
                raise RefundFailed("原交易不存在")
            if not ledger.book_refund(txn.txn_id, refund_no, amount):
                raise RefundFailed("退款金额超过原交易可退金额")

    # --- the provider's own pay page ---------------------------------------------
    def read_pay_token(self, token: str) -> dict:
        try:
            data = self._pay_tokens.loads(token)
        except BadToken as exc:
            raise NotFound("支付链接无效", code="invalid_pay_link") from exc
        return {"out_trade_no": data["o"], "amount": data["a"], "subject": data["s"],
                "notify_url": data["n"], "return_url": data["r"]}

    def find_transaction(self, out_trade_no: str) -> SandboxTransaction | None:
        return SandboxLedger(SessionReads(db.session)).transaction_for(out_trade_no)

    def confirm(self, token: str) -> SandboxTransaction:
        """The shopper paid: book it (once: out_trade_no is unique) and start delivering the notification."""
        payment = self.read_pay_token(token)
        now = utcnow()
        txn = SandboxTransaction(
            txn_id="SBX" + secrets.token_hex(10), out_trade_no=payment["out_trade_no"], amount=payment["amount"],
            refunded=0, notify_url=payment["notify_url"], paid_at=now, notify_status=NOTIFY_PENDING,
            notify_attempts=0,
            # The first attempt starts right after commit; the retry job takes over from here.
            next_notify_at=now + timedelta(seconds=RETRY_DELAYS_SECONDS[0]),
        )
        try:
            with unit_of_work() as uow:
                SandboxLedger(uow).book(txn)
                uow.after_commit(lambda: self._spawn(self.deliver, txn.txn_id))
        except IntegrityError as exc:
            raise Conflict("该订单已支付", code="already_paid") from exc
        return txn

    # --- asynchronous notification delivery ----------------------------------------
    def notification_for(self, txn: SandboxTransaction) -> tuple[bytes, dict]:
        body = json.dumps({
            "out_trade_no": txn.out_trade_no, "transaction_id": txn.txn_id, "amount": txn.amount,
            "paid_at": txn.paid_at.isoformat(), "trade_status": "SUCCESS",
        }).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: f"t={timestamp},v1={self._sign(timestamp, body)}"}
        return body, headers

    def deliver(self, txn_id: str) -> bool:
        """One delivery attempt; on failure schedule the next by the retry table."""
        txn = SandboxLedger(SessionReads(db.session)).transaction(txn_id)
        db.session.rollback()  # no transaction stays open across the network call
        if txn is None or txn.notify_status != NOTIFY_PENDING:
            return False
        body, headers = self.notification_for(txn)
        try:
            status = self.transport(txn.notify_url, body, headers)
        except Exception as exc:  # unreachable merchant: retry later, as a real provider does
            log.warning("sandbox notify to %s failed: %s", txn.notify_url, exc)
            status = 0
        delivered = 200 <= status < 300
        attempts = txn.notify_attempts + 1
        if delivered:
            outcome = {"st": NOTIFY_DELIVERED, "at": txn.next_notify_at}
        elif attempts > len(RETRY_DELAYS_SECONDS):
            outcome = {"st": NOTIFY_GAVE_UP, "at": txn.next_notify_at}
        else:
            outcome = {"st": NOTIFY_PENDING, "at": utcnow() + timedelta(seconds=RETRY_DELAYS_SECONDS[attempts - 1])}
        with unit_of_work() as uow:
            SandboxLedger(uow).after_attempt(txn_id, attempts=attempts, status=outcome["st"], next_at=outcome["at"])
        return delivered

    def deliver_due(self, limit: int = 100) -> int:
        """Retry every notification whose next attempt is due (also after a restart)."""
        due = SandboxLedger(SessionReads(db.session)).due_for_notification(utcnow(), limit)
        db.session.rollback()
        return sum(1 for txn_id in due if self.deliver(txn_id))

    def _sign(self, timestamp: str, body: bytes) -> str:
        return hmac.new(self._secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()

