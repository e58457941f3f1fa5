"""The parsed-dataset cache: a second load of the same files gives the same dataset; any change is seen."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from layers.catalog import load_dataset, parse_dataset

from .conftest import ROOT


def assert_same(a, b) -> None:
    assert a.versions == b.versions and a.study_area == b.study_area and a.licences == b.licences
    for name in ("courts", "prisons", "events", "incidents", "roads", "settlements", "country"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_second_load_comes_from_the_cache_and_equals_a_fresh_parse(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    first = load_dataset(data)
    assert len(list((tmp_path / "cache").glob("dataset-*.pickle"))) == 1
    second = load_dataset(data)
    assert_same(second, parse_dataset(data / "dataset.json"))
    assert_same(second, first)


def test_a_changed_layer_file_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    before = load_dataset(data)
    courts = data / "courts.csv"
    old_name = before.courts["name"].iat[0]
    courts.write_text(courts.read_text(encoding="utf-8").replace(old_name, "Renamed court", 1), encoding="utf-8")
    after = load_dataset(data)
    assert after.courts["name"].iat[0] == "Renamed court"
    assert after.versions["courts"] != before.versions["courts"] and after.version != before.version
    assert len(list((tmp_path / "cache").glob("dataset-*.pickle"))) == 2


def test_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_JUSTICE_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert load_dataset(ROOT / "data").courts.shape[0] > 0
    assert not any(tmp_path.iterdir())


def test_an_entry_pruned_by_another_process_while_read_still_loads(tmp_path, monkeypatch):
    """Processes share the cache folder and each prunes it: an entry removed between reading and marking it used
    (seen with two test workers and other processes) still gives the dataset read."""
    import pickle

    from layers import parsed

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    first = load_dataset(data)
    (entry,) = (tmp_path / "cache").glob("dataset-*.pickle")
    real_load = pickle.load

    def load_then_prune(handle):
        value = real_load(handle)
        entry.unlink()  # what another process's pruning does
        return value
    monkeypatch.setattr(parsed.pickle, "load", load_then_prune)
    assert_same(load_dataset(data), first)


def population_builds(monkeypatch) -> list[int]:
    """Counts resamplings of the population raster (each `Engine.population` that did not come from disk)."""
    from geo_justice import access

    calls: list[int] = []
    real = access.read_population

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(access, "read_population", counted)
    return calls


def test_population_on_a_grid_is_read_back_by_a_later_engine_and_equals_a_fresh_build(dataset, tmp_path, monkeypatch):
    from geo_justice.access import Engine

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    builds = population_builds(monkeypatch)
    engine = Engine(dataset)
    grid = engine.grid(5000.0)
    first = engine.population(grid)
    assert len(builds) == 1 and len(list((tmp_path / "cache" / "grids").glob("*.npy"))) == 2  # and the country mask
    later = Engine(dataset).population(grid)  # what a later process does: a new engine, the same folder
    assert len(builds) == 1
    monkeypatch.setenv("GEO_JUSTICE_CACHE", "off")
    fresh = Engine(dataset).population(grid)
    assert len(builds) == 2
    assert np.array_equal(later, fresh) and np.array_equal(first, fresh)
    assert later.sum() > 1e6


def test_a_changed_population_raster_or_a_damaged_entry_is_built_again(tmp_path, monkeypatch):
    import rasterio

    from geo_justice.access import Engine

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    builds = population_builds(monkeypatch)
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    engine = Engine(load_dataset(data))
    grid = engine.grid(5000.0)
    before = engine.population(grid)
    for entry in (tmp_path / "cache" / "grids").glob("*.npy"):  # the population and the country mask
        entry.write_bytes(entry.read_bytes()[:1000])  # cut short, as by a full disk
    assert np.array_equal(Engine(load_dataset(data)).population(grid), before) and len(builds) == 2
    with rasterio.open(engine.dataset.population_path, "r+") as src:  # move people from one cell to the next
        band = src.read(1)
        row, col = np.unravel_index(np.argmax(band), band.shape)
        band[row, col + 1] += band[row, col]
        band[row, col] = 0
        src.write(band, 1)
    after = Engine(load_dataset(data)).population(grid)
    assert len(builds) == 3 and len(list((tmp_path / "cache" / "grids").glob("*.npy"))) == 3  # two populations, one mask
    assert after.sum() == pytest.approx(before.sum()) and not np.array_equal(after, before)


def test_base_friction_country_mask_and_regions_are_read_back_by_a_later_engine(dataset, tmp_path, monkeypatch):
    """What a later process reads back instead of burning roads, barriers and boundaries equals a fresh build,
    the ferries' waits (the crossing minutes, kept as their few non-zero cells) included."""
    from geo_justice import grid
    from geo_justice.access import AccessParams, Engine

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    params = AccessParams().friction

    def layers(engine: Engine, at: grid.Grid):
        return engine.base_friction(at, params), engine.inside(at), engine.regions(at)
    at = Engine(dataset).grid(5000.0)
    first = layers(Engine(dataset), at)
    burns = []
    real = grid.Grid.rasterize
    monkeypatch.setattr(grid.Grid, "rasterize", lambda *args, **kwargs: burns.append(1) or real(*args, **kwargs))
    later = layers(Engine(dataset), at)  # a new engine, the same folder: what a later process does
    assert burns == []
    monkeypatch.setenv("GEO_JUSTICE_CACHE", "off")
    fresh = layers(Engine(dataset), at)
    assert len(burns) >= 4  # roads, barriers, the country, the boundaries
    for base in (first[0], later[0]):
        np.testing.assert_array_equal(base.codes, fresh[0].codes)
        np.testing.assert_array_equal(base.table, fresh[0].table)
        np.testing.assert_array_equal(base.crossing, fresh[0].crossing)
    assert (fresh[0].crossing == 60).sum() >= 1  # a ferry's hour of waiting survives the round trip
    for mine in (first, later):
        np.testing.assert_array_equal(mine[1], fresh[1])
        np.testing.assert_array_equal(mine[2].index, fresh[2].index)
        assert mine[2].names == fresh[2].names and mine[2].index.dtype == fresh[2].index.dtype


def test_road_speeds_changed_in_the_manifest_give_a_new_base_friction_from_a_warm_cache(tmp_path, monkeypatch):
    """The grid cache is keyed by each layer's version: the same roads file read with other speeds (dataset.json's
    `speeds_kmh`) is another version, so the roads are burnt again with the new speeds, not read back stale."""
    import json

    from geo_justice.access import AccessParams, Engine
    from geo_justice.friction import minutes_per_metre

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    params = AccessParams().friction
    before = Engine(load_dataset(data))
    grid = before.grid(10_000.0)
    old = before.base_friction(grid, params)
    manifest = json.loads((data / "dataset.json").read_text())
    roads = before.dataset.roads
    fastest = roads["road_class"].iloc[int(np.argmax(roads["speed_kmh"]))]
    manifest["layers"]["roads"]["speeds_kmh"] = {fastest: 100}
    (data / "dataset.json").write_text(json.dumps(manifest))
    after = Engine(load_dataset(data))
    assert after.dataset.versions["roads"] != before.dataset.versions["roads"]
    new = after.base_friction(grid, params)
    assert minutes_per_metre(100.0) in new.table and minutes_per_metre(100.0) not in old.table
    assert (new[...] < old[...]).sum() > 0 and (new[...] <= old[...]).all()


def test_the_grid_cache_keeps_the_newest_grids_within_its_byte_budget(tmp_path, monkeypatch):
    import time

    from geo_justice import grid_cache

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path))
    monkeypatch.setattr(grid_cache, "KEEP_BYTES", 2 * 8128 + 100)  # two .npy files of 1,000 float64 (8,000 bytes + header)
    for i in range(3):
        grid_cache.load_or_build(("test", i), lambda i=i: np.full(1000, float(i)))
        time.sleep(0.02)  # distinct modification times
    assert sorted(f.stat().st_size for f in (tmp_path / "grids").glob("*.npy")) == [8128, 8128]

    def must_not_build():
        raise AssertionError("built again")
    assert [grid_cache.load_or_build(("test", i), must_not_build)[0] for i in (1, 2)] == [1.0, 2.0]
    rebuilt = []
    grid_cache.load_or_build(("test", 0), lambda: rebuilt.append(0) or np.zeros(1000))
    assert rebuilt == [0]  # the oldest went first


def test_a_timeline_finds_all_twelve_years_of_population_on_a_second_run(dataset, tmp_path, monkeypatch):
    """A monthly timeline 2012-2023 asks for 12 years of population on its grid; kept on disk, a second run
    (a new engine, as a new process) builds none of them again and reads back what a fresh build gives."""
    from geo_justice import grid_cache
    from geo_justice.access import Engine

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    years = [f"{year}-06-30" for year in range(2012, 2024)]
    grid = Engine(dataset).grid(20_000)
    first = [Engine(dataset).population(grid, as_of) for as_of in years]
    assert len({round(float(p.sum())) for p in first}) == len(years)  # one population a year

    def must_not_build(key, build):
        raise AssertionError(f"built again: {key}")
    builds = grid_cache.load_or_build
    monkeypatch.setattr(grid_cache, "load_or_build", lambda key, build: builds(key, lambda: must_not_build(key, build)))
    again = [Engine(dataset).population(grid, as_of) for as_of in years]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_sources_moved_off_barriers_are_read_back_by_a_later_engine(dataset, tmp_path, monkeypatch):
    """Courts whose cell a barrier (the Niger at 1 km) covers move to the passable cell scipy's distance transform
    of the whole grid picks; a later process (a new engine, the same folder) reads those cells back from disk
    without moving any again."""
    from scipy.ndimage import distance_transform_edt

    from geo_justice import access
    from geo_justice.access import AccessParams, Engine

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    moves = []
    real = access.nearest_passable
    monkeypatch.setattr(access, "nearest_passable", lambda *args: moves.append(args[1:]) or real(*args))
    params = AccessParams().friction
    engine = Engine(dataset)
    grid = engine.grid(1000.0)
    first = engine.sources(grid, dataset.courts, params)
    assert len(moves) >= 1
    base = engine.base_friction(grid, params)
    near_r, near_c = distance_transform_edt(base.codes == base.impassable, return_distances=False, return_indices=True)
    rows, cols, _ = grid.cells(dataset.courts.geometry)
    expected = np.column_stack([near_r[rows, cols], near_c[rows, cols]])
    assert np.array_equal(first, expected) and (first != np.column_stack([rows, cols])).any()
    moved = len(moves)
    again = Engine(dataset).sources(grid, dataset.courts, params)
    assert len(moves) == moved and np.array_equal(again, first)
