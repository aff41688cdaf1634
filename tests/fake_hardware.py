"""Stand-ins for the store's hardware, driven from the other side of the real interfaces: a scale on the
master side of a pseudo-terminal (the bridge opens the slave with pyserial, as it would a USB-serial
adapter), and a receipt printer listening on a local TCP port as a network printer does on 9100."""
from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from pathlib import Path

GS_R_STATUS = b"\x1dr\x01"  # "transmit paper sensor status": answered once everything before it is processed


class PtyScale:
    """A scale behind a stable device name (a symlink, like /dev/serial/by-id/...). `unplug()` closes
    the pseudo-terminal, so the device disappears under the reader; `plug()` brings a new one back
    under the same name."""

    def __init__(self, directory: Path, name: str = "ttyScale"):
        self.path = Path(directory) / name
        self.master = self.slave = None
        self.received = bytearray()
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo or line editing before the reader opens it
        if self.path.is_symlink():
            self.path.unlink()
        self.path.symlink_to(os.ttyname(self.slave))

    def unplug(self) -> None:
        self.path.unlink()
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = None

    def write(self, data: bytes, *, byte_delay: float = 0.0) -> None:
        if not byte_delay:
            os.write(self.master, data)
            return
        for i in range(len(data)):
            os.write(self.master, data[i:i + 1])
            time.sleep(byte_delay)

    def read_available(self, timeout: float) -> bytes:
        master = self.master
        try:
            ready, _, _ = select.select([master], [], [], timeout)
            data = os.read(master, 1024) if ready else b""
        except (OSError, TypeError, ValueError):  # unplugged meanwhile
            return b""
        self.received += data
        return data

    def close(self) -> None:
        if self.master is not None:
            self.unplug()


class ToledoScale(PtyScale):
    """Answers each `W` with `self.answer` (a frame, written byte by byte when `byte_delay` is set)."""

    def __init__(self, directory: Path, answer: bytes = b"\x02  0.000\r", byte_delay: float = 0.0):
        super().__init__(directory)
        self.answer, self.byte_delay, self.polls = answer, byte_delay, 0
        self.first_answered: dict[bytes, float] = {}  # answer -> perf_counter when it was first written out
        self.answered = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self.master is None:
                time.sleep(0.01)
                continue
            data = self.read_available(0.02)
            for _ in range(data.count(b"W")):
                self.polls += 1
                answer = self.answer
                if answer:
                    try:
                        self.write(answer, byte_delay=self.byte_delay)
                    except OSError:
                        continue
                    self.first_answered.setdefault(answer, time.perf_counter())
                    self.answered.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        super().close()


class TcpPrinter:
    """A network receipt printer on a local port. It processes its input in order; a job counts as
    printed when the printer reaches the status request the bridge sends after it (the moment a real
    printer answers `GS r 1`), and is answered then. `stop()` is the printer switched off: connections
    are cut and whatever sat unprocessed in its buffer is lost, as on a real one."""

    def __init__(self, port: int = 0, *, paper_status: int = 0x00):
        self.jobs: list[bytes] = []  # each printed job's bytes, status request excluded
        self.raw = bytearray()  # everything ever received
        self.paper_status = paper_status
        self.cut_after_bytes: int | None = None  # switch off after receiving this many more bytes
        self.port = port
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)
        self._server = None
        self._running = False
        self.start()

    def start(self) -> None:
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", self.port))
        self.port = self._server.getsockname()[1]
        self._server.listen(4)
        self._running = True
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with self._lock:
                if not self._running or server is not self._server:
                    conn.close()
                    continue
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        switched_off = False
        while not switched_off:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                if not self._running:
                    return
                if self.cut_after_bytes is not None:
                    data = data[:self.cut_after_bytes]
                    self.cut_after_bytes -= len(data)
                self.raw += data
                buffer += data
                while (end := buffer.find(GS_R_STATUS)) >= 0:
                    job, buffer = buffer[:end], buffer[end + len(GS_R_STATUS):]
                    if job:
                        self.jobs.append(job)
                    try:
                        conn.sendall(bytes([self.paper_status]))
                    except OSError:
                        return
                self.changed.notify_all()
                if self.cut_after_bytes == 0:
                    self.cut_after_bytes = None
                    switched_off = True
        self.stop()

    def stop(self) -> None:
        """Switched off: the listener closes and open connections are cut."""
        with self._lock:
            self._running = False
            server, conns = self._server, list(self._conns)
        try:
            server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        server.close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def wait_for(self, predicate, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True
