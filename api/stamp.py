"""Answers whose body ends with the time it was sent (a feature collection's `timeStamp`), served from cached bytes.

The body up to its last member is built once per ETag and kept, with its deflated form when it is large; each
answer appends `,"timeStamp":"...Z"}`. A gzip answer is the kept deflate stream (ended with a sync flush, so it
stops on a byte boundary) followed by the stamp as a final stored block, then the CRC and length: nothing is
compressed again per request.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from datetime import datetime, timezone

from fastapi import Request
from fastapi.responses import Response

from .http import GZIP_MIN_BYTES, not_modified, response_key

GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no mtime, unknown OS


class Head:
    """A body without its closing stamp, and its raw deflate stream (None when too small to compress)."""

    def __init__(self, body: bytes):
        self.body = body
        self.crc = zlib.crc32(body)
        self.deflated = None
        if len(body) >= GZIP_MIN_BYTES:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            self.deflated = packer.compress(body) + packer.flush(zlib.Z_SYNC_FLUSH)

    def gzip(self, tail: bytes) -> bytes:
        """The whole body (head + tail) as one gzip member, with `tail` in a final stored block."""
        block = b"\x01" + struct.pack("<HH", len(tail), 0xFFFF ^ len(tail)) + tail
        size = (len(self.body) + len(tail)) & 0xFFFFFFFF
        return GZIP_HEADER + self.deflated + block + struct.pack("<II", zlib.crc32(tail, self.crc), size)


def now_stamp() -> bytes:
    """`,"timeStamp":"<now, UTC, to the second>"}`."""
    return b',"timeStamp":"' + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode() + b'"}'


def stamped(request: Request, etag: str, build: Callable[[], bytes], *, media_type: str, cache_control: str,
            headers: dict[str, str] | None = None) -> Response:
    """A JSON object whose bytes `build` makes without the closing brace; `timeStamp` is added as it is sent.
    304 (without building) when the client holds `etag`."""
    headers = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    cache = request.app.state.snapshot.engine.cache
    head: Head = cache.get_or_compute(("stamped", *response_key(etag)), lambda: Head(build()),
                                      lambda h: 2 * len(h.body))
    tail = now_stamp()
    if head.deflated is None:
        return Response(head.body + tail, media_type=media_type, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(head.gzip(tail), media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(head.body + tail, media_type=media_type, headers=headers)
