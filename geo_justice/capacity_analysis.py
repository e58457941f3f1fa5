"""Capacity-limited coverage, the 2SFCA index and the justice chain on a dataset: the functions the CLI and API call.

Each returns an `AnalysisResult` (named layers, the first the main one; a summary; the run manifest).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .access import Access, AccessParams, Engine, Progress
from .analysis import AnalysisResult
from .capacity import CapacityParams, Reach, allocate, court_capacity, processing_order, two_step_fca
from .chain import justice_chain, prison_occupancy, transfer_burden, with_room
from .coverage import ALL
from .facilities import counting
from .grid import polygons
from .manifest import run_manifest
from .scenarios import Scenario, describe, scenario_facilities, scenario_state, updated_access
from .traveltime import travel_time

#: Detainees per 100,000 persons: the UN study's 628 detainees in the north and centre over the 2009 census
#: population of the Mopti, Tombouctou, Gao and Kidal regions (3,330,779), taken as uniform (an assumption).
DETAINEES_PER_100K = 18.9
#: Eight hours: the chain's default threshold for a court far from a prison with room.
CHAIN_THRESHOLD = 480.0


@dataclass(frozen=True)
class CapacityResult(AnalysisResult):
    """An AnalysisResult with per-cell surfaces: name -> (grid, values)."""

    surfaces: dict = field(default_factory=dict)


def _courts(engine: Engine, params: AccessParams, scenario: Scenario | None, progress: Progress | None) -> Access:
    """Court access for `params` (courts only), under the scenario when one is given."""
    baseline = engine.access(replace(params, kind="court"), progress)
    if scenario is None:
        return baseline
    return updated_access(engine, baseline, scenario_facilities(engine.dataset, scenario, baseline.params))


def site_reach(engine: Engine, access: Access, threshold: float) -> Reach:
    """Per site of `access`, the flat cells within `threshold` minutes of it and their minutes."""
    surface = engine.surface(access.grid, access.params)
    cells, minutes = [], []
    for site in access.site_cells:
        found = travel_time(surface, access.grid.cell_size, site[None, :], neighbours=access.params.neighbours,
                            max_minutes=threshold).minutes.ravel()
        inside = np.flatnonzero(found <= threshold)
        cells.append(inside)
        minutes.append(found[inside])
    return Reach(cells, minutes)


def capacity(engine: Engine, params: AccessParams, cap: CapacityParams = CapacityParams(), *,
             scenario: Scenario | None = None, progress: Progress | None = None) -> CapacityResult:
    """Who is served when courts have limits (AccessMod's geographic coverage), per court and per region,
    the served catchments as polygons, and the 2SFCA / E2SFCA index (cases a year per 1,000 persons).

    Layers: served_catchments (polygons), regions, facilities; surfaces: persons served per cell and the
    2SFCA and E2SFCA index per cell (cases a year per 1,000 persons).
    """
    access = _courts(engine, params, scenario, progress)
    facilities = access.facilities.reset_index(drop=True)
    figures = court_capacity(facilities, cap)
    by_site = site_reach(engine, access, cap.threshold)
    sites = facilities["site"].to_numpy()
    reach = Reach([by_site.cells[s] for s in sites], [by_site.minutes[s] for s in sites])
    population = access.population.ravel()
    reachable = np.array([population[c].sum() for c in reach.cells])
    capacity_persons = figures["capacity_persons"].to_numpy()
    order = processing_order(cap, facilities["id"].tolist(), capacity_persons, reachable)
    result = allocate(reach, population, capacity_persons, order)

    table = facilities[["id", "name", "tier", "region"]].copy()
    table["lon"], table["lat"] = facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy()  # where it counts
    table["figures_source"] = facilities["figures_source"] if "figures_source" in facilities else ""
    table = pd.concat([table, figures], axis=1)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    table.insert(0, "order", rank)
    table["within_reach"], table["served"] = result.within_reach, result.served
    table["left_in_reach"] = result.within_reach - result.served  # unserved in reach when it filled up
    table["capacity_left"] = np.maximum(capacity_persons - result.served, 0.0)
    table = table.sort_values("order").reset_index(drop=True)

    # Per site, cases a year per site for the index: co-located courts add up.
    supply = np.bincount(sites, np.nan_to_num(figures["capacity_cases"].to_numpy()), minlength=access.sites)
    fca, _ = two_step_fca(by_site, population, supply, cap.threshold)
    efca, _ = two_step_fca(by_site, population, supply, cap.threshold, enhanced=True)
    regions = _region_table(engine, access, cap.threshold, result.served_cells, fca, efca)

    shapes = polygons(access.grid, result.label.reshape(access.grid.shape), result.label.reshape(access.grid.shape) >= 0)
    served = facilities[["id"]].assign(value=np.arange(len(facilities))).merge(shapes, on="value").drop(columns="value")
    served = gpd.GeoDataFrame(served.merge(table, on="id"), geometry="geometry", crs="EPSG:4326")
    manifest = run_manifest(engine.dataset, "capacity", {"access": access.params, "capacity": cap,
                                                         "scenario": describe(scenario) if scenario else None,
                                                         "regions_from": engine.regions(access.grid).source})
    shape = access.grid.shape
    surfaces = {"served": (access.grid, result.served_cells.reshape(shape)),
                "2sfca": (access.grid, fca.reshape(shape) * 1000), "e2sfca": (access.grid, efca.reshape(shape) * 1000)}
    return CapacityResult({"served_catchments": served, "regions": regions, "facilities": table}, regions, manifest,
                          surfaces)


def _region_table(engine: Engine, access: Access, threshold: float, served: np.ndarray, fca: np.ndarray,
                  efca: np.ndarray) -> pd.DataFrame:
    """Per region and overall: population, served, over capacity, out of reach, shares, and the mean indices."""
    regions = engine.regions(access.grid)
    index = regions.index.ravel()
    population = access.population.ravel()
    within = population * (access.minutes.ravel() <= threshold)

    def total(values: np.ndarray) -> np.ndarray:
        inside = index >= 0
        return np.append(np.bincount(index[inside], values[inside], minlength=len(regions.names)), values.sum())

    people = total(population)
    table = pd.DataFrame({"region": regions.names + [ALL], "population": people, "served": total(served),
                          "over_capacity": total(within - served), "out_of_reach": total(population - within)})
    with np.errstate(invalid="ignore", divide="ignore"):
        for column in ("served", "over_capacity", "out_of_reach"):
            table[f"{column}_share"] = np.where(people > 0, table[column] / people, np.nan)
        table["2sfca_per_1000"] = np.where(people > 0, total(population * fca) / people * 1000, np.nan)
        table["e2sfca_per_1000"] = np.where(people > 0, total(population * efca) / people * 1000, np.nan)
    return table


def chain(engine: Engine, params: AccessParams, *, threshold: float = CHAIN_THRESHOLD, min_room: float = 1.0,
          unknown_room: str = "count", detainees_per_100k: float = DETAINEES_PER_100K, scenario: Scenario | None = None,
          progress: Progress | None = None) -> AnalysisResult:
    """The justice chain: per counting court, minutes to the nearest working prison and to the nearest one with
    room (prisons at capacity are passed over), the court-to-prison matrix, prison occupancy, and per region
    the detainee transfer burden (expected detainees x minutes to a prison with room).

    Layers: chain (a line from each court to its prison with room), prisons (occupancy), matrix, regions.
    """
    if threshold <= 0:
        raise ValueError(f"threshold must be positive minutes, not {threshold}")
    courts = _courts(engine, params, scenario, progress)
    if scenario:
        state = scenario_state(engine.dataset, scenario, "prison", params.as_of)
        working = scenario_facilities(engine.dataset, scenario, replace(courts.params, kind="prison", tiers=None))
    else:
        state = engine.dataset.facilities_as_of("prison", params.as_of)
        working = counting(state, mode=params.mode)
    working = working.reset_index(drop=True)
    occupancy = prison_occupancy(state)
    working_occupancy = occupancy.set_index("id").loc[working["id"]].reset_index()
    room = with_room(working_occupancy, min_room=min_room, unknown_room=unknown_room)
    matrix = _court_prison_matrix(engine, courts, working)
    court_rows = courts.facilities.reset_index(drop=True)
    table = justice_chain(court_rows, working, matrix[court_rows["site"].to_numpy()], room)
    table["far"] = table["minutes_to_prison_with_room"] > threshold

    site_minutes = np.full(courts.sites + 1, np.inf)  # the last entry: cells no court reaches
    site_minutes[court_rows["site"].to_numpy()] = table["minutes_to_prison_with_room"].to_numpy()
    regions = engine.regions(courts.grid)
    burden = transfer_burden(site_minutes[courts.label].ravel(), courts.population.ravel(), regions.index.ravel(),
                             regions.names, detainees_per_100k)
    burden = pd.concat([burden, pd.DataFrame([{"region": ALL, **burden.drop(columns="region").sum().to_dict()}])],
                       ignore_index=True)
    burden.loc[burden.index[-1], "mean_minutes"] = (burden["detainee_minutes"].iloc[-1] /
                                                    (burden["expected_detainees"].iloc[-1] - burden["detainees_unreached"].iloc[-1]))

    prison_at = dict(zip(working["name"], working.geometry))
    lines = [shapely.LineString([c, prison_at[p]]) if p else None
             for c, p in zip(court_rows.geometry, table["nearest_prison_with_room"])]
    layer = gpd.GeoDataFrame(table, geometry=lines, crs="EPSG:4326")
    prisons = gpd.GeoDataFrame(occupancy.assign(working=occupancy["id"].isin(working["id"]),
                                                has_room=occupancy["id"].map(dict(zip(working["id"], room))).fillna(False)),
                               geometry=state.geometry.to_numpy(), crs="EPSG:4326")
    frame = pd.DataFrame(matrix[court_rows["site"].to_numpy()], columns=working["id"].tolist())
    frame.insert(0, "court", court_rows["id"].to_numpy())
    manifest = run_manifest(engine.dataset, "chain", {
        "access": courts.params, "threshold": threshold, "min_room": min_room, "unknown_room": unknown_room,
        "detainees_per_100k": detainees_per_100k, "scenario": describe(scenario) if scenario else None,
        "regions_from": regions.source})
    summary = table.sort_values("minutes_to_prison_with_room", ascending=False).reset_index(drop=True)
    return AnalysisResult({"chain": layer, "prisons": prisons, "matrix": frame, "regions": burden}, summary, manifest)


def prisons_with_room(engine: Engine, params: AccessParams, *, min_room: float = 1.0, unknown_room: str = "count",
                      progress: Progress | None = None) -> Access:
    """Travel time to the nearest working prison with room (one search from all of them), on `params`' grid."""
    prisons = engine.access(replace(params, kind="prison", tiers=None), progress)
    room = with_room(prison_occupancy(prisons.facilities), min_room=min_room, unknown_room=unknown_room)
    if room.all():
        return prisons
    return updated_access(engine, prisons, prisons.facilities[room].drop(columns="site"))


def _court_prison_matrix(engine: Engine, courts: Access, prisons: gpd.GeoDataFrame) -> np.ndarray:
    """(court sites, prisons) minutes over the courts' friction: one search from each prison's cell."""
    grid, params = courts.grid, courts.params
    if prisons.empty:
        return np.zeros((courts.sites, 0))
    placed, cells = engine.place_sites(grid, prisons, params)
    surface = engine.surface(grid, params)
    rows, cols = courts.site_cells[:, 0], courts.site_cells[:, 1]
    by_cell = [travel_time(surface, grid.cell_size, cell[None, :], neighbours=params.neighbours).minutes[rows, cols]
               for cell in cells]
    return np.column_stack([by_cell[s] for s in placed["site"]])
