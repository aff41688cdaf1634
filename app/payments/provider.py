"""The payment-provider interface and the registry of configured providers.

A provider turns a payment into a URL the shopper pays at, verifies the signed asynchronous
notification it sends back, and refunds to the original route. Real providers (WeChat Pay,
Alipay) implement the same three calls; the sandbox implements them for demos and tests.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from ..errors import DomainError, NotFound


class BadSignature(DomainError):
    status = 400
    code = "bad_signature"


class RefundFailed(Exception):
    """The provider did not accept a refund now; the refund job will try again."""


@dataclass(frozen=True)
class PaymentNotification:
    out_trade_no: str
    provider_txn_id: str
    amount: int
    paid_at: datetime


class PaymentProvider(ABC):
    name: str

    @abstractmethod
    def create_payment(self, *, out_trade_no: str, amount: int, subject: str, notify_url: str,
                       return_url: str) -> str:
        """Register the payment with the provider; returns the URL the shopper pays at."""

    @abstractmethod
    def parse_notification(self, body: bytes, headers) -> PaymentNotification:
        """Verify the notification's signature and return its content, or raise BadSignature."""

    @abstractmethod
    def refund(self, *, out_trade_no: str, refund_no: str, amount: int) -> None:
        """Refund to the original route; idempotent per refund_no. Raises RefundFailed to retry later."""


_providers: dict[str, PaymentProvider] = {}


def register(provider: PaymentProvider) -> None:
    _providers[provider.name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def registered(name: str) -> bool:
    return name in _providers


def get(name: str) -> PaymentProvider:
    try:
        return _providers[name]
    except KeyError:
        raise NotFound(f"未知的支付渠道 {name}", code="unknown_provider") from None
