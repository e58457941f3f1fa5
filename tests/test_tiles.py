"""Tiles: pixels against the travel-time raster, versioned URLs, ETag / 304, TileJSON, bad tile addresses, export."""
from __future__ import annotations

import io
import math
import sqlite3
from dataclasses import replace

import mercantile
import numpy as np
import pytest
from PIL import Image
from pyproj import Transformer

from geo_justice.access import AccessParams, Engine
from geo_justice.colours import STATUS_COLOURS, TRAVELTIME, coverage_ramp, rgba
from geo_justice.tiles import EMPTY_PNG, TileStyle, export_tiles, point_marks, render_tile

RES = 5000.0
PARAMS = AccessParams(resolution_m=RES)
Q = f"resolution={RES:g}"


@pytest.fixture(scope="module")
def access(client):
    return client.app.state.snapshot.engine.access(PARAMS)


def cell_lonlat(access, row: int, col: int) -> tuple[float, float]:
    x, y = access.grid.centres(np.array([row]), np.array([col]))
    lon, lat = Transformer.from_crs(access.grid.crs, "EPSG:4326", always_xy=True).transform(x[0], y[0])
    return float(lon), float(lat)


def pixel(png: bytes, tile: mercantile.Tile, lon: float, lat: float) -> tuple[int, int, int, int]:
    """The RGBA of the tile's pixel under (lon, lat)."""
    left, bottom, right, top = mercantile.xy_bounds(tile)
    x, y = mercantile.xy(lon, lat)
    col = math.floor((x - left) / (right - left) * 256)
    row = math.floor((top - y) / (top - bottom) * 256)
    return Image.open(io.BytesIO(png)).convert("RGBA").getpixel((col, row))


def get_tile(client, layer: str, lon: float, lat: float, z: int, query: str = Q):
    tile = mercantile.tile(lon, lat, z)
    response = client.get(f"/tiles/{layer}/{tile.z}/{tile.x}/{tile.y}.png?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return tile, response.content


def test_court_cell_has_the_colour_of_zero_minutes(client, access):
    rows, cols = np.nonzero(access.minutes == 0)
    assert len(rows) >= 30  # one source cell per working court site
    for row, col in list(zip(rows, cols))[:5]:
        lon, lat = cell_lonlat(access, row, col)
        tile, png = get_tile(client, "traveltime", lon, lat, 9)
        assert pixel(png, tile, lon, lat) == rgba(TRAVELTIME.colours[0])  # class "0 to 15 minutes"


@pytest.mark.parametrize("low, high, colour", [(120, 180, TRAVELTIME.colours[5]), (180, 240, TRAVELTIME.colours[6]), (480, 5000, TRAVELTIME.colours[9])])
def test_pixels_follow_the_travel_time_of_their_cell(client, access, dataset, low, high, colour):
    import shapely
    mali = dataset.country.geometry.iloc[0]
    minutes = access.minutes
    inner = np.zeros_like(minutes, dtype=bool)
    window = (minutes > low) & (minutes <= high)  # one class of the ramp
    inner[1:-1, 1:-1] = window[1:-1, 1:-1] & window[:-2, 1:-1] & window[2:, 1:-1] & window[1:-1, :-2] & window[1:-1, 2:]
    rows, cols = np.nonzero(inner)
    x, y = access.grid.centres(rows, cols)
    lon, lat = Transformer.from_crs(access.grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    cells = [(r, c) for r, c, inside in zip(rows, cols, shapely.contains_xy(mali, lon, lat)) if inside]  # drawn in Mali only
    assert len(cells) >= 3
    for row, col in cells[:: max(1, len(cells) // 6)]:
        lon, lat = cell_lonlat(access, row, col)
        tile, png = get_tile(client, "traveltime", lon, lat, 8)
        assert pixel(png, tile, lon, lat) == rgba(colour), (minutes[row, col], lon, lat)


def test_coverage_tile_splits_at_the_threshold(client, access):
    rows, cols = np.nonzero(access.minutes == 0)
    lon, lat = cell_lonlat(access, rows[0], cols[0])
    tile, png = get_tile(client, "coverage", lon, lat, 9, Q + "&threshold=60")
    assert pixel(png, tile, lon, lat) == rgba(coverage_ramp(60).colours[0])  # within


def test_court_tile_shows_its_status_colour(client, dataset):
    court = dataset.facilities_as_of("court", PARAMS.as_of).query("status == 'operational' and sitting_name == ''").iloc[0]
    lon, lat = court.geometry.x, court.geometry.y
    tile, png = get_tile(client, "courts", lon, lat, 8)
    assert pixel(png, tile, lon, lat) == rgba(STATUS_COLOURS["operational"])


def test_acled_incidents_are_drawn_only_as_cell_aggregates(dataset):
    acled = replace(dataset, incidents=dataset.incidents.assign(source_dataset="acled"))
    marks = point_marks(Engine(acled), TileStyle("incidents", PARAMS))
    lons, lats = marks.dots["lon"].to_numpy(), marks.dots["lat"].to_numpy()
    assert len(marks.dots) > 0
    assert np.allclose(np.mod(lons, 0.5), 0.25) and np.allclose(np.mod(lats, 0.5), 0.25)  # 0.5° cell centres
    in_window = dataset.incidents["date"].between("2022-11-17", "2023-11-17")
    assert len(marks.dots) < in_window.sum()


def test_etag_304_and_immutable_versioned_urls(client, access):
    spec = client.get(f"/tiles/traveltime/tilejson.json?{Q}").json()
    rows, cols = np.nonzero(access.minutes == 0)
    tile = mercantile.tile(*cell_lonlat(access, rows[0], cols[0]), 7)
    url = spec["tiles"][0].format(z=tile.z, x=tile.x, y=tile.y)
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith('W/')
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    unversioned = client.get(f"/tiles/traveltime/{tile.z}/{tile.x}/{tile.y}.png?{Q}")
    assert unversioned.headers["cache-control"] == "public, max-age=300"
    assert unversioned.content == first.content
    other = client.get(f"/tiles/traveltime/{tile.z}/{tile.x}/{tile.y}.png?{Q}&mode=nominal")
    assert other.headers["etag"] != etag
    stale = client.get(url.replace("v=s2-", "v=s0-"))
    assert stale.status_code == 404 and "'v=" in stale.json()["detail"].replace("v='", "'v=")
    cors = client.get(url, headers={"Origin": "https://news.example"})
    assert cors.headers["access-control-allow-origin"] == "*"


def test_tilejson_is_valid_3_0_0(client):
    spec = client.get(f"/tiles/traveltime/tilejson.json?{Q}").json()
    assert spec["tilejson"] == "3.0.0"
    assert isinstance(spec["tiles"], list) and all("{z}/{x}/{y}.png" in t for t in spec["tiles"])
    assert isinstance(spec["minzoom"], int) and isinstance(spec["maxzoom"], int) and 0 <= spec["minzoom"] <= spec["maxzoom"] <= 30
    west, south, east, north = spec["bounds"]
    assert -180 <= west < east <= 180 and -85.06 <= south < north <= 85.06
    assert west < -12 and east > 4 and south < 10.2 and north > 24.9  # Mali
    assert west <= spec["center"][0] <= east and south <= spec["center"][1] <= north
    assert "Travel time: modelled" in spec["attribution"] and "Synthetic demo incidents" in spec["attribution"]
    assert "MODELLED population" in client.get(f"/tiles/coverage/tilejson.json?{Q}").json()["attribution"]
    points = client.get("/tiles/courts/tilejson.json").json()
    assert "Courts and prisons" in points["attribution"] and "v=s2-" in points["tiles"][0]


@pytest.mark.parametrize("path, status, name", [
    ("/tiles/traveltime/-1/0/0.png", 400, "z"),
    ("/tiles/traveltime/19/0/0.png", 400, "z"),
    ("/tiles/traveltime/3/8/0.png", 400, "x"),
    ("/tiles/traveltime/3/0/-1.png", 400, "y"),
    ("/tiles/traveltime/3/0/a.png", 400, "y"),
    ("/tiles/nowhere/3/0/0.png", 404, "layer"),
    ("/tiles/traveltime/3/0/0.png?threshold=0", 400, "threshold"),
    ("/tiles/traveltime/3/0/0.png?mode=sideways", 400, "mode"),
])
def test_bad_tile_addresses_are_problems_naming_the_parameter(client, path, status, name):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert name in response.json()["detail"]


def test_tiles_outside_the_data_are_transparent(client):
    response = client.get(f"/tiles/traveltime/5/2/12.png?{Q}")  # the South Pacific
    assert response.status_code == 200 and response.content == EMPTY_PNG
    assert Image.open(io.BytesIO(response.content)).convert("RGBA").getextrema()[3] == (0, 0)


def test_export_mbtiles_and_folder(client, tmp_path):
    engine = client.app.state.snapshot.engine
    style = TileStyle("traveltime", PARAMS)
    count = export_tiles(engine, style, [4, 5], tmp_path / "t.mbtiles")
    with sqlite3.connect(tmp_path / "t.mbtiles") as db:
        meta = dict(db.execute("SELECT name, value FROM metadata"))
        rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    assert meta["format"] == "png" and meta["minzoom"] == "4" and meta["maxzoom"] == "5"
    assert len(rows) == count > 0
    z, x, tms_row, data = rows[0]
    assert data == render_tile(engine, style, z, x, 2**z - 1 - tms_row)  # TMS rows count from the south
    folder = tmp_path / "zxy"
    assert export_tiles(engine, style, [4, 5], folder) == count
    assert (folder / str(z) / str(x) / f"{2**z - 1 - tms_row}.png").read_bytes() == data
    with pytest.raises(ValueError, match="exists: name a new folder"):
        export_tiles(engine, style, [4], folder)


def test_a_failed_export_leaves_nothing_half_written(client, tmp_path, monkeypatch):
    import geo_justice.tiles as tiles

    engine = client.app.state.snapshot.engine
    style = TileStyle("traveltime", PARAMS)
    export_tiles(engine, style, [4], tmp_path / "t.mbtiles")
    before = (tmp_path / "t.mbtiles").read_bytes()
    calls = []

    def failing(*args):
        calls.append(args)
        if len(calls) > 3:
            raise RuntimeError("disk full")
        return render_tile(*args)
    monkeypatch.setattr(tiles, "render_tile", failing)
    for output in (tmp_path / "t.mbtiles", tmp_path / "zxy"):
        calls.clear()
        with pytest.raises(RuntimeError):
            export_tiles(engine, style, [4, 5], output)
    assert (tmp_path / "t.mbtiles").read_bytes() == before  # the earlier export is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.mbtiles"]  # no folder, no temporary file left


@pytest.mark.parametrize("layer", ["traveltime", "coverage", "basemap"])
def test_nothing_is_painted_outside_the_country(client, dataset, layer):
    from shapely.geometry import Point, box
    mali = dataset.country.geometry.iloc[0]
    tile = mercantile.tile(-8.5, 19.0, 7)  # Mauritania, north-west of Mali
    assert not box(*mercantile.bounds(tile)).intersects(mali)  # the whole tile lies outside Mali
    png = client.get(f"/tiles/{layer}/7/{tile.x}/{tile.y}.png?{Q}").content
    assert Image.open(io.BytesIO(png)).convert("RGBA").getextrema()[3] == (0, 0)
    # while a tile across the border is painted on Mali's side only
    tile = mercantile.tile(-10.0, 15.0, 7)
    png = client.get(f"/tiles/{layer}/7/{tile.x}/{tile.y}.png?{Q}").content
    inside, outside = (-10.0, 14.6), (-10.0, 16.3)  # Mali (north of Kayes), Mauritania, in the same tile
    assert all(box(*mercantile.bounds(tile)).contains(Point(p)) for p in (inside, outside))
    assert mali.contains(Point(inside)) and not mali.contains(Point(outside))
    assert pixel(png, tile, *inside)[3] > 0 and pixel(png, tile, *outside)[3] == 0


def test_tilejson_bounds_are_the_country(client, dataset):
    import json
    coords = json.loads((dataset.root / "boundaries/geoBoundaries-MLI-ADM0_simplified.geojson").read_text())
    points = np.array([p for feature in coords["features"] for ring in _rings(feature["geometry"]) for p in ring])
    body = client.get(f"/tiles/traveltime/tilejson.json?{Q}").json()
    assert body["bounds"] == pytest.approx([*points.min(0), *points.max(0)], abs=1e-4)
    west, south, east, north = body["bounds"]
    assert body["center"][:2] == pytest.approx([(west + east) / 2, (south + north) / 2], abs=1e-4)


def _rings(geometry: dict) -> list:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [ring for polygon in polygons for ring in polygon]


def test_closed_court_tile_is_a_ring(client, dataset):
    closed = dataset.facilities_as_of("court", PARAMS.as_of).query("status == 'closed' and sitting_name == ''")
    court = closed.iloc[0]
    lon, lat = court.geometry.x, court.geometry.y
    tile, png = get_tile(client, "courts", lon, lat, 8)
    assert pixel(png, tile, lon, lat)[:3] == (255, 255, 255)  # hollow at the centre ...
    left, bottom, right, top = mercantile.bounds(tile)
    edge = lon + (right - left) / 256 * (2.5 + 8 / 2 - 1)  # ... its outline one pixel inside the dot's radius
    assert pixel(png, tile, edge, lat) == rgba(STATUS_COLOURS["closed"])
