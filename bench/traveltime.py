"""Benchmark (run by hand): the access engine against scikit-image's MCP_Geometric, same grid, same sources.

    python bench/traveltime.py [--rounds 6] [--resolution 1000]

Everything runs in one process: a warm-up (numba loads its compiled kernels from the on-disk cache, or
compiles them on the very first run; that time is printed apart), then --rounds rounds, each timing
MCP_Geometric and the engine in 16- and 8-neighbour modes one after another (the order rotates from round
to round, so a burst of load on this shared machine hits every case). Prints the best and the median of
each case and the ratios to MCP (wall time; and the median of this process's CPU time, which the other work
on a loaded machine sways less), with the machine's load average. The whole pipeline is in bench/pipeline.py.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

THRESHOLDS = (30, 60, 120, 240)


def inputs(resolution: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Friction, court sites and population of the embedded dataset on the grid (actual courts, default date)."""
    from geo_justice.access import AccessParams, Engine
    from geo_justice.facilities import counting_facilities
    from layers import load_dataset

    engine = Engine(load_dataset())
    params = engine.complete(AccessParams(resolution_m=resolution))
    grid = engine.grid(resolution)
    friction = engine.friction(grid, params).minutes_per_metre
    facilities = counting_facilities(engine.dataset, mode="actual", as_of=params.as_of)
    _, sites = engine.place_sites(grid, facilities, params)
    return friction, sites, engine.population(grid), grid.cell_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--resolution", type=float, default=1000.0)
    args = parser.parse_args()
    from skimage.graph import MCP_Geometric

    from geo_justice.traveltime import travel_time
    from geo_justice.within import persons_within

    friction, sources, population, cell = inputs(args.resolution)
    print(f"grid {friction.shape[0]} x {friction.shape[1]} at {args.resolution:g} m, {np.isfinite(friction).sum():,} "
          f"passable cells, {len(sources)} sites (actual courts, 2023-11-17, conflict penalty)")
    start = time.perf_counter()  # warm-up on a corner with the timed calls' array layouts (each is compiled apart)
    corner, people = friction[:64, :64].copy(), population[:64, :64].copy()
    travel_time(corner, cell, [[1, 1]], neighbours=8)
    persons_within(travel_time(corner, cell, [[1, 1]], neighbours=16).minutes, people, THRESHOLDS)
    print(f"numba kernels ready in {time.perf_counter() - start:.2f} s (loaded from the on-disk cache; compiled on a first run)")
    total = population.sum()
    results: dict[str, np.ndarray] = {}

    def mcp() -> None:
        results["mcp"] = MCP_Geometric(friction, fully_connected=True, sampling=(cell, cell)).find_costs(
            [tuple(s) for s in sources])[0]

    def engine(neighbours: int):
        def run() -> None:
            result = travel_time(friction, cell, sources, neighbours=neighbours)
            results[f"coverage{neighbours}"] = persons_within(result.minutes, population, THRESHOLDS)[:, -1] / total
            results[f"engine{neighbours}"] = result.minutes
        return run

    cases = {"MCP_Geometric, 8 neighbours (travel time alone)": mcp,
             "engine, 16 neighbours (time + labels + coverage at 4 T)": engine(16),
             "engine, 8 neighbours (time + labels + coverage at 4 T)": engine(8)}
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}  # this process's CPU time: less swayed by the load
    names = list(cases)
    for round_ in range(args.rounds):
        for name in names[round_ % len(names):] + names[: round_ % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            cases[name]()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    reference = names[0]
    best_ref, median_ref = min(times[reference]), float(np.median(times[reference]))
    cpu_ref = float(np.median(cpu[reference]))
    print(f"{'case':<58}{'best s':>8}{'median s':>10}{'x MCP best':>12}{'x MCP median':>14}{'x MCP CPU median':>18}")
    for name in names:
        best, median, median_cpu = min(times[name]), float(np.median(times[name])), float(np.median(cpu[name]))
        print(f"{name:<58}{best:>8.3f}{median:>10.3f}{best_ref / best:>12.2f}{median_ref / median:>14.2f}"
              f"{cpu_ref / median_cpu:>18.2f}")
    reference, eight = results["mcp"], results["engine8"]
    both = np.isfinite(reference) & np.isfinite(eight) & (reference > 0)
    print(f"8-neighbour mode vs MCP_Geometric: max relative difference {np.max(np.abs(eight[both] - reference[both]) / reference[both]):.2e}")
    print("coverage (actual, 16 neighbours) within 30/60/120/240 min: " + ", ".join(f"{c:.1%}" for c in results["coverage16"]))
    print(f"{args.rounds} interleaved rounds; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores, shared)")


if __name__ == "__main__":
    main()
