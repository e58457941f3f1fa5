"""Barrier cells take the travel time of their quicker bank.

A river is a line, but on the grid it blocks whole cells, and the people counted in those cells live on one
bank or the other. So after a search every barrier cell gets the least of its passable neighbours' minutes
plus half a step at that neighbour's friction, and that neighbour's label. Cells deep inside a lake, with no
passable neighbour, stay unreached.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .traveltime import KING


def reach_barrier_cells(minutes: np.ndarray, label: np.ndarray, friction: np.ndarray,
                        cells: tuple[np.ndarray, np.ndarray], cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """(minutes, label) with every barrier cell (`cells`: their rows and columns) set from its quickest passable
    8-neighbour, in place (a search's fresh result; returned for convenience). Only the barrier cells and their
    neighbours are read; a barrier neighbour has infinite friction, so it never gives a finite time (which
    makes the order of the updates irrelevant)."""
    rows, cols = cells
    if rows.size:
        moves = np.array(KING, dtype=np.int64)
        _reach(minutes, label, friction, rows, cols, moves, 0.5 * cell_size * np.hypot(moves[:, 0], moves[:, 1]))
    return minutes, label


@njit(cache=True, nogil=True)
def _reach(minutes, label, friction, rows, cols, moves, half_step):
    n_rows, n_cols = minutes.shape
    for i in range(rows.shape[0]):
        best, best_label = np.inf, -1
        for k in range(moves.shape[0]):
            r, c = rows[i] + moves[k, 0], cols[i] + moves[k, 1]
            if 0 <= r < n_rows and 0 <= c < n_cols:
                step = minutes[r, c] + half_step[k] * friction[r, c]
                if step < best:
                    best, best_label = step, label[r, c]
        minutes[rows[i], cols[i]], label[rows[i], cols[i]] = best, best_label
