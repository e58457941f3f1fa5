"""The API definition as OpenAPI 3.0 (the `oas30` conformance class and the landing page's service-desc):
FastAPI writes OpenAPI 3.1, whose schemas are JSON Schema 2020-12; this rewrites them in 3.0's dialect."""
from __future__ import annotations

import json

from fastapi import FastAPI

OPENAPI30 = "application/vnd.oai.openapi+json;version=3.0"


def openapi30(app: FastAPI) -> bytes:
    """The app's OpenAPI document as 3.0.3 JSON bytes (made once per app)."""
    if getattr(app.state, "openapi30", None) is None:
        document = downgrade(json.loads(json.dumps(app.openapi())))
        app.state.openapi30 = json.dumps(document, ensure_ascii=False).encode()
    return app.state.openapi30


def downgrade(document: dict) -> dict:
    """An OpenAPI 3.1 document in 3.0: nullable instead of type null, enum for const, example for examples..."""
    document["openapi"] = "3.0.3"
    document.pop("jsonSchemaDialect", None)
    document.pop("webhooks", None)
    document.get("info", {}).pop("summary", None)
    document.get("info", {}).get("license", {}).pop("identifier", None)
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                _parameter(parameter)
                parameter["schema"] = _schema(parameter.get("schema", {}))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    media["schema"] = _schema(media["schema"])
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = _schema(media["schema"])
    schemas = document.get("components", {}).get("schemas", {})
    for name in list(schemas):
        schemas[name] = _schema(schemas[name])
    return document


def _parameter(parameter: dict) -> None:
    """OGC API - Features parameter definitions: bbox an array of 4 or 6 numbers, comma-separated."""
    if parameter.get("in") != "query":
        return
    if parameter["name"] == "bbox":
        parameter["schema"] = {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
    if parameter["name"] in ("bbox", "limit", "datetime"):
        parameter["style"], parameter["explode"] = "form", False
    if parameter["name"] == "datetime":
        parameter["schema"] = {"type": "string"}


def _schema(schema):
    """One JSON Schema 2020-12 object in OpenAPI 3.0's subset (recursively)."""
    if isinstance(schema, list):
        return [_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {k: _schema(v) if k not in ("enum", "default", "example", "examples", "const") else v for k, v in schema.items()}
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}  # 3.0 ignores a reference's siblings
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s != {"type": "null"}]
            if len(options) < len(schema[key]):
                schema["nullable"] = True
                if len(options) == 1:
                    del schema[key]
                    only = options[0]
                    schema.update({"allOf": [only]} if "$ref" in only else only)
                else:
                    schema[key] = options
    if isinstance(schema.get("type"), list):
        types = [t for t in schema["type"] if t != "null"]
        if len(types) < len(schema["type"]):
            schema["nullable"] = True
        schema["type"] = types[0] if len(types) == 1 else "string"
    if schema.get("type") == "null":
        del schema["type"]
        schema["nullable"] = True
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if "examples" in schema:
        examples = schema.pop("examples")
        if isinstance(examples, list) and examples:
            schema["example"] = examples[0]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(schema.get(bound), (int, float)) and not isinstance(schema.get(bound), bool):
            schema[limit], schema[bound] = schema[bound], True
    for key in ("$schema", "$id", "$defs", "contentMediaType", "contentEncoding", "prefixItems", "unevaluatedProperties",
                "propertyNames", "dependentSchemas", "dependentRequired", "if", "then", "else", "$comment"):
        schema.pop(key, None)
    return schema
