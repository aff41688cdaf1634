"""/bridge: the store PCs' hardware bridges connect here with their device token.

Readings go on to the store's clerk sockets as `scale.reading`; print jobs come down as `print.job`
(pushed when created, and all still queued when the bridge asks with `print.pull` after connecting);
outcomes come up as `print.result` and go on to the store's clerks and HQ as `print.status`.
A revoked device is disconnected at once, whichever server worker holds its connection."""
from __future__ import annotations

import logging
import math

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room

from ..devices import printing, service
from ..events import DomainEvent, subscribe
from ..extensions import socketio

log = logging.getLogger(__name__)

BRIDGE_NS = "/bridge"
CLERK_NS = "/clerk"
HQ_ROOM = "hq"
MAX_WEIGHT_G = 10_000_000  # 10 t: beyond any shop scale; larger numbers are not weights


def device_room(device_id: int) -> str:
    return f"device:{device_id}"


def store_room(store_id: int) -> str:
    return f"store:{store_id}"


# The devices connected to this worker: sid -> (device id, store id).
_sessions: dict[str, tuple[int, int]] = {}


class BridgeNamespace(Namespace):
    def trigger_event(self, event, *args):
        # Event names carry dots ("scale.reading"); handlers are on_scale_reading.
        return super().trigger_event((event or "").replace(".", "_"), *args)

    def on_connect(self, auth=None):
        token = auth.get("token") if isinstance(auth, dict) else None
        claimed = service.connect(token, request.sid)
        if claimed is None:
            raise ConnectionRefusedError("invalid or revoked device token")
        device, previous = claimed
        _sessions[request.sid] = (device.id, device.store_id)
        join_room(device_room(device.id))
        log.info("bridge %s (store %s) connected", device.id, device.store_id)
        if previous and previous != request.sid:
            # One connection per device: a second process with the same token replaces the first.
            socketio.start_background_task(_disconnect, previous)
        return True

    def on_disconnect(self, reason=None):
        session = _sessions.pop(request.sid, None)
        if session is not None:
            service.disconnected(session[0], request.sid)
            log.info("bridge %s disconnected (%s)", session[0], reason)

    def on_bridge_status(self, data=None):
        session = _sessions.get(request.sid)
        if session is not None:
            service.record_hardware(session[0], data)
            return {"ok": True}

    def on_print_pull(self, data=None):
        session = _sessions.get(request.sid)
        if session is None:
            return {"ok": False}
        jobs = printing.pending_for(session[0])
        for job in jobs:
            emit("print.job", job)
        return {"ok": True, "jobs": len(jobs)}

    def on_print_result(self, data=None):
        session = _sessions.get(request.sid)
        if session is None:
            return {"ok": False}
        result = printing.record_result(session[0], data)
        return {"ok": result is not None}

    def on_scale_reading(self, data=None):
        session = _sessions.get(request.sid)
        reading = clean_reading(data)
        if session is None or reading is None:
            return
        socketio.emit("scale.reading", {"device_id": session[0], **reading}, namespace=CLERK_NS,
                      to=store_room(session[1]))


def clean_reading(data) -> dict | None:
    if not isinstance(data, dict):
        return None
    weight = data.get("weight_g")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                               or not math.isfinite(weight) or abs(weight) > MAX_WEIGHT_G):
        return None
    flags = [data.get(k) for k in ("stable", "net", "overload")]
    if not all(isinstance(f, bool) for f in flags):
        return None
    stable, net, overload = flags
    return {"weight_g": None if weight is None else round(weight), "stable": stable and weight is not None,
            "net": net, "overload": overload}


def _disconnect(sid: str) -> None:
    socketio.server.disconnect(sid, namespace=BRIDGE_NS)


def disconnect_device(sid: str | None) -> None:
    """Cut off a device's open connection (on any worker: the message queue carries it)."""
    if sid:
        _disconnect(sid)


def send_scale_command(device_id: int, command: str) -> None:
    socketio.emit("scale.command", {"command": command}, namespace=BRIDGE_NS, to=device_room(device_id))


def push(event: DomainEvent) -> None:
    payload = event.payload
    if event.name == "print.job":
        message = printing.job_for_bridge(payload["job_id"])
        if message is not None:
            socketio.emit("print.job", message, namespace=BRIDGE_NS, to=device_room(payload["device_id"]))
    elif event.name == "print.status":
        socketio.emit("print.status", payload, namespace=CLERK_NS, to=store_room(payload["store_id"]))
        socketio.emit("print.status", payload, namespace=CLERK_NS, to=HQ_ROOM)
    elif event.name == "pickup.handed_over" and payload.get("completed"):
        printing.auto_receipt_for_pickup(payload["order_id"])  # the clerk centre's hand-over (app/pickup)


_registered_on = None


def init_bridge() -> None:
    """Register /bridge on the current Socket.IO server (each create_app makes a new one)."""
    global _registered_on
    if _registered_on is not socketio.server:
        socketio.on_namespace(BridgeNamespace(BRIDGE_NS))
        _registered_on = socketio.server
    subscribe(push)
