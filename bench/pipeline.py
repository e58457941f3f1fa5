"""Benchmark (run by hand): what a user waits for, end to end, in fresh processes on the embedded data.

    python bench/pipeline.py [--resolution 1000 --resolution 500 ...] [--stages] [--rounds 3]

Times `geo-justice --help` (best and median of --rounds, alternated with a bare `python -P -c pass`) and, at
each resolution (default 1 km, 500 m, 250 m and 100 m, in that order), `geo-justice coverage --resolution R` from
the start of Python to its exit, with the process's CPU time (all its threads) and peak resident memory (its own,
from wait4). The 1 km run is repeated --rounds times (best and median); the others run once. --stages prints each
run's --profile table. One unmeasured 1 km run first leaves what a user's first run leaves: the parsed dataset,
the 1 km grids and the numba kernels on disk, and Python's bytecode of this package (written even where
PYTHONDONTWRITEBYTECODE is set, which would otherwise have every run compile it from source). On a
shared machine wall time grows with the load; CPU time much less: both are printed, with the load average.
A resolution whose peak memory, scaled from the finest one measured, would not fit in the memory available
now is skipped with that estimate (a shared machine must not be pushed into the OOM killer).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

# -P: the current folder is not put first on the path, so PYTHONPATH=WORKTREE runs that worktree's code from anywhere
COMMAND = [sys.executable, "-P", "-c", "from geo_justice.cli import main; main()"]


def run(args: list[str], command: list[str] = COMMAND, env: dict[str, str] | None = None
        ) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak resident GiB and stderr of one fresh `geo-justice ARGS` (or `command`)."""
    start = time.perf_counter()
    process = subprocess.Popen(command + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"geo-justice {' '.join(args)} failed:\n{stderr}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / (1 << 20), stderr


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def available_gib() -> float:
    """Memory the kernel could give a new process now (MemAvailable), GiB; inf where /proc is missing."""
    try:
        fields = dict(line.split(":", 1) for line in open("/proc/meminfo"))
    except OSError:
        return float("inf")
    return int(fields["MemAvailable"].split()[0]) / (1 << 20)


def estimated_peak(peaks: dict[float, float], resolution: float) -> float | None:
    """The peak at `resolution` scaled from the finest one measured (memory grows with the cells); None if none is."""
    if not peaks:
        return None
    finest = min(peaks)
    return peaks[finest] * (finest / resolution) ** 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, action="append", help="metres (repeatable; default 1000 500 250 100)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stages", action="store_true", help="print each run's stage profile")
    args = parser.parse_args()
    resolutions = args.resolution or [1000.0, 500.0, 250.0, 100.0]
    # warm: the parsed-dataset and grid caches, numba's on-disk cache, and Python's bytecode of this package, which
    # a user's first run writes (`__pycache__`) unless PYTHONDONTWRITEBYTECODE is set, as on the project's machine
    writing = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run(["coverage", "--resolution", "1000"], env=writing)
    helps, bare = [], []
    for _ in range(args.rounds):  # interleaved: Python's own start and exit, the floor of every command here
        helps.append(run(["--help"])[0])
        bare.append(run([], [sys.executable, "-P", "-c", "pass"])[0])
    print(f"geo-justice --help: best {min(helps):.2f} s, median {np.median(helps):.2f} s (load {load()}); "
          f"Python's start and exit alone (python -P -c pass): median {np.median(bare):.3f} s")
    print(f"{'coverage at':<14}{'best s':>8}{'median s':>10}{'CPU s':>8}{'peak GiB':>10}  load average before (1, 5, 15 min)")
    peaks: dict[float, float] = {}
    for resolution in resolutions:
        before = load()
        need = estimated_peak(peaks, resolution)
        if need is not None and need > 0.9 * available_gib():
            print(f"{f'{resolution:g} m':<14}{'skipped':>8}  needs about {need:.1f} GiB (the peak at {min(peaks):g} m "
                  f"x the cells), more than 90% of the {available_gib():.1f} GiB available on this shared machine", flush=True)
            continue
        rounds = args.rounds if resolution >= 1000 else 1
        runs = [run(["coverage", "--resolution", f"{resolution:g}", "--profile"]) for _ in range(rounds)]
        times = [r[0] for r in runs]
        best = runs[int(np.argmin(times))]
        peaks[resolution] = max(r[2] for r in runs)
        print(f"{f'{resolution:g} m':<14}{min(times):>8.1f}{np.median(times):>10.1f}{best[1]:>8.1f}{max(r[2] for r in runs):>10.2f}"
              f"  {before}", flush=True)
        if args.stages:
            print(best[3].strip())
    print(f"2-core machine shared with other work; load average after: {load()}")


if __name__ == "__main__":
    main()
