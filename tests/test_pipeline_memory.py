"""The pipeline's memory savings change no value: a source on a barrier moves where scipy's distance transform
of the whole grid says, though only a window around it is transformed; the compact base friction and the
friction built in blocks equal the whole-grid arrays."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt

from geo_justice import conflict
from geo_justice.access import AccessParams, Engine, nearest_passable
from geo_justice.friction import BaseFriction, barrier_cells, minutes_per_metre


def test_a_source_moves_to_the_cell_the_whole_grid_distance_transform_picks():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(30):
        shape = tuple(rng.integers(5, 60, size=2))
        blocked = rng.random(shape) < rng.uniform(0.3, 0.98)
        for _ in range(4):  # wide blocked patches: the window has to grow, ties on its rim
            r, c = rng.integers(0, shape[0]), rng.integers(0, shape[1])
            blocked[r:r + rng.integers(1, 30), c:c + rng.integers(1, 30)] = True
        if blocked.all():
            continue
        base = BaseFriction(np.where(blocked, 1, 0).astype(np.uint8), np.array([0.012, np.inf]))
        near_r, near_c = distance_transform_edt(blocked, return_distances=False, return_indices=True)
        for r, c in zip(*np.nonzero(blocked)):
            assert nearest_passable(base, int(r), int(c)) == (near_r[r, c], near_c[r, c])
            checked += 1
        r, c = map(int, np.argwhere(~blocked)[0])
        assert nearest_passable(base, r, c) == (r, c)
    assert checked > 2_000


def test_compact_base_friction_and_block_built_friction_equal_the_whole_grid_arrays(dataset):
    """On the embedded data at 2 km: the one-byte-a-cell base friction gives, cell for cell, the minutes per
    metre of burning the roads' speeds directly (fastest road wins, off-road floor, barriers and the outside
    impassable); the friction built in row blocks equals base x the insecurity multiplier of the whole grid."""
    engine = Engine(dataset)
    params = engine.complete(AccessParams(resolution_m=2000))
    grid = engine.grid(2000)
    roads = dataset.roads.sort_values("speed_kmh", kind="stable")
    speed = np.maximum(params.friction.offroad_kmh, grid.rasterize(roads.geometry, roads["speed_kmh"].to_numpy(), fill=0))
    expected = minutes_per_metre(speed)
    blocked, _ = barrier_cells(grid, dataset, params.friction)
    expected[blocked | ~engine.inside(grid)] = np.inf
    base = engine.base_friction(grid, params.friction)
    np.testing.assert_array_equal(base[:, :], expected)
    assert base.codes.dtype == np.uint8

    risk = engine.friction(grid, params).risk.values()
    np.testing.assert_array_equal(engine.friction(grid, params).minutes_per_metre,
                                  expected * conflict.risk_multiplier(risk, params.conflict))


def test_the_risk_surface_read_by_cells_rows_or_whole_grid_is_linear_between_its_block_rows(dataset):
    """The risk is held as one row per block of rows (4 bytes a cell are never kept): on the embedded data at
    1.5 km and 2 km, the whole grid equals numpy's linear interpolation (np.interp, clamped at the ends) of those
    rows at every cell's centre, and any cell or block of rows reads the same values as the whole grid."""
    for resolution in (1500, 2000):
        engine = Engine(dataset)
        params = engine.complete(AccessParams(resolution_m=resolution))
        risk = engine.friction(engine.grid(resolution), params).risk
        whole = risk.values()
        assert risk.block > 2 and risk.nbytes < whole.nbytes
        assert whole.dtype == np.float32 and whole.shape == risk.shape and whole.max() > 1
        centres = (np.arange(risk.wide.shape[0]) + 0.5) * risk.block - 0.5
        expected = np.column_stack([np.interp(np.arange(risk.shape[0]), centres, column) for column in risk.wide.T])
        np.testing.assert_allclose(whole, expected, rtol=1e-6, atol=1e-9)
        rng = np.random.default_rng(resolution)
        rows, cols = rng.integers(0, risk.shape[0], 500), rng.integers(0, risk.shape[1], 500)
        np.testing.assert_array_equal(risk.at(rows, cols), whole[rows, cols])
        np.testing.assert_array_equal(risk.rows(slice(3, 40)), whole[3:40])
