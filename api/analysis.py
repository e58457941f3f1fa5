"""Analysis endpoints: the engine's questions with its parameters as query parameters, cached with ETags."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import Field

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine, access_params
from geo_justice.defaults import DEFAULT_THRESHOLDS
from geo_justice.analysis import AnalysisResult
from geo_justice.conflict import ConflictParams
from geo_justice.friction import FrictionParams
from geo_justice.licence_floors import floors_apply

from .budget import charge_cells
from .deps import caller, current_engine
from .geojson import features, table
from .http import GEOJSON, etag_for, geojson_only, respond
from .models import FeatureCollection

router = APIRouter(prefix="/analysis", tags=["analysis"])
#: The years a date may have (geo_justice.dates), in the OpenAPI document.
DATE_PATTERN = r"^(19|2[01])\d\d-"


def params(
    request: Request,
    as_of: str | None = Query(None, description="Date (YYYY-MM-DD, 1900 to 2199) for statuses, the conflict window and the people's year (default: the dataset's as_of)",
                              json_schema_extra={"format": "date", "pattern": DATE_PATTERN}),
    mode: Literal["actual", "nominal"] = Query("actual", description="actual: working facilities at their sitting place; nominal: all at their seat"),
    kind: Literal["court", "prison"] = Query("court", description="court or prison"),
    tiers: str | None = Query(None, description="Only these tiers, comma-separated (e.g. appeal,tgi)"),
    resolution: float = Query(1000.0, ge=10, le=100_000, description="Cell size in metres (10 to 100,000; the budget limits the cells)"),
    neighbours: int = Query(16, description="16 (accurate) or 8 (MCP_Geometric)", json_schema_extra={"enum": [8, 16]}),
    offroad_kmh: float = Query(FrictionParams.offroad_kmh, gt=0, description="Speed away from roads, km/h"),
    conflict: Literal["off", "penalty", "avoid"] = Query(ConflictParams.mode, description="off, penalty or avoid"),
    conflict_window: int = Query(ConflictParams.window_days, ge=1, le=36_500, description="Days of incidents before as_of"),
    half_life: float = Query(ConflictParams.half_life_days, gt=0, description="Days for an incident's weight to halve"),
    bandwidth: float = Query(ConflictParams.bandwidth_km, gt=0, description="Kernel bandwidth, km"),
    penalty: float = Query(ConflictParams.penalty, ge=0, description="Travel at most 1 + penalty times slower where risk is high"),
    avoid_risk: float = Query(ConflictParams.avoid_risk, gt=0, description="Avoid mode: impassable above this risk (weighted incidents per 1,000 km²)"),
) -> AccessParams:
    engine = current_engine(request)
    p = access_params(kind=kind, mode=mode, as_of=as_of or engine.dataset.default_as_of, tiers=tiers,
                      resolution_m=resolution, neighbours=neighbours, offroad_kmh=offroad_kmh, conflict=conflict, conflict_window=conflict_window, half_life=half_life,
                      bandwidth=bandwidth, penalty=penalty, avoid_risk=avoid_risk)
    charge_cells(request, engine, p.resolution_m)
    check_floors(request, engine, p)
    return p


def check_floors(request: Request, engine: Engine, p: AccessParams) -> None:
    """403 for an anonymous request whose kernel or window is below the licence floors of the dataset."""
    floors = floors_apply(engine.dataset)
    if floors is None or caller(request) is not None or p.conflict.mode == "off":
        return
    for name, value, floor in (("bandwidth", p.conflict.bandwidth_km, floors.bandwidth_km),
                               ("conflict_window", p.conflict.window_days, floors.window_days)):
        if value < floor:
            raise HTTPException(403, f"parameter '{name}': {value:g} is below the licence floor of {floor:g} for "
                                     "anonymous requests (licence-restricted incidents); a bearer token lifts it")


Params = Annotated[AccessParams, Depends(params)]
Thresholds = Annotated[list[Annotated[float, Field(gt=0)]] | None, Query(description="Minutes (repeatable); default 30, 60, 120, 240")]


def answer(request: Request, name: str, key: tuple, run) -> Response:
    """The result's main layer as a FeatureCollection plus `summary`, `layers` and `manifest`; ETag by data and parameters."""
    engine = current_engine(request)

    def body() -> dict:
        result: AnalysisResult = run(engine)
        (main, frame), *others = result.layers.items()
        return {"type": "FeatureCollection", "name": main, "features": features(frame),
                "summary": table(result.summary),
                "population": result.manifest.get("population"),
                "layers": {n: table(f) if "geometry" not in f else {"type": "FeatureCollection", "features": features(f)}
                           for n, f in others},
                "manifest": result.manifest}

    return respond(request, etag_for(engine.dataset.version, name, key), body, media_type=GEOJSON, max_age=3600, heavy=True)


@router.get("/coverage", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="Coverage within each threshold, nominal vs actual, per region")
def coverage(request: Request, p: Params, threshold: Thresholds = None) -> Response:
    thresholds = tuple(threshold or DEFAULT_THRESHOLDS)
    return answer(request, "coverage", (p, thresholds), lambda e: analysis.coverage(e, p, thresholds))


@router.get("/isochrones", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="Areas within each threshold of a counting facility")
def isochrones(request: Request, p: Params, threshold: Thresholds = None) -> Response:
    thresholds = tuple(threshold or DEFAULT_THRESHOLDS)
    return answer(request, "isochrones", (p, thresholds), lambda e: analysis.coverage(e, p, thresholds))


@router.get("/catchments", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="One catchment per counting facility")
def catchments(request: Request, p: Params, threshold: Thresholds = None) -> Response:
    thresholds = tuple(threshold or DEFAULT_THRESHOLDS)
    return answer(request, "catchments", (p, thresholds), lambda e: analysis.catchment_areas(e, p, thresholds))


@router.get("/gaps", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="Access-gap hotspots beyond a threshold")
def gaps(request: Request, p: Params, threshold: float = Query(120.0, gt=0, description="Minutes beyond which people count as unserved"),
         min_population: float = Query(1000.0, ge=0, description="Smallest hotspot population reported"),
         min_density: float = Query(20.0, ge=0, description="Persons per km² for a cell to count as settled")) -> Response:
    key = (p, threshold, min_population, min_density)
    return answer(request, "gaps", key, lambda e: analysis.access_gaps(e, p, threshold, min_population, min_density))


@router.get("/exposure", response_class=Response, response_model=FeatureCollection, responses=geojson_only(), summary="Incidents near each facility; courts far from a working prison")
def exposure(request: Request, p: Params,
             radius_km: float = Query(50.0, gt=0, description="Incidents within this distance of a facility, km"),
             days: int = Query(365, gt=0, le=36_500, description="Incidents in this many days before as_of"),
             chain_threshold: float = Query(240.0, gt=0, description="Minutes from a court to its nearest working "
                                            "prison beyond which the justice chain has a gap")) -> Response:
    key = (p, radius_km, days, chain_threshold)
    return answer(request, "exposure", key, lambda e: analysis.exposure(e, p, radius_km, days, chain_threshold))
