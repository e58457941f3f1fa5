"""Route planner endpoints: POST /routes plans circuits; GET /routes/{id} gives the plan as GeoJSON, /maps/route/{id} a map.

Plans are saved in the store (they survive a restart) under an id hashed from the data version and the
request, so posting the same request again returns the same plan without solving again.
"""
from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field

from geo_justice.conflict import ConflictParams
from geo_justice.route_files import plan_geojson
from geo_justice.route_solver import default_seconds
from geo_justice.routes import plan_routes, route_request

from web.i18n import LANGS, check_lang

from .budget import charge, charge_cells
from .deps import EngineDep, StoreDep
from .http import GEOJSON, geojson_only
from .models import FeatureCollection, RoutePlanned
from .strict import IsoDate, StrictModel

router = APIRouter(tags=["routes"])
PlanId = Annotated[str, Path(description="The id POST /routes returned")]


class PlaceIn(StrictModel):
    name: str | None = Field(None, description="Town name (looked up when lon/lat are absent) or a label")
    lon: float | None = Field(None, description="Longitude, WGS 84")
    lat: float | None = Field(None, description="Latitude, WGS 84")


class StopIn(PlaceIn):
    hearing_days: int | None = Field(None, description="Days of hearings at this stop (default: the request's)")
    priority: int = Field(1, description="Higher is dropped last (e.g. pending cases)")


class RouteBody(StrictModel):
    depots: list[str | PlaceIn] = Field(min_length=1, description="Towns (or points) the teams leave from and return to")
    stops: list[str | StopIn] = Field(min_length=1, description="Towns (or points) to hold hearings in")
    start: IsoDate = Field(description="First day (YYYY-MM-DD); also the date of the conflict layer")
    teams: int = Field(1, description="Teams based at each depot")
    max_days: int = Field(10, description="Most days per circuit")
    max_drive_hours: float = Field(8.0, description="Most driving hours per day")
    hearing_days: int = Field(1, description="Hearing days per stop unless the stop says")
    risk: Literal["avoid", "penalise", "ignore"] = Field("penalise", description="Risk policy")
    risk_level: float = Field(ConflictParams.avoid_risk, description="avoid: cells above this risk are impassable")
    penalty: float = Field(ConflictParams.penalty, description="Travel at most 1 + penalty times slower in risky cells")
    resolution: float = Field(1000.0, description="Cell size, metres")
    solver_seconds: float | None = Field(None, description="Solver time limit (default: by the number of stops)")


def _spec(item: str | PlaceIn) -> str | dict:
    return item if isinstance(item, str) else item.model_dump(exclude_none=True)


def saved_plan(store, plan_id: str) -> dict:
    plan = store.route_plan(plan_id)
    if plan is None:
        raise HTTPException(404, f"no route plan {plan_id!r}")
    return plan


@router.post("/routes", status_code=201, response_model=RoutePlanned, summary="Plan mobile-hearing circuits; returns the plan and its id")
def post_route(request: Request, body: RouteBody, engine: EngineDep, store: StoreDep) -> JSONResponse:
    charge(request, "stops", len(body.stops), "stops")
    charge(request, "solver_seconds", body.solver_seconds or default_seconds(len(body.stops)), "solver_seconds")
    charge_cells(request, engine, body.resolution)
    asked = body.model_dump(mode="json")
    plan_id = hashlib.sha256(json.dumps([engine.dataset.version, asked], sort_keys=True).encode()).hexdigest()[:16]
    saved = store.route_plan(plan_id)
    if saved is None:
        def solve() -> dict:
            from web.maps import page  # with folium: loaded by the first map (api.maps)
            from web.route_map import route_map

            options = body.model_dump(exclude={"depots", "stops", "resolution"}, mode="json")
            plan = plan_routes(engine, route_request(engine.dataset, [_spec(d) for d in body.depots],
                                                     [_spec(s) for s in body.stops], resolution_m=body.resolution, **options))
            return {"summary": plan.summary(), "geojson": plan_geojson(plan),
                    "maps": {lang: page(route_map(plan, engine.dataset, lang=lang)) for lang in LANGS}}
        saved = request.app.state.pool.run(solve)
        store.save_route_plan(plan_id, asked, saved)
    links = [{"href": f"/routes/{plan_id}", "rel": "alternate", "type": GEOJSON},
             {"href": f"/maps/route/{plan_id}", "rel": "alternate", "type": "text/html"}]
    return JSONResponse({"id": plan_id, "plan": saved["summary"], "links": links}, status_code=201,
                        headers={"Location": f"/routes/{plan_id}"})


@router.get("/routes/{plan_id}", summary="A route plan as GeoJSON (legs, stops, dropped stops)",
            response_class=Response, response_model=FeatureCollection, responses=geojson_only())
def get_route(plan_id: PlanId, store: StoreDep) -> Response:
    return Response(json.dumps(saved_plan(store, plan_id)["geojson"]), media_type=GEOJSON)


@router.get("/maps/route/{plan_id}", response_class=HTMLResponse, summary="A route plan on a map (HTML, Folium)")
def route_map_page(plan_id: PlanId, store: StoreDep,
                   lang: str = Query("fr", description="Language of labels: fr (default) or en")) -> HTMLResponse:
    return HTMLResponse(saved_plan(store, plan_id)["maps"][check_lang(lang)])
