"""Field and geometry checks shared by the loaders; each reports every problem it finds."""
from __future__ import annotations

from collections.abc import Collection, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import Report
from .read import STUDY_AREA_MARGIN, where

BBox = tuple[float, float, float, float]
#: Date formats of data files: ISO 8601, ACLED's older "17 November 2023", UCDP's "2012-01-17 00:00:00.000".
#: Day/month forms such as 08/01/2024 are refused: their order cannot be told from the text.
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def text(value: object) -> str:
    """A cell as stripped text; '' for missing values of any type."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def require_columns(frame: pd.DataFrame, columns: Iterable[str], report: Report) -> bool:
    """Report each missing required column; True when all are present."""
    missing = [c for c in columns if c not in frame.columns]
    for column in missing:
        report.error(None, column, "required column is missing")
    return not missing


def parse_date(value: str) -> pd.Timestamp | None:
    for fmt in DATE_FORMATS:
        try:
            return pd.to_datetime(value, format=fmt)
        except (ValueError, TypeError):
            continue
    return None


def parse_dates(frame: pd.DataFrame, column: str, report: Report, *, required: bool = True) -> pd.Series:
    """Parse a date column; blank cells are NaT (an error when required), bad ones are reported.

    Vectorised: each format in DATE_FORMATS parses, all at once, the cells no earlier format could, so a
    cell gets the first format that fits it, as `parse_date` would give it; only bad cells are visited one by one."""
    raw = frame[column].map(text)
    parsed = np.full(len(frame), pd.NaT, dtype=object)
    todo = (raw != "").to_numpy(copy=True)
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        rows = np.flatnonzero(todo)
        dates = pd.to_datetime(raw.iloc[rows], format=fmt, errors="coerce")
        done = dates.notna().to_numpy()
        parsed[rows[done]] = list(dates[done].dt.normalize())
        todo[rows[done]] = False
    blank = (raw == "").to_numpy() & required
    for i in np.flatnonzero(todo | blank):  # row by row, in file order
        message = "missing date" if blank[i] else f"not a date: {raw.iat[i]!r} (expected YYYY-MM-DD)"
        report.error(where(frame, i), column, message)
    return pd.Series(pd.to_datetime(parsed), index=frame.index, name=column)


def check_vocabulary(frame: pd.DataFrame, column: str, allowed: Collection[str], report: Report, *, required: bool = True) -> pd.Series:
    """Lower-cased values of a vocabulary column; unknown or (when required) blank values are reported."""
    values = frame[column].map(text).str.lower()
    for i, value in enumerate(values):
        if value and value not in allowed:
            report.error(where(frame, i), column, f"unknown value {value!r}; expected one of {', '.join(sorted(allowed))}")
        elif not value and required:
            report.error(where(frame, i), column, "missing value")
    return values


def check_required_text(frame: pd.DataFrame, column: str, report: Report) -> pd.Series:
    values = frame[column].map(text)
    for i in np.flatnonzero((values == "").to_numpy()):
        report.error(where(frame, i), column, "missing value")
    return values


def check_unique(frame: pd.DataFrame, column: str, report: Report) -> None:
    """Report every repeated value of an id column, naming where each repeat is."""
    values = frame[column].map(text)
    repeated = values[(values != "") & values.duplicated(keep=False)]  # only repeats are grouped
    for value, rows in repeated.groupby(repeated).groups.items():
        if len(rows) > 1:
            places = ", ".join(frame["_where"].iat[frame.index.get_loc(r)] for r in rows)
            report.error(None, column, f"duplicate id {value!r} at {places}")


def parse_numbers(
    frame: pd.DataFrame, column: str, report: Report, *, integer: bool = False, minimum: float | None = 0, required: bool = False
) -> pd.Series:
    """Parse a numeric column (blank -> NaN); report non-numbers, non-integers and values below `minimum`."""
    out = np.full(len(frame), np.nan)
    for i, value in enumerate(frame[column]):
        raw = text(value)
        if not raw:
            if required:
                report.error(where(frame, i), column, "missing value")
            continue
        try:
            number = float(raw)
        except ValueError:
            report.error(where(frame, i), column, f"not a number: {raw!r}")
            continue
        if integer and not float(number).is_integer():
            report.error(where(frame, i), column, f"not a whole number: {raw!r}")
        elif minimum is not None and number < minimum:
            report.error(where(frame, i), column, f"{raw} is below {minimum:g}")
        else:
            out[i] = number
    return pd.Series(out, index=frame.index, name=column)


def check_points(frame: gpd.GeoDataFrame, report: Report, study_area: BBox | None) -> None:
    """Every geometry a non-empty point in degrees, inside the study area when one is declared."""
    for i, geom in enumerate(frame.geometry):
        if geom is None:
            continue  # already reported as a coordinate problem
        if geom.is_empty:
            report.error(where(frame, i), "geometry", "empty geometry")
            continue
        if geom.geom_type != "Point":
            report.error(where(frame, i), "geometry", f"expected a Point, got {geom.geom_type}")
            continue
        problem = coordinate_problem(geom.x, geom.y, study_area)
        if problem:
            report.error(where(frame, i), "geometry", problem)


def in_bbox(x: float, y: float, box: BBox, margin: float = STUDY_AREA_MARGIN) -> bool:
    return box[0] - margin <= x <= box[2] + margin and box[1] - margin <= y <= box[3] + margin


def coordinate_problem(lon: float, lat: float, study_area: BBox | None) -> str | None:
    """Why (lon, lat) is implausible, or None: not degrees, swapped, or outside the study area."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return f"({lon:g}, {lat:g}) is not a longitude/latitude in degrees: wrong CRS?"
    if study_area is None:
        return None
    if in_bbox(lon, lat, study_area):
        return None
    if in_bbox(lat, lon, study_area):
        return f"lon {lon:g}, lat {lat:g} lies outside the study area but fits it swapped: latitude and longitude swapped?"
    return f"lon {lon:g}, lat {lat:g} lies outside the study area {study_area}"


def check_polygons(frame: gpd.GeoDataFrame, report: Report) -> gpd.GeoSeries:
    """Polygonal geometries, invalid ones repaired with make_valid when that keeps a polygon (noted), else rejected."""
    geoms = frame.geometry.to_numpy().copy()
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            report.error(where(frame, i, None), "geometry", "missing or empty geometry")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            report.error(where(frame, i, None), "geometry", f"expected a Polygon or MultiPolygon, got {geom.geom_type}")
            continue
        if geom.is_valid:
            continue
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        polygonal = shapely.union_all([g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon", "MultiPolygon")])
        if polygonal.is_empty or polygonal.area == 0:
            report.error(where(frame, i, None), "geometry", f"invalid polygon that cannot be repaired ({reason})")
            continue
        report.note(where(frame, i, None), "geometry", f"invalid polygon repaired with make_valid ({reason})")
        geoms[i] = polygonal
    return gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
