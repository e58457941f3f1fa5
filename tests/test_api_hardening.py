"""A public service one request cannot exhaust, that never serves a stale status, that refuses what it does not
understand: driven against live servers (race, budgets, streamed bodies, disconnects, SIGTERM) and in-process."""
from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from geo_justice.cli import main

from .conftest import TOKEN, start_server
from .test_layers import ACLED_COLUMNS

AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = 2.0  # every refusal answers well within this many seconds (httpx raises otherwise)
#: A siting search over ~3,400 lattice candidates: about a minute of work on the 1 km grid (token budget).
LONG_SITING = {"k": 3, "grid_km": 30}


@pytest.fixture(scope="module")
def server(dataset, tmp_path_factory):
    url, process = start_server(dataset.root, tmp_path_factory.mktemp("hardening") / "store.sqlite")
    yield url, process
    process.terminate()
    process.wait(timeout=10)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024


def test_every_read_after_a_write_shows_it(server):
    """Two writers make 100 status writes while two readers read: every answer's status is the one its ETag names,
    no read that started after a 200 shows an older revision, and the audit chain is unbroken."""
    url = f"{server[0]}/collections/courts/items/ml-ti-goundam"
    stop, reads, writes, lock = threading.Event(), [], [], threading.Lock()

    def revision(etag: str) -> int:
        return int(etag.strip('"').split(".")[1].removeprefix("r"))

    def reader() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                with lock:
                    done = max((r for _, r in writes), default=0)  # revisions acknowledged before this read started
                got = client.get(url)
                reads.append((done, revision(got.headers["etag"]), got.json()["properties"]["status"]))

    def writer(w: int) -> None:
        with httpx.Client(timeout=30, headers=AUTH) as client:
            for i in range(50):
                status = ("closed", "partial", "operational")[(w + i) % 3]
                got = client.patch(url, json={"status": status, "source": f"writer {w} #{i}"})
                assert got.status_code == 200, got.text
                with lock:
                    writes.append((got.json()["properties"]["status"], revision(got.headers["etag"])))

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    history = httpx.get(f"{url}/history").json()
    written = [e["status"] for e in history["events"] if e["source"].startswith("writer ")]
    assert len(written) == 100 and len(reads) > 100
    status_at = {r: s for r, s in enumerate(written, start=1)}  # the store's revision r is its r-th event
    for done, seen, status in reads:
        assert seen >= done and status == status_at.get(seen, "operational"), (done, seen, status)
    for status, seen in writes:
        assert status == status_at[seen]
    audit = [(json.loads(a["before"])["status"], json.loads(a["after"])["status"]) for a in history["audit"]]
    assert all(before == previous_after for (before, _), (_, previous_after) in zip(audit[1:], audit))


def test_each_budget_refuses_at_once_naming_its_limit(server):
    url = server[0]
    with httpx.Client(base_url=url, timeout=FAST) as client:
        fine_grid = client.get("/analysis/coverage", params={"resolution": 100})  # 306 M cells
        assert fine_grid.status_code == 403 and "resolution=100" in fine_grid.json()["detail"]
        assert "4,000,000 cells" in fine_grid.json()["detail"]
        token_would_do = client.get("/analysis/coverage", params={"resolution": 500})  # 12 M cells
        assert token_would_do.status_code == 403 and "bearer token" in token_would_do.json()["detail"]
        lattice = client.post("/analysis/siting", json={"k": 1, "grid_km": 1e-9})
        assert lattice.status_code == 403 and "grid_km" in lattice.json()["detail"] and "candidates" in lattice.json()["detail"]
        route = {"depots": ["Tombouctou"], "stops": ["Diré"], "start": "2024-01-08"}
        solver = client.post("/routes", json={**route, "solver_seconds": 20})
        assert solver.status_code == 403 and "solver_seconds" in solver.json()["detail"] and "10 solver seconds" in solver.json()["detail"]
        beyond = client.post("/routes", json={**route, "solver_seconds": 1e9}, headers=AUTH)
        assert beyond.status_code == 403 and "operator" in beyond.json()["detail"]
        many = client.post("/routes", json={**route, "stops": ["Diré"] * 61})
        assert many.status_code == 403 and "stops" in many.json()["detail"]
        big = client.post("/routes", content=b" " * (21 << 20), headers={"Content-Type": "application/json"})
        assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"


def test_a_streamed_body_is_counted_as_it_arrives(server):
    """100 MB sent chunked (no Content-Length): 413 once past the 20 MB limit, the server's memory steady."""
    url, process = server
    before = rss_mb(process.pid)
    port = int(url.rsplit(":", 1)[1])
    received: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /collections/incidents/items HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")

        def read() -> None:
            data = b""
            try:
                while part := sock.recv(65536):
                    data += part
            except OSError:
                pass
            received.append(data)
        reader = threading.Thread(target=read)
        reader.start()
        chunk, sent = b"x" * (1 << 20), 0
        try:
            for _ in range(100):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += 1
        except OSError:  # the server answered and closed the connection
            pass
        reader.join(timeout=30)
    assert received[0].startswith(b"HTTP/1.1 413"), received[0][:200]
    assert sent < 100 and rss_mb(process.pid) - before < 40


def wait_for(condition, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_client_that_leaves_cancels_its_work(server):
    url = server[0]
    load = lambda: httpx.get(f"{url}/load", timeout=FAST).json()  # noqa: E731
    with pytest.raises(httpx.ReadTimeout):  # the client gives up after 3 s of a minute's work
        httpx.post(f"{url}/analysis/siting", json=LONG_SITING, headers=AUTH, timeout=3)
    assert wait_for(lambda: load()["running"] == 0)  # the work stopped at its next checkpoint


def test_busy_pool_refuses_heavy_work_answers_cheap_and_sigterm_stops_it(dataset, tmp_path):
    url, process = start_server(dataset.root, tmp_path / "store.sqlite", {"GEO_JUSTICE_WORKERS": "1", "GEO_JUSTICE_QUEUE": "0"})
    try:
        tile = f"{url}/tiles/courts/5/15/14.png"
        assert httpx.get(tile, timeout=30).status_code == 200  # rendered once, then served from memory
        long = threading.Thread(target=lambda: httpx.post(f"{url}/analysis/siting", json=LONG_SITING, headers=AUTH, timeout=60))
        long.start()
        assert wait_for(lambda: httpx.get(f"{url}/load", timeout=FAST).json()["running"] == 1)
        busy = httpx.get(f"{url}/analysis/coverage", params={"resolution": 20000}, timeout=FAST)
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0
        assert httpx.get(f"{url}/conformance", timeout=FAST).status_code == 200
        assert httpx.get(f"{url}/collections/courts/items/ml-tgi-gao", timeout=FAST).status_code == 200
        assert httpx.get(tile, timeout=FAST).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)  # stops within seconds although the siting had about a minute left
        long.join(timeout=10)
    finally:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def client(dataset, tmp_path_factory):
    return TestClient(create_app(dataset.root, tokens=[f"writer:{TOKEN}"], store=tmp_path_factory.mktemp("strict") / "s.sqlite"),
                      raise_server_exceptions=False)


@pytest.mark.parametrize("path, unknown", [
    ("/conformance?format=json", "format"), ("/collections/courts/items?filtre=x", "filtre"),
    ("/collections/courts/items?srs=EPSG:4326&sortby=name", "srs"), ("/analysis/coverage?resolutoin=5000", "resolutoin"),
    ("/tiles/courts/5/15/14.png?v=1&colour=red", "colour")])
def test_unknown_query_parameters_are_named(client, path, unknown):
    response = client.get(path)
    assert response.status_code == 400 and f"'{unknown}'" in response.json()["detail"]


def test_unknown_json_fields_are_named(client):
    route = client.post("/routes", json={"depots": ["Tombouctou"], "stops": ["Diré"], "start": "2024-01-08", "days": 3})
    assert route.status_code == 400 and "field 'days'" in route.json()["detail"]
    siting = client.post("/analysis/siting", json={"k": 1, "radius": 5})
    assert siting.status_code == 400 and "field 'radius'" in siting.json()["detail"]
    scenario = client.post("/scenarios", json={"changes": [{"facility": "ml-tgi-gao", "status": "closed"}], "when": "x"})
    assert scenario.status_code == 400 and "when" in scenario.json()["detail"]
    patch = client.patch("/collections/courts/items/ml-tgi-gao", json={"status": "closed", "source": "t", "statut": "x"}, headers=AUTH)
    assert patch.status_code == 400 and "field 'statut'" in patch.json()["detail"]


@pytest.mark.parametrize("name, value", [("bandwidth", "inf"), ("resolution", "nan"), ("offroad_kmh", "-inf"),
                                         ("penalty", "NaN"), ("threshold", "Infinity")])
def test_numbers_must_be_finite(client, name, value):
    response = client.get("/analysis/gaps", params={name: value})
    assert response.status_code == 400 and f"'{name}'" in response.json()["detail"]


def test_json_numbers_must_be_finite(client):
    for text in ('{"k": 1, "threshold": NaN}', '{"k": 1, "threshold": Infinity}', '{"k": 1, "max_risk": -Infinity}',
                 '{"k": 1, "threshold": 1e999}'):
        response = client.post("/analysis/siting", content=text, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and "finite" in response.json()["detail"]
    scenario = client.post("/scenarios", content='{"changes": [{"add": "court", "at": {"lon": 1e999, "lat": 14}}]}',
                           headers={"Content-Type": "application/json"})
    assert scenario.status_code == 400 and "finite" in scenario.json()["detail"]


BAD_DATES = ["08/01/2024", "now", "2023", "20231117", "2023-13-01", "2023-02-30", "17-11-2023", "2023-11-17T10:00:00"]


@pytest.mark.parametrize("text", BAD_DATES)
def test_dates_are_iso_8601_only(client, text):
    assert client.get("/analysis/coverage", params={"as_of": text}).status_code == 400
    assert client.get("/collections/courts/items", params={"datetime": text}).status_code == 400
    route = client.post("/routes", json={"depots": ["Tombouctou"], "stops": ["Diré"], "start": text})
    assert route.status_code == 400 and "start" in route.json()["detail"]
    patch = client.patch("/collections/courts/items/ml-tgi-gao", json={"status": "closed", "source": "t", "as_of": text}, headers=AUTH)
    assert patch.status_code == 400 and "as_of" in patch.json()["detail"]


@pytest.mark.parametrize("text", ["2023-11-17", "2023-11-17T10:00:00Z", "2023-11-17T10:00:00+01:00", "2023-01-01/..",
                                  "../2023-11-17", "2023-01-01T00:00:00Z/2023-11-17"])
def test_iso_datetimes_and_intervals_are_read(client, text):
    assert client.get("/collections/courts/items", params={"datetime": text}).status_code == 200


def test_command_line_dates_are_iso_8601_only():
    for text in ("08/01/2024", "now", "2023"):
        result = CliRunner().invoke(main, ["coverage", "--as-of", text, "--resolution", "20000"])
        assert result.exit_code == 1 and "YYYY-MM-DD" in result.output, result.output


def test_unforeseen_errors_are_500_with_an_id_in_the_log(client, caplog):
    def broken() -> None:
        raise RuntimeError("a bug")
    client.app.add_api_route("/broken-for-test", broken)
    with caplog.at_level(logging.ERROR, logger="geo_justice.api"):
        response = client.get("/broken-for-test")
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["id"] in caplog.text and "a bug" in caplog.text


def test_openapi_says_400_problem_json_and_bearer(client):
    spec = client.get("/openapi.json").json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert all("422" not in op["responses"] and "application/problem+json" in op["responses"]["400"]["content"] for op in operations)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def acled_csv(rows: list[tuple[str, float, float]]) -> str:
    lines = [f"{i},2024-02-01,2024,1,Political violence,Battles,Armed clash,A,,3,B,,1,13,,466,Western Africa,Mali,"
             f"Tombouctou,,,Taoudenni,{lat},{lon},1,Local,Local,n,4,,0" for i, lon, lat in rows]
    return ACLED_COLUMNS + "\n" + "\n".join(lines) + "\n"


def test_licence_floors_hide_an_isolated_row(client):
    """An ACLED row alone in the desert: anonymous surfaces and counts do not show it until its cell holds the
    floor of 5 rows; a narrow kernel or window is refused; a token holder sees it."""
    tile = "/tiles/risk/9/249/222.png?as_of=2024-02-15&resolution=5000"  # the tile holding 22.7 N, 4.3 W
    items = "/collections/incidents/items?datetime=2024-02-01&bbox=-5,22,-4,23"
    before = client.get(tile).content
    assert client.post("/collections/incidents/items", content=acled_csv([("ISO1", -4.3, 22.7)]),
                       headers={**AUTH, "Content-Type": "text/csv"}).status_code == 201
    assert client.get(tile).content == before  # one row: nothing to see anonymously
    assert client.get(tile, headers=AUTH).content != before  # the token holder's surface has it
    assert client.get(items).json()["numberMatched"] == 0
    assert [f["id"] for f in client.get(items, headers=AUTH).json()["features"]] == ["ISO1"]
    for narrow in ("&bandwidth=0.000001", "&conflict_window=1"):
        refused = client.get(tile + narrow)
        assert refused.status_code == 403 and "licence floor" in refused.json()["detail"]
    more = [(f"ISO{i}", -4.3 + i / 100, 22.7) for i in range(2, 7)]  # 6 rows in the 0.5-degree cell
    client.post("/collections/incidents/items", content=acled_csv(more), headers={**AUTH, "Content-Type": "text/csv"})
    assert client.get(tile).content != before
    (cell,) = client.get(items).json()["features"]
    corners = cell["geometry"]["coordinates"][0]
    assert cell["properties"]["incidents"] == 6 and {tuple(c) for c in corners} == {(-4.5, 22.5), (-4.0, 22.5), (-4.0, 23.0), (-4.5, 23.0)}
