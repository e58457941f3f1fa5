"""Barriers (rivers, lakes, closed borders) and the crossings (bridges, ferries, dams) that open them."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from .checks import BBox, check_points, check_polygons, check_required_text, check_vocabulary, parse_numbers, require_columns
from .errors import Report
from .read import read_table, where

LINES = ("LineString", "MultiLineString")
POLYGONS = ("Polygon", "MultiPolygon")
#: Kinds of crossing; a ferry carries a waiting time.
CROSSING_KINDS = ("bridge", "dam", "ferry")
#: A crossing must lie this close to a barrier (metres), or it is a misplaced point.
MAX_CROSSING_DISTANCE_M = 2000.0


def read_barriers(path: str | Path, *, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Impassable lines (rivers, borders) and polygons (lakes) in WGS 84; a file may mix the two."""
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None:
        report.raise_if_any()
    kinds = frame.geom_type.fillna("")
    for i, geom in enumerate(frame.geometry):
        if geom is None or geom.is_empty:
            report.error(where(frame, i, None), "geometry", "missing or empty geometry")
        elif geom.geom_type not in LINES + POLYGONS:
            report.error(where(frame, i, None), "geometry",
                         f"a barrier is a line (river, border) or a polygon (lake), not a {geom.geom_type}")
    polygonal = kinds.isin(POLYGONS).to_numpy()
    if polygonal.any():
        repaired = check_polygons(frame[polygonal], report)
        frame.loc[polygonal, frame.geometry.name] = repaired.to_numpy()
    report.raise_if_any()
    frame.attrs["notes"] = report.notes
    return frame.drop(columns=["_where"])


def read_crossings(path: str | Path, *, study_area: BBox | None = None, barriers: gpd.GeoDataFrame | None = None,
                   layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Points where a barrier can be crossed: `name`, `kind` (bridge, dam, ferry), `source`, and for a ferry
    `wait_minutes` (its average wait, paid on top of the travel across). With `barriers`, each crossing
    must lie within 2 km of one."""
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None or not require_columns(frame, ("name", "kind", "source"), report):
        report.raise_if_any()
    frame["name"] = check_required_text(frame, "name", report)
    check_required_text(frame, "source", report)
    frame["kind"] = check_vocabulary(frame, "kind", set(CROSSING_KINDS), report)
    if "wait_minutes" in frame:
        frame["wait_minutes"] = parse_numbers(frame, "wait_minutes", report)
    else:
        frame["wait_minutes"] = np.nan
    for i in np.flatnonzero(((frame["kind"] == "ferry") & frame["wait_minutes"].isna()).to_numpy()):
        if "wait_minutes" not in report_fields(report, frame, i):
            report.error(where(frame, i), "wait_minutes", "a ferry needs its waiting time in minutes")
    frame["wait_minutes"] = frame["wait_minutes"].fillna(0.0)
    check_points(frame, report, study_area)
    if barriers is not None and not report.problems:
        for i, metres in enumerate(distances_to_barriers(frame.geometry, barriers)):
            if not metres <= MAX_CROSSING_DISTANCE_M:
                far = "more than 5 km" if np.isinf(metres) else f"{metres / 1000:.1f} km"
                report.error(where(frame, i), "geometry",
                             f"{far} from the nearest barrier; a crossing must lie within {MAX_CROSSING_DISTANCE_M / 1000:g} km of a river or lake")
    report.raise_if_any()
    return frame.drop(columns=["_where"])


def report_fields(report: Report, frame: gpd.GeoDataFrame, i: int) -> set[str]:
    """Fields already reported for row i (so one bad cell gets one message)."""
    place = where(frame, i)
    return {p.field for p in report.problems if p.where == place}


def distances_to_barriers(points: gpd.GeoSeries, barriers: gpd.GeoDataFrame, search_deg: float = 0.05) -> np.ndarray:
    """Metres from each point to the nearest barrier (inf when none lies within `search_deg`, about 5 km),
    measured in an azimuthal equidistant projection centred on the point (exact distances from it)."""
    geoms = barriers.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    out = np.full(len(points), np.inf)
    for i, point in enumerate(points):
        near = tree.query(point.buffer(search_deg))
        if near.size == 0:
            continue
        local = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={point.y} +lon_0={point.x} +datum=WGS84 +units=m",
                                     always_xy=True)
        projected = shapely.transform(geoms[near], lambda xy: np.column_stack(local.transform(xy[:, 0], xy[:, 1])))
        out[i] = shapely.distance(projected, shapely.Point(0, 0)).min()
    return out
