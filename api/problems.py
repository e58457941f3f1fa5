"""Errors as application/problem+json (RFC 9457) with a `detail` that names what was wrong."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from layers import LayerError

TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 406: "Not acceptable",
          412: "Precondition failed", 413: "Payload too large", 415: "Unsupported media type", 500: "Internal server error"}


def problem(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def install(app: FastAPI) -> None:
    """Map every error the API can meet to a problem response; bad input is never a 500."""

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"parameter '{e['loc'][-1]}': {e['msg']}" for e in exc.errors())
        return problem(400, details)

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> JSONResponse:
        return problem(400, str(exc))

    @app.exception_handler(LayerError)
    async def bad_layer(_: Request, exc: LayerError) -> JSONResponse:
        return problem(400, str(exc))
