"""Barrier cells take the travel time of their quicker bank.

A river is a line, but on the grid it blocks whole cells, and the people counted in those cells live on one
bank or the other. So after a search every barrier cell gets the least of its passable neighbours' minutes
plus half a step at that neighbour's friction, and that neighbour's label. Cells deep inside a lake, with no
passable neighbour, stay unreached.
"""
from __future__ import annotations

import numpy as np

from .traveltime import KING


def reach_barrier_cells(minutes: np.ndarray, label: np.ndarray, friction: np.ndarray, blocked: np.ndarray,
                        cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """(minutes, label) with every `blocked` cell set from its quickest passable 8-neighbour (new arrays)."""
    if not blocked.any():
        return minutes, label
    minutes, label = minutes.copy(), label.copy()
    minutes[blocked], label[blocked] = np.inf, -1
    rows, cols = minutes.shape
    padded_t = np.pad(minutes, 1, constant_values=np.inf)
    padded_f = np.pad(np.where(blocked, np.inf, friction), 1, constant_values=np.inf)
    padded_l = np.pad(label, 1, constant_values=-1)
    best, best_label = np.full(minutes.shape, np.inf), np.full(minutes.shape, -1, dtype=label.dtype)
    for dr, dc in KING:
        window = (slice(1 + dr, 1 + dr + rows), slice(1 + dc, 1 + dc + cols))
        step = padded_t[window] + 0.5 * cell_size * np.hypot(dr, dc) * padded_f[window]
        better = step < best
        best[better], best_label[better] = step[better], padded_l[window][better]
    minutes[blocked], label[blocked] = best[blocked], best_label[blocked]
    return minutes, label
