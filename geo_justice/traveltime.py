"""Least-cost travel time from every cell to the nearest source, with the source's label, in one pass.

A multi-source Dijkstra over the grid, compiled with numba. Move costs:

- a king move (8-neighbour) from a to b costs distance x (f[a] + f[b]) / 2, as scikit-image's
  MCP_Geometric does;
- a knight move (the 8 more moves of the 16-neighbour stencil) crosses two more cells m1, m2 and
  costs distance x (f[a] + f[m1] + f[m2] + f[b]) / 4, so it never jumps across an impassable cell;
- in 16-neighbour mode a diagonal move may not squeeze between two impassable corner cells either
  (MCP_Geometric allows it, so the 8-neighbour mode does too);
- crossing minutes c (a ferry's wait, on the river cells it opens) are paid at the edges of a crossing:
  a move adds half the change of c between consecutive cells it passes (a, m1, m2, b), so entering a
  ferry's river cells costs c/2, leaving them c/2, moving within them nothing; costs stay symmetric and
  non-negative, and with no crossing minutes the moves cost exactly what MCP_Geometric's do.

On a uniform surface the 16-neighbour stencil's worst relative error is 2.7 % (a direction halfway
between a king and a knight move), the 8-neighbour stencil's 8.2 %.

The queue is a bucket queue whose buckets are as wide as the cheapest possible move (cell size x the
least friction): no cell can improve another cell of its own bucket, so taking a bucket's cells in any
order is exact. When the friction spans too many orders of magnitude for buckets, a 4-ary heap is used.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy.ndimage import binary_dilation

KING = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
KNIGHT = ((-2, -1), (-2, 1), (-1, -2), (-1, 2), (1, -2), (1, 2), (2, -1), (2, 1))
PAD = 2  # impassable border, as wide as the longest move: the search needs no bounds checks
MAX_BUCKETS = 50_000_000
ABSENT = -1


@dataclass(frozen=True)
class TravelTime:
    """Minutes to the nearest source (inf where none is reachable), its label (-1 there) and, if asked, predecessors."""

    minutes: np.ndarray
    label: np.ndarray
    predecessor: np.ndarray | None = None


def _stencil(neighbours: int, cell_size: float, ncols: int) -> tuple[np.ndarray, ...]:
    """Per move on the padded grid's flat index: offsets to the target and to the two cells it passes
    (m1, m2), its kind and its cost weight.

    kind 0: orthogonal; 1: diagonal, whose corner cells m1, m2 must not both be impassable (16 only);
    2: knight, crossing m1 (one step along its long axis) and m2 (one diagonal step).
    """
    moves = KING + (KNIGHT if neighbours == 16 else ())
    dr = np.array([m[0] for m in moves], dtype=np.int64)
    dc = np.array([m[1] for m in moves], dtype=np.int64)
    width = ncols + 2 * PAD
    steps = np.abs(dr) + np.abs(dc)
    knight = steps == 3
    kind = np.where(knight, 2, np.where((steps == 2) & (neighbours == 16), 1, 0)).astype(np.int64)
    m1r = np.where(knight, np.where(np.abs(dr) == 2, np.sign(dr), 0), dr)
    m1c = np.where(knight, np.where(np.abs(dc) == 2, np.sign(dc), 0), 0)
    m2r = np.where(knight, np.sign(dr), 0)
    m2c = np.where(knight, np.sign(dc), dc)
    weight = cell_size * np.hypot(dr, dc) / np.where(knight, 4.0, 2.0)
    return dr * width + dc, m1r * width + m1c, m2r * width + m2c, kind, weight


@njit(cache=True, nogil=True)
def _relax(f, c, t, lab, prd, use_pred, u, tu, offset, off1, off2, kind, weight, out_cells, out_keys):
    """Relax every move out of settled cell u; the cells it improves go to out_*; returns how many.
    `c`: crossing minutes per cell (one zero cell when the surface has none)."""
    fu = f[u]
    crossings = c.shape[0] > 1
    if not fu < np.inf:
        return 0  # a source on an impassable cell reaches nothing
    lu = lab[u]
    count = 0
    for k in range(offset.shape[0]):
        v = u + offset[k]
        fv = f[v]
        if not fv < np.inf:
            continue
        if kind[k] == 2:
            fa = f[u + off1[k]]
            fb = f[u + off2[k]]
            if not (fa < np.inf and fb < np.inf):
                continue
            tv = tu + weight[k] * (fu + fa + fb + fv)
            if crossings:
                ca, cb = c[u + off1[k]], c[u + off2[k]]
                tv += 0.5 * (abs(ca - c[u]) + abs(cb - ca) + abs(c[v] - cb))
        else:
            if kind[k] == 1 and not (f[u + off1[k]] < np.inf or f[u + off2[k]] < np.inf):
                continue
            tv = tu + weight[k] * (fu + fv)
            if crossings:
                tv += 0.5 * abs(c[v] - c[u])
        if tv < t[v]:  # never true for a settled cell: costs are not negative
            t[v] = tv
            lab[v] = lu
            if use_pred:
                prd[v] = u
            out_cells[count] = v
            out_keys[count] = tv
            count += 1
    return count


@njit(cache=True, nogil=True)
def _seed(t, lab, prd, use_pred, src, src_label):
    """Set the sources to 0 minutes with their labels; returns the cells to start from (first source wins a cell)."""
    seeded = np.empty(src.shape[0], dtype=np.int64)
    count = 0
    for s in range(src.shape[0]):
        u = src[s]
        if t[u] == 0.0 and lab[u] >= 0:
            continue
        t[u] = 0.0
        lab[u] = src_label[s]
        if use_pred:
            prd[u] = -1
        seeded[count] = u
        count += 1
    return seeded[:count]


@njit(cache=True, nogil=True)
def _search_buckets(f, c, t, lab, prd, use_pred, start, offset, off1, off2, kind, weight, max_minutes, width):
    """Bucket-queue Dijkstra; buckets are linked lists of entries in one pool whose freed entries are reused."""
    heads = np.full(1024, -1, dtype=np.int64)
    cap = 4096
    pool_cell = np.empty(cap, dtype=np.int64)
    pool_key = np.empty(cap, dtype=np.float64)
    pool_next = np.empty(cap, dtype=np.int64)
    used, free, pending = 0, -1, 0
    out_cells = np.empty(offset.shape[0] + start.shape[0], dtype=np.int64)
    out_keys = np.zeros(out_cells.shape[0], dtype=np.float64)
    n = start.shape[0]
    out_cells[:n] = start
    for i in range(n):
        out_keys[i] = t[start[i]]
    b = 0
    while True:
        for i in range(n):  # push the cells just improved
            target = int(out_keys[i] / width)
            if target >= heads.shape[0]:
                grown = np.full(max(2 * heads.shape[0], target + 1), -1, dtype=np.int64)
                grown[: heads.shape[0]] = heads
                heads = grown
            if free >= 0:
                e = free
                free = pool_next[e]
            else:
                if used == cap:
                    cap *= 2
                    pool_cell = np.concatenate((pool_cell, np.empty(cap - used, dtype=np.int64)))
                    pool_key = np.concatenate((pool_key, np.empty(cap - used, dtype=np.float64)))
                    pool_next = np.concatenate((pool_next, np.empty(cap - used, dtype=np.int64)))
                e = used
                used += 1
            pool_cell[e], pool_key[e], pool_next[e] = out_cells[i], out_keys[i], heads[target]
            heads[target] = e
            pending += 1
        n = 0
        while pending > 0 and heads[b] < 0:
            b += 1
        if pending == 0 or b * width > max_minutes:
            return
        e = heads[b]
        heads[b] = pool_next[e]
        pool_next[e] = free
        free = e
        pending -= 1
        u, tu = pool_cell[e], pool_key[e]
        if tu == t[u]:  # else stale: the cell was reached faster since
            n = _relax(f, c, t, lab, prd, use_pred, u, tu, offset, off1, off2, kind, weight, out_cells, out_keys)


@njit(cache=True, nogil=True)
def _sift_up(keys, cells, pos, i):
    key, cell = keys[i], cells[i]
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i], cells[i] = keys[parent], cells[parent]
        pos[cells[i]] = i
        i = parent
    keys[i], cells[i] = key, cell
    pos[cell] = i


@njit(cache=True, nogil=True)
def _pop(keys, cells, pos, size):
    """Remove the root of the 4-ary heap; returns it and the new size."""
    top = cells[0]
    size -= 1
    if size > 0:
        key, cell = keys[size], cells[size]
        i = 0
        while True:
            first = 4 * i + 1
            if first >= size:
                break
            child = first
            for j in range(first + 1, min(first + 4, size)):
                if keys[j] < keys[child]:
                    child = j
            if keys[child] >= key:
                break
            keys[i], cells[i] = keys[child], cells[child]
            pos[cells[i]] = i
            i = child
        keys[i], cells[i] = key, cell
        pos[cell] = i
    pos[top] = ABSENT
    return top, size


@njit(cache=True, nogil=True)
def _search_heap(f, c, t, lab, prd, use_pred, start, offset, off1, off2, kind, weight, max_minutes):
    """Dijkstra with an indexed 4-ary heap (decrease-key through `pos`)."""
    pos = np.full(f.shape[0], ABSENT, dtype=np.int32)
    keys = np.empty(max(1024, 4 * start.shape[0]), dtype=np.float64)
    cells = np.empty(keys.shape[0], dtype=np.int64)
    out_cells = np.empty(offset.shape[0] + start.shape[0], dtype=np.int64)
    out_keys = np.zeros(out_cells.shape[0], dtype=np.float64)
    n = start.shape[0]
    out_cells[:n] = start
    for i in range(n):
        out_keys[i] = t[start[i]]
    size = 0
    while True:
        for j in range(n):
            v = out_cells[j]
            i = pos[v]
            if i < 0:
                if size == keys.shape[0]:
                    keys = np.concatenate((keys, np.empty(size, dtype=np.float64)))
                    cells = np.concatenate((cells, np.empty(size, dtype=np.int64)))
                i = size
                size += 1
            keys[i], cells[i] = out_keys[j], v
            _sift_up(keys, cells, pos, i)
        if size == 0 or keys[0] > max_minutes:
            return
        u, size = _pop(keys, cells, pos, size)
        n = _relax(f, c, t, lab, prd, use_pred, u, t[u], offset, off1, off2, kind, weight, out_cells, out_keys)


@dataclass(frozen=True)
class Surface:
    """A friction surface prepared once for many searches: padded, impassable cells as inf, its extremes,
    and the padded crossing minutes (one zero cell when there are none)."""

    padded: np.ndarray
    shape: tuple[int, int]
    cell_size: float
    least: float  # the least passable friction (nan when nothing is passable)
    most: float
    crossing: np.ndarray = field(default_factory=lambda: np.zeros(1))

    @property
    def passable(self) -> bool:
        return not np.isnan(self.least)

    @property
    def nbytes(self) -> int:
        return self.padded.nbytes + self.crossing.nbytes


def prepare(friction: np.ndarray, cell_size: float, crossing_minutes: np.ndarray | None = None) -> Surface:
    """Friction in minutes per metre per cell (inf, NaN, zero or negative: impassable), ready for `travel_time`.

    crossing_minutes: per cell, the minutes a crossing there costs (a ferry's wait on the river cells it
    opens; 0 elsewhere), paid once on the way across (see the module docstring)."""
    friction = np.asarray(friction)
    if friction.ndim != 2:
        raise ValueError(f"friction must be a 2-D array, not {friction.ndim}-D")
    if not cell_size > 0:
        raise ValueError(f"cell_size must be positive, not {cell_size}")
    clean = np.where(friction > 0, friction, np.inf)  # NaN fails "> 0" too
    finite = np.isfinite(clean)
    least, most = (float(clean[finite].min()), float(clean[finite].max())) if finite.any() else (np.nan, np.nan)
    crossing = np.zeros(1)
    if crossing_minutes is not None:
        crossing_minutes = np.asarray(crossing_minutes, dtype=np.float64)
        if crossing_minutes.shape != friction.shape:
            raise ValueError(f"crossing_minutes has shape {crossing_minutes.shape}, friction {friction.shape}")
        if not (np.isfinite(crossing_minutes) & (crossing_minutes >= 0)).all():
            raise ValueError("crossing_minutes must be finite and not negative")
        if crossing_minutes.any():
            crossing = _padded(crossing_minutes, 0.0, np.float64).ravel()
    return Surface(_padded(clean, np.inf, np.float64), friction.shape, float(cell_size), least, most, crossing)


def travel_time(
    friction: np.ndarray | Surface,
    cell_size: float,
    sources: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    neighbours: int = 16,
    max_minutes: float = np.inf,
    initial: TravelTime | None = None,
    invalid: np.ndarray | None = None,
    predecessors: bool = False,
) -> TravelTime:
    """Minutes from every cell to the nearest source, with that source's label.

    friction: minutes per metre per cell, positive; inf, NaN, zero or negative is impassable; or a
    `Surface` prepared from it, to share the preparation between searches.
    sources: (n, 2) row, col; labels: one per source (default 0..n-1); when two sources are equally
    near a cell, which label it gets depends on the search order but is the same on every run. A source
    on an impassable cell gets 0 minutes but reaches nothing. Cells farther than `max_minutes` are
    inf / -1.

    initial: a previous result to update when sources are added: only cells the new sources reach
    strictly faster change, so the search stays local, and the minutes equal a full recomputation
    over old and new sources. `invalid` (with `initial`): a mask of cells whose initial values no longer
    hold because the source they came from was removed (whose cell holds no kept source); they are
    recomputed from the valid cells around them and any new sources, so removing a source is local too.
    `predecessors`: also return, per cell, the flat index of the previous cell on its least-cost path
    (-1 at sources and unreached cells), for `least_cost_path`.
    """
    surface = friction if isinstance(friction, Surface) else prepare(friction, cell_size)
    if surface.cell_size != cell_size:
        raise ValueError(f"the surface was prepared for {surface.cell_size} m cells, not {cell_size}")
    if neighbours not in (8, 16):
        raise ValueError(f"neighbours must be 8 or 16, not {neighbours}")
    sources = np.asarray(sources, dtype=np.int64).reshape(-1, 2)
    rows, cols = shape = surface.shape
    outside = (sources[:, 0] < 0) | (sources[:, 0] >= rows) | (sources[:, 1] < 0) | (sources[:, 1] >= cols)
    if outside.any():
        raise ValueError(f"sources outside the grid {shape}: {sources[outside].tolist()}")
    labels = np.arange(len(sources), dtype=np.int32) if labels is None else np.asarray(labels, dtype=np.int32)
    if labels.shape != (len(sources),):
        raise ValueError(f"labels must have one entry per source ({len(sources)}), not {labels.shape}")
    if initial is not None and initial.minutes.shape != shape:
        raise ValueError(f"initial result has shape {initial.minutes.shape}, friction {shape}")
    if initial is not None and predecessors and initial.predecessor is None:
        raise ValueError("predecessors asked for, but the initial result has none")
    if invalid is not None and (initial is None or np.shape(invalid) != shape):
        raise ValueError("invalid needs an initial result and the shape of the friction")

    clean = surface.padded
    if initial is None:
        minutes = np.full(clean.shape, np.inf)
        label = np.full(clean.shape, -1, dtype=np.int32)
        pred = np.full(clean.shape if predecessors else (1, 1), -1, dtype=np.int64)
    else:
        minutes, label = _padded(initial.minutes, np.inf, np.float64), _padded(initial.label, -1, np.int32)
        pred = _padded(_to_padded(initial.predecessor, cols), -1, np.int64) if predecessors else np.full((1, 1), -1, dtype=np.int64)
    width = cols + 2 * PAD
    flat = (sources[:, 0] + PAD) * width + sources[:, 1] + PAD
    state = (clean.ravel(), surface.crossing, minutes.ravel(), label.ravel(), pred.ravel(), predecessors)
    frontier = np.zeros(0, dtype=np.int64)
    if invalid is not None:  # cleared before seeding: a new source may sit where a removed one reached
        frontier = _reopen(minutes, label, pred, predecessors, _padded(invalid, False, bool))
    start = np.concatenate([_seed(*state[2:], flat, labels), frontier])
    stencil = _stencil(neighbours, cell_size, cols)
    if surface.passable:
        bucket = cell_size * surface.least  # the cheapest move: one orthogonal step between the fastest cells
        longest = np.inf if np.isinf(max_minutes) else max_minutes
        if np.isinf(longest):
            longest = surface.most * cell_size * 2.5 * (rows + cols) + surface.crossing.sum()  # bound on the slowest shortest path
        if longest / bucket <= MAX_BUCKETS:
            _search_buckets(*state, start, *stencil, float(max_minutes), bucket)
        else:
            _search_heap(*state, start, *stencil, float(max_minutes))
    inner = (slice(PAD, PAD + rows), slice(PAD, PAD + cols))
    minutes, label = minutes[inner].copy(), label[inner].copy()
    beyond = minutes > max_minutes
    minutes[beyond], label[beyond] = np.inf, -1
    if not predecessors:
        return TravelTime(minutes, label)
    pred = _from_padded(pred[inner], cols)
    pred[beyond] = -1
    return TravelTime(minutes, label, pred)


def _reopen(minutes: np.ndarray, label: np.ndarray, pred: np.ndarray, predecessors: bool, invalid: np.ndarray) -> np.ndarray:
    """Clear the invalid cells (padded arrays, in place); returns the valid reached cells within one move
    of them (the frontier the search restarts from, at their kept times)."""
    rows, cols = np.nonzero(invalid)
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    minutes[rows, cols], label[rows, cols] = np.inf, -1
    if predecessors:
        pred[rows, cols] = -1
    # only the invalid cells' bounding box (plus one move; the padding keeps it inside the array) is scanned
    r0, r1 = max(rows.min() - PAD, 0), min(rows.max() + PAD + 1, invalid.shape[0])
    c0, c1 = max(cols.min() - PAD, 0), min(cols.max() + PAD + 1, invalid.shape[1])
    window = invalid[r0:r1, c0:c1]
    near = binary_dilation(window, structure=np.ones((2 * PAD + 1, 2 * PAD + 1), dtype=bool))
    r, c = np.nonzero(near & ~window & np.isfinite(minutes[r0:r1, c0:c1]))
    return (r + r0) * invalid.shape[1] + c + c0


def _padded(values: np.ndarray, fill: float, dtype) -> np.ndarray:
    return np.pad(np.asarray(values, dtype=dtype), PAD, constant_values=fill)


def _to_padded(flat: np.ndarray, cols: int) -> np.ndarray:
    r, c = np.divmod(flat, cols)
    return np.where(flat >= 0, (r + PAD) * (cols + 2 * PAD) + c + PAD, -1)


def _from_padded(flat: np.ndarray, cols: int) -> np.ndarray:
    r, c = np.divmod(flat, cols + 2 * PAD)
    return np.where(flat >= 0, (r - PAD) * cols + c - PAD, -1)


def least_cost_path(result: TravelTime, cell: tuple[int, int]) -> np.ndarray:
    """(k, 2) rows and columns from the source to `cell`, following the predecessors."""
    if result.predecessor is None:
        raise ValueError("the result has no predecessors: compute it with predecessors=True")
    cols = result.minutes.shape[1]
    if not np.isfinite(result.minutes[cell]):
        raise ValueError(f"cell {cell} is not reachable from any source")
    flat = result.predecessor.ravel()
    path = [cell[0] * cols + cell[1]]
    while flat[path[-1]] >= 0:
        path.append(int(flat[path[-1]]))
    return np.column_stack(np.divmod(np.array(path[::-1], dtype=np.int64), cols))
