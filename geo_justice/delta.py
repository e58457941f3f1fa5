"""What a change does: people gaining and losing access within each threshold, per region and per facility."""
from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .access import Access, Regions
from .coverage import ALL
from .grid import polygons


def _per_region(values: np.ndarray, regions: Regions) -> np.ndarray:
    inside = regions.index >= 0
    return np.append(np.bincount(regions.index[inside], values[inside], minlength=len(regions.names)), values.sum())


def coverage_delta(baseline: Access, scenario: Access, regions: Regions, thresholds: Sequence[float],
                   time_averaged: dict[float, np.ndarray] | None = None) -> pd.DataFrame:
    """Per region (and 'All'), per T: persons within T before and after, gained, lost, net.

    `time_averaged` (T -> persons per cell weighted by availability) adds `time_averaged_T`.
    """
    people = baseline.population
    table = pd.DataFrame({"region": regions.names + [ALL], "population": _per_region(people, regions)})
    for t in thresholds:
        name = f"{t:g}"
        before, after = baseline.minutes <= t, scenario.minutes <= t
        table[f"baseline_{name}"] = _per_region(people * before, regions)
        table[f"scenario_{name}"] = _per_region(people * after, regions)
        table[f"gained_{name}"] = _per_region(people * (after & ~before), regions)
        table[f"lost_{name}"] = _per_region(people * (before & ~after), regions)
        table[f"net_{name}"] = table[f"gained_{name}"] - table[f"lost_{name}"]
        if time_averaged is not None:
            table[f"time_averaged_{name}"] = _per_region(time_averaged[t], regions)
    return table


def facility_delta(baseline: Access, scenario: Access) -> pd.DataFrame:
    """Per facility counting in either: the population of its catchment before and after (0 when not
    counting) and where it counted. Facilities sharing a cell share a catchment, so each shows all of it."""
    def catchment_people(access: Access) -> pd.Series:
        reached = access.label >= 0
        per_site = np.bincount(access.label[reached], access.population[reached], minlength=access.sites)
        return pd.Series(per_site[access.facilities["site"].to_numpy()] if access.sites else [],
                         index=access.facilities["id"].to_numpy(), dtype=float)

    def counted_at(access: Access) -> pd.Series:
        frame = access.facilities
        moved = (frame["counted_at"] == "sitting place").to_numpy()
        return pd.Series(np.where(moved, "sitting place " + frame["sitting_name"].astype(str), "seat"),
                         index=frame["id"].to_numpy())

    before, after = catchment_people(baseline), catchment_people(scenario)
    names = pd.concat([baseline.facilities.set_index("id")["name"], scenario.facilities.set_index("id")["name"]])
    names = names[~names.index.duplicated(keep="last")]
    table = pd.DataFrame({"id": names.index, "name": names.to_numpy()})
    table["baseline_population"] = before.reindex(table["id"]).fillna(0.0).to_numpy()
    table["scenario_population"] = after.reindex(table["id"]).fillna(0.0).to_numpy()
    table["change"] = table["scenario_population"] - table["baseline_population"]
    table["baseline_at"] = counted_at(baseline).reindex(table["id"]).fillna("not counting").to_numpy()
    table["scenario_at"] = counted_at(scenario).reindex(table["id"]).fillna("not counting").to_numpy()
    return table.sort_values("change", key=np.abs, ascending=False, kind="stable").reset_index(drop=True)


def change_polygons(baseline: Access, scenario: Access, thresholds: Sequence[float]) -> gpd.GeoDataFrame:
    """Per T, the area (WGS 84) whose people gain access within T, and the area whose people lose it."""
    rows = []
    changed = baseline.minutes != scenario.minutes
    window, cut = baseline.grid.window(changed)
    for t in thresholds:
        before, after = baseline.minutes[cut] <= t, scenario.minutes[cut] <= t
        for change, mask in (("gained", after & ~before), ("lost", before & ~after)):
            if mask.any():
                shape = polygons(window, np.ones(mask.shape, dtype=np.int32), mask)
                rows.append({"threshold_minutes": t, "change": change,
                             "population": float(baseline.population[cut][mask].sum()), "geometry": shape.geometry.iloc[0]})
    return gpd.GeoDataFrame(rows, columns=["threshold_minutes", "change", "population", "geometry"],
                            geometry="geometry", crs="EPSG:4326")
