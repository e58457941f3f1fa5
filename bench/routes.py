"""Benchmark (run by hand): the route planner on the embedded data with 25, 50 and 100 stops.

    python bench/routes.py                 # 25, 50, 100 stops; long runs of 5x the default time (at least 60 s)
    python bench/routes.py --sizes 25 --long 30

Stops are the towns (settlements and facility seats, one per place) nearest Mopti; teams leave from Mopti, Tombouctou,
Gao and Bamako, one team per depot for each 32 stops, 21 days, 8 hours of driving a day, risk penalised, from
2024-01-08. For each size it prints the time to build the travel matrix, the solver's time and result with its
default time limit, and the gap to a long run of the same solver on the same matrix.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

from geo_justice.access import Engine
from geo_justice.route_solver import default_seconds, route_minutes, solve
from geo_justice.places import Place, find_place, fold, gazetteer
from geo_justice.routes import RouteRequest, Stop, route_problem
from layers import load_dataset

DEPOTS = ("Mopti", "Tombouctou", "Gao", "Bamako")


def towns_near(dataset, centre: Place, count: int, skip: set[str]) -> list[Place]:
    """The `count` named places nearest `centre` (settlements first), one per name and per location."""
    table = gazetteer(dataset)
    table = table[table["rank"] < 2].sort_values("rank").drop_duplicates("key")
    table = table[~table["key"].isin(skip)].assign(spot=lambda t: list(zip(t["lon"].round(2), t["lat"].round(2))))
    table = table.drop_duplicates("spot")
    distance = np.hypot(table["lon"] - centre.lon, table["lat"] - centre.lat)
    chosen = table.iloc[np.argsort(distance.to_numpy(), kind="stable")[:count]]
    if len(chosen) < count:
        raise SystemExit(f"the embedded data has only {len(chosen)} distinct towns besides the depots")
    return [Place(r.name, float(r.lon), float(r.lat)) for r in chosen.itertuples()]


def total(problem, solution) -> tuple[int, float]:
    """Stops planned and total driving hours."""
    stops = sum(len(route) for _, route in solution.routes)
    return stops, sum(route_minutes(problem, d, r) for d, r in solution.routes) / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100])
    parser.add_argument("--long", type=float, default=None, help="Seconds of the long run (default: 5x default, at least 60).")
    args = parser.parse_args()
    dataset = load_dataset()
    engine = Engine(dataset)
    depots = tuple(find_place(dataset, name) for name in DEPOTS)
    print("stops | teams | matrix s | solve s | planned | drive h | long-run s | planned | drive h | gap")
    print("---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---:")
    for size in args.sizes:
        towns = towns_near(dataset, depots[0], size, {fold(d.name) for d in depots} | {"timbuktu"})
        teams = math.ceil(size / 32)
        request = RouteRequest(depots, tuple(Stop(t) for t in towns), "2024-01-08", teams=teams, max_days=21)
        began = time.perf_counter()
        _, problem = route_problem(engine, request)
        matrix_s = time.perf_counter() - began
        seconds = default_seconds(size)
        long_seconds = args.long or max(60.0, 5 * seconds)
        runs = []
        for limit in (seconds, long_seconds):
            began = time.perf_counter()
            solution = solve(problem, limit)
            runs.append((time.perf_counter() - began, *total(problem, solution)))
        (quick_s, quick_n, quick_h), (long_s, long_n, long_h) = runs
        gap = f"{(quick_h - long_h) / long_h:+.2%}" if quick_n == long_n else f"{quick_n - long_n:+d} stops"
        print(f"{size} | {teams} x {len(depots)} | {matrix_s:.1f} | {quick_s:.1f} | {quick_n} | {quick_h:.1f} | "
              f"{long_s:.1f} | {long_n} | {long_h:.1f} | {gap}")


if __name__ == "__main__":
    main()
