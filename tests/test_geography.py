"""Real geography on the embedded data: official boundaries, the country clip, the people of the analysis
year, region checks of facility seats, and the dataset-declared as-of date and tier vocabulary.

Expected values come from the sources themselves (the figures table read with the csv module, the
geoBoundaries files read with geopandas, distances with pyproj's geodesic), not from the engine."""
from __future__ import annotations

import csv
import json
import shutil
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer

from api.app import create_app
from geo_justice.access import AccessParams, Engine
from geo_justice.cli import main
from geo_justice.tiles import TileStyle
from layers import LayerError, load_dataset
from layers.names import NameMatcher
from layers.population_figures import estimate, read_population_figures

from .conftest import ROOT
from .toy import make_dataset

DATA = ROOT / "data"
ADM0 = DATA / "boundaries" / "geoBoundaries-MLI-ADM0_simplified.geojson"
ADM1 = DATA / "boundaries" / "geoBoundaries-MLI-ADM1_simplified.geojson"
ADM2 = DATA / "boundaries" / "geoBoundaries-MLI-ADM2_simplified.geojson"
FAST = ["--resolution", "5000", "--threshold", "120"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def published(year: int) -> float:
    """The national figure of `year` as the figures table states it (the national row, else the regions' sum)."""
    rows = list(csv.DictReader(open(DATA / "population_figures.csv", encoding="utf-8")))
    national = [float(r["population"]) for r in rows if r["level"] == "country" and int(r["year"]) == year]
    return national[0] if national else sum(float(r["population"]) for r in rows if int(r["year"]) == year)


def printed_rows(output: str) -> dict[str, list[str]]:
    """The first table the CLI printed, by its first column."""
    table = output.split("\n\n")[0].splitlines()
    start = next(i for i, line in enumerate(table) if line.split()[:2] == ["region", "population"])
    return {line.split()[0]: line.split()[1:] for line in table[start + 1:] if line.strip()}


@pytest.mark.parametrize("as_of, year", [("2022-12-31", 2022), ("2009-06-01", 2009)])
def test_total_population_printed_is_the_published_figure_of_the_year(as_of, year):
    result = run("coverage", *FAST, "--as-of", as_of)
    assert result.exit_code == 0, result.output
    assert f"Head counts: people, {year} estimate" in result.output
    total = float(printed_rows(result.output)["All"][0].replace(",", ""))
    assert total == pytest.approx(published(year), rel=0.05)


def test_each_region_holds_its_census_figure_of_2009():
    census = {r["area"]: float(r["population"]) for r in csv.DictReader(open(DATA / "population_figures.csv", encoding="utf-8"))
              if r["year"] == "2009"}
    spelled = {"Koulikoro": "Koulikouro", "Ségou": "Segou"}  # geoBoundaries' spellings, by hand
    rows = printed_rows(run("coverage", *FAST, "--as-of", "2009-06-01").output)
    for region, persons in census.items():
        assert float(rows[spelled.get(region, region)][0].replace(",", "")) == pytest.approx(persons, rel=0.01)


def test_per_region_table_has_the_nine_official_adm1_names_and_adm2_on_request():
    official = set(gpd.read_file(ADM1)["shapeName"])
    assert len(official) == 9
    assert set(printed_rows(run("coverage", *FAST).output)) == official | {"All"}
    cercles = set(gpd.read_file(ADM2)["shapeName"])
    rows = printed_rows(run("coverage", *FAST, "--admin-level", "2").output)
    assert set(rows) - {"All"} <= cercles and len(rows) - 1 >= 45
    bad = run("coverage", *FAST, "--admin-level", "3")
    assert bad.exit_code == 1 and "no boundaries of admin level 3" in bad.output


def test_no_cell_outside_mali_carries_population_or_travel_time(dataset):
    engine = Engine(dataset)
    access = engine.access(AccessParams(resolution_m=5000.0))
    carried = (access.population > 0) | np.isfinite(access.minutes)
    rows, cols = np.nonzero(carried)
    xs, ys = access.grid.centres(rows, cols)
    lon, lat = Transformer.from_crs(access.grid.crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    mali = gpd.read_file(ADM0).geometry.union_all()
    assert shapely.contains_xy(mali, lon, lat).all()
    # and the country is covered: cells well inside it do carry travel times
    inner = mali.buffer(-0.2)
    all_rows, all_cols = np.indices(access.grid.shape).reshape(2, -1)
    ax, ay = access.grid.centres(all_rows, all_cols)
    alon, alat = Transformer.from_crs(access.grid.crs, "EPSG:4326", always_xy=True).transform(ax, ay)
    deep = shapely.contains_xy(inner, alon, alat)
    assert np.isfinite(access.minutes[all_rows[deep], all_cols[deep]]).mean() > 0.99


def test_tessit_is_reported_outside_its_cercle_with_its_distance(tmp_path):
    result = run("layers", "validate", DATA / "courts.csv", "--kind", "courts")
    assert result.exit_code == 0
    line = next(l for l in result.output.splitlines() if "ml-ti-tessit" in l)
    reported = float(line.split(" km from ")[0].rsplit(", ", 1)[1])
    court = next(r for r in csv.DictReader(open(DATA / "courts.csv", encoding="utf-8")) if r["id"] == "ml-ti-tessit")
    seat = shapely.Point(float(court["lon"]), float(court["lat"]))
    ansongo = gpd.read_file(ADM2).set_index("shapeName").geometry["Ansongo"]
    near = shapely.ops.nearest_points(ansongo.boundary, seat)[0]
    _, _, metres = Geod(ellps="WGS84").inv(seat.x, seat.y, near.x, near.y)
    assert reported == pytest.approx(metres / 1000, abs=0.5)
    assert 9 < reported < 13
    assert not any("region 'Koulikoro'" in l for l in result.output.splitlines())  # matched to 'Koulikouro'
    assert any("ml-ti-tessit" in note for note in load_dataset(DATA).notes)  # loading notes it, not an error


def test_name_matching_ignores_accents_case_and_punctuation_and_knows_aliases():
    names = NameMatcher(gpd.read_file(ADM1)["shapeName"], {"Koulikoro": "Koulikouro"})
    assert names.match("Ségou") == names.match("SEGOU") == "Segou"
    assert names.match("Koulikoro") == names.match("koulikouro") == "Koulikouro"
    assert names.match("Tombouctou ") == "Tombouctou" and names.match("Timbuktu") is None
    with pytest.raises(ValueError, match="Kulikoro"):
        NameMatcher(["Koulikouro"], {"x": "Kulikoro"})
    courts = {r["region"] for r in csv.DictReader(open(DATA / "courts.csv", encoding="utf-8"))}
    assert all(names.match(region) for region in courts)


def test_figures_interpolate_geometrically_and_refuse_long_extrapolation():
    figures = read_population_figures(DATA / "population_figures.csv")
    bamako = {2009: 1810366, 2022: 4227569}  # the table's Bamako rows, by hand
    assert estimate(figures, 2015).regions["Bamako"] == pytest.approx(1810366 * (4227569 / 1810366) ** (6 / 13))
    assert estimate(figures, 2022).regions["Bamako"] == bamako[2022]
    late = estimate(figures, 2031)
    assert late.year == 2025 and "more than 3 years" in late.warnings[0]
    output = run("coverage", *FAST, "--as-of", "2031-01-01").output
    assert "warning: population figures are published for 2009-2022" in output


def test_bad_figures_name_the_row_and_field(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    figures = folder / "population_figures.csv"
    original = figures.read_text(encoding="utf-8")
    figures.write_text(original.replace("Kidal,region,2009,67638", "Kidal,region,2009,many"), encoding="utf-8")
    with pytest.raises(LayerError, match="population_figures.csv: line 9: field 'population': not a number: 'many'"):
        load_dataset(folder)
    figures.write_text(original.replace("Gao,region,2022", "Gaoo,region,2022"), encoding="utf-8")
    with pytest.raises(LayerError, match="population_figures.csv: line 19: field 'area': region 'Gaoo' is no name"):
        load_dataset(folder)


def test_a_dataset_declares_its_own_tiers_and_as_of_date(tmp_path):
    folder = make_dataset(tmp_path / "elsewhere", courts=[("m1", "Magistrate court", "magistrate", 0.5, 11.0, "operational"),
                                                          ("h1", "High court", "high", 1.5, 11.0, "operational")],
                          history="h1,2024-03-01,closed,,,,a 2024 report,\n")
    manifest = json.loads((folder / "dataset.json").read_text())
    without = load_dataset
    with pytest.raises(LayerError, match="'tier': unknown value 'magistrate'"):
        without(folder)  # the glossary's tiers by default
    manifest["tiers"] = {"magistrate": {"en": "Magistrate's court"}, "high": {"en": "High court"}}
    manifest["as_of"] = "2024-06-30"
    (folder / "dataset.json").write_text(json.dumps(manifest))
    dataset = load_dataset(folder)
    assert dataset.tier_name("magistrate") == "Magistrate's court"
    access = Engine(dataset).access(AccessParams(resolution_m=2000.0))
    assert access.params.as_of == "2024-06-30"
    assert list(access.facilities["id"]) == ["m1"]  # the closure of 2024 counts by default
    result = run("coverage", "--data", folder, "--conflict", "off", "--tiers", "magistrate")
    assert result.exit_code == 0 and "Coverage as of 2024-06-30" in result.output


def test_layers_list_prints_the_version_the_service_and_tiles_use(dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store.sqlite"
    client = TestClient(create_app(dataset.root, store=store))
    printed = run("layers", "list", "--store", store).output.splitlines()[0]
    served = client.app.state.snapshot.engine.dataset.version
    assert f"(version {served})" in printed
    body = client.get("/analysis/coverage?resolution=20000&threshold=120").json()
    assert body["population"]["label"].startswith("people, 2023 estimate") and body["population"]["year"] == 2023
    assert body["manifest"]["population"] == body["population"]
    url = client.get("/tiles/traveltime/tilejson.json?resolution=20000").json()["tiles"][0]
    style = TileStyle("traveltime", AccessParams(as_of=dataset.as_of, resolution_m=20000.0), 120.0)
    assert parse_qs(urlparse(url).query)["v"] == [style.version(served)]
    cercles = run("layers", "list", "--admin-level", "2").output.splitlines()[0]
    assert f"(version {Engine(dataset.with_admin_level(2)).dataset.version})" in cercles and cercles != printed


def test_a_raster_of_a_stated_year_is_used_as_it_is(tmp_path):
    folder = make_dataset(tmp_path / "worldpop")
    from .toy import population_raster
    written = population_raster(folder / "population.tif")
    manifest = json.loads((folder / "dataset.json").read_text())
    manifest["layers"]["population"]["year"] = 2020
    (folder / "dataset.json").write_text(json.dumps(manifest))
    result = run("coverage", "--data", folder, "--conflict", "off", "--resolution", "2000", "--as-of", "2023-11-17")
    assert result.exit_code == 0, result.output
    assert "Head counts: people, 2020 (population.tif as given)" in result.output
    assert float(printed_rows(result.output)["All"][0].replace(",", "")) == pytest.approx(written, rel=1e-6)
    manifest["layers"]["population"]["year"] = "last year"
    (folder / "dataset.json").write_text(json.dumps(manifest))
    with pytest.raises(LayerError, match="layers.population.year'?: not a year: 'last year'"):
        load_dataset(folder)
