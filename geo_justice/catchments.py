"""Catchments (cells whose nearest counting facility is a given one) and isochrones, as polygons with statistics."""
from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .access import Access
from .grid import polygons


def weighted_quantiles(groups: np.ndarray, values: np.ndarray, weights: np.ndarray, n_groups: int,
                       quantiles: Sequence[float]) -> np.ndarray:
    """(n_groups, len(quantiles)) weighted quantiles of `values` within each group; NaN for empty groups."""
    out = np.full((n_groups, len(quantiles)), np.nan)
    keep = weights > 0
    groups, values, weights = groups[keep], values[keep], weights[keep]
    order = np.lexsort((values, groups))
    groups, values, weights = groups[order], values[order], weights[order]
    starts = np.searchsorted(groups, np.arange(n_groups))
    ends = np.searchsorted(groups, np.arange(n_groups), side="right")
    cumulative = np.cumsum(weights)
    for g in np.flatnonzero(ends > starts):
        lo, hi = starts[g], ends[g]
        before = cumulative[lo - 1] if lo else 0.0
        share = (cumulative[lo:hi] - before) / (cumulative[hi - 1] - before)
        out[g] = values[lo:hi][np.minimum(np.searchsorted(share, quantiles), hi - lo - 1)]
    return out


def catchment_statistics(access: Access, thresholds: Sequence[float]) -> pd.DataFrame:
    """Per site: population, area, population-weighted mean / median / p90 minutes, share within each T."""
    n = access.sites
    reached = access.label >= 0
    label, minutes, people = access.label[reached], access.minutes[reached], access.population[reached]
    population = np.bincount(label, people, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        stats = pd.DataFrame({
            "population": population,
            "area_km2": np.bincount(label, minlength=n) * access.grid.cell_area_km2,
            "mean_minutes": np.bincount(label, people * minutes, minlength=n) / population,
        })
        median, p90 = weighted_quantiles(label, minutes, people, n, (0.5, 0.9)).T
        stats["median_minutes"], stats["p90_minutes"] = median, p90
        for t in thresholds:
            stats[f"share_within_{t:g}"] = np.bincount(label, people * (minutes <= t), minlength=n) / population
    return stats


def catchments(access: Access, thresholds: Sequence[float]) -> gpd.GeoDataFrame:
    """One polygon per counting facility, with its identity and catchment statistics (WGS 84).

    Facilities in the same cell (several courts of one town) share one catchment: each gets its
    polygon and figures, and `shared_with` names the others.
    """
    shapes = polygons(access.grid, access.label, access.label >= 0).rename(columns={"value": "site"})
    stats = catchment_statistics(access, thresholds).rename_axis("site").reset_index()
    names = access.site_names()
    facilities = access.facilities[["id", "name", "tier", "region", "status", "counted_at", "site"]].copy()
    facilities["shared_with"] = [" / ".join(n for n in names[s].split(" / ") if n != name)
                                 for name, s in zip(facilities["name"], facilities["site"])]
    merged = facilities.merge(stats, on="site").merge(shapes, on="site", how="left").drop(columns="site")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")


def isochrones(access: Access, thresholds: Sequence[float]) -> gpd.GeoDataFrame:
    """For each T, the area within T minutes of a counting facility, with the population it holds."""
    total = access.population.sum()
    rows = []
    for t in sorted(thresholds):
        within = access.minutes <= t
        grid, window = access.grid.window(within)  # the cells within T and no more: shapes scans only those
        shape = polygons(grid, within[window].view(np.uint8), within[window])
        people = float(access.population.sum(where=within))
        rows.append({"threshold_minutes": t, "population": people, "share": people / total if total else np.nan,
                     "geometry": shape.geometry.iloc[0] if len(shape) else None})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
