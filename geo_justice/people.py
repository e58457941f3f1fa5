"""People of the analysis year: the dataset's population surface, clipped to the country and scaled per
region to published figures for the year (layers.population_figures), with the label every head count
carries ("people, 2023 estimate (...) from INSTAT RGPH 2009 and INSTAT RGPH5 2022").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from layers.boundaries import matcher
from layers.catalog import Dataset
from layers.population_figures import estimate

from .grid import Grid


@dataclass(frozen=True)
class People:
    """Which people a head count counts: their year, the label to print with it, warnings for the user."""

    year: int | None
    label: str
    warnings: list[str] = field(default_factory=list)
    regions: dict[str, float] = field(default_factory=dict)  # published or estimated persons per region

    def as_dict(self) -> dict:
        return {"year": self.year, "label": self.label, "warnings": list(self.warnings)}


def analysis_year(as_of: str) -> int:
    return pd.Timestamp(as_of).year


def people_of(dataset: Dataset, as_of: str) -> People:
    """The people a count on `as_of` is of: scaled to the figures' estimate of that year when the dataset has
    figures; else the raster's own year, as it is."""
    name = dataset.population_path.name if dataset.population_path else "population"
    if dataset.population_figures is None:
        year = dataset.population_year
        stated = f"{year}" if year else "year not stated"
        return People(year, f"people, {stated} ({name} as given)")
    found = estimate(dataset.population_figures, analysis_year(as_of))
    return People(found.year, found.label, found.warnings, found.regions)


def scale_to_figures(values: np.ndarray, grid: Grid, dataset: Dataset, people: People, block_rows: int = 512) -> np.ndarray:
    """Persons per cell scaled so that each admin1 region holds its figure for the year; cells in no region
    follow the ratio of all regions together. Without an admin1 layer the whole surface is scaled to the
    national figure; unchanged when the dataset has no figures. `values` is scaled in place (in blocks of
    rows: no whole-grid temporaries) and returned."""
    admin = dataset.admin.get(1)
    if not people.regions:
        return values
    if admin is None:
        total = values.sum()
        if total > 0:
            values *= sum(people.regions.values()) / total
        return values
    names = matcher(admin)
    position = {name: i for i, name in enumerate(admin["name"])}
    index = grid.rasterize(admin.geometry, np.arange(len(admin)), fill=-1, dtype="int16" if len(admin) < 1 << 15 else "int32",
                           all_touched=False)
    blocks = [slice(start, start + block_rows) for start in range(0, grid.shape[0], block_rows)]
    current = np.zeros(len(admin))
    for rows in blocks:  # added one by one in the grid's order: the same sums as np.bincount's
        inside = index[rows] >= 0
        np.add.at(current, index[rows][inside], values[rows][inside])
    target = current.copy()
    for area, persons in people.regions.items():
        target[position[names.match(area)]] = persons
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(current > 0, target / current, 1.0)
    outside = target[current > 0].sum() / current.sum() if current.sum() > 0 else 1.0
    for rows in blocks:
        part, region = values[rows], index[rows]
        inside = region >= 0
        part[inside] *= factor[region[inside]]
        part[~inside] *= outside
    return values


def inside_country(grid: Grid, dataset: Dataset) -> np.ndarray | None:
    """Cells whose centre lies in the country (the `country` layer, else the union of the boundaries); None
    when the dataset has neither, meaning every cell counts."""
    outline = dataset.country if dataset.country is not None else dataset.boundaries
    if outline is None:
        return None
    return grid.rasterize(outline.geometry, 1, fill=0, dtype="uint8", all_touched=False) > 0
