"""Friction surface: minutes to cross one metre of each cell, from roads, off-road speed, barriers and risk."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
      (layers.roads.DEFAULT_SPEEDS_KMH, e.g. paved 60, unpaved 40, track 20 km/h, and speeds_kmh in dataset.json).
    - crossing_radius_m: around a crossing point (bridge, ferry, dam) barrier cells are passable (1,500 m);
      a ferry's `wait_minutes` is paid once by a path across the barrier cells it opens.
    - use_barriers: burn barrier layers (rivers without crossings) as impassable when present (True).
    """

    offroad_kmh: float = OFFROAD_KMH
    road_speeds_kmh: tuple[tuple[str, float], ...] | None = None
    crossing_radius_m: float = 1500.0
    use_barriers: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.offroad_kmh < np.inf:
            raise ValueError(f"offroad_kmh must be a positive finite number, not {self.offroad_kmh}")
        for road_class, speed in self.road_speeds_kmh or ():
            if not 0 < speed < np.inf:
                raise ValueError(f"speed of road class {road_class!r} must be positive, not {speed}")


@dataclass(frozen=True)
class Friction:
    """Minutes per metre per cell (inf = impassable) and the risk surface that shaped it."""

    minutes_per_metre: np.ndarray
    risk: np.ndarray
    crossing_minutes: np.ndarray | None = None  # per cell, what crossing there costs (ferry waits); None: nothing


def close_diagonal_gaps(blocked: np.ndarray) -> np.ndarray:
    """`blocked` with every diagonal gap closed: where two blocked cells touch only at a corner and the two
    other cells of their 2x2 block are open, one of those is blocked too, so no diagonal move (which
    MCP_Geometric and the 8-neighbour mode allow between blocked corners) slips through a barrier line."""
    out = blocked.copy()
    while True:  # a closing cell may open a gap in the next block: repeat until none is left
        a, b, c, d = out[:-1, :-1], out[:-1, 1:], out[1:, :-1], out[1:, 1:]  # upper-left, upper-right, ...
        main = a & d & ~b & ~c   # blocked on the main diagonal only
        anti = b & c & ~a & ~d   # blocked on the anti-diagonal only
        if not (main.any() or anti.any()):
            return out
        out[:-1, 1:] |= main     # close by blocking the block's upper-right cell
        out[:-1, :-1] |= anti    # or its upper-left one


def barrier_cells(grid: Grid, dataset: Dataset, params: FrictionParams) -> tuple[np.ndarray, np.ndarray] | None:
    """(blocked, crossing minutes): barrier cells left impassable and, on the barrier cells a crossing
    opens, the minutes crossing there costs (the least wait among the crossings within reach);
    None without barriers."""
    if not params.use_barriers or dataset.barriers is None or dataset.barriers.empty:
        return None
    barrier = close_diagonal_gaps(grid.rasterize(dataset.barriers.geometry, 1, dtype="uint8") > 0)
    wait = np.full(grid.shape, np.inf)
    crossings = dataset.crossings
    if crossings is not None and not crossings.empty:
        reach = max(1, int(round(params.crossing_radius_m / grid.cell_size)))
        yy, xx = np.mgrid[-reach:reach + 1, -reach:reach + 1]
        disk = (yy**2 + xx**2) <= reach**2
        rows, cols, inside = grid.cells(crossings.geometry)
        minutes = crossings["wait_minutes"].fillna(0).to_numpy(dtype=float) if "wait_minutes" in crossings else np.zeros(len(crossings))
        for r, c, m in zip(rows[inside], cols[inside], minutes[inside]):
            r0, c0 = max(r - reach, 0), max(c - reach, 0)
            r1, c1 = min(r + reach + 1, grid.shape[0]), min(c + reach + 1, grid.shape[1])
            window = disk[r0 - r + reach:r1 - r + reach, c0 - c + reach:c1 - c + reach]
            wait[r0:r1, c0:c1] = np.where(window, np.minimum(wait[r0:r1, c0:c1], m), wait[r0:r1, c0:c1])
    opened = barrier & np.isfinite(wait)
    return barrier & ~opened, np.where(opened, wait, 0.0)


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
    barriers = barrier_cells(grid, dataset, params)
    if barriers is not None:
        friction[barriers[0]] = np.inf
    return friction


def build_friction(grid: Grid, dataset: Dataset, as_of: pd.Timestamp, params: FrictionParams,
                   conflict: ConflictParams, base: np.ndarray | None = None) -> Friction:
    """The full friction surface on `as_of`: base friction times the insecurity multiplier."""
    base = base_friction(grid, dataset, params) if base is None else base
    risk = risk_surface(grid, dataset.incidents, as_of, conflict)
    barriers = barrier_cells(grid, dataset, params)
    crossing = barriers[1] if barriers is not None and barriers[1].any() else None
    return Friction(base * risk_multiplier(risk, conflict), risk, crossing)
