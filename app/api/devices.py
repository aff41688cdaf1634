"""Hardware bridges (HQ registers and revokes them) and print jobs (clerks print and reprint)."""
from __future__ import annotations

from flask import request

from ..accounts.models import CLERK, HQ
from ..devices import printing, service
from ..devices.models import JOB_STATUSES
from ..errors import Conflict, NotFound, ValidationFailed
from ..realtime.bridge import disconnect_device, send_scale_command
from . import bp, json_body, json_response, optional_int_arg, optional_json_body, principal, require


@bp.post("/hq/devices")
@require(HQ)
def register_device():
    """Register a bridge for a store: {"store_id", "name"}. The token is in this answer only."""
    body = json_body()
    device, token = service.register(body.get("store_id"), body.get("name"), principal())
    return json_response({"device": device, "token": token}, 201)


@bp.get("/hq/devices")
@require(HQ)
def list_devices():
    return json_response({"devices": service.list_devices(optional_int_arg("store_id", minimum=1))})


@bp.post("/hq/devices/<int:device_id>/revoke")
@require(HQ)
def revoke_device(device_id: int):
    device, sid = service.revoke(device_id)
    disconnect_device(sid)
    return json_response({"device": device})


@bp.get("/hq/print-jobs")
@require(HQ)
def hq_print_jobs():
    return json_response({"jobs": printing.recent_jobs(optional_int_arg("store_id", minimum=1), 100, _status_arg())})


@bp.get("/clerk/devices")
@require(CLERK, HQ)
def store_devices():
    """The clerk's store's bridges: which are online, with which scale and printers."""
    who = principal()
    store_id = who.store_id if not who.is_hq else optional_int_arg("store_id", minimum=1)
    return json_response({"devices": [_public(d) for d in service.list_devices(store_id) if not d["revoked"]]})


@bp.get("/clerk/print-jobs")
@require(CLERK, HQ)
def clerk_print_jobs():
    who = principal()
    store_id = who.store_id if not who.is_hq else optional_int_arg("store_id", minimum=1)
    return json_response({"jobs": printing.recent_jobs(store_id, 50, _status_arg())})


@bp.post("/clerk/orders/<int:order_id>/print")
@require(CLERK, HQ)
def print_order(order_id: int):
    """Print (or reprint) an order's receipt, pickup ticket or delivery note: {"kind": ...}."""
    kind = optional_json_body().get("kind", "receipt")
    return json_response({"job": printing.print_order(order_id, kind, principal())}, 202)


SCALE_COMMANDS = ("zero", "tare", "clear_tare")


@bp.post("/clerk/devices/<int:device_id>/scale/<command>")
@require(CLERK, HQ)
def scale_command(device_id: int, command: str):
    """Zero the store's scale, tare it, or clear the tare (on protocols that take commands)."""
    if command not in SCALE_COMMANDS:
        raise NotFound(f"未知的秤指令 {command}", code="unknown_command")
    device = service.store_device(device_id, principal())
    if device.connected_sid is None:
        raise Conflict("硬件桥不在线", code="device_offline")
    send_scale_command(device.id, command)
    return json_response({"sent": True, "command": command}, 202)


@bp.post("/clerk/drawer/open")
@require(CLERK)
def open_drawer():
    return json_response({"job": printing.print_drawer_kick(principal().store_id, principal())}, 202)


def _status_arg() -> str | None:
    status = request.args.get("status") or None
    if status is not None and status not in JOB_STATUSES:
        raise ValidationFailed(f"status 必须是 {', '.join(JOB_STATUSES)} 之一", code="invalid_query")
    return status


def _public(device: dict) -> dict:
    """What a store's clerks see of a bridge (not its token hint or who registered it)."""
    keys = ("id", "name", "online", "last_seen_at", "scale", "printers", "queued_jobs", "failed_jobs")
    return {k: device[k] for k in keys}
