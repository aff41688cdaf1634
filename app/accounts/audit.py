"""The audit trail of failed and throttled logins: one line each in the `storelink.audit` log.

A log rather than a table: a password-guessing flood must not become a flood of database writes,
and log shipping (journald, a collector) is where operators look for such events. Phone numbers
are masked to their first three and last four digits."""
from __future__ import annotations

import logging

log = logging.getLogger("storelink.audit")


def _shown(kind: str, identifier: str) -> str:
    if kind == "member" and len(identifier) >= 8:
        return identifier[:3] + "*" * (len(identifier) - 7) + identifier[-4:]
    return identifier


def failed(kind: str, identifier: str, address: str, account_id: int | None) -> None:
    log.warning("login failed: %s %r (account %s) from %s", kind, _shown(kind, identifier),
                account_id if account_id is not None else "unknown", address or "-")


SCOPES = {"account_and_address": "this account from this address", "address": "this address",
          "account": "this account from every address"}


def throttled(kind: str, identifier: str, address: str, retry_after: int, scope: str) -> None:
    log.warning("login refused, too many attempts (%s): %s %r from %s (retry after %ss)", SCOPES[scope], kind,
                _shown(kind, identifier), address or "-", retry_after)
