"""Domain errors: each carries a stable machine-readable code and the HTTP status adapters use.

Domain modules raise these; blueprints turn them into {"error": {"code", "message"}} responses.
"""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class OutOfStock(Conflict):
    code = "out_of_stock"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


class TryAgain(DomainError):
    """A transient condition the request itself did not cause; the same request may succeed now."""
    status = 503
    code = "try_again"


class PaymentUnavailable(DomainError):
    """No payment provider is configured for the request (production without a real one)."""
    status = 503
    code = "payment_unavailable"
