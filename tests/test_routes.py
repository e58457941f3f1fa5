"""The mobile-court route planner: optimality on brute-forceable instances, the day model, risk, names, files, CLI, API."""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from geo_justice.access import Engine
from geo_justice.cli import main
from geo_justice.route_files import GPX_NS, plan_csv, plan_geojson, plan_gpx
from geo_justice.route_solver import UNREACHABLE, Circuits, drive_days, route_days, route_minutes, schedule, solve
from geo_justice.places import find_place
from geo_justice.routes import RoutePlan, parse_stops, plan_routes, route_request
from layers import load_dataset

from .toy import km_between, make_dataset
from .test_engine import incidents_near

START = dt.date(2024, 1, 8)
OFFROAD_MIN_PER_KM = 12.0


def circuits(minutes, *, depots=1, teams=1, max_days=30, hours=8, hearing=None, priority=None, excluded=None) -> Circuits:
    minutes = np.asarray(minutes, dtype=np.int64)
    stops = len(minutes) - depots
    return Circuits(tuple(f"p{i}" for i in range(len(minutes))), minutes, depots, tuple(hearing or [1] * stops),
                    tuple(priority or [1] * stops), teams, max_days, hours * 60, excluded or {})


def check_schedule(problem: Circuits, depot: int, stops: list[int]) -> None:
    """The schedule agrees with the day model: driving limit, consecutive dates, legs and hearings add up."""
    days = schedule(problem, depot, stops, START)
    assert all(0 < d.drive_minutes <= problem.max_drive_minutes for d in days if d.activity == "drive")
    assert [d.date for d in days] == [(START + dt.timedelta(days=k)).isoformat() for k in range(len(days))]
    assert len(days) == route_days(problem, depot, stops) <= problem.max_days
    points = [depot, *stops, depot]
    for a, b in zip(points, points[1:]):
        driven = [d.drive_minutes for d in days if d.activity == "drive" and (d.origin, d.destination) == (problem.names[a], problem.names[b])]
        assert sum(driven) == problem.minutes[a, b]
    for s in stops:
        hearings = [d.day for d in days if d.activity == "hearing" and d.destination == problem.names[s]]
        assert len(hearings) == problem.hearing_days[s - problem.depots]
        assert hearings == list(range(hearings[0], hearings[0] + len(hearings)))  # consecutive


def random_minutes(n: int, seed: int) -> np.ndarray:
    """Symmetric whole minutes between random points of a 600 km square at 1 min/km (1.3 x straight line)."""
    xy = np.random.default_rng(seed).uniform(0, 600, (n, 2))
    return np.ceil(1.3 * np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))).astype(np.int64)


def best_tour(problem: Circuits, stops: tuple[int, ...]) -> float:
    """Brute force: the least driving over every order of `stops` from depot 0 that fits the days (inf if none)."""
    tours = [route_minutes(problem, 0, list(p)) for p in itertools.permutations(stops)
             if route_days(problem, 0, list(p)) <= problem.max_days]
    return min(tours, default=np.inf)


# --- the solver --------------------------------------------------------------------------------------

#: Solver seconds for instances of 2 to 4 points, where the optimum is known by hand (the search stops at its limit).
TINY = 0.2

def test_drive_days_and_schedule_by_hand():
    assert [drive_days(m, 480) for m in (0, 1, 480, 481, 1000)] == [0, 1, 1, 2, 3]
    problem = circuits([[0, 1000], [1000, 0]], hearing=[2])
    days = schedule(problem, 0, [1], START)
    assert [(d.activity, d.drive_minutes) for d in days] == [
        ("drive", 480), ("drive", 480), ("drive", 40), ("hearing", 0), ("hearing", 0),
        ("drive", 480), ("drive", 480), ("drive", 40)]
    assert days[0].note == "overnight en route to p1" and days[2].note == "arrive p1"
    assert days[-1].date == "2024-01-15"  # 8 days from Monday 8 January
    check_schedule(problem, 0, [1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_team_within_1_percent_of_brute_force(seed):
    problem = circuits(random_minutes(9, seed), max_days=60)  # 8 stops, all fit
    solution = solve(problem, seconds=1)
    (depot, stops), = solution.routes
    assert sorted(stops) == list(range(1, 9)) and solution.dropped == {}
    assert route_minutes(problem, depot, stops) <= 1.01 * best_tour(problem, tuple(range(1, 9)))
    check_schedule(problem, depot, stops)


def test_two_teams_with_a_day_limit_within_1_percent_of_brute_force():
    problem = circuits(random_minutes(7, 4), teams=2, max_days=9, hours=4)  # one team cannot do all 6 stops
    stops = tuple(range(1, 7))
    assert best_tour(problem, stops) == np.inf
    best = min(best_tour(problem, a) + best_tour(problem, tuple(s for s in stops if s not in a))
               for k in range(len(stops) + 1) for a in itertools.combinations(stops, k))
    solution = solve(problem, seconds=2)
    assert solution.dropped == {} and sorted(s for _, r in solution.routes for s in r) == list(stops)
    assert sum(route_minutes(problem, d, r) for d, r in solution.routes) <= 1.01 * best
    for depot, route in solution.routes:
        check_schedule(problem, depot, route)


def test_lower_priority_is_dropped_with_the_reason():
    # depot between A and B: 300 minutes to each, 600 between them; 1 day per leg, 1 hearing day each
    minutes = [[0, 300, 300], [300, 0, 600], [300, 600, 0]]
    both = solve(circuits(minutes, max_days=6), seconds=TINY)  # 1+1 + 2+1 + 1 = 6 days
    assert both.dropped == {} and route_days(circuits(minutes), *both.routes[0]) == 6
    problem = circuits(minutes, max_days=4, priority=[1, 5])
    solution = solve(problem, seconds=TINY)
    assert solution.routes == [(0, [2])]
    assert solution.dropped[1].startswith("not enough team-days")


def test_stops_that_cannot_fit_are_dropped_with_the_reason():
    minutes = [[0, 1000, 100, 50], [1000, 0, 1100, 1000], [100, 1100, 0, UNREACHABLE], [50, 1000, UNREACHABLE, 0]]
    minutes[0][3] = minutes[3][0] = UNREACHABLE
    problem = circuits(minutes, max_days=6, excluded={2: "inside an avoided area"})
    solution = solve(problem, seconds=TINY)
    assert solution.routes == [(0, [])]
    assert solution.dropped[1] == ("beyond the days available: the round trip from p0 with its 1 hearing day(s) "
                                   "needs 7 days, 6 available")  # 3 days each way + 1 hearing day
    assert solution.dropped[2] == "inside an avoided area"
    assert solution.dropped[3].startswith("unreachable: no passable path from p0")


def test_each_depot_serves_its_own_side():
    # depots p0 and p1 are 1000 minutes apart; p2 is 10 minutes from p0, p3 10 minutes from p1
    minutes = [[0, 1000, 10, 1000], [1000, 0, 1000, 10], [10, 1000, 0, 1000], [1000, 10, 1000, 0]]
    problem = circuits(minutes, depots=2)
    solution = solve(problem, seconds=TINY)
    assert solution.routes == [(0, [2]), (1, [3])]
    assert sum(route_minutes(problem, d, r) for d, r in solution.routes) == 40


def test_no_usable_depot_explains_every_stop():
    problem = circuits([[0, 60], [60, 0]], excluded={0: "inside an avoided area: risk 31.0"})
    solution = solve(problem, seconds=TINY)
    assert solution.routes == [] and solution.dropped[1] == "no usable depot: inside an avoided area: risk 31.0"
    assert solution.notes == ["depot p0 not used: inside an avoided area: risk 31.0"]


# --- on a toy map: travel times from the friction surface, risk avoided ------------------------------

@pytest.fixture(scope="module")
def toy_engine(tmp_path_factory):
    folder = make_dataset(tmp_path_factory.mktemp("routes") / "toy", incidents=incidents_near(1.0, 11.0, 200))
    return Engine(load_dataset(folder))


def toy_plan(engine: Engine, risk: str, **options) -> RoutePlan:
    stops = [{"name": "Middle", "lon": 1.0, "lat": 11.0}, {"name": "Far east", "lon": 1.8, "lat": 11.0}]
    request = route_request(engine.dataset, ["West TGI"], stops, risk=risk, start="2024-01-08", max_days=20, **options)
    return plan_routes(engine, request)


def test_travel_times_follow_the_friction_surface(toy_engine):
    plan = toy_plan(toy_engine, "ignore")
    (team,) = plan.teams
    first = team.legs[0]
    km = km_between(toy_engine.grid(), (0.5, 11.0), (first.geometry.coords[-1]))
    assert first.origin == "West TGI" and first.destination == team.stops[0].place.name
    assert first.minutes == pytest.approx(km * OFFROAD_MIN_PER_KM, rel=0.03)  # off-road 5 km/h, no risk
    assert first.metres / 1000 == pytest.approx(km, rel=0.03)


def test_stop_in_an_avoided_area_is_dropped_and_the_path_goes_around(toy_engine):
    ignored, avoided = toy_plan(toy_engine, "ignore"), toy_plan(toy_engine, "avoid")
    assert [s.place.name for s in ignored.teams[0].stops] == ["Middle", "Far east"]
    (stop, reason), = avoided.dropped
    assert stop.place.name == "Middle" and reason.startswith("inside an avoided area: risk")
    assert [s.place.name for s in avoided.teams[0].stops] == ["Far east"]
    out = avoided.teams[0].legs[0]
    straight = km_between(toy_engine.grid(), (0.5, 11.0), (1.8, 11.0))
    assert out.max_risk <= 20.0 and out.metres / 1000 > 1.05 * straight  # around the cluster, not through it
    assert ignored.teams[0].legs[0].max_risk > 20.0  # the straight way crosses it
    for team in avoided.teams + ignored.teams:
        assert all(d.drive_minutes <= 8 * 60 for d in team.days)


# --- places and requests -----------------------------------------------------------------------------

def test_towns_match_without_accents_and_unknown_towns_name_close_ones(dataset):
    assert find_place(dataset, "dire").name == "Diré"
    assert find_place(dataset, "GOURMA-RHAROUS").name == "Gourma Rharous"
    tombouctou = find_place(dataset, "Tombouctou")  # from the court's name: the settlement is called Timbuktu
    assert (tombouctou.lon, tombouctou.lat) == (-3.00742, 16.77348)
    with pytest.raises(ValueError, match="unknown place 'Goundan'.*close names: Goundam"):
        find_place(dataset, "Goundan")


@pytest.mark.parametrize("options, message", [
    (dict(teams=0), "teams must be a whole number from 1 to 50"),
    (dict(max_days=0), "max_days must be"),
    (dict(max_drive_hours=30), "max_drive_hours"),
    (dict(start="8 janvier"), "start must be a date"),
    (dict(stops=[{"name": "Diré", "hearing_days": 0}]), "stop 'Diré': hearing_days must be a whole number"),
    (dict(stops=["Diré", "dire"]), "Diré listed more than once"),
    (dict(stops=[]), "stops: give at least one stop"),
    (dict(risk="sometimes"), "risk policy must be avoid, penalise or ignore"),
])
def test_ill_formed_requests_name_the_field(dataset, options, message):
    args = dict(depots=["Tombouctou"], stops=["Diré"], start="2024-01-08") | options
    with pytest.raises(ValueError, match=message):
        route_request(dataset, **args)


def test_parse_stops():
    assert parse_stops("Diré, Goundam:2,Niafunké:1:5") == [
        "Diré", {"name": "Goundam", "hearing_days": 2}, {"name": "Niafunké", "hearing_days": 1, "priority": 5}]
    with pytest.raises(ValueError, match="stop 'Diré:x'"):
        parse_stops("Diré:x")


# --- the embedded data: the Tombouctou circuit, its files --------------------------------------------

TOWNS = ["Diré", "Goundam", "Gourma-Rharous", "Niafunké"]


@pytest.fixture(scope="module")
def tombouctou(dataset):
    request = route_request(dataset, ["Tombouctou"], TOWNS, start="2024-01-08", max_days=14)
    return plan_routes(Engine(dataset), request)


def test_tombouctou_circuit(tombouctou):
    (team,) = tombouctou.teams
    assert sorted(s.place.name for s in team.stops) == ["Diré", "Goundam", "Gourma Rharous", "Niafunké"]
    assert tombouctou.dropped == []
    drives = [d for d in team.days if d.activity == "drive"]
    assert all(d.drive_minutes <= 480 for d in drives)
    assert sum(d.drive_minutes for d in drives) == team.drive_minutes == sum(leg.minutes for leg in team.legs)
    assert len(team.days) == len(drives) + 4 <= 14 and team.days[0].date == "2024-01-08"
    assert team.metres > 300_000  # about 600 km of roads and tracks, not the 250 km of straight lines


def test_nine_days_are_not_enough_for_all_four(dataset):
    # five legs of at least one day each plus four hearing days make at least 9 days, and Gourma Rharous is
    # more than a day's drive (8 h) from every other stop, so it adds a day: all four need 10 days
    plan = plan_routes(Engine(dataset), route_request(dataset, ["Tombouctou"], TOWNS, start="2024-01-08", max_days=9))
    assert len(plan.teams[0].stops) == 3 and len(plan.teams[0].days) <= 9
    (stop, reason), = plan.dropped
    assert reason.startswith("not enough team-days")


def test_geojson_gpx_and_csv_parse_back_with_the_same_stops(tombouctou):
    (team,) = tombouctou.teams
    names = [s.place.name for s in team.stops]
    collection = json.loads(json.dumps(plan_geojson(tombouctou), ensure_ascii=False))
    stops = sorted((f for f in collection["features"] if f["properties"]["kind"] == "stop"), key=lambda f: f["properties"]["order"])
    assert [f["properties"]["name"] for f in stops] == names
    assert [len(f["properties"]["hearing_dates"]) for f in stops] == [1, 1, 1, 1]
    legs = [f for f in collection["features"] if f["properties"]["kind"] == "leg"]
    assert len(legs) == 5 and all(f["geometry"]["type"] == "LineString" for f in legs)
    gpx = ET.fromstring(plan_gpx(tombouctou).encode())
    ns = {"g": GPX_NS}
    assert [e.text for e in gpx.findall("g:rte/g:rtept/g:name", ns)] == ["Tombouctou", *names, "Tombouctou"]
    assert [e.text for e in gpx.findall("g:wpt/g:name", ns)] == names
    assert len(gpx.findall("g:trk/g:trkseg", ns)) == 5
    rows = list(csv.DictReader(io.StringIO(plan_csv(tombouctou))))
    assert [r["destination"] for r in rows if r["activity"] == "hearing"] == names
    assert len(rows) == len(team.days)


# --- CLI and API -------------------------------------------------------------------------------------

def test_cli_route_writes_every_file(tmp_path):
    out = tmp_path / "circuit.geojson"
    result = CliRunner().invoke(main, ["route", "--depot", "Tombouctou", "--stops", "Diré,Goundam", "--teams", "1",
                                       "--days", "10", "--start", "2024-01-08", "-o", str(out), "--gpx", str(tmp_path / "c.gpx"),
                                       "--csv", str(tmp_path / "c.csv"), "--map", str(tmp_path / "c.html")])
    assert result.exit_code == 0, result.output
    assert "Team 1: Tombouctou -> " in result.output
    assert {f["properties"]["name"] for f in json.loads(out.read_text())["features"] if f["properties"]["kind"] == "stop"} == {"Diré", "Goundam"}
    assert "leaflet" in (tmp_path / "c.html").read_text().lower()
    bad = CliRunner().invoke(main, ["route", "--depot", "Tombouctou", "--stops", "Goundan", "--start", "2024-01-08"])
    assert bad.exit_code == 1 and "unknown place 'Goundan'" in bad.output


def test_api_plans_and_serves_the_route(client, dataset):
    body = {"depots": ["Tombouctou"], "stops": ["Diré", {"name": "Goundam", "hearing_days": 2}], "start": "2024-01-08"}
    posted = client.post("/routes", json=body)
    assert posted.status_code == 201, posted.text
    plan_id = posted.json()["id"]
    assert posted.headers["location"] == f"/routes/{plan_id}"
    assert client.post("/routes", json=body).json()["id"] == plan_id  # same question, same plan
    (team,) = posted.json()["plan"]["teams"]
    assert sorted(team["stops"]) == ["Diré", "Goundam"]
    geojson = client.get(f"/routes/{plan_id}")
    assert geojson.headers["content-type"].startswith("application/geo+json")
    assert {f["properties"]["name"] for f in geojson.json()["features"] if f["properties"]["kind"] == "stop"} == {"Diré", "Goundam"}
    assert "leaflet" in client.get(f"/maps/route/{plan_id}").text.lower()
    assert client.get("/routes/0000").status_code == 404
    restarted = TestClient(create_app(dataset.root, store=client.app.state.store.path))  # plans are kept in the store
    assert restarted.get(f"/routes/{plan_id}").json() == geojson.json()
    assert restarted.get(f"/maps/route/{plan_id}").text == client.get(f"/maps/route/{plan_id}").text


def test_api_bad_request_names_the_problem(client):
    response = client.post("/routes", json={"depots": ["Tombouctou"], "stops": ["Goundan"], "start": "2024-01-08"})
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/problem+json")
    assert "Goundan" in response.json()["detail"]
    response = client.post("/routes", json={"depots": ["Tombouctou"], "stops": ["Diré"], "start": "2024-01-08", "teams": 0})
    assert response.status_code == 400 and "teams" in response.json()["detail"]
    response = client.post("/routes", json={"depots": ["Tombouctou"], "stops": ["Diré"]})
    assert response.status_code == 400 and "'start'" in response.json()["detail"]
    response = client.post("/routes", json={"depots": ["Tombouctou"], "stops": [{"name": "Paris", "lon": 2.35, "lat": 48.85}],
                                            "start": "2024-01-08"})
    assert response.status_code == 400 and "Paris (2.3500, 48.8500) is outside the study area" in response.json()["detail"]
