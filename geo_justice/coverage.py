"""Coverage(T): population and share within T minutes of a counting facility, overall and per region."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .access import Access, Regions
from .within import persons_within

ALL = "All"


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


def population_totals(population: np.ndarray, regions: Regions) -> np.ndarray:
    """Persons per region, then in all."""
    return np.append(region_sums(population, regions), population.sum())


def coverage_table(nominal: Access, actual: Access, regions: Regions, thresholds: Sequence[float]) -> pd.DataFrame:
    """Per region (and 'All'): population; persons and share within each T, nominal and actual; access lost.

    Columns: region, population, then per T: nominal_T, actual_T, nominal_share_T, actual_share_T, lost_T
    (lost = nominal - actual: people who lose access through closure or relocation).
    """
    return pd.DataFrame(coverage_columns(nominal, actual, regions, thresholds))  # in one go: a column at a time costs more


def coverage_columns(nominal: Access, actual: Access, regions: Regions, thresholds: Sequence[float], *,
                     totals: np.ndarray | None = None) -> dict[str, Any]:
    """The columns of `coverage_table` (region names as a list, the rest as arrays): a timeline gathers many
    dates' columns before it makes one table. `totals`: `population_totals` of the population, when known."""
    totals = population_totals(actual.population, regions) if totals is None else totals
    columns = {"region": regions.names + [ALL], "population": totals}
    within = {mode: persons_within(access.minutes, access.population, thresholds, regions.index, len(regions.names))
              for mode, access in (("nominal", nominal), ("actual", actual))}
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, t in enumerate(thresholds):
            name = f"{t:g}"
            columns[f"nominal_{name}"] = within["nominal"][i]
            columns[f"actual_{name}"] = within["actual"][i]
            columns[f"nominal_share_{name}"] = np.where(totals > 0, within["nominal"][i] / totals, np.nan)
            columns[f"actual_share_{name}"] = np.where(totals > 0, within["actual"][i] / totals, np.nan)
            columns[f"lost_{name}"] = within["nominal"][i] - within["actual"][i]
    return columns
