"""Read a CSV or vector file into a GeoDataFrame in EPSG:4326, reporting what cannot be read."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import Report

WGS84 = "EPSG:4326"
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
#: How far (degrees) a point may lie outside the declared study area before it is called implausible.
STUDY_AREA_MARGIN = 1.0


def read_text_table(path: Path, report: Report) -> pd.DataFrame | None:
    """Read a UTF-8 CSV as strings; '' for empty cells. None (with problems reported) when unreadable."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        report.error(f"line {line}", None, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8")
        return None
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        report.error(None, None, f"cannot be parsed as CSV: {exc}")
        return None
    table.columns = [c.strip() for c in table.columns]
    table.index = pd.RangeIndex(len(table))
    table["_where"] = [f"line {i + 2}" for i in range(len(table))]
    return table


def points_from_columns(table: pd.DataFrame, lon: str, lat: str, report: Report) -> gpd.GeoDataFrame:
    """Point geometry from text lon/lat columns; unparseable coordinates are reported, their rows get None."""
    xs = pd.to_numeric(table[lon].str.strip(), errors="coerce")
    ys = pd.to_numeric(table[lat].str.strip(), errors="coerce")
    for column, values in ((lon, xs), (lat, ys)):
        for i in np.flatnonzero(values.isna().to_numpy()):
            text = table[column].iat[i]
            report.error(where(table, i), column, "missing coordinate" if not text.strip() else f"not a number: {text!r}")
    ok = (xs.notna() & ys.notna()).to_numpy()
    geometry = np.full(len(table), None, dtype=object)
    geometry[ok] = shapely.points(xs[ok].to_numpy(), ys[ok].to_numpy())
    return gpd.GeoDataFrame(table, geometry=geometry, crs=WGS84)


def read_vector_file(path: Path, report: Report, *, layer: str | None, crs: str | None) -> gpd.GeoDataFrame | None:
    """Read a vector file with pyogrio; reproject to WGS 84. None (with problems reported) when unreadable."""
    import pyogrio  # here, not above: a dataset from the parsed-dataset cache loads no GDAL library

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several GDAL-derived types for unreadable data
        report.error(None, None, f"cannot be read as a vector file ({type(exc).__name__}: {exc})")
        return None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        report.error(None, None, "has no geometry")
        return None
    if frame.crs is None:
        if crs is None:
            report.error(None, None, "has no CRS: declare it (e.g. crs='EPSG:4326' or --crs)")
            return None
        frame = frame.set_crs(crs)
    if not frame.crs.equals(WGS84):
        frame = frame.to_crs(WGS84)
    frame.index = pd.RangeIndex(len(frame))
    frame["_where"] = [f"feature {i}" for i in range(len(frame))]
    from .plausible import check_degrees  # plausible builds on this module
    check_degrees(frame, report)
    return frame


def read_table(
    path: str | Path,
    report: Report,
    *,
    lon: str | tuple[str, ...] = "lon",
    lat: str | tuple[str, ...] = "lat",
    layer: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame | None:
    """Read any supported file (CSV with lon/lat columns, or a vector file) into a WGS 84 GeoDataFrame.

    For a CSV, `lon` and `lat` may list candidate column names; the first candidate present is used.

    A `_where` column locates each row for messages ("line 7", "feature 3").
    Returns None when the file cannot be read at all; the reasons are in `report`.
    """
    path = Path(path)
    if not path.is_file():
        report.error(None, None, f"file not found: {path}")
        return None
    if path.stat().st_size == 0:
        report.error(None, None, "file is empty")
        return None
    if path.suffix.lower() in TEXT_SUFFIXES:
        table = read_text_table(path, report)
        if table is None:
            return None
        lon_column, lat_column = (first_present(table.columns, names) for names in (lon, lat))
        for column, names in ((lon_column, lon), (lat_column, lat)):
            if column is None:
                report.error(None, " or ".join(as_tuple(names)), "required coordinate column is missing")
        if lon_column is None or lat_column is None:
            return None
        frame = points_from_columns(table, lon_column, lat_column, report).drop(columns=[lon_column, lat_column])
        if crs is not None and not frame.crs.equals(crs):
            frame = frame.set_crs(crs, allow_override=True).to_crs(WGS84)
    else:
        frame = read_vector_file(path, report, layer=layer, crs=crs)
        if frame is None:
            return None
    if frame.empty:
        report.error(None, None, "has no rows or features")
        return None
    return frame


def as_tuple(names: str | tuple[str, ...]) -> tuple[str, ...]:
    return (names,) if isinstance(names, str) else names


def first_present(columns: pd.Index, names: str | tuple[str, ...]) -> str | None:
    return next((n for n in as_tuple(names) if n in columns), None)


def where(frame: pd.DataFrame, i: int, id_field: str | None = "id") -> str:
    """Locator of row i for messages, with its id when it has one."""
    place = frame["_where"].iat[i]
    if id_field and id_field in frame.columns:
        value = frame[id_field].iat[i]
        if isinstance(value, str) and value.strip():
            return f"{place} (id {value.strip()})"
    return place
