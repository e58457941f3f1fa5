"""Several service processes on one store: `geo-justice serve --workers N` runs N uvicorn workers on one port,
each with its own app on the same dataset and store.

The workers agree through the store: every request reads the data version (SQLite: `PRAGMA data_version`, and
a count after a commit; PostgreSQL: the version LISTEN/NOTIFY keeps current, see layers.store_pg), and every
cached answer is keyed by that version, so no worker serves an answer older than a write another worker acknowledged.
"""
from __future__ import annotations

import json
import os
import signal
import sys

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from geo_justice.cache import default_budget
from layers.errors import LayerError

from .app import create_app
from .guard import cancel_all
from .server import GRACE

#: The settings of `create_app` (JSON) handed from `serve --workers` to each worker process.
SETTINGS_ENV = "GEO_JUSTICE_SERVE_SETTINGS"


def serve_workers(settings: dict, host: str, port: int, workers: int) -> bool:
    """Run `workers` processes of the app `create_app(**settings)` until SIGTERM or SIGINT; False when they could
    not start (each said why on stderr)."""
    os.environ[SETTINGS_ENV] = json.dumps({**settings, "workers": workers})
    config = uvicorn.Config(f"{__name__}:worker_app", factory=True, host=host, port=port, workers=workers,
                            log_level="warning", timeout_graceful_shutdown=GRACE)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    return not any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)


def worker_app() -> FastAPI:
    """The app of one worker (uvicorn calls this in each worker process): its share of the answer cache, and its
    requests' work cancelled on SIGTERM or SIGINT as `api.server` does for a single process."""
    settings = json.loads(os.environ[SETTINGS_ENV])
    workers = settings.pop("workers")
    try:
        app = create_app(**settings)
    except (LayerError, ValueError) as exc:
        print(f"geo-justice: {exc}", file=sys.stderr, flush=True)
        sys.exit(STARTUP_FAILURE)  # the supervisor stops instead of starting the worker again
    app.state.snapshot.engine.cache.max_bytes = default_budget() // workers
    live = app.state.live_requests
    for number in (signal.SIGTERM, signal.SIGINT):  # uvicorn has installed its handlers by now (main thread)
        previous = signal.getsignal(number)
        if callable(previous):
            signal.signal(number, lambda sig, frame, previous=previous: (cancel_all(live), previous(sig, frame)))
    return app
