"""Capacity-limited coverage (AccessMod's method) and the 2SFCA index, on hand-checkable cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_justice.access import AccessParams, Engine
from geo_justice.capacity import CapacityParams, Reach, allocate, court_capacity, processing_order, two_step_fca
from geo_justice.capacity_analysis import capacity, chain, prisons_with_room
from geo_justice.chain import justice_chain, prison_occupancy, transfer_burden, with_room
from geo_justice.conflict import ConflictParams
from geo_justice.exposure import justice_chain_gap
from layers import load_dataset

from .toy import km_between, make_dataset

CALM = AccessParams(conflict=ConflictParams(mode="off"))

# Four cells of 50 persons on a line; facility A sits on cell 0, B on cell 3, 10 minutes a cell.
POPULATION = np.full(4, 50.0)
LINE = Reach(cells=[np.arange(4), np.arange(4)], minutes=[np.array([0, 10, 20, 30.0]), np.array([30, 20, 10, 0.0])])


def test_two_facilities_of_100_and_50_over_200_people_serve_150():
    capacity = np.array([100.0, 50.0])
    order = processing_order(CapacityParams(order="capacity"), ["A", "B"], capacity, np.array([200.0, 200.0]))
    assert order.tolist() == [0, 1]  # largest capacity first
    result = allocate(LINE, POPULATION, capacity, order)
    # A takes its two nearest cells (0, 1); B then takes its nearest unserved cell (3); cell 2 is left over.
    assert result.served.tolist() == [100.0, 50.0]
    assert result.served_cells.tolist() == [50.0, 50.0, 0.0, 50.0]
    assert result.within_reach.tolist() == [200.0, 100.0]  # B's turn: 100 persons left within its reach
    assert POPULATION.sum() - result.served_cells.sum() == 50.0
    assert result.label.tolist() == [0, 0, -1, 1]


def test_the_order_decides_who_is_served_and_the_last_cell_is_served_in_part():
    capacity = np.array([75.0, 50.0])
    # B only reaches cells 0 and 1; processed first (priority), it takes cell 1 (its nearest), then A takes
    # cell 0 (50) and half of cell 2 (25): 125 served.
    reach = Reach(cells=[np.arange(4), np.array([0, 1])], minutes=[np.array([0, 10, 20, 30.0]), np.array([20, 10.0])])
    order = processing_order(CapacityParams(order="priority", priority=("B",)), ["A", "B"], capacity, np.zeros(2))
    assert order.tolist() == [1, 0]
    result = allocate(reach, POPULATION, capacity, order)
    assert result.served_cells.tolist() == [50.0, 50.0, 25.0, 0.0]
    # By capacity A goes first: cells 0 and half of 1; B takes the other half of 1 and nothing else in reach.
    result = allocate(reach, POPULATION, capacity, np.array([0, 1]))
    assert result.served_cells.tolist() == [50.0, 50.0, 0.0, 0.0]
    assert result.served.tolist() == [75.0, 25.0]


def test_unknown_capacity_serves_everyone_in_reach_and_comes_last():
    capacity = np.array([np.nan, 50.0])
    order = processing_order(CapacityParams(), ["A", "B"], capacity, np.zeros(2))
    assert order.tolist() == [1, 0]
    result = allocate(LINE, POPULATION, capacity, order)
    assert result.served.tolist() == [150.0, 50.0]


def test_court_capacity_from_cases_judges_or_hearings():
    frame = pd.DataFrame({"cases_per_year": [400, np.nan, np.nan, np.nan], "judges": [2, 3, np.nan, np.nan],
                          "hearings_per_year": [np.nan, np.nan, 28, np.nan]})
    out = court_capacity(frame, CapacityParams(cases_per_judge=300, cases_per_hearing=5, persons_per_case=200))
    assert out["capacity_cases"].tolist()[:3] == [400, 900, 140]
    assert out["capacity_persons"].tolist()[:3] == [80_000, 180_000, 28_000]
    assert np.isnan(out["capacity_cases"].iloc[3])
    assert out["capacity_basis"].tolist() == ["cases_per_year", "judges", "hearings_per_year", "unknown"]


# 2SFCA by hand: cells of 100, 200, 300 persons; facility 1 (supply 10) reaches cells 0 and 1 at 5 and 50
# minutes, facility 2 (supply 6) reaches cells 1 and 2 at 10 and 20 minutes; threshold 60.
FCA_POP = np.array([100.0, 200.0, 300.0])
FCA_REACH = Reach(cells=[np.array([0, 1]), np.array([1, 2])], minutes=[np.array([5.0, 50.0]), np.array([10.0, 20.0])])
FCA_SUPPLY = np.array([10.0, 6.0])


def test_2sfca_matches_the_formula_by_hand():
    score, ratio = two_step_fca(FCA_REACH, FCA_POP, FCA_SUPPLY, 60)
    assert ratio == pytest.approx([10 / 300, 6 / 500])
    assert score == pytest.approx([10 / 300, 10 / 300 + 6 / 500, 6 / 500])
    # Every unit of supply is shared out: the population-weighted sum of A is the total supply.
    assert (score * FCA_POP).sum() == pytest.approx(16.0)


def test_e2sfca_matches_the_formula_by_hand():
    # Steps for 60 minutes: up to 20 -> 1, up to 40 -> 0.68, up to 60 -> 0.22.
    score, ratio = two_step_fca(FCA_REACH, FCA_POP, FCA_SUPPLY, 60, enhanced=True)
    r1, r2 = 10 / (100 + 0.22 * 200), 6 / (200 + 300)
    assert ratio == pytest.approx([r1, r2])
    assert score == pytest.approx([r1, 0.22 * r1 + r2, r2])


@pytest.mark.parametrize("enhanced", [False, True])
def test_2sfca_matches_pysal_access(enhanced):
    fca = pytest.importorskip("access.fca")
    weights = pytest.importorskip("access.weights")
    demand = pd.DataFrame({"geoid": [0, 1, 2], "demand": FCA_POP})
    supply = pd.DataFrame({"supply": FCA_SUPPLY}, index=pd.Index(["s0", "s1"], name="geoid"))
    cost = pd.DataFrame({"origin": [0, 1, 1, 2], "dest": ["s0", "s0", "s1", "s1"], "cost": [5.0, 50.0, 10.0, 20.0]})
    weight_fn = weights.step_fn({20: 1, 40: 0.68, 60: 0.22}) if enhanced else None
    expected = fca.two_stage_fca(demand, supply, cost, max_cost=60, weight_fn=weight_fn)
    score, _ = two_step_fca(FCA_REACH, FCA_POP, FCA_SUPPLY, 60, enhanced=enhanced)
    assert score == pytest.approx(expected.sort_index().to_numpy())


# --- the justice chain -------------------------------------------------------------------------------------


def test_chain_passes_over_a_prison_without_room():
    courts = pd.DataFrame({"id": ["a", "b"], "name": ["A", "B"], "tier": ["ti", "ti"], "region": ["R", "R"]})
    prisons = pd.DataFrame({"id": ["p", "q"], "name": ["P", "Q"], "region": ["R", "R"], "status": ["operational"] * 2,
                            "capacity": [100, 40], "detainees": [100, 10]})
    occupancy = prison_occupancy(prisons)
    assert occupancy["room"].tolist() == [0, 30] and occupancy["occupancy"].tolist() == [1.0, 0.25]
    room = with_room(occupancy)
    assert room.tolist() == [False, True]
    table = justice_chain(courts, prisons, np.array([[10.0, 50.0], [60.0, 5.0]]), room)
    assert table["nearest_working_prison"].tolist() == ["P", "Q"]
    assert table["nearest_prison_with_room"].tolist() == ["Q", "Q"]
    assert table["minutes_to_prison_with_room"].tolist() == [50.0, 5.0]
    assert table["passed_over"].tolist() == ["P", ""]


def test_prisons_of_unknown_room_count_unless_told_to_skip():
    prisons = pd.DataFrame({"id": ["p"], "name": ["P"], "region": ["R"], "status": ["operational"],
                            "capacity": [np.nan], "detainees": [5]})
    occupancy = prison_occupancy(prisons)
    assert with_room(occupancy).tolist() == [True]
    assert with_room(occupancy, unknown_room="skip").tolist() == [False]


def test_transfer_burden_is_detainees_times_minutes_per_region():
    minutes = np.array([10.0, 20.0, np.inf, 30.0])
    population = np.array([100_000.0, 200_000.0, 50_000.0, 100_000.0])
    regions = np.array([0, 0, 1, 1])
    table = transfer_burden(minutes, population, regions, ["N", "S"], detainees_per_100k=10)
    # N: 10 detainees x 10 min + 20 x 20 = 500 over 30 detainees; S: 5 without a prison, 10 x 30 = 300.
    assert table["expected_detainees"].tolist() == [30.0, 15.0]
    assert table["detainees_unreached"].tolist() == [0.0, 5.0]
    assert table["detainee_minutes"].tolist() == [500.0, 300.0]
    assert table["mean_minutes"].tolist() == pytest.approx([500 / 30, 30.0])


def toy_with_prisons(tmp_path, prisons: list[tuple]) -> Engine:
    folder = make_dataset(tmp_path / "toy")
    rows = ["id,name,region,status,status_as_of,status_source,lon,lat,capacity,detainees,figures_source"]
    rows += [f"{i},{n},W,operational,2023-11-17,test,{x},{y},{c},{d},test" for i, n, x, y, c, d in prisons]
    (folder / "prisons.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return Engine(load_dataset(folder))


def test_a_prison_at_capacity_is_skipped_by_the_chain(tmp_path):
    # A full prison in the West court's town, one with room in the East court's town, 1 degree of longitude away.
    engine = toy_with_prisons(tmp_path, [("full", "Full prison", 0.5, 11.0, 50, 50), ("room", "Roomy prison", 1.5, 11.0, 50, 10)])
    result = chain(engine, CALM, threshold=600)
    table = result.layers["chain"].set_index("id")
    assert table.loc["west", "nearest_working_prison"] == "Full prison"
    assert table.loc["west", "minutes_to_working_prison"] == 0
    assert table.loc["west", "nearest_prison_with_room"] == "Roomy prison"
    assert table.loc["west", "passed_over"] == "Full prison"
    grid = engine.grid()
    by_hand = km_between(grid, (0.5, 11.0), (1.5, 11.0)) * 12  # off-road 12 min/km in a straight line
    assert table.loc["west", "minutes_to_prison_with_room"] == pytest.approx(by_hand, rel=0.02)
    assert table.loc["west", "far"] and not table.loc["east", "far"]
    assert table.loc["east", "minutes_to_prison_with_room"] == 0
    # The one-search answer of `exposure` agrees with the matrix.
    gap = justice_chain_gap(engine.access(CALM), prisons_with_room(engine, CALM), 600)
    assert gap["id"].tolist() == ["west"]
    assert gap["prison_minutes"].iloc[0] == pytest.approx(table.loc["west", "minutes_to_prison_with_room"])
    prisons = result.layers["prisons"].set_index("id")
    assert not prisons.loc["full", "has_room"] and prisons.loc["room", "has_room"]


def test_capacity_coverage_on_the_toy_area(tmp_path):
    folder = make_dataset(tmp_path / "toy")
    text = (folder / "courts.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",cases_per_year,figures_source"
    text[1:] = [line + (",1,test" if line.startswith("west") else ",,") for line in text[1:]]
    (folder / "courts.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    engine = Engine(load_dataset(folder))
    result = capacity(engine, CALM, CapacityParams(threshold=60, persons_per_case=200))
    courts = result.layers["facilities"].set_index("id")
    access = engine.access(CALM)
    within = access.population * (access.minutes <= 60)
    # West (1 case a year x 200 persons) is full; East (no figure) serves everyone within an hour of it.
    assert courts.loc["west", "served"] == pytest.approx(200)
    assert courts.loc["west", "capacity_basis"] == "cases_per_year"
    assert courts.loc["east", "capacity_basis"] == "unknown"
    assert courts["order"].tolist() == [1, 2]  # known capacity first
    east = within[access.label == access.facilities.set_index("id").loc["east", "site"]].sum()
    assert courts.loc["east", "served"] == pytest.approx(east)
    total = result.summary.set_index("region").loc["All"]
    assert total["served"] + total["over_capacity"] == pytest.approx(within.sum())
    assert total["out_of_reach"] == pytest.approx(access.population.sum() - within.sum())
    assert total["served"] == pytest.approx(200 + east)
    # The served catchments are polygons, one per court that served anyone.
    assert set(result.layers["served_catchments"]["id"]) == {"west", "east"}


# --- siting with capacities ----------------------------------------------------------------------------------

def test_capacitated_greedy_by_hand():
    from geo_justice.siting import capacitated_greedy

    # Four cells of 50 persons; site A reaches cells 0-1 (A is on cell 0), B reaches cells 1-3 (B on cell 3).
    reach = [(np.array([0, 1]), np.array([0.0, 10.0])), (np.array([1, 2, 3]), np.array([20.0, 10.0, 0.0]))]
    value = np.ones(4)
    # Capacity 60: a tie on 60, so A first (lower index): cell 0 and 10 of cell 1; B then takes cell 3 and 10 of
    # cell 2.
    chosen, gains, persons = capacitated_greedy(reach, POPULATION, value, 60, 2)
    assert chosen == [0, 1] and gains == [60.0, 60.0] and persons == [60.0, 60.0]
    # Capacity 200: B (150 persons in reach) beats A (100); A then gets only cell 0.
    chosen, gains, _ = capacitated_greedy(reach, POPULATION, value, 200, 2)
    assert chosen == [1, 0] and gains == [150.0, 50.0]
    # People already served today are not served again; value weights the gain, not the persons.
    chosen, gains, persons = capacitated_greedy(reach, np.array([50.0, 0, 0, 0]), np.array([3.0, 1, 1, 1]), 200, 1)
    assert chosen == [0] and gains == [150.0] and persons == [50.0]


def test_a_figure_without_its_source_is_refused(tmp_path):
    from layers import LayerError, read_facilities

    path = tmp_path / "courts.csv"
    path.write_text("id,name,tier,region,status,status_as_of,status_source,lon,lat,judges,cases_per_year,figures_source\n"
                    "a,A,ti,R,operational,2023-11-17,test,0.5,11,2,,assumed\n"
                    "b,B,ti,R,operational,2023-11-17,test,0.6,11,,,\n"
                    "c,C,ti,R,operational,2023-11-17,test,0.7,11,3,,\n"
                    "d,D,ti,R,operational,2023-11-17,test,0.8,11,-1,,assumed\n", encoding="utf-8")
    with pytest.raises(LayerError) as error:
        read_facilities(path, "court")
    problems = sorted((p.field, p.where) for p in error.value.problems)
    assert [f for f, _ in problems] == ["figures_source", "judges"]  # row c has no source, row d a negative count
    assert "id c" in problems[0][1] and "id d" in problems[1][1]
    assert "judges given without a source" in str(error.value) and "courts.csv" in str(error.value)
