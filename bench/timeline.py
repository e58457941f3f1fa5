"""Benchmark (run by hand): the monthly timeline 2012-2023 on the embedded data, four ways.

    python bench/timeline.py [--resolution 5000] [--rounds 3] [--conflict off penalty] [--profile]

- naive: one full run per date (`analysis.coverage` on each date, on one engine that keeps the grid,
  population and road friction between dates, as a Python user would);
- no reuse: `timeline(..., incremental=False)`: the timeline's own tables, every date computed in full
  (nominal and actual travel time and the friction of each date) but no isochrone polygons;
- in-process: `timeline` walking the dates, reusing unchanged dates, updating changed facilities
  incrementally and searching a date whose friction changed once (the default of `geo-justice timeline`);
- LocalCluster: the same split into 4 runs of consecutive dates on a 2-worker dask.distributed
  LocalCluster (started before timing; its workers loaded the dataset in a warm-up run).

Rounds are interleaved (naive, no reuse, in-process, cluster, then again); each round starts from a fresh
engine (cleared caches; the workers keep their loaded dataset, as a sweep's workers do). Prints best and
median seconds and the ratios to naive, and checks that every way gives the same coverage. The machine load
is printed before and after. --profile: instead, where one in-process run's time goes (cProfile, after a warm-up run;
the profiler slows the run down).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine
from geo_justice.conflict import ConflictParams
from geo_justice.sweep import DatasetSpec, engine_for, timeline_sweep
from geo_justice.timeline import timeline, timeline_dates
from layers.catalog import load_dataset

START, END, STEP = "2012-01-01", "2023-12-31", "month"
THRESHOLDS = (30.0, 60.0, 120.0, 240.0)


def naive(dataset, params: AccessParams) -> np.ndarray:
    engine = Engine(dataset)
    dates = timeline_dates(dataset.events, START, END, STEP)
    rows = [analysis.coverage(engine, replace(params, as_of=d), THRESHOLDS).summary.iloc[-1] for d in dates]
    return numbers(pd.DataFrame(rows))


def in_process(dataset, params: AccessParams, incremental: bool = True) -> np.ndarray:
    return numbers(timeline(Engine(dataset), params, START, END, STEP, THRESHOLDS, incremental=incremental).summary)


def on_cluster(address: str, params: AccessParams) -> np.ndarray:
    return numbers(timeline_sweep(DatasetSpec(), params, START, END, STEP, THRESHOLDS, scheduler=address, chunks=4).summary)


def clear_caches(client) -> None:
    """Forget computed results here and on the workers; the datasets stay loaded (once per process)."""
    def clear() -> None:
        engine_for(DatasetSpec()).cache.clear()
    clear()
    client.run(clear)


def numbers(frame: pd.DataFrame) -> np.ndarray:
    return frame[[f"{m}_{t:g}" for m in ("nominal", "actual") for t in THRESHOLDS]].to_numpy(float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=5000.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conflict", nargs="+", default=["off", "penalty"], choices=["off", "penalty", "avoid"])
    parser.add_argument("--profile", action="store_true", help="profile one in-process run instead")
    args = parser.parse_args()
    if args.profile:
        dataset = load_dataset()
        for conflict in args.conflict:
            params = AccessParams(resolution_m=args.resolution, conflict=ConflictParams(mode=conflict))
            in_process(dataset, params)  # warm-up: numba, file caches
            print(f"conflict {conflict}: one in-process timeline")
            profile = cProfile.Profile()
            profile.runcall(in_process, dataset, params)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(r"geo_justice|ndimage", 25)
        return

    import dask
    from distributed import Client, LocalCluster

    dataset = load_dataset()
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average, {os.cpu_count()} cores)")
    started = time.perf_counter()
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        print(f"LocalCluster of 2 workers started in {time.perf_counter() - started:.1f} s")
        for conflict in args.conflict:
            params = AccessParams(resolution_m=args.resolution, conflict=ConflictParams(mode=conflict))
            reference = in_process(dataset, params)  # warm-up: numba, file caches
            on_cluster(cluster.scheduler_address, params)  # warm-up: each worker loads the dataset once
            times: dict[str, list[float]] = {"naive": [], "no reuse": [], "in-process": [], "LocalCluster": []}
            for _ in range(args.rounds):
                for name, run in (("naive", lambda: naive(dataset, params)),
                                  ("no reuse", lambda: in_process(dataset, params, incremental=False)),
                                  ("in-process", lambda: in_process(dataset, params)),
                                  ("LocalCluster", lambda: on_cluster(cluster.scheduler_address, params))):
                    clear_caches(client)
                    begin = time.perf_counter()
                    result = run()
                    times[name].append(time.perf_counter() - begin)
                    if not np.allclose(result, reference, rtol=1e-12, equal_nan=True):
                        raise SystemExit(f"{name} differs from the in-process timeline (conflict {conflict})")
            base = statistics.median(times["naive"])
            print(f"\nmonthly timeline {START}..{END} (144 dates), {args.resolution:g} m cells, conflict {conflict}, "
                  f"{args.rounds} rounds")
            print(f"{'way':<14}{'best s':>9}{'median s':>10}{'naive / way (median)':>23}")
            for name, values in times.items():
                median = statistics.median(values)
                print(f"{name:<14}{min(values):>9.2f}{median:>10.2f}{base / median:>23.1f}")
    print(f"\nload after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
