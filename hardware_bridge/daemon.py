"""The bridge daemon: a scale (optional), printers (optional), the spool and the server link, each on
a thread of its own, wired together here."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from . import __version__
from .link import ServerLink
from .printing.render import KINDS
from .printing.spool import FINAL, Spool
from .printing.transport import PrinterConfig
from .printing.worker import PrinterWorker
from .scale import PROFILES, Reading, ScaleReader, SimulatedScale

log = logging.getLogger("hardware_bridge")

READING_REPEAT_SECONDS = 1.0  # an unchanged reading is sent again this often (a clerk screen just opened)


@dataclass
class BridgeConfig:
    server: str
    token: str
    scale: str | None = None
    scale_protocol: str | None = None
    printers: list[PrinterConfig] = field(default_factory=list)
    spool: str = "bridge-spool.db"


class Bridge:
    def __init__(self, config: BridgeConfig):
        self.config = config
        self.stop = threading.Event()
        self.link = ServerLink(config.server, config.token, on_job=self._job, on_command=self._command,
                               on_connect=self._connected)
        self.spool = Spool(config.spool)
        self.printers = {p.name: PrinterWorker(p, self.spool, on_outcome=self._outcome, on_state=self._printer_state)
                         for p in config.printers}
        self.scale = self._make_scale()
        self._last_sent: tuple | None = None
        self._last_sent_at = 0.0
        self._reading_lock = threading.Lock()

    def _make_scale(self):
        if not self.config.scale:
            return None
        protocol = self.config.scale_protocol or ("sim" if self.config.scale == "sim" else None)
        if protocol == "sim":
            return SimulatedScale(self._reading, on_state=self._scale_state)
        if protocol not in PROFILES:
            raise ValueError(f"--scale-protocol must be one of {', '.join([*PROFILES, 'sim'])}")
        return ScaleReader(self.config.scale, PROFILES[protocol], self._reading, on_state=self._scale_state)

    # --- running -----------------------------------------------------------------------------------

    def start(self) -> list[threading.Thread]:
        log.info("bridge %s for %s: scale %s, printers %s, spool %s", __version__, self.config.server,
                 f"{self.config.scale} ({self.config.scale_protocol or 'sim'})" if self.scale else "none",
                 ", ".join(f"{p.name}={p.uri} ({p.paper} mm)" for p in self.config.printers) or "none",
                 self.config.spool)
        for job_id in self.spool.recover():
            log.warning("print job %s was being printed when the bridge stopped: reported as uncertain", job_id)
        workers = [(f"printer-{name}", w.run) for name, w in self.printers.items()]
        runners = [("link", self.link.run), *workers] + ([("scale", self.scale.run)] if self.scale else [])
        threads = [threading.Thread(target=fn, args=(self.stop,), name=name, daemon=True) for name, fn in runners]
        for t in threads:
            t.start()
        return threads

    def run_forever(self) -> None:
        threads = self.start()
        try:
            while not self.stop.wait(3600):
                self.spool.purge()
        finally:
            self.stop.set()
            for t in threads:
                t.join(5)
            self.spool.close()

    # --- status ------------------------------------------------------------------------------------

    def status(self) -> dict:
        scale = None
        if self.scale is not None:
            scale = {"port": self.scale.port, "protocol": self.config.scale_protocol or "sim", "state": self.scale.state}
        printers = [{**w.config.to_status(), "state": w.state, "detail": w.detail} for w in self.printers.values()]
        return {"version": __version__, "scale": scale, "printers": printers}

    def _send_status(self) -> None:
        self.link.emit("bridge.status", self.status())

    def _connected(self) -> None:
        # From the link's receiving thread: send from another one, so a slow send never holds it up.
        threading.Thread(target=self._after_connect, daemon=True).start()

    def _after_connect(self) -> None:
        self._send_status()
        for result in self.spool.unreported():  # outcomes first: the server then re-sends only what is left
            self._report(result)
        self.link.emit("print.pull", {})  # the server answers with every job still queued for us

    def _scale_state(self, state: str, detail: str) -> None:
        self._send_status()

    def _printer_state(self, name: str, state: str, detail: str) -> None:
        self._send_status()

    # --- scale ---------------------------------------------------------------------------------------

    def _reading(self, reading: Reading) -> None:
        """Relay a reading when it differs from the last one sent, or again after a while."""
        key = (reading.weight_g, reading.stable, reading.net, reading.overload)
        now = time.monotonic()
        with self._reading_lock:
            if key == self._last_sent and now - self._last_sent_at < READING_REPEAT_SECONDS:
                return
            if self.link.emit("scale.reading", reading.to_dict()):
                self._last_sent, self._last_sent_at = key, now

    def _command(self, data) -> dict:
        name = data.get("command") if isinstance(data, dict) else None
        ok = bool(self.scale is not None and isinstance(name, str) and self.scale.command(name))
        return {"ok": ok}

    # --- printing ------------------------------------------------------------------------------------

    def _job(self, data) -> dict:
        """A job from the server: spool it (once) for its printer, answer that it is safe here."""
        if not isinstance(data, dict) or not isinstance(data.get("job_id"), (str, int)):
            return {"ok": False, "error": "malformed job"}
        job_id, document = str(data["job_id"]), data.get("document")
        kind = data.get("kind") or (document or {}).get("kind")
        if not isinstance(document, dict) or kind not in KINDS:
            self._reject(job_id, f"unknown document kind {kind!r}")
            return {"ok": True}
        printer = data.get("printer") if data.get("printer") in self.printers else next(iter(self.printers), None)
        if printer is None:
            self._reject(job_id, "this bridge has no printer")
            return {"ok": True}
        if self.spool.add(job_id, printer, kind, {**document, "kind": kind}, data.get("ttl_seconds")):
            log.info("print job %s (%s) spooled for %s", job_id, kind, printer)
            self.printers[printer].wake()
        else:
            state = self.spool.state(job_id)
            log.info("print job %s received again (%s): not printed again", job_id, state[0] if state else "?")
            self._resend_outcome(job_id)
        return {"ok": True}

    def _reject(self, job_id: str, error: str) -> None:
        if self.spool.add(job_id, "-", "invalid", {}, 0):
            self.spool.finish(job_id, "failed", error)
        self._resend_outcome(job_id)

    def _resend_outcome(self, job_id: str) -> None:
        state = self.spool.state(job_id)
        if state is not None and state[0] in FINAL:
            self._report({"job_id": job_id, "status": state[0], "error": state[1]})

    def _outcome(self, job_id: str, status: str, error: str) -> None:
        self._report({"job_id": job_id, "status": status, "error": error})

    def _report(self, result: dict) -> None:
        job_id = result["job_id"]

        def acknowledged(answer=None):
            if isinstance(answer, dict) and answer.get("ok"):
                self.spool.mark_reported(job_id)

        self.link.emit("print.result", result, callback=acknowledged)
