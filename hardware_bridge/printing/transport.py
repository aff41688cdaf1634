"""Where a printer's bytes go: `tcp://host:9100`, `serial:///dev/ttyUSB0?baud=19200`, or a device or
file path (`/dev/usb/lp0`, `file:///var/spool/out.bin`). Options ride on the URI's query:
`name` (jobs address printers by it), `paper` (58 or 80 mm) and `confirm` (`status`: wait for the
printer's answer to GS r 1 after each job; `none`: done once written, the default for paths)."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import serial

from . import escpos


class PrinterGone(OSError):
    """The printer went away before it confirmed the job: it did not print it."""


@dataclass(frozen=True)
class PrinterConfig:
    name: str
    uri: str  # as given, for the log and the server
    kind: str  # tcp, serial, path
    target: str  # host:port, device, or path
    paper: int = 80
    confirm: bool = True
    baudrate: int = 19200
    timeout: float = 15.0  # for the confirmation: a long receipt takes seconds to print

    def to_status(self) -> dict:
        return {"name": self.name, "uri": self.uri, "kind": self.kind, "paper": self.paper}


def parse_printer(uri: str, default_name: str = "receipt") -> PrinterConfig:
    parts = urlsplit(uri)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    name = options.get("name", default_name)
    paper = int(options.get("paper", 80))
    if paper not in (58, 80):
        raise ValueError(f"paper must be 58 or 80 (mm), not {paper}")
    if parts.scheme == "tcp":
        if not parts.hostname:
            raise ValueError(f"no host in {uri}")
        kind, target, confirm = "tcp", f"{parts.hostname}:{parts.port or 9100}", True
    elif parts.scheme == "serial":
        kind, target, confirm = "serial", parts.path, True
    elif parts.scheme in ("file", ""):
        kind, target, confirm = "path", parts.path, False
    else:
        raise ValueError(f"unknown printer address {uri!r} (tcp://, serial://, file:// or a path)")
    confirm = {"status": True, "none": False}.get(options.get("confirm", ""), confirm)
    return PrinterConfig(name, uri, kind, target, paper, confirm, int(options.get("baud", 19200)),
                         float(options.get("timeout", 15)))


class Transport:
    def __init__(self, config: PrinterConfig):
        self.config = config

    def send(self, data: bytes) -> int | None:
        """Write one job; with confirmation, wait for the printer's status byte (returned)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class TcpTransport(Transport):
    def __init__(self, config: PrinterConfig):
        super().__init__(config)
        host, port = config.target.rsplit(":", 1)
        self._sock = socket.create_connection((host, int(port)), timeout=5)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, data: bytes) -> int | None:
        self._sock.settimeout(self.config.timeout)
        self._drain()
        if not self.config.confirm:
            self._sock.sendall(data)
            return None
        self._sock.sendall(data + escpos.STATUS_REQUEST)
        answer = self._sock.recv(1)
        if not answer:
            raise PrinterGone("the printer closed the connection before confirming")
        return answer[0]

    def _drain(self) -> None:
        """Drop bytes a printer sent unasked (some report status changes), so they are not taken as
        this job's answer; a closed connection shows up here, before the job is sent."""
        self._sock.setblocking(False)
        try:
            while True:
                chunk = self._sock.recv(256)
                if not chunk:
                    raise PrinterGone("the printer closed the connection")
        except BlockingIOError:
            pass
        finally:
            self._sock.settimeout(self.config.timeout)

    def close(self) -> None:
        self._sock.close()


class SerialTransport(Transport):
    def __init__(self, config: PrinterConfig):
        super().__init__(config)
        self._port = serial.serial_for_url(config.target, baudrate=config.baudrate, timeout=config.timeout,
                                           write_timeout=config.timeout)
        self._port.reset_input_buffer()

    def send(self, data: bytes) -> int | None:
        self._port.reset_input_buffer()
        if not self.config.confirm:
            self._port.write(data)
            self._port.flush()
            return None
        self._port.write(data + escpos.STATUS_REQUEST)
        answer = self._port.read(1)
        if not answer:
            raise PrinterGone("no answer from the printer")
        return answer[0]

    def close(self) -> None:
        self._port.close()


class PathTransport(Transport):
    def send(self, data: bytes) -> int | None:
        with open(self.config.target, "ab") as out:
            out.write(data)
            out.flush()
            if os.path.isfile(self.config.target):
                os.fsync(out.fileno())
        return None


def open_transport(config: PrinterConfig) -> Transport:
    try:
        return {"tcp": TcpTransport, "serial": SerialTransport, "path": PathTransport}[config.kind](config)
    except serial.SerialException as exc:
        raise OSError(str(exc)) from exc
