"""CQL2 filters on items (OGC API - Features Part 3) and queryables, each checked against the raw layer files read
with pandas and shapely directly, and through OWSLib and GDAL against a live server."""
from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from owslib.ogcapi.features import Features

from api.app import create_app

from .conftest import ROOT, TOKEN
from .test_api import acled_client  # noqa: F401  (the toy dataset of ACLED rows)

POLYGON = [(-5, 14), (-1, 14), (-1, 17), (-5, 17), (-5, 14)]
WKT = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in POLYGON) + "))"


@pytest.fixture(scope="module")
def client(dataset, tmp_path_factory):
    return TestClient(create_app(dataset.root, tokens=[TOKEN], store=tmp_path_factory.mktemp("store") / "store.sqlite"))


@pytest.fixture(scope="module")
def courts_csv() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "courts.csv")


@pytest.fixture(scope="module")
def incidents_csv() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "incidents_synthetic.csv", parse_dates=["event_date"])


def ids(client, collection: str, text: str, lang: str = "cql2-text", **params) -> list[str]:
    answer = client.get(f"/collections/{collection}/items", params={"filter": text, "filter-lang": lang, "limit": 10000, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["numberMatched"] == len(body["features"])
    return sorted(f["id"] for f in body["features"])


def problem(client, collection: str, **params) -> str:
    answer = client.get(f"/collections/{collection}/items", params=params)
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/problem+json", answer.text
    return answer.json()["detail"]


def test_courts_of_appeal(client, courts_csv):
    expected = sorted(courts_csv.loc[courts_csv["tier"] == "appeal", "id"])
    assert len(expected) == 3
    assert ids(client, "courts", "tier = 'appeal'") == expected
    assert ids(client, "courts", json.dumps({"op": "=", "args": [{"property": "tier"}, "appeal"]}), "cql2-json") == expected


def test_deadly_incidents_inside_a_polygon_in_2022(client, incidents_csv):
    raw = incidents_csv
    inside = shapely.contains_xy(shapely.Polygon(POLYGON), raw["longitude"], raw["latitude"])
    expected = sorted(raw.loc[(raw["fatalities"] > 5) & inside & (raw["event_date"].dt.year == 2022), "event_id_cnty"])
    assert 10 < len(expected) < 100
    text = f"fatalities > 5 AND S_INTERSECTS(geometry, {WKT}) AND T_INTERSECTS(date, INTERVAL('2022-01-01', '2022-12-31'))"
    assert ids(client, "incidents", text) == expected
    assert ids(client, "incidents", f"fatalities > 5 AND S_WITHIN(geometry, {WKT})", datetime="2022-01-01/2022-12-31") == expected
    as_json = {"op": "and", "args": [
        {"op": ">", "args": [{"property": "fatalities"}, 5]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [POLYGON]}]},
        {"op": "t_intersects", "args": [{"property": "date"}, {"interval": ["2022-01-01", "2022-12-31"]}]}]}
    assert ids(client, "incidents", json.dumps(as_json), "cql2-json") == expected


def test_after_a_date_and_open_intervals(client, incidents_csv):
    raw = incidents_csv
    expected = sorted(raw.loc[raw["event_date"] > "2023-12-01", "event_id_cnty"])
    assert ids(client, "incidents", "T_AFTER(date, DATE('2023-12-01'))") == expected
    assert ids(client, "incidents", "T_INTERSECTS(date, INTERVAL('2023-12-02', '..'))") == expected
    assert ids(client, "incidents", "date > TIMESTAMP('2023-12-01T18:00:00Z')") == expected  # the day of a timestamp
    before = sorted(raw.loc[raw["event_date"] < "2012-02-01", "event_id_cnty"])
    assert ids(client, "incidents", "T_BEFORE(date, DATE('2012-02-01'))") == before
    during = sorted(raw.loc[(raw["event_date"] > "2023-01-01") & (raw["event_date"] < "2023-03-31"), "event_id_cnty"])
    assert ids(client, "incidents", "T_DURING(date, INTERVAL('2023-01-01', '2023-03-31'))") == during
    assert ids(client, "incidents", "T_EQUALS(date, DATE('2023-12-31'))") == sorted(
        raw.loc[raw["event_date"] == "2023-12-31", "event_id_cnty"])


def test_in_like_between_and_case(client, courts_csv, incidents_csv):
    c = courts_csv
    expected = sorted(c.loc[c["tier"].isin(["tgi", "ti"]) & c["name"].str.startswith("Tribunal de grande"), "id"])
    assert expected and ids(client, "courts", "tier IN ('tgi', 'ti') AND name LIKE 'Tribunal de grande%'") == expected
    assert ids(client, "courts", "name LIKE 'Cour d_appel de %'") == sorted(c.loc[c["name"].str.startswith("Cour d'appel de "), "id"])
    segou = sorted(c.loc[c["region"] == "Ségou", "id"])
    assert segou and ids(client, "courts", "ACCENTI(CASEI(region)) = ACCENTI(CASEI('SEGOU'))") == segou
    assert ids(client, "courts", "region = 'segou'") == []  # CQL2 compares strings as they are
    i = incidents_csv
    expected = sorted(i.loc[i["fatalities"].between(2, 4) & i["event_type"].isin(["Battles", "Riots"]), "event_id_cnty"])
    assert expected and ids(client, "incidents", "fatalities BETWEEN 2 AND 4 AND event_type IN ('Battles', 'Riots')") == expected
    assert ids(client, "incidents", "fatalities > geo_precision * 3") == sorted(
        i.loc[i["fatalities"] > i["geo_precision"] * 3, "event_id_cnty"])
    assert ids(client, "incidents", "NOT (fatalities BETWEEN 2 AND 4) AND event_type NOT IN ('Battles', 'Riots', 'Protests', "
                                    "'Strategic developments', 'Explosions/Remote violence')") == sorted(
        i.loc[~i["fatalities"].between(2, 4) & (i["event_type"] == "Violence against civilians"), "event_id_cnty"])


def test_facilities_status_on_a_date_and_inside_a_polygon(client, dataset, courts_csv):
    c = courts_csv
    inside = shapely.within(shapely.points(c["lon"], c["lat"]), shapely.Polygon(POLYGON))
    assert ids(client, "courts", f"S_WITHIN(geometry, {WKT})") == sorted(c.loc[inside, "id"])
    history = pd.read_csv(ROOT / "data" / "status_history.csv", parse_dates=["as_of"])
    latest = history[history["as_of"] <= "2015-06-30"].sort_values("as_of").groupby("facility_id").last()
    closed = sorted(set(latest.index[latest["status"] == "closed"]) & set(c["id"]))
    assert closed and ids(client, "courts", "status = 'closed'", datetime="2015-06-30") == closed


def test_errors_name_the_property_or_the_position(client):
    detail = problem(client, "courts", filter="tiers = 'appeal'")
    assert "'tiers'" in detail and "tier" in detail.split("queryables")[1] and "status" in detail
    assert "character 17" in problem(client, "courts", filter="tier = 'appeal' AND")
    assert "character 12" in problem(client, "courts", **{"filter": '{"op": "=",,}', "filter-lang": "cql2-json"})
    assert "holds numbers" in problem(client, "incidents", filter="fatalities > 'many'")
    assert "do not compare" in problem(client, "incidents", filter="date = event_type")
    assert "Relate is not supported" in problem(client, "courts", filter="RELATE(geometry, POINT(1 2), 'T********')")
    assert "ArrayContains is not supported" in problem(client, "courts", **{
        "filter": '{"op": "a_contains", "args": [{"property": "tier"}, ["ti"]]}', "filter-lang": "cql2-json"})
    assert "filter-lang" in problem(client, "courts", **{"filter": "tier = 'ti'", "filter-lang": "cql2-xml"})
    assert "filter-crs" in problem(client, "courts", **{"filter": "tier = 'ti'", "filter-crs": "EPSG:3857"})


def test_queryables_and_conformance(client, dataset, courts_csv, incidents_csv):
    answer = client.get("/collections/courts/queryables")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/schema+json"
    courts = answer.json()["properties"]
    manifest = json.loads((ROOT / "data" / "dataset.json").read_text())
    assert courts["tier"]["enum"] == list(manifest["tiers"])
    assert courts["region"]["enum"] == sorted(set(courts_csv["region"]))
    assert courts["status_as_of"] == {"type": "string", "format": "date"} and courts["geometry"]["format"] == "geometry-point"
    incidents = client.get("/collections/incidents/queryables").json()["properties"]
    assert incidents["fatalities"]["type"] == "integer" and incidents["event_type"]["enum"] == sorted(set(incidents_csv["event_type"]))
    links = client.get("/collections/courts").json()["links"]
    assert any(link["href"].endswith("/collections/courts/queryables") for link in links)
    conforms = client.get("/conformance").json()["conformsTo"]
    assert {"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text", "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json"} <= set(conforms)


def test_anonymous_filters_run_on_the_acled_aggregates(acled_client):  # noqa: F811
    public = acled_client.get("/collections/incidents/items?limit=10000").json()["features"]
    deadly = sorted(f["id"] for f in public if f["properties"]["fatalities"] > 3)
    assert deadly
    answer = acled_client.get("/collections/incidents/items", params={"filter": "fatalities > 3", "limit": 10000})
    assert "Group" not in answer.text
    assert sorted(f["id"] for f in answer.json()["features"]) == deadly
    assert {f["properties"]["kind"] for f in answer.json()["features"]} <= {"aggregate"}
    total = sum(f["properties"]["fatalities"] for f in public)
    assert acled_client.get("/collections/incidents/items", params={"filter": f"fatalities > {total}"}).json()["numberMatched"] == 0
    assert acled_client.get("/collections/incidents/items", params={"filter": "actor1 = 'Group 3'"}).json()["numberMatched"] == 0
    raw = acled_client.get("/collections/incidents/items", params={"filter": "actor1 = 'Group 3'"},
                           headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [f["id"] for f in raw["features"]] == ["MLI3"]
    assert "incidents" in acled_client.get("/collections/incidents/queryables").json()["properties"]


def test_owslib_and_gdal_read_every_collection_and_filter(dataset, live_server, courts_csv, incidents_csv):
    api = Features(live_server)
    names = {"courts": len(dataset.courts), "prisons": len(dataset.prisons), "incidents": len(dataset.incidents),
             "boundaries": len(dataset.boundaries)}
    assert set(api.feature_collections()) == set(names)
    for name, count in names.items():
        assert api.collection_items(name, limit=10000)["numberMatched"] == count
    appeal = api.collection_items("courts", filter="tier = 'appeal'", limit=100)
    assert sorted(f["id"] for f in appeal["features"]) == sorted(courts_csv.loc[courts_csv["tier"] == "appeal", "id"])
    deadly = api.collection_items("incidents", limit=10000, filter=json.dumps({"op": ">", "args": [{"property": "fatalities"}, 20]}),
                                  **{"filter-lang": "cql2-json"})
    assert sorted(f["id"] for f in deadly["features"]) == sorted(incidents_csv.loc[incidents_csv["fatalities"] > 20, "event_id_cnty"])
    assert api.collection_queryables("courts")["properties"]["tier"]["type"] == "string"
    courts = pyogrio.read_dataframe(f"OAPIF:{live_server}", layer="courts", where="tier = 'appeal'")
    assert sorted(courts["name"]) == sorted(courts_csv.loc[courts_csv["tier"] == "appeal", "name"])
