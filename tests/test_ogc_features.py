"""OGC API - Features as clients use it: HTML pages, HEAD, bbox of six numbers, clamped limit, CRS (Part 2),
sortby and properties, a write seen at once; and the `ogctests` conformance suite against a live server."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from api.app import create_app

from .conftest import TOKEN

EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(dataset, tmp_path_factory):
    return TestClient(create_app(dataset.root, tokens=[TOKEN], store=tmp_path_factory.mktemp("store") / "store.sqlite"))


def all_courts(client, query: str = "") -> list[dict]:
    return client.get(f"/collections/courts/items?limit=1000{query}").json()["features"]


def test_html_pages_for_planners_and_json_for_gis_clients(client, dataset):
    for path in ("/", "/conformance", "/collections", "/collections/courts"):
        page = client.get(path, headers={"Accept": BROWSER})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
        assert page.text.startswith("<!DOCTYPE html>") and "Accept" in page.headers["vary"]
        assert client.get(path, headers={"Accept": "application/json"}).headers["content-type"] == "application/json"
    listing = client.get("/collections/courts/items?limit=10&f=html")
    assert listing.headers["content-type"].startswith("text/html")
    ids = dataset.courts["id"].tolist()[:10]
    assert all(f"<td>{fid}</td>" in listing.text for fid in ids)  # one table row per feature of the page
    assert listing.text.count("<tr>") == 11  # the header and ten features
    assert '/static/leaflet/leaflet.js' in listing.text and "L.geoJSON" in listing.text
    assert client.get("/static/leaflet/leaflet.js").status_code == 200  # the map needs no network
    one = client.get(f"/collections/courts/items/{ids[0]}", headers={"Accept": BROWSER})
    assert one.headers["content-type"].startswith("text/html") and dataset.courts["name"].iloc[0].replace("'", "&#x27;") in one.text
    # QGIS and GDAL ask for GeoJSON or JSON; a client without Accept gets GeoJSON too
    for accept in ("application/geo+json, application/json", "application/json", "*/*"):
        answer = client.get("/collections/courts/items", headers={"Accept": accept})
        assert answer.headers["content-type"] == "application/geo+json" and answer.json()["type"] == "FeatureCollection"
    as_json = client.get("/collections/courts/items?f=json", headers={"Accept": BROWSER})
    assert as_json.headers["content-type"] == "application/geo+json"
    header = client.get("/collections/courts/items?limit=5").headers["link"]
    assert 'rel="self"; type="application/geo+json"' in header and 'rel="alternate"; type="text/html"' in header


@pytest.mark.parametrize("path", ["/", "/collections", "/collections/incidents/items?limit=500", "/collections/courts/items/ml-tgi-gao",
                                  "/collections/courts/items?f=html", "/tiles/courts/tilejson.json", "/docs", "/api"])
def test_head_answers_like_get_without_a_body(client, path):
    for encoding in ("identity", "gzip"):
        got, head = (client.request(method, path, headers={"Accept-Encoding": encoding}) for method in ("GET", "HEAD"))
        assert head.status_code == got.status_code == 200
        assert head.content == b""
        for name in ("content-type", "content-encoding", "etag", "content-length"):
            assert head.headers.get(name) == got.headers.get(name), name
        assert encoding == "gzip" or int(head.headers["content-length"]) == len(got.content)


def test_a_six_number_bbox_selects_as_its_four_number_box(client, dataset):
    west, south, east, north = -5.0, 13.0, 1.0, 17.5
    expected = set(dataset.courts.loc[dataset.courts.geometry.intersects(shapely.box(west, south, east, north)), "id"])
    four = {f["id"] for f in all_courts(client, f"&bbox={west},{south},{east},{north}")}
    six = {f["id"] for f in all_courts(client, f"&bbox={west},{south},-100,{east},{north},5000")}
    assert four == six == expected and 0 < len(expected) < len(dataset.courts)


def test_a_limit_above_the_maximum_is_reduced_to_it(client, dataset):
    answer = client.get("/collections/incidents/items?limit=50000").json()
    assert answer["numberReturned"] == min(len(dataset.incidents), 10_000) == answer["numberMatched"]
    self_link = next(link["href"] for link in answer["links"] if link["rel"] == "self")
    assert "limit=10000" in self_link
    stamp = datetime.fromisoformat(answer["timeStamp"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - stamp) < timedelta(seconds=5)


def test_web_mercator_output_matches_pyproj(client, dataset):
    answer = client.get(f"/collections/courts/items?limit=1000&crs={EPSG3857}")
    assert answer.status_code == 200 and answer.headers["content-crs"] == f"<{EPSG3857}>"
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    seats = dataset.courts.set_index("id").geometry
    for feature in answer.json()["features"]:
        x, y = to_mercator.transform(seats[feature["id"]].x, seats[feature["id"]].y)
        assert feature["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.01)
    one = client.get(f"/collections/courts/items/ml-tgi-gao?crs={EPSG3857}")
    assert one.headers["content-crs"] == f"<{EPSG3857}>"
    assert one.json()["geometry"]["coordinates"] == pytest.approx(list(to_mercator.transform(seats["ml-tgi-gao"].x, seats["ml-tgi-gao"].y)), abs=0.01)
    assert client.get("/collections/courts/items").headers["content-crs"] == f"<{CRS84}>"
    # a bbox in Web Mercator metres selects what the same box in degrees selects
    west, south = to_mercator.transform(-5.0, 13.0)
    east, north = to_mercator.transform(1.0, 17.5)
    in_metres = {f["id"] for f in all_courts(client, f"&bbox={west},{south},{east},{north}&bbox-crs={EPSG3857}")}
    assert in_metres == {f["id"] for f in all_courts(client, "&bbox=-5,13,1,17.5")}


def test_epsg_4326_is_latitude_first(client, dataset):
    seats = dataset.courts.set_index("id").geometry
    for feature in all_courts(client, f"&crs={EPSG4326}"):
        assert feature["geometry"]["coordinates"] == pytest.approx([seats[feature["id"]].y, seats[feature["id"]].x])
    lat_lon_box = {f["id"] for f in all_courts(client, f"&bbox=13,-5,17.5,1&bbox-crs={EPSG4326}")}
    assert lat_lon_box == {f["id"] for f in all_courts(client, "&bbox=-5,13,1,17.5")}
    collection = client.get("/collections/courts").json()
    assert collection["crs"][0] == CRS84 and {EPSG4326, EPSG3857} <= set(collection["crs"]) and collection["storageCrs"] == CRS84


def test_sortby_orders_as_python_sorts(client, dataset):
    names = [f["properties"]["name"] for f in all_courts(client, "&sortby=-name")]
    assert names == sorted(dataset.courts["name"], reverse=True)
    rows = [(f["properties"]["tier"], f["properties"]["name"]) for f in all_courts(client, "&sortby=%2Btier,name")]
    assert rows == sorted(zip(dataset.courts["tier"], dataset.courts["name"]))
    page = client.get("/collections/courts/items?sortby=name&limit=5&offset=5").json()["features"]
    assert [f["properties"]["name"] for f in page] == sorted(dataset.courts["name"])[5:10]


def test_properties_keeps_only_those_asked_for(client, dataset):
    features = all_courts(client, "&properties=name,status")
    assert len(features) == len(dataset.courts)
    assert all(set(f["properties"]) == {"name", "status"} and f["id"] and f["geometry"] for f in features)
    assert all(set(f["properties"]) == set() for f in all_courts(client, "&properties="))


def test_a_single_feature_links_to_itself_and_its_collection(client):
    links = {(link["rel"], link["type"]): link["href"] for link in client.get("/collections/courts/items/ml-tgi-gao").json()["links"]}
    assert links[("self", "application/geo+json")].startswith("http://testserver/collections/courts/items/ml-tgi-gao")
    assert links[("alternate", "text/html")].endswith("f=html")
    assert links[("collection", "application/json")] == "http://testserver/collections/courts"


def test_gzip_answers_decode_to_the_same_collection(client):
    plain = client.get("/collections/incidents/items?limit=300", headers={"Accept-Encoding": "identity"})
    packed = client.get("/collections/incidents/items?limit=300", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and plain.headers.get("content-encoding") is None
    assert packed.json()["features"] == plain.json()["features"] and packed.json()["numberReturned"] == 300


def test_a_write_is_seen_at_once_by_lists_and_items(client):
    before = client.get("/collections/courts/items?status=closed&limit=1000")
    item = client.get("/collections/courts/items/ml-tgi-gao")
    assert item.json()["properties"]["status"] != "closed"
    patch = client.patch("/collections/courts/items/ml-tgi-gao", json={"status": "closed", "source": "test"},
                         headers={"Authorization": f"Bearer {TOKEN}", "If-Match": item.headers["etag"]})
    assert patch.status_code == 200
    after = client.get("/collections/courts/items?status=closed&limit=1000")
    assert after.headers["etag"] != before.headers["etag"]
    assert {f["id"] for f in after.json()["features"]} == {f["id"] for f in before.json()["features"]} | {"ml-tgi-gao"}
    again = client.get("/collections/courts/items/ml-tgi-gao", headers={"If-None-Match": item.headers["etag"]})
    assert again.status_code == 200 and again.json()["properties"]["status"] == "closed"


def test_ogctests_features_core_suite_passes(live_server, tmp_path):
    """The `ogctests` package (OGC API - Features Part 1 Core abstract tests) against a live server: all pass."""
    import ogctests

    suite = Path(ogctests.__file__).parent / "features" / "core"
    report, ini = tmp_path / "ogctests.xml", tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")  # not this project's settings (its xdist workers, its plugins): ogctests' own
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-c", str(ini), "--disable-plugin-autoload",
                          "-p", "no:cacheprovider", f"--junit-xml={report}", "--rootdir", str(suite), str(suite)],
                         capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "INSTANCE_URL": live_server}, timeout=600)
    suites = ET.parse(report).getroot()
    counts = {key: sum(int(s.get(key)) for s in suites.iter("testsuite")) for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": 29, "failures": 0, "errors": 0, "skipped": 0}, run.stdout[-3000:]


def test_items_parameters_are_defined_as_part_1_asks(client):
    """ogctests looks `bbox`, `limit` and `datetime` up under each collection's literal path, finds the templated
    `/collections/{collection_id}/items` instead and skips those checks with a warning: the same checks (Part 1's
    abstract tests 14, 16 and 18, as ogctests words them) on the templated path."""
    operation = client.get("/api").json()["paths"]["/collections/{collection_id}/items"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    asked = {"bbox": {"type": "array", "minItems": 4, "maxItems": 6}, "limit": {"type": "integer"}, "datetime": {"type": "string"}}
    for name, schema in asked.items():
        parameter = parameters[name]
        assert parameter["in"] == "query" and not parameter.get("required"), name
        assert parameter["style"] == "form" and not parameter.get("explode"), name
        assert schema.items() <= parameter["schema"].items(), name
    assert parameters["bbox"]["schema"]["items"]["type"] == "number"


def test_each_encoding_has_its_etag_and_if_match_takes_any_of_them(client, dataset):
    court = dataset.courts["id"].iloc[1]
    etags = {client.get(f"/collections/courts/items/{court}{query}").headers["etag"]
             for query in ("", f"?crs={EPSG3857}", "?f=html")}
    assert len(etags) == 3
    mercator = client.get(f"/collections/courts/items/{court}?crs={EPSG3857}").headers["etag"]
    patch = client.patch(f"/collections/courts/items/{court}", json={"status": "partial", "source": "test"},
                         headers={"Authorization": f"Bearer {TOKEN}", "If-Match": mercator})
    assert patch.status_code == 200
    stale = client.patch(f"/collections/courts/items/{court}", json={"status": "closed", "source": "test"},
                         headers={"Authorization": f"Bearer {TOKEN}", "If-Match": mercator})
    assert stale.status_code == 412
    assert client.get(f"/collections/courts/items/{court}").json()["properties"]["status"] == "partial"
