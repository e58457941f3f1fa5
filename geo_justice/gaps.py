"""Access-gap hotspots: connected areas of people beyond T minutes of any counting facility."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import scipy

from .access import Access
from .grid import polygons

def gap_hotspots(access: Access, threshold: float, settlements: gpd.GeoDataFrame | None = None, *,
                 min_population: float = 1000.0, min_density: float = 20.0, name_radius_km: float = 50.0) -> gpd.GeoDataFrame:
    """Hotspots ranked by population: settled cells (at least `min_density` persons per km²) beyond
    `threshold` minutes or unreachable, 8-connected, holding at least `min_population` people.

    Sparser land still counts in coverage but does not join hotspots: with a continuous population
    surface it would merge every gap of a country into one.

    Each is named by the most populous settlement inside it, or if none, within `name_radius_km` of its
    population-weighted centre (`name` empty when there is none), with its population, area and
    mean travel time of its reachable people (`unreachable` counts those no facility can reach).
    """
    beyond = (access.minutes > threshold) & (access.population >= min_density * access.grid.cell_area_km2)
    labels, count = scipy.ndimage.label(beyond, structure=np.ones((3, 3)))
    if count == 0:
        return _empty()
    index = np.arange(1, count + 1)
    people = scipy.ndimage.sum(access.population, labels, index)
    keep = index[people >= min_population]
    if keep.size == 0:
        return _empty()
    remap = np.zeros(count + 1, dtype=np.int32)
    remap[keep] = np.arange(1, keep.size + 1)
    labels = remap[labels]
    n = keep.size
    flat = labels[labels > 0]
    pop = access.population[labels > 0]
    minutes = access.minutes[labels > 0]
    reachable = np.isfinite(minutes)
    rows, cols = np.nonzero(labels > 0)
    xs, ys = access.grid.centres(rows, cols)
    population = np.bincount(flat, pop, minlength=n + 1)[1:]
    centre_x = np.bincount(flat, pop * xs, minlength=n + 1)[1:] / population
    centre_y = np.bincount(flat, pop * ys, minlength=n + 1)[1:] / population
    reach_pop = np.bincount(flat[reachable], pop[reachable], minlength=n + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_minutes = np.bincount(flat[reachable], (pop * minutes)[reachable], minlength=n + 1)[1:] / reach_pop
    shapes = polygons(access.grid, labels, labels > 0).set_index("value").reindex(np.arange(1, n + 1))
    frame = gpd.GeoDataFrame({
        "population": population,
        "unreachable": population - reach_pop,
        "area_km2": np.bincount(flat, minlength=n + 1)[1:] * access.grid.cell_area_km2,
        "mean_minutes": mean_minutes,
        "threshold_minutes": threshold,
        "name": _names(access, labels, settlements, centre_x, centre_y, name_radius_km),
    }, geometry=shapes.geometry.to_numpy(), crs="EPSG:4326")
    frame = frame.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def _names(access: Access, labels: np.ndarray, settlements: gpd.GeoDataFrame | None, centre_x: np.ndarray,
           centre_y: np.ndarray, radius_km: float) -> list[str]:
    n = centre_x.size
    if settlements is None or settlements.empty:
        return [""] * n
    places = settlements.to_crs(access.grid.crs)
    px, py = places.geometry.x.to_numpy(), places.geometry.y.to_numpy()
    size = places["population"].fillna(0).to_numpy()
    rows, cols, inside = access.grid.cells(settlements.geometry)
    holder = np.zeros(len(places), dtype=np.int64)
    holder[inside] = labels[rows[inside], cols[inside]]
    tree = scipy.spatial.cKDTree(np.column_stack([px, py]))
    near = tree.query_ball_point(np.column_stack([centre_x, centre_y]), radius_km * 1000)
    names = []
    for i in range(n):
        candidates = list(np.flatnonzero(holder == i + 1)) or sorted(near[i])  # towns inside it come first
        names.append(places["name"].iat[max(candidates, key=lambda j: size[j])] if candidates else "")
    return names


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"rank": [], "population": [], "unreachable": [], "area_km2": [], "mean_minutes": [],
                             "threshold_minutes": [], "name": []}, geometry=[], crs="EPSG:4326")
