"""The request guard (pure ASGI): counts body bytes as they arrive (413 past the limit, whether the length was
declared or chunked), refuses JSON that is not JSON (NaN, Infinity), and cancels a request's work when its
client disconnects or the server stops."""
from __future__ import annotations

import asyncio
import json
import math
import threading

from geo_justice.cancel import cancel_on, reset

JSON_TYPES = ("application/json", "application/geo+json", "application/problem+json")


async def _send_problem(send, status: int, detail: str) -> None:
    titles = {400: "Bad request", 413: "Payload too large"}
    body = json.dumps({"type": "about:blank", "title": titles[status], "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (numbers must be finite)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number (numbers must be finite)")
    return value


def cancel_all(live: set[threading.Event]) -> None:
    """Stop the work of every request in `live` at its next checkpoint (the server is shutting down)."""
    for event in list(live):
        event.set()


class RequestGuard:
    """Wraps the app: one cancellation event per request, kept in `live` while it runs, set on disconnect."""

    def __init__(self, app, max_body: tuple[int, int], live: set[threading.Event]):
        self.app, self.max_body, self.live = app, max_body, live  # max_body: (anonymous, with a bearer token)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        limit = self.max_body[b"authorization" in headers]
        declared = headers.get(b"content-length", b"").decode()
        if declared.isdigit() and int(declared) > limit:
            return await _send_problem(send, 413, f"body of {int(declared):,} bytes is over the limit of {limit:,}")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # counted as it arrives: a chunked body is never held past the limit
                return await _send_problem(send, 413, f"body of more than {limit:,} bytes is over the limit")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        kind = headers.get(b"content-type", b"").decode().split(";")[0].strip().lower()
        if body and kind in JSON_TYPES:
            try:
                json.loads(body, parse_constant=_reject_constant, parse_float=_finite)
            except ValueError as exc:
                return await _send_problem(send, 400, f"the body is not valid JSON: {exc}")

        event, gone = threading.Event(), asyncio.Event()
        self.live.add(event)

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            event.set()
            gone.set()

        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        watcher = asyncio.create_task(watch())
        token = cancel_on(event)
        try:
            await self.app(scope, replay, send)
        finally:
            reset(token)
            watcher.cancel()
            self.live.discard(event)
