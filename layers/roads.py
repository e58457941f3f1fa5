"""Roads: lines with a class column, each class mapped to a travel speed."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd

from .checks import check_vocabulary, require_columns
from .errors import Report
from .read import read_table, where

#: Default speeds (km/h) by road class: paved national roads, other all-weather roads, desert and seasonal tracks.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = {"primary": 60.0, "secondary": 40.0, "track": 20.0}


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


def read_roads(
    path: str | Path,
    *,
    class_field: str = "class",
    speeds_kmh: Mapping[str, float] = DEFAULT_SPEEDS_KMH,
    layer: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Road lines with `road_class` and `speed_kmh`; a class missing from `speeds_kmh` is an error."""
    report = Report.for_path(path)
    frame = read_lines(path, report, layer=layer, crs=crs)
    if frame is None or not require_columns(frame, [class_field], report):
        report.raise_if_any()
    classes = check_vocabulary(frame, class_field, {k.lower() for k in speeds_kmh}, report)
    report.raise_if_any()
    lower = {k.lower(): float(v) for k, v in speeds_kmh.items()}
    out = gpd.GeoDataFrame(frame.drop(columns=["_where"]), geometry=frame.geometry.name, crs="EPSG:4326")
    out["road_class"] = classes
    out["speed_kmh"] = classes.map(lower)
    out.attrs["source"] = str(path)
    return out
