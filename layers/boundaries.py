"""Boundaries: any polygon layer (GeoJSON, GeoPackage, Shapefile) with a name field chosen by the user."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from .checks import check_polygons, check_required_text, check_unique, require_columns
from .errors import Report
from .read import read_table


def read_boundaries(path: str | Path, name_field: str, *, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Polygons in WGS 84 with a unique `name` (from `name_field`); invalid polygons repaired where safe.

    Other attributes are kept. Repairs made are listed in `.attrs["notes"]`.
    """
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None or not require_columns(frame, [name_field], report):
        report.raise_if_any()
    frame["name"] = check_required_text(frame, name_field, report)
    check_unique(frame, "name", report)
    geometry = check_polygons(frame, report)
    report.raise_if_any()
    out = gpd.GeoDataFrame(frame.drop(columns=["_where"]), geometry=geometry, crs="EPSG:4326")
    out.attrs["notes"] = report.notes
    out.attrs["source"] = str(path)
    return out
