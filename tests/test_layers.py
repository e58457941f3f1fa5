"""Loaders on well-formed inputs: export formats as their publishers write them, rasters in any CRS, history."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo_justice.grid import Grid
from layers import read_boundaries, read_facilities, read_incidents, read_population
from layers.history import as_of, combine_events, facility_events, read_status_history

ACLED_COLUMNS = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,"
                 "inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,"
                 "location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp")


def test_acled_export_loads_unchanged(tmp_path):
    rows = [
        "MLI1001,2021-03-04,2021,1,Political violence,Battles,Armed clash,Militia A,,3,Military Forces,,1,13,,466,Western Africa,"
        "Mali,Mopti,Bandiagara,,Bandiagara,14.3500,-3.6104,1,Local,Subnational,\"Clash, near town\",4,,1618000000",
        "MLI1002,15 May 2022,2022,1,Political violence,Violence against civilians,Attack,Militia B,,3,Civilians (Mali),,7,37,"
        "Civilian targeting,466,Western Africa,Mali,Gao,Ansongo,,Ansongo,15.6597,0.5022,2,Local,National,Attack,0,,1652600000",
    ]
    path = tmp_path / "acled.csv"
    path.write_text(ACLED_COLUMNS + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    incidents = read_incidents(path)
    assert incidents.attrs["format"] == "acled"
    assert incidents["id"].tolist() == ["MLI1001", "MLI1002"]
    assert incidents["date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-03-04", "2022-05-15"]
    assert incidents["fatalities"].tolist() == [4, 0]
    assert incidents["actor2"].tolist() == ["Military Forces", "Civilians (Mali)"]
    assert incidents["source_dataset"].tolist() == ["acled", "acled"]
    assert incidents.geometry.x.tolist() == [-3.6104, 0.5022] and incidents.geometry.y.tolist() == [14.35, 15.6597]


def test_ucdp_ged_export_loads_unchanged(tmp_path):
    path = tmp_path / "ged.csv"
    path.write_text(
        "id,relid,year,active_year,code_status,type_of_violence,conflict_dset_id,conflict_new_id,conflict_name,dyad_dset_id,"
        "dyad_new_id,dyad_name,side_a_dset_id,side_a_new_id,side_a,side_b_dset_id,side_b_new_id,side_b,number_of_sources,"
        "source_article,source_office,source_date,source_headline,source_original,where_prec,where_coordinates,"
        "where_description,adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,country_id,region,event_clarity,"
        "date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,deaths_unknown,best,high,low,gwnoa,gwnob\n"
        "254001,MLI-2019-1-1,2019,1,Clear,3,1,1,Mali: Civilians,1,1,X - civilians,1,1,Group X,1,1,Civilians,1,,,,,,2,Mopti town,,"
        "Mopti,Mopti,14.4843,-4.18296,POINT (-4.18296 14.4843),1,Mali,432,Africa,1,1,2019-03-23 00:00:00.000,"
        "2019-03-23 00:00:00.000,0,0,12,0,12,15,10,432,\n",
        encoding="utf-8")
    incidents = read_incidents(path)
    assert incidents.attrs["format"] == "ucdp"
    row = incidents.iloc[0]
    assert (row["id"], row["event_type"], row["actor1"], row["actor2"], row["fatalities"], row["geo_precision"]) == (
        "254001", "one-sided violence", "Group X", "Civilians", 12, 2)
    assert row["date"] == pd.Timestamp("2019-03-23") and row["source_dataset"] == "ucdp"


def write_worldpop_like(path: Path, crs: str, transform, values: np.ndarray) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=-99999) as dst:
        dst.write(values.astype("float32"), 1)


@pytest.mark.parametrize("resolution", [1000.0, 250.0, 5000.0])
def test_worldpop_geotiff_total_preserved_on_any_grid(tmp_path, resolution):
    rng = np.random.default_rng(7)
    values = rng.gamma(0.5, 40.0, size=(240, 300))  # 30 arc-second cells, WorldPop's 1 km product
    values[:20, :] = -99999  # nodata stripe counts as nobody
    path = tmp_path / "mli_ppp.tif"
    write_worldpop_like(path, "EPSG:4326", from_origin(-5.0, 16.0, 1 / 120, 1 / 120), values)
    expected = values[values > 0].sum()
    grid = Grid.covering((-5.0, 14.0, -2.5, 16.0), resolution)
    people = read_population(path, dst_crs=grid.crs, dst_transform=grid.transform, dst_shape=grid.shape)
    assert people.sum() == pytest.approx(expected, rel=0.005)
    # people stay where they were: the northern nodata stripe (16.0 to 15.833 N) holds almost nobody
    lat_band = grid.rasterize(gpd.GeoSeries([shapely.box(-4.9, 15.85, -2.6, 15.98)], crs=4326), 1, all_touched=False) > 0
    assert people[lat_band].sum() < 0.001 * expected


def test_population_in_a_projected_crs(tmp_path):
    values = np.full((100, 100), 10.0)  # 10 persons per 2 km cell in UTM 30N
    path = tmp_path / "utm.tif"
    write_worldpop_like(path, "EPSG:32630", from_origin(300_000, 1_700_000, 2000, 2000), values)
    grid = Grid.covering((-4.9, 13.5, -2.9, 15.5), 1000)
    people = read_population(path, dst_crs=grid.crs, dst_transform=grid.transform, dst_shape=grid.shape)
    assert people.sum() == pytest.approx(100_000, rel=0.005)
    assert np.median(people[people > 0]) == pytest.approx(2.5, rel=0.02)  # 10 per 4 km2 -> 2.5 per km2


@pytest.mark.parametrize("resolution", [1000.0, 250.0, 37.5])
def test_grid_cells_and_bounds_agree_with_rasterio(resolution):
    """The cell holding each point (edges and corners included) and the grid's bounds, computed with the affine
    transform alone, are rasterio's `rowcol` (floor) and `array_bounds`."""
    grid = Grid.covering((-12.3, 10.1, 4.3, 25.0), resolution)
    west, south, east, north = rasterio.transform.array_bounds(*grid.shape, grid.transform)
    assert grid.bounds == (west, south, east, north)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(west - 1e4, east + 1e4, 50_000), west + resolution * np.arange(-3, 60)])
    y = np.concatenate([rng.uniform(south - 1e4, north + 1e4, 50_000), north - resolution * np.arange(-3, 60)])
    rows, cols, inside = grid.cells(gpd.GeoSeries(gpd.points_from_xy(x, y), crs=grid.crs))
    expected_rows, expected_cols = rasterio.transform.rowcol(grid.transform, x, y, op=np.floor)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(cols, expected_cols)
    expected_inside = (expected_rows >= 0) & (expected_rows < grid.shape[0]) & (expected_cols >= 0) & (expected_cols < grid.shape[1])
    np.testing.assert_array_equal(inside, expected_inside)


def test_official_boundaries_load(adm1, adm2):
    regions = read_boundaries(adm1, "shapeName")
    cercles = read_boundaries(adm2, "shapeName")
    assert len(regions) == 9 and len(cercles) == 50
    assert {"Tombouctou", "Gao", "Kidal", "Mopti", "Bamako"} <= set(regions["name"])
    area_km2 = regions.to_crs("+proj=laea +lat_0=17 +lon_0=-4").area.sum() / 1e6
    assert area_km2 == pytest.approx(1_254_000, rel=0.01)


def test_status_as_of_follows_history(tmp_path):
    facilities = tmp_path / "courts.csv"
    facilities.write_text(
        "id,name,tier,region,status,status_as_of,status_source,lon,lat,sitting_name,sitting_lon,sitting_lat,sitting_since,sitting_source\n"
        "c1,Tribunal de Bourem,ti,Gao,operational,2023-11-17,UN 2023,-0.3486,16.955,Gao,-0.0447,16.2717,2016-06-01,UN 2016\n",
        encoding="utf-8")
    history = tmp_path / "history.csv"
    history.write_text("facility_id,as_of,status,sitting_name,sitting_lon,sitting_lat,source,note\n"
                       "c1,2012-04-01,closed,,,,UN 2013,\n"
                       "c1,2014-02-01,operational,,,,UN 2014,\n",
                       encoding="utf-8")
    courts = read_facilities(facilities, "court")
    events = combine_events(read_status_history(history, facility_ids={"c1"}), facility_events(courts))
    state = lambda date: as_of(courts, events, date).iloc[0]  # noqa: E731
    assert state("2011-12-31")["status"] == "unknown"
    assert (state("2012-04-01")["status"], state("2012-04-01")["status_source"]) == ("closed", "UN 2013")
    assert (state("2015-01-01")["status"], state("2015-01-01")["sitting_name"]) == ("operational", "")
    later = state("2017-01-01")
    assert (later["status"], later["sitting_name"], later["sitting_source"]) == ("operational", "Gao", "UN 2016")
    assert later["sitting_since"] == pd.Timestamp("2016-06-01")
    assert state("2023-11-17")["status_source"] == "UN 2023"
