"""Writes: status updates of facilities and new incidents, with a bearer token, audited, all or nothing."""
from __future__ import annotations

import json
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import Field

from geo_justice.collections import FACILITY_KINDS
from layers import read_incidents
from layers.checks import coordinate_problem
from layers.history import AT_SEAT
from layers.store import Conflict, Duplicate, Moved

from .deps import StoreDep, TokenDep, refresh, snapshot
from .features import CollectionId, FeatureId, dataset, known, prepared
from .geojson import table
from .http import GEOJSON, geojson_only
from .models import Added, Feature, History
from .strict import IsoDate, StrictModel

router = APIRouter(tags=["writes"])
#: A facility's ETag (see api.deps.Snapshot.facility_etag).
ETAG = re.compile(r"(?P<facility>.+)\.r(?P<revision>\d+)\.[0-9a-f]{8}\.\d{8}(-[0-9a-f]{8})?")  # -hash: another CRS or HTML
MAX_RETRIES = 50


class SittingPlace(StrictModel):
    name: str = Field(min_length=1, description="Town where the facility now sits")
    lon: float
    lat: float


class StatusUpdate(StrictModel):
    """One status event: a status and/or a sitting place (or 'seat' to return to it), dated and sourced."""

    status: Literal["operational", "partial", "closed", "unknown"] | None = None
    sitting: SittingPlace | Literal["seat"] | None = None
    as_of: IsoDate = Field(default_factory=date.today, description="Date the change took effect, YYYY-MM-DD (default today)")
    source: str = Field(min_length=1, description="Citation for the change, or 'assumed'")
    note: str = ""


def current(request: Request, name: str, facility_id: str) -> bytes:
    """The facility's GeoJSON feature as it stands today, from the collection's prepared snapshot (built once per
    data version, and the one the next read answers from), 404 when there is none."""
    prep = prepared(request, name, None)
    position = prep.index.get(facility_id)
    if position is None:
        raise HTTPException(404, f"no feature {facility_id!r} in {name}")
    return prep.feature(position)


def expected_revision(request: Request, facility_id: str) -> int | None:
    """The revision the If-Match ETag names; None without If-Match; 412 for an ETag of another facility."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    match = ETAG.fullmatch(header.strip().removeprefix("W/").strip('"'))
    if match is None or match["facility"] != facility_id:
        raise HTTPException(412, f"If-Match {header} is not an ETag of {facility_id}")
    return int(match["revision"])


@router.patch("/collections/{collection_id}/items/{feature_id}", summary="Append a status event (token required)",
              response_class=Response, response_model=Feature, responses=geojson_only())
def update(request: Request, collection_id: CollectionId, feature_id: FeatureId, update: StatusUpdate,
           who: TokenDep, store: StoreDep) -> Response:
    if collection_id not in FACILITY_KINDS:
        raise HTTPException(404, f"only courts and prisons take status updates, not {collection_id!r}")
    current(request, collection_id, feature_id)
    if update.status is None and update.sitting is None:
        raise ValueError("the update must set 'status' or 'sitting'")
    sitting = {"sitting_name": "", "sitting_lon": None, "sitting_lat": None}
    if update.sitting == AT_SEAT:
        sitting["sitting_name"] = AT_SEAT
    elif update.sitting is not None:
        problem = coordinate_problem(update.sitting.lon, update.sitting.lat, dataset(request).study_area)
        if problem:
            raise ValueError(f"field 'sitting': {problem}")
        sitting = {"sitting_name": update.sitting.name, "sitting_lon": update.sitting.lon, "sitting_lat": update.sitting.lat}
    event = {"facility_id": feature_id, "as_of": update.as_of.isoformat(), "status": update.status or "",
             **sitting, "source": update.source, "note": update.note}
    expected = expected_revision(request, feature_id)
    for _ in range(MAX_RETRIES):  # `before` must be the state the event follows: read it again if another write came first
        snap = snapshot(request)
        try:
            before = json.loads(current(request, collection_id, feature_id))["properties"]
            store.append_event(event, who, expected_revision=expected, before=before,
                               based_on=snap.store.facility_revisions.get(feature_id, 0))
            break
        except Conflict as exc:
            raise HTTPException(412, f"stale If-Match: {exc}; GET the item again") from None
        except Moved:
            refresh(request)
    else:
        raise HTTPException(503, "too many concurrent writes to this facility; try again", headers={"Retry-After": "1"})
    snap = refresh(request)
    return Response(current(request, collection_id, feature_id), media_type=GEOJSON,
                    headers={"ETag": snap.facility_etag(feature_id, date.today())})


@router.get("/collections/{collection_id}/items/{feature_id}/history", summary="Status events and audit records", response_model=History)
def history(request: Request, collection_id: CollectionId, feature_id: FeatureId) -> dict:
    known(request, collection_id)
    if collection_id not in FACILITY_KINDS:
        raise HTTPException(404, f"{collection_id} has no status history")
    current(request, collection_id, feature_id)
    events = dataset(request).events
    return {"id": feature_id, "events": table(events[events["facility_id"] == feature_id]),
            "audit": table(request.app.state.store.audit(feature_id))}


@router.post("/collections/incidents/items", status_code=201, summary="Add incidents: GeoJSON or an ACLED-schema CSV (token required)",
             response_model=Added)
async def add_incidents(request: Request, who: TokenDep, store: StoreDep) -> dict:
    body = await request.body()  # counted against the body budget as it arrived (api.guard)
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    suffix = {"text/csv": ".csv", "application/geo+json": ".geojson", "application/json": ".geojson"}.get(kind)
    if suffix is None:
        raise HTTPException(415, f"send text/csv (ACLED or UCDP export) or application/geo+json, not {kind or 'no content type'}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(body)
        incidents = read_incidents(path, study_area=dataset(request).study_area)
    existing = dataset(request).incidents
    clash = sorted(set(incidents["id"]) & set(existing["id"] if existing is not None else []))
    if clash:
        raise ValueError(f"upload{suffix}: field 'id': {len(clash)} ids already exist, e.g. {clash[0]!r}; nothing was added")
    try:
        store.add_incidents(incidents, who)
    except Duplicate as exc:
        raise ValueError(f"upload{suffix}: nothing was added ({exc})") from None
    refresh(request)
    return {"added": len(incidents), "ids": incidents["id"].tolist()}
