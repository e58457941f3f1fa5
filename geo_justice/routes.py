"""Mobile-court route planner: circuits of mobile hearings from depots through towns, by day, away from risk.

`plan_routes(engine, request)` builds the friction surface on the start date (conflict layer included)
on a window around the places, computes the travel-time matrix with one least-cost search per place,
solves the routing problem (`route_solver`) and returns a `RoutePlan`: per team its ordered stops, a
dated day-by-day schedule and least-cost path legs with distance and risk exposure; per dropped stop why.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from layers.catalog import Dataset

from .access import AccessParams, Engine
from .conflict import ConflictParams, RiskSurface, risk_surface
from .dates import iso_date
from .grid import Grid
from .places import Place, find_place, gazetteer, place_from
from .route_solver import Circuits, Day, default_seconds, schedule, solve, whole_minutes
from .traveltime import Surface, TravelTime, least_cost_path, travel_time

RiskMode = Literal["avoid", "penalise", "ignore"]
MAX_STOPS = 200
MAX_TEAMS = 50
MAX_PRIORITY = 1_000_000
WINDOW_MARGIN_DEG = 1.0  # about 110 km around the places: room for detours and the risk kernel (3 x 25 km)


@dataclass(frozen=True)
class Stop:
    """A town where a team holds `hearing_days` days of hearings; higher `priority` (e.g. pending cases) is dropped last."""

    place: Place
    hearing_days: int = 1
    priority: int = 1

    def __post_init__(self) -> None:
        for name in ("hearing_days", "priority"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_PRIORITY:
                raise ValueError(f"stop {self.place.name!r}: {name} must be a whole number from 1 to {MAX_PRIORITY:,}, not {value!r}")


@dataclass(frozen=True)
class RiskPolicy:
    """avoid: cells above `level` (weighted incidents per 1,000 km²) are impassable, risk below slows travel by up
    to 1 + penalty; penalise: only the slowing; ignore: risk plays no part in the travel times."""

    mode: RiskMode = "penalise"
    level: float = ConflictParams.avoid_risk
    penalty: float = ConflictParams.penalty

    def __post_init__(self) -> None:
        if self.mode not in ("avoid", "penalise", "ignore"):
            raise ValueError(f"risk policy must be avoid, penalise or ignore, not {self.mode!r}")

    def conflict(self) -> ConflictParams:
        mode = {"avoid": "avoid", "penalise": "penalty", "ignore": "off"}[self.mode]
        return ConflictParams(mode=mode, avoid_risk=self.level, penalty=self.penalty)


@dataclass(frozen=True)
class RouteRequest:
    """One planning question. `teams` teams are based at each depot; a circuit lasts at most `max_days` days
    from `start` (ISO date) and drives at most `max_drive_hours` a day; `solver_seconds` None = by size."""

    depots: tuple[Place, ...]
    stops: tuple[Stop, ...]
    start: str
    teams: int = 1
    max_days: int = 10
    max_drive_hours: float = 8.0
    risk: RiskPolicy = field(default_factory=RiskPolicy)
    resolution_m: float = 1000.0
    solver_seconds: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "depots", tuple(self.depots))
        object.__setattr__(self, "stops", tuple(self.stops))
        object.__setattr__(self, "start", iso_date(self.start, "start").isoformat())
        if not self.depots:
            raise ValueError("depots: give at least one depot")
        if not self.stops:
            raise ValueError("stops: give at least one stop")
        if len(self.stops) > MAX_STOPS:
            raise ValueError(f"stops: at most {MAX_STOPS} stops, not {len(self.stops)}")
        names = [p.name for p in self.depots] + [s.place.name for s in self.stops]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"stops and depots must be distinct: {', '.join(twice)} listed more than once")
        checks = [("teams", self.teams, 1, MAX_TEAMS), ("max_days", self.max_days, 1, 366)]
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
        if not 0 < self.max_drive_hours <= 24:
            raise ValueError(f"max_drive_hours must be more than 0 and at most 24, not {self.max_drive_hours}")
        if not 100 <= self.resolution_m <= 10_000:
            raise ValueError(f"resolution_m must be between 100 and 10000 metres, not {self.resolution_m}")
        if self.solver_seconds is not None and not 0 < self.solver_seconds <= 600:
            raise ValueError(f"solver_seconds must be more than 0 and at most 600, not {self.solver_seconds}")

    @property
    def places(self) -> list[Place]:
        return list(self.depots) + [s.place for s in self.stops]


def route_request(dataset: Dataset, depots: Sequence[str | Mapping], stops: Sequence[str | Mapping], *,
                  hearing_days: int = 1, risk: str = "penalise", risk_level: float = ConflictParams.avoid_risk,
                  penalty: float = ConflictParams.penalty, **options) -> RouteRequest:
    """A RouteRequest from names or {name, lon, lat, hearing_days, priority} mappings; ValueError naming what is bad."""
    table = gazetteer(dataset)

    def stop(spec: str | Mapping) -> Stop:
        if isinstance(spec, str):
            return Stop(find_place(dataset, spec, table), hearing_days)
        return Stop(place_from(dataset, spec, table), spec.get("hearing_days", hearing_days), spec.get("priority", 1))
    return RouteRequest(depots=tuple(place_from(dataset, d, table) for d in depots), stops=tuple(stop(s) for s in stops),
                        risk=RiskPolicy(risk, risk_level, penalty), **options)


# --- the travel network ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Network:
    """The friction surface on a window around the places, and each place's cell on it."""

    grid: Grid
    friction: np.ndarray
    risk: RiskSurface
    cells: np.ndarray  # (n, 2) rows, cols of the places (moved off barriers)
    xy: np.ndarray     # (n, 2) projected coordinates of the places
    surface: Surface   # the friction prepared once for the searches

    def search(self, point: int, predecessors: bool = False) -> TravelTime:
        return travel_time(self.surface, self.grid.cell_size, self.cells[point:point + 1], predecessors=predecessors)


def window(engine: Engine, places: list[Place], resolution: float) -> Grid:
    """The engine's grid cut to the places' bounding box plus a margin; ValueError for a place outside the study area."""
    area = engine.dataset.study_area if engine.dataset.boundaries is None else tuple(engine.dataset.boundaries.total_bounds)
    for p in places:
        if not (area[0] <= p.lon <= area[2] and area[1] <= p.lat <= area[3]):
            raise ValueError(f"{p.name} ({p.lon:.4f}, {p.lat:.4f}) is outside the study area {tuple(round(a, 2) for a in area)}")
    lons, lats = [p.lon for p in places], [p.lat for p in places]
    margin = max(WINDOW_MARGIN_DEG, 0.25 * max(max(lons) - min(lons), max(lats) - min(lats)))
    bbox = (max(area[0], min(lons) - margin), max(area[1], min(lats) - margin),
            min(area[2], max(lons) + margin), min(area[3], max(lats) + margin))
    return Grid.covering(bbox, resolution, crs=engine.grid(resolution).crs)


def network(engine: Engine, request: RouteRequest) -> Network:
    """Friction (with the conflict layer as of the start date) on a grid window around every place."""
    lons, lats = [p.lon for p in request.places], [p.lat for p in request.places]
    grid = window(engine, request.places, request.resolution_m)
    params = AccessParams(as_of=request.start, resolution_m=request.resolution_m, conflict=request.risk.conflict())
    friction = engine.friction(grid, params)
    points = gpd.GeoDataFrame({"name": [p.name for p in request.places]}, geometry=gpd.points_from_xy(lons, lats), crs=4326)
    cells = engine.sources(grid, points, params.friction)  # moved off barriers, as facilities are
    projected = points.geometry.to_crs(grid.crs)
    risk = friction.risk if request.risk.mode != "ignore" else risk_surface(  # exposure is reported under every policy
        grid, engine.dataset.incidents, pd.Timestamp(request.start), replace(params.conflict, mode="penalty"))
    return Network(grid, friction.minutes_per_metre, risk, cells,
                   np.column_stack([projected.x, projected.y]), engine.surface(grid, params))


def avoided(net: Network, request: RouteRequest) -> dict[int, str]:
    """Places in a cell the risk policy makes impassable (places on barriers were moved off them), with the reason."""
    return {i: (f"inside an avoided area: risk {net.risk.at(r, c):.1f} is above the level {request.risk.level:g} "
                f"(weighted incidents per 1,000 km² as of {request.start})")
            for i, (r, c) in enumerate(net.cells) if not np.isfinite(net.friction[r, c])}


def travel_matrix(net: Network, skip: set[int]) -> np.ndarray:
    """Minutes from every place to every other over the friction surface (inf: no path); one search per place."""
    n = len(net.cells)
    minutes = np.full((n, n), np.inf)
    for i in range(n):
        if i not in skip:
            minutes[i] = net.search(i).minutes[net.cells[:, 0], net.cells[:, 1]]
    minutes[list(skip), :] = np.inf
    minutes[:, list(skip)] = np.inf
    np.fill_diagonal(minutes, 0.0)
    return minutes


# --- the plan ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Leg:
    """Driving from one place to the next along the least-cost path: whole minutes, metres, and risk exposure
    (risk integrated along the path, in weighted incidents per 1,000 km² x km) and the highest risk crossed."""

    origin: str
    destination: str
    minutes: int
    metres: float
    risk_exposure: float
    max_risk: float
    geometry: shapely.LineString  # WGS 84, simplified to half a cell


@dataclass(frozen=True)
class TeamPlan:
    """One team's circuit: depot, stops in order, legs (depot to first stop ... last stop to depot), schedule."""

    team: int
    depot: Place
    stops: list[Stop]
    legs: list[Leg]
    days: list[Day]

    @property
    def drive_minutes(self) -> int:
        return sum(leg.minutes for leg in self.legs)

    @property
    def metres(self) -> float:
        return sum(leg.metres for leg in self.legs)

    @property
    def risk_exposure(self) -> float:
        return sum(leg.risk_exposure for leg in self.legs)

    @property
    def end_date(self) -> str:
        return self.days[-1].date


@dataclass(frozen=True)
class RoutePlan:
    """The answer: one TeamPlan per team with stops, the stops not planned with the reason, and notes."""

    request: RouteRequest
    dataset_version: str
    teams: list[TeamPlan]
    dropped: list[tuple[Stop, str]]
    notes: list[str]

    def summary(self) -> dict:
        """JSON-ready plan without geometry."""
        return {
            "start": self.request.start, "max_days": self.request.max_days,
            "max_drive_hours": self.request.max_drive_hours, "risk_policy": self.request.risk.mode,
            "dataset_version": self.dataset_version,
            "teams": [{"team": t.team, "depot": t.depot.name, "stops": [s.place.name for s in t.stops],
                       "days": len(t.days), "end_date": t.end_date, "drive_hours": round(t.drive_minutes / 60, 2),
                       "distance_km": round(t.metres / 1000, 1), "risk_exposure": round(t.risk_exposure, 1),
                       "schedule": [vars(d) for d in t.days]} for t in self.teams],
            "dropped": [{"stop": s.place.name, "priority": s.priority, "reason": r} for s, r in self.dropped],
            "notes": self.notes,
        }


def route_problem(engine: Engine, request: RouteRequest) -> tuple[Network, Circuits]:
    """The travel network and the routing question of `request`, before solving."""
    net = network(engine, request)
    excluded = avoided(net, request)
    minutes = whole_minutes(travel_matrix(net, set(excluded)))
    problem = Circuits(tuple(p.name for p in request.places), minutes, len(request.depots),
                       tuple(s.hearing_days for s in request.stops), tuple(s.priority for s in request.stops),
                       request.teams, request.max_days, round(request.max_drive_hours * 60), excluded)
    return net, problem


def plan_routes(engine: Engine, request: RouteRequest) -> RoutePlan:
    """Plan the circuits of `request` on the engine's dataset (see the module docstring)."""
    net, problem = route_problem(engine, request)
    depots = len(request.depots)
    solution = solve(problem, request.solver_seconds or default_seconds(len(request.stops)))
    start, searches = dt.date.fromisoformat(request.start), {}
    teams, notes = [], list(solution.notes)
    for depot, stops in solution.routes:
        if not stops:
            notes.append(f"a team at {problem.names[depot]} has no stop to serve")
            continue
        points = [depot, *stops, depot]
        legs = [_leg(net, searches, problem, a, b) for a, b in zip(points, points[1:])]
        teams.append(TeamPlan(len(teams) + 1, request.depots[depot], [request.stops[s - depots] for s in stops], legs,
                              schedule(problem, depot, stops, start)))
    dropped = [(request.stops[s - depots], reason) for s, reason in solution.dropped.items()]
    if not teams:
        notes.append("no stop could be planned: see the reason given for each stop")
    return RoutePlan(request, engine.dataset.version, teams, dropped, notes)


def _leg(net: Network, searches: dict[int, TravelTime], problem: Circuits, a: int, b: int) -> Leg:
    """The least-cost path from place a to place b with its length, risk exposure and simplified geometry."""
    if a not in searches:
        searches[a] = net.search(a, predecessors=True)
    cells = least_cost_path(searches[a], tuple(int(v) for v in net.cells[b]))
    xs, ys = net.grid.centres(cells[:, 0], cells[:, 1])
    steps = np.hypot(np.diff(xs), np.diff(ys))
    risk = net.risk.at(cells[:, 0], cells[:, 1]).astype(float)
    exposure = float(np.sum(steps / 1000 * (risk[1:] + risk[:-1]) / 2))
    line = np.vstack([net.xy[a], np.column_stack([xs, ys]), net.xy[b]])
    simple = shapely.LineString(line).simplify(net.grid.cell_size / 2)
    to_wgs84 = Transformer.from_crs(net.grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(*np.asarray(simple.coords).T)
    return Leg(problem.names[a], problem.names[b], int(problem.minutes[a, b]), float(steps.sum()), exposure,
               float(risk.max()), shapely.LineString(np.column_stack([lon, lat])))


def parse_stops(text: str) -> list[str | dict]:
    """Stops from 'Town,Town:days,Town:days:priority' (the CLI's form): a name, or a mapping with hearing days and priority."""
    stops: list[str | dict] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, *numbers = [p.strip() for p in item.split(":")]
        if len(numbers) > 2 or not all(n.isdigit() for n in numbers):
            raise ValueError(f"stop {item!r}: write Town, Town:hearing_days or Town:hearing_days:priority (whole numbers)")
        keys = ("hearing_days", "priority")
        stops.append({"name": name, **{k: int(n) for k, n in zip(keys, numbers)}} if numbers else name)
    return stops
