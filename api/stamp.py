"""Answers whose body ends with the time it was sent (a feature collection's `timeStamp`), served from cached bytes.

A body is a prefix many answers share (a page's features) and a rest of its own (the links, counts and attribution,
kept per ETag), each kept with its deflated form; each answer appends `,"timeStamp":"...Z"}`. A gzip answer is the
two deflate streams (each ended with a sync flush, so it stops on a byte boundary), the stamp as a final stored
block, then the CRC and length: a new URL for a page already sent compresses only its rest, a request nothing.
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
#: The most bytes one stored deflate block holds.
STORED_MAX = 0xFFFF


def deflated(data: bytes) -> bytes:
    """`data` as a raw deflate stream ended by a sync flush (not final, on a byte boundary: more may follow)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)


class Prefix:
    """The first bytes of many bodies, with their CRC-32 and deflate stream."""

    def __init__(self, body: bytes):
        self.body = body
        self.crc = zlib.crc32(body)
        self.deflated = deflated(body)

    def nbytes(self) -> int:
        return len(self.body) + len(self.deflated)


def stored(data: bytes) -> bytes:
    """`data` as stored deflate blocks, the last one final."""
    chunks = [data[i:i + STORED_MAX] for i in range(0, len(data), STORED_MAX)] or [b""]
    return b"".join(bytes([i == len(chunks) - 1]) + struct.pack("<HH", len(c), 0xFFFF ^ len(c)) + c
                    for i, c in enumerate(chunks))


class Head:
    """A body without its closing stamp: a shared prefix and the rest of its own (deflated apart)."""

    def __init__(self, prefix: Prefix, rest: bytes):
        self.prefix, self.rest = prefix, rest
        self.size = len(prefix.body) + len(rest)
        self.rest_deflated = deflated(rest) if self.size >= GZIP_MIN_BYTES else b""

    def body(self, tail: bytes) -> bytes:
        return self.prefix.body + self.rest + tail

    def gzip(self, tail: bytes) -> bytes:
        """The whole body (prefix, rest, `tail`) as one gzip member: the two kept deflate streams, then `tail` in
        final stored blocks."""
        crc = zlib.crc32(tail, zlib.crc32(self.rest, self.prefix.crc))
        return (GZIP_HEADER + self.prefix.deflated + self.rest_deflated + stored(tail)
                + struct.pack("<II", crc, (self.size + len(tail)) & 0xFFFFFFFF))


def now_stamp() -> bytes:
    """`,"timeStamp":"<now, UTC, to the second>"}`."""
    return b',"timeStamp":"' + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode() + b'"}'


def stamped(request: Request, etag: str, build: Callable[[], tuple[Prefix, bytes]], *, media_type: str,
            cache_control: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON object whose bytes `build` makes without the closing brace, as a (shared) prefix and a rest;
    `timeStamp` is added as it is sent. 304 (without building) when the client holds `etag`."""
    headers = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    cache = request.app.state.snapshot.engine.cache
    head: Head = cache.get_or_compute(("stamped", *response_key(etag)), lambda: Head(*build()),
                                      lambda h: 2 * len(h.rest))
    tail = now_stamp()
    if head.size >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(head.gzip(tail), media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(head.body(tail), media_type=media_type, headers=headers)
