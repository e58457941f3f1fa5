"""The access engine on a toy area whose answers can be checked by hand (12 min/km off-road, 1 min/km on roads)."""
from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_justice.access import AccessParams, Engine
from geo_justice.catchments import catchment_statistics
from geo_justice.conflict import ConflictParams
from geo_justice.coverage import coverage_table
from geo_justice.gaps import gap_hotspots
from layers import load_dataset

from .toy import COURTS, cell_of, km_between, lines, make_dataset, points

OFFROAD_MIN_PER_KM = 12.0
CALM = AccessParams(conflict=ConflictParams(mode="off"))


def engine(tmp_path, **layers) -> Engine:
    return Engine(load_dataset(make_dataset(tmp_path / "toy", **layers)))


def test_population_conserved_across_catchments(tmp_path):
    access = engine(tmp_path).access(CALM)
    stats = catchment_statistics(access, (60,))
    unreached = access.population[access.label < 0].sum()
    assert stats["population"].sum() + unreached == pytest.approx(access.population.sum(), rel=1e-12)
    area_km2 = gpd.GeoSeries([shapely.box(0, 10, 2, 12)], crs=4326).to_crs(access.grid.crs).area.iloc[0] / 1e6
    assert access.population.sum() == pytest.approx(10 * area_km2, rel=0.005)  # 10 persons per km2


def test_catchment_border_lies_on_the_bisector(tmp_path):
    access = engine(tmp_path).access(CALM)
    assert access.facilities["id"].tolist() == ["west", "east"]  # north is closed
    seats = access.facilities.geometry.to_crs(access.grid.crs)
    rows, cols = np.indices(access.grid.shape)
    xs, ys = access.grid.centres(rows.ravel(), cols.ravel())
    to_west = np.hypot(xs - seats.iloc[0].x, ys - seats.iloc[0].y)
    to_east = np.hypot(xs - seats.iloc[1].x, ys - seats.iloc[1].y)
    clear = np.abs(to_west - to_east) > 2000  # away from the border by more than two cells
    west, east = access.facilities["site"]
    expected = np.where(to_west < to_east, west, east)
    assert (access.label.ravel()[clear] == expected[clear]).all()


def test_uniform_travel_time_is_distance_over_speed(tmp_path):
    access = engine(tmp_path).access(CALM)
    for lon, lat in ((0.5, 11.4), (0.2, 10.7), (0.9, 11.3)):
        km = km_between(access.grid, (0.5, 11.0), (lon, lat))
        assert access.minutes[cell_of(access.grid, lon, lat)] == pytest.approx(km * OFFROAD_MIN_PER_KM, rel=0.03)


def test_road_corridor_is_faster_than_off_road(tmp_path):
    road = lines([(0.5, 11.0), (0.5, 10.2)], **{"class": ["primary"]})
    access = engine(tmp_path, roads=road).access(CALM)
    km = km_between(access.grid, (0.5, 11.0), (0.5, 10.3))
    on_road = access.minutes[cell_of(access.grid, 0.5, 10.3)]
    assert on_road == pytest.approx(km * 1.0, rel=0.05)  # 60 km/h
    off_road = access.minutes[cell_of(access.grid, 0.3, 10.6)]
    assert off_road > 5 * access.minutes[cell_of(access.grid, 0.5, 10.6)]


def test_barrier_is_routed_around_at_the_crossing(tmp_path):
    west_only = [c for c in COURTS if c[0] == "west"]
    river = lines([(0.8, 10.0), (0.8, 12.0)], name=["river"])
    bridge = points((0.8, 10.4), name=["bridge"], kind=["bridge"], source=["test"])
    access = engine(tmp_path, courts=west_only, barriers=river, crossings=bridge).access(CALM)
    target = (0.9, 11.0)
    detour = km_between(access.grid, (0.5, 11.0), (0.8, 10.4)) + km_between(access.grid, (0.8, 10.4), target)
    straight = km_between(access.grid, (0.5, 11.0), target)
    minutes = access.minutes[cell_of(access.grid, *target)]
    assert minutes == pytest.approx(detour * OFFROAD_MIN_PER_KM, rel=0.03)
    assert minutes > 1.5 * straight * OFFROAD_MIN_PER_KM

    no_bridge = engine(tmp_path / "closed", courts=west_only, barriers=river).access(CALM)
    assert np.isinf(no_bridge.minutes[cell_of(no_bridge.grid, *target)])
    assert no_bridge.label[cell_of(no_bridge.grid, *target)] == -1


def test_as_of_dates_switch_a_court_on_and_off(tmp_path):
    history = "".join(f"{c},2010-01-01,operational,,,,test,\n" for c in ("west", "east", "north"))
    eng = engine(tmp_path, history=history)
    before, after = eng.access(replace(CALM, as_of="2019-06-01")), eng.access(replace(CALM, as_of="2023-11-17"))
    north = cell_of(before.grid, 1.0, 11.8)
    assert before.minutes[north] == 0
    km = min(km_between(before.grid, (1.0, 11.8), seat) for seat in ((0.5, 11.0), (1.5, 11.0)))
    assert after.minutes[north] == pytest.approx(km * OFFROAD_MIN_PER_KM, rel=0.03)
    # in 2019 every court worked at its seat: actual equals nominal exactly
    nominal = eng.access(replace(CALM, as_of="2019-06-01", mode="nominal"))
    np.testing.assert_array_equal(before.minutes, nominal.minutes)
    # closing north in 2023 loses exactly the people it alone brought within 120 minutes
    lost = before.population[(before.minutes <= 120) & (after.minutes > 120)].sum()
    table = coverage_table(nominal, after, eng.regions(after.grid), (120,))
    assert table.loc[table.region == "All", "lost_120"].iloc[0] == pytest.approx(lost, rel=1e-9)
    assert lost > 0


def test_relocated_court_counts_at_its_sitting_place(tmp_path):
    history = "east,2016-01-01,,Refuge,0.7,11.5,test,relocated\n"
    eng = engine(tmp_path, history=history)
    actual, nominal = eng.access(CALM), eng.access(replace(CALM, mode="nominal"))
    assert actual.facilities.set_index("id").loc["east", "counted_at"] == "sitting place"
    assert actual.minutes[cell_of(actual.grid, 0.7, 11.5)] == 0
    assert nominal.minutes[cell_of(nominal.grid, 1.5, 11.0)] == 0
    assert actual.minutes[cell_of(actual.grid, 1.5, 11.0)] > 60


def test_tier_filter(tmp_path):
    access = engine(tmp_path).access(replace(CALM, tiers=("tgi",)))
    assert access.facilities["id"].tolist() == ["west"]
    km = km_between(access.grid, (0.5, 11.0), (1.5, 11.0))
    assert access.minutes[cell_of(access.grid, 1.5, 11.0)] == pytest.approx(km * OFFROAD_MIN_PER_KM, rel=0.03)


def incidents_near(lon: float, lat: float, n: int, date: str = "2023-10-01") -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    frame = points(*zip(lon + rng.normal(0, 0.05, n), lat + rng.normal(0, 0.05, n)))
    frame["id"] = [f"i{i}" for i in range(n)]
    frame["date"], frame["event_type"], frame["fatalities"] = date, "Battles", 2
    return frame


def test_conflict_penalty_lowers_coverage_monotonically(tmp_path):
    eng = engine(tmp_path, incidents=incidents_near(1.5, 11.0, 200))
    covered = []
    for penalty in (0.0, 0.5, 1.0, 2.0, 4.0):
        access = eng.access(replace(CALM, conflict=ConflictParams(mode="penalty", penalty=penalty)))
        covered.append(access.population[access.minutes <= 240].sum())
    assert all(a >= b for a, b in zip(covered, covered[1:]))
    assert covered[-1] < 0.9 * covered[0]
    avoid = eng.access(replace(CALM, conflict=ConflictParams(mode="avoid")))
    assert avoid.population[avoid.minutes <= 240].sum() < covered[0]
    assert avoid.risk.values().max() > ConflictParams().avoid_risk


def test_incidents_outside_the_window_do_not_count(tmp_path):
    eng = engine(tmp_path, incidents=incidents_near(1.5, 11.0, 200, date="2020-01-01"))
    calm, old = eng.access(CALM), eng.access(replace(CALM, conflict=ConflictParams(mode="penalty")))
    np.testing.assert_array_equal(calm.minutes, old.minutes)


def test_gap_hotspot_population_and_name(tmp_path):
    folder = make_dataset(tmp_path / "toy")
    pd.DataFrame({"name": ["Farville", "Nearby"], "population": [5000, 100], "lon": [1.9, 1.8], "lat": [10.1, 10.15]}).to_csv(
        folder / "settlements.csv", index=False)
    manifest = (folder / "dataset.json").read_text()
    (folder / "dataset.json").write_text(manifest.replace('"layers": {', '"layers": {"settlements": {"path": "settlements.csv"}, '))
    eng = Engine(load_dataset(folder))
    access = eng.access(CALM)
    hotspots = gap_hotspots(access, 600, eng.dataset.settlements, min_density=5)  # the toy has 10 per km²
    assert gap_hotspots(access, 600, eng.dataset.settlements, min_density=20).empty
    beyond = access.population[access.minutes > 600].sum()
    assert hotspots["population"].sum() == pytest.approx(beyond, rel=1e-9)
    assert hotspots["rank"].iloc[0] == 1 and hotspots["name"].iloc[0] == "Farville"


def test_same_question_is_not_recomputed(tmp_path):
    eng = engine(tmp_path)
    assert eng.access(CALM) is eng.access(replace(CALM))
    assert eng.access(CALM) is not eng.access(replace(CALM, as_of="2020-01-01"))
