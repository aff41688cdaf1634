"""Print jobs: stored, pushed to the store's bridge (again whenever it comes back), and finished by the
bridge's acknowledgement. Domain logic only; the /bridge namespace and the API are the adapters.

Events published after commit: "print.job" (a job to push), "print.status" (a job's outcome)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from ..orders import queries as order_queries
from ..orders.models import PICKUP
from ..orders.state import COMPLETED
from ..repositories import reader
from .documents import order_document
from .models import EXPIRED, FAILED, PRINTED, QUEUED, Device, PrintJob
from .service import has_printer

# How long a job may wait for its bridge, by kind (the bridge applies the same limits to its spool).
TTL = {"drawer_kick": timedelta(seconds=10), "receipt": timedelta(hours=1), "pickup_ticket": timedelta(hours=1),
       "delivery_note": timedelta(hours=4)}
ORDER_KINDS = ("receipt", "pickup_ticket", "delivery_note")
RESULT_STATUSES = (PRINTED, FAILED, EXPIRED)


def printing_device(devices, store_id: int) -> Device | None:
    """The store's bridge with a printer: a connected one first, then the one seen last."""
    candidates = [d for d in devices.active_of_store(store_id) if has_printer(d)]
    candidates.sort(key=lambda d: (d.connected_sid is not None, d.last_seen_at or d.created_at), reverse=True)
    return candidates[0] if candidates else None


def _queue(uow, *, store_id: int, device: Device, kind: str, document: dict, requested_by: str,
           order_id: int | None = None, dedupe_key: str | None = None) -> PrintJob:
    now = utcnow()
    job = uow.devices.add_job(PrintJob(
        store_id=store_id, device_id=device.id, order_id=order_id, kind=kind, document=document, status=QUEUED,
        requested_by=requested_by, dedupe_key=dedupe_key, created_at=now, updated_at=now, expires_at=now + TTL[kind]))
    uow.publish("print.job", job_id=job.id, device_id=device.id)
    uow.publish("print.status", **status_message(job))
    return job


def _order_document(uow, order, kind: str) -> dict:
    return order_document(order, uow.devices.store(order.location_id), kind)


def print_order(order_id: int, kind: str, who) -> dict:
    """A clerk's (re)print of an order's document at the order's store."""
    if kind not in ORDER_KINDS:
        raise ValidationFailed(f"kind 必须是 {'、'.join(ORDER_KINDS)} 之一", code="invalid_field",
                               details={"field": "kind"})
    with unit_of_work() as uow:
        order = order_queries.order(uow.connection, order_id)
        if not who.is_hq and order.location_id != who.store_id:
            raise NotFound("订单不存在", code="order_not_found")
        device = printing_device(uow.devices, order.location_id)
        if device is None:
            raise Conflict("本店没有连接打印机的硬件桥", code="no_printer")
        job = _queue(uow, store_id=order.location_id, device=device, kind=kind,
                     document=_order_document(uow, order, kind), requested_by=who.actor, order_id=order.id)
        return job_dict(job)


def print_drawer_kick(store_id: int, who) -> dict:
    with unit_of_work() as uow:
        device = printing_device(uow.devices, store_id)
        if device is None:
            raise Conflict("本店没有连接打印机的硬件桥", code="no_printer")
        job = _queue(uow, store_id=store_id, device=device, kind="drawer_kick", document={"kind": "drawer_kick"},
                     requested_by=who.actor)
        return job_dict(job)


def auto_receipt_for_pickup(order_id: int) -> dict | None:
    """The receipt of a handed-over pickup order, when its store's bridge has a printer; at most one
    per order however often the event arrives."""
    try:
        with unit_of_work() as uow:
            try:
                order = order_queries.order(uow.connection, order_id)
            except NotFound:
                return None
            if order.fulfilment != PICKUP or order.status != COMPLETED:
                return None
            device = printing_device(uow.devices, order.location_id)
            if device is None:
                return None
            job = _queue(uow, store_id=order.location_id, device=device, kind="receipt",
                         document=_order_document(uow, order, "receipt"), requested_by="auto", order_id=order.id,
                         dedupe_key=f"auto-receipt:{order.id}")
            return job_dict(job)
    except IntegrityError:  # already queued for this order
        return None


def pending_for(device_id: int) -> list[dict]:
    """What the bridge must (still) print, oldest first, as `print.job` messages; jobs that waited
    past their kind's limit are expired instead (and announced)."""
    now = utcnow()
    messages = []
    with unit_of_work() as uow:
        for job in uow.devices.queued_jobs(device_id):
            if job.expires_at <= now:
                job.status, job.error, job.updated_at = EXPIRED, "打印机长时间未连接,已过期", now
                uow.publish("print.status", **status_message(job))
            else:
                messages.append(job_message(job, now))
    return messages


def job_for_bridge(job_id: int) -> dict | None:
    job = reader().devices.job(job_id)
    return job_message(job, utcnow()) if job is not None and job.status == QUEUED else None


def record_result(device_id: int, data) -> dict | None:
    """The bridge's outcome of a job of its own: printed, failed or expired. Idempotent: a repeated
    acknowledgement changes nothing. None when the job is not this bridge's."""
    if not isinstance(data, dict):
        return None
    job_id, status, error = data.get("job_id"), data.get("status"), data.get("error") or ""
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        return None
    if status not in RESULT_STATUSES or not isinstance(error, str) or not 0 < job_id < 2 ** 63:
        return None
    with unit_of_work() as uow:
        # "expired" here may be the server's own verdict on a job the bridge did print meanwhile.
        changed = uow.devices.finish_job(job_id, device_id, status, error[:300], utcnow(), (QUEUED, EXPIRED))
        job = uow.devices.job(job_id)
        if job is None or job.device_id != device_id:
            return None
        if changed:
            uow.publish("print.status", **status_message(job))
        return status_message(job)


def recent_jobs(store_id: int | None, limit: int = 50, status: str | None = None) -> list[dict]:
    return [job_dict(j) for j in reader().devices.recent_jobs(store_id, limit, status)]


def job_message(job: PrintJob, now) -> dict:
    return {"job_id": str(job.id), "kind": job.kind, "printer": job.printer, "document": job.document,
            "ttl_seconds": max(0, int((job.expires_at - now).total_seconds()))}


def status_message(job: PrintJob) -> dict:
    return {"job_id": job.id, "order_id": job.order_id, "kind": job.kind, "status": job.status, "error": job.error,
            "device_id": job.device_id, "store_id": job.store_id}


def job_dict(job: PrintJob) -> dict:
    return {**status_message(job), "requested_by": job.requested_by, "created_at": job.created_at,
            "updated_at": job.updated_at, "printed_at": job.printed_at}
