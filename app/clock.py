"""One source of 'now' (naive UTC, as stored), so tests and jobs agree on time."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
