"""Population: a raster of persons per cell in any CRS, resampled onto the analysis grid preserving the total.

rasterio is imported where a raster is read: a command that reads none (its grids kept on disk) loads no GDAL library.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from affine import Affine
from pyproj import CRS
from shapely.geometry import box, mapping, shape as as_shape

from .checks import BBox
from .errors import Problem, Report

if TYPE_CHECKING:
    from rasterio.errors import RasterioIOError

#: Authalic (equal-area) radius of the WGS 84 ellipsoid, metres.
AUTHALIC_RADIUS = 6_371_007.2


def cell_areas(transform: Affine, shape: tuple[int, int], crs: CRS) -> np.ndarray:
    """Area (m2) of each cell: exact on the authalic sphere for geographic CRSs, |det| for projected ones."""
    return np.broadcast_to(area_factors(transform, shape, crs), shape).copy()


def area_factors(transform: Affine, shape: tuple[int, int], crs: CRS) -> np.ndarray:
    """The cells' areas (m2) as an array that broadcasts to `shape`: one value per row, or one for all (no
    whole-grid array where one number or one column says it all)."""
    if not crs.is_geographic:
        return np.full((1, 1), abs(transform.a * transform.e - transform.b * transform.d))
    rows = np.arange(shape[0] + 1)
    lat = np.radians(transform.f + transform.e * rows)
    band = np.abs(np.diff(np.sin(lat))) * AUTHALIC_RADIUS**2 * np.radians(abs(transform.a))
    return band[:, None]


@dataclass(frozen=True)
class PopulationRaster:
    """Persons per cell in the raster's own grid."""

    counts: np.ndarray
    transform: Affine
    crs: CRS


def read_population_raster(path: str | Path, *, crs: str | None = None, study_area: BBox | None = None
                           ) -> PopulationRaster:
    """Band 1 of a persons-per-cell raster, validated: readable, a CRS (or `crs` declared), no negative counts,
    not all nodata or zero, and (when `study_area` is given) overlapping the study area.

    Nodata and non-finite cells count as 0 persons. Raises LayerError.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    report = Report.for_path(path)
    try:
        with rasterio.open(path) as src:
            src_crs = src.crs or (CRS.from_user_input(crs) if crs else None)
            transform, shape = src.transform, src.shape
            try:
                band = src.read(1, masked=True)
            except RasterioIOError as exc:
                report.error("band 1", None, f"the file is truncated or corrupt: its pixels cannot be read ({read_failure(exc)})")
                report.raise_if_any()
    except RasterioIOError as exc:
        report.error(None, None, f"cannot be read as a raster: not a raster file, or truncated or corrupt ({exc})")
        report.raise_if_any()
    counts = band.astype("float64").filled(np.nan)
    if src_crs is None:
        report.error(None, None, "raster has no CRS: declare it (e.g. crs='EPSG:4326' or --crs)")
    elif study_area is not None:
        check_raster_area(transform, shape, CRS.from_user_input(src_crs), study_area, report)
    finite = np.isfinite(counts)
    if not finite.any():
        report.error("band 1", None, f"every one of its {counts.size} cells is nodata: the raster holds no persons")
    elif not counts[finite].any():
        report.error("band 1", None, f"every one of its {counts.size} cells holds 0 persons (or nodata): wrong band or wrong file?")
    counts[~np.isfinite(counts)] = 0.0
    negative = np.argwhere(counts < 0)
    if len(negative):
        (row, col), many = negative[0], len(negative) > 1
        report.error("band 1", None, f"{len(negative)} cell{'s hold' if many else ' holds'} negative persons "
                     f"(first at row {row}, column {col}: {counts[row, col]:g}; min {counts.min():g})")
    report.raise_if_any()
    return PopulationRaster(counts, transform, CRS.from_user_input(src_crs))


def population_footprint(path: Path, study_area: BBox | None, crs: str | None = None) -> list[Problem]:
    """Problems with a raster's header alone (readable, a CRS, overlapping the study area): cheap, for loading a dataset."""
    import rasterio
    from rasterio.errors import RasterioIOError

    report = Report.for_path(path)
    try:
        with rasterio.open(path) as src:
            src_crs = src.crs or (CRS.from_user_input(crs) if crs else None)
            transform, shape = src.transform, src.shape
    except RasterioIOError as exc:
        report.error(None, None, f"cannot be read as a raster: not a raster file, or truncated or corrupt ({exc})")
        return report.problems
    if src_crs is None:
        report.error(None, None, "raster has no CRS: declare it (e.g. crs='EPSG:4326' or --crs)")
    elif study_area is not None:
        check_raster_area(transform, shape, CRS.from_user_input(src_crs), study_area, report)
    return report.problems


def read_failure(exc: RasterioIOError) -> str:
    """GDAL's own reason for a failed read (rasterio keeps it as the cause), without the file name it repeats."""
    detail = str(exc.__cause__ or exc.__context__ or exc)
    return "GDAL: " + (detail.split(": ", 1)[-1] if ", band " in detail.split(": ", 1)[0] else detail)


def check_raster_area(transform: Affine, shape: tuple[int, int], crs: CRS, study_area: BBox,
                      report: Report) -> None:
    """Report a raster whose footprint lies wholly outside the study area (lon/lat box)."""
    from rasterio.transform import array_bounds
    from rasterio.warp import transform_geom

    outline = box(*array_bounds(*shape, transform))
    west, south, east, north = as_shape(transform_geom(crs, "EPSG:4326", mapping(outline.segmentize(outline.length / 400)))).bounds
    if east < study_area[0] or west > study_area[2] or north < study_area[1] or south > study_area[3]:
        report.error(None, None, f"the raster covers ({west:.4g}, {south:.4g}, {east:.4g}, {north:.4g}), wholly outside the "
                     f"study area {tuple(study_area)}: wrong file or wrong CRS?")


def read_population(
    path: str | Path,
    *,
    dst_crs: CRS | str,
    dst_transform: Affine,
    dst_shape: tuple[int, int],
    crs: str | None = None,
) -> np.ndarray:
    """Persons per cell of the destination grid (float64), from band 1 of the raster.

    The source counts become densities, are resampled (area-weighted average) onto the grid and turned
    back into counts; the result is then scaled so that it holds exactly the persons of the source cells
    whose centres fall inside the grid. Raises LayerError (see read_population_raster).
    """
    from rasterio.features import geometry_mask
    from rasterio.transform import array_bounds
    from rasterio.warp import Resampling, reproject, transform_geom

    src = read_population_raster(path, crs=crs)
    dst_crs = CRS.from_user_input(dst_crs)
    density = src.counts / area_factors(src.transform, src.counts.shape, src.crs)
    out = np.zeros(dst_shape, dtype="float64")
    reproject(density, out, src_transform=src.transform, src_crs=src.crs, dst_transform=dst_transform,
              dst_crs=dst_crs, resampling=Resampling.average, src_nodata=None, dst_nodata=None,
              num_threads=min(2, os.cpu_count() or 1))  # GDAL splits each chunk by rows: the same cells either way
    out *= area_factors(dst_transform, dst_shape, dst_crs)
    grid_outline = box(*array_bounds(*dst_shape, dst_transform))
    outline_in_src = transform_geom(dst_crs, src.crs, mapping(grid_outline.segmentize(grid_outline.length / 400)))
    inside = ~geometry_mask([outline_in_src], src.counts.shape, src.transform)
    expected, got = src.counts[inside].sum(), out.sum()
    if got > 0:
        out *= expected / got
    return out
