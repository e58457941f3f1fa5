"""HEAD on every GET (RFC 9110 9.3.2): the GET's status and headers, its Content-Length included, and no body."""
from __future__ import annotations


class HeadAsGet:
    """Pure ASGI: a HEAD request is answered by the GET route at its path, without the body. The answer ends at
    the first body message, so a streamed GET (server-sent events) stops there too."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)
        done = False

        async def head_send(message: dict) -> None:
            nonlocal done
            if done:
                return
            if message["type"] == "http.response.body":
                done = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, head_send)
