"""The HTTP API through its interface: OGC API - Features, licences, analyses, errors, caching."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from fastapi.testclient import TestClient

from api.app import create_app

from .conftest import TOKEN
from .toy import make_dataset
from .test_layers import ACLED_COLUMNS



def test_openapi_describes_every_parameter(client):
    spec = client.get("/openapi.json").json()
    undescribed = [f"{method.upper()} {path} {p['name']}" for path, operations in spec["paths"].items()
                   for method, operation in operations.items() for p in operation.get("parameters", [])
                   if not p.get("description")]
    assert undescribed == []
    assert {"/collections/{collection_id}/items", "/analysis/coverage"} <= set(spec["paths"])
    assert "swagger-ui" in client.get("/docs").text


def test_landing_conformance_and_collections(client):
    landing = client.get("/").json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "service-desc", "conformance", "data"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in client.get("/conformance").json()["conformsTo"]
    ids = [c["id"] for c in client.get("/collections").json()["collections"]]
    assert ids == ["courts", "prisons", "incidents", "boundaries"]  # the embedded official regions
    courts = client.get("/collections/courts").json()
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json" for link in courts["links"])


def test_items_page_through_every_court(client, dataset):
    seen, url = [], "/collections/courts/items?limit=20"
    while url:
        page = client.get(url)
        assert page.headers["content-type"] == "application/geo+json"
        body = page.json()
        assert body["numberMatched"] == len(dataset.courts) and body["numberReturned"] == len(body["features"])
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == dataset.courts["id"].tolist()
    last = client.get("/collections/courts/items?limit=20&offset=40").json()
    assert any(link["rel"] == "prev" and "offset=20" in link["href"] for link in last["links"])


def test_filters_bbox_and_status_on_a_date(client, dataset):
    closed = client.get("/collections/courts/items?status=closed&limit=100").json()
    assert sorted(f["id"] for f in closed["features"]) == sorted(dataset.courts.loc[dataset.courts.status == "closed", "id"])
    north = client.get("/collections/courts/items?bbox=-5,15.5,3,25&limit=100").json()
    inside = dataset.courts.cx[-5:3, 15.5:25]
    assert north["numberMatched"] == len(inside) > 0
    in_2013 = client.get("/collections/courts/items?datetime=2013-01-01&region=Gao&limit=100").json()
    assert {f["properties"]["status"] for f in in_2013["features"]} == {"closed"}  # the north was occupied
    gao = client.get("/collections/courts/items/ml-tgi-gao").json()
    assert gao["geometry"]["coordinates"] == pytest.approx([dataset.courts.set_index("id").loc["ml-tgi-gao"].geometry.x,
                                                            dataset.courts.set_index("id").loc["ml-tgi-gao"].geometry.y])
    assert gao["properties"]["status_source"]


@pytest.mark.parametrize("url, status, words", [
    ("/collections/volcanoes/items", 404, "no collection 'volcanoes'"),
    ("/collections/courts/items/nowhere", 404, "no feature 'nowhere'"),
    ("/collections/courts/items?bbox=1,2,3", 400, "parameter 'bbox'"),
    ("/collections/courts/items?bbox=10,10,0,0", 400, "parameter 'bbox'"),
    ("/collections/courts/items?limit=0", 400, "parameter 'limit'"),
    ("/collections/courts/items?bbox=0,0,1,1,2", 400, "parameter 'bbox'"),
    ("/collections/courts/items?crs=EPSG:2154", 400, "parameter 'crs'"),
    ("/collections/courts/items?sortby=-altitude", 400, "parameter 'sortby'"),
    ("/collections/courts/items?properties=name,altitude", 400, "parameter 'properties'"),
    ("/collections/courts/items?f=xml", 400, "parameter 'f'"),
    ("/collections/courts/items?offset=-1", 400, "parameter 'offset'"),
    ("/collections/courts/items?datetime=yesterday", 400, "datetime 'yesterday'"),
    ("/collections/courts/items?event_type=Battles", 400, "parameter 'event_type' does not apply to courts"),
    ("/analysis/coverage?mode=hopeful", 400, "parameter 'mode': Input should be 'actual' or 'nominal'"),
    ("/analysis/coverage?as_of=someday", 400, "as_of must be a date"),
    ("/analysis/gaps?threshold=-5", 400, "parameter 'threshold'"),
])
def test_bad_requests_are_problems_naming_the_parameter(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]


def test_etag_and_not_modified(client):
    first = client.get("/collections/prisons/items")
    assert first.headers["cache-control"].startswith("public")
    again = client.get("/collections/prisons/items", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/collections/prisons/items?limit=3").headers["etag"] != first.headers["etag"]
    cors = client.get("/collections/prisons/items", headers={"Origin": "https://news.example"})
    assert cors.headers["access-control-allow-origin"] == "*"


def test_analysis_coverage_and_its_cache(client):
    url = "/analysis/coverage?resolution=5000&threshold=60&threshold=120"
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["name"] == "isochrones"
    assert [f["properties"]["threshold_minutes"] for f in body["features"]] == [60, 120]
    every = next(row for row in body["summary"] if row["region"] == "All")
    assert every["nominal_120"] >= every["actual_120"] > 0
    assert body["manifest"]["parameters"]["access"]["resolution_m"] == 5000
    engine = client.app.state.snapshot.engine
    before = len(engine.cache._items)
    again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and len(engine.cache._items) == before


@pytest.mark.parametrize("endpoint, main", [("catchments", "catchments"), ("gaps", "gaps"), ("exposure", "exposure"),
                                            ("isochrones", "isochrones")])
def test_every_analysis_endpoint(client, endpoint, main):
    body = client.get(f"/analysis/{endpoint}?resolution=5000").json()
    assert body["name"] == main and body["manifest"]["command"] in (endpoint, "coverage")
    assert all(f["geometry"] is not None for f in body["features"])


def make_acled_toy(parent: Path) -> Path:
    """The toy dataset with 30 incidents from ACLED, whose licence forbids passing raw rows on (anonymous callers get
    per-cell aggregates)."""
    folder = make_dataset(parent / "toy")
    rows = [f"MLI{i},2023-0{1 + i % 9}-1{i % 10},2023,1,Political violence,Battles,Armed clash,Group {i},,3,Military Forces,,1,13,,"
            f"466,Western Africa,Mali,X,,,Place {i},{11.0 + 0.01 * i:.4f},{0.5 + 0.01 * i:.4f},1,Local,Subnational,note {i},{i % 4},,0"
            for i in range(30)]
    (folder / "acled.csv").write_text(ACLED_COLUMNS + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    manifest = json.loads((folder / "dataset.json").read_text())
    manifest["layers"]["incidents"] = {"path": "acled.csv"}
    (folder / "dataset.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def acled_client(tmp_path_factory):
    folder = make_acled_toy(tmp_path_factory.mktemp("acled"))
    return TestClient(create_app(folder, tokens=[TOKEN], store=folder / "store.sqlite"))


def test_no_raw_acled_row_leaves_a_public_endpoint(acled_client):
    public = acled_client.get("/collections/incidents/items?limit=10000")
    text = public.text
    assert all(f"MLI{i}\"" not in text and f"Group {i}\"" not in text and f"note {i}" not in text for i in range(30))
    body = public.json()
    assert {f["properties"]["kind"] for f in body["features"]} == {"aggregate"}
    assert sum(f["properties"]["incidents"] for f in body["features"]) == 30
    assert sum(f["properties"]["fatalities"] for f in body["features"]) == sum(i % 4 for i in range(30))
    assert "ACLED" in body["attribution"]
    for fid in ("MLI3", "cell-1-22"):
        assert "Group" not in acled_client.get(f"/collections/incidents/items/{fid}").text
    raw = acled_client.get("/collections/incidents/items?limit=10000", headers={"Authorization": f"Bearer {TOKEN}"})
    assert raw.json()["numberMatched"] == 30 and raw.headers["cache-control"].startswith("private")
    assert acled_client.get("/collections/incidents/items", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert acled_client.get("/collections/incidents/items", headers={"Authorization": "Basic abc"}).status_code == 401


def test_gdal_oapif_driver_reads_every_collection(dataset, live_server):
    url = f"OAPIF:{live_server}"
    layers = {name for name, _ in pyogrio.list_layers(url)}
    assert layers == {"courts", "prisons", "incidents", "boundaries"}
    regions = pyogrio.read_dataframe(url, layer="boundaries")
    assert sorted(regions["name"]) == sorted(dataset.admin[1]["name"])
    courts = pyogrio.read_dataframe(url, layer="courts")
    assert len(courts) == len(dataset.courts)
    assert sorted(courts["name"]) == sorted(dataset.courts["name"])
    assert np.allclose(courts.sort_values("name").geometry.x, dataset.courts.sort_values("name").geometry.x)
    assert sorted(courts["status"]) == sorted(dataset.courts["status"])
    prisons = pyogrio.read_dataframe(url, layer="prisons")
    assert prisons["detainees"].fillna(0).sum() == dataset.prisons["detainees"].fillna(0).sum()
    incidents = pyogrio.read_dataframe(url, layer="incidents")
    assert len(incidents) == len(dataset.incidents)  # synthetic rows may be served raw
