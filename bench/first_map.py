"""Benchmark (run by hand): how long the first visitor of the coverage map waits.

    python bench/first_map.py [--rounds 3]

Each round starts two services on the embedded dataset, interleaved:
- prepared: `geo-justice serve` (computes the default map in the background from start-up); the page is asked
  for once it prints "ready", compressed (Accept-Encoding: gzip) as a browser asks;
- cold (the reference): the same application without preparation, asked for the page as soon as it listens,
  uncompressed (Accept-Encoding: identity).
Prints per case the best and median seconds to the last byte, the bytes sent, the ratio of the medians, the
time `serve` took to be ready, and the machine's load.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PAGE = "/maps/coverage"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(prepared: bool, store: Path) -> tuple[subprocess.Popen, int, float]:
    """A service process, its port, and the seconds until it is ready (listening, and for `prepared`, 'ready')."""
    port = free_port()
    if prepared:
        code = "from geo_justice.cli import main; main()"
        args = ["serve", "--port", str(port), "--store", str(store)]
    else:
        code = ("import sys, uvicorn; from api.app import create_app; "
                "uvicorn.run(create_app(store=sys.argv[2]), port=int(sys.argv[1]), log_level='warning')")
        args = [str(port), str(store)]
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    ready = threading.Event()

    def watch() -> None:
        for line in process.stderr:
            if "geo-justice: ready" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    if prepared:
        ready.wait(900)
    return process, port, time.perf_counter() - began


def first_page(port: int, encoding: str) -> tuple[float, int]:
    """Seconds to the last byte of the coverage page, and the bytes sent."""
    with httpx.Client(timeout=600) as client:
        began = time.perf_counter()
        response = client.get(f"http://127.0.0.1:{port}{PAGE}", headers={"Accept-Encoding": encoding})
        response.raise_for_status()
        elapsed = time.perf_counter() - began
        return elapsed, int(response.headers.get("content-length") or len(response.content))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"cold, uncompressed": [], "prepared, gzip": []}
    sizes: dict[str, int] = {}
    ready: list[float] = []
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for case, prepared, encoding in (("cold, uncompressed", False, "identity"), ("prepared, gzip", True, "gzip")):
                process, port, seconds = start(prepared, Path(tmp) / f"{round_}-{prepared}.sqlite")
                try:
                    elapsed, size = first_page(port, encoding)
                finally:
                    process.terminate()
                    process.wait(timeout=30)
                times[case].append(elapsed)
                sizes[case] = size
                if prepared:
                    ready.append(seconds)
                print(f"round {round_ + 1}: {case:<20} {elapsed:7.2f} s  {size:>9,} bytes"
                      + (f"  (serve ready after {seconds:.1f} s)" if prepared else ""))
    print(f"\n{'case':<20} {'best':>8} {'median':>8} {'bytes':>10}")
    for case, values in times.items():
        print(f"{case:<20} {min(values):7.2f}s {statistics.median(values):7.2f}s {sizes[case]:>10,}")
    cold, warm = (statistics.median(v) for v in times.values())
    print(f"\nratio of medians (prepared / cold): {warm / cold:.3f}; serve ready after {statistics.median(ready):.1f} s "
          f"(median); load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
