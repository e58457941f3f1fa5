"""Counting facilities: which courts or prisons count, and where, for a mode, a date and a tier filter."""
from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.catalog import Dataset
from layers.vocabulary import TIERS, WORKING

Mode = Literal["actual", "nominal"]


def counting_facilities(
    dataset: Dataset, *, kind: str = "court", mode: Mode = "actual", as_of: str | pd.Timestamp,
    tiers: tuple[str, ...] | None = None,
) -> gpd.GeoDataFrame:
    """The facilities that count, one row each, with geometry at the place they count.

    actual: operational and partial facilities on `as_of`, at their sitting place (their seat if not relocated);
    nominal: every facility at its seat, whatever its status. `counted_at` says which place was used.
    """
    return counting(dataset.facilities_as_of(kind, as_of), mode=mode, tiers=tiers, vocabulary=tuple(dataset.tiers))


def counting(state: gpd.GeoDataFrame, *, mode: Mode = "actual", tiers: tuple[str, ...] | None = None,
             vocabulary: tuple[str, ...] = TIERS) -> gpd.GeoDataFrame:
    """The facilities of `state` (facilities as of a date, or a scenario's version of them) that count, and where."""
    if mode not in ("actual", "nominal"):
        raise ValueError(f"mode must be actual or nominal, not {mode!r}")
    unknown = sorted(set(tiers or ()) - set(vocabulary))
    if unknown:
        raise ValueError(f"unknown tier(s) {', '.join(unknown)}; expected some of {', '.join(vocabulary)}")
    if tiers:
        state = state[state["tier"].isin(tiers)]
    if mode == "nominal":
        out = state.assign(counted_at="seat")
    else:
        state = state[state["status"].isin(WORKING)]
        moved = (state["sitting_name"] != "").to_numpy()
        sitting = gpd.points_from_xy(state["sitting_lon"], state["sitting_lat"], crs="EPSG:4326")
        out = state.assign(counted_at=np.where(moved, "sitting place", "seat"))
        out = out.set_geometry(np.where(moved, np.asarray(sitting), out.geometry.to_numpy()), crs="EPSG:4326")
    return out.reset_index(drop=True)
