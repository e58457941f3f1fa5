"""Persons within each travel-time threshold, against a count cell by cell."""
from __future__ import annotations

import numpy as np
import pytest

from geo_justice.within import persons_within


def test_persons_within_equals_a_count_per_threshold_and_region():
    rng = np.random.default_rng(3)
    minutes = rng.uniform(0, 300, size=(40, 50))
    minutes[rng.random(minutes.shape) < 0.1] = np.inf  # unreached cells count nowhere
    minutes[0, :4] = [30.0, 60.0, 120.0, 240.0]  # exactly on a threshold: within it
    population = rng.uniform(0, 100, size=minutes.shape)
    region = rng.integers(-1, 3, size=minutes.shape).astype(np.int32)  # -1: in no region, counted in all only
    thresholds = (30, 60, 120, 240)
    got = persons_within(minutes[:, 1:], population[:, 1:], thresholds, region[:, 1:], 3)  # a strided view
    for i, t in enumerate(thresholds):
        near = minutes[:, 1:] <= t
        for r in range(3):
            assert got[i, r] == pytest.approx(population[:, 1:][near & (region[:, 1:] == r)].sum())
        assert got[i, 3] == pytest.approx(population[:, 1:][near].sum())
    assert persons_within(minutes, population, thresholds)[:, 0] == pytest.approx(got[:, 3] + [
        population[:, 0][minutes[:, 0] <= t].sum() for t in thresholds])


def test_thresholds_must_ascend():
    with pytest.raises(ValueError, match="ascending"):
        persons_within(np.zeros((2, 2)), np.ones((2, 2)), (60, 30))
