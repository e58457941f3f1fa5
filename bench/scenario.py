"""Benchmark (run by hand): one-facility scenarios, incremental vs full recomputation, full Mali at 1 km.

    python bench/scenario.py [--resolution 1000] [--repeat 5] [--parts]

For each scenario, times the travel-time update from the baseline (incremental: only where the change can
matter) and a full recomputation over every counting site, alternated --repeat times, checks that both give
the same minutes, and prints the ratio of the best times (wall, and this process's CPU time, which the other work on a
loaded machine sways less). The whole evaluation (tables, polygons, catchments, gaps) is timed once for reference.
--parts: also where an update's time goes (best and median over --repeat updates of each scenario): the copy of
the previous answer, the search, the frontier, placing the sites and the river banks.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from geo_justice import access, analysis, scenarios, traveltime
from geo_justice.access import AccessParams, Engine
from geo_justice.scenarios import read_scenario, scenario_facilities, updated_access
from layers.catalog import load_dataset

SCENARIOS = {
    "Kidal's court reopens": {"facility": "ml-tgi-kidal", "status": "operational"},
    "Goundam's court back at its seat": {"facility": "ml-ti-goundam", "sitting": "seat"},
    "Koutiala's court closes": {"facility": "ml-tgi-koutiala", "status": "closed"},
    "a new court at Aguelhok": {"add": "court", "at": "Aguelhok"},
    "San's court sits in Ségou": {"facility": "ml-tgi-san", "sitting": "Ségou"},
}


def interleaved(repeat: int, quick, full) -> tuple[list[float], list[float], list[float], list[float], object, object]:
    """Wall and CPU times of `quick` and `full`, alternated `repeat` times (a burst of load hits both), and
    their last results."""
    times: tuple[list[float], ...] = ([], [], [], [])
    results = [None, None]
    for _ in range(repeat):
        for i, action in enumerate((quick, full)):
            start, start_cpu = time.perf_counter(), time.process_time()
            results[i] = action()
            times[i].append(time.perf_counter() - start)
            times[2 + i].append(time.process_time() - start_cpu)
    return *times, results[0], results[1]


PARTS = {"copy of the previous answer": (traveltime, "_start_from"), "search": (traveltime, "_search_buckets"),
         "frontier": (traveltime, "_cleared_frontier"), "placing the sites": (access.Engine, "place_sites"),
         "river banks": (access.Engine, "onto_banks"), "whole update": (scenarios, "updated_access")}


def parts(engine, baseline, facilities, repeat: int) -> dict[str, list[float]]:
    """Seconds of each of PARTS in each of `repeat` incremental updates (the functions wrapped with a clock)."""
    seconds: dict[str, list[float]] = {name: [] for name in PARTS}
    originals = {name: getattr(owner, attribute) for name, (owner, attribute) in PARTS.items()}

    def clocked(name, function):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name].append(time.perf_counter() - start)
        return run
    try:
        for name, (owner, attribute) in PARTS.items():
            setattr(owner, attribute, clocked(name, originals[name]))
        for _ in range(repeat):
            scenarios.updated_access(engine, baseline, facilities)
    finally:
        for name, (owner, attribute) in PARTS.items():
            setattr(owner, attribute, originals[name])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=1000.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--parts", action="store_true", help="also time the parts of an update")
    args = parser.parse_args()
    dataset = load_dataset()
    engine = Engine(dataset)
    params = engine.complete(AccessParams(resolution_m=args.resolution))
    baseline = engine.access(params)
    updated_access(engine, baseline, baseline.facilities)  # compile and warm the caches
    print(f"grid {baseline.grid.shape[0]} x {baseline.grid.shape[1]} cells of {args.resolution:g} m, "
          f"{baseline.sites} counting sites; best of {args.repeat}")
    print(f"{'scenario':<36}{'incremental s':>15}{'full s':>9}{'ratio':>8}{'CPU ratio':>11}{'cells changed':>15}")
    ratios, cpu_ratios = [], []
    for name, change in SCENARIOS.items():
        scenario = read_scenario({"name": name, "changes": [change]}, dataset)
        facilities = scenario_facilities(dataset, scenario, params)
        quick_times, full_times, quick_cpu, full_cpu, quick, full = interleaved(
            args.repeat, lambda: updated_access(engine, baseline, facilities),
            lambda: updated_access(engine, baseline, facilities, incremental=False))
        if not np.array_equal(quick.minutes, full.minutes):
            raise SystemExit(f"{name}: incremental and full recomputation differ")
        quick_s, full_s = min(quick_times), min(full_times)
        ratios.append(full_s / quick_s)
        cpu_ratios.append(min(full_cpu) / min(quick_cpu))
        changed = int((quick.minutes != baseline.minutes).sum())
        print(f"{name:<36}{quick_s:>15.3f}{full_s:>9.3f}{ratios[-1]:>7.1f}x{cpu_ratios[-1]:>10.1f}x{changed:>15,}")
        if args.parts:
            for part, values in parts(engine, baseline, facilities, args.repeat).items():
                print(f"    {part:<32}{min(values) * 1000:>8.2f} ms best {np.median(values) * 1000:>8.2f} ms median")
    print(f"median speed-up {np.median(ratios):.1f}x (CPU time: {np.median(cpu_ratios):.1f}x; minutes identical in every scenario); "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores, shared)")
    scenario = read_scenario({"name": "Kidal", "changes": [SCENARIOS["Kidal's court reopens"]]}, dataset)
    start = time.perf_counter()
    analysis.scenario(engine, scenario, params, (60, 120, 240))
    print(f"whole evaluation of one scenario (tables, changed areas, catchments, gaps): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
