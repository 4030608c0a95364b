"""FHIR date/dateTime/instant parsing into half-open UTC ranges [start, end) at their precision."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


def parse_range(value: str) -> tuple[datetime, datetime]:
    """'2024' -> the whole year; '2024-03-05' -> that day; a dateTime -> that second."""
    m = _PARTIAL.match(value)
    if m:
        year, month, day = int(m[1]), m[2], m[3]
        if day:
            start = datetime(year, int(month), int(day))
            return start, start + timedelta(days=1)
        if month:
            start = datetime(year, int(month), 1)
            end = datetime(year + (int(month) == 12), int(month) % 12 + 1, 1)
            return start, end
        return datetime(year, 1, 1), datetime(year + 1, 1, 1)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None and "T" in value:
        # FHIR requires a zone on dateTimes with a time; treat a missing one as UTC rather than fail.
        dt = dt.replace(tzinfo=UTC)
    start = _naive_utc(dt)
    return start, start + timedelta(seconds=1)


def parse_start(value: str) -> datetime:
    return parse_range(value)[0]


def format_instant(dt: datetime) -> str:
    return dt.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
