"""Writes through HTTP: token, audit, If-Match, all-or-nothing uploads, caches that see new data, concurrency."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app

from .conftest import TOKEN, start_server, stop_server
from . import toy
from .test_layers import ACLED_COLUMNS

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLOSE_GAO = {"status": "closed", "as_of": "2023-12-01", "source": "test: court attacked"}


@pytest.fixture()
def client(dataset, store_location):
    """The service on a new store: SQLite, then PostgreSQL (every test here runs on both)."""
    with TestClient(create_app(dataset.root, tokens=[f"clerk:{TOKEN}"], store=store_location, max_body=5000)) as client:
        yield client


def test_status_update_needs_a_token(client):
    assert client.patch("/collections/courts/items/ml-tgi-gao", json=CLOSE_GAO).status_code == 401
    wrong = client.patch("/collections/courts/items/ml-tgi-gao", json=CLOSE_GAO, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.headers["content-type"] == "application/problem+json"
    assert client.get("/collections/courts/items/ml-tgi-gao").json()["properties"]["status"] == "operational"


def test_status_update_is_recorded_with_its_audit(client):
    etag = client.get("/collections/courts/items/ml-tgi-gao").headers["etag"]
    response = client.patch("/collections/courts/items/ml-tgi-gao", json=CLOSE_GAO, headers={**AUTH, "If-Match": etag})
    assert response.status_code == 200
    assert response.json()["properties"]["status"] == "closed"
    assert response.json()["properties"]["status_source"] == "test: court attacked"
    assert response.headers["etag"].startswith('"ml-tgi-gao.r1.') and response.headers["etag"] != etag
    assert client.get("/collections/courts/items/ml-tgi-gao").json()["properties"]["status"] == "closed"
    # the status on an earlier date is unchanged: history is append-only
    earlier = client.get("/collections/courts/items?datetime=2023-11-17&region=Gao&tier=tgi").json()["features"][0]
    assert earlier["properties"]["status"] == "operational"
    history = client.get("/collections/courts/items/ml-tgi-gao/history").json()
    assert history["events"][-1]["source"] == "test: court attacked"
    [audit] = history["audit"]
    assert audit["who"] == "clerk" and json.loads(audit["before"])["status"] == "operational"
    assert json.loads(audit["after"])["status"] == "closed"


def test_stale_etag_changes_nothing(client):
    stale = client.get("/collections/courts/items/ml-tgi-gao").headers["etag"]
    assert client.patch("/collections/courts/items/ml-tgi-gao", json=CLOSE_GAO, headers=AUTH).status_code == 200
    reopen = {"status": "operational", "source": "test"}
    response = client.patch("/collections/courts/items/ml-tgi-gao", json=reopen, headers={**AUTH, "If-Match": stale})
    assert response.status_code == 412 and "stale" in response.json()["detail"]
    assert client.get("/collections/courts/items/ml-tgi-gao").json()["properties"]["status"] == "closed"
    assert len(client.get("/collections/courts/items/ml-tgi-gao/history").json()["audit"]) == 1


@pytest.mark.parametrize("body, words", [
    ({"status": "open", "source": "x"}, "status"),
    ({"status": "closed", "source": ""}, "source"),
    ({"source": "x"}, "must set 'status' or 'sitting'"),
    ({"sitting": {"name": "Paris", "lon": 2.35, "lat": 48.85}, "source": "x"}, "outside the study area"),
    ({"status": "closed", "source": "x", "as_of": "2023-02-30"}, "as_of"),
])
def test_bad_update_is_rejected_and_changes_nothing(client, body, words):
    response = client.patch("/collections/courts/items/ml-tgi-gao", json=body, headers=AUTH)
    assert response.status_code == 400 and words in response.json()["detail"]
    assert client.get("/collections/courts/items/ml-tgi-gao/history").json()["audit"] == []


def test_analysis_sees_the_new_data(client):
    url = f"/analysis/coverage?resolution=5000&threshold=120&conflict=off&as_of={date.today().isoformat()}"
    gao = lambda body: next(r for r in body["summary"] if r["region"] == "Gao")["actual_120"]  # noqa: E731
    before = client.get(url)
    closed_today = {"status": "closed", "source": "test"}
    for court in ("ml-tgi-gao", "ml-ti-bourem", "ml-jpce-ansongo", "ml-ti-i-n-tillit"):
        assert client.patch(f"/collections/courts/items/{court}", json=closed_today, headers=AUTH).status_code == 200
    after = client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]  # a new data version
    assert gao(after.json()) < gao(before.json())
    every = lambda body: next(r for r in body["summary"] if r["region"] == "All")  # noqa: E731
    assert every(after.json())["nominal_120"] == pytest.approx(every(before.json())["nominal_120"])


def acled_rows(ids: range, bad: int | None = None) -> str:
    rows = []
    for i in ids:
        date = "2024-02-30" if i == bad else "2024-02-01"
        rows.append(f"NEW{i},{date},2024,1,Political violence,Battles,Armed clash,A,,3,B,,1,13,,466,Western Africa,Mali,Gao,,,"
                    f"Gao,16.27,-0.04,1,Local,Local,n,{i},,0")
    return ACLED_COLUMNS + "\n" + "\n".join(rows) + "\n"


def test_incident_upload_is_all_or_nothing(client):
    count = lambda: client.get("/collections/incidents/items?limit=1", headers=AUTH).json()["numberMatched"]  # noqa: E731
    start = count()
    bad = client.post("/collections/incidents/items", content=acled_rows(range(5), bad=3),
                      headers={**AUTH, "Content-Type": "text/csv"})
    assert bad.status_code == 400 and "upload.csv: line 5 (id NEW3): field 'event_date'" in bad.json()["detail"]
    assert count() == start
    good = client.post("/collections/incidents/items", content=acled_rows(range(5)), headers={**AUTH, "Content-Type": "text/csv"})
    assert good.status_code == 201 and good.json()["added"] == 5 and count() == start + 5
    again = client.post("/collections/incidents/items", content=acled_rows(range(4, 8)), headers={**AUTH, "Content-Type": "text/csv"})
    assert again.status_code == 400 and "already exist" in again.json()["detail"] and count() == start + 5
    assert client.post("/collections/incidents/items", content="x", headers={"Content-Type": "text/csv"}).status_code == 401
    too_big = client.post("/collections/incidents/items", content=acled_rows(range(100)), headers={**AUTH, "Content-Type": "text/csv"})
    assert too_big.status_code == 413 and count() == start + 5


@pytest.fixture()
def server(dataset, store_location):
    """`geo-justice serve` in its own process on a new store (SQLite, then PostgreSQL), without the default map."""
    url, process = start_server(dataset.root, store_location, prepare=False)
    try:
        yield url
    finally:
        stop_server(process)


def test_concurrent_writers_lose_nothing(server):
    url = f"{server}/collections/courts/items/ml-ti-goundam"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    def update(i: int) -> httpx.Response:
        body = {"status": "partial" if i % 2 else "operational", "source": f"writer {i}"}
        return httpx.patch(url, json=body, headers=headers, timeout=60)
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(update, range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    def revision(response: httpx.Response) -> int:
        return int(response.headers["etag"].strip('"').split(".")[1].removeprefix("r"))
    # each answer shows the facility at or after its own write; the 20 writes made 20 revisions
    assert all(1 <= revision(r) <= 20 for r in responses) and revision(httpx.get(url)) == 20
    history = httpx.get(f"{url}/history").json()
    sources = {e["source"] for e in history["events"]}
    assert {f"writer {i}" for i in range(20)} <= sources and len(history["audit"]) == 20


def test_store_outlives_a_restart_and_belongs_to_one_dataset(dataset, store_location, tmp_path):
    store = store_location
    with TestClient(create_app(dataset.root, tokens=[f"clerk:{TOKEN}"], store=store)) as first:
        assert first.patch("/collections/courts/items/ml-tgi-gao", json=CLOSE_GAO, headers=AUTH).status_code == 200
    with TestClient(create_app(dataset.root, store=store)) as again:
        assert again.get("/collections/courts/items/ml-tgi-gao").json()["properties"]["status"] == "closed"
    toy.make_dataset(tmp_path / "toy")
    with pytest.raises(ValueError, match="holds changes to dataset 'Mali, embedded.*not 'toy'"):
        create_app(tmp_path / "toy", store=store)
    with TestClient(create_app(dataset.root, store=store)) as after:
        assert after.get("/collections/courts/items/ml-tgi-gao").json()["properties"]["status"] == "closed"
