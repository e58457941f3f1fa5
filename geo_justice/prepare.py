"""Compute ahead what the default map shows, so that its first visitor does not wait for it."""
from __future__ import annotations

from . import analysis
from .access import AccessParams, Engine
from .tiles import RASTER_LAYERS, TileStyle, mercator_classes


def default_layers(engine: Engine, params: AccessParams, threshold: float = 120.0) -> None:
    """Travel time, the raster layers on the tile grid, catchments and gap hotspots of `params`, into the
    engine's cache."""
    engine.access(params)
    for layer in RASTER_LAYERS:
        mercator_classes(engine, TileStyle(layer, params, threshold))
    analysis.catchment_areas(engine, params)
    analysis.access_gaps(engine, params, threshold)
