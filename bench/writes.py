"""Benchmark (run by hand): a status write (PATCH) and the read after it, this code against a git revision.

    python bench/writes.py [--reference 9e783fe] [--rounds 5] [--writes 20]

Serves the reference revision (its source extracted with `git archive`) and this code on loopback, each on a
throwaway SQLite store, once each has prepared its default map. Each round sends --writes pairs of a PATCH
(a dated, sourced status event on one court) and a GET of that court to each service in turn, one after the
other from one client; the first round warms both and is not counted. Prints, per step, the best and median
(over rounds) of the mean latency, and the ratio of the medians (reference / this code).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from features import ROOT, extract, start  # bench/ is on sys.path when this file runs

TOKEN = "bench-token"
ITEM = "/collections/courts/items/ml-ti-goundam"


def round_means(client: httpx.Client, first: int, writes: int) -> tuple[float, float]:
    """Mean seconds of a write and of the read after it, over `writes` pairs (sources numbered from `first`)."""
    write = read = 0.0
    for i in range(first, first + writes):
        start_at = time.perf_counter()
        client.patch(ITEM, json={"status": ("closed", "operational")[i % 2], "source": f"bench write {i}"},
                     headers={"Authorization": f"Bearer {TOKEN}"}).raise_for_status()
        middle = time.perf_counter()
        client.get(ITEM).raise_for_status()
        write, read = write + middle - start_at, read + time.perf_counter() - middle
    return write / writes, read / writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="9e783fe", help="git revision of the reference service")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=20)
    args = parser.parse_args()
    os.environ["GEO_JUSTICE_TOKENS"] = f"bench:{TOKEN}"
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        reference = extract(args.reference, Path(tmp) / "reference")
        services = [start(reference, Path(tmp) / "ref.sqlite"), start(ROOT, Path(tmp) / "new.sqlite")]
        try:
            times = {(which, step): [] for which in range(2) for step in range(2)}
            for r in range(args.rounds + 1):
                for which, (url, _) in enumerate(services):
                    with httpx.Client(base_url=url, timeout=60) as client:
                        means = round_means(client, r * args.writes, args.writes)
                    for step, mean in enumerate(means):
                        if r:
                            times[which, step].append(mean * 1000)
        finally:
            for _, process in services:
                process.terminate()
                process.wait(timeout=10)
    print(f"{args.rounds} rounds of {args.writes} PATCH + GET pairs; load average after: {os.getloadavg()[0]:.2f}")
    print(f"| step | reference ({args.reference}) best / median | this code best / median | ratio (median) |")
    print("| --- | ---: | ---: | ---: |")
    for step, name in enumerate(("status write (PATCH)", "the read after it (GET)")):
        ref, new = (np.array(times[which, step]) for which in range(2))
        print(f"| {name} | {ref.min():.1f} / {np.median(ref):.1f} ms | {new.min():.1f} / {np.median(new):.1f} ms "
              f"| {np.median(ref) / np.median(new):.1f}x |")


if __name__ == "__main__":
    main()
