"""Barrier cells take the travel time of their quicker bank.

A river is a line, but on the grid it blocks whole cells, and the people counted in those cells live on one
bank or the other. So after a search every barrier cell gets the least of its passable neighbours' minutes
plus half a step at that neighbour's friction, and that neighbour's label. Cells deep inside a lake, with no
passable neighbour, stay unreached.
"""
from __future__ import annotations

import numpy as np

from .traveltime import KING


def reach_barrier_cells(minutes: np.ndarray, label: np.ndarray, friction: np.ndarray,
                        cells: tuple[np.ndarray, np.ndarray], cell_size: float,
                        in_place: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(minutes, label) with every barrier cell (`cells`: their rows and columns) set from its quickest passable
    8-neighbour (new arrays, or `minutes` and `label` themselves changed when `in_place`). Only the barrier
    cells and their neighbours are read; a barrier neighbour has infinite friction, so it never gives a
    finite time."""
    rows, cols = cells
    if rows.size == 0:
        return minutes, label
    n_rows, n_cols = minutes.shape
    best, best_label = np.full(rows.size, np.inf), np.full(rows.size, -1, dtype=label.dtype)
    for dr, dc in KING:
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_cols)
        step, near = np.full(rows.size, np.inf), np.full(rows.size, -1, dtype=label.dtype)
        step[inside] = minutes[r[inside], c[inside]] + 0.5 * cell_size * np.hypot(dr, dc) * friction[r[inside], c[inside]]
        near[inside] = label[r[inside], c[inside]]
        better = step < best
        best[better], best_label[better] = step[better], near[better]
    if not in_place:
        minutes, label = minutes.copy(), label.copy()
    minutes[rows, cols], label[rows, cols] = best, best_label
    return minutes, label
