"""Errors as application/problem+json (RFC 9457) with a `detail` that names what was wrong.

Bad input (HTTPException, validation, ValueError and LayerError from the core) answers 4xx; anything the
service did not foresee answers 500 with an `id` that is also written to the log with the traceback.
"""
from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from geo_justice.cancel import Cancelled
from layers import LayerError

LOG = logging.getLogger("geo_justice.api")
TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 406: "Not acceptable",
          405: "Method not allowed", 412: "Precondition failed", 413: "Payload too large", 415: "Unsupported media type", 500: "Internal server error",
          503: "Service unavailable"}


def problem(status: int, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def where(loc: tuple) -> str:
    """'parameter x' for query, path and header values, 'field a.b' for a JSON body's."""
    if loc and loc[0] == "body":
        return f"field '{'.'.join(str(p) for p in loc[1:]) or 'body'}'"
    return f"parameter '{loc[-1]}'"


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app takes at this path (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if getattr(route, "methods", None) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Map every error the API can meet to a problem response."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            return problem(405, f"{request.method} is not allowed here; allowed: {', '.join(allowed)}", {"Allow": ", ".join(allowed)})
        if exc.status_code == 404 and exc.detail == "Not Found":  # no route, or no such static file
            return problem(404, f"nothing at {request.url.path}")
        return problem(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(400, "; ".join(f"{where(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()))

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> JSONResponse:
        return problem(400, str(exc))

    @app.exception_handler(LayerError)
    async def bad_layer(_: Request, exc: LayerError) -> JSONResponse:
        return problem(400, str(exc))

    @app.exception_handler(Cancelled)
    async def cancelled(_: Request, exc: Cancelled) -> JSONResponse:
        return problem(503, str(exc), {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unforeseen(request: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        LOG.error("error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
        return problem(500, f"an unforeseen error (id {error_id}, also in the service log); please report it", id=error_id)
