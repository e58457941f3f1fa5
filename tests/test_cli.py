"""The command line: exit codes 0 / 1 / 2, summaries, exports with their manifests."""
from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from geo_justice.cli import main

from .toy import make_dataset

CALM = ["--conflict", "off"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("cli") / "toy")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_validate_exit_codes(toy, tmp_path):
    ok = run("layers", "validate", toy / "courts.csv", "--kind", "courts")
    assert ok.exit_code == 0 and "valid courts layer, 3 rows" in ok.output
    bad = tmp_path / "courts.csv"
    bad.write_text((toy / "courts.csv").read_text().replace("operational", "working", 1))
    failed = run("layers", "validate", bad, "--kind", "courts")
    assert failed.exit_code == 1
    assert "courts.csv: line 2 (id west): field 'status': unknown value 'working'" in failed.output
    assert "Traceback" not in failed.output
    usage = run("layers", "validate", bad, "--kind", "volcanoes")
    assert usage.exit_code == 2


def test_coverage_prints_nominal_and_actual_and_exports(toy, tmp_path):
    out = tmp_path / "coverage.gpkg"
    result = run("coverage", "--data", toy, *CALM, "--threshold", "60", "--threshold", "120", "-o", out)
    assert result.exit_code == 0, result.output
    assert "nominal_share_120" in result.output and "actual_share_120" in result.output
    table = gpd.read_file(out, layer="coverage")
    assert set(table["region"]) == {"W", "E", "All"}
    every = table.set_index("region").loc["All"]
    assert every["nominal_120"] >= every["actual_120"] > 0
    isochrones = gpd.read_file(out, layer="isochrones")  # built only for an export: the printed table needs none
    assert list(isochrones["threshold_minutes"]) == [60.0, 120.0]
    assert isochrones["population"].iloc[1] == pytest.approx(every["actual_120"])
    manifest = json.loads((tmp_path / "coverage.gpkg.manifest.json").read_text())
    assert manifest["parameters"]["access"]["conflict"]["mode"] == "off"
    assert manifest["parameters"]["thresholds"] == [60.0, 120.0]
    assert set(manifest["dataset"]["layers"]) == {"courts", "prisons", "population"}


def test_coverage_raster_export_holds_travel_times(toy, tmp_path):
    out = tmp_path / "traveltime.tif"
    assert run("coverage", "--data", toy, *CALM, "-o", out).exit_code == 0
    with rasterio.open(out) as src:
        minutes = src.read(1, masked=True)
    assert minutes.min() == 0 and minutes.max() > 600
    assert (tmp_path / "traveltime.tif.manifest.json").is_file()


def test_catchments_and_gaps_csv(toy, tmp_path):
    result = run("catchments", "--data", toy, *CALM, "-o", tmp_path / "catchments.csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "catchments.csv")
    assert table["name"].tolist() == ["West TGI", "East TI"]
    assert (table["population"] > 0).all() and (table["median_minutes"] <= table["p90_minutes"]).all()
    gaps = run("gaps", "--data", toy, *CALM, "--threshold", "240", "--min-density", "5", "-o", tmp_path / "gaps.geojson")
    assert gaps.exit_code == 0, gaps.output
    assert gpd.read_file(tmp_path / "gaps.geojson")["rank"].iloc[0] == 1


def test_bad_parameter_is_a_user_error(toy):
    result = run("coverage", "--data", toy, "--as-of", "someday")
    assert result.exit_code == 1 and "--as-of: 'someday' is not an ISO 8601 date" in result.output
    result = run("coverage", "--data", toy, "--tiers", "supreme")
    assert result.exit_code == 1 and "unknown tier(s) supreme" in result.output


def test_unwritable_format_leaves_nothing(toy, tmp_path):
    result = run("gaps", "--data", toy, *CALM, "-o", tmp_path / "gaps.tif")
    assert result.exit_code == 1 and "no raster output" in result.output
    assert list(tmp_path.iterdir()) == []
