"""Insecurity risk from incidents: recent, fatality-weighted, decaying with age, smoothed with a kernel."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numba import njit

from .defaults import AVOID_RISK, BANDWIDTH_KM, CONFLICT_MODE, CONFLICT_WINDOW_DAYS, HALF_LIFE_DAYS, PENALTY
from .grid import Grid
from .licence_floors import CELL, MINIMUM, above_floor

TRUNCATE = 3.0  # the smoothing kernel reaches this many standard deviations

ConflictMode = Literal["off", "penalty", "avoid"]


@dataclass(frozen=True)
class ConflictParams:
    """How incidents slow or stop travel. Risk is in weighted incidents per 1,000 km².

    - window_days: incidents in this many days before the analysis date count (365).
    - half_life_days: an incident's weight halves every this many days of age (180).
    - fatality_weight: an incident weighs 1 + fatality_weight x fatalities (0.5).
    - bandwidth_km: standard deviation of the Gaussian smoothing kernel (25).
    - penalty: travel time is multiplied by 1 + penalty x (1 - exp(-risk / risk_scale)), so at most by
      1 + penalty (1.0, i.e. up to twice as slow).
    - risk_scale: the risk at which 63% of the penalty applies (5 per 1,000 km²).
    - avoid_risk: in "avoid" mode, cells above this risk are impassable (20 per 1,000 km²).
    """

    mode: ConflictMode = CONFLICT_MODE
    window_days: int = CONFLICT_WINDOW_DAYS
    half_life_days: float = HALF_LIFE_DAYS
    fatality_weight: float = 0.5
    bandwidth_km: float = BANDWIDTH_KM
    penalty: float = PENALTY
    risk_scale: float = 5.0
    avoid_risk: float = AVOID_RISK

    def __post_init__(self) -> None:
        if self.mode not in ("off", "penalty", "avoid"):
            raise ValueError(f"conflict mode must be off, penalty or avoid, not {self.mode!r}")
        for name in ("window_days", "half_life_days", "fatality_weight", "bandwidth_km", "penalty", "risk_scale", "avoid_risk"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"conflict {name} must be a finite number, not {getattr(self, name)}")
        for name in ("window_days", "half_life_days", "bandwidth_km", "risk_scale", "avoid_risk"):
            if getattr(self, name) <= 0:
                raise ValueError(f"conflict {name} must be positive, not {getattr(self, name)}")
        for name in ("fatality_weight", "penalty"):
            if getattr(self, name) < 0:
                raise ValueError(f"conflict {name} must not be negative, not {getattr(self, name)}")


def recent_incidents(incidents: gpd.GeoDataFrame, as_of: pd.Timestamp, window_days: int) -> gpd.GeoDataFrame:
    """Incidents dated in (as_of - window_days, as_of], without cells under their licence floor (public view)."""
    start = as_of - pd.Timedelta(days=window_days)
    return above_floor(incidents[(incidents["date"] > start) & (incidents["date"] <= as_of)])


@dataclass(frozen=True)
class PlacedIncidents:
    """Every incident's date, fatalities (0 where unknown) and cell on one grid, found once: a timeline's dates then
    select their windows from these arrays instead of filtering and projecting the incidents again. Rows keep
    the incidents' order, so a window's sums add up in the same order as `recent_incidents` gives."""

    dates: np.ndarray  # datetime64[ns]
    fatalities: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    inside: np.ndarray
    floor_cell: np.ndarray  # per incident, its licence-floor cell's code, -1 where no floor applies
    floor_min: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.dates, self.fatalities, self.rows, self.cols, self.inside, self.floor_cell,
                                      self.floor_min))

    def window(self, as_of: pd.Timestamp, window_days: int) -> np.ndarray:
        """Indices of the incidents `recent_incidents` keeps for the same window (in the incidents' order)."""
        end = np.datetime64(as_of, "ns")
        start = end - np.timedelta64(window_days, "D")
        chosen = np.flatnonzero((self.dates > start) & (self.dates <= end))
        cell = self.floor_cell[chosen]
        if (cell < 0).all():
            return chosen
        counts = np.bincount(cell[cell >= 0], minlength=int(self.floor_cell.max()) + 1)
        return chosen[(cell < 0) | (counts[np.maximum(cell, 0)] >= self.floor_min[chosen])]

    def weights(self, chosen: np.ndarray, as_of: pd.Timestamp, params: ConflictParams) -> np.ndarray:
        """The weights of the incidents `chosen` on `as_of`: 1 + fatality_weight x fatalities, halved every
        half_life_days of age (whole days)."""
        age = ((np.datetime64(as_of, "ns") - self.dates[chosen]) // np.timedelta64(1, "D")).astype(float)
        return (1 + params.fatality_weight * self.fatalities[chosen]) * 0.5 ** (age / params.half_life_days)


def place_incidents(grid: Grid, incidents: gpd.GeoDataFrame) -> PlacedIncidents:
    """The incidents on `grid` (see `PlacedIncidents`)."""
    rows, cols, inside = grid.cells(incidents.geometry)
    if CELL in incidents.columns:
        codes, _ = pd.factorize(incidents[CELL])  # -1 for rows without a floor cell
        minimum = incidents[MINIMUM].to_numpy(dtype=np.int64)
    else:
        codes, minimum = np.full(len(incidents), -1), np.zeros(len(incidents), dtype=np.int64)
    return PlacedIncidents(incidents["date"].to_numpy(dtype="datetime64[ns]"),
                           incidents["fatalities"].fillna(0).to_numpy(dtype=float), rows, cols, inside,
                           np.asarray(codes, dtype=np.int64), minimum)


@dataclass(frozen=True)
class RiskSurface:
    """Weighted incidents per 1,000 km² per cell of a grid (float32 values), held as the smoothed surface on
    blocks of cells already interpolated along the columns (`wide`: one row per block of rows, float64).

    Any cell, block of rows or the whole grid is read by linear interpolation between those rows: the same
    values as a whole-grid array, without holding 4 bytes a cell (1.1 GiB for Mali at 100 m). `wide` None:
    no risk anywhere."""

    shape: tuple[int, int]
    block: int = 1
    wide: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return 0 if self.wide is None else self.wide.nbytes

    def rows(self, part: slice, columns: slice = slice(None)) -> np.ndarray:
        """The rows `part` of the grid (of its `columns` only), float32."""
        start, stop, _ = part.indices(self.shape[0])
        first, last, _ = columns.indices(self.shape[1])
        if self.wide is None:
            return np.zeros((max(stop - start, 0), max(last - first, 0)), dtype=np.float32)
        return _upsample(self.wide[:, first:last], self.block, self.shape[0], axis=0,
                         rows=slice(start, stop)).astype(np.float32)

    def columns(self, part: slice) -> slice:
        """The columns outside which the rows `part` have no risk (an empty slice: none anywhere in them)."""
        start, stop, _ = part.indices(self.shape[0])
        if self.wide is None or stop <= start:
            return slice(0, 0)
        low, high, _ = _between(np.array([start, stop - 1]), self.block, self.wide.shape[0])
        some = np.flatnonzero(self.wide[low[0]:high[1] + 1].any(axis=0))
        return slice(int(some[0]), int(some[-1]) + 1) if some.size else slice(0, 0)

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The values of the cells (rows[i], cols[i]), float32."""
        rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
        if self.wide is None:
            return np.zeros(np.broadcast(rows, cols).shape, dtype=np.float32)
        low, high, weight = _between(rows, self.block, self.wide.shape[0])
        return _lerp(self.wide[low, cols], self.wide[high, cols], weight).astype(np.float32)

    def values(self, block_rows: int = 512) -> np.ndarray:
        """The whole grid, float32 (built in blocks of rows: no float64 temporaries of the grid's size)."""
        out = np.empty(self.shape, dtype=np.float32)
        for start in range(0, self.shape[0], block_rows):
            part = slice(start, min(start + block_rows, self.shape[0]))
            out[part] = self.rows(part)
        return out


def risk_surface(grid: Grid, incidents: gpd.GeoDataFrame | None, as_of: pd.Timestamp, params: ConflictParams,
                 placed: PlacedIncidents | None = None) -> RiskSurface:
    """Weighted incidents per 1,000 km², smoothed with a Gaussian kernel of `bandwidth_km`. `placed`: the
    incidents already on `grid` (`place_incidents`), for many dates."""
    if incidents is None or params.mode == "off":
        return RiskSurface(grid.shape)
    placed = place_incidents(grid, incidents) if placed is None else placed
    chosen = placed.window(as_of, params.window_days)
    if chosen.size == 0:
        return RiskSurface(grid.shape)
    chosen = chosen[placed.inside[chosen]]
    if chosen.size == 0:  # every incident of the window lies beyond the grid
        return RiskSurface(grid.shape)
    # smooth on blocks of about a quarter of the bandwidth, then interpolate back: same surface, far less work
    block = max(1, int(params.bandwidth_km * 1000 / (4 * grid.cell_size)))
    coarse = np.zeros((-(-grid.shape[0] // block), -(-grid.shape[1] // block)))
    rows, cols = placed.rows[chosen] // block, placed.cols[chosen] // block
    np.add.at(coarse, (rows, cols), placed.weights(chosen, as_of, params))
    sigma = params.bandwidth_km * 1000 / (grid.cell_size * block)
    # smoothed only where the kernel reaches: beyond its radius of every incident the surface is 0, and the
    # window's edges inside the grid read zeros, as the whole grid's cells there are
    radius = _radius(sigma)
    near = (slice(max(rows.min() - radius, 0), rows.max() + radius + 1),
            slice(max(cols.min() - radius, 0), cols.max() + radius + 1))
    coarse[near] = gaussian_filter(coarse[near], sigma)
    coarse *= 1000 / (grid.cell_area_km2 * block**2)  # weighted incidents per 1,000 km²
    return RiskSurface(grid.shape, block, _upsample(coarse, block, grid.shape[1], axis=1))


def _radius(sigma: float) -> int:
    """The Gaussian kernel's radius in cells (scipy.ndimage's rule)."""
    return int(TRUNCATE * sigma + 0.5)


def gaussian_filter(values: np.ndarray, sigma: float) -> np.ndarray:
    """`scipy.ndimage.gaussian_filter(values, sigma, mode="constant", truncate=TRUNCATE)` of a 2-D array, bit for bit
    (the same weights, summed in scipy's order: the centre, then each symmetric pair from the farthest in; rows,
    then columns), without importing scipy.ndimage: a fifth of a second of every command's start-up."""
    radius = _radius(sigma)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 / (sigma * sigma) * offsets**2)
    weights /= weights.sum()
    half = weights[radius:]
    down = _smooth_down(np.ascontiguousarray(values, dtype=np.float64), half)
    return _smooth_down(np.ascontiguousarray(down.T), half).T  # the columns: the same pass over the transpose


@njit(cache=True, nogil=True)
def _smooth_down(values, half):
    """Along the rows' axis: values[r] h0 + sum over j = k..1 of (values[r - j] + values[r + j]) hj, zeros beyond
    the edges (`half`: the centre weight, then the weights 1..k cells away). A side beyond the edge adds nothing to
    its pair ((x + 0) h is x h), and a pair wholly beyond adds 0 (the values are not negative)."""
    rows, cols = values.shape
    out = np.empty_like(values)
    for r in range(rows):
        into = out[r]
        into[:] = values[r] * half[0]
        for j in range(half.shape[0] - 1, 0, -1):
            h = half[j]
            if r - j >= 0 and r + j < rows:
                up, down = values[r - j], values[r + j]
                for c in range(cols):
                    into[c] += (up[c] + down[c]) * h
            elif r - j >= 0 or r + j < rows:
                side = values[r - j] if r - j >= 0 else values[r + j]
                for c in range(cols):
                    into[c] += side[c] * h
    return out


def _between(fine: np.ndarray, block: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For fine cell indices, the two block-averaged cells around their centres and the weight of the second."""
    position = np.clip((fine + 0.5) / block - 0.5, 0, count - 1)
    low = np.floor(position).astype(np.intp)
    return low, np.minimum(low + 1, count - 1), position - low


def _upsample(values: np.ndarray, block: int, size: int, axis: int, rows: slice = slice(None)) -> np.ndarray:
    """Linear interpolation of block-averaged `values` back to `size` fine cells along `axis` (only the
    fine cells `rows` of them)."""
    if block == 1:  # each cell is its own block: the interpolation gives every value back (weight 0)
        return values[(slice(None),) * axis + (rows,)]
    low, high, weight = _between(np.arange(size)[rows], block, values.shape[axis])
    weight = weight.reshape([-1 if a == axis else 1 for a in range(values.ndim)])
    return _lerp(np.take(values, low, axis=axis), np.take(values, high, axis=axis), weight)


def _lerp(low: np.ndarray, high: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """low + weight of the way to high, in the one order of operations every reader of the risk uses (so a cell
    read alone equals the same cell read with the whole grid, bit for bit)."""
    return low * (1 - weight) + high * weight


def risk_multiplier(risk: np.ndarray, params: ConflictParams) -> np.ndarray:
    """Factor on travel time per cell: 1 where risk is 0, rising to 1 + penalty; inf above avoid_risk in avoid mode."""
    if params.mode == "off":
        return np.ones_like(risk)
    factor = 1 + params.penalty * -np.expm1(-risk / params.risk_scale)
    if params.mode == "avoid":
        factor[risk > params.avoid_risk] = np.inf
    return factor
