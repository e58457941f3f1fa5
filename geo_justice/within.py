"""Persons within each travel-time threshold, per region and in all, in one compiled pass over the grid."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _band_sums(minutes, population, region, regions, limits, sums):
    """Add each cell's persons (2-D arrays, any strides: a search's minutes are a view) to (its region, the first threshold it is within); region -1 or no region
    array: the extra row `regions`; cells beyond every threshold are not counted."""
    last = limits[limits.shape[0] - 1]
    for r in range(minutes.shape[0]):
        for c in range(minutes.shape[1]):
            m = minutes[r, c]
            if not m <= last:  # beyond the largest threshold, or unreached (inf)
                continue
            band = 0
            while m > limits[band]:
                band += 1
            row = regions
            if region.shape[0] > 0 and region[r, c] >= 0:
                row = region[r, c]
            sums[row, band] += population[r, c]


def persons_within(minutes: np.ndarray, population: np.ndarray, thresholds: Sequence[float],
                   region: np.ndarray | None = None, regions: int = 0) -> np.ndarray:
    """Persons within each threshold (rows: ascending thresholds) per region (columns 0..regions-1, from the
    per-cell `region` index, -1 for none) and in all (the last column)."""
    limits = np.asarray(thresholds, dtype=np.float64)
    if limits.ndim != 1 or limits.size == 0 or (np.diff(limits) <= 0).any():
        raise ValueError(f"thresholds must be ascending and not empty, not {list(thresholds)}")
    if np.ndim(minutes) != 2 or np.shape(population) != np.shape(minutes) or (
            region is not None and np.shape(region) != np.shape(minutes)):
        raise ValueError("minutes, population and region must be 2-D arrays of the same shape")
    sums = np.zeros((regions + 1, limits.size))
    index = np.zeros((0, 0), dtype=np.int32) if region is None else region
    _band_sums(minutes, population, index, regions, limits, sums)
    within = np.cumsum(sums, axis=1).T  # (T, regions + none)
    return np.column_stack([within[:, :regions], within.sum(axis=1)])
