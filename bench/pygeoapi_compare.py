"""geo-justice against pygeoapi on the same layers (run by hand through `python bench/api.py --pygeoapi`).

Starts `geo-justice serve` on the embedded dataset, exports its courts and incidents as GeoJSON files
(what it serves, as anonymous callers see it), serves those with pygeoapi (uvicorn, one process, its
GeoJSON file provider; its TinyDB provider for the datetime case, as the GeoJSON one ignores `datetime`),
then runs every case on both servers, interleaved, for several rounds, and prints requests per second
(best and median) and the ratios (of the bests, of the medians). Every list request has a new URL
within a run (geo-justice answers a repeated URL from memory); a single item is asked for court after
court. Before timing, each case's first answer from both servers is checked to name the same features.

The client is wrk (`apt-get install wrk`: C, one thread, `--concurrency` keep-alive connections, the
same headers as httpx's defaults) when it is installed, so that the servers, not a Python client sharing
their two cores, set the pace; `--client httpx` uses a pool of Python threads instead.

pygeoapi's file providers do not evaluate CQL2 (its SQL, Oracle, Elasticsearch/OpenSearch and ERDDAP
providers do), so the filter case compares geo-justice's CQL2 `filter=event_type = 'Battles'` with
pygeoapi's equivalent property parameter `event_type=Battles` (the same rows).
"""
from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

#: wrk's script: cycle through the paths of a file (one per line), the first request taking the first.
WRK_SCRIPT = """
local paths, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
function request()
  i = i + 1
  return wrk.format(nil, paths[(i - 1) % #paths + 1])
end
"""

PortSource = Callable[[], int]

BBOX = "-6,13,0,17"
WINDOW = "2022-01-01/2023-12-31"
#: case -> (geo-justice path, pygeoapi path), each a function of a request counter k (a new URL for every k).
CASES: dict[str, tuple[Callable[[int], str], Callable[[int], str]]] = {}


def page(k: int, offsets: int) -> int:
    """The page size of the k-th request of a case that cycles through `offsets` offsets: 100, then one less
    each cycle down to 61, so that no URL repeats within 40 cycles (a repeated URL is answered from memory)."""
    return 100 - (k // offsets) % 40


def define_cases(court_ids: list[str]) -> None:
    CASES.update({
        "a single court item": (lambda k: f"/collections/courts/items/{court_ids[k % len(court_ids)]}",
                                lambda k: f"/collections/courts/items/{court_ids[k % len(court_ids)]}?f=json"),
        "courts list, new URL each time": (lambda k: f"/collections/courts/items?limit={60 + k}",
                                           lambda k: f"/collections/courts/items?f=json&limit={60 + k}"),
        "incidents in a bbox, 61-100 a page": (
            lambda k: f"/collections/incidents/items?bbox={BBOX}&limit={page(k, 500)}&offset={k % 500}",
            lambda k: f"/collections/incidents/items?f=json&bbox={BBOX}&limit={page(k, 500)}&offset={k % 500}"),
        "incidents in a date window, 61-100 a page": (
            lambda k: f"/collections/incidents/items?datetime={WINDOW}&limit={page(k, 1000)}&offset={k % 1000}",
            lambda k: f"/collections/incidents_tinydb/items?f=json&datetime={WINDOW}&limit={page(k, 1000)}&offset={k % 1000}"),
        "incidents, filter event_type = 'Battles'": (
            lambda k: f"/collections/incidents/items?filter=event_type%20%3D%20%27Battles%27&limit={page(k, 500)}&offset={k % 500}",
            lambda k: f"/collections/incidents/items?f=json&event_type=Battles&limit={page(k, 500)}&offset={k % 500}"),
    })


def wait_ready(log: Path, process: subprocess.Popen) -> None:
    """Until `geo-justice serve` says it has prepared its default map (so that work does not share the run)."""
    while "ready" not in log.read_text():
        if process.poll() is not None:
            raise RuntimeError(f"geo-justice serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def wait_for(url: str, process: subprocess.Popen) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the server behind {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def export(base: str, folder: Path) -> dict[str, Path]:
    """The courts and incidents geo-justice serves, as GeoJSON files (and incidents as a TinyDB file)."""
    from tinydb import TinyDB

    files = {}
    for name in ("courts", "incidents"):
        body = httpx.get(f"{base}/collections/{name}/items?limit=10000", timeout=120).json()
        files[name] = folder / f"{name}.geojson"
        files[name].write_text(json.dumps({"type": "FeatureCollection", "features": body["features"]}))
    files["incidents_tinydb"] = folder / "incidents.tinydb.json"
    with TinyDB(files["incidents_tinydb"]) as db:
        db.insert_multiple(json.loads(files["incidents"].read_text())["features"])
    return files


def pygeoapi_config(files: dict[str, Path], port: int) -> dict:
    def resource(title: str, provider: dict) -> dict:
        return {"type": "collection", "title": title, "description": title, "keywords": ["bench"], "links": [],
                "extents": {"spatial": {"bbox": [-180, -90, 180, 90], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [{"type": "feature", "id_field": "id", **provider}]}
    contact = {k: "bench" for k in ("name", "position", "address", "city", "stateorprovince", "postalcode", "country",
                                    "phone", "fax", "hours", "instructions")}
    return {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "language": "en-US",
                   "cors": True, "pretty_print": False, "limits": {"default_items": 100, "max_items": 10000},
                   "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"}},
        "logging": {"level": "ERROR"},
        "metadata": {"identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                                        "keywords_type": "theme", "terms_of_service": "none", "url": "http://example.org"},
                     "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
                     "provider": {"name": "bench", "url": "http://example.org"},
                     "contact": {**contact, "email": "bench@example.org", "url": "http://example.org", "role": "pointOfContact"}},
        "resources": {
            "courts": resource("Courts", {"name": "GeoJSON", "data": str(files["courts"])}),
            "incidents": resource("Incidents", {"name": "GeoJSON", "data": str(files["incidents"])}),
            "incidents_tinydb": resource("Incidents (TinyDB)", {"name": "TinyDB", "data": str(files["incidents_tinydb"]),
                                                                "time_field": "date"}),
        },
    }


def start_pygeoapi(folder: Path, files: dict[str, Path], free_port: PortSource) -> tuple[str, subprocess.Popen]:
    import yaml

    port = free_port()
    config, openapi = folder / "pygeoapi.yml", folder / "openapi.yml"
    config.write_text(yaml.safe_dump(pygeoapi_config(files, port)))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    pygeoapi = shutil.which("pygeoapi", path=str(Path(sys.executable).parent)) or "pygeoapi"
    subprocess.run([pygeoapi, "openapi", "generate", str(config), "--output-file", str(openapi)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "pygeoapi.starlette_app:APP", "--host", "127.0.0.1",
                                "--port", str(port), "--log-level", "warning"], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/", process)
    return base, process


def rate(base: str, path: Callable[[int], str], counter: itertools.count, requests: int, concurrency: int) -> float:
    """Requests per second for `requests` requests from `concurrency` client threads, each URL new."""
    with httpx.Client(base_url=base, timeout=120) as client:
        def one(_: int) -> None:
            client.get(path(next(counter))).raise_for_status()

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(requests)))
        return requests / (time.perf_counter() - start)


def rate_wrk(base: str, path: Callable[[int], str], counter: itertools.count, seconds: float, concurrency: int,
             folder: Path) -> float:
    """Requests per second from wrk over at least `seconds`, every URL new (the counter moves past the ones asked).

    A round that completes fewer than four requests per connection is run again, longer (up to 60 s), so that a
    slow server's rate is not read off a handful of requests or none."""
    script = folder / "paths.lua"
    script.write_text(WRK_SCRIPT)
    with httpx.Client() as client:  # the headers the httpx client sends
        headers = [arg for name, value in client.headers.items() for arg in ("-H", f"{name}: {value}")]
    while True:
        first = next(counter)
        paths = folder / "paths.txt"
        paths.write_text("\n".join(path(first + i) for i in range(50_000)) + "\n")
        out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{math.ceil(seconds)}s", "--timeout", "120s", *headers,
                              "-s", str(script), base + path(first), "--", str(paths)],
                             capture_output=True, text=True, check=True).stdout
        if "Non-2xx" in out or "Socket errors" in out:
            raise SystemExit(f"wrk saw failed requests on {base}{path(first)}:\n{out}")
        done = int(re.search(r"(\d+) requests in", out).group(1))
        if done >= 50_000:
            raise SystemExit("wrk asked more than 50,000 URLs in one round: shorten --seconds")
        for _ in range(done):
            next(counter)
        if done >= 4 * concurrency or seconds >= 60:
            return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        seconds = min(60.0, seconds * max(2.0, 4 * concurrency / max(done, 1)))


def same_rows(gj: str, pg: str, case: str) -> None:
    """Both servers' answers to the case's first URL name the same features."""
    ours, theirs = (httpx.get(url, timeout=120).json() for url in (gj, pg))
    if "features" in ours:
        ours, theirs = [f["id"] for f in ours["features"]], [f["id"] for f in theirs["features"]]
    else:
        ours, theirs = ours["id"], theirs["id"]
    if ours != theirs:
        raise SystemExit(f"{case}: the two servers answer different features ({str(ours)[:200]} vs {str(theirs)[:200]})")


def compare(rounds: int, requests: int, concurrency: int, free_port: PortSource, client: str, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        log = folder / "serve.log"
        with log.open("w") as sink:
            ours = subprocess.Popen([sys.executable, "-c", "from geo_justice.cli import main; main()", "serve",
                                     "--port", str(port), "--store", str(folder / "store.sqlite")], stderr=sink)
        theirs = None
        try:
            gj = f"http://127.0.0.1:{port}"
            wait_for(gj + "/", ours)
            wait_ready(log, ours)
            files = export(gj, folder)
            define_cases([f["id"] for f in json.loads(files["courts"].read_text())["features"]])
            pg, theirs = start_pygeoapi(folder, files, free_port)
            for case, (ours_path, theirs_path) in CASES.items():
                same_rows(gj + ours_path(0), pg + theirs_path(0), case)
            load = os.getloadavg()
            per_round = f"{seconds:g} s" if client == "wrk" else f"{requests} requests"
            print(f"{rounds} interleaved rounds x {per_round} per case and server, client {client} with {concurrency} "
                  f"connections; load average {load[0]:.2f} before the run")
            rates = {(case, server): [] for case in CASES for server in ("geo-justice", "pygeoapi")}
            counters = {key: itertools.count(1) for key in rates}
            for r in range(rounds):
                for case, paths in CASES.items():
                    order = [("geo-justice", gj, paths[0]), ("pygeoapi", pg, paths[1])]
                    for server, base, path in (order if r % 2 == 0 else order[::-1]):
                        rates[case, server].append(
                            rate_wrk(base, path, counters[case, server], seconds, concurrency, folder) if client == "wrk"
                            else rate(base, path, counters[case, server], requests, concurrency))
            print(f"load average {os.getloadavg()[0]:.2f} after the run")
            print(f"{'case':<44}{'geo-justice req/s':>20}{'pygeoapi req/s':>18}{'ratio':>16}")
            print(f"{'':<44}{'best / median':>20}{'best / median':>18}{'best / median':>16}")
            for case in CASES:
                a, b = rates[case, "geo-justice"], rates[case, "pygeoapi"]
                print(f"{case:<44}{max(a):>10.0f} / {statistics.median(a):<7.0f}{max(b):>9.0f} / {statistics.median(b):<6.1f}"
                      f"{max(a) / max(b):>9.1f} / {statistics.median(a) / statistics.median(b):<5.1f}")
        finally:
            for process in (ours, theirs):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=10)
