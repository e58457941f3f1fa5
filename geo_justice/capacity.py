"""Capacity: how many people a facility can serve, who is served when facilities have limits, and the
two-step floating catchment area (2SFCA / E2SFCA) accessibility index.

Capacity-limited coverage follows AccessMod's geographic coverage analysis (Ray & Ebener, "AccessMod 3.0:
computing geographic coverage and accessibility to health care services using anisotropic movement of
patients", Int. J. Health Geographics 7:63, 2008; AccessMod 5 user manual, WHO): facilities are taken one
at a time in a stated order; each serves the people still unserved within `threshold` minutes of it,
nearest first, until its capacity is used up (the last cell it reaches is served in part); what it served
is removed before the next facility's turn. People within reach of some facility but left unserved are
over capacity; people beyond the threshold of every facility are out of reach.

The accessibility index follows PySAL access's `two_stage_fca` (Luo & Wang 2003; enhanced with step
weights by Luo & Qi 2009): R_j = S_j / sum_k W(d_kj) P_k over demand cells k within the threshold of j,
then A_i = sum_j W(d_ij) R_j over facilities j within the threshold of cell i. W = 1 for 2SFCA; E2SFCA's
steps are 1, 0.68 and 0.22 up to a third, two thirds and all of the threshold (PySAL's default weights,
scaled to the threshold).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

ORDERS = ("capacity", "priority", "population")
#: E2SFCA step weights up to 1/3, 2/3 and 3/3 of the threshold (Luo & Qi 2009; PySAL access's default).
E2SFCA_STEPS = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))


@dataclass(frozen=True)
class CapacityParams:
    """How a facility's figures become persons served, and the processing order. Every ratio is an assumption
    of the user's (defaults stated in the README), part of the run manifest.

    threshold: minutes within which a facility can serve a person; order: capacity (largest first), priority
    (the ids in `priority` first, in that order, then by capacity) or population (most people within reach
    first); persons_per_case: persons one case a year serves (the inverse of cases per person a year);
    cases_per_judge: cases a judge handles a year; cases_per_hearing: cases a hearing session handles.
    """

    threshold: float = 120.0
    order: str = "capacity"
    priority: tuple[str, ...] = ()
    persons_per_case: float = 200.0
    cases_per_judge: float = 300.0
    cases_per_hearing: float = 5.0

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {self.order!r}")
        for name in ("threshold", "persons_per_case", "cases_per_judge", "cases_per_hearing"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        if self.order == "priority" and not self.priority:
            raise ValueError("order 'priority' needs the facility ids to process first (priority)")
        object.__setattr__(self, "priority", tuple(self.priority))


def court_capacity(facilities: pd.DataFrame, params: CapacityParams) -> pd.DataFrame:
    """Per facility: cases a year it can handle and the persons that serves, and what the figure rests on.

    cases_per_year when known, else judges x cases_per_judge, else hearings_per_year x cases_per_hearing;
    none known: unlimited (capacity NaN, basis 'unknown'), so a missing figure never hides a court.
    """
    def column(name: str) -> np.ndarray:
        return pd.to_numeric(facilities[name], errors="coerce").to_numpy(float) if name in facilities else np.full(len(facilities), np.nan)

    cases, judges, hearings = column("cases_per_year"), column("judges"), column("hearings_per_year")
    capacity = np.where(~np.isnan(cases), cases, np.where(~np.isnan(judges), judges * params.cases_per_judge,
                                                          hearings * params.cases_per_hearing))
    basis = np.select([~np.isnan(cases), ~np.isnan(judges), ~np.isnan(hearings)],
                      ["cases_per_year", "judges", "hearings_per_year"], "unknown")
    return pd.DataFrame({"capacity_cases": capacity, "capacity_persons": capacity * params.persons_per_case,
                         "capacity_basis": basis}, index=facilities.index)


@dataclass(frozen=True)
class Reach:
    """Per facility, the flat grid cells within the threshold and their minutes from it."""

    cells: list[np.ndarray]
    minutes: list[np.ndarray]


@dataclass(frozen=True)
class Allocation:
    order: np.ndarray           # facility indices in processing order
    within_reach: np.ndarray    # per facility: unserved persons within reach at its turn
    served: np.ndarray          # per facility: persons it served
    served_cells: np.ndarray    # flat: persons served per cell
    label: np.ndarray           # flat: the facility that served most of each cell, -1 where none


def processing_order(params: CapacityParams, ids: Sequence[str], capacity: np.ndarray, reachable: np.ndarray) -> np.ndarray:
    """Facility indices in AccessMod's order: capacity (largest first, unknown last), priority (the named ids
    first, then by capacity) or population (most persons within reach first). Ties keep the data's order."""
    by_capacity = np.lexsort((np.arange(len(ids)), -np.nan_to_num(capacity, nan=-1.0)))
    by_capacity = np.concatenate([by_capacity[~np.isnan(capacity[by_capacity])], by_capacity[np.isnan(capacity[by_capacity])]])
    if params.order == "population":
        return np.lexsort((np.arange(len(ids)), -reachable))
    if params.order == "priority":
        position = {i: n for n, i in enumerate(ids)}
        unknown = [i for i in params.priority if i not in position]
        if unknown:
            raise ValueError(f"priority: no counting facility with id {unknown[0]!r}")
        first = [position[i] for i in params.priority]
        return np.array(first + [j for j in by_capacity if j not in set(first)], dtype=np.int64)
    return by_capacity


def allocate(reach: Reach, population: np.ndarray, capacity: np.ndarray, order: np.ndarray) -> Allocation:
    """Serve the flat `population` facility by facility in `order`, each up to `capacity` persons (NaN: no limit),
    nearest unserved people first; a cell at the edge of what a facility can take is served in part."""
    remaining = population.astype(np.float64).copy()
    served_cells = np.zeros_like(remaining)
    best = np.zeros_like(remaining)
    label = np.full(remaining.shape, -1, dtype=np.int32)
    within = np.zeros(len(capacity))
    served = np.zeros(len(capacity))
    for j in order:
        cells, minutes = reach.cells[j], reach.minutes[j]
        cells = cells[np.argsort(minutes, kind="stable")]
        people = remaining[cells]
        within[j] = people.sum()
        limit = capacity[j]
        if np.isnan(limit) or within[j] <= limit:
            take = people
        else:
            before = np.cumsum(people) - people  # persons already taken before each cell
            take = np.clip(limit - before, 0.0, people)
        remaining[cells] -= take
        served_cells[cells] += take
        served[j] = take.sum()
        better = take > best[cells]
        best[cells[better]], label[cells[better]] = take[better], j
    return Allocation(order, within, served, served_cells, label)


def step_weights(minutes: np.ndarray, threshold: float) -> np.ndarray:
    """E2SFCA weights: 1, 0.68, 0.22 up to a third, two thirds and all of the threshold (inclusive), 0 beyond."""
    out = np.zeros(minutes.shape)
    for share, weight in reversed(E2SFCA_STEPS):
        out[minutes <= share * threshold] = weight
    return out


def two_step_fca(reach: Reach, population: np.ndarray, supply: np.ndarray, threshold: float, *,
                 enhanced: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(A per flat cell, R per facility): PySAL access's two-stage FCA over the reach within `threshold`.

    A facility with no supply figure (NaN) supplies 0, as in PySAL; one with no demand in reach has R = 0.
    """
    supply = np.nan_to_num(np.asarray(supply, dtype=np.float64), nan=0.0)
    weights = [step_weights(m, threshold) if enhanced else (m <= threshold).astype(np.float64) for m in reach.minutes]
    demand = np.array([float((w * population[c]).sum()) for c, w in zip(reach.cells, weights)])
    ratio = np.divide(supply, demand, out=np.zeros_like(supply), where=demand > 0)
    score = np.zeros(population.shape, dtype=np.float64)
    for j, (cells, w) in enumerate(zip(reach.cells, weights)):
        score[cells] += w * ratio[j]  # a facility reaches each cell once
    return score, ratio
