"""Barriers (rivers, lakes, closed borders) and the crossings (bridges, ferries, dams) that open them."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from .checks import BBox, check_points, check_polygons
from .errors import Report
from .read import read_table
from .roads import read_lines


def read_barriers(path: str | Path, *, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Impassable lines or polygons in WGS 84 (a file holds one or the other)."""
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None:
        report.raise_if_any()
    polygonal = frame.geom_type.isin(["Polygon", "MultiPolygon"])
    if polygonal.all():
        frame = frame.set_geometry(check_polygons(frame, report))
    else:
        frame = read_lines(path, report, layer=layer, crs=crs)
    report.raise_if_any()
    return frame.drop(columns=["_where"])


def read_crossings(path: str | Path, *, study_area: BBox | None = None, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Points where a barrier can be crossed."""
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None:
        report.raise_if_any()
    check_points(frame, report, study_area)
    report.raise_if_any()
    return frame.drop(columns=["_where"])
