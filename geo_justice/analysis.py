"""The questions users ask, one function each: the CLI and the API call these and nothing deeper.

Each returns an `AnalysisResult`: named layers (the first is the main one), a summary table and the
run manifest that makes its figures reproducible.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from .access import DEFAULT_THRESHOLDS, AccessParams, Engine, Progress
from .catchments import catchments, isochrones
from .coverage import coverage_table
from .exposure import conflict_exposure, justice_chain_gap
from .gaps import gap_hotspots
from .manifest import run_manifest


@dataclass(frozen=True)
class AnalysisResult:
    layers: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    manifest: dict[str, Any]


def _thresholds(thresholds: Sequence[float]) -> tuple[float, ...]:
    values = tuple(sorted({float(t) for t in thresholds}))
    if not values or min(values) <= 0:
        raise ValueError("thresholds must be positive minutes")
    return values


def coverage(engine: Engine, params: AccessParams, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
             progress: Progress | None = None) -> AnalysisResult:
    """Coverage within each threshold, overall and per region, nominal and actual side by side; isochrones of `params.mode`."""
    thresholds = _thresholds(thresholds)
    nominal, actual = engine.nominal_and_actual(params, progress)
    regions = engine.regions(nominal.grid)
    table = coverage_table(nominal, actual, regions, thresholds)
    chosen = actual if params.mode == "actual" else nominal
    manifest = run_manifest(engine.dataset, "coverage", {"access": params, "thresholds": thresholds,
                                                         "regions_from": regions.source})
    return AnalysisResult({"isochrones": isochrones(chosen, thresholds), "coverage": table}, table, manifest)


def catchment_areas(engine: Engine, params: AccessParams, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                    progress: Progress | None = None) -> AnalysisResult:
    """One polygon per counting facility with its population and travel-time statistics."""
    thresholds = _thresholds(thresholds)
    frame = catchments(engine.access(params, progress), thresholds)
    summary = frame.drop(columns="geometry").sort_values("population", ascending=False)
    manifest = run_manifest(engine.dataset, "catchments", {"access": params, "thresholds": thresholds})
    return AnalysisResult({"catchments": frame}, summary, manifest)


def access_gaps(engine: Engine, params: AccessParams, threshold: float = 120.0, min_population: float = 1000.0,
                min_density: float = 20.0, progress: Progress | None = None) -> AnalysisResult:
    """Gap hotspots beyond `threshold`, ranked by population and named by their largest nearby town."""
    _thresholds([threshold])
    frame = gap_hotspots(engine.access(params, progress), threshold, engine.dataset.settlements,
                         min_population=min_population, min_density=min_density)
    manifest = run_manifest(engine.dataset, "gaps", {"access": params, "threshold": threshold,
                                                     "min_population": min_population, "min_density": min_density})
    return AnalysisResult({"gaps": frame}, frame.drop(columns="geometry"), manifest)


def exposure(engine: Engine, params: AccessParams, radius_km: float = 50.0, days: int = 365,
             chain_threshold: float = 240.0, progress: Progress | None = None) -> AnalysisResult:
    """Incidents near each counting facility, and courts whose nearest working prison is beyond `chain_threshold`."""
    courts = engine.access(params, progress)
    table = conflict_exposure(courts.facilities, engine.dataset.incidents, courts.grid, params.as_of,
                              radius_km=radius_km, days=days)
    points = courts.facilities[["id", "geometry"]].merge(table, on="id")
    prisons = engine.access(replace(params, kind="prison", tiers=None), progress)
    chain = justice_chain_gap(courts, prisons, chain_threshold)
    manifest = run_manifest(engine.dataset, "exposure", {"access": params, "radius_km": radius_km, "days": days,
                                                         "chain_threshold": chain_threshold})
    return AnalysisResult({"exposure": points, "justice_chain_gap": chain}, table, manifest)
