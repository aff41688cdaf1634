"""One source of 'now' (naive UTC, as stored), so tests and jobs agree on time."""
from datetime import date, datetime, timedelta, timezone

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


def business_date(utc: datetime) -> date:
    """The business date (China time) a stored (naive UTC) time falls on."""
    return business_time(utc).date()


def business_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The business date `day` as [start, end) in stored (naive UTC) time: 00:00 to 24:00 China time."""
    start = datetime(day.year, day.month, day.day) - CHINA_TIME.utcoffset(None)
    return start, start + timedelta(days=1)
