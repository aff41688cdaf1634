"""Domain events: recorded inside a unit of work, delivered to subscribers only after it commits.

Domain modules publish facts ("order.paid"); adapters such as the Socket.IO pusher subscribe.
A failing subscriber is logged and never undoes a committed state change.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    payload: dict = field(default_factory=dict)


_subscribers: list[Callable[[DomainEvent], None]] = []


def subscribe(handler: Callable[[DomainEvent], None]) -> None:
    if handler not in _subscribers:
        _subscribers.append(handler)


def dispatch(event: DomainEvent) -> None:
    for handler in list(_subscribers):
        try:
            handler(event)
        except Exception:  # a push that fails must not turn a committed order into an error
            log.exception("event subscriber failed for %s", event.name)
