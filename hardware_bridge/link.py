"""The bridge's one connection: OUT to the server's Socket.IO namespace /bridge (store PCs sit behind
NAT), authenticated with the device token, re-established forever with backoff.

Events, bridge -> server: `bridge.status` (what is attached and how it is), `scale.reading`,
`print.pull` (after connecting: send me every job still queued), `print.result` {job_id, status,
error} (acknowledged by the server, then forgotten here).
Server -> bridge: `print.job` {job_id, kind, printer, document, ttl_seconds} (answered once spooled),
`scale.command` {command}.
"""
from __future__ import annotations

import logging
import random
import threading
from typing import Callable

import socketio

log = logging.getLogger("hardware_bridge.link")
NAMESPACE = "/bridge"


class ServerLink:
    def __init__(self, url: str, token: str, *, on_job: Callable[[dict], dict],
                 on_command: Callable[[dict], dict] = lambda data: {"ok": False},
                 on_connect: Callable[[], None] = lambda: None,
                 backoff: tuple[float, float] = (1.0, 30.0), refused_backoff: float = 60.0):
        self.url, self._token = url, token
        self._on_job, self._on_command, self._on_connect = on_job, on_command, on_connect
        self._backoff, self._refused_backoff = backoff, refused_backoff
        self._client: socketio.Client | None = None
        self._ended = threading.Event()
        self._refusal = ""
        self.connected = threading.Event()

    def emit(self, event: str, data: dict, callback=None) -> bool:
        """Send now if connected; False otherwise (the caller decides whether it must be kept)."""
        client = self._client
        if client is None or not self.connected.is_set():
            return False
        try:
            client.emit(event, data, namespace=NAMESPACE, callback=callback)
            return True
        except socketio.exceptions.BadNamespaceError:
            return False

    def run(self, stop: threading.Event) -> None:
        delay = self._backoff[0]
        while not stop.is_set():
            client = self._client = self._new_client()  # before connecting: the connect handler sends at once
            try:
                self._ended.clear()
                self._refusal = ""
                client.connect(self.url, auth={"token": self._token}, namespaces=[NAMESPACE],
                               transports=["websocket"], wait_timeout=10)
            except socketio.exceptions.ConnectionError as exc:
                wait = self._refused_backoff if self._refusal else delay
                log.warning("cannot connect to %s: %s%s; again in %.0fs", self.url, exc,
                            f" ({self._refusal})" if self._refusal else "", wait)
                self._drop(client)
                stop.wait(wait * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self._backoff[1])
                continue
            delay = self._backoff[0]
            while not stop.is_set() and not self._ended.wait(0.2):
                pass
            self.connected.clear()
            self._drop(client)
            if not stop.is_set():
                stop.wait(delay * random.uniform(0.5, 1.0))

    def _new_client(self) -> socketio.Client:
        # Reconnection is ours (run()): the client's own would also retry a refused token at its pace.
        client = socketio.Client(reconnection=False, handle_sigint=False)

        @client.on("connect", namespace=NAMESPACE)
        def _connected():
            log.info("connected to %s", self.url)
            self.connected.set()
            self._on_connect()

        @client.on("connect_error", namespace=NAMESPACE)
        def _refused(data=None):
            # The server's refusal arrives as {"message": ...}; a transport failure as plain text.
            if isinstance(data, dict):
                self._refusal = str(data.get("message") or "refused by the server")

        @client.on("disconnect", namespace=NAMESPACE)
        def _disconnected(*reason):
            log.warning("disconnected from %s%s", self.url, f" ({reason[0]})" if reason else "")
            self.connected.clear()
            self._ended.set()

        client.on("print.job", self._on_job, namespace=NAMESPACE)
        client.on("scale.command", self._on_command, namespace=NAMESPACE)
        return client

    def _drop(self, client: socketio.Client) -> None:
        if self._client is client:
            self._client = None
        try:
            client.disconnect()
        except Exception:  # already gone
            pass
