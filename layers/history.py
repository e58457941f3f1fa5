"""Status history: append-only events; the state of a facility on a date D is the latest event on or before D."""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .checks import (BBox, check_vocabulary, coordinate_problem, parse_dates, parse_numbers, require_columns, text)
from .errors import Report
from .read import read_text_table, where
from .vocabulary import STATUSES

EVENT_COLUMNS = ("facility_id", "as_of", "status", "sitting_name", "sitting_lon", "sitting_lat", "source", "note")
#: `sitting_name` of an event that returns a facility to its seat.
AT_SEAT = "seat"


def read_status_history(
    path: str | Path, *, facility_ids: Collection[str] | None = None, study_area: BBox | None = None
) -> pd.DataFrame:
    """Read a CSV of events (EVENT_COLUMNS). Each event sets a status, a sitting place, or both, and has a source."""
    report = Report.for_path(path)
    path = Path(path)
    if not path.is_file():
        report.error(None, None, f"file not found: {path}")
    elif path.stat().st_size == 0:
        report.error(None, None, "file is empty")
    table = read_text_table(path, report) if not report.problems else None
    if table is None or not require_columns(table, ("facility_id", "as_of", "status", "source"), report):
        report.raise_if_any()
    for column in EVENT_COLUMNS:
        if column not in table:
            table[column] = ""
    events = pd.DataFrame({
        "facility_id": table["facility_id"].map(text),
        "as_of": parse_dates(table, "as_of", report),
        "status": check_vocabulary(table, "status", STATUSES, report, required=False),
        "sitting_name": table["sitting_name"].map(text),
        "sitting_lon": parse_numbers(table, "sitting_lon", report, minimum=None),
        "sitting_lat": parse_numbers(table, "sitting_lat", report, minimum=None),
        "source": table["source"].map(text),
        "note": table["note"].map(text),
    })
    for i, event in events.iterrows():
        place = where(table, i, "facility_id")
        if not event.facility_id:
            report.error(place, "facility_id", "missing value")
        elif facility_ids is not None and event.facility_id not in facility_ids:
            report.error(place, "facility_id", f"no facility has id {event.facility_id!r}")
        if not event.source:
            report.error(place, "source", "every event needs a source (a citation, or 'assumed')")
        has_xy = not (np.isnan(event.sitting_lon) or np.isnan(event.sitting_lat))
        if not event.status and not event.sitting_name:
            report.error(place, "status", "an event must set a status or a sitting place")
        if event.sitting_name and event.sitting_name != AT_SEAT and not has_xy:
            report.error(place, "sitting_lon/sitting_lat", f"a sitting place needs coordinates (or sitting_name '{AT_SEAT}')")
        if has_xy:
            problem = coordinate_problem(event.sitting_lon, event.sitting_lat, study_area)
            if problem:
                report.error(place, "sitting_lon/sitting_lat", problem)
    report.raise_if_any()
    return events


def facility_events(facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """The events a facility layer's own rows state: its current status and, if relocated, its sitting place."""
    status = pd.DataFrame({
        "facility_id": facilities["id"], "as_of": facilities["status_as_of"], "status": facilities["status"],
        "sitting_name": "", "sitting_lon": np.nan, "sitting_lat": np.nan,
        "source": facilities["status_source"], "note": "",
    })
    moved = facilities[facilities["sitting_name"].astype(str) != ""]
    sitting = pd.DataFrame({
        "facility_id": moved["id"], "as_of": moved["sitting_since"], "status": "",
        "sitting_name": moved["sitting_name"], "sitting_lon": moved["sitting_lon"], "sitting_lat": moved["sitting_lat"],
        "source": moved["sitting_source"], "note": "",
    })
    return pd.concat([sitting, status], ignore_index=True)[list(EVENT_COLUMNS)]


def combine_events(*tables: pd.DataFrame) -> pd.DataFrame:
    """Events in order of date; on the same date, later tables (and later rows) come after earlier ones."""
    events = pd.concat([t[list(EVENT_COLUMNS)] for t in tables], ignore_index=True)
    return events.sort_values("as_of", kind="stable").reset_index(drop=True)


def as_of(facilities: gpd.GeoDataFrame, events: pd.DataFrame, date: str | pd.Timestamp) -> gpd.GeoDataFrame:
    """The facilities as they stood on `date`: status, its date and source, and the sitting place then.

    A facility with no status event on or before `date` is `unknown`; one with no sitting event (or whose
    latest sitting event is a return to the seat) sits at its seat (empty `sitting_*`).
    """
    date = pd.Timestamp(date)
    past = events[events["as_of"] <= date]
    ids = pd.Index(facilities["id"])
    status = past[past["status"] != ""].groupby("facility_id").last().reindex(ids)
    sitting = past[past["sitting_name"] != ""].groupby("facility_id").last()
    sitting = sitting[sitting["sitting_name"] != AT_SEAT].reindex(ids)  # back at the seat: no sitting place
    out = facilities.copy()
    out["status"] = status["status"].fillna("unknown").to_numpy()
    out["status_as_of"] = status["as_of"].to_numpy()
    out["status_source"] = status["source"].fillna(f"no status event on or before {date:%Y-%m-%d}").to_numpy()
    out["sitting_name"] = sitting["sitting_name"].fillna("").to_numpy()
    out["sitting_lon"] = sitting["sitting_lon"].to_numpy(dtype=float)
    out["sitting_lat"] = sitting["sitting_lat"].to_numpy(dtype=float)
    out["sitting_since"] = sitting["as_of"].to_numpy()
    out["sitting_source"] = sitting["source"].fillna("").to_numpy()
    return out
