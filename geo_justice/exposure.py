"""Conflict exposure of facilities, and the justice-chain gap (courts far from a working prison with room)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy

from .access import Access
from .conflict import recent_incidents
from .grid import Grid


def conflict_exposure(facilities: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame | None, grid: Grid,
                      as_of: str | pd.Timestamp, *, radius_km: float = 50.0, days: int = 365) -> pd.DataFrame:
    """Per facility (at its geometry): incidents and fatalities within `radius_km` in the `days` before `as_of`."""
    if radius_km <= 0 or days <= 0:
        raise ValueError("radius_km and days must be positive")
    out = facilities[["id", "name", "kind", "region"]].reset_index(drop=True).copy()
    out["incidents"], out["fatalities"] = 0, 0
    recent = None if incidents is None else recent_incidents(incidents, pd.Timestamp(as_of), days)
    if recent is None or recent.empty or facilities.empty:
        return out.assign(radius_km=radius_km, days=days)
    points = recent.geometry.to_crs(grid.crs)
    places = facilities.geometry.to_crs(grid.crs)
    tree = scipy.spatial.cKDTree(np.column_stack([points.x, points.y]))
    hits = tree.query_ball_point(np.column_stack([places.x, places.y]), radius_km * 1000)
    fatalities = recent["fatalities"].fillna(0).to_numpy()
    out["incidents"] = [len(h) for h in hits]
    out["fatalities"] = [int(fatalities[h].sum()) for h in hits]
    return out.assign(radius_km=radius_km, days=days)


def justice_chain_gap(courts: Access, prisons: Access, threshold: float) -> pd.DataFrame:
    """Counting courts whose nearest prison of `prisons` (the working ones with room, see
    `capacity_analysis.prisons_with_room`) is more than `threshold` minutes away, farthest first."""
    rows, cols, _ = courts.grid.cells(courts.facilities.geometry)
    minutes = prisons.minutes[rows, cols]
    label = prisons.label[rows, cols]
    out = courts.facilities[["id", "name", "tier", "region"]].reset_index(drop=True).copy()
    out["prison_minutes"] = minutes
    names = prisons.site_names()
    out["nearest_prison"] = [names[i] if i >= 0 else "" for i in label]
    gap = out[out["prison_minutes"] > threshold]
    return gap.sort_values("prison_minutes", ascending=False).reset_index(drop=True)
