"""The cap on request bodies (1 MiB): API calls, payment callbacks and page forms alike.

A declared Content-Length above the cap is answered 413 before the body is read; a body without one
(chunked) is read up to the cap and answered 413 as soon as it goes beyond, never buffered further.
Either way the answer is the usual error body, `{"error": "body_too_large", "message": ...}`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fenqi.kit.errors import BodyTooLarge
from fenqi.kit.web import request_language

MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isdigit() or len(text) > 18 or int(text) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            # The server holds the body to its declared length: nothing more to count.
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # No length given: read the body here, up to the cap, and hand it on as one message.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        lang = request_language(Request(scope))
        error = BodyTooLarge(f"{self.max_bytes // (1024 * 1024)} MiB")
        response = JSONResponse({"error": error.code, "message": error.message(lang)}, status_code=error.status,
                                headers={"Connection": "close"})
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # afterwards: the client's disconnect, as usual

    return replay
