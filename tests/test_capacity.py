"""Capacity-limited coverage (AccessMod's method) and the 2SFCA index, on hand-checkable cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_justice.capacity import CapacityParams, Reach, allocate, court_capacity, processing_order, two_step_fca

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
