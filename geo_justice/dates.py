"""Dates and date-times as ISO 8601 / RFC 3339 extended forms only: 2023-11-17 or 2023-11-17T08:30:00Z.

Anything else (08/01/2024, 2023, now, 20231117) is refused with the name of the field, never guessed.
"""
from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FIRST_YEAR, LAST_YEAR = 1900, 2199  # analyses and statuses span these years (and pandas can count their days)
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def iso_date(text: object, name: str = "date") -> date:
    """`text` as a calendar date written YYYY-MM-DD; ValueError naming `name` otherwise."""
    if isinstance(text, str) and DATE.fullmatch(text):
        try:
            text = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{name} {text!r} is not a calendar date") from None
    if isinstance(text, date) and not isinstance(text, datetime):
        if not FIRST_YEAR <= text.year <= LAST_YEAR:
            raise ValueError(f"{name} {text.isoformat()} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
        return text
    raise ValueError(f"{name} must be a date written YYYY-MM-DD (ISO 8601), not {text!r}")


def iso_instant(text: str, name: str = "datetime") -> pd.Timestamp:
    """A date (YYYY-MM-DD) or an RFC 3339 date-time with its offset, as a naive UTC timestamp."""
    if DATE.fullmatch(text):
        return pd.Timestamp(iso_date(text, name))
    if DATETIME.fullmatch(text):
        try:
            instant = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name} {text!r} is not a valid date-time") from None
        iso_date(instant.date(), name)
        return pd.Timestamp(instant).tz_convert("UTC").tz_localize(None)
    raise ValueError(f"{name} must be a date (YYYY-MM-DD) or an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SSZ), not {text!r}")
