"""Data access for hardware bridges and print jobs (ORM objects: a store has a bridge or two, and
jobs come one per hand-over or button press). The business modules (service, printing) reach these
tables only through here."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from ..locations.models import Location
from .models import QUEUED, Device, PrintJob


class DeviceRepository:
    __slots__ = ("_session",)

    def __init__(self, session):
        self._session = session

    # --- devices -------------------------------------------------------------------------------------
    def add(self, device: Device) -> Device:
        self._session.add(device)
        self._session.flush()
        return device

    def live_named(self, store_id: int, name: str) -> Device | None:
        """The store's bridge of this name that is not revoked, if any."""
        return self._session.scalars(select(Device).where(
            Device.store_id == store_id, Device.name == name, Device.revoked_at.is_(None))).first()

    def get(self, device_id: int, *, lock: bool = False) -> Device | None:
        return self._session.get(Device, device_id, with_for_update=lock, populate_existing=True)

    def by_token_hash(self, digest: str) -> Device | None:
        return self._session.execute(select(Device).where(Device.token_hash == digest)).scalar_one_or_none()

    def active_of_store(self, store_id: int) -> list[Device]:
        return list(self._session.execute(
            select(Device).where(Device.store_id == store_id, Device.revoked_at.is_(None))).scalars())

    def with_store_names(self, store_id: int | None) -> list[tuple[Device, str]]:
        query = select(Device, Location.name).join(Location, Location.id == Device.store_id).order_by(Device.id)
        if store_id is not None:
            query = query.where(Device.store_id == store_id)
        return [tuple(row) for row in self._session.execute(query.execution_options(populate_existing=True))]

    def store(self, store_id: int) -> Location | None:
        """The location a bridge belongs to (read only: locations are the locations package's)."""
        return self._session.get(Location, store_id)

    def claim_connection(self, device_id: int, sid: str, now: datetime) -> bool:
        """The device's connection is `sid` now, unless it was revoked meanwhile (one conditional UPDATE)."""
        return self._session.execute(
            update(Device).where(Device.id == device_id, Device.revoked_at.is_(None))
            .values(connected_sid=sid, last_seen_at=now).execution_options(synchronize_session=False)).rowcount == 1

    def release_connection(self, device_id: int, sid: str, now: datetime) -> None:
        """Not connected any more, unless a newer connection of the device has taken over."""
        self._session.execute(
            update(Device).where(Device.id == device_id, Device.connected_sid == sid)
            .values(connected_sid=None, last_seen_at=now).execution_options(synchronize_session=False))

    def set_hardware(self, device_id: int, hardware: dict, now: datetime) -> None:
        self._session.execute(update(Device).where(Device.id == device_id).values(hardware=hardware, last_seen_at=now)
                              .execution_options(synchronize_session=False))

    def job_counts(self, status: str) -> dict[int, int]:
        """device id -> how many of its jobs are in `status`."""
        return dict(self._session.execute(select(PrintJob.device_id, func.count()).where(PrintJob.status == status)
                                          .group_by(PrintJob.device_id)).all())

    # --- print jobs ----------------------------------------------------------------------------------
    def add_job(self, job: PrintJob) -> PrintJob:
        self._session.add(job)
        self._session.flush()
        return job

    def job(self, job_id: int) -> PrintJob | None:
        return self._session.get(PrintJob, job_id, populate_existing=True)

    def queued_jobs(self, device_id: int) -> list[PrintJob]:
        return list(self._session.execute(select(PrintJob).where(
            PrintJob.device_id == device_id, PrintJob.status == QUEUED).order_by(PrintJob.id)).scalars())

    def finish_job(self, job_id: int, device_id: int, status: str, error: str, now: datetime,
                   from_statuses: tuple[str, ...]) -> bool:
        """Record a job's outcome if it is this device's and still in one of `from_statuses`."""
        return self._session.execute(
            update(PrintJob).where(PrintJob.id == job_id, PrintJob.device_id == device_id,
                                   PrintJob.status.in_(from_statuses))
            .values(status=status, error=error, updated_at=now, printed_at=now if status == "printed" else None)
            .execution_options(synchronize_session=False)).rowcount == 1

    def recent_jobs(self, store_id: int | None, limit: int, status: str | None) -> list[PrintJob]:
        query = select(PrintJob).order_by(PrintJob.id.desc()).limit(limit)
        if store_id is not None:
            query = query.where(PrintJob.store_id == store_id)
        if status is not None:
            query = query.where(PrintJob.status == status)
        return list(self._session.execute(query.execution_options(populate_existing=True)).scalars())
