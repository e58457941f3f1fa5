"""Published population figures (censuses, official projections, UN estimates) and the people of a year.

A dataset's population raster is a surface of one year; `population_figures.csv` holds published totals
per region and for the country, each row with its source. `estimate(figures, year)` gives the persons
per region for the analysis year:

1. Each year with figures is completed. A year with a figure for every region uses them. A year with a
   national total and some regions missing or incomplete (`kind` census_partial: only some of the parts
   the region was later split into were published) gives those regions their published part plus a share
   of the national remainder, in proportion to how far their part falls short of the region's figure of
   the reference year (the latest complete year) grown at the average rate of the incomplete regions.
2. Between completed years each region grows geometrically (a constant yearly rate).
3. Past the last (or before the first) completed year the rate of the nearest interval carries on for at
   most MAX_EXTRAPOLATION years; further out the figures of MAX_EXTRAPOLATION years on are used and a
   warning says so. With a single completed year, its figures are used as they are (with a warning).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import check_required_text, check_vocabulary, parse_numbers
from .errors import Report
from .read import read_text_table, where

#: Years the figures may be carried past the published range before the estimate stops growing.
MAX_EXTRAPOLATION = 3
KINDS = ("census", "census_partial", "projection", "estimate")
LEVELS = ("country", "region")
COLUMNS = ("area", "level", "year", "population", "kind", "citation", "source")


def read_population_figures(path: str | Path) -> pd.DataFrame:
    """The figures table, checked: columns area, level (country|region), year, population, kind, citation
    (short, printed with every head count), source (full).

    One national row per year at most; no area twice in a year. Raises LayerError naming row and field.
    """
    report = Report.for_path(path)
    table = read_text_table(Path(path), report)
    if table is None:
        report.raise_if_any()
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        report.error(None, ", ".join(missing), "required column is missing")
        report.raise_if_any()
    out = pd.DataFrame({"area": check_required_text(table, "area", report),
                        "level": check_vocabulary(table, "level", LEVELS, report),
                        "year": parse_numbers(table, "year", report, integer=True, minimum=1800, required=True),
                        "population": parse_numbers(table, "population", report, minimum=1, required=True),
                        "kind": check_vocabulary(table, "kind", KINDS, report),
                        "citation": check_required_text(table, "citation", report),
                        "source": check_required_text(table, "source", report)})
    seen: dict[tuple, int] = {}
    for i, key in enumerate(zip(out["level"], out["area"].str.casefold(), out["year"])):
        if key[0] == "country":
            key = ("country", "", key[2])
        if key in seen:
            report.error(where(table, i), "area", f"a second {key[0]} figure for {int(key[2])} (first on line {seen[key] + 2})")
        seen.setdefault(key, i)
    report.raise_if_any()
    out["year"] = out["year"].astype(int)
    return out


@dataclass(frozen=True)
class PopulationEstimate:
    """Persons per region for `year`, how they were found, and what the user must be told."""

    year: int
    regions: dict[str, float]
    national: float
    label: str
    sources: list[str]
    warnings: list[str] = field(default_factory=list)


def completed_years(figures: pd.DataFrame) -> dict[int, dict[str, float]]:
    """Per year with figures, persons in every region (rule 1 of the module's docstring); years that cannot
    be completed (no national total and regions missing) are left out."""
    regional = figures[figures["level"] == "region"]
    names = sorted(set(regional["area"]))
    national = figures[figures["level"] == "country"].set_index("year")["population"]
    years: dict[int, dict[str, float]] = {}
    partial: dict[int, pd.DataFrame] = {}
    for year, rows in regional.groupby("year"):
        full = rows[rows["kind"] != "census_partial"]
        if set(full["area"]) == set(names):
            years[int(year)] = dict(zip(full["area"], full["population"].astype(float)))
        else:
            partial[int(year)] = rows
    for year in sorted(set(national.index) - set(years)):
        rows = partial.get(int(year), regional.iloc[:0])
        reference = [y for y in years if y < year]
        if not reference:
            continue
        base = years[max(reference)]
        full = rows[rows["kind"] != "census_partial"]
        known = dict(zip(full["area"], full["population"].astype(float)))
        parts = dict(zip(rows.loc[rows["kind"] == "census_partial", "area"], rows.loc[rows["kind"] == "census_partial", "population"]))
        rest = [n for n in names if n not in known]
        remainder = float(national[year]) - sum(known.values()) - sum(parts.get(n, 0.0) for n in rest)
        growth = (float(national[year]) - sum(known.values())) / sum(base[n] for n in rest)
        shortfall = np.array([max(base[n] * growth - parts.get(n, 0.0), 0.0) for n in rest])
        share = shortfall / shortfall.sum() if shortfall.sum() > 0 else np.full(len(rest), 1 / len(rest))
        years[int(year)] = {**known, **{n: parts.get(n, 0.0) + max(remainder, 0.0) * s for n, s in zip(rest, share)}}
    return dict(sorted(years.items()))


def estimate(figures: pd.DataFrame, year: int) -> PopulationEstimate:
    """Persons per region in `year`, interpolated between published years (see the module docstring)."""
    years = completed_years(figures)
    if not years:
        raise ValueError("the population figures have no year with every region (or a national total) to scale to")
    known = sorted(years)
    used = figures[figures["year"].isin(known)]
    sources, citations = list(dict.fromkeys(used["source"])), list(dict.fromkeys(used["citation"]))
    warnings: list[str] = []
    first, last = known[0], known[-1]
    target = min(max(year, first - MAX_EXTRAPOLATION), last + MAX_EXTRAPOLATION)
    if len(known) == 1:
        target = first
    if target != year:
        warnings.append(f"population figures are published for {first}-{last}; people of {year} would need more than "
                        f"{MAX_EXTRAPOLATION} years of extrapolation, so the estimate for {target} is used")
    if target in years:
        regions, how = years[target], "published figures"
    else:
        low = max([y for y in known if y < target], default=known[0])
        high = min([y for y in known if y > target], default=known[-1])
        if low == high or target > last:
            low, high = known[-2], known[-1]
        elif target < first:
            low, high = known[0], known[1]
        t = (target - low) / (high - low)
        regions = {n: years[low][n] * (years[high][n] / years[low][n]) ** t if years[low][n] > 0 else years[high][n]
                   for n in years[low]}
        how = (f"interpolated between {low} and {high}" if first < target < last else
               f"extrapolated {abs(target - (last if target > last else first))} year(s) at each region's {low}-{high} growth rate")
    label = f"people, {target} estimate ({how}) from {' and '.join(citations)}"
    return PopulationEstimate(target, regions, float(sum(regions.values())), label, sources, warnings)
