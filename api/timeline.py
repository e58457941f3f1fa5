"""The timeline over HTTP: regions with their per-date table (GeoJSON) or the per-date table (CSV), the chart
page for iframes with its snippet, and the map with a date slider."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from geo_justice.access import AccessParams
from geo_justice.defaults import DEFAULT_THRESHOLDS
from geo_justice.analysis import AnalysisResult
from geo_justice.timeline import regions_geojson, timeline, timeline_dates
from web.i18n import check_lang

from .analysis import DATE_PATTERN, Params, Thresholds
from .budget import charge
from .deps import current_engine
from .http import GEOJSON, cached, etag_for, respond
from .maps import Lang, html_page

router = APIRouter(tags=["timeline"])


@dataclass(frozen=True)
class Range:
    start: str
    end: str
    step: str
    thresholds: tuple[float, ...]


def date_range(
    start: str = Query(..., alias="from", description="First date (YYYY-MM-DD), on or after the first status event",
                       json_schema_extra={"format": "date", "pattern": DATE_PATTERN}),
    end: str = Query(..., alias="to", description="Last date (YYYY-MM-DD)", json_schema_extra={"format": "date", "pattern": DATE_PATTERN}),
    step: Literal["day", "week", "month", "quarter", "year"] = Query("month", description="Step between dates (at most 1,000 dates)"),
    threshold: Thresholds = None,
) -> Range:
    return Range(start, end, step, tuple(sorted({float(t) for t in threshold or DEFAULT_THRESHOLDS})))


def charged(request: Request, p: AccessParams, dates: Range) -> Range:
    """`dates`, once their cells (the grid's, once per date) are within the caller's budget."""
    engine = current_engine(request)
    count = len(timeline_dates(engine.dataset.events, dates.start, dates.end, dates.step))
    rows, cols = engine.grid(p.resolution_m).shape
    charge(request, "cells", rows * cols * count, f"from/to/step ({count} dates) at resolution={p.resolution_m:g}")
    return dates


Dates = Annotated[Range, Depends(date_range)]


def computed(request: Request, p: AccessParams, dates: Range) -> AnalysisResult:
    """The timeline, computed once per data version and question and kept in the engine's cache."""
    engine = current_engine(request)
    key = ("timeline", engine.dataset.version, p, dates)
    return engine.cache.get_or_compute(key, lambda: timeline(engine, p, dates.start, dates.end, dates.step, dates.thresholds),
                                       lambda r: int(sum(f.memory_usage(deep=True).sum() for f in r.layers.values())))


@router.get("/analysis/timeline", response_class=Response,
            summary="Coverage, facilities by status and conflict, date by date: regions with their per-date table")
def analysis_timeline(request: Request, p: Params, dates: Dates,
                      format: Literal["geojson", "csv"] = Query("geojson", description="geojson (regions with a per-date "
                                                                "table) or csv (one row per date, all regions)")) -> Response:
    dates = charged(request, p, dates)
    etag = etag_for(current_engine(request).dataset.version, "timeline", format, p, dates)
    if format == "csv":
        return cached(request, etag, lambda: computed(request, p, dates).summary.to_csv(index=False).encode(),
                      media_type="text/csv; charset=utf-8", cache_control="public, max-age=3600", heavy=True)
    return respond(request, etag, lambda: regions_geojson(computed(request, p, dates)), media_type=GEOJSON, max_age=3600,
                   heavy=True)


ChartThreshold = Query(None, gt=0, alias="chart_threshold",
                       description="Minutes drawn (one of the thresholds; default 120 if computed, else the largest)")


@router.get("/embed/timeline", response_class=HTMLResponse, summary="The coverage-over-time chart for an iframe (works offline)")
def embed_timeline(request: Request, p: Params, dates: Dates, lang: str = Lang, drawn: float | None = ChartThreshold,
                   region: Annotated[list[str] | None, Query(description="Also draw these regions (repeatable)")] = None) -> Response:
    from web.timeline import chart_page  # with folium: loaded by the first page (api.maps)

    check_lang(lang)
    dates, regions = charged(request, p, dates), tuple(region or ())
    return html_page(request, ("embed timeline", p, dates, lang, drawn, regions),
                     lambda: chart_page(computed(request, p, dates), lang=lang, regions=regions, threshold=drawn))


@router.get("/embed/timeline/snippet", response_class=HTMLResponse, summary="The iframe HTML to paste for the timeline chart")
def embed_timeline_snippet(request: Request, p: Params, dates: Dates, lang: str = Lang, drawn: float | None = ChartThreshold,
                           region: Annotated[list[str] | None, Query(description="Also draw these regions (repeatable)")] = None,
                           height: int = Query(520, ge=100, le=2000, description="iframe height in pixels")) -> Response:
    check_lang(lang)
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "height"]
    src = f"{str(request.base_url).rstrip('/')}/embed/timeline?{urlencode(pairs)}"
    title = "Accès à la justice dans le temps" if lang == "fr" else "Access to justice over time"
    source = f"geo-justice, {current_engine(request).dataset.name}"
    text = (f'<iframe src="{html.escape(src)}" title="{html.escape(title)}" width="100%" height="{height}" '
            f'style="border:0" loading="lazy"></iframe>\n'
            f'<p style="font-size:12px;margin:4px 0">{html.escape(source)}</p>\n')
    return html_page(request, ("timeline snippet", str(request.url)), lambda: text)


@router.get("/maps/timeline", response_class=HTMLResponse, summary="Coverage per region and court status with a date slider")
def map_timeline(request: Request, p: Params, dates: Dates, lang: str = Lang, drawn: float | None = ChartThreshold) -> Response:
    from web.timeline import chart_threshold, map_page  # with folium: loaded by the first page (api.maps)

    check_lang(lang)
    engine, dates = current_engine(request), charged(request, p, dates)

    def build() -> str:
        result = computed(request, p, dates)
        chart_threshold(result, drawn)  # a threshold not computed is a 400 before any page is built
        return map_page(engine, result, lang=lang, threshold=drawn, self_contained=False)
    return html_page(request, ("timeline map", p, dates, lang, drawn), build)
