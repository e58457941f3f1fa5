"""Several service processes on one store agree, and a service killed with SIGKILL loses no acknowledged write:
on SQLite and on PostgreSQL, driven over HTTP against real `geo-justice serve` processes."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from .conftest import TOKEN, free_port, start_server, stop_server
from .test_api_writes import acled_rows

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ITEM = "/collections/courts/items/ml-tgi-gao"
LISTING = "/collections/courts/items?region=Gao&tier=tgi"
CLOSE_GAO = {"status": "closed", "as_of": "2023-12-01", "source": "test: court attacked"}


def wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.02)


def gao(base: str, client: httpx.Client) -> tuple[str, str, str]:
    """(status of the item, its ETag, status in the collection listing) as the service at `base` answers."""
    item = client.get(base + ITEM)
    listing = client.get(base + LISTING).json()["features"]
    return item.json()["properties"]["status"], item.headers["etag"], listing[0]["properties"]["status"]


def test_two_services_on_one_store_agree(dataset, store_location):
    """A PATCH through one service is seen through the other within a second, with the new ETag; neither serves
    the old status after that (both had it cached), and the other refuses a write based on the old ETag."""
    (a, first), (b, second) = (start_server(dataset.root, store_location, prepare=False) for _ in range(2))
    try:
        with httpx.Client(timeout=60) as client:
            before = [gao(base, client) for base in (a, b)]
            assert before[0] == before[1] and before[0][0] == before[0][2] == "operational"
            old_etag = before[0][1]
            patched = client.patch(a + ITEM, json=CLOSE_GAO, headers={**AUTH, "If-Match": old_etag})
            assert patched.status_code == 200
            new_etag = patched.headers["etag"]
            assert new_etag != old_etag
            assert wait_for(lambda: gao(b, client)[0] == "closed", seconds=1.0)
            for _ in range(10):
                for base in (a, b):
                    assert gao(base, client) == ("closed", new_etag, "closed")
            stale = client.patch(b + ITEM, json={"status": "operational", "source": "test"}, headers={**AUTH, "If-Match": old_etag})
            assert stale.status_code == 412
            assert [gao(base, client) for base in (a, b)] == [("closed", new_etag, "closed")] * 2
            assert len(client.get(b + ITEM + "/history").json()["audit"]) == 1
    finally:
        stop_server(first)
        stop_server(second)


def worker_pids(parent: int) -> list[int]:
    """The uvicorn worker processes (multiprocessing children) of `parent`."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if ppid == parent and b"spawn_main" in command:
            pids.append(int(stat.parent.name))
    return pids


def test_serve_workers_share_a_postgres_store(dataset, postgres_store):
    """`serve --workers 2`: two worker processes on one port; after a PATCH every answer, whichever worker gives it,
    shows the new status and ETag; SIGTERM stops them all."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", "from geo_justice.cli import main; main()", "serve", "--data",
                                str(dataset.root), "--port", str(port), "--store", postgres_store, "--workers", "2"],
                               env={**os.environ, "GEO_JUSTICE_TOKENS": f"writer:{TOKEN}"})
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=120) as client:
            assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, seconds=60)
            assert client.get(base + ITEM).json()["properties"]["status"] == "operational"
            assert wait_for(lambda: len(worker_pids(process.pid)) == 2, seconds=60)
            patched = client.patch(base + ITEM, json=CLOSE_GAO, headers=AUTH)
            assert patched.status_code == 200
        answers = set()
        for _ in range(20):  # a new connection each time: the kernel hands each to either worker
            with httpx.Client(timeout=120) as fresh:
                got = fresh.get(base + ITEM)
                answers.add((got.json()["properties"]["status"], got.headers["etag"]))
        assert answers == {("closed", patched.headers["etag"])}
        workers = worker_pids(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        process.kill()
        process.wait()


FACILITIES = ("ml-tgi-gao", "ml-ti-bourem", "ml-ti-goundam")


def test_sigkill_loses_no_acknowledged_write(dataset, store_location):
    """Writers (status updates and 20-row incident uploads) run until the service is killed with SIGKILL; on the
    restarted service every acknowledged write is there, every event has its audit record, the ETags count the
    events, and every upload is there whole or not at all."""
    url, process = start_server(dataset.root, store_location, prepare=False)
    acknowledged: list[str] = []
    uploads: dict[int, bool] = {}  # upload number: acknowledged
    killed = threading.Event()

    def writer(w: int) -> None:
        with httpx.Client(timeout=30, headers=AUTH) as client:
            for i in range(10_000):
                source = f"writer {w} #{i}"
                try:
                    got = client.patch(f"{url}/collections/courts/items/{FACILITIES[w]}",
                                       json={"status": ("closed", "partial", "operational")[i % 3], "source": source})
                except httpx.TransportError:
                    return
                assert got.status_code == 200, got.text
                acknowledged.append(source)

    def uploader() -> None:
        with httpx.Client(timeout=30, headers={**AUTH, "Content-Type": "text/csv"}) as client:
            for n in range(10_000):
                uploads[n] = False
                try:
                    got = client.post(f"{url}/collections/incidents/items", content=acled_rows(range(n * 20, n * 20 + 20)))
                except httpx.TransportError:
                    return
                assert got.status_code == 201, got.text
                uploads[n] = True

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(len(FACILITIES))] + [threading.Thread(target=uploader)]
    for thread in threads:
        thread.start()
    try:
        assert wait_for(lambda: len(acknowledged) >= 15 and sum(uploads.values()) >= 2, seconds=120)
        process.kill()  # SIGKILL: no chance to finish anything
        process.wait()
        killed.set()
    finally:
        if not killed.is_set():
            process.kill()
        for thread in threads:
            thread.join(timeout=60)
    url, process = start_server(dataset.root, store_location, prepare=False)
    try:
        with httpx.Client(timeout=60, headers=AUTH) as client:
            stored = []
            for facility in FACILITIES:
                history = client.get(f"{url}/collections/courts/items/{facility}/history").json()
                written = [e["source"] for e in history["events"] if e["source"].startswith("writer ")]
                audited = [a for a in history["audit"] if a["action"] == "status event"]
                assert len(written) == len(audited)
                etag = client.get(f"{url}/collections/courts/items/{facility}").headers["etag"]
                assert etag.startswith(f'"{facility}.r{len(written)}.')
                stored += written
            assert set(acknowledged) <= set(stored)
            incidents = client.get(f"{url}/collections/incidents/items?limit=10000").json()["features"]
            ids = {f["id"] for f in incidents}
            for n, done in uploads.items():
                present = sum(f"NEW{i}" in ids for i in range(n * 20, n * 20 + 20))
                assert present in (0, 20) and (present == 20 or not done), (n, done, present)
    finally:
        stop_server(process)
