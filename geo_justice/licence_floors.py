"""Licence floors by construction: what anonymous callers get is derived only from licence-restricted rows
moved to the centre of their cell, and only where a cell holds enough of them in the window asked for.

`public_dataset` makes that view once per data version; `above_floor` drops sparse cells from any window of
incidents (the risk surface and the exposure counts both select their window through it).
"""
from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.catalog import Dataset
from layers.licences import LicenceFloors

#: Columns of the public view: the cell a restricted row was moved to and the smallest count its cell needs.
CELL, MINIMUM = "floor_cell", "floor_min"


def restricted_rows(dataset: Dataset, incidents: pd.DataFrame | None = None) -> np.ndarray:
    """Which incidents come from a source whose licence forbids passing rows on."""
    frame = dataset.incidents if incidents is None else incidents
    if frame is None or frame.empty:
        return np.zeros(0 if frame is None else len(frame), dtype=bool)
    sources = frame["source_dataset"]
    restricted = {s: not dataset.licences[s].redistribute_raw for s in sources.unique()}  # an unknown source: KeyError
    return sources.map(restricted).to_numpy(dtype=bool)


def floors_apply(dataset: Dataset) -> LicenceFloors | None:
    """The dataset's floors when it holds licence-restricted rows, else None."""
    return dataset.licence_floors if restricted_rows(dataset).any() else None


def public_dataset(dataset: Dataset) -> Dataset:
    """The dataset as anonymous callers may see it: restricted rows at their cell centre, tagged with their cell."""
    floors = floors_apply(dataset)
    if floors is None:
        return dataset
    incidents = dataset.incidents.copy()
    restricted = restricted_rows(dataset)
    cell = floors.cell_deg
    col = np.floor(incidents.geometry.x.to_numpy() / cell).astype(int)
    row = np.floor(incidents.geometry.y.to_numpy() / cell).astype(int)
    centres = gpd.points_from_xy((col + 0.5) * cell, (row + 0.5) * cell, crs=incidents.crs)
    incidents.loc[restricted, "geometry"] = gpd.GeoSeries(centres, index=incidents.index)[restricted]
    incidents[CELL] = pd.Series([f"cell-{c}-{r}" for c, r in zip(col, row)], index=incidents.index).where(restricted, None)
    incidents[MINIMUM] = np.where(restricted, floors.min_incidents, 0)
    return replace(dataset, incidents=incidents, versions={**dataset.versions, "view": "licence floors"})


def above_floor(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The incidents of a window without restricted rows whose cell holds fewer than its floor in that window."""
    if CELL not in incidents.columns or incidents.empty:
        return incidents
    counts = incidents.groupby(CELL)[CELL].transform("size")
    keep = incidents[CELL].isna() | (counts >= incidents[MINIMUM])
    return incidents[keep.to_numpy()]
