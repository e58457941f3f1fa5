"""Benchmark (run by hand): the access engine against scikit-image's MCP_Geometric, same grid, same sources.

    python bench/traveltime.py              # full-Mali 1 km grid of the embedded dataset
    python bench/traveltime.py --also 250   # and the 250 m grid (peak memory of the whole pipeline)

Each case runs in its own spawned process so that its peak memory (max RSS) is its own; times are the best of
--repeat runs after a warm-up (numba compiles on the first call; that time is printed apart).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import numpy as np

THRESHOLDS = (30, 60, 120, 240)


def prepare(resolution: float, folder: Path) -> Path:
    """Friction, sources and population of the embedded dataset on the grid, saved for the child processes."""
    from geo_justice.access import AccessParams, Engine
    from geo_justice.facilities import counting_facilities
    from layers import load_dataset

    engine = Engine(load_dataset())
    params = engine.complete(AccessParams(resolution_m=resolution))
    grid = engine.grid(resolution)
    friction = engine.friction(grid, params).minutes_per_metre
    facilities = counting_facilities(engine.dataset, mode="actual", as_of=params.as_of)
    sources = engine.sources(grid, facilities, engine.base_friction(grid, params.friction))
    path = folder / f"inputs_{resolution:g}.npz"
    np.savez(path, friction=friction, sources=sources, population=engine.population(grid), cell=grid.cell_size)
    return path


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_engine(path: Path, neighbours: int, repeat: int, out: mp.Queue) -> None:
    from geo_justice.traveltime import travel_time

    data = np.load(path)
    friction, sources, population, cell = data["friction"], data["sources"], data["population"], float(data["cell"])
    start = time.perf_counter()
    travel_time(friction[:64, :64], cell, [[1, 1]], neighbours=neighbours)
    compile_s = time.perf_counter() - start
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = travel_time(friction, cell, sources, neighbours=neighbours)
        coverage = [population[result.minutes <= t].sum() / population.sum() for t in THRESHOLDS]
        best = min(best, time.perf_counter() - start)
    np.save(path.with_name(f"engine{neighbours}.npy"), result.minutes)
    out.put({"seconds": best, "compile": compile_s, "peak_mib": peak_mib(), "coverage": coverage,
             "labels": int((result.label >= 0).sum())})


def run_mcp(path: Path, repeat: int, out: mp.Queue) -> None:
    from skimage.graph import MCP_Geometric

    data = np.load(path)
    friction, sources, cell = data["friction"], data["sources"], float(data["cell"])
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        minutes, _ = MCP_Geometric(friction, fully_connected=True, sampling=(cell, cell)).find_costs([tuple(s) for s in sources])
        best = min(best, time.perf_counter() - start)
    np.save(path.with_name("mcp.npy"), minutes)
    out.put({"seconds": best, "peak_mib": peak_mib()})


def in_child(target, *args) -> dict:
    context = mp.get_context("spawn")  # a fresh process: its peak memory is its own
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def pipeline_peak(resolution: float, out: mp.Queue) -> None:
    """The whole pipeline (load, population, friction, travel time, coverage) at one resolution."""
    from geo_justice import analysis
    from geo_justice.access import AccessParams, Engine
    from layers import load_dataset

    start = time.perf_counter()
    result = analysis.coverage(Engine(load_dataset()), AccessParams(resolution_m=resolution))
    out.put({"seconds": time.perf_counter() - start, "peak_mib": peak_mib(),
             "actual_120": float(result.summary.set_index("region").loc["All", "actual_share_120"])})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--also", type=float, action="append", default=[], help="also run the whole pipeline at this resolution (m)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = prepare(1000.0, Path(tmp))
        data = np.load(path)
        passable = np.isfinite(data["friction"]).sum()
        print(f"grid {data['friction'].shape[0]} x {data['friction'].shape[1]} at 1 km, {passable:,} passable cells, "
              f"{len(data['sources'])} sources (actual courts, 2023-11-17, conflict penalty)")
        mcp = in_child(run_mcp, path, args.repeat)
        e16 = in_child(run_engine, path, 16, args.repeat)
        e8 = in_child(run_engine, path, 8, args.repeat)
        reference, eight = np.load(Path(tmp) / "mcp.npy"), np.load(Path(tmp) / "engine8.npy")
        both = np.isfinite(reference) & np.isfinite(eight) & (reference > 0)
        diff = np.max(np.abs(eight[both] - reference[both]) / reference[both])
        print(f"{'case':<58}{'seconds':>9}{'x MCP':>8}{'peak MiB':>10}")
        print(f"{'MCP_Geometric, 8 neighbours (travel time alone)':<58}{mcp['seconds']:>9.2f}{1:>8.2f}{mcp['peak_mib']:>10.0f}")
        for name, case in (("engine, 16 neighbours (time + labels + coverage at 4 T)", e16),
                           ("engine, 8 neighbours (time + labels + coverage at 4 T)", e8)):
            print(f"{name:<58}{case['seconds']:>9.2f}{mcp['seconds'] / case['seconds']:>8.2f}{case['peak_mib']:>10.0f}")
        print(f"numba compile (first call, cached on disk afterwards): {e16['compile']:.1f} s")
        print(f"8-neighbour mode vs MCP_Geometric: max relative difference {diff:.2e}")
        print("coverage (actual) within 30/60/120/240 min: " + ", ".join(f"{c:.1%}" for c in e16["coverage"]))
    for resolution in args.also:
        whole = in_child(pipeline_peak, resolution)
        print(f"whole pipeline at {resolution:g} m: {whole['seconds']:.0f} s, peak {whole['peak_mib'] / 1024:.2f} GiB, "
              f"actual coverage within 120 min {whole['actual_120']:.1%}")


if __name__ == "__main__":
    main()
