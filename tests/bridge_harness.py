"""The real server and the real bridge daemon as separate processes, with a scale on a pseudo-terminal
and a printer on a local TCP port: shared by the end-to-end tests and bench/bridge.py."""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import requests
import socketio

from .fake_hardware import PtyScale, TcpPrinter
from .live_server import ChildProcess, LiveServer


def api(server: LiveServer, method: str, path: str, token: str, **kwargs):
    return requests.request(method, server.url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"},
                            timeout=10, **kwargs)


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class BridgeProcess(ChildProcess):
    """`python -m hardware_bridge ...` in a subprocess, its log in a file (kept across restarts)."""

    def __init__(self, directory: Path, server_url: str, token: str, *, scale: str | None = None,
                 protocol: str | None = None, printers: tuple[str, ...] = ()):
        args = [sys.executable, "-m", "hardware_bridge", "--server", server_url, "--spool", str(directory / "spool.db")]
        if scale:
            args += ["--scale", scale, "--scale-protocol", protocol]
        for uri in printers:
            args += ["--printer", uri]
        env = {**os.environ, "STORELINK_BRIDGE_TOKEN": token, "PYTHONUNBUFFERED": "1"}
        super().__init__(args, directory / "bridge.log", env, append_log=True)


class ClerkListener:
    """A store clerk's Socket.IO connection to /clerk, recording what it is sent with arrival times."""

    def __init__(self, server_url: str, token: str, events=("scale.reading", "print.status")):
        self.received: list[tuple[float, str, dict]] = []
        self.changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        for name in events:
            self.client.on(name, self._handler(name), namespace="/clerk")
        self.client.connect(server_url, namespaces=["/clerk"], auth={"token": token}, transports=["websocket"],
                            wait_timeout=10)

    def _handler(self, name):
        def handle(data):
            with self.changed:
                self.received.append((time.perf_counter(), name, data))
                self.changed.notify_all()
        return handle

    def of(self, name: str) -> list[dict]:
        with self.changed:
            return [data for _, n, data in self.received if n == name]

    def wait_for(self, predicate, timeout: float = 20.0):
        """The first (arrival time, data) received after now... that satisfies predicate(name, data)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            seen = 0
            while True:
                for at, name, data in self.received[seen:]:
                    if predicate(name, data):
                        return at, data
                seen = len(self.received)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def close(self) -> None:
        self.client.disconnect()


def register_bridge(server: LiveServer, hq_token: str, store_id: int, name: str = "收银台") -> tuple[int, str]:
    r = api(server, "POST", "/hq/devices", hq_token, json={"store_id": store_id, "name": name})
    r.raise_for_status()
    return r.json()["device"]["id"], r.json()["token"]


def device(server: LiveServer, hq_token: str, device_id: int) -> dict:
    devices = api(server, "GET", "/hq/devices", hq_token).json()["devices"]
    return next(d for d in devices if d["id"] == device_id)


__all__ = ["BridgeProcess", "ClerkListener", "LiveServer", "PtyScale", "TcpPrinter", "api", "device",
           "register_bridge", "wait_until"]
