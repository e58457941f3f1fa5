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


def population_within(accesses: Sequence[Access], regions: Regions, thresholds: Sequence[float],
                      block: int = 1 << 22) -> list[np.ndarray]:
    """Per answer (all on one population surface), persons within each threshold (rows) per region (columns),
    the last column the total over all cells.

    One pass over the grid's populated cells (in blocks of about `block` cells): each cell falls in the band
    of the first threshold it is within, band sums are accumulated per region, and their running sums give
    the counts. Cells without people add nothing, so leaving them out changes no sum."""
    limits = np.asarray(thresholds, dtype=np.float64)
    n, bands = len(regions.names), len(limits) + 1
    sums = [np.zeros((n + 1) * bands) for _ in accesses]
    index, population = regions.index.ravel(), accesses[0].population.ravel()
    for start in range(0, index.size, block):
        part = slice(start, start + block)
        people = np.flatnonzero(population[part])
        weights = population[part][people]
        region = index[part][people].astype(np.int64)
        region[region < 0] = n  # outside every region: only in the total
        region *= bands
        for access, total in zip(accesses, sums):
            minutes = flat_part(access.minutes, start, start + block)[people]
            band = np.searchsorted(limits, minutes, side="left")  # first T with minutes <= T; len(T) if none
            total += np.bincount(region + band, weights, minlength=total.size)
    out = []
    for total in sums:
        within = np.cumsum(total.reshape(n + 1, bands)[:, :-1], axis=1)  # (regions + outside, T)
        out.append(np.column_stack([within[:n].T, within.sum(axis=0)]))
    return out


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
    columns = {"region": regions.names + [ALL], "population": totals}
    if nominal.population is actual.population:  # one pass for both
        found = population_within([nominal, actual], regions, thresholds)
    else:
        found = population_within([nominal], regions, thresholds) + population_within([actual], regions, thresholds)
    within = dict(zip(("nominal", "actual"), found))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, t in enumerate(thresholds):
            name = f"{t:g}"
            columns[f"nominal_{name}"] = within["nominal"][i]
            columns[f"actual_{name}"] = within["actual"][i]
            columns[f"nominal_share_{name}"] = np.where(totals > 0, within["nominal"][i] / totals, np.nan)
            columns[f"actual_share_{name}"] = np.where(totals > 0, within["actual"][i] / totals, np.nan)
            columns[f"lost_{name}"] = within["nominal"][i] - within["actual"][i]
    return pd.DataFrame(columns)  # built in one go: a column at a time costs more than the sums
