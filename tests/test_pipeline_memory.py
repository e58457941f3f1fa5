"""A source on a barrier moves where scipy's distance transform of the whole grid says, though only a window
around it is transformed."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt

from geo_justice.access import nearest_passable
from geo_justice.friction import BaseFriction


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
