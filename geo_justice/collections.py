"""The layers as feature collections: facilities as of a date, licence-aware incidents, date windows."""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.catalog import Dataset

from .dates import iso_instant

FACILITY_KINDS = {"courts": "court", "prisons": "prison"}
#: Property filters each collection accepts.
FILTERS = {"courts": ("status", "tier", "region"), "prisons": ("status", "region"),
           "incidents": ("event_type", "source_dataset"), "boundaries": ()}
AGGREGATE_CELL_DEG = 0.5


@dataclass(frozen=True)
class Interval:
    """A date or a closed/open-ended date interval (OGC `datetime`); None ends are open."""

    start: pd.Timestamp | None
    end: pd.Timestamp | None

    @classmethod
    def parse(cls, text: str) -> "Interval":
        """'2023-11-17', '2023-01-01/2023-12-31', '../2020-01-01' or '2020-01-01/..' (RFC 3339 dates or date-times)."""
        parts = text.split("/")
        if len(parts) > 2:
            raise ValueError(f"datetime {text!r} is neither an ISO 8601 date or date-time nor an interval start/end")
        ends = [None if p in ("", "..") else iso_instant(p, f"datetime {text!r}:") for p in parts]
        if len(ends) == 2 and ends == [None, None]:
            raise ValueError(f"datetime {text!r}: an interval needs at least one end")
        start, end = (ends[0], ends[0]) if len(ends) == 1 else ends
        if start is not None and end is not None and start > end:
            raise ValueError(f"datetime interval {text!r} ends before it starts")
        return cls(start, end)


def collection_names(dataset: Dataset) -> list[str]:
    names = ["courts", "prisons"]
    if dataset.incidents is not None:
        names.append("incidents")
    if dataset.boundaries is not None:
        names.append("boundaries")
    return names


def aggregate_incidents(incidents: gpd.GeoDataFrame, cell_deg: float = AGGREGATE_CELL_DEG) -> gpd.GeoDataFrame:
    """Counts and fatalities per square cell of `cell_deg` degrees: no row of the input can be recovered."""
    if incidents.empty:
        return gpd.GeoDataFrame({"id": [], "incidents": [], "fatalities": []}, geometry=[], crs="EPSG:4326")
    col = np.floor(incidents.geometry.x.to_numpy() / cell_deg).astype(int)
    row = np.floor(incidents.geometry.y.to_numpy() / cell_deg).astype(int)
    table = pd.DataFrame({"col": col, "row": row, "fatalities": incidents["fatalities"].fillna(0).to_numpy(),
                          "source": incidents["source_dataset"].to_numpy()})
    grouped = table.groupby(["col", "row"]).agg(incidents=("fatalities", "size"), fatalities=("fatalities", "sum"),
                                                source_dataset=("source", lambda s: ",".join(sorted(set(s))))).reset_index()
    cells = shapely.box(grouped["col"] * cell_deg, grouped["row"] * cell_deg,
                        (grouped["col"] + 1) * cell_deg, (grouped["row"] + 1) * cell_deg)
    ids = [f"cell-{c}-{r}" for c, r in zip(grouped["col"], grouped["row"])]
    return gpd.GeoDataFrame({"id": ids, "incidents": grouped["incidents"].to_numpy(),
                             "fatalities": grouped["fatalities"].astype(int).to_numpy(),
                             "source_dataset": grouped["source_dataset"].to_numpy(), "cell_degrees": cell_deg},
                            geometry=cells, crs="EPSG:4326")


def incidents_view(dataset: Dataset, interval: Interval | None, *, raw_allowed: bool) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Incidents for a date window as they may be served, and the attributions they need.

    Rows of sources whose licence forbids passing them on (ACLED by default) become per-cell aggregates
    unless `raw_allowed` (a token holder), only for cells holding the dataset's `min_incidents` floor;
    rows of other sources are served as they are.
    """
    incidents = dataset.incidents
    if interval is not None:
        incidents = incidents[in_interval(incidents["date"], interval)]
    sources = sorted(set(incidents["source_dataset"]))
    attributions = [dataset.licences[s].attribution for s in sources]
    restricted = incidents["source_dataset"].map(lambda s: not dataset.licences[s].redistribute_raw).to_numpy(dtype=bool)
    if raw_allowed or not restricted.any():
        return incidents.assign(kind="event"), attributions
    floors = dataset.licence_floors
    cells = aggregate_incidents(incidents[restricted], floors.cell_deg)
    cells = cells[cells["incidents"] >= floors.min_incidents].assign(kind="aggregate")
    if interval is not None:
        cells = cells.assign(window_start=_iso(interval.start), window_end=_iso(interval.end))
    frame = pd.concat([incidents[~restricted].assign(kind="event"), cells], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326"), attributions


def facilities_view(dataset: Dataset, name: str, interval: Interval | None) -> gpd.GeoDataFrame:
    """Courts or prisons with their status as of the interval's end (today when open or absent)."""
    end = interval.end if interval is not None and interval.end is not None else pd.Timestamp.now().normalize()
    return dataset.facilities_as_of(FACILITY_KINDS[name], end)


def in_interval(dates: pd.Series, interval: Interval) -> np.ndarray:
    """Which dates fall in the interval (its start day included, to its end)."""
    keep = np.ones(len(dates), dtype=bool)
    if interval.start is not None:
        keep &= (dates >= interval.start.normalize()).to_numpy()
    if interval.end is not None:
        keep &= (dates <= interval.end).to_numpy()
    return keep


def _iso(date: pd.Timestamp | None) -> str:
    return date.strftime("%Y-%m-%d") if date is not None else ".."
