"""What-if scenarios: named changes applied on top of the data, never written into it.

A scenario sets a facility's status, moves its sitting place (or back to its seat), adds a hypothetical
court, adds a crossing (a bridge, dam or ferry with its wait) over a barrier, or adds a mobile hearing point
held `sessions_per_year` times for `days_per_session` days; it can also set or add to a facility's capacity
figures (e.g. two more judges at a court, a prison's capacity). A
mobile hearing point counts as a court for the people within its reach; coverage is also reported
time-averaged, each person weighted by the availability of the best point they can reach
(sessions x days / COURT_DAYS_PER_YEAR, at most 1), so a quarterly hearing is not a standing court.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.barriers import CROSSING_KINDS, MAX_CROSSING_DISTANCE_M, distances_to_barriers
from layers.catalog import Dataset
from layers.checks import coordinate_problem
from layers.errors import LayerError, Problem
from layers.facilities import COURT_FIGURES, FIGURES_SOURCE
from layers.vocabulary import STATUSES

from .access import Access, AccessParams, Engine
from .facilities import counting
from .places import Place, find_place, gazetteer
from .traveltime import TravelTime, travel_time

#: Days a standing court sits in a year: the yardstick of a mobile hearing point's availability.
COURT_DAYS_PER_YEAR = 250
MOBILE_TIER = "mobile hearing"


@dataclass(frozen=True)
class SetFacility:
    """Change an existing facility: its status and/or its sitting place (None: unchanged; seat: back home), and
    capacity figures: (field, value, added) sets the field to value, or adds value to it when `added`."""

    facility_id: str
    status: str | None = None
    sitting: Place | None = None
    to_seat: bool = False
    figures: tuple[tuple[str, float, bool], ...] = ()


@dataclass(frozen=True)
class AddCourt:
    name: str
    place: Place
    tier: str = "ti"
    judges: float | None = None


@dataclass(frozen=True)
class MobileHearing:
    name: str
    place: Place
    sessions_per_year: float
    days_per_session: float = 3.0
    cases_per_session: float | None = None  # None: the capacity analysis's cases per hearing

    @property
    def availability(self) -> float:
        return min(1.0, self.sessions_per_year * self.days_per_session / COURT_DAYS_PER_YEAR)


@dataclass(frozen=True)
class AddCrossing:
    """A bridge, dam or ferry over a barrier (within 2 km of one); a ferry's wait is paid on crossing."""

    name: str
    place: Place
    kind: str = "ferry"
    wait_minutes: float = 0.0


Change = SetFacility | AddCourt | MobileHearing | AddCrossing


@dataclass(frozen=True)
class Scenario:
    name: str
    changes: tuple[Change, ...]
    description: str = ""

    @property
    def key(self) -> str:
        """Content hash: the same changes give the same id."""
        return hashlib.sha256(repr((self.name, self.changes)).encode()).hexdigest()[:16]

    @property
    def mobile(self) -> tuple[MobileHearing, ...]:
        return tuple(c for c in self.changes if isinstance(c, MobileHearing))


def read_scenario(spec: dict[str, Any] | str | Path, dataset: Dataset, *, source: str = "scenario") -> Scenario:
    """A Scenario from a JSON file or an already parsed object; one LayerError lists every bad change.

    {"name": ..., "description": ..., "changes": [
        {"facility": id, "status": "operational"},               {"facility": id, "sitting": "seat"},
        {"facility": id, "sitting": "Town" | {"name", "lon", "lat"}},
        {"facility": court id, "judges": 5} or {"facility": court id, "add_judges": 2}  (also hearings_per_year,
         cases_per_year; prisons: capacity, detainees),
        {"add": "court", "name": ..., "at": "Town" | {"lon", "lat"}, "tier": "ti", "judges": 2},
        {"add": "mobile_hearing", "name": ..., "at": ..., "sessions_per_year": 4, "days_per_session": 3,
         "cases_per_session": 5},
        {"add": "crossing", "name": ..., "at": {"lon", "lat"}, "kind": "ferry", "wait_minutes": 30}]}
    """
    if not isinstance(spec, dict):
        source = Path(spec).name
        try:
            spec = json.loads(Path(spec).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LayerError([Problem(source, None, None, f"cannot read the scenario ({exc})")]) from None
    problems: list[Problem] = []
    if not isinstance(spec, dict) or not isinstance(spec.get("changes"), list) or not spec["changes"]:
        raise LayerError([Problem(source, None, "changes", "a scenario is an object with a non-empty list 'changes'")])
    extra = sorted(set(spec) - {"name", "description", "changes"})
    if extra:
        raise LayerError([Problem(source, None, extra[0], "not a field of a scenario (name, description, changes)")])
    known = {**{i: "court" for i in dataset.courts["id"]}, **{i: "prison" for i in dataset.prisons["id"]}}
    places = gazetteer(dataset)
    changes = []
    for number, item in enumerate(spec["changes"], start=1):
        where = f"change {number}"
        try:
            changes.append(_change(item, known, dataset, places))
        except _Bad as bad:
            problems.append(Problem(source, where, bad.field, bad.message))
    if problems:
        raise LayerError(problems)
    return Scenario(str(spec.get("name") or "unnamed scenario"), tuple(changes), str(spec.get("description", "")))


class _Bad(Exception):
    def __init__(self, field: str | None, message: str):
        self.field, self.message = field, message


FIGURES = {"court": COURT_FIGURES, "prison": ("capacity", "detainees")}


def _change(item: Any, known: dict[str, str], dataset: Dataset, places: pd.DataFrame) -> Change:
    if not isinstance(item, dict):
        raise _Bad(None, "each change is an object")
    if "facility" in item:
        facility = str(item["facility"])
        if facility not in known:
            raise _Bad("facility", f"no facility with id {facility!r}")
        figures = FIGURES[known[facility]]
        allowed = ["facility", "status", "sitting", *figures, *(f"add_{f}" for f in figures)]
        extra = set(item) - set(allowed)
        if extra:
            raise _Bad(sorted(extra)[0], f"not a field of a {known[facility]} change ({', '.join(allowed)})")
        status = item.get("status")
        if status is not None and status not in STATUSES:
            raise _Bad("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        sitting = item.get("sitting")
        changed = _figures(item, facility, figures, dataset.facilities(known[facility]))
        if status is None and sitting is None and not changed:
            raise _Bad("status", "a facility change sets a status, a sitting place, capacity figures or several")
        to_seat = sitting == "seat"
        place = None if sitting is None or to_seat else _place(sitting, "sitting", dataset, places)
        return SetFacility(facility, status, place, to_seat, changed)
    kind = item.get("add")
    if kind not in ("court", "mobile_hearing", "crossing"):
        raise _Bad("add", "a change names an existing 'facility' or adds a 'court', a 'mobile_hearing' or a 'crossing'")
    allowed = {"court": {"add", "name", "at", "tier", "judges"},
               "mobile_hearing": {"add", "name", "at", "sessions_per_year", "days_per_session", "cases_per_session"},
               "crossing": {"add", "name", "at", "kind", "wait_minutes"}}[kind]
    extra = set(item) - allowed
    if extra:
        raise _Bad(sorted(extra)[0], f"not a field of an added {kind} ({', '.join(sorted(allowed))})")
    if "at" not in item:
        raise _Bad("at", "where it sits: a town name or {\"lon\": ..., \"lat\": ...}")
    place = _place(item["at"], "at", dataset, places)
    name = str(item.get("name") or f"{kind.replace('_', ' ')} at {place.name}")
    if kind == "crossing":
        return _crossing(item, place, name, dataset)
    if kind == "court":
        tier = item.get("tier", "ti")
        if tier not in dataset.tiers:
            raise _Bad("tier", f"{tier!r} is not one of {', '.join(dataset.tiers)}")
        judges = _number(item, "judges", None, 0, 10_000) if "judges" in item else None
        return AddCourt(name, place, tier, judges)
    sessions, days = _number(item, "sessions_per_year", None, 1, 365), _number(item, "days_per_session", 3.0, 0.5, 365)
    cases = _number(item, "cases_per_session", None, 0, 100_000) if "cases_per_session" in item else None
    return MobileHearing(name, place, sessions, days, cases)


def _figures(item: dict, facility: str, figures: tuple[str, ...], table: pd.DataFrame) -> tuple[tuple[str, float, bool], ...]:
    """The capacity figures a facility change sets (field: value) or adds to (add_field: value)."""
    row = table.set_index("id").loc[facility]
    out = []
    for field in figures:
        if field in item:
            out.append((field, _number(item, field, None, 0, 1e9), False))
        if f"add_{field}" in item:
            added = _number(item, f"add_{field}", None, -1e9, 1e9)
            current = float(row[field]) if field in row and pd.notna(row[field]) else None
            if current is None:
                raise _Bad(f"add_{field}", f"{facility} has no {field} figure to add to; set {field!r} instead")
            if current + added < 0:
                raise _Bad(f"add_{field}", f"{facility} has {current:g} {field}; adding {added:g} leaves fewer than 0")
            out.append((field, added, True))
    return tuple(out)


def _crossing(item: dict, place: Place, name: str, dataset: Dataset) -> AddCrossing:
    kind = item.get("kind", "ferry")
    if kind not in CROSSING_KINDS:
        raise _Bad("kind", f"{kind!r} is not one of {', '.join(CROSSING_KINDS)}")
    wait = _number(item, "wait_minutes", None if kind == "ferry" else 0.0, 0, 24 * 60)
    if dataset.barriers is None or dataset.barriers.empty:
        raise _Bad("at", "the dataset has no barriers (rivers, lakes) to cross")
    metres = distances_to_barriers(gpd.GeoSeries([_point(place)], crs="EPSG:4326"), dataset.barriers)[0]
    if not metres <= MAX_CROSSING_DISTANCE_M:
        far = "more than 5 km" if np.isinf(metres) else f"{metres / 1000:.1f} km"
        raise _Bad("at", f"{place.name} is {far} from the nearest barrier; a crossing must lie within "
                         f"{MAX_CROSSING_DISTANCE_M / 1000:g} km of a river or lake")
    return AddCrossing(name, place, kind, wait)


def scenario_engine(engine: Engine, scenario: Scenario) -> Engine:
    """The engine on the dataset plus the scenario's crossings (sharing its cache); `engine` when it adds none."""
    added = [c for c in scenario.changes if isinstance(c, AddCrossing)]
    if not added:
        return engine
    dataset = engine.dataset
    rows = gpd.GeoDataFrame({"id": [f"scenario-crossing-{i}" for i in range(1, len(added) + 1)],
                             "name": [c.name for c in added], "kind": [c.kind for c in added],
                             "wait_minutes": [c.wait_minutes for c in added],
                             "source": [f"scenario: {scenario.name}"] * len(added)},
                            geometry=[_point(c.place) for c in added], crs="EPSG:4326")
    crossings = rows if dataset.crossings is None else gpd.GeoDataFrame(
        pd.concat([dataset.crossings, rows], ignore_index=True), geometry="geometry", crs="EPSG:4326")
    version = hashlib.sha256(f"{dataset.versions.get('crossings')} {scenario.key}".encode()).hexdigest()[:16]
    return Engine(replace(dataset, crossings=crossings, versions={**dataset.versions, "crossings": version}), engine.cache)


def _number(item: dict, field: str, default: float | None, low: float, high: float) -> float:
    value = item.get(field, default)
    if value is None:
        raise _Bad(field, "required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _Bad(field, f"must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


def _place(value: Any, field: str, dataset: Dataset, places: pd.DataFrame) -> Place:
    if isinstance(value, str):
        try:
            return find_place(dataset, value, places)
        except ValueError as exc:
            raise _Bad(field, str(exc)) from None
    if not isinstance(value, dict) or not {"lon", "lat"} <= set(value):
        raise _Bad(field, "a town name or an object with lon and lat")
    lon, lat = value["lon"], value["lat"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat)):
        raise _Bad(field, f"lon and lat must be numbers, not {lon!r}, {lat!r}")
    problem = coordinate_problem(float(lon), float(lat), dataset.study_area)
    if problem:
        raise _Bad(field, problem)
    return Place(str(value.get("name") or f"{lat:.4f}, {lon:.4f}"), float(lon), float(lat), "scenario")


def scenario_facilities(dataset: Dataset, scenario: Scenario, params: AccessParams) -> gpd.GeoDataFrame:
    """The counting facilities under the scenario (actual mode, on `params.as_of`), mobile hearing points included."""
    state = scenario_state(dataset, scenario, params.kind, params.as_of).set_index("id", drop=False)
    added = []
    for number, change in enumerate(scenario.changes, start=1):
        if isinstance(change, SetFacility) and change.facility_id in state.index:
            row = change.facility_id
            if change.status is not None:
                state.loc[row, ["status", "status_source"]] = change.status, f"scenario: {scenario.name}"
            if change.to_seat:
                state.loc[row, ["sitting_name", "sitting_lon", "sitting_lat"]] = "", np.nan, np.nan
            elif change.sitting is not None:
                place = change.sitting
                state.loc[row, ["sitting_name", "sitting_lon", "sitting_lat"]] = place.name, place.lon, place.lat
        elif isinstance(change, (AddCourt, MobileHearing)) and params.kind == "court":
            added.append({"id": f"scenario-{number}", "name": change.name, "kind": "court",
                          "tier": change.tier if isinstance(change, AddCourt) else MOBILE_TIER, "region": "",
                          "status": "operational", "status_source": f"scenario: {scenario.name}", "sitting_name": "",
                          "counted_at": "seat", "geometry": _point(change.place), **_added_figures(change, scenario)})
    tiers = params.tiers
    standing = counting(gpd.GeoDataFrame(state.reset_index(drop=True), crs="EPSG:4326"), mode="actual", tiers=tiers,
                        vocabulary=tuple(dataset.tiers))
    if not added:
        return standing
    extra = gpd.GeoDataFrame(added, geometry="geometry", crs="EPSG:4326")
    courts = extra[extra["tier"] != MOBILE_TIER]
    if tiers:
        courts = courts[courts["tier"].isin(tiers)]
    mobile = extra[extra["tier"] == MOBILE_TIER]
    return gpd.GeoDataFrame(pd.concat([standing, courts, mobile], ignore_index=True), geometry="geometry", crs="EPSG:4326")


def scenario_state(dataset: Dataset, scenario: Scenario, kind: str, as_of: str) -> gpd.GeoDataFrame:
    """The courts or prisons as of `as_of` with the scenario's capacity figures applied (statuses and sitting
    places are applied by `scenario_facilities`)."""
    state = dataset.facilities_as_of(kind, as_of).set_index("id", drop=False)
    for change in scenario.changes:
        if isinstance(change, SetFacility) and change.figures and change.facility_id in state.index:
            for field, value, added in change.figures:
                state.loc[change.facility_id, field] = (state.loc[change.facility_id, field] + value) if added else value
            state.loc[change.facility_id, FIGURES_SOURCE] = f"scenario: {scenario.name}"
    return gpd.GeoDataFrame(state.reset_index(drop=True), crs="EPSG:4326")


def _added_figures(change: AddCourt | MobileHearing, scenario: Scenario) -> dict[str, Any]:
    """Capacity figures of an added court (judges) or mobile hearing point (sessions, and cases when given)."""
    source = {FIGURES_SOURCE: f"scenario: {scenario.name}"}
    if isinstance(change, AddCourt):
        return {"judges": np.nan if change.judges is None else change.judges, **source}
    cases = np.nan if change.cases_per_session is None else change.sessions_per_year * change.cases_per_session
    return {"hearings_per_year": change.sessions_per_year, "cases_per_year": cases, **source}


def _point(place: Place):
    return gpd.points_from_xy([place.lon], [place.lat])[0]


def updated_access(engine: Engine, baseline: Access, facilities: gpd.GeoDataFrame, *, incremental: bool = True,
                   max_minutes: float = np.inf, sites: tuple[gpd.GeoDataFrame, np.ndarray] | None = None) -> Access:
    """Access with `facilities` counting instead of the baseline's, on the baseline's grid and friction.

    Incremental: only the catchments of removed sites are cleared and recomputed from their borders, and
    only where added sites are nearer is anything searched; the minutes equal a full recomputation. With
    an engine whose friction differs from the baseline's (a scenario's crossings), pass incremental=False.
    `max_minutes`: nothing is searched beyond it (a baseline searched to the same limit is updated as well).
    `sites`: `engine.place_sites` of `facilities`, when the caller has it.
    """
    grid, params = baseline.grid, baseline.params
    surface = engine.surface(grid, params)
    if sites is None:  # the facilities' table with their sites is made while the search runs (it releases the GIL)
        site, cells = engine.site_index(grid, facilities, params)
        table = _beside().submit(facilities.assign, site=site)
    else:
        sited, cells = sites
    if not incremental:
        result = travel_time(surface, grid.cell_size, cells, neighbours=params.neighbours, max_minutes=max_minutes)
    else:
        new_index = {(int(r), int(c)): j for j, (r, c) in enumerate(cells)}
        relabel = np.array([new_index.get((int(r), int(c)), -1) for r, c in baseline.site_cells], dtype=np.int32)
        old_cells = {(int(r), int(c)) for r, c in baseline.site_cells}
        added = np.array([j for j, (r, c) in enumerate(cells) if (int(r), int(c)) not in old_cells], dtype=np.int64)
        result = travel_time(surface, grid.cell_size, cells[added].reshape(-1, 2), labels=added,
                             neighbours=params.neighbours, initial=TravelTime(baseline.minutes, baseline.label),
                             relabel=relabel, max_minutes=max_minutes)
    minutes, label = engine.onto_banks(grid, params, result.minutes, result.label, result.changed_rows)
    if sites is None:
        sited = table.result()
    return Access(params, engine.dataset.version, grid, sited, cells, minutes, label, baseline.population, baseline.risk)


@functools.cache
def _beside() -> ThreadPoolExecutor:
    """One thread for table work done while a search runs."""
    return ThreadPoolExecutor(1, thread_name_prefix="geo-justice-tables")


os.register_at_fork(after_in_child=_beside.cache_clear)  # a forked child has none of the parent's threads


def point_reach(engine: Engine, access: Access, place: Place, max_minutes: float) -> np.ndarray:
    """Minutes from one place to every cell within `max_minutes` (inf beyond), on the access question's friction."""
    grid, params = access.grid, access.params
    friction = engine.surface(grid, params)
    point = gpd.GeoSeries([_point(place)], crs="EPSG:4326")
    cell = engine.sources(grid, gpd.GeoDataFrame({"name": [place.name]}, geometry=point), params.friction)
    result = travel_time(friction, grid.cell_size, cell, neighbours=params.neighbours, max_minutes=max_minutes)
    return engine.onto_banks(grid, params, result.minutes, result.label)[0]


def time_averaged(engine: Engine, standing: Access, mobile: tuple[MobileHearing, ...],
                  thresholds: tuple[float, ...]) -> dict[float, np.ndarray]:
    """Per T, persons per cell weighted by their access within T: 1 near a standing court, else the best
    availability among the mobile hearing points within T (0 if none)."""
    reach = [(m.availability, point_reach(engine, standing, m.place, max(thresholds))) for m in mobile]
    out = {}
    for t in thresholds:
        weight = (standing.minutes <= t).astype(np.float64)
        for availability, minutes in reach:
            weight = np.maximum(weight, availability * (minutes <= t))
        out[t] = standing.population * weight
    return out


def describe(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain data, for manifests and storage."""
    return {"name": scenario.name, "description": scenario.description, "id": scenario.key,
            "changes": [{"type": type(c).__name__, **asdict(c)} for c in scenario.changes]}
