"""Coverage(T): population and share within T minutes of a counting facility, overall and per region."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .access import Access, Regions

ALL = "All"


def population_within(access: Access, regions: Regions, threshold: float) -> np.ndarray:
    """Persons within `threshold` minutes per region, the last entry being the total over all cells."""
    within = access.population * (access.minutes <= threshold)
    per_region = np.bincount(regions.index[regions.index >= 0], within[regions.index >= 0], minlength=len(regions.names))
    return np.append(per_region, within.sum())


def coverage_table(nominal: Access, actual: Access, regions: Regions, thresholds: Sequence[float]) -> pd.DataFrame:
    """Per region (and 'All'): population; persons and share within each T, nominal and actual; access lost.

    Columns: region, population, then per T: nominal_T, actual_T, nominal_share_T, actual_share_T, lost_T
    (lost = nominal - actual: people who lose access through closure or relocation).
    """
    population = actual.population
    inside = regions.index >= 0
    totals = np.append(np.bincount(regions.index[inside], population[inside], minlength=len(regions.names)), population.sum())
    table = pd.DataFrame({"region": regions.names + [ALL], "population": totals})
    with np.errstate(invalid="ignore", divide="ignore"):
        for t in thresholds:
            name = f"{t:g}"
            table[f"nominal_{name}"] = population_within(nominal, regions, t)
            table[f"actual_{name}"] = population_within(actual, regions, t)
            table[f"nominal_share_{name}"] = np.where(totals > 0, table[f"nominal_{name}"] / totals, np.nan)
            table[f"actual_share_{name}"] = np.where(totals > 0, table[f"actual_{name}"] / totals, np.nan)
            table[f"lost_{name}"] = table[f"nominal_{name}"] - table[f"actual_{name}"]
    return table
