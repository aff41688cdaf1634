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
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChildProcess:
    """A command run in a subprocess, its output in a log file: the real server here, the bridge daemon
    in bridge_harness. `stop()` asks it to end (SIGTERM, as systemd would) and kills it after 10 s."""

    def __init__(self, args: list[str], log_path: Path, env: dict, *, append_log: bool = False):
        self.args, self.log_path, self.env = args, log_path, env
        self._log_mode = "ab" if append_log else "wb"
        self.process = None

    def start(self):
        self._log = open(self.log_path, self._log_mode)
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        return self

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


class LiveServer(ChildProcess):
    def __init__(self, instance_dir: Path, *, database_url: str | None = None, port: int | None = None, **env):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ, "PORT": str(self.port), "STORELINK_INSTANCE": str(instance_dir),
            "PUBLIC_BASE_URL": self.url, "PYTHONUNBUFFERED": "1",
            # Live tests race many orders from one demo member; the per-member limits on unpaid orders
            # have tests of their own (test_expiry_and_limits.py) and are off unless a test sets them.
            "MAX_UNPAID_ORDERS_PER_MEMBER": "0", "MAX_UNPAID_UNITS_PER_MEMBER": "0", **env,
        }
        if database_url:
            env["DATABASE_URL"] = database_url
        super().__init__([sys.executable, "wsgi.py"], instance_dir / f"server-{self.port}.log", env)

    def start(self, timeout: float = 60) -> "LiveServer":
        """Starts the server and returns once it answers /healthz."""
        super().start()
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

    def login(self, **credentials) -> str:
        r = requests.post(self.url + "/api/v1/auth/login", json={**credentials, "password": "demo1234"}, timeout=10)
        r.raise_for_status()
        return r.json()["token"]


def redis_or_skip() -> None:
    """Skips the test when Redis is not reachable at REDIS_URL (fails it under STORELINK_REQUIRE_SERVICES=1)."""
    import pytest
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        if os.environ.get("STORELINK_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis required but unavailable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not available at {REDIS_URL} ({exc})")


def two_workers(directory: Path, **env) -> tuple[LiveServer, LiveServer]:
    """Two server processes on one database (the SQLite file in `directory`) joined by the Redis
    message queue, as a deployment with several workers runs; the caller stops both."""
    redis_or_skip()
    env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL, **env}
    first = LiveServer(directory, **env).start()
    try:
        return first, LiveServer(directory, **env).start()
    except BaseException:
        first.stop()
        raise
