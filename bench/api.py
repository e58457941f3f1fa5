"""Benchmark (run by hand): requests per second and latency of a live `geo-justice serve` on loopback.

    python bench/api.py [--requests 2000] [--concurrency 8]
    python bench/api.py --pygeoapi [--rounds 5] [--requests 100] [--concurrency 4]

Starts the service on the embedded dataset (a throwaway store), times the first request of each case
(which computes and caches the answer), then sends the same requests from several client threads
and prints requests per second and p50 / p99 latency. With --pygeoapi it compares against pygeoapi
instead (bench/pygeoapi_compare.py: the same exported layers, both servers on loopback, interleaved).
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np

CASES = {
    "items (100 courts, GeoJSON)": "/collections/courts/items?limit=100",
    "items (incidents of 2023, bbox)": "/collections/incidents/items?datetime=2023-01-01/2023-12-31&bbox=-6,13,0,17&limit=100",
    "coverage (cached, 1 km)": "/analysis/coverage?threshold=60&threshold=120&threshold=240",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(base: str, path: str, requests: int, concurrency: int) -> tuple[float, float, float, float]:
    """First-request latency (computes and caches), then requests/s, p50 and p99 of the cached answer (ms)."""
    with httpx.Client(base_url=base, timeout=120) as client:
        start = time.perf_counter()
        client.get(path).raise_for_status()
        first = time.perf_counter() - start

        def one(_: int) -> float:
            start = time.perf_counter()
            client.get(path).raise_for_status()
            return time.perf_counter() - start

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            latencies = np.array(list(pool.map(one, range(requests))))
        elapsed = time.perf_counter() - start
    return first * 1000, requests / elapsed, np.percentile(latencies, 50) * 1000, np.percentile(latencies, 99) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=None, help="per case (default 2000; with --pygeoapi 100 per round)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pygeoapi", action="store_true", help="compare with pygeoapi (the same layers) instead")
    parser.add_argument("--rounds", type=int, default=5, help="with --pygeoapi: interleaved rounds")
    args = parser.parse_args()
    if args.pygeoapi:
        from pygeoapi_compare import compare  # bench/ is on sys.path when this file runs

        return compare(args.rounds, args.requests or 100, args.concurrency, free_port)
    args.requests = args.requests or 2000
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen([sys.executable, "-c", "from geo_justice.cli import main; main()", "serve",
                                   "--port", str(port), "--store", f"{tmp}/store.sqlite"])
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(base + "/", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(f"{args.requests} requests per case, {args.concurrency} client threads, one server process")
            print(f"{'case':<36}{'first ms':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
            for name, path in CASES.items():
                first, rate, p50, p99 = measure(base, path, args.requests, args.concurrency)
                print(f"{name:<36}{first:>10.0f}{rate:>9.0f}{p50:>9.1f}{p99:>9.1f}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
