"""The travel-time kernel on surfaces whose answers are known."""
from __future__ import annotations

import numpy as np
import pytest
from skimage.graph import MCP_Geometric

from geo_justice.traveltime import PAD, least_cost_path, travel_time


def distance_from(shape: tuple[int, int], row: int, col: int) -> np.ndarray:
    rows, cols = np.indices(shape)
    return np.hypot(rows - row, cols - col)


def test_eight_neighbours_reproduce_mcp_geometric():
    rng = np.random.default_rng(11)
    friction = rng.uniform(0.2, 3.0, size=(80, 90))
    friction[rng.random(friction.shape) < 0.05] = np.inf
    friction[40:42, 10:60] = np.nan
    starts = [(3, 4), (70, 80), (40, 5)]
    expected, _ = MCP_Geometric(np.nan_to_num(friction, nan=np.inf), fully_connected=True, sampling=(250.0, 250.0)).find_costs(starts)
    got = travel_time(friction, 250.0, np.array(starts), neighbours=8).minutes
    both = np.isfinite(expected) & np.isfinite(got)
    assert both.sum() > 0.9 * friction.size
    np.testing.assert_allclose(got[both], expected[both], rtol=1e-6)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected) | (got == 0))


def test_sixteen_neighbours_within_three_percent_of_straight_line():
    shape, centre = (101, 101), 50
    exact = distance_from(shape, centre, centre) * 2.0  # 2 minutes per metre, 1 m cells
    far = exact > 20.0  # more than 10 cells from the source
    error16 = np.abs(travel_time(np.full(shape, 2.0), 1.0, [[centre, centre]]).minutes / exact - 1)[far]
    error8 = np.abs(travel_time(np.full(shape, 2.0), 1.0, [[centre, centre]], neighbours=8).minutes / exact - 1)[far]
    assert error16.max() < 0.03
    assert error8.max() > 0.03  # the 8-neighbour stencil alone would fail the bound


def test_two_sources_split_at_the_bisector():
    result = travel_time(np.ones((5, 41)), 1.0, [[2, 0], [2, 40]], labels=np.array([7, 9]))
    assert (result.label[:, :20] == 7).all() and (result.label[:, 21:] == 9).all()
    assert result.minutes[2, 20] == pytest.approx(20.0)


def test_wall_with_one_gap_forces_the_detour():
    friction = np.ones((41, 41))
    friction[:, 20] = np.inf
    friction[35, 20] = 1.0  # the gap
    result = travel_time(friction, 1.0, [[20, 10]])
    detour = np.hypot(15, 10) + np.hypot(15, 10)  # source -> gap -> mirror point
    assert result.minutes[20, 30] == pytest.approx(detour, rel=0.03)
    assert result.minutes[20, 30] > 1.3 * 20


def test_knight_moves_do_not_jump_a_diagonal_wall():
    friction = np.ones((30, 30))
    for i in range(30):
        friction[i, 29 - i] = np.inf  # a one-cell-thick anti-diagonal
    assert np.isinf(travel_time(friction, 1.0, [[0, 0]]).minutes[29, 29])


def test_fast_corridor():
    friction = np.full((21, 201), 10.0)
    friction[10, :] = 1.0  # a road ten times faster
    result = travel_time(friction, 1.0, [[10, 0]])
    assert result.minutes[10, 200] == pytest.approx(200.0)
    assert result.minutes[0, 200] < 0.2 * 10.0 * np.hypot(10, 200)


def test_adding_sources_incrementally_equals_recomputing():
    rng = np.random.default_rng(5)
    for _ in range(5):
        friction = rng.uniform(0.5, 4.0, size=(60, 70))
        friction[rng.random(friction.shape) < 0.1] = np.inf
        old = rng.integers(0, (60, 70), size=(4, 2))
        new = rng.integers(0, (60, 70), size=(2, 2))
        base = travel_time(friction, 100.0, old)
        updated = travel_time(friction, 100.0, new, labels=np.array([4, 5]), initial=base)
        full = travel_time(friction, 100.0, np.vstack([old, new]))
        np.testing.assert_array_equal(updated.minutes, full.minutes)
        tie_free = updated.minutes != base.minutes
        np.testing.assert_array_equal(updated.label[tie_free], full.label[tie_free])
        assert (base.minutes == travel_time(friction, 100.0, old).minutes).all()  # the initial result is not mutated


@pytest.mark.parametrize("split", [False, True], ids=["copied-by-one-thread", "copied-by-two-threads"])
@pytest.mark.parametrize("buckets", [50_000_000, 0])
def test_removing_and_adding_sources_incrementally_equals_recomputing(monkeypatch, buckets, split):
    import geo_justice.traveltime as kernel
    monkeypatch.setattr(kernel, "MAX_BUCKETS", buckets)  # 0: the heap fallback
    monkeypatch.setattr(kernel, "SPLIT_CELLS", 0 if split else 1 << 40)  # the previous result copied in two halves
    rng = np.random.default_rng(11)
    for _ in range(5):
        friction = rng.uniform(0.5, 4.0, size=(60, 70))
        friction[rng.random(friction.shape) < 0.1] = np.inf
        sources = np.column_stack(np.unravel_index(rng.choice(60 * 70, 6, replace=False), (60, 70)))  # distinct cells
        base = travel_time(friction, 100.0, sources)
        gone = base.label == 2  # source 2 is removed; source 6 is added
        added = rng.integers(0, (60, 70), size=(1, 2))
        updated = travel_time(friction, 100.0, added, labels=np.array([6]), initial=base, invalid=gone)
        kept = np.delete(np.arange(6), 2)
        full = travel_time(friction, 100.0, np.vstack([sources[kept], added]), labels=np.append(kept, 6))
        np.testing.assert_array_equal(updated.minutes, full.minutes)
        relabelled = travel_time(friction, 100.0, added, labels=np.array([6]), initial=base,
                                 relabel=np.array([0, 1, -1, 3, 4, 5]))  # the same change, as a map of labels
        np.testing.assert_array_equal(relabelled.minutes, full.minutes)
        np.testing.assert_array_equal(relabelled.label, updated.label)
        assert (updated.label == 2).sum() == 0 and (updated.label[~gone & (updated.minutes == base.minutes)]
                                                      == base.label[~gone & (updated.minutes == base.minutes)]).all()


@pytest.mark.parametrize("split", [False, True], ids=["copied-by-one-thread", "copied-by-two-threads"])
def test_a_previous_result_is_copied_inside_an_impassable_border_with_its_labels_mapped(monkeypatch, split):
    """The copy an update starts from, into arrays full of garbage: borders inf / -1 on all four sides, every
    cell's minutes and mapped label, a removed source's cells cleared, and the box around them."""
    import geo_justice.traveltime as kernel
    monkeypatch.setattr(kernel, "SPLIT_CELLS", 0 if split else 1 << 40)
    rng = np.random.default_rng(5)
    minutes = rng.uniform(0, 100, size=(9, 7))
    label = rng.integers(-1, 3, size=(9, 7)).astype(np.int16)
    label[2, 1] = label[6, 4] = 1
    relabel = np.array([2, -1, 0])  # source 1 removed, 0 and 2 swap
    t, lab = np.full((13, 11), 7.0), np.full((13, 11), 99, dtype=np.int16)
    box = kernel._start_from(minutes, label, relabel, t, lab)
    border = np.ones((13, 11), dtype=bool)
    border[PAD:-PAD, PAD:-PAD] = False
    assert np.isinf(t[border]).all() and (lab[border] == -1).all()
    mapped = np.where(label >= 0, relabel[label], -1)
    removed = label == 1
    np.testing.assert_array_equal(lab[PAD:-PAD, PAD:-PAD], mapped)
    np.testing.assert_array_equal(t[PAD:-PAD, PAD:-PAD], np.where(removed, np.inf, minutes))
    rows, cols = np.nonzero(removed)
    assert box == (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)


def test_an_update_reports_the_rows_outside_which_nothing_changed():
    """Removing one source and adding another changes cells only within the rows the update reports (what the
    river banks are recomputed on), and on a large grid those are far fewer than all. Every other time the removed
    source is walled in: its cells then lose their time without any search reaching them."""
    rng = np.random.default_rng(3)
    for trial in range(6):
        friction = rng.uniform(0.5, 4.0, size=(300, 80))
        friction[rng.random(friction.shape) < 0.1] = np.inf
        sources = np.column_stack([np.arange(15, 300, 30), rng.integers(5, 75, 10)])
        gone = int(rng.integers(10))
        if trial % 2:
            r, c = sources[gone]
            friction[r - 5:r + 6, c - 5:c + 6] = np.inf
            friction[r - 3:r + 4, c - 3:c + 4] = 1.0
        base = travel_time(friction, 100.0, sources)
        added = np.array([[int(rng.integers(300)), int(rng.integers(80))]])
        relabel = np.delete(np.arange(10), gone)
        relabel = np.insert(relabel - (relabel > gone), gone, -1)
        updated = travel_time(friction, 100.0, added, labels=np.array([9]), initial=base, relabel=relabel)
        first, last = updated.changed_rows
        changed = np.flatnonzero(((updated.minutes != base.minutes) | (updated.label != np.where(
            base.label >= 0, relabel[base.label], -1))).any(axis=1))
        assert first <= changed.min() and changed.max() < last
        assert last - first < 200
        full = travel_time(friction, 100.0, np.vstack([np.delete(sources, gone, axis=0), added]))
        np.testing.assert_array_equal(updated.minutes, full.minutes)


def test_max_minutes_bounds_the_search():
    friction = np.random.default_rng(2).uniform(1, 2, size=(50, 50))
    full = travel_time(friction, 1.0, [[25, 25]])
    bounded = travel_time(friction, 1.0, [[25, 25]], max_minutes=15.0)
    within = full.minutes <= 15.0
    np.testing.assert_array_equal(bounded.minutes[within], full.minutes[within])
    assert np.isinf(bounded.minutes[~within]).all() and (bounded.label[~within] == -1).all()


def test_a_search_stopped_at_its_limit_leaves_the_next_search_of_the_grid_unchanged():
    """A search stopped at its limit, with cells still queued (whose labels the queue holds as -2 - label), hands
    back the labels of the full search within the limit and -1 beyond, and the searches after it are unchanged."""
    friction = np.random.default_rng(4).uniform(1, 2, size=(120, 90))
    first = travel_time(friction, 1.0, [[60, 45]])
    whole = travel_time(friction, 1.0, [[10, 10], [100, 80]])
    for limit in (5.0, 20.0, np.inf, 3.0):
        bounded = travel_time(friction, 1.0, [[10, 10], [100, 80]], max_minutes=limit)
        assert np.isfinite(bounded.minutes).sum() < friction.size or limit == np.inf
        np.testing.assert_array_equal(bounded.label, np.where(whole.minutes <= limit, whole.label, -1))
        again = travel_time(friction, 1.0, [[60, 45]])
        np.testing.assert_array_equal(again.minutes, first.minutes)
        np.testing.assert_array_equal(again.label, first.label)


def test_least_cost_path_sums_to_the_travel_time():
    rng = np.random.default_rng(9)
    friction = rng.uniform(0.5, 2.0, size=(40, 40))
    result = travel_time(friction, 10.0, [[0, 0], [39, 5]], predecessors=True)
    path = least_cost_path(result, (20, 33))
    assert tuple(path[0]) in {(0, 0), (39, 5)} and tuple(path[-1]) == (20, 33)
    total = 0.0
    for (r0, c0), (r1, c1) in zip(path[:-1], path[1:]):
        dr, dc = r1 - r0, c1 - c0
        assert max(abs(dr), abs(dc)) <= 2 and abs(dr) + abs(dc) <= 3
        step = 10.0 * np.hypot(dr, dc)
        if abs(dr) + abs(dc) == 3:
            m1 = (r0 + (np.sign(dr) if abs(dr) == 2 else 0), c0 + (np.sign(dc) if abs(dc) == 2 else 0))
            m2 = (r0 + np.sign(dr), c0 + np.sign(dc))
            total += step * (friction[r0, c0] + friction[m1] + friction[m2] + friction[r1, c1]) / 4
        else:
            total += step * (friction[r0, c0] + friction[r1, c1]) / 2
    assert total == pytest.approx(result.minutes[20, 33], rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: travel_time(np.ones(5), 1.0, [[0, 0]]), "2-D"),
    (lambda: travel_time(np.ones((5, 5)), 0.0, [[0, 0]]), "cell_size"),
    (lambda: travel_time(np.ones((5, 5)), 1.0, [[5, 0]]), "outside the grid"),
    (lambda: travel_time(np.ones((5, 5)), 1.0, [[0, 0]], neighbours=4), "neighbours"),
    (lambda: travel_time(np.ones((5, 5)), 1.0, [[0, 0]], labels=np.array([1, 2])), "one entry per source"),
    (lambda: travel_time(np.ones((5, 5)), 1.0, [[0, 0], [4, 4]], labels=np.array([0, -3])), "negative"),
    (lambda: travel_time(np.ones((5, 5)), 1.0, [[0, 0]], initial=travel_time(np.ones((5, 5)), 1.0, [[4, 4]]),
                         relabel=np.array([-2])), "relabel maps"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_heap_fallback_equals_bucket_queue(monkeypatch):
    import geo_justice.traveltime as kernel
    rng = np.random.default_rng(4)
    friction = rng.uniform(0.01, 5.0, size=(70, 60))
    friction[rng.random(friction.shape) < 0.1] = np.nan
    sources = rng.integers(0, (70, 60), size=(6, 2))
    buckets = travel_time(friction, 30.0, sources)
    monkeypatch.setattr(kernel, "MAX_BUCKETS", 0)  # as for a surface spanning too many orders of magnitude
    heap = travel_time(friction, 30.0, sources)
    np.testing.assert_array_equal(heap.minutes, buckets.minutes)
    bounded = travel_time(friction, 30.0, sources, max_minutes=100.0)
    np.testing.assert_array_equal(bounded.minutes, np.where(buckets.minutes <= 100.0, buckets.minutes, np.inf))


def serpentine(size: int) -> np.ndarray:
    """Walls on every other row, each open at one end, alternating sides: the path from the top-left
    corner zigzags through every row; one very fast cell makes the cheapest move 1,000 times cheaper."""
    friction = np.ones((size, size))
    for number, row in enumerate(range(1, size - 1, 2)):
        friction[row, :] = np.inf
        friction[row, -1 if number % 2 == 0 else 0] = 1.0
    friction[0, size // 2] = 1e-3
    return friction


def peak_growth_bytes(action) -> int:
    """How far the process's resident memory rises above its level before `action` (Linux)."""
    def status(field: str) -> int:
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
        raise RuntimeError(field)
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the high-water mark (VmHWM) to the current resident size
    before = status("VmRSS:")
    action()
    return status("VmHWM:") - before


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_a_queue_that_outgrows_its_first_chunks_gives_the_heaps_answer(monkeypatch):
    """Thousands of sources queue more cells than the bucket queue's first chunks hold: the search pauses, takes
    twice the chunks and goes on, more than once, and ends where the heap search (an independent queue) ends."""
    import geo_justice.traveltime as kernel
    rng = np.random.default_rng(11)
    friction = rng.uniform(0.2, 3.0, (300, 300))
    friction[rng.random(friction.shape) < 0.05] = np.inf
    sources = np.column_stack(np.divmod(rng.choice(friction.size, 30_000, replace=False), 300))
    buckets = travel_time(friction, 50.0, sources)
    first = kernel.FIRST_CHUNKS * kernel.CHUNK * 4  # the first chunks' bytes (int32 cells)
    assert buckets.queue_bytes > 4 * first
    monkeypatch.setattr(kernel, "MAX_BUCKETS", 0)
    heap = travel_time(friction, 50.0, sources)
    np.testing.assert_array_equal(buckets.minutes, heap.minutes)
    np.testing.assert_array_equal(buckets.label, heap.label)


def test_serpentine_with_a_fast_cell_keeps_the_queue_small(monkeypatch):
    import geo_justice.traveltime as kernel
    friction = serpentine(301)
    travel_time(friction[:8, :8], 1.0, [[0, 0]])  # compiled (or loaded) before measuring
    result: list = []
    growth = peak_growth_bytes(lambda: result.append(travel_time(friction, 1.0, [[0, 0]])))
    buckets = result[0]
    # the longest path is ~45,000 moves, 45 million cheapest moves: a bucket per cheapest move up to it
    # would take hundreds of MB; the ring holds the dearest move's worth of buckets (~2,240)
    assert growth < 12 * friction.nbytes
    # the queue's own allocation: the ring and the chunks of its stacks, which hold the wavefront (here a corridor
    # a few cells wide), not a link per cell: a small part of the friction's size
    assert 0 < buckets.queue_bytes < friction.nbytes / 4
    assert np.isfinite(buckets.minutes[np.isfinite(friction)]).all() and buckets.minutes[-1, 0] > 40_000
    eight = travel_time(friction, 1.0, [[0, 0]], neighbours=8)
    assert 0 < eight.queue_bytes < friction.nbytes / 4
    expected, _ = MCP_Geometric(friction, fully_connected=True).find_costs([(0, 0)])  # scikit-image's search
    np.testing.assert_allclose(eight.minutes, expected, rtol=1e-6)
    monkeypatch.setattr(kernel, "MAX_BUCKETS", 0)  # the heap search: an independent queue
    np.testing.assert_array_equal(travel_time(friction, 1.0, [[0, 0]]).minutes, buckets.minutes)


def test_labels_take_two_bytes_a_cell_until_they_no_longer_fit():
    """Labels are int16 (2 bytes a cell, not 4: 0.6 GiB less per answer at 100 m) while every label fits and
    int32 past 32,766; no label is cut short: each of 40,000 sources labels its own cell, and adding sources to
    an int16 answer widens it (the same minutes as one search over them all)."""
    rng = np.random.default_rng(3)
    friction = rng.uniform(0.5, 2.0, (240, 240))
    flat = rng.choice(friction.size, 40_000, replace=False)
    cells = np.column_stack(np.divmod(flat, friction.shape[1]))
    few = travel_time(friction, 1.0, cells[:100])
    assert few.label.dtype == np.int16
    many = travel_time(friction, 1.0, cells)
    assert many.label.dtype == np.int32
    np.testing.assert_array_equal(many.label[cells[:, 0], cells[:, 1]], np.arange(40_000))
    assert (many.minutes[cells[:, 0], cells[:, 1]] == 0).all()
    grown = travel_time(friction, 1.0, cells[100:], labels=np.arange(100, 40_000), initial=few)
    assert grown.label.dtype == np.int32
    np.testing.assert_array_equal(grown.label[cells[:, 0], cells[:, 1]], np.arange(40_000))
    np.testing.assert_array_equal(grown.minutes, many.minutes)


@pytest.mark.parametrize("removal", ["invalid", "relabel"])
def test_an_update_whose_frontier_a_new_source_reaches_first_labels_every_cell(removal):
    """Removing the right-hand source clears its catchment; the cells around it restart the search at their old
    minutes. A new source near the top of that frontier reaches its cells there long before their old minutes come
    round, while the frontier's middle still waits: those cells must end with the new source's label, not one held
    while queued (a regression: they kept -2 - label), as a full search over the remaining sources gives them."""
    rng = np.random.default_rng(8)
    friction = rng.uniform(0.8, 1.2, (41, 200))  # random: no two paths tie
    before = travel_time(friction, 1.0, [[20, 0], [20, 199]])
    change = {"invalid": before.label == 1} if removal == "invalid" else {"relabel": np.array([0, -1])}
    updated = travel_time(friction, 1.0, [[0, 97]], labels=[1], initial=before, **change)
    full = travel_time(friction, 1.0, [[20, 0], [0, 97]])
    np.testing.assert_array_equal(updated.minutes, full.minutes)
    np.testing.assert_array_equal(updated.label, full.label)


@pytest.mark.parametrize("neighbours", [8, 16])
@pytest.mark.parametrize("where", ["everywhere", "top rows only"])
def test_a_large_grid_searched_in_strips_on_two_cores_gives_the_heaps_answer(monkeypatch, neighbours, where):
    """A whole search of a large grid runs on two cores, strip by strip, and then across the rows between strips.
    Minutes, labels and predecessors are the heap search's (one queue over the whole grid), with sources given in no
    order of rows, with ferry crossings, and when all sources sit in the top strip (the others filled in across)."""
    import geo_justice.traveltime as kernel
    rng = np.random.default_rng(21)
    friction = rng.uniform(0.2, 3.0, (600, 400))
    friction[rng.random(friction.shape) < 0.1] = np.inf
    crossing = np.where(rng.random(friction.shape) < 0.01, 30.0, 0.0)
    rows = 600 if where == "everywhere" else 60
    sources = np.column_stack(np.divmod(rng.choice(rows * 400, 40, replace=False), 400))
    surface = kernel.prepare(friction, 50.0, crossing)
    searches = []
    monkeypatch.setattr(kernel, "_bucket_search", lambda *a, search=kernel._bucket_search: searches.append(1) or search(*a))
    monkeypatch.setattr(kernel, "SEARCH_SPLIT_CELLS", 0)
    strips = travel_time(surface, 50.0, sources, neighbours=neighbours, predecessors=True)
    assert len(searches) == kernel.STRIPS + 1  # a search per strip, and one across the rows between them
    monkeypatch.setattr(kernel, "MAX_BUCKETS", 0)
    heap = travel_time(surface, 50.0, sources, neighbours=neighbours, predecessors=True)
    np.testing.assert_array_equal(strips.minutes, heap.minutes)
    np.testing.assert_array_equal(strips.label, heap.label)
    np.testing.assert_array_equal(strips.predecessor, heap.predecessor)
