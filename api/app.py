"""The FastAPI application: one engine on one dataset, OGC API - Features and the analysis endpoints."""
from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from geo_justice import __version__
from geo_justice.access import Engine
from layers.catalog import load_dataset

from . import analysis, features, problems
from .http import token_hash

#: Environment variable holding the operator's bearer tokens, comma-separated (only their hashes are kept).
TOKENS_ENV = "GEO_JUSTICE_TOKENS"


def create_app(data: str | Path | None = None, *, boundaries: str | Path | None = None, name_field: str = "shapeName",
               tokens: list[str] | None = None) -> FastAPI:
    """The service on the dataset in `data` (default: embedded), optionally with official boundaries."""
    dataset = load_dataset(data)
    if boundaries:
        dataset = dataset.with_boundaries(boundaries, name_field)
    app = FastAPI(title="geo-justice", version=__version__,
                  description="Who can reach a working court: layers as OGC API - Features, and access analyses.")
    app.state.engine = Engine(dataset)
    given = tokens if tokens is not None else [t for t in os.environ.get(TOKENS_ENV, "").split(",") if t]
    app.state.token_hashes = frozenset(token_hash(t) for t in given)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=["*"],
                       expose_headers=["ETag"])
    problems.install(app)
    app.include_router(features.router)
    app.include_router(analysis.router)
    return app
