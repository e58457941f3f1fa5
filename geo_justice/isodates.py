"""ISO 8601 dates for what users type (command-line options): nothing else is guessed at.

`08/01/2024` could be 8 January or 1 August; `now` and `2023` are not days. All are refused.
"""
from __future__ import annotations

import re
from datetime import date, datetime

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
OPEN = ("", "..")


def iso_date(text: str) -> str:
    """`text` when it is a calendar date written YYYY-MM-DD; ValueError saying so otherwise."""
    value = text.strip()
    if DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
            return value
        except ValueError:
            raise ValueError(f"{text!r} is not a day of the calendar (YYYY-MM-DD)") from None
    raise ValueError(f"{text!r} is not an ISO 8601 date: write YYYY-MM-DD (e.g. 2024-01-08 for 8 January 2024)")


def iso_instant(text: str) -> str:
    """A date (YYYY-MM-DD) or a date-time (YYYY-MM-DDThh:mm[:ss][Z|±hh:mm]); ValueError otherwise."""
    value = text.strip()
    if DATE_TIME.fullmatch(value):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            raise ValueError(f"{text!r} is not a valid date-time") from None
    return iso_date(value)


def iso_interval(text: str) -> str:
    """A date or date-time, or 'start/end' with '..' or '' for an open end (ISO 8601 / RFC 3339); ValueError otherwise."""
    parts = text.split("/")
    if len(parts) > 2:
        raise ValueError(f"{text!r} is not a date or a start/end interval")
    if len(parts) == 2 and all(p.strip() in OPEN for p in parts):
        raise ValueError(f"{text!r}: an interval needs at least one end")
    for part in parts:
        if part.strip() not in OPEN or len(parts) == 1:
            iso_instant(part)
    return text
