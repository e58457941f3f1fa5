"""OGC API - Features for courts, prisons, incidents and boundaries: Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0),
Part 2 (CRS by reference), `sortby` and `properties`; every answer comes from a prepared collection snapshot
(api.prepared), so an item or a page costs a lookup and a join of prepared bytes, not a status rebuild."""
from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from geo_justice.collections import FACILITY_KINDS, FILTERS, Interval, collection_names, facilities_view, in_interval, incidents_view

from . import html
from .crs import CRS84, STORAGE, SUPPORTED, bbox_to_crs84, content_crs, parse_crs
from .deps import current_engine, snapshot
from .http import GEOJSON, bearer, cached, etag_for, not_modified
from .filtering import CONFORMANCE as FILTER_CONFORMANCE, cql2_mask
from .models import Collection, Collections, Conformance, Feature, FeatureCollection, Landing
from .openapi30 import OPENAPI30, openapi30
from .prepared import Prepared
from .stamp import Prefix, stamped

CollectionId = Annotated[str, Path(description="Collection: courts, prisons, incidents, or boundaries when loaded")]
FeatureId = Annotated[str, Path(description="The feature's id (a facility id, or an incident id)")]
Format = Annotated[Literal["json", "html"] | None, Query(
    description="Encoding: json (GeoJSON for features) or html; without it, the Accept header decides (JSON unless it prefers text/html)")]
CrsUri = Literal["http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/4326",
                 "http://www.opengis.net/def/crs/EPSG/0/3857"]
CrsParam = Annotated[CrsUri | None, Query(description="CRS of the answer's geometries (default CRS84; EPSG:4326 is latitude first)")]


def encodings(json_type: str = "application/json") -> dict:
    """OpenAPI `responses` of an operation answering JSON (or GeoJSON) or, when asked, HTML."""
    return {200: {"content": {json_type: {}, HTML_TYPE: {"schema": {"type": "string"}}}}}

router = APIRouter()
HTML_TYPE = "text/html"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *FILTER_CONFORMANCE,
]
DESCRIPTIONS = {
    "courts": "Courts at their seat, with status, status date and source (and sitting place when relocated)",
    "prisons": "Prisons with status, capacity and detainees where known",
    "incidents": "Conflict incidents; sources that forbid redistribution are served as per-cell aggregates",
    "boundaries": "Administrative boundaries loaded by the operator",
}
#: Features per page at most: a larger `limit` is reduced to it (/req/core/fc-limit-response).
MAX_LIMIT = 10_000


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def link(href: str, rel: str, type_: str = "application/json", title: str | None = None) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def with_query(href: str, query: list[tuple[str, object]]) -> str:
    return f"{href}?{urlencode(query)}" if query else href


def alternates(request: Request, href: str, json_type: str = "application/json") -> list[dict]:
    """self and alternate links of a resource: its JSON and HTML encodings (the request's other parameters kept)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "f"]
    as_html = html.wants_html(request, request.query_params.get("f"))
    encodings = [(with_query(href, query + [("f", "json")]), json_type), (with_query(href, query + [("f", "html")]), HTML_TYPE)]
    return [link(h, "self" if (t == HTML_TYPE) == as_html else "alternate", t) for h, t in encodings]


def dataset(request: Request):
    return current_engine(request).dataset


def answer(request: Request, f: str | None, title: str, data: dict) -> Response | dict:
    """A JSON resource, or its HTML page when the client asks for HTML."""
    if html.wants_html(request, f):
        response = html.document(title, data)
        response.headers["Vary"] = "Accept"
        return response
    return data


@router.get("/", summary="Landing page", response_model=Landing, response_model_exclude_none=True, responses=encodings())
def landing(request: Request, f: Format = None) -> Response | dict:
    root = base(request)
    return answer(request, f, "geo-justice", {"title": "geo-justice", "description": f"Access to justice: {dataset(request).name}", "links": [
        *alternates(request, f"{root}/"),
        link(f"{root}/api", "service-desc", OPENAPI30, "The API definition (OpenAPI 3.0)"),
        link(f"{root}/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.1", "The API definition (OpenAPI 3.1)"),
        link(f"{root}/docs", "service-doc", HTML_TYPE, "The API documentation"),
        link(f"{root}/conformance", "conformance", title="Conformance classes"),
        link(f"{root}/collections", "data", title="The layers")]})


@router.get("/api", summary="The API definition as OpenAPI 3.0 (service-desc)", response_class=Response,
            responses={200: {"content": {OPENAPI30: {"schema": {"type": "object"}}}}})
def api_definition(request: Request) -> Response:
    return Response(openapi30(request.app), media_type=OPENAPI30)


@router.get("/conformance", summary="Conformance classes", response_model=Conformance, responses=encodings())
def conformance(request: Request, f: Format = None) -> Response | dict:
    return answer(request, f, "Conformance classes", {"conformsTo": CONFORMANCE})


def describe(request: Request, name: str) -> dict:
    root = base(request)
    data = dataset(request)
    frame = {"courts": data.courts, "prisons": data.prisons, "incidents": data.incidents, "boundaries": data.boundaries}[name]
    extent: dict = {"spatial": {"bbox": [list(map(float, frame.total_bounds))], "crs": CRS84}}
    if name == "incidents":
        extent["temporal"] = {"interval": [[f"{frame['date'].min():%Y-%m-%d}T00:00:00Z", f"{frame['date'].max():%Y-%m-%d}T00:00:00Z"]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    items = f"{root}/collections/{name}/items"
    return {"id": name, "title": name.capitalize(), "description": DESCRIPTIONS[name], "itemType": "feature",
            "crs": list(SUPPORTED), "storageCrs": STORAGE, "extent": extent, "links": [
                link(f"{root}/collections/{name}", "self"), link(f"{root}/collections/{name}?f=html", "alternate", HTML_TYPE),
                link(items, "items", GEOJSON), link(f"{items}?f=html", "items", HTML_TYPE),
                link(f"{root}/collections/{name}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json")]}


@router.get("/collections", summary="The layers", response_model=Collections, response_model_exclude_none=True,
            responses=encodings())
def collections(request: Request, f: Format = None) -> Response | dict:
    return answer(request, f, "Collections", {"collections": [describe(request, n) for n in collection_names(dataset(request))],
                                              "crs": list(SUPPORTED), "links": alternates(request, f"{base(request)}/collections")})


def known(request: Request, name: str) -> None:
    if name not in collection_names(dataset(request)):
        raise HTTPException(404, f"no collection {name!r}; collections: {', '.join(collection_names(dataset(request)))}")


@router.get("/collections/{collection_id}", summary="One layer", response_model=Collection, response_model_exclude_none=True,
            responses=encodings())
def collection(request: Request, collection_id: CollectionId, f: Format = None) -> Response | dict:
    known(request, collection_id)
    data = describe(request, collection_id)
    data["links"] = alternates(request, data["links"][0]["href"]) + data["links"][2:]
    return answer(request, f, data["title"], data)


def parse_bbox(text: str | None, crs: str) -> tuple[float, float, float, float] | None:
    """A `bbox` of 4 or 6 numbers (6: with heights, which 2D features ignore) in `crs`, as lon/lat corners
    (west, south, east, north); west > east crosses the antimeridian."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"parameter 'bbox': {text!r} is not four or six comma-separated numbers") from None
    if len(values) not in (4, 6):
        raise ValueError(f"parameter 'bbox': expected 4 or 6 numbers (minx,miny[,minz],maxx,maxy[,maxz]), got {len(values)}")
    if not all(np.isfinite(values)):
        raise ValueError(f"parameter 'bbox': {text!r} holds a number that is not finite")
    corners = (values[0], values[1], values[2], values[3]) if len(values) == 4 else (values[0], values[1], values[3], values[4])
    if crs != CRS84 and (corners[0] > corners[2] or corners[1] > corners[3]):
        raise ValueError(f"parameter 'bbox': {text!r} is not its lower corner then its upper corner in {crs}")
    west, south, east, north = bbox_to_crs84(corners, crs)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(f"parameter 'bbox': {text!r} is not minlon,minlat,maxlon,maxlat in degrees")
    return west, south, east, north


def id_field(frame) -> str:
    """Features are identified by `id`, or by `name` in layers without one (boundaries)."""
    return "id" if "id" in frame.columns else "name"


def status_day(interval: Interval | None) -> pd.Timestamp:
    """The day facilities are shown as of: the interval's end, else today."""
    return interval.end if interval is not None and interval.end is not None else pd.Timestamp.now().normalize()


def prepared(request: Request, name: str, interval: Interval | None, *, cached_only: bool = False) -> Prepared | None:
    """The collection's snapshot for this caller, data version and status date (prepared once, then cached); with
    `cached_only`, None when it is not prepared yet (the fast path then leaves the request to the routes).

    Incidents are prepared whole when the caller may see every row (a `datetime` window is then a mask over
    the snapshot); licence-restricted rows are aggregated per window, so anonymous windows are prepared each."""
    data = dataset(request)
    if name in FACILITY_KINDS:
        day = status_day(interval)
        part, build = (name, day), lambda key: Prepared(name, facilities_view(data, name, Interval(day, day)), "id", [], key=key)
    elif name == "boundaries":
        part, build = (name,), lambda key: Prepared(name, data.boundaries, id_field(data.boundaries),
                                                    ["geoBoundaries / OCHA (as loaded by the operator)"], key=key)
    elif bearer(request) is not None or all(data.licences[s].redistribute_raw for s in data.incidents["source_dataset"].unique()):
        part = (name, "all")
        build = lambda key: Prepared(name, data.incidents.assign(kind="event"), "id",  # noqa: E731
                                     {s: licence.attribution for s, licence in data.licences.items()}, key=key)
    else:
        part = (name, interval)

        def build(key: tuple) -> Prepared:
            frame, attributions = incidents_view(data, interval, raw_allowed=False)
            return Prepared(name, frame, "id", attributions, dated=False, key=key)
    cache = request.app.state.snapshot.engine.cache
    key = ("prepared", data.version, *part)
    if cached_only:
        return cache.get(key)
    return cache.get_or_compute(key, lambda: build(key), Prepared.nbytes)


def cql2_filter(prep: Prepared, text: str | None, lang: str | None, crs: str | None) -> np.ndarray | None:
    """The features a CQL2 `filter` selects (a boolean per feature), None without one (OGC API - Features Part 3,
    evaluated on the snapshot: `prep.frame` holds the served properties and geometry)."""
    return cql2_mask(prep.frame, text, lang, crs)


def selected(prep: Prepared, *, bbox: tuple[float, float, float, float] | None, interval: Interval | None,
             filters: dict[str, str], cql2: np.ndarray | None, sortby: tuple[tuple[str, bool], ...]) -> np.ndarray:
    """Positions of the features a query selects, in the order asked for: inside `bbox` (lon/lat), in the
    `datetime` window (incidents), equal to every property filter (case-insensitive), kept by the CQL2 filter."""
    keep = np.ones(len(prep), dtype=bool)
    if bbox is not None:
        keep &= prep.in_bbox(*bbox)
    if interval is not None and prep.dates is not None:
        keep &= in_interval(prep.dates, interval)
    for field, value in filters.items():
        if field in prep.columns:
            keep &= prep.lowered(field) == value.lower()
    if cql2 is not None:
        keep &= cql2
    if not sortby:
        return np.flatnonzero(keep)
    order = prep.order(sortby)
    return order[keep[order]]


def parse_sortby(text: str | None, prep: Prepared) -> tuple[tuple[str, bool], ...]:
    """`sortby=+name,-status` as (property, ascending) keys; 400 naming a property the collection lacks."""
    if text is None:
        return ()
    keys = []
    for term in text.split(","):
        term = term.strip()
        ascending = not term.startswith("-")
        name = term.lstrip("+-").strip()
        if name not in prep.columns:
            raise ValueError(f"parameter 'sortby': {prep.name} have no property {name!r}; properties: {', '.join(prep.columns)}")
        keys.append((name, ascending))
    return tuple(keys)


def parse_properties(text: str | None, prep: Prepared) -> list[str] | None:
    """`properties=name,status`: the only properties each feature carries (empty: none); 400 for an unknown one."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in prep.columns]
    if unknown:
        raise ValueError(f"parameter 'properties': {prep.name} have no property {unknown[0]!r}; properties: {', '.join(prep.columns)}")
    return names


@router.get("/collections/{collection_id}/items", summary="Features of a layer", response_class=Response,
            response_model=FeatureCollection, responses=encodings(GEOJSON))
def items(
    request: Request, collection_id: CollectionId,
    bbox: str | None = Query(None, description="minx,miny,maxx,maxy or minx,miny,minz,maxx,maxy,maxz, in bbox-crs (default CRS84: lon/lat)"),
    bbox_crs: CrsUri | None = Query(None, alias="bbox-crs", description="CRS of bbox (default CRS84; EPSG:4326 is latitude first)"),
    datetime: str | None = Query(None, description="Date or interval (a/b, ../b, a/..). Incidents: event date; facilities: status on that date (interval end)"),
    limit: int = Query(100, ge=1, description=f"Features per page (default 100); more than {MAX_LIMIT:,} is reduced to {MAX_LIMIT:,}"),
    offset: int = Query(0, ge=0, description="Features to skip"),
    status: str | None = Query(None, description="Facilities: operational, partial, closed, unknown"),
    tier: str | None = Query(None, description="Courts: appeal, tgi, ti, jpce, specialized, military, other"),
    region: str | None = Query(None, description="Facilities: region name"),
    event_type: str | None = Query(None, description="Incidents: event type"),
    source_dataset: str | None = Query(None, description="Incidents: acled, ucdp, custom, synthetic"),
    crs: CrsParam = None,
    sortby: str | None = Query(None, description="Comma-separated properties to sort by, each + (ascending, default) or - (descending), e.g. -status,name"),
    properties: str | None = Query(None, description="Comma-separated properties each feature carries (default: all; empty: none)"),
    filter: str | None = Query(None, description="A CQL2 filter expression (OGC API - Features Part 3)"),
    filter_lang: Literal["cql2-text", "cql2-json"] | None = Query(None, alias="filter-lang", description="cql2-text (default) or cql2-json"),
    filter_crs: Literal["http://www.opengis.net/def/crs/OGC/1.3/CRS84"] | None = Query(
        None, alias="filter-crs", description="CRS of the filter's geometries: CRS84 (lon/lat) only"),
    f: Format = None,
) -> Response:
    known(request, collection_id)
    given = {"status": status, "tier": tier, "region": region, "event_type": event_type, "source_dataset": source_dataset}
    given = {k: v for k, v in given.items() if v is not None}
    wrong = sorted(set(given) - set(FILTERS[collection_id]))
    if wrong:
        raise ValueError(f"parameter '{wrong[0]}' does not apply to {collection_id}; filters: {', '.join(FILTERS[collection_id]) or 'none'}")
    interval = Interval.parse(datetime) if datetime else None
    box = parse_bbox(bbox, parse_crs(bbox_crs, "bbox-crs"))
    out_crs, as_html = parse_crs(crs), html.wants_html(request, f)
    bearer(request)  # 401 or 403 for a bad token, before any work
    return page_answer(request, collection_id, prepared(request, collection_id, interval), limit=limit, offset=offset,
                       given=given, interval=interval, box=box, out_crs=out_crs, sortby=sortby, properties=properties,
                       cql2=(filter, filter_lang, filter_crs), as_html=as_html)


def page_answer(request: Request, collection_id: str, prep: Prepared, *, limit: int = 100, offset: int = 0,
                given: dict[str, str] | None = None, interval: Interval | None = None,
                box: tuple[float, float, float, float] | None = None, out_crs: str = CRS84, sortby: str | None = None,
                properties: str | None = None, cql2: tuple[str | None, str | None, str | None] = (None, None, None),
                as_html: bool = False) -> Response:
    """A page of a known collection's features (`prep`: its snapshot for this caller and `interval`), its
    parameters checked and parsed: the items route's answer, and the fast path's (api.fast)."""
    limit = min(limit, MAX_LIMIT)
    raw = bearer(request) is not None
    # the data version names the store revision; without datetime facilities stand as of today
    etag = etag_for(dataset(request).version, str(request.url), raw, date.today(), as_html)
    sort, chosen = parse_sortby(sortby, prep), parse_properties(properties, prep)
    mask = cql2_filter(prep, *cql2)
    positions = selected(prep, bbox=box, interval=interval, filters=given or {}, cql2=mask, sortby=sort)
    page = positions[offset: offset + limit]
    root = f"{base(request)}/collections/{collection_id}/items"
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit", "f")]

    def href(at: int, encoding: str) -> str:
        return f"{root}?{urlencode(query + [('limit', limit), ('offset', at), ('f', encoding)])}"

    def links(own: str) -> list[dict]:
        out = []
        for encoding, type_ in (("json", GEOJSON), ("html", HTML_TYPE)):
            out.append(link(href(offset, encoding), "self" if encoding == own else "alternate", type_))
            if offset + limit < len(positions):
                out.append(link(href(offset + limit, encoding), "next", type_))
            if offset > 0:
                out.append(link(href(max(0, offset - limit), encoding), "prev", type_))
        collection_href = f"{base(request)}/collections/{collection_id}"
        return out + [link(collection_href, "collection"), link(f"{collection_href}?f=html", "collection", HTML_TYPE)]
    json_links = links("json")
    headers = {"Content-Crs": content_crs(CRS84 if as_html else out_crs), "Vary": "Accept",
               "Link": ", ".join(f'<{li["href"]}>; rel="{li["rel"]}"; type="{li["type"]}"' for li in json_links
                        if li["rel"] in ("self", "alternate", "next", "prev") and li["type"] == GEOJSON or li["rel"] == "alternate")}
    public = "public" if not raw else "private"

    def features_bytes(crs: str) -> bytes:
        return b"[" + b",".join(prep.feature(int(p), crs, chosen) for p in page) + b"]"

    def tail() -> dict:
        out = {"numberMatched": len(positions), "numberReturned": len(page), "links": json_links}
        attribution = prep.attribution(positions)
        if attribution:
            out["attribution"] = attribution
        return out

    if as_html:
        def page_html() -> bytes:
            data = json.loads(b'{"type":"FeatureCollection","features":' + features_bytes(CRS84) + b"}")
            return html.features_page(f"{collection_id.capitalize()}: features", data, links("html"), matched=len(positions)).body
        return cached(request, etag, page_html, media_type="text/html; charset=utf-8", cache_control=f"{public}, max-age=300",
                      headers=headers)

    def body() -> tuple[Prefix, bytes]:
        # the features are the same for every URL naming this page (another limit past the end, other links)
        key = ("page", *prep.key, out_crs, None if chosen is None else tuple(chosen), hashlib.blake2b(page.tobytes()).digest())
        prefix = request.app.state.snapshot.engine.cache.get_or_compute(
            key, lambda: Prefix(b'{"type":"FeatureCollection","features":' + features_bytes(out_crs)), Prefix.nbytes)
        rest = json.dumps(tail(), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        return prefix, b"," + rest[1:-1]
    return stamped(request, etag, body, media_type=GEOJSON, cache_control=f"{public}, max-age=300", headers=headers)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature", response_class=Response,
            response_model=Feature, responses=encodings(GEOJSON))
def item(request: Request, collection_id: CollectionId, feature_id: FeatureId, crs: CrsParam = None, f: Format = None) -> Response:
    known(request, collection_id)
    out_crs, as_html = parse_crs(crs), html.wants_html(request, f)
    bearer(request)  # 401 or 403 for a bad token, before any work
    return item_answer(request, collection_id, feature_id, prepared(request, collection_id, None), out_crs, as_html)


def item_answer(request: Request, collection_id: str, feature_id: str, prep: Prepared, out_crs: str = CRS84,
                as_html: bool = False) -> Response:
    """One feature of a known collection (`prep`: its snapshot for this caller), 404 when it has none of that id:
    the item route's answer, and the fast path's (api.fast)."""
    raw = bearer(request) is not None
    position = prep.index.get(feature_id)
    if position is None:
        raise HTTPException(404, f"no feature {feature_id!r} in {collection_id}")
    variant = "" if out_crs == CRS84 and not as_html else etag_for(out_crs, as_html)[1:9]
    if collection_id in FACILITY_KINDS:  # its store revision: the ETag PATCH takes in If-Match
        etag = snapshot(request).facility_etag(feature_id, date.today())
        etag = f'{etag[:-1]}-{variant}"' if variant else etag
    else:
        etag = etag_for(dataset(request).version, str(request.url), raw, as_html)
    headers = {"ETag": etag, "Cache-Control": f"{'private' if raw else 'public'}, max-age=300", "Vary": "Accept",
               "Content-Crs": content_crs(CRS84 if as_html else out_crs)}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    own = f"{base(request)}/collections/{collection_id}/items/{feature_id}"
    collection_href = f"{base(request)}/collections/{collection_id}"
    attribution = prep.attribution(np.array([position]))
    if as_html:
        feature = json.loads(prep.feature(position))
        links = [link(f"{collection_href}/items?f=html", "collection", HTML_TYPE)]
        response = html.features_page(f"{collection_id.capitalize()}: {feature_id}", feature, links)
        response.headers.update(headers)
        return response
    links = alternates(request, own, GEOJSON) + [link(collection_href, "collection")]
    extra = {"links": links, **({"attribution": attribution} if attribution else {})}
    body = prep.feature(position, out_crs)[:-1] + b"," + json.dumps(extra, ensure_ascii=False, separators=(",", ":")).encode()[1:]
    return Response(body, media_type=GEOJSON, headers=headers)
