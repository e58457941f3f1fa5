"""Validation that knows the dataset: the area files are checked against, boundary name fields, ISO dates on the command line."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from rasterio.transform import from_origin

from geo_justice.cli import main
from geo_justice.collections import Interval
from geo_justice.dates import iso_date
from layers import LayerError, load_dataset, read_boundaries

from .toy import make_dataset

BAD = Path(__file__).parent / "bad_inputs"
SWAPPED_COURTS = ("id,name,tier,region,status,status_as_of,status_source,lon,lat\n"
                  "ml-tgi-gao,TGI de Gao,tgi,Gao,operational,2023-11-17,assumed,16.2717,-0.0447\n"
                  "ml-ti-kidal,TI de Kidal,ti,Kidal,closed,2023-11-17,assumed,18.44,1.41\n")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def problems(call) -> list[str]:
    with pytest.raises(LayerError) as info:
        call()
    return [str(p) for p in info.value.problems]


def test_lone_file_is_checked_against_the_embedded_study_area(tmp_path, monkeypatch):
    monkeypatch.delenv("GEO_JUSTICE_DATA", raising=False)
    path = tmp_path / "courts.csv"
    path.write_text(SWAPPED_COURTS, encoding="utf-8")
    result = run("layers", "validate", path, "--kind", "courts")
    assert result.exit_code == 1
    assert "data/dataset.json" in result.output.splitlines()[0]
    assert "line 2 (id ml-tgi-gao): field 'geometry': lon 16.2717, lat -0.0447 lies outside the study area but fits it swapped" in result.output
    assert "2 of 2 points lie outside the study area (-12.3, 10.1, 4.3, 25.1) but fit it with latitude and longitude exchanged" in result.output
    # the same numbers are good positions in a box that holds them as they are (16.27 E, 0.04 S is in Gabon)
    assert run("layers", "validate", path, "--kind", "courts", "--study-area", "8,-5,20,5").exit_code == 0


def test_file_inside_a_dataset_is_checked_against_that_dataset(tmp_path):
    toy = make_dataset(tmp_path / "toy")
    (toy / "courts.csv").write_text((toy / "courts.csv").read_text() + "far,Far TI,ti,E,operational,2023-11-17,test,3.5,11\n")
    result = run("layers", "validate", toy / "courts.csv", "--kind", "courts")
    assert result.exit_code == 1
    assert f"checking against the study area of {toy / 'dataset.json'}" in result.output
    assert "line 5 (id far): field 'geometry': lon 3.5, lat 11 lies outside the study area (0.0, 10.0, 2.0, 12.0)" in result.output


def test_boundaries_option_gives_the_outline(tmp_path):
    path = tmp_path / "towns.csv"
    path.write_text("name,lon,lat,population\nGao,-0.0447,16.2717,86633\nNiamey,2.1,13.5,1026848\n", encoding="utf-8")
    result = run("layers", "validate", path, "--kind", "settlements", "--boundaries", BAD / "area" / "country.geojson")
    assert result.exit_code == 1
    # Niamey to the outline's edge from (-0.5, 15.1) to (3.9, 15.4): 1.773 degrees of arc, 197 km (worked by hand)
    assert "towns.csv: line 3: field 'geometry': lon 2.1, lat 13.5 lies about 197 km outside boundaries country.geojson" in result.output


def country_dataset(folder: Path, outline: shapely.Polygon) -> Path:
    toy = make_dataset(folder)
    gpd.GeoDataFrame({"shapeName": ["Toyland"]}, geometry=[outline], crs=4326).to_file(toy / "country.geojson")
    manifest = json.loads((toy / "dataset.json").read_text())
    manifest["layers"]["country"] = {"path": "country.geojson"}  # no name_field: detected
    (toy / "dataset.json").write_text(json.dumps(manifest))
    return toy


def test_dataset_rejects_a_facility_outside_its_country(tmp_path):
    assert load_dataset(country_dataset(tmp_path / "all", shapely.box(0, 10, 2, 12))).country is not None
    toy = country_dataset(tmp_path / "west", shapely.box(0, 10, 1.2, 12))
    # east court at (1.5, 11): 0.3 degrees of longitude from the edge at latitude 11 = 0.3 * 111.195 * cos(11 deg) = 32.7 km
    assert problems(lambda: load_dataset(toy)) == [
        "courts.csv: line 3 (id east): field 'geometry': lon 1.5, lat 11 lies about 33 km outside the country (country.geojson)"]


def test_dataset_rejects_a_population_raster_outside_its_study_area(tmp_path):
    toy = make_dataset(tmp_path / "toy")
    with rasterio.open(toy / "population.tif", "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(30, 50, 0.01, 0.01)) as dst:
        dst.write(np.ones((1, 4, 4), dtype="float32"))
    assert problems(lambda: load_dataset(toy)) == [
        "population.tif: the raster covers (30, 49.96, 30.04, 50), wholly outside the study area (0.0, 10.0, 2.0, 12.0): "
        "wrong file or wrong CRS?"]


@pytest.mark.parametrize("columns, chosen", [
    ({"shapeName": ["A", "B"], "shapeISO": ["X-1", "X-2"]}, "shapeName"),
    ({"ADM0_FR": ["Mali", "Mali"], "ADM1_FR": ["Gao", "Gao"], "ADM2_FR": ["Gao", "Bourem"], "ADM2_PCODE": ["ML0701", "ML0702"]}, "ADM2_FR"),
    ({"GID_1": ["MLI.1_1", "MLI.2_1"], "NAME_0": ["Mali", "Mali"], "NAME_1": ["Gao", "Kidal"]}, "NAME_1"),
    ({"code": ["1", "2"], "name": ["Gao", "Kidal"]}, "name"),
])
def test_boundary_name_field_is_detected_and_said(tmp_path, columns, chosen):
    path = tmp_path / "units.geojson"
    gpd.GeoDataFrame(columns, geometry=[shapely.box(-1, 15, 0, 16), shapely.box(0, 15, 1, 16)], crs=4326).to_file(path)
    units = read_boundaries(path)
    assert units.attrs["name_field"] == chosen and list(units["name"]) == columns[chosen]
    result = run("layers", "validate", path, "--kind", "boundaries", "--study-area", "-12.3,10.1,4.3,25.1")
    assert result.exit_code == 0, result.output
    assert f"names from '{chosen}' (detected; choose another with --name-field)" in result.output


def test_boundaries_without_a_name_field_say_what_they_have(tmp_path):
    path = tmp_path / "units.geojson"
    gpd.GeoDataFrame({"code": ["1"], "area_km2": [12.0]}, geometry=[shapely.box(-1, 15, 0, 16)], crs=4326).to_file(path)
    result = run("layers", "validate", path, "--kind", "boundaries")
    assert result.exit_code == 1
    assert "units.geojson: no name field found" in result.output and "attributes: code, area_km2): give one with --name-field" in result.output
    assert run("layers", "validate", path, "--kind", "boundaries", "--name-field", "code").exit_code == 0


@pytest.mark.parametrize("text", ["08/01/2024", "01/08/2024", "now", "today", "2023", "2023-11", "2023-02-30", "17 November 2023",
                                  "2023-11-17T00:00", "20231117", " "])
def test_date_options_are_iso_only(text):
    result = run("coverage", "--as-of", text)
    assert result.exit_code == 1 and f"--as-of: {text!r} is not" in result.output
    result = run("route", "--depot", "Gao", "--stops", "Bourem", "--start", text)
    assert result.exit_code == 1 and f"--start: {text!r} is not" in result.output
    with pytest.raises(ValueError):
        iso_date(text)


def test_incident_window_is_an_iso_date_or_interval(tmp_path):
    for good in ("2023-11-17", "2023-01-01/2023-12-31", "../2023-01-01", "2023-01-01/..", "2023-01-01T06:00:00Z/2023-01-02"):
        Interval.parse(good)
    for bad in ("08/01/2024", "2023-01-01/08/01/2024", "../..", "/", "2023/2024", "now/.."):
        with pytest.raises(ValueError):
            Interval.parse(bad)
    result = run("map", "coverage", "--incidents", "01/01/2023/..", "-o", tmp_path / "m.html")
    assert result.exit_code == 1 and "--incidents: '01/01/2023/..' is not a date or a start/end interval" in result.output
    assert not (tmp_path / "m.html").exists()


def test_every_kind_the_command_offers_is_validated():
    from geo_justice.cli import LAYER_KINDS
    from layers.validate import KINDS
    assert sorted(LAYER_KINDS) == sorted(KINDS)
