"""Capacity-limited coverage and the justice chain over HTTP: analyses and their maps."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from geo_justice import capacity_analysis
from geo_justice.capacity import ORDERS, CapacityParams
from geo_justice.chain import UNKNOWN_ROOM
from web.i18n import check_lang

from .analysis import Params, answer
from .deps import current_engine
from .maps import Lang, html_page, served_tiles
from .scenarios import saved

router = APIRouter(tags=["capacity"])
Scenario = Query(None, description="A saved scenario id to apply first (e.g. one that adds judges or prison places)")


def capacity_params(
    threshold: float = Query(120.0, gt=0, description="Minutes within which a court can serve a person"),
    order: Literal["capacity", "priority", "population"] = Query("capacity", description=f"Processing order: {', '.join(ORDERS)}"),
    priority: str | None = Query(None, description="Facility ids processed first, comma-separated (order=priority)"),
    persons_per_case: float = Query(200.0, gt=0, description="Persons one case a year serves (assumed default)"),
    cases_per_judge: float = Query(300.0, gt=0, description="Cases a judge handles a year (assumed default)"),
    cases_per_hearing: float = Query(5.0, gt=0, description="Cases a hearing session handles (UN study: 140 cases in 28 sessions)"),
) -> CapacityParams:
    return CapacityParams(threshold=threshold, order=order, priority=tuple(p.strip() for p in (priority or "").split(",") if p.strip()),
                          persons_per_case=persons_per_case, cases_per_judge=cases_per_judge, cases_per_hearing=cases_per_hearing)


def chain_options(
    threshold: float = Query(480.0, gt=0, description="Minutes from a court to a prison with room beyond which the chain is broken"),
    min_room: float = Query(1.0, ge=0, description="Free places a prison needs to count as having room"),
    unknown_room: Literal["count", "skip"] = Query("count", description=f"Prisons missing capacity or detainees: {' or '.join(UNKNOWN_ROOM)}"),
    detainees_per_100k: float = Query(capacity_analysis.DETAINEES_PER_100K, ge=0,
                                      description="Expected detainees per 100,000 persons, for the transfer burden"),
) -> dict:
    return {"threshold": threshold, "min_room": min_room, "unknown_room": unknown_room, "detainees_per_100k": detainees_per_100k}


Capacity = Annotated[CapacityParams, Depends(capacity_params)]
Chain = Annotated[dict, Depends(chain_options)]


@router.get("/analysis/capacity", response_class=Response,
            summary="Served, over capacity and out of reach per region and court (AccessMod's geographic coverage), with 2SFCA")
def capacity(request: Request, p: Params, cap: Capacity, scenario: str | None = Scenario) -> Response:
    change = saved(request, scenario) if scenario else None
    return answer(request, "capacity", (p, cap, change.key if change else None),
                  lambda e: capacity_analysis.capacity(e, p, cap, scenario=change))


@router.get("/analysis/chain", response_class=Response,
            summary="Each court's nearest working prison with room, prison occupancy and the detainee transfer burden")
def chain(request: Request, p: Params, options: Chain, scenario: str | None = Scenario) -> Response:
    change = saved(request, scenario) if scenario else None
    return answer(request, "chain", (p, tuple(sorted(options.items())), change.key if change else None),
                  lambda e: capacity_analysis.chain(e, p, scenario=change, **options))


@router.get("/maps/capacity", response_class=HTMLResponse, summary="Map of the served catchments and courts' capacity")
def capacity_page(request: Request, p: Params, cap: Capacity, lang: str = Lang, scenario: str | None = Scenario) -> Response:
    from web.capacity_maps import capacity_map  # with folium: loaded by the first map (api.maps)
    from web.maps import page

    check_lang(lang)
    change = saved(request, scenario) if scenario else None
    engine, tiles = current_engine(request), served_tiles(request)
    return html_page(request, ("capacity map", p, cap, lang, change.key if change else None), lambda: page(capacity_map(
        engine, p, capacity_analysis.capacity(engine, p, cap, scenario=change), lang=lang, tile_url=tiles)))


@router.get("/maps/chain", response_class=HTMLResponse, summary="Map of the justice chain: court to prison with room, occupancy")
def chain_page(request: Request, p: Params, options: Chain, lang: str = Lang, scenario: str | None = Scenario) -> Response:
    from web.capacity_maps import chain_map  # with folium: loaded by the first map (api.maps)
    from web.maps import page

    check_lang(lang)
    change = saved(request, scenario) if scenario else None
    engine, tiles = current_engine(request), served_tiles(request)
    return html_page(request, ("chain map", p, tuple(sorted(options.items())), lang, change.key if change else None),
                     lambda: page(chain_map(engine, p, capacity_analysis.chain(engine, p, scenario=change, **options),
                                            lang=lang, tile_url=tiles)))
