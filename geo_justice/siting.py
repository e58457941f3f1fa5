"""Siting: where K new courts or mobile hearing points would bring the most people within T minutes.

Maximal covering: each candidate covers the people beyond T today whom it would reach within T. The
greedy choice with lazy evaluation is within (1 - 1/e) of the optimum (the objective is monotone and
submodular), and after the fact within f(S) / (f(S) + the K largest remaining gains), usually much
tighter. Small instances are also solved exactly as an integer program (SciPy's HiGHS).

With capacities (`capacitated_greedy`), each new site serves the nearest people still unserved within T up
to its capacity, as courts do in capacity-limited coverage; the greedy picks the largest gain each time.
No approximation guarantee is claimed there: who a site serves depends on the sites picked before it.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy

import geopandas as gpd

from layers.catalog import Dataset

from .access import Access, Engine
from .cancel import checkpoint
from .places import Place, find_place, gazetteer
from .scenarios import point_reach

GREEDY_GUARANTEE = 1 - 1 / math.e
#: Largest candidates x cells incidence the exact solver builds.
MAX_EXACT_CELLS = 50_000_000


@dataclass(frozen=True)
class Coverage:
    """Candidates and the weighted people (of a common universe) each one newly covers."""

    candidates: list[Place]
    sets: list[np.ndarray]  # per candidate: indices into `weights`
    weights: np.ndarray     # weighted people per universe element (cell)

    def value(self, chosen: Sequence[int]) -> float:
        if not chosen:
            return 0.0
        return float(self.weights[np.unique(np.concatenate([self.sets[j] for j in chosen]))].sum())


@dataclass(frozen=True)
class Siting:
    chosen: list[int]          # candidate indices in the order picked (fixed ones first)
    gains: list[float]         # marginal weighted people of each pick
    value: float
    upper_bound: float         # no choice of the same size covers more than this
    exact: float | None = None  # the optimum, when solved exactly

    @property
    def guarantee(self) -> float:
        """A proven lower bound on value / optimum: the better of 1 - 1/e and value / upper_bound."""
        return max(GREEDY_GUARANTEE, self.value / self.upper_bound) if self.upper_bound > 0 else 1.0


def greedy(coverage: Coverage, k: int, fixed: Sequence[int] = ()) -> Siting:
    """K more picks after `fixed`, each the largest marginal gain, re-evaluating stale gains only when they top the heap."""
    if k < 0 or k + len(fixed) > len(coverage.candidates):
        raise ValueError(f"cannot choose {k} sites among {len(coverage.candidates) - len(fixed)} free candidates")
    covered = np.zeros(coverage.weights.shape, dtype=bool)
    chosen, gains = [], []

    def take(j: int) -> float:
        fresh = coverage.sets[j][~covered[coverage.sets[j]]]
        covered[fresh] = True
        chosen.append(j)
        return float(coverage.weights[fresh].sum())

    def gain(j: int) -> float:
        members = coverage.sets[j]
        return float(coverage.weights[members[~covered[members]]].sum())

    for j in fixed:
        gains.append(take(j))
    heap = [(-gain(j), j, 0) for j in range(len(coverage.candidates)) if j not in set(fixed)]
    heapq.heapify(heap)
    for round_ in range(1, k + 1):
        while True:
            negative, j, seen = heapq.heappop(heap)
            if seen == round_:
                gains.append(take(j))
                break
            heapq.heappush(heap, (-gain(j), j, round_))  # stale: gains only shrink as more is covered
    value = sum(gains)
    remaining = sorted((gain(j) for _, j, _ in heap), reverse=True)[:k]
    return Siting(chosen, gains, value, value + sum(remaining))


def exact(coverage: Coverage, k: int, fixed: Sequence[int] = (), time_limit: float = 60.0) -> float | None:
    """The optimal covered weight with `fixed` plus k more sites, by integer programming; None if not proven in time.

    Cells covered by the same candidates are merged first, so the program has one row per distinct set of coverers.
    """
    n = len(coverage.candidates)
    members = np.concatenate(coverage.sets) if n else np.zeros(0, dtype=np.int64)
    owners = np.repeat(np.arange(n), [len(s) for s in coverage.sets])
    if coverage.weights.size * n > MAX_EXACT_CELLS:
        raise ValueError(f"{n} candidates over {coverage.weights.size:,} cells is too large for the exact solver")
    incidence = scipy.sparse.csr_array((np.ones(members.size), (members, owners)), shape=(coverage.weights.size, n))
    groups, inverse = np.unique(incidence.toarray() > 0, axis=0, return_inverse=True)
    weight = np.bincount(inverse.ravel(), coverage.weights, minlength=len(groups))
    useful = groups.any(axis=1)
    groups, weight = groups[useful], weight[useful]
    m = len(groups)
    objective = np.concatenate([np.zeros(n), -weight])
    cover = np.hstack([-groups.astype(float), np.eye(m)])          # y_g <= sum of x over its coverers
    count = np.concatenate([np.ones(n), np.zeros(m)])[None, :]     # sum x = len(fixed) + k
    low = np.zeros(n + m)
    low[list(fixed)] = 1.0
    optimize = scipy.optimize
    result = optimize.milp(objective, integrality=np.concatenate([np.ones(n), np.zeros(m)]),
                           bounds=optimize.Bounds(low, np.ones(n + m)),
                           constraints=[optimize.LinearConstraint(cover, -np.inf, 0.0),
                                        optimize.LinearConstraint(count, len(fixed) + k, len(fixed) + k)],
                           options={"time_limit": time_limit})
    return float(-result.fun) if result.status == 0 else None


def capacitated_greedy(reach: Sequence[tuple[np.ndarray, np.ndarray]], remaining: np.ndarray, value: np.ndarray,
                       capacity: float, k: int, fixed: Sequence[int] = ()) -> tuple[list[int], list[float], list[float]]:
    """Pick `fixed`, then K more sites, each the largest weighted gain, where a site serves the nearest of the
    `remaining` persons (flat) within its reach (cells, minutes) up to `capacity` persons, each worth `value`.

    Returns the picks, their weighted gains and the persons each serves. Gains only shrink as people are served,
    so a stale gain is re-evaluated only when it tops the heap (lazy evaluation)."""
    if k < 0 or k + len(fixed) > len(reach):
        raise ValueError(f"cannot choose {k} sites among {len(reach) - len(fixed)} free candidates")
    if not capacity > 0:
        raise ValueError(f"capacity must be positive persons, not {capacity}")
    remaining = remaining.astype(np.float64).copy()
    order = [(cells[np.argsort(minutes, kind="stable")]) for cells, minutes in reach]

    def serve(j: int) -> np.ndarray:
        people = remaining[order[j]]
        return np.clip(capacity - (np.cumsum(people) - people), 0.0, people)

    chosen, gains, persons = [], [], []

    def take(j: int) -> None:
        served = serve(j)
        remaining[order[j]] -= served
        chosen.append(j)
        gains.append(float((served * value[order[j]]).sum()))
        persons.append(float(served.sum()))

    for j in fixed:
        take(j)
    heap = [(-float((serve(j) * value[order[j]]).sum()), j, 0) for j in range(len(reach)) if j not in set(fixed)]
    heapq.heapify(heap)
    for round_ in range(1, k + 1):
        while True:
            _, j, seen = heapq.heappop(heap)
            if seen == round_:
                take(j)
                break
            heapq.heappush(heap, (-float((serve(j) * value[order[j]]).sum()), j, round_))
    return chosen, gains, persons


def build_coverage(engine: Engine, baseline: Access, candidates: list[Place], threshold: float,
                   weight: np.ndarray) -> Coverage:
    """What each candidate would add: the weighted people beyond `threshold` today that it reaches within it."""
    uncovered = ((baseline.minutes > threshold) & (weight > 0)).ravel()
    sets = []
    for place in candidates:
        checkpoint()
        sets.append(np.flatnonzero((point_reach(engine, baseline, place, threshold).ravel() <= threshold) & uncovered))
    universe = np.unique(np.concatenate(sets)) if sets else np.zeros(0, dtype=np.int64)
    return Coverage(candidates, [np.searchsorted(universe, s) for s in sets], weight.ravel()[universe])


def candidate_places(dataset: Dataset, baseline: Access, threshold: float, names: Sequence[str] | None = None,
                     grid_km: float | None = None) -> list[Place]:
    """Candidates: the named places, else lattice points every `grid_km` km on settled land beyond `threshold`,
    else every town of the settlements layer."""
    if names:
        places = gazetteer(dataset)
        return [find_place(dataset, name, places) for name in names]
    if grid_km:
        grid = baseline.grid
        step = max(1, round(grid_km * 1000 / grid.cell_size))
        rows, cols = np.mgrid[step // 2:grid.shape[0]:step, step // 2:grid.shape[1]:step]
        keep = (baseline.minutes[rows, cols] > threshold) & (baseline.population[rows, cols] > 0)
        xs, ys = grid.centres(rows[keep], cols[keep])
        points = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=grid.crs).to_crs("EPSG:4326")
        return [Place(f"cell {p.y:.3f}, {p.x:.3f}", p.x, p.y, "grid") for p in points]
    if dataset.settlements is None:
        raise ValueError("the dataset has no settlements layer: name the candidates or use grid candidates")
    return [Place(r.name, r.geometry.x, r.geometry.y, "settlements") for r in dataset.settlements.itertuples()]
