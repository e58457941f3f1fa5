"""Roads: lines with a class column, each class mapped to a travel speed."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np

from .checks import require_columns, text
from .errors import Report
from .read import read_table, where

_OSM = {"motorway": 90.0, "trunk": 70.0, "primary": 60.0, "secondary": 40.0, "tertiary": 30.0,
        "unclassified": 25.0, "residential": 20.0}
#: OpenStreetMap `highway` values that are not roads a vehicle can use (speed 0: the feature is left out).
NOT_ROADS = ("abandoned", "bridleway", "bus_stop", "construction", "corridor", "cycleway", "disused", "footway",
             "path", "pedestrian", "platform", "proposed", "razed", "steps")
#: Default speeds (km/h) by road class, documented in the README: the embedded dataset's classes (paved,
#: unpaved, track), OpenStreetMap's `highway` classes (a `_link` as fast as its road) and a few more OSM
#: values; 0 marks a class that is not a road for vehicles (its features are left out).
DEFAULT_SPEEDS_KMH: Mapping[str, float] = {
    "paved": 60.0, "unpaved": 40.0, "track": 20.0,
    **_OSM, **{f"{name}_link": speed for name, speed in _OSM.items()},
    "living_street": 15.0, "service": 15.0, "road": 25.0,
    **{name: 0.0 for name in NOT_ROADS},
}


def read_lines(path: str | Path, report: Report, *, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame | None:
    """Non-empty (Multi)LineString features in WGS 84; other geometries reported."""
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None:
        return None
    for i, geom in enumerate(frame.geometry):
        if geom is None or geom.is_empty:
            report.error(where(frame, i), "geometry", "missing or empty geometry")
        elif geom.geom_type not in ("LineString", "MultiLineString"):
            report.error(where(frame, i), "geometry", f"expected a LineString, got {geom.geom_type}")
    return frame


def road_speeds(speeds_kmh: Mapping[str, float] | None, report: Report) -> dict[str, float]:
    """The default speeds with `speeds_kmh` (from dataset.json or the command line) laid over them."""
    speeds = dict(DEFAULT_SPEEDS_KMH)
    if speeds_kmh is None:
        return speeds
    if not isinstance(speeds_kmh, Mapping):
        report.error(None, "speeds_kmh", "must map each road class to a speed in km/h, e.g. {\"primary\": 60}")
        return speeds
    for name, speed in speeds_kmh.items():
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 <= speed <= 300:
            report.error(None, "speeds_kmh", f"speed of road class {name!r} must be a number of km/h from 0 to 300, not {speed!r}")
        else:
            speeds[str(name).strip().lower()] = float(speed)
    return speeds


def read_roads(
    path: str | Path,
    *,
    class_field: str = "class",
    speeds_kmh: Mapping[str, float] | None = None,
    layer: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Road lines with `road_class` and `speed_kmh`.

    Speeds are DEFAULT_SPEEDS_KMH (which covers OpenStreetMap's `highway` values: pass class_field="highway"
    to read an OSM export unchanged) with `speeds_kmh` laid over them; a class without a speed is an error,
    and classes of speed 0 (footways, roads under construction, ...) are left out.
    """
    report = Report.for_path(path)
    speeds = road_speeds(speeds_kmh, report)
    frame = read_lines(path, report, layer=layer, crs=crs)
    if frame is None or not require_columns(frame, [class_field], report):
        report.raise_if_any()
    classes = frame[class_field].map(text).str.lower()
    for i, value in enumerate(classes):
        if not value:
            report.error(where(frame, i), class_field, "missing road class")
        elif value not in speeds:
            report.error(where(frame, i), class_field,
                         f"road class {value!r} has no speed: give it one in speeds_kmh (dataset.json) or --speed {value}=KMH")
    report.raise_if_any()
    speed = classes.map(speeds).to_numpy(dtype=float)
    kept = speed > 0
    out = gpd.GeoDataFrame(frame.drop(columns=["_where"]), geometry=frame.geometry.name, crs="EPSG:4326")
    out["road_class"] = classes
    out["speed_kmh"] = speed
    out = out[kept].reset_index(drop=True)
    out.attrs["source"] = str(path)
    if not kept.all():
        left_out = sorted(set(classes[~kept]))
        out.attrs["notes"] = [f"{path}: {int(np.sum(~kept))} features of classes with no vehicle speed left out ({', '.join(left_out)})"]
    return out
