"""Road classes and speeds: an OpenStreetMap export loads unchanged with the documented default speeds."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from geo_justice.access import AccessParams, Engine
from geo_justice.cli import main
from geo_justice.conflict import ConflictParams
from layers import LayerError, load_dataset, read_roads
from .toy import cell_of, km_between, lines, make_dataset

CALM = AccessParams(conflict=ConflictParams(mode="off"))
#: A hand-made OSM extract: `highway` tags as OpenStreetMap writes them, plus a name and an osm_id.
OSM = lines([(0.5, 11.0), (0.5, 10.2)], [(0.5, 11.0), (0.9, 11.0)], [(1.5, 11.0), (1.5, 11.6)], [(1.0, 10.5), (1.2, 10.5)],
            [(0.2, 11.5), (0.3, 11.5)],
            highway=["trunk", "primary_link", "track", "footway", "residential"], name=["RN1", "", "", "", ""],
            osm_id=[1, 2, 3, 4, 5])


def osm_dataset(tmp_path, speeds=None):
    folder = make_dataset(tmp_path, roads=OSM)
    manifest = json.loads((folder / "dataset.json").read_text())
    manifest["layers"]["roads"] = {"path": "roads.geojson", "class_field": "highway", **({"speeds_kmh": speeds} if speeds else {})}
    (folder / "dataset.json").write_text(json.dumps(manifest))
    return folder


def test_an_osm_export_loads_with_the_default_speeds(tmp_path):
    roads = read_roads(osm_dataset(tmp_path) / "roads.geojson", class_field="highway")
    # the README's table: trunk 70, a _link as fast as its road, track 20, residential 20; footways are no road
    assert dict(zip(roads["highway"], roads["speed_kmh"])) == {"trunk": 70, "primary_link": 60, "track": 20, "residential": 20}
    assert roads.attrs["notes"] == [f"{tmp_path / 'roads.geojson'}: 1 features of classes with no vehicle speed left out (footway)"]


def test_speeds_in_the_manifest_override_the_defaults_and_shape_travel_time(tmp_path):
    dataset = load_dataset(osm_dataset(tmp_path, {"trunk": 50, "track": 10}))
    assert dict(zip(dataset.roads["road_class"], dataset.roads["speed_kmh"])) == {"trunk": 50, "primary_link": 60, "track": 10, "residential": 20}
    access = Engine(dataset).access(CALM)
    km = km_between(access.grid, (0.5, 11.0), (0.5, 10.3))
    assert access.minutes[cell_of(access.grid, 0.5, 10.3)] == pytest.approx(km / 50 * 60, rel=0.05)  # along the trunk at 50 km/h


def test_a_class_with_no_speed_is_an_error_and_nothing_loads(tmp_path):
    folder = osm_dataset(tmp_path, {"trunk": 50})
    manifest = json.loads((folder / "dataset.json").read_text())
    manifest["layers"]["roads"]["class_field"] = "name"  # 'RN1' and blanks are not classes
    (folder / "dataset.json").write_text(json.dumps(manifest))
    with pytest.raises(LayerError) as caught:
        load_dataset(folder)
    messages = [str(p) for p in caught.value.problems]
    assert messages[0] == "roads.geojson: feature 0: field 'name': road class 'rn1' has no speed: give it one in speeds_kmh (dataset.json) or --speed rn1=KMH"
    assert "roads.geojson: feature 1: field 'name': missing road class" in messages


def test_layers_validate_takes_the_class_field_and_speeds(tmp_path):
    path = osm_dataset(tmp_path) / "roads.geojson"
    runner = CliRunner()
    result = runner.invoke(main, ["layers", "validate", str(path), "--kind", "roads", "--class-field", "highway", "--speed", "track=10"])
    assert result.exit_code == 0, result.output
    assert "valid roads layer, 4 rows" in result.output and "left out" in result.output
    bad = runner.invoke(main, ["layers", "validate", str(path), "--kind", "roads", "--class-field", "highway", "--speed", "residential=0", "--speed", "trunk=?"])
    assert bad.exit_code != 0 and "'trunk=?' is not CLASS=KMH" in bad.output
    unknown = runner.invoke(main, ["layers", "validate", str(path), "--kind", "roads"])
    assert unknown.exit_code == 1 and "field 'class': required column is missing" in unknown.output
