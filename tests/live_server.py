"""Start the real server (`python wsgi.py`: gevent, WebSocket, background jobs) in a subprocess."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, instance_dir: Path, *, database_url: str | None = None, port: int | None = None, **env):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = instance_dir / f"server-{self.port}.log"
        self.env = {
            **os.environ, "PORT": str(self.port), "STORELINK_INSTANCE": str(instance_dir),
            "PUBLIC_BASE_URL": self.url, "PYTHONUNBUFFERED": "1",
            # Live tests race many orders from one demo member; the per-member limits on unpaid orders
            # have tests of their own (test_expiry_and_limits.py) and are off unless a test sets them.
            "MAX_UNPAID_ORDERS_PER_MEMBER": "0", "MAX_UNPAID_UNITS_PER_MEMBER": "0", **env,
        }
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.process = None

    def start(self, timeout: float = 60) -> "LiveServer":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def login(self, **credentials) -> str:
        r = requests.post(self.url + "/api/v1/auth/login", json={**credentials, "password": "demo1234"}, timeout=10)
        r.raise_for_status()
        return r.json()["token"]
