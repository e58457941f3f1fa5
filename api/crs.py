"""OGC API - Features Part 2 (CRS by reference): the coordinate reference systems items are served in and bboxes
are given in, named by their OGC URIs; geometries reprojected with pyproj, in each CRS's own axis order."""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
#: Every CRS the service answers in (first: the default), and the one its data is stored in.
SUPPORTED = (CRS84, EPSG4326, EPSG3857)
STORAGE = CRS84


def parse_crs(uri: str | None, name: str = "crs") -> str:
    """The CRS a `crs` or `bbox-crs` parameter names (CRS84 when absent); ValueError naming the choices otherwise."""
    if uri is None:
        return CRS84
    if uri not in SUPPORTED:
        raise ValueError(f"parameter {name!r}: {uri!r} is not one of this service's CRSs: {', '.join(SUPPORTED)}")
    return uri


def content_crs(uri: str) -> str:
    """The Content-Crs header value of an answer in `uri`."""
    return f"<{uri}>"


@lru_cache(maxsize=None)
def _transformer(source: str, target: str) -> Transformer:
    """lon/lat (CRS84) to `target` or back, in the target's axis order (EPSG:4326 is latitude first)."""
    return Transformer.from_crs(CRS.from_user_input(source), CRS.from_user_input(target))


def _pyproj_name(uri: str) -> str:
    return "OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.rsplit("/", 1)[1]


def from_crs84(uri: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """A function mapping (n, 2) CRS84 coordinates to `uri`'s, in its axis order; None for CRS84 itself."""
    if uri == CRS84:
        return None
    transformer = _transformer("OGC:CRS84", _pyproj_name(uri))

    def apply(coords: np.ndarray) -> np.ndarray:
        first, second = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([first, second])
    return apply


def reproject(geometries: np.ndarray, uri: str) -> np.ndarray:
    """CRS84 shapely geometries in `uri` (coordinates in that CRS's axis order)."""
    apply = from_crs84(uri)
    return geometries if apply is None else shapely.transform(geometries, apply)


def bbox_to_crs84(values: tuple[float, ...], uri: str) -> tuple[float, float, float, float]:
    """A 2D bbox given in `uri` (its axis order: lat/lon for EPSG:4326) as lon/lat corners (west, south, east, north)."""
    low, high = (values[0], values[1]), (values[2], values[3])
    if uri == CRS84:
        return low[0], low[1], high[0], high[1]
    if uri == EPSG4326:
        return low[1], low[0], high[1], high[0]
    back = _transformer(_pyproj_name(uri), "OGC:CRS84")
    west, south, east, north = back.transform_bounds(low[0], low[1], high[0], high[1])
    return west, south, east, north
