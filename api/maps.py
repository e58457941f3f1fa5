"""Map pages, embeds and the Leaflet files they load: everything a page needs comes from this origin.

The page builders (`web.maps`, with folium and its templates: about 0.7 s to import) load with the first page
drawn, so a service starts answering without them."""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from geo_justice import prepare
from geo_justice.access import Engine, access_params
from geo_justice.collections import Interval
from geo_justice.tiles import TileStyle, attribution
from web.i18n import check_lang, label

from .deps import current_engine
from .analysis import Params
from .http import cached, etag_for, response_key
from .scenarios import ScenarioId, saved
from .tiles import Layer, Threshold, style_pairs, tile_style, tile_template

if TYPE_CHECKING:
    from web.maps import TileUrl

router = APIRouter(tags=["maps"])
Lang = Query("fr", description="Language of labels and legends: fr (default) or en", json_schema_extra={"enum": ["fr", "en"]})
HTML = "text/html; charset=utf-8"


def html_page(request: Request, parts: tuple, build: Callable[[], str], max_age: int = 300) -> Response:
    """An HTML page with its ETag (data version + parameters), 304 when the client has it, cached in memory."""
    etag = etag_for(current_engine(request).dataset.version, *parts)
    return cached(request, etag, lambda: build().encode(), media_type=HTML, cache_control=f"public, max-age={max_age}",
                  heavy=True)


def served_tiles(request: Request) -> TileUrl:
    """Versioned tile URLs of the service for the request's style parameters."""
    return tile_urls(current_engine(request), style_pairs(request))


def tile_urls(engine: Engine, pairs: list[tuple[str, str]]) -> TileUrl:
    version = engine.dataset.version
    return lambda style: tile_template(style.layer, pairs, style.version(version))


def coverage_etag(engine: Engine, p, threshold: float, lang: str, incidents: str | None) -> str:
    return etag_for(engine.dataset.version, "map", p, threshold, lang, incidents)


def prepare_default_map(engine: Engine, threshold: float = 120.0) -> None:
    """The default question's layers, then `/maps/coverage` (no parameters) in French and English, into the cache."""
    from web.maps import coverage_map, page

    p = access_params(as_of=engine.dataset.default_as_of)
    prepare.default_layers(engine, p, threshold)
    for lang in ("fr", "en"):
        build = lambda lang=lang: page(coverage_map(engine, p, threshold=threshold, lang=lang,
                                                    tile_url=tile_urls(engine, []))).encode()
        engine.cache.get_or_compute(response_key(coverage_etag(engine, p, threshold, lang, None)), build, len)


@router.get("/maps/coverage", response_class=HTMLResponse, summary="The coverage map (Folium, works offline)")
def coverage(request: Request, p: Params, threshold: float = Threshold, lang: str = Lang,
             incidents: str | None = Query(None, description="Incidents shown: a date or start/end interval "
                                           "(default: the conflict window before as_of)")) -> Response:
    from web.maps import coverage_map, page

    check_lang(lang)
    window = Interval.parse(incidents) if incidents else None
    engine, tiles = current_engine(request), served_tiles(request)
    etag = coverage_etag(engine, p, threshold, lang, incidents)
    return cached(request, etag, lambda: page(coverage_map(engine, p, threshold=threshold, lang=lang, window=window,
                                                           tile_url=tiles)).encode(),
                  media_type=HTML, cache_control="public, max-age=300", heavy=True)


@router.get("/maps/scenario/{scenario_id}", response_class=HTMLResponse, summary="Where a saved scenario changes access")
def scenario(request: Request, scenario_id: ScenarioId, p: Params, threshold: float = Threshold, lang: str = Lang) -> Response:
    from web.maps import page, scenario_map

    check_lang(lang)
    change, engine, tiles = saved(request, scenario_id), current_engine(request), served_tiles(request)
    return html_page(request, ("scenario map", change.key, p, threshold, lang), lambda: page(
        scenario_map(engine, p, change, threshold=threshold, lang=lang, tile_url=tiles)))


@router.get("/embed/{layer}", response_class=HTMLResponse, summary="A one-layer full-page map for an iframe")
def embed(request: Request, layer: Layer, p: Params, threshold: float = Threshold, lang: str = Lang) -> Response:
    from web.maps import embed_map, page

    check_lang(lang)
    style, engine, tiles = tile_style(layer, p, threshold), current_engine(request), served_tiles(request)
    return html_page(request, ("embed", style.key, lang), lambda: page(embed_map(engine, style, tiles, lang=lang)))


def snippet_html(request: Request, style: TileStyle, lang: str, height: int) -> str:
    src = f"{str(request.base_url).rstrip('/')}/embed/{style.layer}?{urlencode([*style_pairs(request), ('lang', lang)])}"
    title = label(lang, style.layer, t=style.threshold, date=style.params.as_of, start="", end="")
    sources = "; ".join(attribution(current_engine(request), style))
    return (f'<iframe src="{html.escape(src)}" title="{html.escape(title)}" width="100%" height="{height}" '
            f'style="border:0" loading="lazy" allowfullscreen></iframe>\n'
            f'<p style="font-size:12px;margin:4px 0">{html.escape(sources)}</p>\n')


@router.get("/embed/{layer}/snippet", response_class=HTMLResponse, summary="The iframe HTML to paste, with attribution")
def snippet(request: Request, layer: Layer, p: Params, threshold: float = Threshold, lang: str = Lang,
            height: int = Query(450, ge=100, le=2000, description="iframe height in pixels")) -> Response:
    check_lang(lang)
    style = tile_style(layer, p, threshold)
    return html_page(request, ("snippet", style.key, lang, height, str(request.base_url)),
                     lambda: snippet_html(request, style, lang, height))
