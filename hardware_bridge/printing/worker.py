"""One worker thread per printer: takes its jobs from the spool in order, sends each with a status
request behind it and counts it printed only when the printer answers. A printer that is away keeps
its jobs spooled (retried with backoff) and never holds up another printer's worker."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from . import escpos
from .render import render
from .spool import Spool
from .transport import PrinterConfig, Transport, open_transport

log = logging.getLogger("hardware_bridge.printer")


class PrinterWorker:
    def __init__(self, config: PrinterConfig, spool: Spool, *,
                 on_outcome: Callable[[str, str, str], None] = lambda job_id, status, error: None,
                 on_state: Callable[[str, str, str], None] = lambda name, state, detail: None,
                 backoff: tuple[float, float] = (0.5, 30.0), opener=open_transport):
        self.config, self._spool = config, spool
        self._on_outcome, self._on_state = on_outcome, on_state
        self._backoff, self._open = backoff, opener
        self._wake = threading.Event()
        self._transport: Transport | None = None
        self.state, self.detail = "unknown", ""

    def wake(self) -> None:
        """A job was spooled for this printer."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        delay = self._backoff[0]
        while not stop.is_set():
            for job_id in self._spool.expire_due():
                log.warning("print job %s expired unprinted", job_id)
                self._on_outcome(job_id, "expired", "expired before the printer was back")
            job = self._spool.take(self.config.name)
            if job is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            try:
                data = render(job.document, self.config.paper)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                self._finish(job.job_id, "failed", f"unprintable document: {exc}")
                continue
            problem = self._print(job.job_id, data)
            if problem is None:
                delay = self._backoff[0]
                continue
            self._spool.release(job.job_id, problem)
            stop.wait(delay)
            delay = min(delay * 2, self._backoff[1])
        self._close()

    def _print(self, job_id: str, data: bytes) -> str | None:
        """Print one job; None when it is done (printed or failed for good), else why it must wait."""
        try:
            if self._transport is None:
                self._transport = self._open(self.config)
                self._set_state("online", f"connected to {self.config.uri}")
            status = self._transport.send(data)
        except TimeoutError:
            # Connected, but no answer: the printer may be printing it still (a jam, a slow roll);
            # sending it again could print it twice.
            self._close()
            self._set_state("offline", "no confirmation from the printer")
            self._finish(job_id, "failed", f"no confirmation within {self.config.timeout:.0f}s; check the printer")
            return None
        except OSError as exc:
            self._close()
            self._set_state("offline", str(exc) or type(exc).__name__)
            return f"printer away: {exc}"
        if status is not None and status & escpos.PAPER_END_BITS:
            self._set_state("paper_out", "paper roll end")
            return "paper out"
        self._set_state("online", "printed")
        self._finish(job_id, "printed", "")
        return None

    def _finish(self, job_id: str, status: str, error: str) -> None:
        self._spool.finish(job_id, status, error)
        (log.info if status == "printed" else log.warning)("print job %s on %s: %s %s", job_id, self.config.name,
                                                          status, error)
        self._on_outcome(job_id, status, error)

    def _close(self) -> None:
        if self._transport is not None:
            try:
                self._transport.close()
            except OSError:
                pass
            self._transport = None

    def _set_state(self, state: str, detail: str) -> None:
        if state != self.state:
            (log.info if state == "online" else log.warning)("printer %s: %s (%s)", self.config.name, state, detail)
            self.state, self.detail = state, detail
            self._on_state(self.config.name, state, detail)
