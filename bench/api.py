"""Benchmark (run by hand): requests per second and latency of a live `geo-justice serve` on loopback.

    python bench/api.py [--requests 2000] [--concurrency 8]
    python bench/api.py --pygeoapi [--rounds 5] [--client wrk|httpx] [--seconds 2] [--requests 100] [--concurrency 8]
    python bench/api.py --workers-case [--pg URL] [--rounds 3]   (4 workers on PostgreSQL vs 1 on SQLite)

Starts the service on the embedded dataset (a throwaway store), times the first request of each case
(which computes and caches the answer), then sends the same requests from several client threads
and prints requests per second and p50 / p99 latency. With --pygeoapi it compares against pygeoapi
instead (bench/pygeoapi_compare.py: the same exported layers, both servers on loopback, interleaved).
"""
from __future__ import annotations

import argparse
import shutil
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
    parser.add_argument("--workers-case", action="store_true", help="Mixed reads and writes: 4 workers on PostgreSQL vs 1 on SQLite")
    parser.add_argument("--pg", default=None, help="--workers-case: a PostgreSQL server URL (default: $GEO_JUSTICE_TEST_PG, "
                                                   "else a throwaway cluster from .ci/postgres)")
    parser.add_argument("--client", choices=("wrk", "httpx"), default="wrk" if shutil.which("wrk") else "httpx",
                        help="--pygeoapi: the load generator (default wrk when installed)")
    parser.add_argument("--seconds", type=float, default=2.0, help="--pygeoapi with wrk: seconds per case, server and round")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (--pygeoapi: 5, --workers-case: 3)")
    args = parser.parse_args()
    if args.pygeoapi:
        from pygeoapi_compare import compare  # bench/ is on sys.path when this file runs

        return compare(args.rounds or 5, args.requests or 100, args.concurrency, free_port, args.client, args.seconds)
    args.requests = args.requests or 2000
    if args.workers_case:
        args.rounds = args.rounds or 3
        return workers_case(args)
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


#: --workers-case: one request in WRITE_EVERY is a status update (to one of FACILITIES), the rest are reads.
WRITE_EVERY = 10
FACILITIES = ("ml-tgi-gao", "ml-ti-bourem", "ml-ti-goundam", "ml-tgi-mopti")
READS = ("/collections/courts/items/{id}", "/collections/courts/items?limit=100", "/collections/prisons/items?limit=100")


def start_service(store: str, workers: int, token: str) -> tuple[str, subprocess.Popen]:
    """`geo-justice serve` on `store` with `workers` processes, once every worker has prepared its default map."""
    import os
    import threading

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", "from geo_justice.cli import main; main()", "serve", "--port", str(port),
                               "--store", store, "--workers", str(workers)], stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "GEO_JUSTICE_TOKENS": f"bench:{token}"})
    ready = threading.Semaphore(0)

    def watch() -> None:
        for line in server.stderr:
            if "ready" in line:
                ready.release()
            elif line.strip():
                print(line, end="", file=sys.stderr)
    threading.Thread(target=watch, daemon=True).start()
    for _ in range(workers):
        if not ready.acquire(timeout=600):
            server.kill()
            raise RuntimeError(f"the service on {store} did not get ready")
    return f"http://127.0.0.1:{port}", server


def mixed(base: str, requests: int, concurrency: int, token: str) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 (ms) of a mix: every WRITE_EVERY-th request a PATCH, the rest reads of items and
    collections (which a write makes stale, so workers rebuild their snapshot)."""
    auth = {"Authorization": f"Bearer {token}"}

    def one(i: int) -> float:
        facility = FACILITIES[i % len(FACILITIES)]
        start = time.perf_counter()
        if i % WRITE_EVERY == 0:
            status = ("closed", "partial", "operational")[(i // WRITE_EVERY) % 3]
            client.patch(f"/collections/courts/items/{facility}", json={"status": status, "source": "bench"},
                         headers=auth).raise_for_status()
        else:
            client.get(READS[i % len(READS)].format(id=facility)).raise_for_status()
        return time.perf_counter() - start

    with httpx.Client(base_url=base, timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:
        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            latencies = np.array(list(pool.map(one, range(requests))))
        elapsed = time.perf_counter() - start
    return requests / elapsed, np.percentile(latencies, 50) * 1000, np.percentile(latencies, 99) * 1000


def postgres_database(server: str | None, folder: str) -> str:
    """A new database on `server` (or on a throwaway cluster started in `folder`), as a store URL."""
    import uuid
    from pathlib import Path
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    if server is None:
        script = Path(__file__).resolve().parents[1] / ".ci" / "postgres"
        server = subprocess.run(["bash", str(script), "start", f"{folder}/pg"], check=True, capture_output=True,
                                text=True).stdout.strip()
    name = f"geo_justice_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def workers_case(args: argparse.Namespace) -> None:
    """4 workers on PostgreSQL vs 1 worker on SQLite, the same mixed reads and writes, interleaved rounds."""
    import os
    import secrets
    from pathlib import Path

    token = secrets.token_hex(8)
    with tempfile.TemporaryDirectory() as tmp:
        services = {}
        try:
            pg = postgres_database(args.pg or os.environ.get("GEO_JUSTICE_TEST_PG"), tmp)
            services["1 worker, SQLite"] = start_service(f"{tmp}/store.sqlite", 1, token)
            services["4 workers, PostgreSQL"] = start_service(pg, 4, token)
            print(f"{args.requests} requests per round ({100 // WRITE_EVERY}% status updates), {args.concurrency} client "
                  f"threads, {args.rounds} interleaved rounds; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            rates: dict[str, list[tuple[float, float, float]]] = {name: [] for name in services}
            for _ in range(args.rounds):
                for name, (base, _) in services.items():
                    rates[name].append(mixed(base, args.requests, args.concurrency, token))
            print(f"{'service':<24}{'best req/s':>11}{'median req/s':>13}{'p50 ms':>8}{'p99 ms':>8}")
            for name, rounds in rates.items():
                median = sorted(rounds)[len(rounds) // 2]
                print(f"{name:<24}{max(r[0] for r in rounds):>11.0f}{median[0]:>13.0f}{median[1]:>8.1f}{median[2]:>8.1f}")
            medians = [sorted(r[0] for r in rounds)[len(rounds) // 2] for rounds in rates.values()]
            print(f"4 workers on PostgreSQL / 1 worker on SQLite (median req/s): {medians[1] / medians[0]:.2f}x; "
                  f"load average now {os.getloadavg()[0]:.1f}")
        finally:
            for _, server in services.values():
                server.terminate()
                server.wait(timeout=30)
            if (Path(tmp) / "pg").exists():
                subprocess.run(["bash", str(Path(__file__).resolve().parents[1] / ".ci" / "postgres"), "stop", f"{tmp}/pg"])


if __name__ == "__main__":
    main()
