"""Capacity and the justice chain through the CLI and the HTTP API, on the embedded data."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from geo_justice.access import AccessParams, Engine
from geo_justice.capacity import CapacityParams
from geo_justice.capacity_analysis import capacity
from geo_justice.cli import main
from geo_justice.scenarios import read_scenario


COARSE = AccessParams(resolution_m=5000)


def test_capacity_endpoint_splits_everyone_into_served_over_capacity_and_out_of_reach(client):
    body = client.get("/analysis/capacity?resolution=5000&threshold=120").json()
    assert body["name"] == "served_catchments" and body["features"]
    for row in body["summary"]:
        assert row["served"] + row["over_capacity"] + row["out_of_reach"] == pytest.approx(row["population"], rel=1e-9)
    assert body["manifest"]["parameters"]["capacity"]["order"] == "capacity"
    courts = body["layers"]["facilities"]
    assert all(c["served"] <= c["capacity_persons"] + 1e-6 for c in courts if c["capacity_persons"] is not None)


def test_chain_endpoint_passes_over_the_overcrowded_prison(client):
    body = client.get("/analysis/chain?resolution=5000").json()
    assert body["name"] == "chain"
    prisons = {p["id"]: p for p in body["layers"]["prisons"]["features"]}
    bamako = prisons["ml-prison-bamako-central"]["properties"]
    assert bamako["overcrowded"] and not bamako["has_room"]  # 3,000 held for 400 places
    chain = [f["properties"] for f in body["features"]]
    assert not any(c["nearest_prison_with_room"] == bamako["name"] for c in chain)
    assert any("Bamako" in c["passed_over"] for c in chain)


@pytest.mark.parametrize("url, word", [("/analysis/capacity?order=biggest", "order"),
                                       ("/analysis/chain?unknown_room=maybe", "unknown_room"),
                                       ("/analysis/capacity?order=priority", "priority")])
def test_bad_capacity_parameters_are_problems_naming_them(client, url, word):
    response = client.get(url)
    assert response.status_code == 400 and word in response.json()["detail"]


def test_map_pages_with_their_legends(client):
    response = client.get("/maps/chain?resolution=5000&lang=en")
    assert response.status_code == 200 and "prison with room" in response.text and "overcrowded (over 100%)" in response.text
    response = client.get("/maps/capacity?resolution=5000&lang=en")
    assert response.status_code == 200 and "court at capacity" in response.text and "over capacity" in response.text


def test_two_more_judges_at_a_court_over_capacity_serve_exactly_their_share(dataset):
    engine = Engine(dataset)
    cap = CapacityParams(threshold=120, persons_per_case=200, cases_per_judge=300)
    before = capacity(engine, COARSE, cap).layers["facilities"].set_index("id")
    segou = before.loc["ml-tgi-segou"]
    assert segou["capacity_basis"] == "judges" and segou["served"] == pytest.approx(3 * 300 * 200)
    assert segou["left_in_reach"] > 2 * 300 * 200  # enough people left in its reach for two more judges
    change = read_scenario({"name": "two more judges", "changes": [{"facility": "ml-tgi-segou", "add_judges": 2}]}, dataset)
    after = capacity(engine, COARSE, cap, scenario=change).layers["facilities"].set_index("id")
    assert after.loc["ml-tgi-segou", "served"] == pytest.approx(5 * 300 * 200)
    assert after.loc["ml-tgi-segou", "figures_source"] == "scenario: two more judges"


@pytest.mark.parametrize("change, field", [({"facility": "ml-prison-gao", "add_judges": 2}, "add_judges"),
                                           ({"facility": "ml-tgi-gao", "judges": -1}, "judges"),
                                           ({"facility": "ml-prison-koulikoro", "add_capacity": 10}, "add_capacity"),
                                           ({"facility": "ml-tgi-gao", "add_judges": -9}, "add_judges")])
def test_bad_capacity_changes_name_the_field(dataset, change, field):
    from layers import LayerError
    with pytest.raises(LayerError) as error:
        read_scenario({"name": "bad", "changes": [change]}, dataset)
    assert field in str(error.value) and "change 1" in str(error.value)


def test_cli_capacity_and_chain_print_their_tables():
    runner = CliRunner()
    result = runner.invoke(main, ["capacity", "--resolution", "5000"])
    assert result.exit_code == 0, result.output
    assert "over_capacity" in result.output and "out_of_reach" in result.output and "All" in result.output
    result = runner.invoke(main, ["chain", "--resolution", "5000"])
    assert result.exit_code == 0, result.output
    assert "more than 480 minutes (8 h) from a working prison with room" in result.output
    assert "Taoudenni" in result.output


def test_site_with_capacity_serves_at_most_its_judges_share():
    runner = CliRunner()
    result = runner.invoke(main, ["site", "--k", "1", "--resolution", "5000", "--candidates", "Bougouni,Tessalit",
                                  "--capacity", "1", "--cases-per-judge", "300", "--persons-per-case", "200"])
    assert result.exit_code == 0, result.output
    # Bougouni has far more than 60,000 people unserved within two hours: one judge serves exactly 300 x 200.
    assert "Bougouni" in result.output and "60,000" in result.output
    assert "no optimality guarantee with capacities" in result.output
    both = runner.invoke(main, ["site", "--k", "1", "--resolution", "5000", "--capacity", "1", "--exact"])
    assert both.exit_code == 1 and "exact" in both.output


def test_the_readme_capacity_scenario_reads_and_adds_its_judges(dataset):
    import json

    from .conftest import ROOT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Capacity and the justice chain", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    change = read_scenario(json.loads(block), dataset)
    gao = next(c for c in change.changes if getattr(c, "facility_id", "") == "ml-tgi-gao")
    assert gao.figures == (("judges", 2.0, True),)
    from geo_justice.scenarios import scenario_state
    state = scenario_state(dataset, change, "court", "2023-11-17").set_index("id")
    assert state.loc["ml-tgi-gao", "judges"] == dataset.courts.set_index("id").loc["ml-tgi-gao", "judges"] + 2


def test_every_embedded_capacity_figure_carries_its_source(dataset):
    for frame, columns in ((dataset.courts, ("judges", "hearings_per_year", "cases_per_year")),
                           (dataset.prisons, ("capacity", "detainees", "high_risk_capacity"))):
        given = frame[list(columns)].notna().any(axis=1)
        assert given.any() and (frame.loc[given, "figures_source"].str.len() > 0).all()
    # Per-court judges and per-prison capacities in the north and centre are not published: labelled assumed.
    assert dataset.courts["figures_source"].str.startswith("assumed").all()
    northern = dataset.prisons[dataset.prisons["zone"].isin(["north", "centre"])]
    assert len(northern) == 18
    assert northern["figures_source"].str.startswith("capacity assumed").all()
