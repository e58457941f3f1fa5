"""A toy study area for engine tests: a flat square of land, 10 persons per km², a few courts.

Everything is hand-checkable: off-road 5 km/h (12 min/km), roads 60 km/h (1 min/km).
"""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import rasterio
import shapely
from rasterio.transform import from_origin

BBOX = (0.0, 10.0, 2.0, 12.0)
CELL_DEG = 0.01
COURTS = [
    # id, name, tier, lon, lat, status on 2023-11-17
    ("west", "West TGI", "tgi", 0.5, 11.0, "operational"),
    ("east", "East TI", "ti", 1.5, 11.0, "operational"),
    ("north", "North JPCE", "jpce", 1.0, 11.8, "closed"),
]
PRISONS = [("jail", "Central prison", 0.5, 11.0, "operational")]


def population_raster(path: Path, persons_per_km2: float = 10.0) -> float:
    """Uniform density over BBOX in EPSG:4326; returns the total persons written."""
    from layers.population import cell_areas
    from pyproj import CRS

    width, height = round((BBOX[2] - BBOX[0]) / CELL_DEG), round((BBOX[3] - BBOX[1]) / CELL_DEG)
    transform = from_origin(BBOX[0], BBOX[3], CELL_DEG, CELL_DEG)
    counts = cell_areas(transform, (height, width), CRS.from_epsg(4326)) / 1e6 * persons_per_km2
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float64",
                       crs="EPSG:4326", transform=transform) as dst:
        dst.write(counts, 1)
    return float(counts.sum())


def make_dataset(folder: Path, *, roads=None, barriers=None, crossings=None, history: str = "",
                 courts=COURTS, incidents: gpd.GeoDataFrame | None = None) -> Path:
    """Write a toy dataset folder with dataset.json; optional layers as GeoDataFrames or CSV text."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,name,tier,region,status,status_as_of,status_source,lon,lat"]
    lines += [f"{i},{n},{t},{'W' if x < 1 else 'E'},{s},2023-11-17,test,{x},{y}" for i, n, t, x, y, s in courts]
    (folder / "courts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["id,name,region,status,status_as_of,status_source,lon,lat"]
    lines += [f"{i},{n},W,{s},2023-11-17,test,{x},{y}" for i, n, x, y, s in PRISONS]
    (folder / "prisons.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    population_raster(folder / "population.tif")
    layers = {"courts": {"path": "courts.csv"}, "prisons": {"path": "prisons.csv"}, "population": {"path": "population.tif"}}
    if history:
        (folder / "history.csv").write_text("facility_id,as_of,status,sitting_name,sitting_lon,sitting_lat,source,note\n"
                                            + history, encoding="utf-8")
        layers["status_history"] = {"path": "history.csv"}
    for name, frame in (("roads", roads), ("barriers", barriers), ("crossings", crossings), ("incidents", incidents)):
        if frame is not None:
            frame.to_file(folder / f"{name}.geojson", driver="GeoJSON")
            layers[name] = {"path": f"{name}.geojson"}
    (folder / "dataset.json").write_text(json.dumps({"name": "toy", "study_area": BBOX, "as_of": "2023-11-17", "layers": layers}), encoding="utf-8")
    return folder


def lines(*coords, **properties) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(properties, geometry=[shapely.LineString(c) for c in coords], crs=4326)


def points(*coords, **properties) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(properties, geometry=[shapely.Point(c) for c in coords], crs=4326)


def cell_of(grid, lon: float, lat: float) -> tuple[int, int]:
    rows, cols, _ = grid.cells(gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326))
    return int(rows[0]), int(cols[0])


def km_between(grid, a: tuple[float, float], b: tuple[float, float]) -> float:
    pts = gpd.GeoSeries([shapely.Point(a), shapely.Point(b)], crs=4326).to_crs(grid.crs)
    return pts.iloc[0].distance(pts.iloc[1]) / 1000


