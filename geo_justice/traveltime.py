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

The queue is Dial's bucket queue: buckets as wide as the cheapest possible move (cell size x the least
friction), so no cell can improve another cell of its own bucket and taking a bucket's cells in any order
is exact. The buckets sit on a ring as long as the dearest move is wide in buckets (rounded up to a power
of two), so the ring's length is bounded by the ratio of the dearest to the cheapest move, not by the longest
path (a serpentine surface with one fast cell stays small; `TravelTime.queue_bytes` tells what it took). Each
bucket is a stack of small chunks and an improved cell is pushed again rather than moved, so the queue holds
about as many entries as the search's wavefronts have cells, not one link per cell of the grid. When
that ratio passes MAX_BUCKETS, a 4-ary heap is used. The bucket search writes its 16 moves out and runs
without numba's reference counting (it allocates nothing), which makes it about 1.7 times as fast as a loop
over a stencil; it indexes with unsigned integers, which numba need not check for negative values.

A whole search of a large grid (SEARCH_SPLIT_CELLS) runs on two cores: the grid is cut into STRIPS strips of rows,
searched two at a time, and one more search carries the times across the rows between them (`_strips_search`).
The minutes are those of one search (every cell ends at the least over its paths, whatever the order of the
search); a strip's search is also faster per cell than the whole grid's (it touches less memory).
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numba import njit

KING = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
KNIGHT = ((-2, -1), (-2, 1), (-1, -2), (-1, 2), (1, -2), (1, 2), (2, -1), (2, 1))
PAD = 2  # impassable border, as wide as the longest move: the search needs no bounds checks
MAX_BUCKETS = 1 << 22  # the ring's most buckets (dearest / cheapest move); beyond, a heap
SPLIT_CELLS = 1 << 20  # a previous result of this many cells or more is copied by two threads
SEARCH_SPLIT_CELLS = 1 << 22  # a whole search of a grid of this many cells or more runs on two cores
STRIPS = 4  # in this many strips of rows
BLOCK_ROWS = 512  # rows per block where a pass over the grid would need a large temporary
CHUNK = 64  # cells per chunk of a bucket's stack
FIRST_CHUNKS = 1 << 8  # the bucket search starts with this many chunks and doubles them as needed
# the bucket search's state between calls (see `_search_buckets`)
CUR, FED, QUEUED, FREE, FRESH, SPARE, LEAST, GREATEST = range(8)
ABSENT = -1
# The bucket search indexes with unsigned integers: numba then checks no index for being negative (a Python
# index counting from the end), which takes the 16-neighbour search about 15% less time. Its steps are
# unsigned constants, since an unsigned and a signed integer add up to a float in numba.
ONE, TWO = np.uint64(1), np.uint64(2)


@dataclass(frozen=True)
class TravelTime:
    """Minutes to the nearest source (inf where none is reachable), its label (-1 there; int16, int32 past 32,766
    labels: see `label_dtype`) and, if asked, predecessors;
    `queue_bytes`: the memory the bucket queue allocated (0 for the heap search, whose queue grows as needed);
    `changed_rows`: the rows (first, last + 1) outside which the search left its initial values as they were.
    """

    minutes: np.ndarray
    label: np.ndarray
    predecessor: np.ndarray | None = None
    queue_bytes: int = 0
    changed_rows: tuple[int, int] | None = None


@functools.lru_cache(maxsize=64)
def _stencil(neighbours: int, cell_size: float, ncols: int) -> tuple[np.ndarray, ...]:
    """Per move on the padded grid's flat index: offsets to the target and to the two cells it passes
    (m1, m2), its kind and its cost weight (read-only arrays, made once per grid).

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
    stencil = (dr * width + dc, m1r * width + m1c, m2r * width + m2c, kind, weight)
    for array in stencil:
        array.flags.writeable = False
    return stencil


@njit(cache=True, nogil=True)
def _relax(f, c, t, lab, prd, use_pred, u, tu, offset, off1, off2, kind, weight, out_cells, out_keys):
    """Relax every move out of settled cell u; the cells it improves go to out_*; returns how many."""
    fu = f[u]
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
            tv = tu + weight[k] * (fu + fa + fb + fv) + _crossed(c, u, u + off1[k], u + off2[k], v)
        else:
            if kind[k] == 1 and not (f[u + off1[k]] < np.inf or f[u + off2[k]] < np.inf):
                continue
            tv = tu + weight[k] * (fu + fv) + _crossed(c, u, u, v, v)
        if tv < t[v]:  # never true for a settled cell: costs are not negative
            t[v] = tv
            lab[v] = lu
            if use_pred:
                prd[v] = u
            out_cells[count] = v
            out_keys[count] = tv
            count += 1
    return count


@njit(cache=True, nogil=True, inline="always")
def _crossed(c, a, m1, m2, b):
    """Crossing minutes of a move through cells a, m1, m2, b: half of each change of c along it
    (`c` is one zero cell when the surface has no crossings)."""
    if c.shape[0] == 1:
        return 0.0
    return 0.5 * (abs(c[m1] - c[a]) + abs(c[m2] - c[m1]) + abs(c[b] - c[m2]))


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


# The bucket search allocates nothing, so it runs without numba's reference counting (_nrt=False): with it, every
# call of a helper taking arrays counts references atomically, a third of the search's time. LLVM inlines the
# helpers; numba's own inlining (inline="always") would make the search compile five times slower.
@njit(cache=True, nogil=True, _nrt=False)
def _push(v, slot, chunks, below, tops, fill, state):
    """Put cell v on top of bucket `slot`'s stack: in its top chunk, or in a new one taken from the free chunks (the
    caller has made sure there is one)."""
    slot = np.uint64(slot)
    top, at = tops[slot], fill[slot]
    if top < 0 or at == CHUNK:
        new = state[FREE]
        if new >= 0:
            state[FREE] = below[np.uint64(new)]
        else:
            new = state[FRESH]
            state[FRESH] = new + 1
        state[SPARE] -= 1
        below[np.uint64(new)] = top
        tops[slot] = new
        top, at = new, 0
    chunks[np.uint64(top), np.uint64(at)] = v
    fill[slot] = at + 1


@njit(cache=True, nogil=True, _nrt=False)
def _cross(c, a, m1, m2, b):
    """`_crossed`, nothing when the surface has no crossings (c is None: the branch is compiled away)."""
    if c is None:
        return 0.0
    return 0.5 * (abs(c[m1] - c[a]) + abs(c[m2] - c[m1]) + abs(c[b] - c[m2]))


@njit(cache=True, nogil=True, _nrt=False)
def _improve(v, tv, u, lu, t, lab, prd, per, mask, chunks, below, tops, fill, state):
    """Give cell v `tv` minutes through u if that is nearer, putting it on its bucket's stack unless it is queued in
    that bucket already; returns 1 when it adds an entry to the queue."""
    tw = t[v]
    if not tv < tw:  # also false for a settled cell (costs are positive) and when tv is inf
        return 0
    t[v] = tv
    queued = lab[v] <= -2
    lab[v] = -2 - lu
    if prd is not None:
        prd[v] = u
    b = int(tv * per)
    if queued and int(tw * per) == b:
        return 0  # nearer, but still in the same bucket, where it is queued
    _push(v, b & mask, chunks, below, tops, fill, state)
    return 1


@njit(cache=True, nogil=True, _nrt=False)
def _search_buckets(f, c, t, lab, prd, start, width, knights, wo, wd, wk, max_minutes, bucket,
                    chunks, below, tops, fill, state):
    """Dial's bucket queue on a ring of buckets (absolute bucket b lives in slot b & (len(tops) - 1); the ring's
    length is a power of two).

    Each bucket is a stack of chunks of CHUNK cells (`chunks`; `below`: the chunk under each, -1 for none; `tops`,
    `fill`: each slot's top chunk and how full it is; emptied chunks go to a free list), so pushing and popping touch
    only the top chunk, not memory beside other queued cells. A cell improved into an earlier bucket is pushed again
    and its old entry left behind: popped later, the entry's bucket no longer matches the cell's minutes and it is
    skipped. While queued a cell's label is held as -2 - label (this tells a queued cell from a settled one or one
    an update starts from). A move costs at most len(tops) - 2 bucket widths, so the queued cells always lie within
    one turn of the ring. `start` (sorted by time) is fed in as the ring reaches it. The moves are written out
    (`width`: the padded grid's row length, unsigned like the cell indices; wo, wd, wk: the weights of orthogonal,
    diagonal and knight moves; `knights`: the 16-neighbour stencil, whose diagonals may not pass between two
    impassable cells). c: crossing minutes or None; prd: predecessors or None.

    `state` holds the search between calls: the bucket at hand, start cells fed, entries queued, the free list, the
    next chunk never used, the free chunks, and the least and greatest padded index settled. Allocates nothing:
    returns True, with the search paused between two cells, when fewer chunks are free than one cell's moves may
    take (call again with more chunks), and False when it is done (past max_minutes, entries may be left queued).
    """
    nb = tops.shape[0]
    mask = nb - 1
    moves = 16 if knights else 8
    per = 1.0 / bucket  # bucket of a time: int(time * per) (a product is cheaper than a quotient)
    inf = np.inf
    cur, p, queued, n_start = state[CUR], state[FED], state[QUEUED], start.shape[0]
    least, greatest = np.uint64(state[LEAST]), np.uint64(state[GREATEST])
    while True:
        if state[SPARE] <= moves:
            state[CUR], state[FED], state[QUEUED] = cur, p, queued
            state[LEAST], state[GREATEST] = least, greatest
            return True
        while p < n_start:  # feed the start cells that fall within the ring's turn
            u = np.uint64(start[p])
            b = int(t[u] * per)
            if b >= cur + nb - 1 or state[SPARE] <= moves:  # (keeping the chunks one cell's moves may take)
                break
            if lab[u] > -2 and b >= cur:  # neither queued by a move nor settled since it was sorted, at an earlier time
                lab[u] = -2 - lab[u]
                _push(u, b & mask, chunks, below, tops, fill, state)
                queued += 1
            p += 1
        if queued == 0:
            if p == n_start:
                break
            cur = max(cur, int(t[start[p]] * per))  # (a start cell settled earlier than its time is not fed)
            continue
        slot = np.uint64(cur & mask)
        top = tops[slot]
        if top < 0:
            cur += 1
            if cur * bucket > max_minutes:
                break
            continue
        if cur * bucket > max_minutes:
            break
        at, top = fill[slot] - 1, np.uint64(top)
        u = np.uint64(chunks[top, np.uint64(at)])
        if at == 0:  # the chunk is empty: the one below becomes the top, this one free
            fill[slot] = CHUNK if below[top] >= 0 else 0
            tops[slot] = below[top]
            below[top] = state[FREE]
            state[FREE] = top
            state[SPARE] += 1
        else:
            fill[slot] = at
        queued -= 1
        tu = t[u]
        if int(tu * per) != cur:
            continue  # left behind when the cell moved to an earlier bucket, where it was settled
        lu = -2 - lab[u]
        lab[u] = lu
        least, greatest = min(least, u), max(greatest, u)
        fu = f[u]
        if not fu < inf:
            continue  # a source on an impassable cell reaches nothing
        n, s, w, e = u - width, u + width, u - ONE, u + ONE
        fn, fs, fw, fe = f[n], f[s], f[w], f[e]
        fnw, fne, fsw, fse = f[n - ONE], f[n + ONE], f[s - ONE], f[s + ONE]
        q = (chunks, below, tops, fill, state)
        # king moves (in KING's order); a move into an impassable cell costs inf and improves nothing
        if not knights or fn < inf or fw < inf:
            queued += _improve(n - ONE, tu + wd * (fu + fnw) + _cross(c, u, u, n - ONE, n - ONE), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(n, tu + wo * (fu + fn) + _cross(c, u, u, n, n), u, lu, t, lab, prd, per, mask, *q)
        if not knights or fn < inf or fe < inf:
            queued += _improve(n + ONE, tu + wd * (fu + fne) + _cross(c, u, u, n + ONE, n + ONE), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(w, tu + wo * (fu + fw) + _cross(c, u, u, w, w), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(e, tu + wo * (fu + fe) + _cross(c, u, u, e, e), u, lu, t, lab, prd, per, mask, *q)
        if not knights or fs < inf or fw < inf:
            queued += _improve(s - ONE, tu + wd * (fu + fsw) + _cross(c, u, u, s - ONE, s - ONE), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(s, tu + wo * (fu + fs) + _cross(c, u, u, s, s), u, lu, t, lab, prd, per, mask, *q)
        if not knights or fs < inf or fe < inf:
            queued += _improve(s + ONE, tu + wd * (fu + fse) + _cross(c, u, u, s + ONE, s + ONE), u, lu, t, lab, prd, per, mask, *q)
        if not knights:
            continue
        # knight moves (in KNIGHT's order), through m1 (one step along the long axis) and m2 (the diagonal)
        nn, ss = n - width, s + width
        queued += _improve(nn - ONE, tu + wk * (fu + fn + fnw + f[nn - ONE]) + _cross(c, u, n, n - ONE, nn - ONE), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(nn + ONE, tu + wk * (fu + fn + fne + f[nn + ONE]) + _cross(c, u, n, n + ONE, nn + ONE), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(n - TWO, tu + wk * (fu + fw + fnw + f[n - TWO]) + _cross(c, u, w, n - ONE, n - TWO), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(n + TWO, tu + wk * (fu + fe + fne + f[n + TWO]) + _cross(c, u, e, n + ONE, n + TWO), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(s - TWO, tu + wk * (fu + fw + fsw + f[s - TWO]) + _cross(c, u, w, s - ONE, s - TWO), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(s + TWO, tu + wk * (fu + fe + fse + f[s + TWO]) + _cross(c, u, e, s + ONE, s + TWO), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(ss - ONE, tu + wk * (fu + fs + fsw + f[ss - ONE]) + _cross(c, u, s, s - ONE, ss - ONE), u, lu, t, lab, prd, per, mask, *q)
        queued += _improve(ss + ONE, tu + wk * (fu + fs + fse + f[ss + ONE]) + _cross(c, u, s, s + ONE, ss + ONE), u, lu, t, lab, prd, per, mask, *q)
    state[CUR], state[FED], state[QUEUED] = cur, p, queued
    state[LEAST], state[GREATEST] = least, greatest
    return False


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
    crossing_most: float = 0.0  # the largest crossing minutes (sizes the ring without a pass over the grid)

    @property
    def passable(self) -> bool:
        return not np.isnan(self.least)

    @property
    def nbytes(self) -> int:
        return self.padded.nbytes + self.crossing.nbytes


@njit(cache=True, nogil=True)
def _clean(padded):
    """Set every cell inside `padded`'s border that is not passable (positive and finite; NaN fails that too) to
    inf; returns the least and most passable friction (inf, -inf when none), in one pass."""
    least, most = np.inf, -np.inf
    for r in range(PAD, padded.shape[0] - PAD):
        for c in range(PAD, padded.shape[1] - PAD):
            value = padded[r, c]
            if value > 0 and value < np.inf:
                least = min(least, value)
                most = max(most, value)
            else:
                padded[r, c] = np.inf
    return float(least), float(most)


def surface_buffer(shape: tuple[int, int], friction: np.ndarray | None = None) -> np.ndarray:
    """A padded friction for a grid of `shape`, its border impassable, holding a copy of `friction` (else
    empty: write the friction into `buffer[PAD:-PAD, PAD:-PAD]` yourself), for `prepare_padded`."""
    padded = np.empty((shape[0] + 2 * PAD, shape[1] + 2 * PAD))
    padded[:PAD], padded[-PAD:], padded[:, :PAD], padded[:, -PAD:] = np.inf, np.inf, np.inf, np.inf
    if friction is not None:
        padded[PAD:-PAD, PAD:-PAD] = friction
    return padded


def prepare(friction: np.ndarray, cell_size: float, crossing_minutes: np.ndarray | None = None, *,
            crossing: np.ndarray | None = None) -> Surface:
    """Friction in minutes per metre per cell (inf, NaN, zero or negative: impassable), ready for `travel_time`.

    crossing_minutes: per cell, the minutes a crossing there costs (a ferry's wait on the river cells it
    opens; 0 elsewhere), paid once on the way across (see the module docstring). crossing: instead,
    `padded_crossing` of them, made once for many frictions of one grid."""
    friction = np.asarray(friction)
    if friction.ndim != 2:
        raise ValueError(f"friction must be a 2-D array, not {friction.ndim}-D")
    return prepare_padded(surface_buffer(friction.shape, friction), cell_size, crossing_minutes, crossing=crossing)


def prepare_padded(padded: np.ndarray, cell_size: float, crossing_minutes: np.ndarray | None = None, *,
                   crossing: np.ndarray | None = None) -> Surface:
    """`prepare` of a friction written into a `surface_buffer`, in place: the buffer becomes the surface's."""
    if not cell_size > 0:
        raise ValueError(f"cell_size must be positive, not {cell_size}")
    shape = (padded.shape[0] - 2 * PAD, padded.shape[1] - 2 * PAD)
    least, most = _clean(padded)
    if not least < np.inf:
        least = most = np.nan
    if crossing is None:
        crossing = padded_crossing(crossing_minutes, shape)
    elif crossing.shape != (1,) and crossing.shape != (padded.size,):
        raise ValueError(f"crossing has {crossing.size} cells, the padded friction {padded.size}")
    return Surface(padded, shape, float(cell_size), least, most, crossing, float(crossing.max()))


def padded_crossing(crossing_minutes: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """The crossing minutes of a grid of `shape` as `prepare` holds them: padded and flat, or one zero cell when
    there are none."""
    if crossing_minutes is None:
        return np.zeros(1)
    crossing_minutes = np.asarray(crossing_minutes, dtype=np.float64)
    if crossing_minutes.shape != tuple(shape):
        raise ValueError(f"crossing_minutes has shape {crossing_minutes.shape}, friction {tuple(shape)}")
    if not (np.isfinite(crossing_minutes) & (crossing_minutes >= 0)).all():
        raise ValueError("crossing_minutes must be finite and not negative")
    rows, cols = np.nonzero(crossing_minutes)
    if not rows.size:
        return np.zeros(1)
    padded = np.zeros((shape[0] + 2 * PAD, shape[1] + 2 * PAD))  # zeroed memory: all-zero pages are never mapped
    padded[rows + PAD, cols + PAD] = crossing_minutes[rows, cols]
    return padded.ravel()


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
    relabel: np.ndarray | None = None,
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
    `relabel` (with `initial`, instead of `invalid`): per initial label, the label it becomes, -1 for a removed
    source, whose cells are then invalid; one pass over the grid instead of a mask and a relabelled copy.
    `predecessors`: also return, per cell, the flat index of the previous cell on its least-cost path
    (-1 at sources and unreached cells), for `least_cost_path`.

    A whole search (no `initial`, no `max_minutes`) of a grid of SEARCH_SPLIT_CELLS cells or more runs on two
    threads (see the module docstring): the same minutes, and labels that may differ only where two sources tie.
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
    labels = np.arange(len(sources), dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(sources),):
        raise ValueError(f"labels must have one entry per source ({len(sources)}), not {labels.shape}")
    if (labels < 0).any():
        raise ValueError(f"labels must not be negative (-1 marks an unreached cell): {labels[labels < 0][:5].tolist()}")
    if initial is not None and initial.minutes.shape != shape:
        raise ValueError(f"initial result has shape {initial.minutes.shape}, friction {shape}")
    if initial is not None and predecessors and initial.predecessor is None:
        raise ValueError("predecessors asked for, but the initial result has none")
    if invalid is not None and (initial is None or np.shape(invalid) != shape):
        raise ValueError("invalid needs an initial result and the shape of the friction")
    if relabel is not None and (initial is None or invalid is not None):
        raise ValueError("relabel needs an initial result and replaces invalid")

    clean = surface.padded
    if relabel is not None:
        relabel = np.asarray(relabel, dtype=np.int64)
        if (relabel < -1).any():
            raise ValueError(f"relabel maps labels to labels or -1 (a removed source), not {relabel[relabel < -1][:5].tolist()}")
    largest = max(labels.max(initial=-1), -1 if relabel is None else relabel.max(initial=-1))
    kind = label_dtype(largest) if initial is None or relabel is not None else np.promote_types(initial.label.dtype, label_dtype(largest))
    labels = labels.astype(kind)
    if initial is None:
        minutes = np.full(clean.shape, np.inf)
        label = np.full(clean.shape, -1, dtype=kind)
        pred = np.full(clean.shape if predecessors else (1, 1), -1, dtype=np.int64)
    else:
        if relabel is None:
            minutes, label = _padded(initial.minutes, np.inf, np.float64), _padded(initial.label, -1, kind)
        else:
            minutes, label = np.empty(clean.shape), np.empty(clean.shape, dtype=kind)
            box = _start_from(initial.minutes, initial.label, relabel, minutes, label)
        pred = _padded(_to_padded(initial.predecessor, cols), -1, np.int64) if predecessors else np.full((1, 1), -1, dtype=np.int64)
    changed = (box[0], box[1]) if relabel is not None else (0, rows)  # rows that may change: the cleared ones, or all
    width = cols + 2 * PAD
    flat = (sources[:, 0] + PAD) * width + sources[:, 1] + PAD
    state = (clean.ravel(), surface.crossing, minutes.ravel(), label.ravel(), pred.ravel(), predecessors)
    frontier = np.zeros(0, dtype=np.int64)
    if invalid is not None:  # cleared before seeding: a new source may sit where a removed one reached
        frontier = _reopen(minutes, label, pred, predecessors, np.asarray(invalid, dtype=bool))
    elif relabel is not None:
        frontier = _cleared_frontier(initial.label, relabel, minutes,
                                     pred.ravel() if predecessors else None, *box)
    start = np.concatenate([_seed(*state[2:], flat, labels), frontier])
    stencil = _stencil(neighbours, cell_size, cols)
    queue_bytes = 0
    if surface.passable:
        bucket = cell_size * surface.least  # the cheapest move: one orthogonal step between the fastest cells
        dearest = (stencil[4] * np.where(stencil[3] == 2, 4, 2)).max() * surface.most  # across the slowest cells
        dearest += 1.5 * surface.crossing_most  # a knight move passes at most three changes of crossing minutes
        ring = int(dearest / bucket) + 3  # one turn of the ring spans the dearest move (+1 for rounding)
        if ring <= MAX_BUCKETS:
            ring = 1 << (ring - 1).bit_length()  # a power of two: a bucket's slot by a mask
            start = start[np.argsort(minutes.ravel()[start], kind="stable")]
            crossing = None if surface.crossing.shape[0] == 1 else surface.crossing
            weight = stencil[4]
            search = (clean.ravel(), crossing, minutes.ravel(), label.ravel(), pred.ravel() if predecessors else None,
                      np.uint64(width), neighbours == 16, weight[3], weight[0], weight[-1], float(max_minutes), bucket)
            apart = _separators(clean, start, width) if initial is None and max_minutes == np.inf else []
            if apart:
                queue_bytes, settled = _strips_search(search, start, ring, apart, minutes)
            else:
                queue_bytes, settled = _bucket_search(search, start, ring)
            if settled[0] <= settled[1]:  # settled cells: a changed cell is settled, or cleared (in the box)
                changed = (min(changed[0], settled[0] // width - PAD), max(changed[1], settled[1] // width - PAD + 1))
        else:
            _search_heap(*state, start, *stencil, float(max_minutes))
            changed = (0, rows)
    inner = (slice(PAD, PAD + rows), slice(PAD, PAD + cols))
    minutes, label = minutes[inner], label[inner]  # views: the padding is two cells wide, a copy would cost more
    beyond = minutes > max_minutes if max_minutes < np.inf else None
    if beyond is not None:  # masked writes: no index arrays of the cells
        np.copyto(minutes, np.inf, where=beyond)
        np.copyto(label, -1, where=beyond)
        changed = (0, rows)  # the initial result may have held times past the limit anywhere
    if not predecessors:
        return TravelTime(minutes, label, queue_bytes=queue_bytes, changed_rows=changed)
    pred = _from_padded(pred[inner], cols)
    if beyond is not None:
        np.copyto(pred, -1, where=beyond)
    return TravelTime(minutes, label, pred, queue_bytes, changed)


def _bucket_search(search: tuple, start: np.ndarray, ring: int) -> tuple[int, tuple[int, int]]:
    """Run `_search_buckets` (its arguments but the queue's in `search`, `start` sorted by time) on a ring of `ring`
    buckets, doubling the chunks whenever it pauses; returns the queue's bytes and the least and greatest padded
    index settled (least > greatest when none was)."""
    t, lab, bucket = search[2], search[3], search[-1]
    tops, fill = np.full(ring, -1, dtype=np.int32), np.zeros(ring, dtype=np.int32)
    index = np.int32 if t.size < np.iinfo(np.int32).max else np.int64
    chunks, below = np.empty((FIRST_CHUNKS, CHUNK), dtype=index), np.empty(FIRST_CHUNKS, dtype=np.int32)
    queue = np.zeros(8, dtype=np.int64)
    queue[CUR] = int(t[start[0]] * (1.0 / bucket)) if start.size else 0  # as the search rounds
    queue[FREE], queue[SPARE], queue[LEAST] = -1, below.size, t.size
    args = search[:5] + (start,) + search[5:]
    while _search_buckets(*args, chunks, below, tops, fill, queue):  # paused: twice the chunks
        chunks, below = np.concatenate([chunks, np.empty_like(chunks)]), np.concatenate([below, np.empty_like(below)])
        queue[SPARE] += below.size // 2
    if queue[QUEUED]:  # stopped past max_minutes: cells still queued hold -2 - label
        np.subtract(-2, lab, out=lab, where=lab <= -2)
    return tops.nbytes + fill.nbytes + chunks.nbytes + below.nbytes, (int(queue[LEAST]), int(queue[GREATEST]))


def _separators(padded: np.ndarray, start: np.ndarray, width: int) -> list[int]:
    """Where a whole search of a large grid is cut into `STRIPS` strips of about equal passable cells (see
    `_strips_search`): the first of each two padded rows between strips, holding no start cell; [] for a small grid,
    one core or no start cell."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if padded.size < SEARCH_SPLIT_CELLS or cores < 2 or not start.size:
        return []
    passable = np.concatenate([np.isfinite(padded[r:r + BLOCK_ROWS]).sum(axis=1)
                               for r in range(0, padded.shape[0], BLOCK_ROWS)]).cumsum()
    source_rows = np.unique(start // width)
    rows: list[int] = []
    for share in np.arange(1, STRIPS) / STRIPS:  # within an eighth of a strip's cells of each share
        first, last = np.searchsorted(passable, passable[-1] * (share + np.array([-1, 1]) / (8 * STRIPS)))
        first, last = max(int(first), rows[-1] + 2 + 2 * PAD if rows else 2 * PAD), min(int(last), len(passable) - 3 * PAD)
        if first >= last:
            continue
        candidates = np.arange(first, last)
        # the two rows farthest from any start cell's row (where the sources' waves meet: little crosses them later)
        at = np.searchsorted(source_rows, candidates)
        nearest = np.full(candidates.size, len(passable))
        up, down = at > 0, at < source_rows.size
        nearest[up] = candidates[up] - source_rows[at[up] - 1]
        nearest[down] = np.minimum(nearest[down], np.maximum(source_rows[at[down]] - candidates[down] - 1, 0))
        if nearest.max() > 0:  # (two rows holding a start cell are no separator)
            rows.append(int(candidates[nearest.argmax()]))
    return rows


def _strips_search(search: tuple, start: np.ndarray, ring: int, rows: list[int], minutes: np.ndarray
                   ) -> tuple[int, tuple[int, int]]:
    """A whole search on two cores: the strips of padded rows between `rows` (each the first of two rows kept out of
    every strip: at -inf minutes no move improves them) searched two at a time, each from its own start cells; then
    one search from the cells within a move of those rows, at their times, finishes what crosses them. Every cell
    ends at the same minutes as one search would give it (the least over paths, whatever the order). More strips
    than cores balance the cores, as a strip's time per cell varies (it grows with roads and sources)."""
    width = minutes.shape[1]
    for row in rows:
        minutes[row:row + 2] = -np.inf
    strip = np.searchsorted(rows, start // width, side="right")  # (start is in time order, not in row order)
    parts = [start[strip == i] for i in range(len(rows) + 1)]
    found = list(_two_threads().map(lambda part: _bucket_search(search, part, ring), parts))
    edge = []
    for row in rows:
        minutes[row:row + 2] = np.inf  # (their labels stayed -1: no strip reached them)
        band = minutes[row - PAD:row + 2 + PAD]
        edge.append(np.flatnonzero(np.isfinite(band)) + (row - PAD) * width)
    edge = np.concatenate(edge)
    edge = edge[np.argsort(minutes.ravel()[edge], kind="stable")]
    found.append(_bucket_search(search, edge, ring))
    spans = [settled for _, settled in found]
    return max(sum(q for q, _ in found[:-1]), found[-1][0]), (min(s[0] for s in spans), max(s[1] for s in spans))


def label_dtype(largest: int) -> np.dtype:
    """The labels' type: int16 where the largest label fits (2 bytes a cell), else int32."""
    return np.dtype(np.int16 if largest < np.iinfo(np.int16).max else np.int32)


def _start_from(minutes: np.ndarray, label: np.ndarray, relabel: np.ndarray, t: np.ndarray, lab: np.ndarray
                ) -> tuple[int, int, int, int]:
    """Copy a previous result inside the padded t, lab (fresh arrays: their borders are set to inf, -1 here), its
    labels mapped through `relabel`; a cell whose label maps to -1 (a removed source) is cleared. Returns the
    rows and columns (first, last + 1) boxing the cleared cells. A large grid is copied in two halves of rows
    by two threads: the copy is most of a small update's time, and one core does not use the memory's bandwidth."""
    rows = minutes.shape[0]
    if minutes.size < SPLIT_CELLS:
        return _rows_from(minutes, label, relabel, t, lab, 0, rows)
    half = rows // 2
    boxes = list(_two_threads().map(lambda part: _rows_from(minutes, label, relabel, t, lab, *part), ((0, half), (half, rows))))
    return min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes)


@functools.cache
def _two_threads() -> ThreadPoolExecutor:
    """The threads that copy a previous result and search a grid's strips (their tasks never wait on each other)."""
    return ThreadPoolExecutor(2, thread_name_prefix="geo-justice-search")


os.register_at_fork(after_in_child=_two_threads.cache_clear)  # a forked child has none of the parent's threads


@njit(cache=True, nogil=True)
def _rows_from(minutes, label, relabel, t, lab, first, stop):
    """`_start_from` for the rows first:stop, with their border cells (and the border rows above the first row
    or below the last); returns their cleared cells' box."""
    rows, cols = minutes.shape
    if first == 0:
        t[:PAD], lab[:PAD] = np.inf, -1
    if stop == rows:
        t[rows + PAD:], lab[rows + PAD:] = np.inf, -1
    r0, r1, c0, c1 = rows, 0, cols, 0
    for r in range(first, stop):
        t[r + PAD, :PAD], t[r + PAD, cols + PAD:] = np.inf, np.inf
        lab[r + PAD, :PAD], lab[r + PAD, cols + PAD:] = -1, -1
        for c in range(cols):
            m, old = minutes[r, c], label[r, c]
            new = old
            if old >= 0:
                if old >= relabel.shape[0]:
                    raise ValueError("relabel has no entry for a label of the initial result")
                new = relabel[old]
                if new < 0:
                    m = np.inf
                    r0, r1, c0, c1 = min(r0, r), max(r1, r + 1), min(c0, c), max(c1, c + 1)
            t[r + PAD, c + PAD] = m
            lab[r + PAD, c + PAD] = new
    return r0, r1, c0, c1


@njit(cache=True, nogil=True)
def _cleared_frontier(label, relabel, t, pred, r0, r1, c0, c1):
    """The flat padded indices of the reached cells within two rows and columns of a cleared cell (in the box
    r0:r1, c0:c1; duplicates possible): the search restarts from them at their kept times. Clears the cleared
    cells' predecessors (pred None: none kept)."""
    width = t.shape[1]
    flat = t.ravel()
    out = [np.int64(0) for _ in range(0)]
    for r in range(r0, r1):
        for c in range(c0, c1):
            old = label[r, c]
            if old < 0 or relabel[old] >= 0:
                continue
            u = (r + PAD) * width + c + PAD
            if pred is not None:
                pred[u] = -1
            for dr in range(-PAD, PAD + 1):
                for dc in range(-PAD, PAD + 1):
                    v = u + dr * width + dc
                    if flat[v] < np.inf:
                        out.append(v)
    return np.array(out, dtype=np.int64)


def _reopen(minutes: np.ndarray, label: np.ndarray, pred: np.ndarray, predecessors: bool, invalid: np.ndarray) -> np.ndarray:
    """Clear the invalid cells (`invalid` on the grid; the other arrays padded, changed in place); returns the
    flat padded indices of the valid reached cells within one move of them (the frontier the search restarts
    from, at their kept times)."""
    rows, cols = np.divmod(np.flatnonzero(invalid), invalid.shape[1])
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    cells = (rows + PAD) * minutes.shape[1] + cols + PAD
    minutes.ravel()[cells], label.ravel()[cells] = np.inf, -1
    if predecessors:
        pred.ravel()[cells] = -1
    # only the invalid cells' bounding box plus one move is scanned: on the padded arrays it starts at the
    # grid's (r0, c0), the padding keeping it inside them
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    window = np.zeros((r1 - r0 + 2 * PAD, c1 - c0 + 2 * PAD), dtype=bool)
    window[PAD:-PAD, PAD:-PAD] = invalid[r0:r1, c0:c1]
    near = _box_dilation(window, PAD)
    r, c = np.nonzero(near & ~window & np.isfinite(minutes[r0:r0 + window.shape[0], c0:c0 + window.shape[1]]))
    return (r + r0) * minutes.shape[1] + c + c0


def _box_dilation(mask: np.ndarray, radius: int) -> np.ndarray:
    """Cells within `radius` rows and columns of a True cell (a square structuring element, applied one
    axis at a time: the same as scipy's binary_dilation with it, at a fraction of the cost)."""
    out = mask.copy()
    for axis in (0, 1):
        source = out.copy()
        for step in range(1, radius + 1):
            ahead = [slice(None)] * 2
            behind = [slice(None)] * 2
            ahead[axis], behind[axis] = slice(step, None), slice(None, -step)
            out[tuple(ahead)] |= source[tuple(behind)]
            out[tuple(behind)] |= source[tuple(ahead)]
    return out


def _padded(values: np.ndarray, fill: float, dtype) -> np.ndarray:
    """`values` with a border of `fill` PAD cells wide (a copy); a view into such an array (a search's
    result) is copied whole."""
    base = getattr(values, "base", None)
    if (isinstance(base, np.ndarray) and base.dtype == dtype and base.ndim == 2 and values.ndim == 2
            and base.shape == (values.shape[0] + 2 * PAD, values.shape[1] + 2 * PAD)
            and base[PAD:-PAD, PAD:-PAD].ctypes.data == values.ctypes.data
            and base.strides == values.strides and _border_is(base, fill)):
        return base.copy()
    return np.pad(np.asarray(values, dtype=dtype), PAD, constant_values=fill)


def _border_is(array: np.ndarray, fill: float) -> bool:
    return bool((array[:PAD] == fill).all() and (array[-PAD:] == fill).all() and (array[:, :PAD] == fill).all()
                and (array[:, -PAD:] == fill).all())


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
