"""Payment purposes beyond the order itself.

An ordinary payment pays for an unpaid order (payments.service). Other purposes, such as a top-up after
re-weighing fresh goods (补款), are payments of their own kind on an order already paid: the module that
owns the purpose registers what a successful payment of that kind does. Payments stay unaware of those
modules, and the guards on ordinary payments stay as they are.
"""
from __future__ import annotations

from typing import Callable

# handler(uow, paid, actor) -> True when the payment was applied; False when nothing awaits it any more
# (the caller then refunds it to its original route, as a late payment).
Handler = Callable[[object, object, str], bool]

_handlers: dict[str, Handler] = {}


def register(purpose: str, handler: Handler) -> None:
    _handlers[purpose] = handler


def handler_for(purpose: str) -> Handler | None:
    return _handlers.get(purpose)
