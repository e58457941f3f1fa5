"""Rivers, lakes and crossings on the embedded data: a river is crossed only at its crossings, at their cost.

Checked against scikit-image's MCP_Geometric (8 neighbours) on the same friction, against connected
components of the barrier raster (scipy), and against straight-line distance at the off-road speed.
"""
from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
from scipy.ndimage import label
from skimage.graph import MCP_Geometric

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine
from geo_justice.friction import barrier_cells, close_diagonal_gaps
from geo_justice.scenarios import read_scenario, scenario_engine
from geo_justice.traveltime import prepare, travel_time

PARAMS = AccessParams(resolution_m=2000, neighbours=8)
SEGOU = (-6.25947, 13.44032)        # the Tribunal de grande instance de Ségou, right bank of the Niger
RIVER = (-6.2767, 13.4630)          # the (Natural Earth) Niger north of it
FACING = (-6.2939, 13.4857)         # the left bank, as far beyond the river as the court is before it
FERRY = {"name": "Ségou ferry", "changes": [{"add": "crossing", "at": {"lon": RIVER[0], "lat": RIVER[1]},
                                             "kind": "ferry", "wait_minutes": 30}]}


@pytest.fixture(scope="module")
def engine(dataset):
    return Engine(dataset)


def cell(grid, lon: float, lat: float) -> tuple[int, int]:
    rows, cols, _ = grid.cells(gpd.GeoSeries.from_xy([lon], [lat], crs="EPSG:4326"))
    return int(rows[0]), int(cols[0])


def mcp_minutes(friction: np.ndarray, starts: np.ndarray, cell_size: float) -> np.ndarray:
    costs, _ = MCP_Geometric(friction, fully_connected=True, sampling=(cell_size, cell_size)).find_costs([tuple(s) for s in starts])
    return costs


def straight_offroad_minutes(a: tuple[float, float], b: tuple[float, float], grid) -> float:
    points = gpd.GeoSeries.from_xy([a[0], b[0]], [a[1], b[1]], crs="EPSG:4326").to_crs(grid.crs)
    return points.iloc[0].distance(points.iloc[1]) / 1000 / PARAMS.friction.offroad_kmh * 60


def test_the_facing_bank_is_across_the_niger_and_no_crossing_is_near(dataset):
    segment = gpd.GeoSeries.from_xy([SEGOU[0], FACING[0]], [SEGOU[1], FACING[1]], crs="EPSG:4326")
    line = segment.union_all().convex_hull
    niger = dataset.barriers.set_index("name").geometry["Niger"]
    assert line.crosses(niger)
    nearest = dataset.crossings.to_crs(3857).distance(gpd.GeoSeries.from_xy([RIVER[0]], [RIVER[1]], crs=4326).to_crs(3857).iloc[0])
    assert nearest.min() > 20_000  # Markala's dam, the nearest, is ~30 km away


def test_a_river_without_a_crossing_lengthens_travel_and_a_ferry_restores_it(engine):
    baseline = engine.access(PARAMS)
    grid = baseline.grid
    facing = cell(grid, *FACING)
    friction = engine.friction(grid, PARAMS).minutes_per_metre
    assert np.isfinite(friction[facing])
    straight = straight_offroad_minutes(SEGOU, FACING, grid)
    # the same friction searched by scikit-image: the engine's 8-neighbour minutes are MCP_Geometric's
    expected = mcp_minutes(friction, baseline.site_cells, grid.cell_size)[facing]
    assert baseline.minutes[facing] == pytest.approx(expected, rel=1e-9)
    assert baseline.minutes[facing] > 3 * straight  # the court 6 km away across the river is far

    change = read_scenario(FERRY, engine.dataset)
    after = analysis.minutes_saved(engine, change, PARAMS)[1]
    after_minutes = baseline.minutes[facing] - after[facing]
    changed = scenario_engine(engine, change)
    opened = changed.friction(grid, PARAMS)
    assert opened.crossing_minutes[cell(grid, *RIVER)] == 30
    via_ferry = mcp_minutes(opened.minutes_per_metre, baseline.site_cells, grid.cell_size)[facing] + 30
    assert after_minutes == pytest.approx(min(via_ferry, baseline.minutes[facing]), rel=1e-9)
    assert 30 < after_minutes < 30 + 1.5 * straight  # near: the wait plus about the walk
    assert after_minutes < 0.5 * baseline.minutes[facing]
    print(f"facing bank: {baseline.minutes[facing]:.0f} min without a crossing, {after_minutes:.0f} with the ferry, straight line {straight:.0f}")


def test_a_crossing_costs_its_wait_once_and_the_same_both_ways():
    friction = np.ones((30, 30))
    friction[:, 15] = np.inf
    crossing = np.zeros(friction.shape)
    friction[10:13, 15], crossing[10:13, 15] = 1.0, 45.0  # a ferry opens three river cells
    surface = prepare(friction, 100.0, crossing)
    there = travel_time(surface, 100.0, np.array([[11, 5]]), neighbours=16).minutes
    back = travel_time(surface, 100.0, np.array([[11, 25]]), neighbours=16).minutes
    free = travel_time(np.where(np.isinf(friction), np.inf, 1.0), 100.0, np.array([[11, 5]]), neighbours=16).minutes
    assert there[11, 25] == pytest.approx(free[11, 25] + 45)
    assert back[11, 5] == pytest.approx(there[11, 25])
    assert there[11, 14] == pytest.approx(free[11, 14])  # this bank pays nothing
    assert there[11, 15] == pytest.approx(free[11, 15] + 22.5)  # on the ferry: half the wait so far


def test_rasterised_rivers_cannot_be_jumped_diagonally_or_by_knight_moves(engine):
    """Around Ségou, the Niger's barrier cells (crossings left out) split the window into two banks: no
    8-connected path joins them (scipy), and neither stencil reaches the far bank."""
    grid = engine.grid(1000)
    dataset = replace(engine.dataset, crossings=None)
    blocked, _ = barrier_cells(grid, dataset, PARAMS.friction)
    r, c = cell(grid, *SEGOU)
    window = (slice(r - 40, r + 40), slice(c - 40, c + 40))
    walls = blocked[window]
    raw = grid.rasterize(dataset.barriers.geometry, 1, dtype="uint8")[window] > 0
    np.testing.assert_array_equal(close_diagonal_gaps(raw), walls)
    parts, _ = label(~walls, structure=np.ones((3, 3)))
    court, facing = (40, 40), cell(grid, *FACING)
    facing = (facing[0] - r + 40, facing[1] - c + 40)
    assert parts[court] != parts[facing] and parts[court] > 0 and parts[facing] > 0
    friction = np.where(walls, np.inf, 1.0)
    for neighbours in (8, 16):
        minutes = travel_time(friction, 1000.0, np.array([court]), neighbours=neighbours).minutes
        assert np.isinf(minutes[facing])
        assert np.array_equal(np.isfinite(minutes), parts == parts[court])


def test_closing_diagonal_gaps_blocks_a_staircase():
    stairs = np.eye(12, dtype=bool)  # cells touching only at corners: a diagonal move slips through
    open_parts, _ = label(~stairs, structure=np.ones((3, 3)))
    assert open_parts.max() == 1
    closed_parts, count = label(~close_diagonal_gaps(stairs), structure=np.ones((3, 3)))
    assert count == 2


def test_a_bad_barrier_or_crossing_loads_nothing(tmp_path):
    from layers import LayerError, load_dataset

    from .toy import lines, make_dataset, points
    river = lines([(0.8, 10.0), (0.8, 12.0)], name=["river"])
    far = points((0.5, 10.4), name=["bridge"], kind=["bridge"], source=["test"])
    with pytest.raises(LayerError) as caught:
        load_dataset(make_dataset(tmp_path / "far", barriers=river, crossings=far))
    assert [str(p) for p in caught.value.problems] == [
        "crossings.geojson: feature 0: field 'geometry': more than 5 km from the nearest barrier; a crossing must lie within 2 km of a river or lake"]
    wells = points((0.8, 10.4), name=["well"])
    with pytest.raises(LayerError) as caught:
        load_dataset(make_dataset(tmp_path / "wells", barriers=wells))
    assert [str(p) for p in caught.value.problems] == [
        "barriers.geojson: feature 0: field 'geometry': a barrier is a line (river, border) or a polygon (lake), not a Point"]
