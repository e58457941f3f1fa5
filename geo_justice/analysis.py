"""The questions users ask, one function each: the CLI and the API call these and nothing deeper.

Each returns an `AnalysisResult`: named layers (the first is the main one), a summary table and the
run manifest that makes its figures reproducible.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.names import NameMatcher

from .access import Access, AccessParams, Engine, Progress
from .defaults import DEFAULT_THRESHOLDS
from .catchments import catchments, isochrones
from .delta import change_polygons, coverage_delta, facility_delta
from .coverage import coverage_table
from .exposure import conflict_exposure, justice_chain_gap
from .gaps import gap_hotspots
from .grid import Grid
from .manifest import run_manifest
from .capacity import CapacityParams
from .siting import GREEDY_GUARANTEE, build_coverage, candidate_places, capacitated_greedy, exact, greedy
from .scenarios import MOBILE_TIER, Scenario, describe, scenario_engine, scenario_facilities, time_averaged, updated_access


@dataclass(frozen=True)
class AnalysisResult:
    layers: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    manifest: dict[str, Any]


def _manifest(engine: Engine, params: AccessParams, command: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The run manifest, with the people the head counts are of (year, label, warnings)."""
    return run_manifest(engine.dataset, command, parameters, people=engine.people(params.as_of).as_dict())


def _thresholds(thresholds: Sequence[float]) -> tuple[float, ...]:
    values = tuple(sorted({float(t) for t in thresholds}))
    if not values or min(values) <= 0:
        raise ValueError("thresholds must be positive minutes")
    return values


def coverage(engine: Engine, params: AccessParams, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
             progress: Progress | None = None, *, with_isochrones: bool = True) -> AnalysisResult:
    """Coverage within each threshold, overall and per region, nominal and actual side by side; isochrones of
    `params.mode` unless `with_isochrones` is false (a caller that only prints the table)."""
    params = engine.complete(params)
    thresholds = _thresholds(thresholds)
    step = progress or (lambda _: None)
    nominal, actual = engine.nominal_and_actual(params, progress)
    step("regions and coverage table")
    regions = engine.regions(nominal.grid)
    table = coverage_table(nominal, actual, regions, thresholds)
    chosen = actual if params.mode == "actual" else nominal
    manifest = _manifest(engine, params, "coverage", {"access": params, "thresholds": thresholds,
                                                         "regions_from": regions.source})
    if not with_isochrones:
        return AnalysisResult({"coverage": table}, table, manifest)
    step("isochrone polygons")
    return AnalysisResult({"isochrones": isochrones(chosen, thresholds), "coverage": table}, table, manifest)


def catchment_areas(engine: Engine, params: AccessParams, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                    progress: Progress | None = None) -> AnalysisResult:
    """One polygon per counting facility with its population and travel-time statistics."""
    params = engine.complete(params)
    thresholds = _thresholds(thresholds)
    frame = catchments(engine.access(params, progress), thresholds)
    summary = frame.drop(columns="geometry").sort_values("population", ascending=False)
    manifest = _manifest(engine, params, "catchments", {"access": params, "thresholds": thresholds})
    return AnalysisResult({"catchments": frame}, summary, manifest)


def access_gaps(engine: Engine, params: AccessParams, threshold: float = 120.0, min_population: float = 1000.0,
                min_density: float = 20.0, progress: Progress | None = None) -> AnalysisResult:
    """Gap hotspots beyond `threshold`, ranked by population and named by their largest nearby town."""
    params = engine.complete(params)
    _thresholds([threshold])
    frame = gap_hotspots(engine.access(params, progress), threshold, engine.dataset.settlements,
                         min_population=min_population, min_density=min_density)
    manifest = _manifest(engine, params, "gaps", {"access": params, "threshold": threshold,
                                                     "min_population": min_population, "min_density": min_density})
    return AnalysisResult({"gaps": frame}, frame.drop(columns="geometry"), manifest)


def exposure(engine: Engine, params: AccessParams, radius_km: float = 50.0, days: int = 365,
             chain_threshold: float = 240.0, progress: Progress | None = None) -> AnalysisResult:
    """Incidents near each counting facility, and courts whose nearest working prison with room is beyond
    `chain_threshold` (prisons at capacity are passed over; `capacity_analysis.chain` has the whole chain)."""
    from .capacity_analysis import prisons_with_room  # it builds on this module

    params = engine.complete(params)
    courts = engine.access(params, progress)
    table = conflict_exposure(courts.facilities, engine.dataset.incidents, courts.grid, params.as_of,
                              radius_km=radius_km, days=days)
    points = courts.facilities[["id", "geometry"]].merge(table, on="id")
    chain = justice_chain_gap(courts, prisons_with_room(engine, params, progress=progress), chain_threshold)
    manifest = _manifest(engine, params, "exposure", {"access": params, "radius_km": radius_km, "days": days,
                                                         "chain_threshold": chain_threshold})
    return AnalysisResult({"exposure": points, "justice_chain_gap": chain}, table, manifest)


def scenario(engine: Engine, change: Scenario, params: AccessParams, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
             progress: Progress | None = None, *, incremental: bool = True) -> AnalysisResult:
    """A scenario against the baseline (actual mode on `params.as_of`): `scenario_delta`'s layers plus the
    scenario's catchments and gap hotspots (beyond the largest threshold)."""
    result, after = _delta(engine, change, params, thresholds, progress, incremental)
    thresholds = _thresholds(thresholds)
    layers = {**result.layers, "catchments": catchments(after, thresholds),
              "gaps": gap_hotspots(after, max(thresholds), engine.dataset.settlements)}
    return AnalysisResult(layers, result.summary, result.manifest)


def scenario_delta(engine: Engine, change: Scenario, params: AccessParams, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                   progress: Progress | None = None) -> AnalysisResult:
    """What a scenario changes: coverage gained and lost per region (time-averaged too when it has mobile
    hearings), per facility, and the areas that change."""
    return _delta(engine, change, params, thresholds, progress, True)[0]


def _delta(engine: Engine, change: Scenario, params: AccessParams, thresholds: Sequence[float],
           progress: Progress | None, incremental: bool) -> tuple[AnalysisResult, Access]:
    params = engine.complete(params)
    thresholds = _thresholds(thresholds)
    params = replace(params, mode="actual")
    baseline, after, table = _evaluate(engine, change, params, thresholds, progress, incremental)
    layers = {"changes": change_polygons(baseline, after, thresholds), "coverage": table,
              "facilities": facility_delta(baseline, after)}
    manifest = _manifest(engine, params, "scenario", {"access": params, "thresholds": thresholds,
                                                         "scenario": describe(change)})
    return AnalysisResult(layers, table, manifest), after


def _evaluate(engine: Engine, change: Scenario, params: AccessParams, thresholds: tuple[float, ...],
              progress: Progress | None, incremental: bool):
    """Baseline and scenario access, and the coverage delta table."""
    baseline = engine.access(params, progress)
    facilities = scenario_facilities(engine.dataset, change, params)
    changed = scenario_engine(engine, change)  # with the scenario's crossings: a new friction, searched in full
    incremental = incremental and changed is engine
    after = updated_access(changed, baseline, facilities, incremental=incremental)
    averaged = None
    if change.mobile:
        standing = updated_access(changed, after, facilities[facilities["tier"] != MOBILE_TIER], incremental=incremental)
        averaged = time_averaged(changed, standing, change.mobile, thresholds)
    return baseline, after, coverage_delta(baseline, after, engine.regions(baseline.grid), thresholds, averaged)


def minutes_saved(engine: Engine, change: Scenario, params: AccessParams) -> tuple[Grid, np.ndarray]:
    """Per cell, baseline minus scenario minutes (negative where the scenario is slower; NaN where either
    cannot reach a court)."""
    params = engine.complete(params)
    params = replace(params, mode="actual")
    baseline = engine.access(params)
    changed = scenario_engine(engine, change)
    after = updated_access(changed, baseline, scenario_facilities(engine.dataset, change, params), incremental=changed is engine)
    reached = np.isfinite(baseline.minutes) & np.isfinite(after.minutes)
    return baseline.grid, np.where(reached, baseline.minutes - np.where(reached, after.minutes, 0.0), np.nan)


def compare(engine: Engine, changes: Sequence[Scenario], params: AccessParams,
            thresholds: Sequence[float] = DEFAULT_THRESHOLDS, progress: Progress | None = None) -> AnalysisResult:
    """Scenarios side by side: one coverage-delta row per scenario and region."""
    params = engine.complete(params)
    thresholds = _thresholds(thresholds)
    params = replace(params, mode="actual")
    if not changes:
        raise ValueError("name at least one scenario to compare")
    rows = [_evaluate(engine, change, params, thresholds, progress, True)[2].assign(scenario=change.name)
            for change in changes]
    table = pd.concat(rows, ignore_index=True)
    table = table[["scenario"] + [c for c in table.columns if c != "scenario"]]
    manifest = _manifest(engine, params, "scenario compare", {"access": params, "thresholds": thresholds,
                                                                 "scenarios": [describe(c) for c in changes]})
    return AnalysisResult({"comparison": table}, table, manifest)


def siting(engine: Engine, params: AccessParams, k: int, threshold: float = 120.0, *,
           candidates: Sequence[str] | None = None, grid_km: float | None = None, fixed: Sequence[str] = (),
           max_risk: float | None = None, weighting: str = "population", region_weights: dict[str, float] | None = None,
           min_density: float = 20.0, solve_exactly: bool = False, progress: Progress | None = None,
           site_judges: float | None = None, capacity: CapacityParams | None = None) -> AnalysisResult:
    """K new sites maximising the (weighted) people newly within `threshold` of a counting facility.

    With `site_judges`, sites and courts have capacities: today's courts serve within their capacity first
    (capacity-limited coverage with `capacity`'s ratios), and each new site, with `site_judges` judges, serves
    the nearest people left unserved within `threshold` up to its capacity (`siting.capacitated_greedy`).

    weighting: population (everyone beyond T), or gap (only settled cells, at least `min_density` per km²,
    as gap hotspots count); region_weights multiply a region's people (regions not named weigh 1).
    Candidates whose cell's risk exceeds `max_risk` are left out. `fixed` places are chosen first.
    """
    params = engine.complete(params)
    _thresholds([threshold])
    if weighting not in ("population", "gap"):
        raise ValueError(f"weighting must be population or gap, not {weighting!r}")
    baseline = engine.access(replace(params, mode="actual"), progress)
    weight = baseline.population.copy()
    if weighting == "gap":
        weight[baseline.population < min_density * baseline.grid.cell_area_km2] = 0.0
    regions = engine.regions(baseline.grid)
    boundaries = engine.dataset.boundaries
    names = NameMatcher(regions.names, boundaries.attrs.get("aliases") if boundaries is not None else None)
    unknown = sorted(n for n in region_weights or {} if names.match(n) is None)
    if unknown:
        raise ValueError(f"region_weights: unknown region {unknown[0]!r}; regions are {', '.join(regions.names)}")
    for name, factor in (region_weights or {}).items():
        weight[regions.index == regions.names.index(names.match(name))] *= factor
    fixed_places = candidate_places(engine.dataset, baseline, threshold, fixed) if fixed else []
    pool = candidate_places(engine.dataset, baseline, threshold, candidates, grid_km)
    excluded = []
    if max_risk is not None:  # fixed places stay whatever their risk
        rows, cols, _ = baseline.grid.cells(gpd.GeoSeries(gpd.points_from_xy([p.lon for p in pool], [p.lat for p in pool]),
                                                          crs="EPSG:4326"))
        risky = baseline.risk.at(rows, cols) > max_risk
        excluded = [p.name for p, r in zip(pool, risky) if r]
        pool = [p for p, r in zip(pool, risky) if not r]
    places = fixed_places + pool
    pinned = list(range(len(fixed_places)))
    described = {
        "access": params, "k": k, "threshold": threshold, "candidates": list(candidates) if candidates else
        (f"grid every {grid_km:g} km" if grid_km else "settlements"), "fixed": list(fixed), "max_risk": max_risk,
        "weighting": weighting, "region_weights": region_weights or {}, "excluded_for_risk": excluded}
    if site_judges is not None:
        if solve_exactly:
            raise ValueError("the exact solver does not take capacities: leave out exact (or site_judges)")
        return _capacitated_siting(engine, baseline, places, pinned, k, threshold, weight, site_judges,
                                   replace(capacity or CapacityParams(), threshold=threshold), described)
    coverage = build_coverage(engine, baseline, places, threshold, weight)
    result = greedy(coverage, k, pinned)
    optimum = exact(coverage, k, pinned) if solve_exactly else None
    uncovered = float(weight[baseline.minutes > threshold].sum())
    cumulative = np.cumsum(result.gains)
    sites = gpd.GeoDataFrame({
        "order": np.arange(1, len(result.chosen) + 1),
        "name": [places[j].name for j in result.chosen],
        "fixed": [j in pinned for j in result.chosen],
        "marginal": result.gains, "cumulative": cumulative,
        "cumulative_share_of_uncovered": cumulative / uncovered if uncovered else np.nan,
    }, geometry=gpd.points_from_xy([places[j].lon for j in result.chosen], [places[j].lat for j in result.chosen]),
        crs="EPSG:4326")
    summary = pd.DataFrame([{
        "k": k, "threshold_minutes": threshold, "candidates": len(places), "excluded_for_risk": len(excluded),
        "uncovered_weight": uncovered, "covered_weight": result.value, "upper_bound": result.upper_bound,
        "proven_ratio": result.guarantee, "greedy_guarantee": GREEDY_GUARANTEE,
        "exact_optimum": optimum, "gap_to_optimum": max(0.0, (optimum - result.value) / optimum) if optimum else None,
    }])
    manifest = _manifest(engine, params, "site", described)
    return AnalysisResult({"sites": sites}, summary, manifest)


def _capacitated_siting(engine: Engine, baseline: Access, places: list, pinned: list[int], k: int, threshold: float,
                        weight: np.ndarray, site_judges: float, capacity: CapacityParams, described: dict) -> AnalysisResult:
    """Siting when today's courts and the new sites have capacities (see `siting`)."""
    from .capacity_analysis import capacity as capacity_coverage  # it builds on this module
    from .scenarios import point_reach

    if not site_judges > 0:
        raise ValueError(f"site_judges must be positive, not {site_judges}")
    today = capacity_coverage(engine, baseline.params, capacity)
    population = baseline.population.ravel()
    remaining = np.maximum(population - today.surfaces["served"][1].ravel(), 0.0)
    value = np.divide(weight.ravel(), population, out=np.zeros_like(population), where=population > 0)
    reach = []
    for place in places:
        minutes = point_reach(engine, baseline, place, threshold).ravel()
        cells = np.flatnonzero(minutes <= threshold)
        reach.append((cells, minutes[cells]))
    persons = site_judges * capacity.cases_per_judge * capacity.persons_per_case
    chosen, gains, served = capacitated_greedy(reach, remaining, value, persons, k, pinned)
    unserved = float((remaining * value).sum())
    cumulative = np.cumsum(gains)
    sites = gpd.GeoDataFrame({
        "order": np.arange(1, len(chosen) + 1), "name": [places[j].name for j in chosen],
        "fixed": [j in pinned for j in chosen], "capacity_persons": persons, "persons_served": served,
        "marginal": gains, "cumulative": cumulative,
        "cumulative_share_of_unserved": cumulative / unserved if unserved else np.nan,
    }, geometry=gpd.points_from_xy([places[j].lon for j in chosen], [places[j].lat for j in chosen]), crs="EPSG:4326")
    summary = pd.DataFrame([{
        "k": k, "threshold_minutes": threshold, "candidates": len(places),
        "excluded_for_risk": len(described["excluded_for_risk"]), "site_judges": site_judges,
        "site_capacity_persons": persons, "unserved_weight": unserved, "covered_weight": float(sum(gains)),
        "upper_bound": None, "proven_ratio": None, "greedy_guarantee": None, "exact_optimum": None, "gap_to_optimum": None}])
    manifest = _manifest(engine, baseline.params, "site", {**described, "site_judges": site_judges, "capacity": capacity})
    return AnalysisResult({"sites": sites}, summary, manifest)
