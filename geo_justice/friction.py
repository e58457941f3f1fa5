"""Friction surface: minutes to cross one metre of each cell, from roads, off-road speed, barriers and risk."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.catalog import Dataset

from .conflict import ConflictParams, PlacedIncidents, RiskSurface, risk_multiplier, risk_surface
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
    risk: RiskSurface
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
    opens, the minutes crossing there costs (the least wait among the crossings within reach; 0 elsewhere);
    None without barriers. Each crossing touches only the window around it."""
    if not params.use_barriers or dataset.barriers is None or dataset.barriers.empty:
        return None
    barrier = close_diagonal_gaps(grid.rasterize(dataset.barriers.geometry, 1, dtype="uint8") > 0)
    crossing = np.zeros(grid.shape)  # zeroed memory: pages are mapped only where a crossing writes
    opened = np.zeros(grid.shape, dtype=bool)
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
            here = disk[r0 - r + reach:r1 - r + reach, c0 - c + reach:c1 - c + reach] & barrier[r0:r1, c0:c1]
            wait, known = crossing[r0:r1, c0:c1], opened[r0:r1, c0:c1]  # views
            wait[here & (~known | (m < wait))] = m
            known |= here
    barrier &= ~opened
    return barrier, crossing


@dataclass(frozen=True)
class BaseFriction:
    """Friction without insecurity, held compactly: per cell a code into a table of minutes per metre (one
    entry per speed, the last inf: impassable), one byte a cell instead of eight; and the crossing minutes
    (None without crossings). `base[index]` gives minutes per metre, like indexing the full array."""

    codes: np.ndarray
    table: np.ndarray
    crossing: np.ndarray | None = None

    @property
    def impassable(self) -> int:
        return len(self.table) - 1

    @property
    def nbytes(self) -> int:
        return self.codes.nbytes + (self.crossing.nbytes if self.crossing is not None else 0)

    def __getitem__(self, index) -> np.ndarray:
        return self.table[self.codes[index]]

    def to_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(codes, table, crossing): the crossing as two rows, the flat index and the minutes of its non-zero
        cells (a few, where the full array has a float a cell). What the grid cache keeps; see `from_arrays`."""
        cells = np.zeros(0, dtype=np.int64) if self.crossing is None else np.flatnonzero(self.crossing)
        minutes = np.zeros(0) if self.crossing is None else self.crossing.ravel()[cells]
        return self.codes, self.table, np.vstack([cells.astype(float), minutes])

    @classmethod
    def from_arrays(cls, codes: np.ndarray, table: np.ndarray, crossing: np.ndarray) -> "BaseFriction":
        """The base friction `to_arrays` gave (the crossing None when no cell has one, as `base_friction` leaves it)."""
        if not crossing.shape[1]:
            return cls(codes, table)
        full = np.zeros(codes.shape)
        full.ravel()[crossing[0].astype(np.int64)] = crossing[1]
        return cls(codes, table, full)


def base_friction(grid: Grid, dataset: Dataset, params: FrictionParams) -> BaseFriction:
    """Friction without insecurity: the fastest road in each cell, off-road elsewhere, barriers impassable."""
    speeds = np.zeros(0)
    roads = dataset.roads
    if roads is not None and not roads.empty:
        speeds = roads["speed_kmh"].to_numpy(dtype=float)
        if params.road_speeds_kmh is not None:
            override = dict(params.road_speeds_kmh)
            speeds = roads["road_class"].map(override).fillna(roads["speed_kmh"]).to_numpy(dtype=float)
    levels = np.unique(np.append(np.maximum(speeds, params.offroad_kmh), params.offroad_kmh))  # sorted speeds
    table = np.append(minutes_per_metre(levels), np.inf)
    dtype = np.uint8 if len(table) <= 1 << 8 else np.uint16
    offroad = int(np.searchsorted(levels, params.offroad_kmh))
    if speeds.size:
        order = np.argsort(speeds, kind="stable")  # faster roads burnt last win the cell
        codes = grid.rasterize(roads.geometry.iloc[order], np.searchsorted(levels, np.maximum(speeds, params.offroad_kmh))[order],
                               fill=offroad, dtype=np.dtype(dtype).name)
    else:
        codes = np.full(grid.shape, offroad, dtype=dtype)
    barriers = barrier_cells(grid, dataset, params)
    crossing = None
    if barriers is not None:
        codes[barriers[0]] = len(table) - 1
        crossing = barriers[1] if barriers[1].any() else None
    return BaseFriction(codes, table, crossing)


def build_friction(grid: Grid, dataset: Dataset, as_of: pd.Timestamp, params: FrictionParams,
                   conflict: ConflictParams, base: BaseFriction | None = None, block_rows: int = 512,
                   placed: PlacedIncidents | None = None, out: np.ndarray | None = None) -> Friction:
    """The full friction surface on `as_of`: base friction times the insecurity multiplier (built in blocks
    of rows, so no whole-grid temporaries; the multiplier only between the first and last column of a block
    with any risk: it is 1 elsewhere). `placed`: the dataset's incidents already on `grid`. `out`: a float64
    array of the grid's shape to write the minutes into (a search's `surface_buffer`)."""
    base = base_friction(grid, dataset, params) if base is None else base
    risk = risk_surface(grid, dataset.incidents, as_of, conflict, placed)
    minutes = np.empty(grid.shape) if out is None else out
    for start in range(0, grid.shape[0], block_rows):
        rows = slice(start, start + block_rows)
        minutes[rows] = base[rows]
        columns = risk.columns(rows)
        if columns.stop > columns.start:
            minutes[rows, columns] *= risk_multiplier(risk.rows(rows, columns), conflict)
    return Friction(minutes, risk, base.crossing)
