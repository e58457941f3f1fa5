"""Scenarios and siting on the embedded data (5 km cells), checked against independent computations."""
from __future__ import annotations

import itertools
import os
import time

import numpy as np
import pytest
from click.testing import CliRunner

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine
from geo_justice.cli import main
from geo_justice.places import Place
from geo_justice.scenarios import read_scenario, scenario_facilities, updated_access
from geo_justice.siting import Coverage, build_coverage, exact, greedy
from geo_justice.traveltime import travel_time
from layers.errors import LayerError

PARAMS = AccessParams(resolution_m=5000)
T = (60.0, 120.0, 240.0)


@pytest.fixture(scope="module")
def engine(dataset):
    return Engine(dataset)


def alone(engine: Engine, lon: float, lat: float) -> np.ndarray:
    """Minutes from one point only, computed from scratch."""
    grid = engine.grid(PARAMS.resolution_m)
    rows, cols, _ = grid.cells(__import__("geopandas").GeoSeries.from_xy([lon], [lat], crs="EPSG:4326"))
    result = travel_time(engine.surface(grid, PARAMS), grid.cell_size, np.column_stack([rows, cols]))
    return engine.onto_banks(grid, PARAMS, result.minutes, result.label)[0]  # river cells: their quicker bank


def test_reopening_a_court_adds_exactly_the_people_it_brings_within_reach(engine):
    kidal = engine.dataset.courts.set_index("id").loc["ml-tgi-kidal"]
    result = analysis.scenario(engine, read_scenario({"name": "Kidal reopens", "changes": [
        {"facility": "ml-tgi-kidal", "status": "operational"}]}, engine.dataset), PARAMS, T)
    baseline = engine.access(PARAMS)
    near = alone(engine, kidal.geometry.x, kidal.geometry.y)
    total = result.summary.set_index("region").loc["All"]
    for t in T:
        newly = (near <= t) & (baseline.minutes > t)
        assert total[f"gained_{t:g}"] == pytest.approx(baseline.population[newly].sum(), rel=1e-9)
        assert total[f"lost_{t:g}"] == 0
    assert total["gained_240"] > 0
    assert result.layers["facilities"].set_index("id").loc["ml-tgi-kidal", "scenario_at"] == "seat"
    assert set(result.layers["changes"]["change"]) == {"gained"}


def test_moving_a_court_back_to_its_seat_changes_its_catchment_where_it_must(engine):
    change = read_scenario({"name": "Goundam at home", "changes": [{"facility": "ml-ti-goundam", "sitting": "seat"}]},
                           engine.dataset)
    baseline = engine.access(PARAMS)
    after = updated_access(engine, baseline, scenario_facilities(engine.dataset, change, PARAMS))
    seat = engine.dataset.courts.set_index("id").loc["ml-ti-goundam"].geometry
    near = alone(engine, seat.x, seat.y)
    np.testing.assert_array_equal(after.minutes, np.minimum(baseline.minutes, near))
    goundam = after.facilities.set_index("id").loc["ml-ti-goundam", "site"]
    rows, cols, _ = after.grid.cells(__import__("geopandas").GeoSeries([seat], crs="EPSG:4326"))
    assert after.label[rows[0], cols[0]] == goundam  # its seat's people now go to it
    assert (after.label == goundam).sum() < (baseline.label == baseline.facilities.set_index("id").loc["ml-ti-goundam", "site"]).sum()
    # Tombouctou keeps its own courts, so nobody loses access
    assert (after.minutes <= baseline.minutes).all()


def test_incremental_equals_full_recomputation_on_random_scenarios(engine):
    rng = np.random.default_rng(7)
    courts = engine.dataset.courts["id"].tolist()
    towns = engine.dataset.settlements["name"].tolist()
    baseline = engine.access(PARAMS)
    for _ in range(6):
        changes = []
        for facility in rng.choice(courts, size=3, replace=False):
            pick = rng.integers(3)
            changes.append({"facility": facility, "status": ["closed", "operational", "partial"][pick]} if pick < 2 else
                           {"facility": facility, "sitting": str(rng.choice(towns))})
        changes.append({"add": "court", "at": str(rng.choice(towns))})
        change = read_scenario({"name": "random", "changes": changes}, engine.dataset)
        facilities = scenario_facilities(engine.dataset, change, PARAMS)
        quick = updated_access(engine, baseline, facilities)
        full = updated_access(engine, baseline, facilities, incremental=False)
        np.testing.assert_array_equal(quick.minutes, full.minutes)
        ties = quick.label != full.label
        assert ties.mean() < 0.001  # labels differ only where two sites are exactly as near


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_an_update_in_a_forked_child_does_not_wait_for_the_parents_threads(engine, monkeypatch):
    """An update copies the previous answer on two threads and builds the facilities' table on a third; a process
    forked after they started has none of them, so it must start its own (else it waits forever)."""
    import geo_justice.traveltime as kernel
    monkeypatch.setattr(kernel, "SPLIT_CELLS", 0)  # the two-thread copy at 5 km too
    baseline = engine.access(PARAMS)
    change = read_scenario({"name": "Koutiala closes", "changes": [{"facility": "ml-tgi-koutiala", "status": "closed"}]},
                           engine.dataset)
    facilities = scenario_facilities(engine.dataset, change, PARAMS)
    expected = updated_access(engine, baseline, facilities).minutes
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only with the parent's answer
        try:
            os._exit(0 if np.array_equal(updated_access(engine, baseline, facilities).minutes, expected) else 1)
        finally:
            os._exit(2)
    for _ in range(600):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child's update did not finish within 30 s")


def test_a_mobile_hearing_counts_time_averaged_by_its_frequency(engine):
    change = read_scenario({"name": "quarterly hearings south-east of Tombouctou", "changes": [
        {"add": "mobile_hearing", "at": {"lon": -2.476, "lat": 16.45, "name": "hearing point"}, "sessions_per_year": 4,
         "days_per_session": 5}]}, engine.dataset)
    total = analysis.scenario(engine, change, PARAMS, T).summary.set_index("region").loc["All"]
    availability = 4 * 5 / 250
    for t in T:
        assert total[f"time_averaged_{t:g}"] == pytest.approx(total[f"baseline_{t:g}"] + availability * total[f"gained_{t:g}"])
    assert total["gained_240"] > 0


@pytest.mark.parametrize("change, words", [
    ({"facility": "ml-ti-atlantis", "status": "closed"}, "change 1: field 'facility': no facility with id 'ml-ti-atlantis'"),
    ({"facility": "ml-tgi-gao", "status": "open"}, "change 1: field 'status': 'open' is not one of"),
    ({"add": "court", "at": {"lon": 40.0, "lat": 16.0}}, "change 1: field 'at'"),
    ({"add": "court", "at": "Atlantis"}, "unknown place 'Atlantis'"),
    ({"add": "mobile_hearing", "at": "Tessalit", "sessions_per_year": 0}, "field 'sessions_per_year': must be a number from 1"),
    ({"add": "crossing", "at": "Kidal", "kind": "ferry", "wait_minutes": 30}, "field 'at': Kidal is more than 5 km from the nearest barrier"),
    ({"add": "crossing", "at": {"lon": -6.2767, "lat": 13.4630}, "kind": "ferry"}, "field 'wait_minutes': required"),
    ({"add": "crossing", "at": {"lon": -6.2767, "lat": 13.4630}, "kind": "tunnel"}, "field 'kind': 'tunnel' is not one of bridge, dam, ferry"),
    ({"add": "crossing", "at": {"lon": -6.2767, "lat": 13.4630}, "kind": "ferry", "wait_minutes": -5}, "field 'wait_minutes': must be a number from 0"),
])
def test_bad_scenarios_name_the_change_and_field(dataset, change, words):
    with pytest.raises(LayerError) as caught:
        read_scenario({"name": "bad", "changes": [change]}, dataset)
    assert words in str(caught.value)


def test_greedy_within_its_guarantee_and_exact_is_optimal():
    # the classic trap: the largest set first, then only one more element
    trap = Coverage([Place(n, 0, 0, "test") for n in "ABC"], [np.array([0, 1, 2, 3]), np.array([0, 1, 4]), np.array([2, 3, 5])],
                    np.ones(6))
    picked = greedy(trap, 2)
    assert picked.chosen == [0, 1] and picked.value == 5 and exact(trap, 2) == 6
    assert picked.guarantee * 6 <= picked.value <= 6 <= picked.upper_bound
    assert greedy(trap, 1, fixed=[2]).chosen == [2, 1]


def test_siting_on_real_data_against_brute_force(engine):
    baseline = engine.access(PARAMS)
    towns = engine.dataset.settlements
    north = towns[towns["region"].isin(["Tombouctou", "Gao", "Kidal"])]
    places = [Place(r.name, r.geometry.x, r.geometry.y, "settlements") for r in north.itertuples()][:12]
    coverage = build_coverage(engine, baseline, places, 120.0, baseline.population)
    best = max(coverage.value(c) for c in itertools.combinations(range(len(places)), 3))
    picked = greedy(coverage, 3)
    assert exact(coverage, 3) == pytest.approx(best, rel=1e-9)
    assert picked.guarantee * best <= picked.value + 1e-6 and best <= picked.upper_bound + 1e-6
    assert picked.value == pytest.approx(coverage.value(picked.chosen), rel=1e-12)


def test_cli_runs_a_scenario_file_and_chooses_sites(dataset, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["scenario", "run", str(dataset.root / "scenarios" / "relocated-back-at-seats.json"),
                               "--resolution", "5000", "--threshold", "120", "-o", str(tmp_path / "s.gpkg")])
    assert out.exit_code == 0, out.output
    assert "gained_120" in out.output and (tmp_path / "s.gpkg").exists()
    raster = runner.invoke(main, ["scenario", "run", str(dataset.root / "scenarios" / "relocated-back-at-seats.json"),
                                  "--resolution", "5000", "-o", str(tmp_path / "saved.tif")])
    assert raster.exit_code == 0, raster.output
    import rasterio
    from pyproj import Transformer
    with rasterio.open(tmp_path / "saved.tif") as saved:
        minutes = saved.read(1, masked=True)
        goundam = saved.index(*Transformer.from_crs("EPSG:4326", saved.crs, always_xy=True).transform(-3.67075, 16.41453))
    # Goundam's people no longer travel to Tombouctou; nobody is slower
    assert minutes[goundam] > 60 and minutes.min() == 0
    drawn = runner.invoke(main, ["map", "scenario", str(dataset.root / "scenarios" / "relocated-back-at-seats.json"),
                                 "--resolution", "5000", "-o", str(tmp_path / "scenario.html")])
    assert drawn.exit_code == 0, drawn.output
    assert "relocated courts back at their seats" in (tmp_path / "scenario.html").read_text(encoding="utf-8")
    compared = runner.invoke(main, ["scenario", "compare", str(dataset.root / "scenarios" / "relocated-back-at-seats.json"),
                                    str(dataset.root / "scenarios" / "relocated-back-at-seats.json"), "--resolution", "5000"])
    assert compared.exit_code == 0 and compared.output.count("relocated courts back at their seats") >= 2
    sited = runner.invoke(main, ["site", "--k", "2", "--resolution", "5000", "--candidates", "Tessalit,Araouane,Taoudenni,Aguelhok",
                                 "--exact"])
    assert sited.exit_code == 0, sited.output
    assert "exact optimum" in sited.output
    first = ["site", "--k", "1", "--resolution", "5000", "--candidates", "Tessalit,Bougouni"]
    assert "Bougouni" in runner.invoke(main, first).output.splitlines()[1]  # more people
    weighted = runner.invoke(main, [*first, "--region-weight", "Kidal=10000"])
    assert weighted.exit_code == 0 and "Tessalit" in weighted.output.splitlines()[1]  # Kidal's people weigh most
    assert runner.invoke(main, ["site", "--k", "1", "--region-weight", "Atlantis=2", "--resolution", "5000"]).exit_code == 1
    bad = runner.invoke(main, ["site", "--k", "1", "--resolution", "5000", "--candidates", "Atlantis"])
    assert bad.exit_code == 1 and "unknown place 'Atlantis'" in bad.output


def test_scenarios_over_http(dataset, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    client = TestClient(create_app(dataset.root, tokens=["planner:s3cret"], store=tmp_path / "store.sqlite"))
    spec = {"name": "Kidal reopens", "changes": [{"facility": "ml-tgi-kidal", "status": "operational"}]}
    query = "?resolution=5000&threshold=120"
    evaluated = client.post(f"/scenarios{query}", json=spec)
    assert evaluated.status_code == 200 and evaluated.headers["content-type"] == "application/geo+json"
    body = evaluated.json()
    direct = analysis.scenario(Engine(dataset), read_scenario(spec, dataset), PARAMS, (120.0,))
    assert body["summary"][-1]["gained_120"] == pytest.approx(direct.summary.iloc[-1]["gained_120"])
    assert client.get("/scenarios").json()["scenarios"] == [] and "location" not in evaluated.headers  # not saved
    assert client.post(f"/scenarios{query}&save=true", json=spec).status_code == 401
    saved = client.post(f"/scenarios{query}&save=true", json=spec, headers={"Authorization": "Bearer s3cret"})
    [listed] = client.get("/scenarios").json()["scenarios"]
    assert listed["name"] == "Kidal reopens" and listed["saved_by"] == "planner"
    assert saved.headers["location"] == f"/scenarios/{listed['id']}"
    again = client.get(f"/scenarios/{listed['id']}{query}").json()
    assert again["summary"] == body["summary"]
    assert client.get(f"/scenarios/nope{query}").status_code == 404
    other = {"name": "Goundam at home", "changes": [{"facility": "ml-ti-goundam", "sitting": "seat"}]}
    second = client.post(f"/scenarios{query}&save=true", json=other, headers={"Authorization": "Bearer s3cret"})
    side = client.get(f"/scenarios/compare{query}&id={listed['id']}&id={second.headers['location'].rsplit('/', 1)[1]}").json()
    totals = {row["scenario"]: row["net_120"] for row in side["comparison"] if row["region"] == "All"}
    assert totals["Kidal reopens"] == pytest.approx(body["summary"][-1]["net_120"]) and totals["Goundam at home"] > 0
    assert client.get(f"/scenarios/compare{query}&id=nope").status_code == 404
    page = client.get(f"/maps/scenario/{listed['id']}{query}&lang=en")
    assert page.status_code == 200 and "Kidal reopens" in page.text and "Gain access within 120 min" in page.text
    assert f"{body['summary'][-1]['gained_120']:,.0f}" in page.text  # the figure in the map's title box
    assert "cdn" not in page.text.lower() and "/static/" in page.text
    assert client.get(f"/maps/scenario/nope{query}").status_code == 404
    bad = client.post(f"/scenarios{query}", json={"name": "x", "changes": [{"facility": "ml-nowhere", "status": "closed"}]})
    assert bad.status_code == 400 and "change 1: field 'facility'" in bad.json()["detail"]
    sited = client.post("/analysis/siting?resolution=5000", json={"k": 2, "candidates": ["Tessalit", "Araouane", "Taoudenni"],
                                                                  "exact": True}).json()
    assert [f["properties"]["order"] for f in sited["features"]] == [1, 2]
    assert sited["summary"][0]["gap_to_optimum"] is not None
    assert client.post("/analysis/siting", json={"k": 0}).status_code == 400


def test_every_court_working_at_its_seat_is_the_nominal_coverage(engine):
    state = engine.dataset.facilities_as_of("court", PARAMS.as_of)
    changes = [{"facility": row.id, "status": "operational", "sitting": "seat"} for row in state.itertuples()
               if row.status not in ("operational", "partial") or row.sitting_name]
    assert len(changes) >= 9  # the 8 relocated courts and at least Kidal's closed one
    result = analysis.scenario(engine, read_scenario({"name": "all home", "changes": changes}, engine.dataset), PARAMS, T)
    nominal = analysis.coverage(engine, PARAMS, T).summary.set_index("region")
    scenario = result.summary.set_index("region")
    for t in T:
        np.testing.assert_allclose(scenario[f"scenario_{t:g}"], nominal[f"nominal_{t:g}"], rtol=1e-12)
        np.testing.assert_allclose(scenario[f"gained_{t:g}"] - scenario[f"lost_{t:g}"], nominal[f"lost_{t:g}"], rtol=1e-9, atol=1e-6)


def test_the_readme_scenario_is_valid(engine):
    import json
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Scenarios and siting", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    change = read_scenario(json.loads(block), engine.dataset)
    assert len(change.changes) == 6 and change.mobile[0].availability == pytest.approx(20 / 250)
    assert change.mobile[1].availability == pytest.approx(2 * 3 / 250)  # three days a session by default
    total = analysis.scenario(engine, change, PARAMS, T).summary.set_index("region").loc["All"]
    assert total["gained_120"] > 0 and total["time_averaged_120"] > total["baseline_120"]


def test_fixed_sites_come_first_and_risky_candidates_are_left_out(engine):
    towns = ["Araouane", "Taoudenni", "Aguelhok"]
    result = analysis.siting(engine, PARAMS, 1, candidates=towns, fixed=["Tessalit"])
    sites = result.layers["sites"]
    assert sites["name"].tolist()[0] == "Tessalit" and sites["fixed"].tolist() == [True, False]
    risky = analysis.siting(engine, PARAMS, 0, candidates=towns, fixed=["Tessalit"], max_risk=-1.0)
    assert risky.summary.iloc[0]["excluded_for_risk"] == 3  # every free candidate, never the fixed one
    assert risky.layers["sites"]["name"].tolist() == ["Tessalit"]
    with pytest.raises(ValueError, match="cannot choose 1 sites among 0 free candidates"):
        analysis.siting(engine, PARAMS, 1, candidates=towns, fixed=["Tessalit"], max_risk=-1.0)
