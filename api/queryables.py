"""/collections/{id}/queryables: the properties a CQL2 filter may name, as JSON Schema (OGC API - Features Part 3)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

import geopandas as gpd

from geo_justice.collections import FACILITY_KINDS, facilities_view, incidents_view
from geo_justice.filters import queryables as schema

from .features import CollectionId, base, dataset, known
from .http import bearer, etag_for, respond

SCHEMA_JSON = "application/schema+json"
router = APIRouter()


def served(request: Request, name: str, raw: bool) -> gpd.GeoDataFrame:
    """The rows the collection serves to this caller today (their columns and values make the queryables)."""
    data = dataset(request)
    if name in FACILITY_KINDS:
        return facilities_view(data, name, None)
    if name == "boundaries":
        return data.boundaries
    return incidents_view(data, None, raw_allowed=raw)[0]


@router.get("/collections/{collection_id}/queryables", summary="Properties a filter may name (JSON Schema)",
            response_class=Response, responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}}}}})
def queryables(request: Request, collection_id: CollectionId) -> Response:
    """Types from the columns served to this caller (anonymous callers of licence-restricted incidents filter the
    aggregates, so their queryables are the aggregates'), enums from the dataset's vocabulary."""
    known(request, collection_id)
    raw = bearer(request) is not None
    url = f"{base(request)}/collections/{collection_id}/queryables"

    def body() -> dict:
        frame = served(request, collection_id, raw)
        return {"$schema": "https://json-schema.org/draft/2019-09/schema", "$id": url, "type": "object",
                "title": collection_id.capitalize(), "properties": schema(frame, list(dataset(request).tiers)),
                "additionalProperties": False}

    return respond(request, etag_for(dataset(request).version, url, raw), body, media_type=SCHEMA_JSON, public=not raw)
