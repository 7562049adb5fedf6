"""When scheduled updates run: 'daily HH:MM' (UTC) or 'every N[m|h]', read once and checked (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from .errors import UsageError

MIN_INTERVAL = timedelta(seconds=5)


@dataclass(frozen=True)
class Schedule:
    """Either a time of day (UTC) or a fixed interval between runs."""

    at: time | None = None
    every: timedelta | None = None

    def __str__(self) -> str:
        if self.at is not None:
            return f"daily {self.at.strftime('%H:%M')} UTC"
        seconds = int(self.every.total_seconds()) if self.every else 0
        for unit, size in (("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"every {seconds // size}{unit}"
        return f"every {seconds}s"


def parse_schedule(spec: str) -> Schedule | None:
    """`daily 06:00`, `every 6h`, `every 30m`, `hourly`; '' or 'off' is None; anything else a UsageError."""
    text = " ".join(spec.lower().split())
    if text in ("", "off", "never"):
        return None
    if text == "hourly":
        return Schedule(every=timedelta(hours=1))
    daily = re.fullmatch(r"daily (\d{1,2}):(\d{2})", text)
    if daily and int(daily.group(1)) < 24 and int(daily.group(2)) < 60:
        return Schedule(at=time(int(daily.group(1)), int(daily.group(2))))
    every = re.fullmatch(r"every (\d{1,5}) ?(s|m|h|sec|min|hours?|minutes?|seconds?)", text)
    if every:
        unit = {"s": "seconds", "m": "minutes", "h": "hours"}[every.group(2)[0]]
        interval = timedelta(**{unit: int(every.group(1))})
        if interval >= MIN_INTERVAL:
            return Schedule(every=interval)
    raise UsageError(f"schedule {spec!r} is not understood; use 'daily 06:00' (UTC), 'every 6h', 'every 30m' or 'off'")


def next_run(schedule: Schedule, now: datetime, last_start: datetime | None = None) -> datetime:
    """The next moment to start after `now` (an interval counts from the last start, else from now)."""
    if schedule.at is not None:
        candidate = now.replace(hour=schedule.at.hour, minute=schedule.at.minute, second=0, microsecond=0)
        return candidate if candidate > now else candidate + timedelta(days=1)
    assert schedule.every is not None
    if last_start is None:
        return now + schedule.every
    return max(now, last_start + schedule.every)
