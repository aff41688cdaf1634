"""One reader loop for every serial scale protocol: open the port with the profile's settings, drop
whatever waited in it, ask (poll protocols) or listen (streaming ones), cut the byte stream into
frames, decode them, and start over with backoff when the port fails or disappears."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

import serial

from .profiles import Reading, ScaleProfile, decode_frame

log = logging.getLogger("hardware_bridge.scale")

MISSES_BEFORE_SILENT = 3  # unanswered polls in a row before the scale counts as silent


class FrameBuffer:
    """Reassembles frames from fragments: bytes arrive as the OS hands them over (one at a time on a
    slow line), a frame is complete at the profile's terminator."""

    def __init__(self, profile: ScaleProfile):
        self._terminator = profile.terminator
        self._max = profile.max_frame
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._pending += data
        frames = []
        while True:
            end = self._pending.find(self._terminator)
            if end < 0:
                break
            frames.append(self._pending[:end])
            self._pending = self._pending[end + len(self._terminator):]
        if len(self._pending) > self._max:  # no terminator in sight: noise, not a frame
            self._pending = self._pending[-len(self._terminator):]
        return frames

    def clear(self) -> None:
        self._pending = b""


class ScaleReader:
    """Reads one scale on one serial port; `on_reading` gets every decoded reading and `on_state`
    ("online" / "offline" / "silent", detail) every change of the port's state.

    `port` is anything pyserial opens (a device path, a /dev/serial/by-id link, a pyserial URL)."""

    def __init__(self, port: str, profile: ScaleProfile, on_reading: Callable[[Reading], None], *,
                 on_state: Callable[[str, str], None] | None = None, read_timeout: float = 0.02,
                 backoff: tuple[float, float] = (0.2, 5.0)):
        self.port, self.profile = port, profile
        self._on_reading, self._on_state = on_reading, on_state or (lambda state, detail: None)
        self._read_timeout = read_timeout
        self._backoff = backoff
        self._commands: queue.Queue[bytes] = queue.Queue()
        self.state = "offline"
        self.settings: dict = {}  # the serial settings of the port as last opened

    def command(self, name: str) -> bool:
        """Queue a profile command (zero, tare, clear_tare); False when this protocol has none."""
        data = self.profile.commands.get(name)
        if data is None:
            return False
        self._commands.put(data)
        return True

    def run(self, stop: threading.Event) -> None:
        delay = self._backoff[0]
        while not stop.is_set():
            try:
                with self._open() as port:
                    self._set_state("online", f"{self.port} opened")
                    delay = self._backoff[0]
                    self._read(port, stop)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._set_state("offline", f"{self.port}: {exc}")
            if not stop.is_set():
                stop.wait(delay)
                delay = min(delay * 2, self._backoff[1])
        self._set_state("offline", "stopped")

    def _open(self) -> serial.Serial:
        p = self.profile
        port = serial.serial_for_url(self.port, do_not_open=True, baudrate=p.baudrate, bytesize=p.bytesize,
                                     parity=p.parity, stopbits=p.stopbits, timeout=self._read_timeout,
                                     write_timeout=1)
        port.open()
        self.settings = port.get_settings()
        # Frames the scale sent while nobody listened are old weights: never report them.
        port.reset_input_buffer()
        return port

    def _read(self, port: serial.Serial, stop: threading.Event) -> None:
        frames = FrameBuffer(self.profile)
        if self.profile.request:
            self._poll(port, frames, stop)
        else:
            while not stop.is_set():
                self._send_commands(port)
                self._take(port, frames)

    def _poll(self, port: serial.Serial, frames: FrameBuffer, stop: threading.Event) -> None:
        p, misses = self.profile, 0
        while not stop.is_set():
            self._send_commands(port)
            port.write(p.request)
            deadline = time.monotonic() + p.answer_timeout
            answered = False
            while not answered and time.monotonic() < deadline and not stop.is_set():
                answered = self._take(port, frames) > 0
            if answered:
                misses = 0
                if self.state != "online":
                    self._set_state("online", "answering again")
            else:
                misses += 1
                frames.clear()  # half a frame from an earlier answer must not join the next one
                if misses == MISSES_BEFORE_SILENT:
                    self._set_state("silent", f"no answer to {p.request!r} on {self.port}")
            stop.wait(p.poll_interval)

    def _take(self, port: serial.Serial, frames: FrameBuffer) -> int:
        """Read what the port has (waiting up to the read timeout for the first byte); report the
        readings of every completed frame. Returns how many readings were reported."""
        data = port.read(port.in_waiting or 1)
        reported = 0
        for frame in frames.feed(data) if data else ():
            reading = decode_frame(self.profile, frame)
            if reading is None:
                log.debug("ignored frame %r on %s", frame, self.port)
                continue
            reported += 1
            self._on_reading(reading)
        return reported

    def _send_commands(self, port: serial.Serial) -> None:
        while True:
            try:
                data = self._commands.get_nowait()
            except queue.Empty:
                return
            port.write(data)

    def _set_state(self, state: str, detail: str) -> None:
        if state != self.state:
            (log.info if state == "online" else log.warning)("scale %s: %s (%s)", self.port, state, detail)
            self.state = state
            self._on_state(state, detail)
