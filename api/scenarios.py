"""Scenarios and siting over HTTP: evaluate (and save) what-if scenarios, choose sites."""
from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import Field

from geo_justice import analysis
from geo_justice.defaults import DEFAULT_THRESHOLDS
from geo_justice.capacity import CapacityParams
from geo_justice.scenarios import Scenario, read_scenario

from .budget import charge
from .deps import CallerDep, StoreDep, current_engine, require_token
from .models import FeatureCollection, SavedScenarios
from .strict import StrictModel
from .analysis import Params, Thresholds, answer
from .geojson import table
from .http import etag_for, geojson_only, respond

router = APIRouter(tags=["scenarios"])
ScenarioId = Annotated[str, Path(description="The id POST /scenarios returned")]

EXAMPLE = {"name": "Goundam's court at home", "changes": [{"facility": "ml-ti-goundam", "sitting": "seat"}]}


def saved(request: Request, key: str) -> Scenario:
    """The saved scenario `key`, checked against the current data; 404 when there is none."""
    spec = request.app.state.store.scenario(key)
    if spec is None:
        raise HTTPException(404, f"no saved scenario {key!r}")
    return read_scenario(spec, current_engine(request).dataset, source=f"scenario {key}")


def evaluate(request: Request, change: Scenario, p, threshold: list[float] | None) -> Response:
    thresholds = tuple(threshold or DEFAULT_THRESHOLDS)
    return answer(request, "scenario", (change.key, p, thresholds), lambda e: analysis.scenario(e, change, p, thresholds))


@router.post("/scenarios", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="Evaluate a scenario against the data (save it with ?save=true and a token)")
def post_scenario(request: Request, p: Params, who: CallerDep, store: StoreDep, threshold: Thresholds = None,
                  save: bool = Query(False, description="Keep the scenario in the store (bearer token required)"),
                  spec: dict[str, Any] = Body(description="A scenario: name, description, changes (see the README)",
                                              examples=[EXAMPLE])) -> Response:
    who = require_token(who) if save else None
    change = read_scenario(spec, current_engine(request).dataset, source="request body")
    response = evaluate(request, change, p, threshold)
    if who is not None:
        store.save_scenario(change.key, spec, who)
        response.headers["Location"] = f"/scenarios/{change.key}"
    return response


@router.get("/scenarios", summary="Saved scenarios", response_model=SavedScenarios)
def list_scenarios(request: Request) -> dict:
    return {"scenarios": table(request.app.state.store.scenarios())}


@router.get("/scenarios/compare", response_class=Response, summary="Saved scenarios side by side")
def compare_scenarios(request: Request, p: Params, threshold: Thresholds = None,
                      id: list[str] = Query(description="Saved scenario ids (repeatable)")) -> Response:
    changes = [saved(request, key) for key in id]
    thresholds = tuple(threshold or DEFAULT_THRESHOLDS)
    engine = current_engine(request)

    def body() -> dict:
        result = analysis.compare(engine, changes, p, thresholds)
        return {"comparison": table(result.summary), "population": result.manifest.get("population"),
                "manifest": result.manifest}

    key = (tuple(c.key for c in changes), p, thresholds)
    return respond(request, etag_for(engine.dataset.version, "compare", key), body, max_age=3600, heavy=True)


@router.get("/scenarios/{scenario_id}", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="A saved scenario, evaluated with these parameters")
def get_scenario(request: Request, scenario_id: ScenarioId, p: Params, threshold: Thresholds = None) -> Response:
    return evaluate(request, saved(request, scenario_id), p, threshold)


class SitingBody(StrictModel):
    k: int = Field(ge=1, le=50, description="New sites to choose")
    threshold: float = Field(120.0, gt=0, description="Minutes within which people count as served")
    candidates: list[str] | None = Field(None, description="Candidate places (default: every town of the settlements layer)")
    grid_km: float | None = Field(None, gt=0, description="Candidates on a lattice every this many km instead of towns")
    fixed: list[str] = Field([], description="Places chosen whatever happens")
    max_risk: float | None = Field(None, ge=0, description="Leave out candidates whose risk is above this")
    weighting: Literal["population", "gap"] = Field("population", description="gap: only settled cells count")
    region_weights: dict[str, float] | None = Field(None, description="Multiply a region's people by this weight")
    min_density: float = Field(20.0, ge=0, description="Persons per km² for a cell to count as settled (gap weighting)")
    exact: bool = Field(False, description="Also solve exactly and report the greedy's gap")
    capacity_judges: float | None = Field(None, gt=0, description="Sites and courts have capacities: judges per new site "
                                          "(capacity-limited coverage of today's courts first)")
    persons_per_case: float = Field(200.0, gt=0, description="With capacity_judges: persons one case a year serves")
    cases_per_judge: float = Field(300.0, gt=0, description="With capacity_judges: cases a judge handles a year")


def siting_candidates(request: Request, p, body: SitingBody) -> int:
    """How many candidates the siting would search, at most, before running it."""
    if body.candidates:
        return len(body.candidates)
    if body.grid_km:
        grid = current_engine(request).grid(p.resolution_m)
        step = max(1, round(body.grid_km * 1000 / grid.cell_size))
        return math.ceil(grid.shape[0] / step) * math.ceil(grid.shape[1] / step)
    settlements = current_engine(request).dataset.settlements
    return 0 if settlements is None else len(settlements)


@router.post("/analysis/siting", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="K sites that bring the most people within the threshold")
def siting(request: Request, p: Params, body: SitingBody) -> Response:
    charge(request, "candidates", siting_candidates(request, p, body), "grid_km" if body.grid_km else "candidates")
    key = (p, body.model_dump_json())
    return answer(request, "siting", key, lambda e: analysis.siting(
        e, p, body.k, body.threshold, candidates=body.candidates, grid_km=body.grid_km, fixed=body.fixed,
        max_risk=body.max_risk, weighting=body.weighting, region_weights=body.region_weights,
        min_density=body.min_density, solve_exactly=body.exact, site_judges=body.capacity_judges,
        capacity=CapacityParams(threshold=body.threshold, persons_per_case=body.persons_per_case,
                                cases_per_judge=body.cases_per_judge)))
