"""Shared HTTP plumbing: ETags and caching headers, 304s, bearer tokens stored only as hashes."""
from __future__ import annotations

import gzip
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import date

from fastapi import HTTPException, Request
from fastapi.responses import Response

GEOJSON = "application/geo+json"


def geojson_only() -> dict:
    """OpenAPI `responses` for an operation whose 200 is GeoJSON only (not also application/json)."""
    return {200: {"content": {GEOJSON: {}}}}


def etag_for(*parts: object) -> str:
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


def not_modified(request: Request, etag: str) -> bool:
    """The client already holds the representation `etag` names (If-None-Match)."""
    return etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]


#: Answers this large or larger are sent gzipped to clients that accept it (as the GZip middleware does).
GZIP_MIN_BYTES = 1000


def cached(request: Request, etag: str, build: Callable[[], bytes], *, media_type: str, cache_control: str,
           heavy: bool = False, headers: dict[str, str] | None = None) -> Response:
    """The bytes `build` makes, with their ETag and Cache-Control; 304 (without building) when the client has
    them. Built bytes are kept in memory under the ETag, which names the data version and the question, and
    the day: facilities without a date are shown as they stand today. `heavy` builds wait for the bounded pool."""
    headers = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    if heavy:
        pool, make = request.app.state.pool, build
        build = lambda: pool.run(make)  # noqa: E731
    cache = request.app.state.snapshot.engine.cache
    content = cache.get_or_compute(response_key(etag), build, len)
    if len(content) >= GZIP_MIN_BYTES and not media_type.startswith("image/"):
        headers["Vary"] = ", ".join(filter(None, [headers.get("Vary"), "Accept-Encoding"]))
        if "gzip" in request.headers.get("accept-encoding", ""):  # compressed once, not on every answer
            packed = cache.get_or_compute(("gzip", *response_key(etag)), lambda: gzip.compress(content, 6), len)
            return Response(packed, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(content, media_type=media_type, headers=headers)


def response_key(etag: str) -> tuple:
    """The engine-cache key of a response's bytes (also used to prepare a response before anyone asks)."""
    return ("response", etag, date.today())


def respond(request: Request, etag: str, body: Callable[[], dict], *, media_type: str = "application/json",
            public: bool = True, max_age: int = 300, heavy: bool = False) -> Response:
    """A JSON body through `cached`."""
    return cached(request, etag, lambda: json.dumps(body(), ensure_ascii=False, allow_nan=False).encode(),
                  media_type=media_type, cache_control=f"{'public' if public else 'private'}, max-age={max_age}", heavy=heavy)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_table(entries: list[str]) -> dict[str, str]:
    """{hash: name} from 'name:token' (or bare 'token') entries; only hashes are kept."""
    table = {}
    for entry in entries:
        name, _, token = entry.rpartition(":")
        table[token_hash(token)] = name or f"token-{token_hash(token)[:8]}"
    return table


def bearer(request: Request) -> str | None:
    """The name of the caller's valid bearer token; None without one; 401 malformed, 403 unknown token."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "Authorization must be 'Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    digest = token_hash(token)
    for known, name in request.app.state.tokens.items():
        if hmac.compare_digest(digest, known):
            return name
    raise HTTPException(403, "the bearer token is not one of this service's tokens")
