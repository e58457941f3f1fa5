"""The analysis grid: square cells in an equal-area projection (metres) covering the study area.

rasterio is imported where geometries are burnt or traced: a command whose grids come from the grid cache
(`grid_cache`) loads no GDAL library.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import shapely.geometry
from affine import Affine
from pyproj import CRS, Transformer

BBox = tuple[float, float, float, float]


def equal_area_crs(bbox_lonlat: BBox) -> CRS:
    """Lambert azimuthal equal-area centred on the study area: true areas, small distance error near it."""
    lon0 = (bbox_lonlat[0] + bbox_lonlat[2]) / 2
    lat0 = (bbox_lonlat[1] + bbox_lonlat[3]) / 2
    return CRS.from_proj4(f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs")


@dataclass(frozen=True)
class Grid:
    """Rows and columns of square cells; `transform` maps (col, row) to the cell's upper-left corner."""

    crs: CRS
    transform: Affine
    shape: tuple[int, int]

    @classmethod
    def covering(cls, bbox_lonlat: BBox, resolution: float = 1000.0, crs: CRS | str | None = None) -> "Grid":
        """The smallest grid of `resolution`-metre cells, aligned on multiples of it, that covers the bbox."""
        if resolution <= 0:
            raise ValueError(f"resolution must be positive, not {resolution}")
        crs = CRS.from_user_input(crs) if crs else equal_area_crs(bbox_lonlat)
        to_grid = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        xmin, ymin, xmax, ymax = to_grid.transform_bounds(*bbox_lonlat, densify_pts=50)
        xmin, ymin = math.floor(xmin / resolution) * resolution, math.floor(ymin / resolution) * resolution
        xmax, ymax = math.ceil(xmax / resolution) * resolution, math.ceil(ymax / resolution) * resolution
        shape = (round((ymax - ymin) / resolution), round((xmax - xmin) / resolution))
        return cls(crs, Affine(resolution, 0, xmin, 0, -resolution, ymax), shape)

    @property
    def cell_size(self) -> float:
        return self.transform.a

    @property
    def cell_area_km2(self) -> float:
        return self.cell_size**2 / 1e6

    @property
    def bounds(self) -> BBox:
        """(xmin, ymin, xmax, ymax) of the grid's outer corners, in its CRS."""
        rows, cols = self.shape
        xs, ys = self.transform * (np.array([0, cols, 0, cols]), np.array([0, 0, rows, rows]))
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    @cached_property
    def key(self) -> tuple:
        """Hashable identity, for caches (found once: the CRS's WKT takes a while to write)."""
        return (self.crs.to_wkt(), tuple(self.transform)[:6], self.shape)

    def window(self, mask: np.ndarray) -> tuple["Grid", tuple[slice, slice]]:
        """The smallest sub-grid holding every True cell of `mask` (at least one cell), and its slices."""
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))  # not every cell's index
        if rows.size == 0:
            rows, cols = np.zeros(1, dtype=int), np.zeros(1, dtype=int)
        r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        return (Grid(self.crs, self.transform @ Affine.translation(c0, r0), (int(r1 - r0), int(c1 - c0))),
                (slice(r0, r1), slice(c0, c1)))

    def cells(self, geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, inside) of the cells holding each point geometry (any CRS)."""
        pts = geoms.to_crs(self.crs)
        cols, rows = ~self.transform * (pts.x.to_numpy(), pts.y.to_numpy())
        rows, cols = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
        inside = (rows >= 0) & (rows < self.shape[0]) & (cols >= 0) & (cols < self.shape[1])
        return rows, cols, inside

    def centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Projected x, y of cell centres (the affine transform applied directly: no per-point overhead)."""
        t = self.transform
        c, r = np.asarray(cols) + 0.5, np.asarray(rows) + 0.5
        return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f

    def rasterize(self, geoms: gpd.GeoSeries, values: np.ndarray | float = 1, *, fill: float = 0,
                  dtype: str = "float64", all_touched: bool = True) -> np.ndarray:
        """Burn geometries (any CRS) onto the grid; later geometries overwrite earlier ones."""
        import rasterio.features

        geoms = geoms.to_crs(self.crs)
        values = np.broadcast_to(np.asarray(values), (len(geoms),))
        shapes = [(g, v) for g, v in zip(geoms, values) if g is not None and not g.is_empty]
        if not shapes:
            return np.full(self.shape, fill, dtype=dtype)
        return rasterio.features.rasterize(shapes, out_shape=self.shape, transform=self.transform, fill=fill,
                                           dtype=dtype, all_touched=all_touched)


def polygons(grid: Grid, values: np.ndarray, mask: np.ndarray) -> gpd.GeoDataFrame:
    """One (multi)polygon per distinct integer value where `mask` holds, in WGS 84, column `value`."""
    import rasterio.features

    if values.dtype not in (np.uint8, np.int16, np.uint16, np.int32):  # the types rasterio traces as they are
        values = values.astype(np.int32)
    pieces = rasterio.features.shapes(values, mask=mask, transform=grid.transform, connectivity=8)
    rows = [(shapely.geometry.shape(geom), int(value)) for geom, value in pieces]
    if not rows:
        return gpd.GeoDataFrame({"value": []}, geometry=[], crs="EPSG:4326")
    frame = gpd.GeoDataFrame({"value": [v for _, v in rows]}, geometry=[g for g, _ in rows], crs=grid.crs)
    return frame.dissolve("value", as_index=False).to_crs("EPSG:4326")
