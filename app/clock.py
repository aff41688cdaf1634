"""One source of 'now' (naive UTC, as stored), so tests and jobs agree on time."""
from datetime import datetime, timedelta, timezone

# The chain trades on China Standard Time (UTC+8, no daylight saving): business dates follow it.
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def business_time(utc: datetime) -> datetime:
    """A stored (naive UTC) time as the stores' wall-clock time, naive."""
    return utc + CHINA_TIME.utcoffset(None)


def short_local(utc: datetime, now: datetime | None = None) -> str:
    """A stored time as a clerk reads it on a receipt: HH:MM today, MM-DD HH:MM on another day."""
    local = business_time(utc)
    today = business_time(now or utcnow()).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")
