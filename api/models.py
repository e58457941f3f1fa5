"""Response models of the main resources: they document the answers in the OpenAPI (and schemathesis checks
every answer against them). GeoJSON objects allow foreign members (attribution, summary, manifest, ...)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Link(BaseModel):
    href: str
    rel: str
    type: str
    title: str | None = None


class Landing(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class Collection(BaseModel):
    id: str
    title: str
    description: str
    itemType: Literal["feature"]
    crs: list[str]
    storageCrs: str | None = None
    extent: dict[str, Any]
    links: list[Link]


class Collections(BaseModel):
    collections: list[Collection]
    crs: list[str] | None = None
    links: list[Link]


class Feature(BaseModel):
    """An RFC 7946 Feature."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None


class FeatureCollection(BaseModel):
    """An RFC 7946 FeatureCollection (OGC API - Features adds numberMatched, numberReturned and links)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[Feature]
    numberMatched: int | None = None
    numberReturned: int | None = None
    links: list[Link] | None = None


class History(BaseModel):
    id: str
    events: list[dict[str, Any]]
    audit: list[dict[str, Any]]


class Added(BaseModel):
    added: int
    ids: list[str]


class SavedScenarios(BaseModel):
    scenarios: list[dict[str, Any]]


class RoutePlanned(BaseModel):
    id: str
    plan: dict[str, Any]
    links: list[Link]


class Load(BaseModel):
    running: int
    queued: int
    workers: int
    queue_limit: int
