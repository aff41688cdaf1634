"""Bridges: registration with a token shown once, revocation, authentication of a connecting bridge,
and what each reported about its hardware.

Tokens are 256 random bits; only their SHA-256 is stored (a slow password hash buys nothing for a
secret that cannot be guessed, and a bridge connects often)."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.exc import IntegrityError

from ..accounts.auth import Principal
from ..clock import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..ids import is_row_id
from ..infra.unit_of_work import unit_of_work
from ..locations.models import STORE
from ..repositories import reader
from .models import FAILED, QUEUED, Device

TOKEN_PREFIX = "slb_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def register(store_id, name, who: Principal) -> tuple[dict, str]:
    """A new bridge for a store; returns it and its token (which is never shown again)."""
    if not is_row_id(store_id):
        raise ValidationFailed("store_id 必须是正整数", code="invalid_field", details={"field": "store_id"})
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 50:
        raise ValidationFailed("name 必须是 1 到 50 字的文本", code="invalid_field", details={"field": "name"})
    name = name.strip()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with unit_of_work() as uow:
            store = uow.devices.store(store_id)
            if store is None or store.kind != STORE:
                raise NotFound("门店不存在", code="store_not_found")
            if uow.devices.live_named(store_id, name) is not None:
                raise _name_taken(name)
            device = uow.devices.add(Device(store_id=store_id, name=name, token_hash=hash_token(token),
                                            token_hint=token[:8], created_by=who.actor, created_at=utcnow()))
            result = to_dict(device, store.name)
    except IntegrityError as exc:  # registered at the same moment under the same name (the unique index)
        raise _name_taken(name) from exc
    return result, token


def _name_taken(name: str) -> Conflict:
    return Conflict(f"该门店已有名为「{name}」的设备,请换一个名称或先停用旧设备", code="device_name_taken",
                    details={"name": name})


def revoke(device_id: int) -> tuple[dict, str | None]:
    """Revoke a bridge's token for good; returns the device and the Socket.IO session to cut off."""
    with unit_of_work() as uow:
        device = uow.devices.get(device_id, lock=True)
        if device is None:
            raise NotFound("设备不存在", code="device_not_found")
        if device.revoked_at is None:
            device.revoked_at = utcnow()
        sid, device.connected_sid = device.connected_sid, None
        store = uow.devices.store(device.store_id)
        result = to_dict(device, store.name if store else "")
    return result, sid


def list_devices(store_id: int | None = None) -> list[dict]:
    devices = reader().devices  # a read: no write transaction (under SQLite that would take the write lock)
    counts = {status: devices.job_counts(status) for status in (QUEUED, FAILED)}
    return [{**to_dict(d, store_name), "queued_jobs": counts[QUEUED].get(d.id, 0),
             "failed_jobs": counts[FAILED].get(d.id, 0)} for d, store_name in devices.with_store_names(store_id)]


def store_device(device_id: int, who: Principal) -> Device:
    """A bridge of the caller's store (HQ: any), not revoked; 404 otherwise."""
    device = reader().devices.get(device_id)
    if device is None or device.revoked_at is not None or (not who.is_hq and device.store_id != who.store_id):
        raise NotFound("设备不存在", code="device_not_found")
    return device


def to_dict(device: Device, store_name: str = "") -> dict:
    hardware = device.hardware or {}
    return {
        "id": device.id, "store_id": device.store_id, "store_name": store_name, "name": device.name,
        "token_hint": device.token_hint, "created_at": device.created_at, "revoked": device.revoked_at is not None,
        "revoked_at": device.revoked_at, "online": device.connected_sid is not None and device.revoked_at is None,
        "last_seen_at": device.last_seen_at, "scale": hardware.get("scale"), "printers": hardware.get("printers", []),
        "version": hardware.get("version"),
    }


# --- the /bridge connection ------------------------------------------------------------------------

def connect(token, sid: str) -> tuple[Device, str | None] | None:
    """A bridge connecting with `token`: its device and the session it replaces (one connection per
    device), or None when the token is unknown or revoked. The check and the claim are one
    conditional UPDATE, so a revocation racing the connection either refuses it or sees its session."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with unit_of_work() as uow:
        device = uow.devices.by_token_hash(hash_token(token))
        if device is None or device.revoked_at is not None:
            return None
        previous = device.connected_sid
        if not uow.devices.claim_connection(device.id, sid, utcnow()):
            return None
    return device, previous


def disconnected(device_id: int, sid: str) -> None:
    with unit_of_work() as uow:
        uow.devices.release_connection(device_id, sid, utcnow())


def record_hardware(device_id: int, report) -> dict:
    """Keep what the bridge says is attached (bounded and typed: it is shown on HQ's page)."""
    hardware = clean_hardware(report)
    with unit_of_work() as uow:
        uow.devices.set_hardware(device_id, hardware, utcnow())
    return hardware


def _text(value, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def clean_hardware(report) -> dict:
    report = report if isinstance(report, dict) else {}
    scale = report.get("scale") if isinstance(report.get("scale"), dict) else None
    printers = report.get("printers") if isinstance(report.get("printers"), list) else []
    return {
        "version": _text(report.get("version"), 20),
        "scale": None if scale is None else {k: _text(scale.get(k), 120) for k in ("port", "protocol", "state")},
        "printers": [
            {**{k: _text(p.get(k), 200) for k in ("name", "uri", "kind", "state", "detail")},
             "paper": p.get("paper") if p.get("paper") in (58, 80) else None}
            for p in printers[:8] if isinstance(p, dict)
        ],
    }


def has_printer(device: Device) -> bool:
    return bool((device.hardware or {}).get("printers"))
