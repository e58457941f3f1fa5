"""OGC API - Features Part 3 on items: what the `filter`, `filter-lang` and `filter-crs` parameters select (CQL2, pygeofilter)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo_justice.filters import FilterError, mask

from .crs import CRS84

PART3, CQL2 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf", "http://www.opengis.net/spec/cql2/1.0/conf"
#: Part 3 and the CQL2 classes whose operators geo_justice.filters evaluates (not arrays, not custom functions).
CONFORMANCE = [f"{PART3}/{c}" for c in ("queryables", "filter", "features-filter")] + [f"{CQL2}/{c}" for c in (
    "basic-cql2", "cql2-text", "cql2-json", "advanced-comparison-operators", "case-insensitive-comparison",
    "accent-insensitive-comparison", "basic-spatial-functions", "basic-spatial-functions-plus", "spatial-functions",
    "temporal-functions", "property-property", "arithmetic")]


def cql2_mask(frame: gpd.GeoDataFrame, text: str | None, lang: str | None, crs: str | None) -> np.ndarray | None:
    """Which rows of `frame` a `filter` keeps (None without one), from the raw parameter values; 400 on a bad value."""
    if text is None:
        return None
    if crs not in (None, CRS84):
        raise FilterError(f"parameter 'filter-crs': {crs!r} is not supported; geometries in filters are {CRS84}")
    from geo_justice.cql2 import TEXT, parse  # its grammars are built on import (0.5 s): only once a filter comes

    return mask(frame, parse(text, lang or TEXT))
