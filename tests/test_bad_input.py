"""A catalogue of bad inputs: each loader names the file, the row or feature, the field and the problem."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from layers import (LayerError, read_barriers, read_boundaries, read_crossings, read_facilities, read_incidents,
                    read_population, read_roads, read_status_history)
from layers.population import read_population_raster

MALI = (-12.3, 10.1, 4.3, 25.1)
HEADER = "id,name,tier,region,status,status_as_of,status_source,lon,lat\n"
GOOD = "ml-tgi-gao,TGI de Gao,tgi,Gao,operational,2023-11-17,assumed,-0.0447,16.2717\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def problems(call) -> list[str]:
    with pytest.raises(LayerError) as info:
        call()
    return [str(p) for p in info.value.problems]


def courts(path: Path):
    return lambda: read_facilities(path, "court", study_area=MALI)


def test_empty_file(tmp_path):
    assert problems(courts(write(tmp_path, "courts.csv", ""))) == ["courts.csv: file is empty"]


def test_non_utf8_text(tmp_path):
    path = write(tmp_path, "courts.csv", (HEADER + GOOD + "ml-ti-dire,Tribunal de Diré,ti,Tombouctou,partial,2023-11-17,assumed,-3.4,16.26\n").encode("latin-1"))
    assert problems(courts(path)) == ["courts.csv: line 3: not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_truncated_geojson(tmp_path):
    text = json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "a"},
                       "geometry": {"type": "Point", "coordinates": [-3.0, 16.7]}}]})
    [message] = problems(courts(write(tmp_path, "courts.geojson", text[: len(text) // 2])))
    assert message.startswith("courts.geojson: cannot be read as a vector file")


def test_missing_column(tmp_path):
    path = write(tmp_path, "courts.csv", "id,name,tier,region,status,status_as_of,lon,lat\na,A,tgi,Gao,closed,2020-01-01,0,16\n")
    assert problems(courts(path)) == ["courts.csv: field 'status_source': required column is missing"]


def test_projected_coordinates_declared_as_degrees(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + "a,A,tgi,Gao,closed,2020-01-01,assumed,610000,1800000\n")
    assert problems(courts(path)) == [
        "courts.csv: line 2 (id a): field 'geometry': (610000, 1.8e+06) is not a longitude/latitude in degrees: wrong CRS?"]


def test_swapped_lat_lon(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + GOOD + "b,B,ti,Gao,closed,2020-01-01,assumed,16.2717,-0.0447\n")
    assert problems(courts(path)) == [
        "courts.csv: line 3 (id b): field 'geometry': lon 16.2717, lat -0.0447 lies outside the study area but fits it "
        "swapped: latitude and longitude swapped?"]


def test_bad_date(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + "a,A,tgi,Gao,closed,2023-02-30,assumed,0,16\n")
    assert problems(courts(path)) == ["courts.csv: line 2 (id a): field 'status_as_of': not a date: '2023-02-30' (expected YYYY-MM-DD)"]


def test_duplicate_id(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + GOOD + GOOD.replace("TGI de Gao", "Autre"))
    assert problems(courts(path)) == ["courts.csv: field 'id': duplicate id 'ml-tgi-gao' at line 2, line 3"]


def test_unknown_status(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + GOOD.replace("operational", "open"))
    assert problems(courts(path)) == [
        "courts.csv: line 2 (id ml-tgi-gao): field 'status': unknown value 'open'; expected one of closed, operational, partial, unknown"]


def test_unknown_tier(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + GOOD.replace(",tgi,", ",supreme,"))
    [message] = problems(courts(path))
    assert message.startswith("courts.csv: line 2 (id ml-tgi-gao): field 'tier': unknown value 'supreme'; expected one of appeal")


def test_status_without_source(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + GOOD.replace(",assumed,", ",,"))
    assert problems(courts(path)) == ["courts.csv: line 2 (id ml-tgi-gao): field 'status_source': missing value"]


def test_incomplete_sitting_place(tmp_path):
    header = HEADER.strip() + ",sitting_name,sitting_lon,sitting_lat,sitting_since,sitting_source\n"
    path = write(tmp_path, "courts.csv", header + GOOD.strip() + ",Gao,-0.04,16.27,,\n")
    assert problems(courts(path)) == [
        f"courts.csv: line 2 (id ml-tgi-gao): field '{f}': a sitting place needs sitting_name, sitting_lon, sitting_lat, "
        "sitting_since and sitting_source" for f in ("sitting_since", "sitting_source")]


def test_every_problem_of_a_file_is_listed(tmp_path):
    path = write(tmp_path, "courts.csv", HEADER + "a,,tgi,Gao,open,yesterday,assumed,x,16\n" + GOOD + GOOD)
    found = problems(courts(path))
    assert len(found) == 5
    for fragment in ("line 2 (id a): field 'name': missing value", "line 2 (id a): field 'status': unknown value 'open'",
                     "line 2 (id a): field 'status_as_of': not a date: 'yesterday'", "line 2 (id a): field 'lon': not a number: 'x'",
                     "field 'id': duplicate id 'ml-tgi-gao' at line 3, line 4"):
        assert any(fragment in message for message in found), fragment


def test_shapefile_without_crs(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(-1, 15, 0, 16)])
    path = tmp_path / "units.shp"
    frame.to_file(path)
    assert problems(lambda: read_boundaries(path, "name")) == [
        "units.shp: has no CRS: declare it (e.g. crs='EPSG:4326' or --crs)"]
    assert len(read_boundaries(path, "name", crs="EPSG:4326")) == 1


def test_polygon_that_cannot_be_repaired(tmp_path):
    flat = shapely.Polygon([(-1, 15), (0, 15), (1, 15), (-1, 15)])  # zero area
    gpd.GeoDataFrame({"name": ["Flat"]}, geometry=[flat], crs=4326).to_file(tmp_path / "flat.geojson")
    [message] = problems(lambda: read_boundaries(tmp_path / "flat.geojson", "name"))
    assert message.startswith("flat.geojson: feature 0: field 'geometry': invalid polygon that cannot be repaired")


def test_self_intersecting_polygon_is_repaired_and_said(tmp_path):
    bowtie = shapely.Polygon([(-2, 14), (0, 16), (0, 14), (-2, 16), (-2, 14)])
    gpd.GeoDataFrame({"name": ["Bowtie"]}, geometry=[bowtie], crs=4326).to_file(tmp_path / "bowtie.geojson")
    units = read_boundaries(tmp_path / "bowtie.geojson", "name")
    assert units.geometry.iloc[0].is_valid and units.geometry.iloc[0].area == pytest.approx(2.0)
    assert units.attrs["notes"] == ["bowtie.geojson: feature 0: field 'geometry': invalid polygon repaired with make_valid "
                                    "(Self-intersection[-1 15])"]


def test_points_given_as_boundaries(tmp_path):
    gpd.GeoDataFrame({"name": ["Gao"]}, geometry=[shapely.Point(0, 16)], crs=4326).to_file(tmp_path / "pts.geojson")
    assert problems(lambda: read_boundaries(tmp_path / "pts.geojson", "name")) == [
        "pts.geojson: feature 0: field 'geometry': expected a Polygon or MultiPolygon, got Point"]


ACLED_HEADER = "event_id_cnty,event_date,event_type,sub_event_type,actor1,actor2,latitude,longitude,geo_precision,fatalities\n"


def test_acled_bad_fatalities(tmp_path):
    path = write(tmp_path, "acled.csv", ACLED_HEADER
                 + "MLI1,2023-01-02,Battles,Armed clash,A,B,14.5,-4.2,1,many\n"
                 + "MLI2,2023-01-03,Battles,Armed clash,A,B,14.5,-4.2,1,-2\n")
    assert problems(lambda: read_incidents(path)) == [
        "acled.csv: line 2 (id MLI1): field 'fatalities': not a number: 'many'",
        "acled.csv: line 3 (id MLI2): field 'fatalities': -2 is below 0"]


def test_ucdp_missing_required_column(tmp_path):
    path = write(tmp_path, "ged.csv", "id,date_start,type_of_violence,side_a,side_b,latitude,longitude,where_prec\n"
                                      "1,2020-01-01,1,A,B,14,-4,1\n")
    assert problems(lambda: read_incidents(path)) == ["ged.csv: field 'best': required column is missing"]


def test_road_class_without_a_speed(tmp_path):
    roads = gpd.GeoDataFrame({"class": ["primary", "hovercraft"]},
                             geometry=[shapely.LineString([(-8, 12.6), (-6.3, 13.4)]), shapely.LineString([(0, 16), (1, 17)])], crs=4326)
    roads.to_file(tmp_path / "roads.geojson")
    assert problems(lambda: read_roads(tmp_path / "roads.geojson")) == [
        "roads.geojson: feature 1: field 'class': road class 'hovercraft' has no speed: give it one in speeds_kmh "
        "(dataset.json) or --speed hovercraft=KMH"]
    assert problems(lambda: read_roads(tmp_path / "roads.geojson", speeds_kmh={"hovercraft": "fast"})) == [
        "roads.geojson: field 'speeds_kmh': speed of road class 'hovercraft' must be a number of km/h from 0 to 300, not 'fast'",
        "roads.geojson: feature 1: field 'class': road class 'hovercraft' has no speed: give it one in speeds_kmh "
        "(dataset.json) or --speed hovercraft=KMH"]


def test_barrier_that_is_not_a_line_or_polygon(tmp_path):
    barriers = gpd.GeoDataFrame({"name": ["Niger", "a well"]},
                                geometry=[shapely.LineString([(-8, 12.6), (-6.3, 13.4)]), shapely.Point(-5, 14)], crs=4326)
    barriers.to_file(tmp_path / "rivers.geojson")
    assert problems(lambda: read_barriers(tmp_path / "rivers.geojson")) == [
        "rivers.geojson: feature 1: field 'geometry': a barrier is a line (river, border) or a polygon (lake), not a Point"]


CROSSINGS = "id,name,kind,lon,lat,wait_minutes,source\n"


def test_crossing_far_from_any_barrier_and_a_ferry_without_its_wait(tmp_path):
    river = gpd.GeoDataFrame({"name": ["Niger"]}, geometry=[shapely.LineString([(-8, 12.0), (-8, 14.0)])], crs=4326)
    path = write(tmp_path, "crossings.csv", CROSSINGS + "near,Bridge,bridge,-8.01,13.0,,test\n"
                                                         "far,Ferry,ferry,-8.03,13.0,20,test\n"
                                                         "nowait,Ferry 2,ferry,-8.0,12.5,,test\n"
                                                         "odd,Ford,ford,-8.0,12.7,,test\n")
    assert problems(lambda: read_crossings(path, study_area=MALI, barriers=river)) == [
        "crossings.csv: line 5 (id odd): field 'kind': unknown value 'ford'; expected one of bridge, dam, ferry",
        "crossings.csv: line 4 (id nowait): field 'wait_minutes': a ferry needs its waiting time in minutes"]
    fixed = write(tmp_path, "fixed.csv", CROSSINGS + "near,Bridge,bridge,-8.01,13.0,,test\nfar,Ferry,ferry,-8.03,13.0,20,test\n")
    assert problems(lambda: read_crossings(fixed, study_area=MALI, barriers=river)) == [
        "fixed.csv: line 3 (id far): field 'geometry': 3.3 km from the nearest barrier; a crossing must lie within 2 km of a river or lake"]
    assert len(read_crossings(fixed, study_area=MALI)) == 2  # without barriers only the fields are checked


def test_history_event_for_unknown_facility(tmp_path):
    path = write(tmp_path, "history.csv", "facility_id,as_of,status,source\nml-ti-nowhere,2015-01-01,closed,assumed\n")
    assert problems(lambda: read_status_history(path, facility_ids={"ml-tgi-gao"})) == [
        "history.csv: line 2 (id ml-ti-nowhere): field 'facility_id': no facility has id 'ml-ti-nowhere'"]


def test_population_raster_without_crs(tmp_path):
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=from_origin(-5, 16, 0.1, 0.1)) as dst:
        dst.write(np.ones((1, 4, 4), dtype="float32"))
    assert problems(lambda: read_population_raster(path)) == ["pop.tif: raster has no CRS: declare it (e.g. crs='EPSG:4326' or --crs)"]


def test_population_negative_counts(tmp_path):
    path = tmp_path / "pop.tif"
    values = np.ones((1, 4, 4), dtype="float32")
    values[0, 1, 2] = -3
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(-5, 16, 0.1, 0.1)) as dst:
        dst.write(values)
    assert problems(lambda: read_population(path, dst_crs="EPSG:4326", dst_transform=from_origin(-5, 16, 0.1, 0.1),
                                            dst_shape=(4, 4))) == [
        "pop.tif: band 1: 1 cell holds negative persons (first at row 1, column 2: -3; min -3)"]


def test_not_a_raster(tmp_path):
    path = write(tmp_path, "pop.tif", "this is not a GeoTIFF")
    [message] = problems(lambda: read_population_raster(path))
    assert message.startswith("pop.tif: cannot be read as a raster")
