"""Checks that a well-formed file is also plausible: documented value ranges, date order, dates not in the
future, positions that fit the study area (or look swapped, or look like another CRS)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .checks import BBox
from .errors import Report
from .read import STUDY_AREA_MARGIN, where

#: Half the extent of the Web Mercator (EPSG:3857) plane, metres.
WEB_MERCATOR_HALF = 20_037_508.342789244


def check_range(frame: pd.DataFrame, column: str, report: Report, low: float | None, high: float | None,
                *, values: pd.Series | None = None) -> None:
    """Report each value of `column` outside [low, high] (either end open when None); blanks are skipped.

    `values` are the already parsed numbers when the reader has them; otherwise the column is read here
    (and a cell that is not a number is reported).
    """
    if values is None:
        if column not in frame:
            return
        raw = frame[column].astype(str).str.strip()
        values = pd.to_numeric(raw, errors="coerce")
        for i in np.flatnonzero((values.isna() & (raw != "") & (raw.str.lower() != "nan")).to_numpy()):
            report.error(where(frame, i), column, f"not a number: {raw.iat[i]!r}")
    numbers = values.to_numpy(dtype=float)
    bad = np.zeros(len(numbers), dtype=bool)
    if low is not None:
        bad |= numbers < low
    if high is not None:
        bad |= numbers > high
    span = f"{low:g} to {high:g}" if low is not None and high is not None else (f">= {low:g}" if low is not None else f"<= {high:g}")
    for i in np.flatnonzero(bad):
        report.error(where(frame, i), column, f"{numbers[i]:g} is outside the documented range {span}")


def check_date_order(frame: pd.DataFrame, start: pd.Series, end: pd.Series, report: Report, start_name: str, end_name: str) -> None:
    """Report each row whose `end` date comes before its `start` date."""
    for i in np.flatnonzero((end < start).to_numpy()):
        report.error(where(frame, i), end_name,
                     f"{end.iat[i]:%Y-%m-%d} is before {start_name} {start.iat[i]:%Y-%m-%d}: the event ends before it starts")


def check_not_future(frame: pd.DataFrame, dates: pd.Series, report: Report, column: str) -> None:
    """Report each date after today (a recorded event or observed status cannot be in the future)."""
    today = pd.Timestamp.now().normalize()
    for i in np.flatnonzero((dates > today).to_numpy()):
        report.error(where(frame, i), column, f"{dates.iat[i]:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d})")


def in_box(xs: np.ndarray, ys: np.ndarray, box: BBox, margin: float = STUDY_AREA_MARGIN) -> np.ndarray:
    return (xs >= box[0] - margin) & (xs <= box[2] + margin) & (ys >= box[1] - margin) & (ys <= box[3] + margin)


def check_layer_positions(frame: gpd.GeoDataFrame, report: Report, study_area: BBox | None) -> None:
    """One problem for the whole layer when at least two points, and at least half of them, look swapped or in another CRS.

    The rows are reported one by one by `check_points`; this says what the layer as a whole looks like.
    """
    points = frame.geometry[frame.geometry.notna() & ~frame.geometry.is_empty & (frame.geom_type == "Point")]
    if points.empty:
        return
    xs, ys = points.x.to_numpy(), points.y.to_numpy()
    total = len(points)
    degrees = (np.abs(xs) <= 180) & (np.abs(ys) <= 90)
    if (~degrees).sum() >= 2 and (~degrees).sum() * 2 >= total:
        report.error(None, "geometry", f"{(~degrees).sum()} of {total} points are not longitude/latitude degrees: "
                     f"the layer looks like {crs_guess(xs[~degrees], ys[~degrees], study_area)}")
        return
    if study_area is None:
        return
    swapped = ~in_box(xs, ys, study_area) & in_box(ys, xs, study_area)
    if swapped.sum() >= 2 and swapped.sum() * 2 >= total:
        report.error(None, "geometry", f"{swapped.sum()} of {total} points lie outside the study area {study_area} but fit "
                     "it with latitude and longitude exchanged: the layer looks like its latitude and longitude are swapped")


def crs_guess(xs: np.ndarray, ys: np.ndarray, study_area: BBox | None) -> str:
    """What numbers that are not degrees probably are, in words."""
    advice = "; reproject the file to EPSG:4326 or declare the CRS it was made in"
    if ((np.abs(xs) <= WEB_MERCATOR_HALF) & (np.abs(ys) <= WEB_MERCATOR_HALF)).all():
        lon = np.degrees(xs / 6_378_137.0)
        lat = np.degrees(2 * np.arctan(np.exp(ys / 6_378_137.0)) - np.pi / 2)
        if study_area is not None and in_box(lon, lat, study_area).all():
            return "Web Mercator metres (EPSG:3857: read so, they fall in the study area)" + advice
        if ((xs >= 100_000) & (xs <= 900_000) & (np.abs(ys) <= 10_000_000)).all():
            return "UTM metres (eastings and northings of a UTM zone)" + advice
        return "Web Mercator metres (EPSG:3857)" + advice
    return "projected coordinates, not degrees" + advice


def check_degrees(frame: gpd.GeoDataFrame, report: Report) -> None:
    """In a layer whose CRS is geographic, report each line or polygon with coordinates beyond ±180/±90.

    Points are left to `check_points`.
    """
    if frame.crs is None or not frame.crs.is_geographic:
        return
    geoms = frame.geometry.to_numpy()
    kept = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & (shapely.get_type_id(geoms) != 0)  # 0: Point
    if not kept.any():
        return
    bounds = shapely.bounds(geoms[kept])
    bad = (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1) | (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
    if not bad.any():
        return
    guess = crs_guess(bounds[bad][:, [0, 2]].ravel(), bounds[bad][:, [1, 3]].ravel(), None)
    label = frame.crs.to_string()
    for i, b in zip(np.flatnonzero(kept)[bad], bounds[bad]):
        report.error(where(frame, i, None), "geometry",
                     f"coordinates reach ({b[0]:.6g}, {b[1]:.6g}, {b[2]:.6g}, {b[3]:.6g}), not degrees though the file "
                     f"says {label}: they look like {guess}")


def check_overlaps_area(frame: gpd.GeoDataFrame, report: Report, study_area: BBox | None) -> None:
    """A line or polygon layer must reach the study area somewhere; one problem when no feature does."""
    if study_area is None or frame.empty:
        return
    b = frame.total_bounds
    if np.isnan(b).any() or (np.abs(b[[0, 2]]) > 180).any() or (np.abs(b[[1, 3]]) > 90).any():
        return  # already reported as not degrees
    m = STUDY_AREA_MARGIN
    if b[2] < study_area[0] - m or b[0] > study_area[2] + m or b[3] < study_area[1] - m or b[1] > study_area[3] + m:
        report.error(None, "geometry", f"no feature reaches the study area {study_area}: the layer covers "
                     f"({b[0]:.4g}, {b[1]:.4g}, {b[2]:.4g}, {b[3]:.4g}); wrong file, wrong CRS, or another study area?")
