"""Running the service: on SIGTERM or Ctrl-C every request's work is cancelled at its next checkpoint and the
server stops within `GRACE` seconds, even while long work runs."""
from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from .guard import cancel_all

GRACE = 3


class Server(uvicorn.Server):
    """uvicorn's server, cancelling the app's work as soon as it is asked to stop."""

    def __init__(self, config: uvicorn.Config, app: FastAPI):
        super().__init__(config)
        self.live = app.state.live_requests

    def handle_exit(self, sig, frame) -> None:
        cancel_all(self.live)
        super().handle_exit(sig, frame)


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` until SIGTERM or SIGINT; unforeseen errors are logged with their id (api.problems)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACE), app).run()
