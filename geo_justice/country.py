"""The country a dataset maps: its outline (ADM0, else the union of its boundaries) for masks and views."""
from __future__ import annotations

from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union


def outline(dataset) -> BaseGeometry | None:
    """The country's outline in WGS 84: the `country` layer, else the union of `boundaries`, else None."""
    for frame in (dataset.country, dataset.boundaries):
        if frame is not None and len(frame):
            return unary_union(list(frame.to_crs("EPSG:4326").geometry))
    return None


def name(dataset) -> str | None:
    """The country's name from its `country` layer, when the dataset has one."""
    if dataset.country is not None and len(dataset.country) and "name" in dataset.country:
        return str(dataset.country["name"].iloc[0])
    return None
