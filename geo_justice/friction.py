"""Friction surface: minutes to cross one metre of each cell, from roads, off-road speed, barriers and risk."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import binary_dilation

from layers.catalog import Dataset

from .conflict import ConflictParams, risk_multiplier, risk_surface
from .defaults import OFFROAD_KMH
from .grid import Grid


def minutes_per_metre(speed_kmh: float | np.ndarray) -> float | np.ndarray:
    return 60.0 / (np.asarray(speed_kmh, dtype=float) * 1000.0)


@dataclass(frozen=True)
class FrictionParams:
    """How fast people move. Defaults are documented in the README.

    - offroad_kmh: speed away from mapped roads, on foot, by cart or motorbike on paths (5 km/h).
    - road_speeds_kmh: speed per road class; None uses each road's `speed_kmh` from the loader
      (primary 60, secondary 40, track 20 km/h by default).
    - crossing_radius_m: around a crossing point (bridge, ferry, dam) barrier cells are passable (1,500 m).
    - use_barriers: burn barrier layers (rivers without crossings) as impassable when present (True).
    """

    offroad_kmh: float = OFFROAD_KMH
    road_speeds_kmh: tuple[tuple[str, float], ...] | None = None
    crossing_radius_m: float = 1500.0
    use_barriers: bool = True

    def __post_init__(self) -> None:
        if self.offroad_kmh <= 0:
            raise ValueError(f"offroad_kmh must be positive, not {self.offroad_kmh}")
        for road_class, speed in self.road_speeds_kmh or ():
            if speed <= 0:
                raise ValueError(f"speed of road class {road_class!r} must be positive, not {speed}")


@dataclass(frozen=True)
class Friction:
    """Minutes per metre per cell (inf = impassable) and the risk surface that shaped it."""

    minutes_per_metre: np.ndarray
    risk: np.ndarray


def base_friction(grid: Grid, dataset: Dataset, params: FrictionParams) -> np.ndarray:
    """Friction without insecurity: the fastest road in each cell, off-road elsewhere, barriers impassable."""
    speed = np.full(grid.shape, params.offroad_kmh, dtype=np.float64)
    roads = dataset.roads
    if roads is not None and not roads.empty:
        speeds = roads["speed_kmh"].to_numpy(dtype=float)
        if params.road_speeds_kmh is not None:
            override = dict(params.road_speeds_kmh)
            speeds = roads["road_class"].map(override).fillna(roads["speed_kmh"]).to_numpy(dtype=float)
        order = np.argsort(speeds, kind="stable")  # faster roads burnt last win the cell
        burnt = grid.rasterize(roads.geometry.iloc[order], speeds[order], fill=0)
        speed = np.maximum(speed, burnt)
    friction = minutes_per_metre(speed)
    if params.use_barriers and dataset.barriers is not None and not dataset.barriers.empty:
        blocked = grid.rasterize(dataset.barriers.geometry, 1, dtype="uint8") > 0
        if dataset.crossings is not None and not dataset.crossings.empty:
            opened = np.zeros(grid.shape, dtype=bool)
            rows, cols, inside = grid.cells(dataset.crossings.geometry)
            opened[rows[inside], cols[inside]] = True
            reach = max(1, int(round(params.crossing_radius_m / grid.cell_size)))
            yy, xx = np.mgrid[-reach:reach + 1, -reach:reach + 1]
            opened = binary_dilation(opened, structure=(yy**2 + xx**2) <= reach**2)
            blocked &= ~opened
        friction[blocked] = np.inf
    return friction


def build_friction(grid: Grid, dataset: Dataset, as_of: pd.Timestamp, params: FrictionParams,
                   conflict: ConflictParams, base: np.ndarray | None = None) -> Friction:
    """The full friction surface on `as_of`: base friction times the insecurity multiplier."""
    base = base_friction(grid, dataset, params) if base is None else base
    risk = risk_surface(grid, dataset.incidents, as_of, conflict)
    return Friction(base * risk_multiplier(risk, conflict), risk)
