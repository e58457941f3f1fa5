"""Benchmark (run by hand): the nominal travel-time search alone, as `coverage` runs it, at any resolution.

    python bench/search.py [--resolution 250] [--rounds 3] [--against heap|float32|one-core] [--strips 4]

One process: the embedded dataset's prepared friction surface (conflict penalty, the dataset's date) and its
court sites, then (after an unmeasured search of each case that stops at once, so that numba's kernels are loaded)
--rounds searches, printed one by one with their median and the load average. With --against,
each round also runs the same search with the 4-ary heap instead of the bucket ring (`heap`), with the surface
in float32 (`float32`) or on one core where the grid is large enough for two (`one-core`), the two alternating in turn, and the minutes and labels of both are compared. To compare
two versions of the code, run it from two worktrees in turn: `PYTHONPATH=WORKTREE python bench/search.py`.
--strips: how many strips of rows a search on two cores cuts the grid into (default: traveltime.STRIPS).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=250.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", choices=("heap", "float32", "one-core"))
    parser.add_argument("--strips", type=int)
    args = parser.parse_args()

    from geo_justice import traveltime
    from geo_justice.access import AccessParams, Engine
    from geo_justice.facilities import counting_facilities
    from layers import load_dataset

    if args.strips:
        traveltime.STRIPS = args.strips

    engine = Engine(load_dataset())
    params = engine.complete(AccessParams(mode="nominal", resolution_m=args.resolution))
    grid = engine.grid(args.resolution)
    surface = engine.surface(grid, params)
    facilities = counting_facilities(engine.dataset, mode="nominal", as_of=params.as_of)
    _, sites = engine.place_sites(grid, facilities, params)
    print(f"{traveltime.__file__}: {grid.shape[0]} x {grid.shape[1]} cells of {args.resolution:g} m, "
          f"{len(sites)} sites; load average {os.getloadavg()[0]:.2f}", flush=True)

    def search(case: str, limit: float = np.inf) -> tuple[float, traveltime.TravelTime]:
        chosen = surface if case != "float32" else dataclasses.replace(surface, padded=surface.padded.astype(np.float32))
        buckets, split = traveltime.MAX_BUCKETS, traveltime.SEARCH_SPLIT_CELLS
        traveltime.MAX_BUCKETS = 0 if case == "heap" else buckets
        traveltime.SEARCH_SPLIT_CELLS = 1 << 62 if case == "one-core" else split
        try:
            start = time.perf_counter()
            result = traveltime.travel_time(chosen, grid.cell_size, sites, max_minutes=limit)
            return time.perf_counter() - start, result
        finally:
            traveltime.MAX_BUCKETS, traveltime.SEARCH_SPLIT_CELLS = buckets, split

    cases = ["ring"] + ([args.against] if args.against else [])
    for case in cases:
        search(case, limit=1.0)  # unmeasured: numba loads (or compiles) this case's kernel; the search stops at once
    seconds: dict[str, list[float]] = {case: [] for case in cases}
    for round_ in range(args.rounds):
        results = {}
        for case in cases if round_ % 2 == 0 else cases[::-1]:
            took, results[case] = search(case)
            seconds[case].append(took)
        print(f"round {round_ + 1}: " + ", ".join(f"{case} {seconds[case][-1]:.2f} s" for case in cases)
              + f" (load {os.getloadavg()[0]:.2f})", flush=True)
        if args.against:
            ring, other = results["ring"], results[args.against]
            reached = np.isfinite(ring.minutes)
            worst = np.abs(ring.minutes[reached] - other.minutes[reached]).max()
            print(f"  {args.against} vs ring: largest difference in minutes {worst:.3g}, "
                  f"{int((ring.label != other.label).sum()):,} labels differ")
    for case in cases:
        print(f"{case}: best {min(seconds[case]):.2f} s, median {np.median(seconds[case]):.2f} s")


if __name__ == "__main__":
    main()
