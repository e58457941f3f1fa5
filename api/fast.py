"""The fast path (pure ASGI, in front of the middleware): GET and HEAD of one feature or of a plain page of features
for anonymous callers, answered on the event loop from the prepared snapshots, without the routing, the
dependencies, the thread pool or the generic middleware.

It answers only what it can answer exactly as the routes and middleware would (same body, status and headers:
ETag and 304, Vary, Content-Crs, Link, gzip, CORS, HEAD); everything else goes on to the app unchanged: a token,
a body, HTML, any query parameter but a plain `limit` and `offset`, an unknown collection or feature, a data
version or snapshot not prepared yet (building those is work for the thread pool), or any error.
"""
from __future__ import annotations

import logging
import zlib
from datetime import date
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response

from geo_justice.collections import collection_names

from . import html
from .deps import current_engine
from .features import item_answer, page_answer, prepared
from .http import GZIP_MIN_BYTES

LOG = logging.getLogger("geo_justice.api")
#: What the CORS middleware adds to an answer to a request with an Origin (api.app: any origin, ETag exposed).
CORS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", "ETag"))
#: Request headers that send a request to the app: a token, a body.
OWN_PATH = (b"authorization", b"content-length", b"transfer-encoding")


def count(text: str, least: int) -> int | None:
    """A plain decimal integer of at least `least` (what the routes' validation takes unchanged), else None."""
    if not text.isdigit() or (len(text) > 1 and text[0] == "0") or int(text) < least:
        return None
    return int(text)


def finish(response: Response, request: Headers) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The headers and body the middleware make of a route's `response` (api.app: GZip, then CORS)."""
    headers = MutableHeaders(raw=list(response.raw_headers))
    body = response.body
    if "content-encoding" not in headers and len(body) >= GZIP_MIN_BYTES:  # GZipMiddleware
        headers.add_vary_header("Accept-Encoding")
        if "gzip" in request.get("accept-encoding", ""):
            packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # as GZipMiddleware packs
            body = packer.compress(body) + packer.flush()
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(body))
    if "origin" in request:  # CORSMiddleware
        for name, value in CORS:
            headers[name] = value
    headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
    return headers.raw, body


class FastFeatures:
    """Answers the requests it can answer exactly (see the module's docstring); passes on every other."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"].startswith("/collections/"):
            try:
                answer = self.answer(scope)
            except Exception:  # the app answers it, with its own error handling
                LOG.debug("fast path passed on %s", scope["path"], exc_info=True)
                answer = None
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
                return
        await self.app(scope, receive, send)

    def answer(self, scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """(status, headers, body) of the answer, or None to leave the request to the app."""
        parts = scope["path"].split("/")
        if len(parts) not in (4, 5) or parts[3] != "items" or not all(parts[2:]) or scope.get("root_path"):
            return None
        if any(name in OWN_PATH for name, _ in scope["headers"]):
            return None
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        names = [name for name, _ in query]
        if len(parts) == 5 and query or len(set(names)) < len(names) or not set(names) <= {"limit", "offset"}:
            return None
        values = dict(query)
        limit, offset = count(values.get("limit", "100"), 1), count(values.get("offset", "0"), 0)
        request = Request(scope)
        if limit is None or offset is None or html.wants_html(request, None):
            return None
        state = request.app.state
        snap = state.snapshot
        if state.store.revision() != snap.store.revision:  # a write since: the routes take the new snapshot
            return None
        request.state.snapshot = snap
        name = parts[2]
        if name not in collection_names(current_engine(request).dataset):
            return None
        prep = prepared(request, name, None, cached_only=True)
        if prep is None:
            return None
        if len(parts) == 4:
            response = page_answer(request, name, prep, limit=limit, offset=offset)
            headers, body = finish(response, request.headers)
            return response.status_code, headers, body
        feature_id = parts[4]
        if feature_id not in prep.index:
            return None
        if "if-none-match" in request.headers:
            response = item_answer(request, name, feature_id, prep)
            headers, body = finish(response, request.headers)
            return response.status_code, headers, body
        return self.item(request, name, feature_id, prep)

    @staticmethod
    def item(request: Request, name: str, feature_id: str, prep) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """One feature's answer, kept per data version, day, address and what the middleware make of it (gzip, CORS)."""
        packs, cors = "gzip" in request.headers.get("accept-encoding", ""), "origin" in request.headers
        key = ("fast item", *prep.key, date.today(), str(request.base_url), feature_id, packs, cors)

        def build() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = item_answer(request, name, feature_id, prep)
            return (response.status_code, *finish(response, request.headers))
        cache = request.app.state.snapshot.engine.cache
        return cache.get_or_compute(key, build, lambda answer: len(answer[2]) + 512)
