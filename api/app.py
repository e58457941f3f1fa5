"""The FastAPI application: one engine on one dataset, OGC API - Features and the analysis endpoints."""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from geo_justice import __version__
from geo_justice.cache import ResultCache
from layers.catalog import load_dataset

from layers.store import open_store

from web.assets import PACKAGES, PREFIX

from . import analysis, capacity, docs, features, maps, problems, queryables, scenarios, tiles, timeline, writes
from .budget import Budget, budgets_from_env
from .deps import make_snapshot
from .fast import FastFeatures
from .guard import RequestGuard
from .head import HeadAsGet
from .http import GZIP_MIN_BYTES, token_table
from .models import Load
from .pool import QUEUE_ENV, WORKERS_ENV, HeavyPool
from .routes import router as routes_router
from .strict import install_openapi, strict_query

#: Environment variable holding the operator's bearer tokens, comma-separated 'name:token' (only hashes are kept).
TOKENS_ENV = "GEO_JUSTICE_TOKENS"
#: Environment variable naming the store: a SQLite file or a postgresql:// URL (default: .geo-justice/store.sqlite
#: in the working directory).
STORE_ENV = "GEO_JUSTICE_STORE"


def create_app(data: str | Path | None = None, *, boundaries: str | Path | None = None, name_field: str = "shapeName",
               admin_level: int | None = None, tokens: list[str] | None = None, store: str | Path | None = None,
               max_body: int | None = None, budgets: tuple[Budget, Budget] | None = None,
               pool: HeavyPool | None = None, prepare: bool = False) -> FastAPI:
    """The service on the dataset in `data` (default: embedded) plus what the store holds.

    The store (a SQLite file, or a postgresql:// URL) is created on first start and then reused, never overwritten. `budgets` are the
    (anonymous, token) budgets (default: from the environment, see api.budget); `max_body` overrides both
    budgets' body_bytes; `pool` bounds heavy work (default: GEO_JUSTICE_WORKERS, GEO_JUSTICE_QUEUE or 2 and 8).
    With `prepare`, the default map is computed in the background from start-up, and "ready" printed to
    stderr once it is.
    """
    base = load_dataset(data)
    if boundaries:
        base = base.with_boundaries(boundaries, name_field)
    elif admin_level is not None:
        base = base.with_admin_level(admin_level)
    store = open_store(store or os.environ.get(STORE_ENV) or Path(".geo-justice") / "store.sqlite", base)
    anonymous, token = budgets or budgets_from_env()
    if max_body is not None:
        anonymous, token = Budget(**{**vars(anonymous), "body_bytes": max_body}), Budget(**{**vars(token), "body_bytes": max_body})

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if prepare:
            threading.Thread(target=prepare_default_map, args=(app,), name="prepare-default-map", daemon=True).start()
        yield
        store.close()

    app = FastAPI(title="geo-justice", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  dependencies=[Depends(strict_query)],
                  description="Who can reach a working court: layers as OGC API - Features, and access analyses.")
    app.state.base, app.state.store, app.state.lock = base, store, threading.Lock()
    app.state.snapshot = make_snapshot(base, store.snapshot(), ResultCache())
    app.state.budgets = (anonymous, token)
    app.state.pool = pool or HeavyPool(int(os.environ.get(WORKERS_ENV, 2)), int(os.environ.get(QUEUE_ENV, 8)))
    app.state.live_requests = set()
    given = tokens if tokens is not None else [t for t in os.environ.get(TOKENS_ENV, "").split(",") if t]
    app.state.tokens = token_table(given)
    app.state.ready = threading.Event()
    # HTML, JS and JSON compressed; PNG tiles already are
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, exclude_content_types=("text/event-stream", "image/png"))
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"], allow_headers=["*"],
                       expose_headers=["ETag"])
    app.add_middleware(RequestGuard, max_body=(anonymous.body_bytes, token.body_bytes), live=app.state.live_requests)
    app.add_middleware(HeadAsGet)
    app.add_middleware(FastFeatures)  # outermost: a feature or a page for anonymous callers, from prepared snapshots
    problems.install(app)
    install_openapi(app)

    @app.get("/load", tags=["service"], summary="Heavy work running and waiting, and the pool's limits", response_model=Load)
    def load() -> dict:
        return app.state.pool.load()

    app.include_router(features.router)
    app.include_router(queryables.router)
    app.include_router(analysis.router)
    app.include_router(writes.router)
    app.include_router(scenarios.router)
    app.include_router(routes_router)
    app.include_router(tiles.router)
    app.include_router(timeline.router)  # before maps: /embed/timeline is not a tile layer
    app.include_router(maps.router)
    app.include_router(capacity.router)
    app.include_router(docs.router)
    for folder, path in PACKAGES.items():  # Leaflet, its plugins and jQuery, as installed from PyPI (XStatic)
        app.mount(f"{PREFIX}{folder}", StaticFiles(directory=path), name=f"static-{folder}")
    return app


def prepare_default_map(app: FastAPI) -> None:
    """Compute the default map (layers and page) as anonymous visitors see it (licence floors applied), then say so
    on stderr; a failure is reported, not fatal."""
    start = time.perf_counter()
    try:
        maps.prepare_default_map(app.state.snapshot.public)
    except Exception as exc:  # the page will then be computed when first asked for
        print(f"geo-justice: could not prepare the default map ({exc})", file=sys.stderr, flush=True)
    else:
        print(f"geo-justice: ready (default map prepared in {time.perf_counter() - start:.1f} s)", file=sys.stderr, flush=True)
    app.state.ready.set()
