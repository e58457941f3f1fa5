"""The FastAPI application: one engine on one dataset, OGC API - Features and the analysis endpoints."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from geo_justice import __version__
from geo_justice.access import Engine
from layers.catalog import load_dataset

from layers.store import Store

from . import analysis, features, maps, problems, scenarios, tiles, timeline, writes
from .http import token_table
from .routes import router as routes_router

#: Environment variable holding the operator's bearer tokens, comma-separated 'name:token' (only hashes are kept).
TOKENS_ENV = "GEO_JUSTICE_TOKENS"
#: Environment variable naming the store file (default: .geo-justice/store.sqlite in the working directory).
STORE_ENV = "GEO_JUSTICE_STORE"
MAX_BODY = 20 * 1024 * 1024


def create_app(data: str | Path | None = None, *, boundaries: str | Path | None = None, name_field: str = "shapeName",
               tokens: list[str] | None = None, store: str | Path | None = None, max_body: int = MAX_BODY) -> FastAPI:
    """The service on the dataset in `data` (default: embedded) plus what the store holds.

    The store (SQLite) is created on first start and then reused, never overwritten.
    """
    base = load_dataset(data)
    if boundaries:
        base = base.with_boundaries(boundaries, name_field)
    store = Store(store or os.environ.get(STORE_ENV) or Path(".geo-justice") / "store.sqlite", base)
    app = FastAPI(title="geo-justice", version=__version__,
                  description="Who can reach a working court: layers as OGC API - Features, and access analyses.")
    app.state.base, app.state.store, app.state.lock, app.state.max_body = base, store, threading.Lock(), max_body
    app.state.revision = store.revision()
    app.state.engine = Engine(store.apply(base))
    given = tokens if tokens is not None else [t for t in os.environ.get(TOKENS_ENV, "").split(",") if t]
    app.state.tokens = token_table(given)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=["*"],
                       expose_headers=["ETag"])
    problems.install(app)

    @app.middleware("http")
    async def limit_body(request, call_next):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body:
            return problems.problem(413, f"body of {int(declared):,} bytes is over the limit of {max_body:,}")
        return await call_next(request)

    app.include_router(features.router)
    app.include_router(analysis.router)
    app.include_router(writes.router)
    app.include_router(scenarios.router)
    app.include_router(routes_router)
    app.include_router(tiles.router)
    app.include_router(timeline.router)  # before maps: /embed/timeline is not a tile layer
    app.include_router(maps.router)
    return app
