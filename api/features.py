"""OGC API - Features (Part 1 Core, GeoJSON) for courts, prisons, incidents and boundaries."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from geo_justice.collections import FACILITY_KINDS, FILTERS, Interval, collection_names, facilities_view, incidents_view, select

from .deps import current_engine, snapshot
from .filtering import CONFORMANCE as FILTER_CONFORMANCE, FilterDep
from .geojson import features
from .models import Collection, Collections, Conformance, Feature, FeatureCollection, Landing
from .http import GEOJSON, bearer, etag_for, geojson_only, respond

CollectionId = Annotated[str, Path(description="Collection: courts, prisons, incidents, or boundaries when loaded")]
FeatureId = Annotated[str, Path(description="The feature's id (a facility id, or an incident id)")]

router = APIRouter()
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    *FILTER_CONFORMANCE,
]
DESCRIPTIONS = {
    "courts": "Courts at their seat, with status, status date and source (and sitting place when relocated)",
    "prisons": "Prisons with status, capacity and detainees where known",
    "incidents": "Conflict incidents; sources that forbid redistribution are served as per-cell aggregates",
    "boundaries": "Administrative boundaries loaded by the operator",
}


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def link(href: str, rel: str, type_: str = "application/json", title: str | None = None) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def dataset(request: Request):
    return current_engine(request).dataset


@router.get("/", summary="Landing page", response_model=Landing)
def landing(request: Request) -> dict:
    root = base(request)
    return {"title": "geo-justice", "description": f"Access to justice: {dataset(request).name}", "links": [
        link(f"{root}/", "self"), link(f"{root}/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0"),
        link(f"{root}/docs", "service-doc", "text/html"), link(f"{root}/conformance", "conformance"),
        link(f"{root}/collections", "data")]}


@router.get("/conformance", summary="Conformance classes", response_model=Conformance)
def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


def describe(request: Request, name: str) -> dict:
    root = base(request)
    data = dataset(request)
    frame = {"courts": data.courts, "prisons": data.prisons, "incidents": data.incidents, "boundaries": data.boundaries}[name]
    extent: dict = {"spatial": {"bbox": [list(map(float, frame.total_bounds))], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    if name == "incidents":
        extent["temporal"] = {"interval": [[f"{frame['date'].min():%Y-%m-%d}T00:00:00Z", f"{frame['date'].max():%Y-%m-%d}T00:00:00Z"]]}
    return {"id": name, "title": name.capitalize(), "description": DESCRIPTIONS[name], "itemType": "feature",
            "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"], "extent": extent, "links": [
                link(f"{root}/collections/{name}", "self"), link(f"{root}/collections/{name}/items", "items", GEOJSON),
                link(f"{root}/collections/{name}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json")]}


@router.get("/collections", summary="The layers", response_model=Collections)
def collections(request: Request) -> dict:
    return {"collections": [describe(request, n) for n in collection_names(dataset(request))],
            "links": [link(f"{base(request)}/collections", "self")]}


def known(request: Request, name: str) -> None:
    if name not in collection_names(dataset(request)):
        raise HTTPException(404, f"no collection {name!r}; collections: {', '.join(collection_names(dataset(request)))}")


@router.get("/collections/{collection_id}", summary="One layer", response_model=Collection)
def collection(request: Request, collection_id: CollectionId) -> dict:
    known(request, collection_id)
    return describe(request, collection_id)


def item_etag(request: Request, facility_id: str) -> str:
    """A facility's ETag in the request's snapshot: its store revision (ordered), the base data, today's date."""
    return snapshot(request).facility_etag(facility_id, date.today())


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"parameter 'bbox': {text!r} is not four comma-separated numbers") from None
    if len(values) != 4:
        raise ValueError(f"parameter 'bbox': expected 4 numbers (minlon,minlat,maxlon,maxlat), got {len(values)}")
    west, south, east, north = values
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90 and west <= east):
        raise ValueError(f"parameter 'bbox': {text!r} is not minlon,minlat,maxlon,maxlat in degrees")
    return west, south, east, north


def id_field(frame) -> str:
    """Features are identified by `id`, or by `name` in layers without one (boundaries)."""
    return "id" if "id" in frame.columns else "name"


def view(request: Request, name: str, interval: Interval | None):
    """The collection as this client may see it, with the attributions it carries."""
    if name == "incidents":
        return incidents_view(dataset(request), interval, raw_allowed=bearer(request) is not None)
    if name == "boundaries":
        return dataset(request).boundaries, ["geoBoundaries / OCHA (as loaded by the operator)"]
    return facilities_view(dataset(request), name, interval), []


@router.get("/collections/{collection_id}/items", summary="Features of a layer", response_class=Response,
            response_model=FeatureCollection, responses=geojson_only())
def items(
    request: Request, collection_id: CollectionId,
    cql2: FilterDep,
    bbox: str | None = Query(None, description="minlon,minlat,maxlon,maxlat (WGS 84)"),
    datetime: str | None = Query(None, description="Date or interval (a/b, ../b, a/..). Incidents: event date; facilities: status on that date (interval end)"),
    limit: int = Query(100, ge=1, le=10_000, description="Features per page (1 to 10,000)"),
    offset: int = Query(0, ge=0, description="Features to skip"),
    status: str | None = Query(None, description="Facilities: operational, partial, closed, unknown"),
    tier: str | None = Query(None, description="Courts: appeal, tgi, ti, jpce, specialized, military, other"),
    region: str | None = Query(None, description="Facilities: region name"),
    event_type: str | None = Query(None, description="Incidents: event type"),
    source_dataset: str | None = Query(None, description="Incidents: acled, ucdp, custom, synthetic"),
) -> Response:
    known(request, collection_id)
    given = {"status": status, "tier": tier, "region": region, "event_type": event_type, "source_dataset": source_dataset}
    given = {k: v for k, v in given.items() if v is not None}
    wrong = sorted(set(given) - set(FILTERS[collection_id]))
    if wrong:
        raise ValueError(f"parameter '{wrong[0]}' does not apply to {collection_id}; filters: {', '.join(FILTERS[collection_id]) or 'none'}")
    interval = Interval.parse(datetime) if datetime else None
    box = parse_bbox(bbox)
    raw = bearer(request) is not None
    etag = etag_for(dataset(request).version, str(request.url), raw, date.today())  # without datetime: as of today

    def body() -> dict:
        frame, attributions = view(request, collection_id, interval)
        chosen = select(frame, bbox=box, filters={k: v for k, v in given.items() if k in frame.columns})
        chosen = cql2.apply(chosen) if cql2 else chosen
        page = chosen.iloc[offset: offset + limit]
        root = f"{base(request)}/collections/{collection_id}/items"
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]

        def href(at: int) -> str:
            return f"{root}?{urlencode(query + [('limit', limit), ('offset', at)])}"
        links = [link(href(offset), "self", GEOJSON)]
        if offset + limit < len(chosen):
            links.append(link(href(offset + limit), "next", GEOJSON))
        if offset > 0:
            links.append(link(href(max(0, offset - limit)), "prev", GEOJSON))
        out = {"type": "FeatureCollection", "features": features(page, id_field(page)), "numberMatched": len(chosen),
               "numberReturned": len(page), "links": links}
        if attributions:
            out["attribution"] = "; ".join(attributions)
        return out

    return respond(request, etag, body, media_type=GEOJSON, public=not raw)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature", response_class=Response,
            response_model=Feature, responses=geojson_only())
def item(request: Request, collection_id: CollectionId, feature_id: FeatureId) -> Response:
    known(request, collection_id)
    frame, attributions = view(request, collection_id, None)
    key = id_field(frame)
    match = frame[frame[key].astype(str) == feature_id]
    if match.empty:
        raise HTTPException(404, f"no feature {feature_id!r} in {collection_id}")
    raw = request.headers.get("authorization") is not None
    etag = (item_etag(request, feature_id) if collection_id in FACILITY_KINDS
            else etag_for(dataset(request).version, str(request.url), raw))

    def body() -> dict:
        feature = features(match, key)[0]
        if attributions:
            feature["attribution"] = "; ".join(attributions)
        return feature

    return respond(request, etag, body, media_type=GEOJSON, public=not raw)
