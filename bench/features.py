"""Benchmark (run by hand): OGC API - Features answers from prepared collection snapshots against the same
service before them (a git revision, default a791dd7), both served on loopback, in one interleaved run; and the server-side work behind two answers, in process.

    python bench/features.py [--reference a791dd7] [--rounds 5] [--requests 200]

The reference revision's source is extracted with `git archive` into a temporary folder and served from
there; both services use a throwaway store. Each case sends `--requests` requests per round, one after the
other from one client, to each service in turn (reference, then this code, then the next round). Cases:
a single court item, a list of courts at a new URL each time (no cached answer), and incidents of a year
in a bbox at a new URL each time. Prints, per case, the mean latency of the best and median round and the
median ratio (reference / this code).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this repository's `api` package, not bench/api.py
CASES = {
    "a single court item": lambda i: "/collections/courts/items/ml-tgi-gao",
    "courts, a new URL each time": lambda i: f"/collections/courts/items?limit={10 + i % 90}&offset={i // 90}",
    "incidents of 2022 in a bbox, new URL": lambda i: f"/collections/incidents/items?datetime=2022-01-01/2022-12-31&bbox=-6,13,{i * 1e-4:.4f},17&limit=100",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(source: Path, store: Path) -> tuple[str, subprocess.Popen]:
    """`geo-justice serve` from `source`, once it has prepared its default map (it says 'ready')."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", "from geo_justice.cli import main; main()", "serve", "--port", str(port),
                                "--store", str(store)], env={**os.environ, "PYTHONPATH": str(source)}, cwd=source,
                               stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "ready" in line or "could not prepare" in line:
            return f"http://127.0.0.1:{port}", process
    raise RuntimeError(f"the service from {source} did not start (exit {process.wait()}):\n{''.join(lines[-20:])}")


def extract(revision: str, folder: Path) -> Path:
    """The source of this repository at `revision`, extracted with `git archive` into `folder`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True).stdout
    tarfile.open(fileobj=io.BytesIO(archive)).extractall(folder)
    return folder


def round_mean(client: httpx.Client, case, offset: int, requests: int) -> float:
    """Mean seconds per request over `requests` URLs of a case (numbered from `offset`, so none repeats)."""
    start = time.perf_counter()
    for i in range(offset, offset + requests):
        client.get(case(i)).raise_for_status()
    return (time.perf_counter() - start) / requests


def server_work(rounds: int, requests: int) -> None:
    """In-process, without HTTP: the work behind a single court item and a bbox + year query on incidents (at a
    new URL), as the reference did it per request (a status rebuild; a window view, then GeoDataFrame to
    GeoJSON) and from a prepared snapshot (a lookup; a mask, then prepared bytes)."""
    import pandas as pd
    import shapely

    from api.geojson import features
    from api.prepared import Prepared
    from geo_justice.collections import Interval, in_interval, incidents_view
    from layers import load_dataset

    data = load_dataset(None)
    today = pd.Timestamp.now().normalize()
    year = Interval.parse("2022-01-01/2022-12-31")
    courts = Prepared("courts", data.facilities_as_of("court", today), "id", [], key=("courts", today))
    incidents = Prepared("incidents", data.incidents.assign(kind="event"), "id", {s: l.attribution for s, l in data.licences.items()},
                         key=("incidents", "all"))

    def reference_item() -> object:  # the status rebuild it made before its ETag (the body then came from its cache)
        frame = data.facilities_as_of("court", today)
        return frame[frame["id"] == "ml-tgi-gao"]

    def prepared_item() -> bytes:
        return courts.encoded()[courts.index["ml-tgi-gao"]]

    def reference_window() -> bytes:
        frame, _ = incidents_view(data, year, raw_allowed=False)
        chosen = frame[frame.geometry.intersects(shapely.box(-6, 13, 0, 17))]
        return json.dumps(features(chosen.iloc[:100])).encode()

    def prepared_window() -> bytes:
        keep = incidents.in_bbox(-6, 13, 0, 17) & in_interval(incidents.dates, year)
        return b"[" + b",".join(incidents.encoded()[p] for p in np.flatnonzero(keep)[:100]) + b"]"

    print("| server-side work (no HTTP) | reference median | prepared median | ratio (median) |")
    print("| --- | ---: | ---: | ---: |")
    for name, reference, prepared in (("a single court item", reference_item, prepared_item),
                                      ("incidents of 2022 in a bbox, 100", reference_window, prepared_window)):
        prepared()
        times: list[list[float]] = [[], []]
        for _ in range(rounds):
            for which, work in enumerate((reference, prepared)):
                start = time.perf_counter()
                for _ in range(requests):
                    work()
                times[which].append((time.perf_counter() - start) / requests * 1000)
        ref, new = np.median(times[0]), np.median(times[1])
        print(f"| {name} | {ref:.3f} ms | {new:.4f} ms | {ref / new:,.0f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="a791dd7", help="git revision of the reference service")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    server_work(args.rounds, args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        reference = extract(args.reference, Path(tmp) / "reference")
        services = [start(reference, Path(tmp) / "ref.sqlite"), start(ROOT, Path(tmp) / "new.sqlite")]
        try:
            print("| case | reference best | reference median | prepared best | prepared median | ratio (median) |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for name, case in CASES.items():
                times: list[list[float]] = [[], []]
                for r in range(args.rounds + 1):  # the first round warms both services and is not counted
                    for which, (url, _) in enumerate(services):
                        with httpx.Client(base_url=url, timeout=60) as client:
                            mean = round_mean(client, case, r * args.requests, args.requests)
                        if r:
                            times[which].append(mean)
                ref, new = (np.array(t) * 1000 for t in times)
                print(f"| {name} | {ref.min():.2f} ms | {np.median(ref):.2f} ms | {new.min():.2f} ms | {np.median(new):.2f} ms"
                      f" | {np.median(ref) / np.median(new):.1f}x |")
        finally:
            for _, process in services:
                process.terminate()
                process.wait(timeout=10)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
