"""Route planner endpoints: POST /routes plans circuits; GET /routes/{id} gives the plan as GeoJSON, /maps/route/{id} a map.

Plans are kept in memory (the latest MAX_PLANS, per process) under an id hashed from the data version and the
request, so posting the same request again returns the same plan without solving again.
"""
from __future__ import annotations

import hashlib
import json
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from geo_justice.conflict import ConflictParams
from geo_justice.route_files import plan_geojson
from geo_justice.routes import RoutePlan, plan_routes, route_request

from web.i18n import check_lang
from web.maps import page
from web.route_map import route_map

from .http import GEOJSON

router = APIRouter(tags=["routes"])
MAX_PLANS = 64
_lock = threading.Lock()
PlanId = Annotated[str, Path(description="The id POST /routes returned")]


class PlaceIn(BaseModel):
    name: str | None = Field(None, description="Town name (looked up when lon/lat are absent) or a label")
    lon: float | None = Field(None, description="Longitude, WGS 84")
    lat: float | None = Field(None, description="Latitude, WGS 84")


class StopIn(PlaceIn):
    hearing_days: int | None = Field(None, description="Days of hearings at this stop (default: the request's)")
    priority: int = Field(1, description="Higher is dropped last (e.g. pending cases)")


class RouteBody(BaseModel):
    depots: list[str | PlaceIn] = Field(description="Towns (or points) the teams leave from and return to")
    stops: list[str | StopIn] = Field(description="Towns (or points) to hold hearings in")
    start: str = Field(description="First day (YYYY-MM-DD); also the date of the conflict layer")
    teams: int = Field(1, description="Teams based at each depot")
    max_days: int = Field(10, description="Most days per circuit")
    max_drive_hours: float = Field(8.0, description="Most driving hours per day")
    hearing_days: int = Field(1, description="Hearing days per stop unless the stop says")
    risk: Literal["avoid", "penalise", "ignore"] = Field("penalise", description="Risk policy")
    risk_level: float = Field(ConflictParams.avoid_risk, description="avoid: cells above this risk are impassable")
    penalty: float = Field(ConflictParams.penalty, description="Travel at most 1 + penalty times slower in risky cells")
    resolution: float = Field(1000.0, description="Cell size, metres")
    solver_seconds: float | None = Field(None, description="Solver time limit (default: by the number of stops)")


def _plans(request: Request) -> dict[str, RoutePlan]:
    with _lock:
        if not hasattr(request.app.state, "route_plans"):
            request.app.state.route_plans = {}
        return request.app.state.route_plans


def _spec(item: str | PlaceIn) -> str | dict:
    return item if isinstance(item, str) else item.model_dump(exclude_none=True)


def _plan(request: Request, plan_id: str) -> RoutePlan:
    plan = _plans(request).get(plan_id)
    if plan is None:
        raise HTTPException(404, f"no route plan {plan_id!r} (plans are kept in memory: post the request again)")
    return plan


@router.post("/routes", status_code=201, summary="Plan mobile-hearing circuits; returns the plan and its id")
def post_route(request: Request, body: RouteBody) -> JSONResponse:
    engine = request.app.state.engine
    key = json.dumps([engine.dataset.version, body.model_dump()], sort_keys=True, default=str)
    plan_id = hashlib.sha256(key.encode()).hexdigest()[:16]
    plans = _plans(request)
    plan = plans.get(plan_id)
    if plan is None:
        options = body.model_dump(exclude={"depots", "stops", "resolution"})
        plan = plan_routes(engine, route_request(engine.dataset, [_spec(d) for d in body.depots],
                                                 [_spec(s) for s in body.stops], resolution_m=body.resolution, **options))
        with _lock:
            plans[plan_id] = plan
            while len(plans) > MAX_PLANS:
                plans.pop(next(iter(plans)))
    links = [{"href": f"/routes/{plan_id}", "rel": "alternate", "type": GEOJSON},
             {"href": f"/maps/route/{plan_id}", "rel": "alternate", "type": "text/html"}]
    return JSONResponse({"id": plan_id, "plan": plan.summary(), "links": links}, status_code=201,
                        headers={"Location": f"/routes/{plan_id}"})


@router.get("/routes/{plan_id}", summary="A route plan as GeoJSON (legs, stops, dropped stops)",
            responses={200: {"content": {GEOJSON: {}}}})
def get_route(request: Request, plan_id: PlanId) -> JSONResponse:
    return JSONResponse(plan_geojson(_plan(request, plan_id)), media_type=GEOJSON)


@router.get("/maps/route/{plan_id}", response_class=HTMLResponse, summary="A route plan on a map (HTML, Folium)")
def route_map_page(request: Request, plan_id: PlanId,
                   lang: str = Query("fr", description="Language of labels: fr (default) or en")) -> HTMLResponse:
    check_lang(lang)
    return HTMLResponse(page(route_map(_plan(request, plan_id), request.app.state.engine.dataset, lang=lang)))
