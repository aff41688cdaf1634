"""The shape every store job shares (pickup reminders and cancellations, escalations): find what is due
in one short transaction, then handle each item in a transaction of its own, where the handler checks it
again under its lock (the scan may be stale, and the job runs in every worker at once)."""
from __future__ import annotations

from datetime import timedelta
from typing import Callable, Iterable

from ..clock import utcnow
from .unit_of_work import unit_of_work


def sweep(due: Callable[..., Iterable], handle: Callable[..., object], *, now=None,
          after_seconds: int | None = None) -> list:
    """`due(uow, cutoff)` lists the items due by `cutoff` (now, or `after_seconds` before now; a job
    given 0 or less is switched off and does nothing); `handle(uow, item, cutoff, now)` deals with one
    and returns what to report for it, or None if it turned out not to be due. Returns the reports."""
    if after_seconds is not None and after_seconds <= 0:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(seconds=after_seconds or 0)
    with unit_of_work() as uow:
        items = list(due(uow, cutoff))
    handled = []
    for item in items:
        with unit_of_work() as uow:
            report = handle(uow, item, cutoff, now)
        if report is not None:
            handled.append(report)
    return handled
