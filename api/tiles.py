"""XYZ PNG tiles and TileJSON: versioned URLs, strong ETags, 304s, long-lived caching."""
from __future__ import annotations

import html
import inspect
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from geo_justice.pyramid import IMMUTABLE, POINTER_MAX_AGE
from geo_justice.tiles import LAYERS, TILEJSON_ZOOMS, TileStyle, attribution, bounds, check_tile, render_tile

from .deps import current_engine
from .analysis import Params, params
from .http import cached, etag_for, respond

router = APIRouter(prefix="/tiles", tags=["tiles"])
UNVERSIONED_MAX_AGE = 300
Layer = Annotated[str, Path(description="traveltime, coverage, risk, basemap, courts, prisons or incidents")]
Z = Annotated[int, Path(description="Zoom level (0 to 18)")]
X = Annotated[int, Path(description="Tile column (0 to 2^z - 1)")]
Y = Annotated[int, Path(description="Tile row from the top (0 to 2^z - 1)")]
Threshold = Query(120.0, gt=0, description="coverage layer: minutes within which a cell counts as covered")
#: Query parameters that name a style; others (lang, v, ...) never enter a tile URL.
STYLE_PARAMS = frozenset([*inspect.signature(params).parameters, "threshold"])


def tile_style(layer: str, p: Params, threshold: float) -> TileStyle:
    if layer not in LAYERS:
        raise HTTPException(404, f"layer must be one of {', '.join(LAYERS)}, not {layer!r}")
    return TileStyle(layer, p, threshold)


def style_pairs(request: Request) -> list[tuple[str, str]]:
    """The request's style parameters, sorted: the same style, the same URL."""
    return sorted((k, v) for k, v in request.query_params.multi_items() if k in STYLE_PARAMS)


def tile_template(layer: str, pairs: list[tuple[str, str]], version: str, root: str = "") -> str:
    """The versioned XYZ URL template of a layer (relative to the service unless `root` is given)."""
    return f"{root}/tiles/{layer}/{{z}}/{{x}}/{{y}}.png?{urlencode([*pairs, ('v', version)])}"


def tilejson_body(request: Request, style: TileStyle) -> dict:
    """TileJSON 3.0.0 for the style, its tile URL carrying the current version."""
    engine = current_engine(request)
    west, south, east, north = bounds(engine, style)
    minzoom, maxzoom = TILEJSON_ZOOMS
    return {"tilejson": "3.0.0", "name": f"geo-justice {style.layer}", "scheme": "xyz",
            "tiles": [tile_template(style.layer, style_pairs(request), style.version(engine.dataset.version),
                                    str(request.base_url).rstrip("/"))],
            "minzoom": minzoom, "maxzoom": maxzoom, "bounds": [west, south, east, north],
            "center": [round((west + east) / 2, 5), round((south + north) / 2, 5), 5],
            "attribution": html.escape("; ".join(attribution(engine, style)))}


@router.get("/{layer}/tilejson.json", summary="TileJSON 3.0.0 of a layer, with its versioned tile URL")
def tilejson(request: Request, layer: Layer, p: Params, threshold: float = Threshold) -> Response:
    style = tile_style(layer, p, threshold)
    engine = current_engine(request)
    etag = etag_for("tilejson", style.version(engine.dataset.version), str(request.url))
    return respond(request, etag, lambda: tilejson_body(request, style), max_age=POINTER_MAX_AGE, heavy=True)


@router.get("/{layer}/{z}/{x}/{y}.png", response_class=Response, summary="A 256 px Web Mercator PNG tile",
            responses={200: {"content": {"image/png": {}}}})
def tile(request: Request, layer: Layer, z: Z, x: X, y: Y, p: Params, threshold: float = Threshold,
         v: str | None = Query(None, description="Style version from the TileJSON: makes the URL immutable")) -> Response:
    style = tile_style(layer, p, threshold)
    check_tile(z, x, y)
    engine = current_engine(request)
    version = style.version(engine.dataset.version)
    if v is not None and v != version:
        raise HTTPException(404, f"v={v!r} is not the current version of this layer ({version}); "
                                 f"get current tile URLs from /tiles/{layer}/tilejson.json")
    return cached(request, f'"{version}.{z}.{x}.{y}"', lambda: render_tile(engine, style, z, x, y), media_type="image/png",
                  cache_control=IMMUTABLE if v else f"public, max-age={UNVERSIONED_MAX_AGE}", heavy=True)
