"""OGC API - Features Part 3 on items: the `filter`, `filter-lang` and `filter-crs` parameters (CQL2, pygeofilter)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import geopandas as gpd
import numpy as np
from fastapi import Depends, Query

from geo_justice.cql2 import TEXT, FilterError, parse
from geo_justice.filters import mask

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
PART3, CQL2 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf", "http://www.opengis.net/spec/cql2/1.0/conf"
#: Part 3 and the CQL2 classes whose operators geo_justice.filters evaluates (not arrays, not custom functions).
CONFORMANCE = [f"{PART3}/{c}" for c in ("queryables", "filter", "features-filter")] + [f"{CQL2}/{c}" for c in (
    "basic-cql2", "cql2-text", "cql2-json", "advanced-comparison-operators", "case-insensitive-comparison",
    "accent-insensitive-comparison", "basic-spatial-functions", "basic-spatial-functions-plus", "spatial-functions",
    "temporal-functions", "property-property", "arithmetic")]


@dataclass(frozen=True)
class Filter:
    """A CQL2 filter as given, read (once per text, see geo_justice.cql2.parse) when applied to the rows a collection
    serves to this caller, so that an unknown collection answers 404 before a bad filter answers 400."""

    text: str
    lang: str

    def apply(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return frame[cql2_mask(frame, self.text, self.lang, None)]


def cql2_filter(
    filter: str | None = Query(None, description="CQL2 condition on the collection's queryables (see /collections/{id}/queryables), "
                                                 "e.g. tier = 'appeal' or T_AFTER(date, DATE('2022-01-01'))"),
    filter_lang: Literal["cql2-text", "cql2-json"] = Query(TEXT, alias="filter-lang", description="cql2-text (default) or cql2-json"),
    filter_crs: Literal["http://www.opengis.net/def/crs/OGC/1.3/CRS84"] = Query(
        CRS84, alias="filter-crs", description="CRS of the filter's geometries: CRS84 (lon/lat) only"),
) -> Filter | None:
    """The items' filter, or None."""
    return None if filter is None else Filter(filter, filter_lang)


FilterDep = Annotated[Filter | None, Depends(cql2_filter)]


def cql2_mask(frame: gpd.GeoDataFrame, text: str | None, lang: str | None, crs: str | None) -> np.ndarray | None:
    """Which rows of `frame` a `filter` keeps (None without one), from the raw parameter values; 400 on a bad value."""
    if text is None:
        return None
    if crs not in (None, CRS84):
        raise FilterError(f"parameter 'filter-crs': {crs!r} is not supported; geometries in filters are {CRS84}")
    return mask(frame, parse(text, lang or TEXT))
