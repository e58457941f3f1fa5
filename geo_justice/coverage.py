"""Coverage(T): population and share within T minutes of a counting facility, overall and per region."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .access import Access, Regions

ALL = "All"


def flat_part(array: np.ndarray, start: int, stop: int) -> np.ndarray:
    """`array.ravel()[start:stop]` without raveling the whole array (a copy when it is a view into a larger one,
    as a search's minutes are): only the rows it spans are copied."""
    cols = array.shape[1]
    first = start // cols
    return array[first:-(-stop // cols)].ravel()[start - first * cols:stop - first * cols]


def population_within(access: Access, regions: Regions, thresholds: Sequence[float], block: int = 1 << 22) -> np.ndarray:
    """Persons within each threshold (rows) per region (columns), the last column the total over all cells.

    One pass over the grid (in blocks of about `block` cells): each cell falls in the band of the first
    threshold it is within, band sums are accumulated per region, and their running sums give the counts."""
    limits = np.asarray(thresholds, dtype=np.float64)
    n, bands = len(regions.names), len(limits) + 1
    sums = np.zeros((n + 1) * bands)
    index, population = regions.index.ravel(), access.population.ravel()
    for start in range(0, index.size, block):
        part = slice(start, start + block)
        region = index[part].astype(np.int64)
        region[region < 0] = n  # outside every region: only in the total
        minutes = flat_part(access.minutes, start, start + block)
        band = np.searchsorted(limits, minutes, side="left")  # first T with minutes <= T; len(T) if none
        sums += np.bincount(region * bands + band, population[part], minlength=sums.size)
    per_region = sums.reshape(n + 1, bands)
    within = np.cumsum(per_region[:, :-1], axis=1)  # (regions + outside, T)
    return np.column_stack([within[:n].T, within.sum(axis=0)])


def region_sums(values: np.ndarray, regions: Regions, block: int = 1 << 22) -> np.ndarray:
    """Per region, the sum of `values` over its cells: added one by one in the grid's order, as `np.bincount`
    adds them (the same floating-point result), in blocks of about `block` cells (bounded temporaries)."""
    sums = np.zeros(len(regions.names))
    index, flat = regions.index.ravel(), values.ravel()
    for start in range(0, flat.size, block):
        part = slice(start, start + block)
        region = index[part]
        inside = region >= 0
        np.add.at(sums, region[inside], flat[part][inside])
    return sums


def coverage_table(nominal: Access, actual: Access, regions: Regions, thresholds: Sequence[float]) -> pd.DataFrame:
    """Per region (and 'All'): population; persons and share within each T, nominal and actual; access lost.

    Columns: region, population, then per T: nominal_T, actual_T, nominal_share_T, actual_share_T, lost_T
    (lost = nominal - actual: people who lose access through closure or relocation).
    """
    population = actual.population
    totals = np.append(region_sums(population, regions), population.sum())
    table = pd.DataFrame({"region": regions.names + [ALL], "population": totals})
    within = {"nominal": population_within(nominal, regions, thresholds),
              "actual": population_within(actual, regions, thresholds)}
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, t in enumerate(thresholds):
            name = f"{t:g}"
            table[f"nominal_{name}"] = within["nominal"][i]
            table[f"actual_{name}"] = within["actual"][i]
            table[f"nominal_share_{name}"] = np.where(totals > 0, table[f"nominal_{name}"] / totals, np.nan)
            table[f"actual_share_{name}"] = np.where(totals > 0, table[f"actual_{name}"] / totals, np.nan)
            table[f"lost_{name}"] = table[f"nominal_{name}"] - table[f"actual_{name}"]
    return table
