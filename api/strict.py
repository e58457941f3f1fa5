"""Strict input for every operation, derived from what each route declares: unknown query parameters are refused
(OGC API - Features /req/core/query-param-unknown), float parameters must be finite, JSON bodies may not carry
fields their model does not name; and the OpenAPI document says what the service really answers."""
from __future__ import annotations

import math
import re
import typing

from datetime import date
from typing import Annotated

from fastapi import FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict

from geo_justice.dates import iso_date

#: A date in a JSON body: YYYY-MM-DD only.
IsoDate = Annotated[date, BeforeValidator(iso_date)]


class StrictModel(BaseModel):
    """A request body: unknown fields and non-finite numbers are errors that name the field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _floats(annotation) -> bool:
    """Whether a parameter's type takes floats (float, float | None, list[float])."""
    return annotation is float or any(_floats(a) for a in typing.get_args(annotation))


_DECLARED: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _query_params(dependant: Dependant) -> tuple[frozenset[str], frozenset[str]]:
    """(every query parameter name, those that are floats) of a route, its dependencies included."""
    if id(dependant) in _DECLARED:
        return _DECLARED[id(dependant)]
    names, floats, todo = set(), set(), [dependant]
    while todo:
        current = todo.pop()
        for field in current.query_params:
            names.add(field.alias)
            if _floats(field.field_info.annotation):
                floats.add(field.alias)
        todo.extend(current.dependencies)
    _DECLARED[id(dependant)] = frozenset(names), frozenset(floats)
    return _DECLARED[id(dependant)]


def strict_query(request: Request) -> None:
    """400 naming any query parameter the operation does not declare, or a float parameter that is not finite."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    names, floats = _query_params(route.dependant)
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        takes = ", ".join(sorted(names)) or "none"
        raise HTTPException(400, f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
                                 f"{', '.join(repr(u) for u in unknown)}; this operation takes: {takes}")
    for name, value in request.query_params.multi_items():
        if name in floats:
            try:
                number = float(value)
            except ValueError:
                continue  # the parameter's own validation names it
            if not math.isfinite(number):
                raise HTTPException(400, f"parameter {name!r}: {value!r} is not a finite number")


def _needs_token(dependant: Dependant) -> bool:
    from .deps import require_token  # deps names this module's models

    return dependant.call is require_token or any(_needs_token(d) for d in dependant.dependencies)


PROBLEM_SCHEMA = {"type": "object", "required": ["title", "status", "detail"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "id": {"type": "string", "description": "500 only: the id written to the log"}}}


def problem_response(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _document_models(app: FastAPI, schema: dict) -> None:
    """Operations that send prepared bytes (cached GeoJSON) still name their response model in the document."""
    schemas = schema["components"]["schemas"]
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.response_model is None or route.response_class is not Response:
            continue
        model = route.response_model
        described = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in described.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, described)
        for method in route.methods:
            ok = schema["paths"][route.path_format][method.lower()]["responses"].get(str(route.status_code or 200), {})
            for media in ok.get("content", {}).values():
                media.setdefault("schema", {"$ref": f"#/components/schemas/{model.__name__}"})


def _document_tiers(schema: dict, tiers: tuple[str, ...]) -> None:
    """Every `tiers` parameter as a comma-separated list of the dataset's tiers (its vocabulary, not a fixed one)."""
    word = "(" + "|".join(re.escape(t) for t in tiers) + ")"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "tiers":
                    parameter["schema"] = {"type": "string", "pattern": f"^{word}(,{word})*$"}


def install_openapi(app: FastAPI) -> None:
    """The OpenAPI document with 400 problem+json (never 422) and every other error as problem+json."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        required = {(route.path_format, method.lower()) for route in app.routes if isinstance(route, APIRoute)
                    for method in route.methods if _needs_token(route.dependant)}
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if "security" in operation and (path, method) not in required:
                    operation["security"] = [{}, *operation["security"]]  # a token is optional: it raises budgets
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["400"] = problem_response("Bad request: the detail names the parameter or field and the problem")
                responses.setdefault("default", problem_response(
                    "Any other error (401, 403, 404, 406, 412, 413, 415, 503 with Retry-After, 500 with an id)"))
        _document_models(app, schema)
        _document_tiers(schema, tuple(app.state.base.tiers))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
