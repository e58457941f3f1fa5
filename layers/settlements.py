"""Settlements: named places with a population, used to name gap hotspots and as route stops."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from .checks import BBox, check_points, check_required_text, parse_numbers, require_columns
from .errors import Report
from .plausible import check_layer_positions
from .read import read_table


def read_settlements(path: str | Path, *, study_area: BBox | None = None, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Points with `name` and `population` (persons, blank = unknown)."""
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None or not require_columns(frame, ("name", "population"), report):
        report.raise_if_any()
    frame["name"] = check_required_text(frame, "name", report)
    frame["population"] = parse_numbers(frame, "population", report)
    check_points(frame, report, study_area)
    check_layer_positions(frame, report, study_area)
    report.raise_if_any()
    return frame.drop(columns=["_where"])
