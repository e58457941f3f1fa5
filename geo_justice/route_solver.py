"""Mobile-hearing circuits as a vehicle-routing problem with a day dimension (OR-Tools), and their schedules.

The day model, shared by the solver and the schedule so that both always agree:

- a leg of m whole minutes of driving takes ceil(m / H) days when a team drives at most H minutes a day
  (a team drives H minutes a day until the last day of the leg, sleeping en route in between);
- a stop then takes its hearing days, starting the day after arrival; driving resumes the next morning;
- a circuit's days are the sum of its legs' driving days and its stops' hearing days, at most `max_days`.

The objective is the total driving time. Every stop is optional, with a penalty larger than any
routing cost times its priority, so stops are dropped only when they cannot fit, lowest priority first.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

UNREACHABLE = -1


def whole_minutes(minutes: np.ndarray) -> np.ndarray:
    """Driving minutes rounded up to whole minutes (int64); UNREACHABLE where there is no path."""
    minutes = np.asarray(minutes, dtype=float)
    finite = np.isfinite(minutes)
    whole = np.full(minutes.shape, UNREACHABLE, dtype=np.int64)
    whole[finite] = np.ceil(minutes[finite])
    return whole


def drive_days(minutes: int, max_drive_minutes: int) -> int:
    """Days a leg of `minutes` whole minutes takes at no more than `max_drive_minutes` a day (0 if no driving)."""
    return -(-int(minutes) // int(max_drive_minutes))


@dataclass(frozen=True)
class Circuits:
    """The routing question on whole minutes. Points are the depots (first `depots` rows), then the stops.

    minutes[i, j]: driving minutes from point i to point j, UNREACHABLE (-1) when there is no path;
    hearing_days and priority: one per stop; teams: teams based at each depot; excluded: points known to
    be unusable (e.g. inside an avoided area), with the reason.
    """

    names: tuple[str, ...]
    minutes: np.ndarray
    depots: int
    hearing_days: tuple[int, ...]
    priority: tuple[int, ...]
    teams: int
    max_days: int
    max_drive_minutes: int
    excluded: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.names)
        if self.minutes.shape != (n, n):
            raise ValueError(f"minutes must be {n} x {n}, not {self.minutes.shape}")
        if not 1 <= self.depots < n:
            raise ValueError("a circuit needs at least one depot and one stop")
        if len(self.hearing_days) != n - self.depots or len(self.priority) != n - self.depots:
            raise ValueError("hearing_days and priority need one value per stop")

    def days(self, i: int, j: int) -> int:
        """Days from leaving point i to the end of point j's hearings; max_days + 1 when j cannot be reached."""
        if self.minutes[i, j] == UNREACHABLE:
            return self.max_days + 1
        hearing = self.hearing_days[j - self.depots] if j >= self.depots else 0
        return drive_days(self.minutes[i, j], self.max_drive_minutes) + hearing


@dataclass(frozen=True)
class Solution:
    """Per team its depot and its stops in order (point indices); the stops not planned, with the reason."""

    routes: list[tuple[int, list[int]]]
    dropped: dict[int, str]
    notes: list[str]


def solve(problem: Circuits, seconds: float) -> Solution:
    """Plan the circuits: least total driving, every stop that fits, lower priorities dropped first."""
    depots = [d for d in range(problem.depots) if d not in problem.excluded]
    notes = [f"depot {problem.names[d]} not used: {problem.excluded[d]}" for d in range(problem.depots) if d not in depots]
    dropped = {s: problem.excluded[s] for s in range(problem.depots, len(problem.names)) if s in problem.excluded}
    candidates = []
    for s in range(problem.depots, len(problem.names)):
        if s in dropped:
            continue
        reason = _alone_reason(problem, depots, s)
        if reason:
            dropped[s] = reason
        else:
            candidates.append(s)
    if not candidates:
        return Solution([(d, []) for d in depots for _ in range(problem.teams)], dropped, notes)
    routes = _route(problem, depots, candidates, seconds)
    planned = {s for _, stops in routes for s in stops}
    for s in candidates:
        if s not in planned:
            dropped[s] = (f"not enough team-days: the {problem.teams * len(depots)} team(s) of {problem.max_days} days "
                          f"went to stops of higher priority or cheaper to reach (priority {problem.priority[s - problem.depots]})")
    return Solution(routes, dict(sorted(dropped.items())), notes)


def _alone_reason(problem: Circuits, depots: list[int], s: int) -> str | None:
    """Why stop s cannot be planned even alone, or None when some depot's team could do it."""
    if not depots:
        return "no usable depot: " + "; ".join(problem.excluded[d] for d in range(problem.depots))
    reachable = [d for d in depots if problem.minutes[d, s] != UNREACHABLE and problem.minutes[s, d] != UNREACHABLE]
    if not reachable:
        return f"unreachable: no passable path from {', '.join(problem.names[d] for d in depots)} under the risk policy"
    best = min(reachable, key=lambda d: problem.days(d, s) + problem.days(s, d))
    needed = problem.days(best, s) + problem.days(s, best)
    if needed > problem.max_days:
        return (f"beyond the days available: the round trip from {problem.names[best]} with its "
                f"{problem.hearing_days[s - problem.depots]} hearing day(s) needs {needed} days, {problem.max_days} available")
    return None


def _route(problem: Circuits, depots: list[int], candidates: list[int], seconds: float) -> list[tuple[int, list[int]]]:
    """The OR-Tools model over the depots and the candidate stops; routes in point indices."""
    nodes = depots + candidates  # node k of the model is point nodes[k]
    starts = [k for k in range(len(depots)) for _ in range(problem.teams)]
    manager = pywrapcp.RoutingIndexManager(len(nodes), len(starts), starts, starts)
    model = pywrapcp.RoutingModel(manager)
    sub = problem.minutes[np.ix_(nodes, nodes)]
    big = int(sub[sub > 0].sum()) + 1  # more than any set of routes can cost
    cost = np.where(sub == UNREACHABLE, big, sub).tolist()
    days = [[problem.days(i, j) for j in nodes] for i in nodes]

    def arc(matrix: list[list[int]]):
        return lambda a, b: matrix[manager.IndexToNode(a)][manager.IndexToNode(b)]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(arc(cost)))
    model.AddDimension(model.RegisterTransitCallback(arc(days)), 0, problem.max_days, True, "days")
    for k in range(len(depots), len(nodes)):
        model.AddDisjunction([manager.NodeToIndex(k)], big * problem.priority[nodes[k] - problem.depots])
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    solution = model.SolveWithParameters(params)
    if solution is None:  # cannot happen with every stop optional; kept as a clear failure rather than a crash
        raise RuntimeError(f"the routing solver found no plan (status {model.status()})")
    routes = []
    for vehicle, start in enumerate(starts):
        index, stops = solution.Value(model.NextVar(model.Start(vehicle))), []
        while not model.IsEnd(index):
            stops.append(nodes[manager.IndexToNode(index)])
            index = solution.Value(model.NextVar(index))
        routes.append((depots[start], stops))
    return routes


def route_minutes(problem: Circuits, depot: int, stops: list[int]) -> int:
    """Total driving minutes of a circuit from `depot` through `stops` and back."""
    points = [depot, *stops, depot]
    return int(sum(problem.minutes[a, b] for a, b in zip(points, points[1:])))


@dataclass(frozen=True)
class Day:
    """One day of a team's circuit. activity: drive (origin to destination) or hearing (at destination)."""

    day: int
    date: str
    activity: str
    origin: str
    destination: str
    drive_minutes: int
    note: str


def schedule(problem: Circuits, depot: int, stops: list[int], start: dt.date) -> list[Day]:
    """Day by day from `start`: full driving days of at most max_drive_minutes, then each stop's hearing days."""
    days: list[Day] = []

    def add(activity: str, origin: str, destination: str, minutes: int, note: str) -> None:
        date = (start + dt.timedelta(days=len(days))).isoformat()
        days.append(Day(len(days) + 1, date, activity, origin, destination, minutes, note))

    points = [depot, *stops, depot]
    for a, b in zip(points, points[1:]):
        left = int(problem.minutes[a, b])
        for k in range(drive_days(left, problem.max_drive_minutes)):
            today = min(left, problem.max_drive_minutes)
            left -= today
            note = f"arrive {problem.names[b]}" if left == 0 else f"overnight en route to {problem.names[b]}"
            add("drive", problem.names[a], problem.names[b], today, note)
        if b >= problem.depots:
            count = problem.hearing_days[b - problem.depots]
            for k in range(count):
                add("hearing", problem.names[b], problem.names[b], 0, f"hearing day {k + 1} of {count}")
    return days


def route_days(problem: Circuits, depot: int, stops: list[int]) -> int:
    """Days a circuit takes in the day model (what the solver's dimension adds up)."""
    points = [depot, *stops, depot]
    return sum(problem.days(a, b) for a, b in zip(points, points[1:]))


def default_seconds(stops: int) -> float:
    """Solver time: 1 s up to 5 stops, then 0.2 s per stop, at most 30 s."""
    return float(min(30.0, max(1.0, stops / 5)))
