"""Guards on every request before any endpoint reads it: the body is capped at 1 MiB, and no NUL character
may come in (PostgreSQL text cannot hold one, and no field of ours means one), in the path, the query string
or the body.

Photo uploads are the exception the routes in UPLOAD_ROUTES make: a multipart body there may be as large as
their photos allow (16 MiB: three photos of at most 5 MB and the fields), and NUL bytes are looked for only
in its fields, not inside the files (every JPEG and PNG holds some).

A declared Content-Length above the cap is answered 413 before the body is read; a body without one
(chunked) is read up to the cap and answered 413 as soon as it goes beyond, never buffered further.
Bodies within the cap are read here, checked and handed on whole. Either way the answer is the usual
error body, `{"error": ..., "message": ...}`, unless the app gives a `page` answer for the request (a page
route's HTML error page in the user's language: fenqi.api).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fenqi.kit.errors import BodyTooLarge, DomainError, NulCharacter
from fenqi.kit.web import request_language

MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
UPLOAD_ROUTES = (re.compile(r"^/shop/loans/[0-9]{1,18}/aftersales$"),)  # POST, multipart/form-data
# A NUL as sent: raw, percent-encoded (forms, query strings) or escaped in JSON.
_NUL_FORMS = (b"\x00", b"%00", b"\\u0000")
# The answer to a refused request when it asked for a page; None: the JSON error body.
PageRefusal = Callable[[Request, DomainError], Response | None]


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, page: PageRefusal | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            await self._refuse(scope, receive, send, NulCharacter())
            return
        headers = dict(scope["headers"])
        boundary = _upload_boundary(scope, headers.get(b"content-type", b""))
        cap = MAX_UPLOAD_BYTES if boundary else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isdigit() or len(text) > 18 or int(text) > cap:
                await self._refuse(scope, receive, send, self._too_large())
                return
            if text == "0":
                await self.app(scope, receive, send)
                return
        elif scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        # Read the body here, never beyond the cap (the server holds a declared length to its word).
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await self._refuse(scope, receive, send, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if any(form in text for text in _texts(body, boundary) for form in _NUL_FORMS):
            await self._refuse(scope, receive, send, NulCharacter())
            return
        await self.app(scope, replay_body(body, receive), send)

    def _too_large(self) -> BodyTooLarge:
        return BodyTooLarge(f"{self.max_bytes // (1024 * 1024)} MiB")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: DomainError) -> None:
        request = Request(scope)
        page = self.page(request, error) if self.page is not None else None
        response = page or JSONResponse({"error": error.code, "message": error.message(request_language(request))},
                                        status_code=error.status)
        if error.status == 413:
            response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _upload_boundary(scope: Scope, content_type: bytes) -> bytes | None:
    """The multipart boundary of a POST to an upload route; None for any other request."""
    if scope.get("method") != "POST" or not any(r.match(scope.get("path", "")) for r in UPLOAD_ROUTES):
        return None
    found = re.match(rb'\s*multipart/form-data\s*;.*boundary="?([0-9A-Za-z\'()+_,./:=?-]{1,70})"?', content_type)
    return found.group(1) if found else None


def _texts(body: bytes, boundary: bytes | None) -> list[bytes]:
    """What must hold no NUL: the whole body, or a multipart body's parts except its files' contents."""
    if boundary is None:
        return [body]
    texts = []
    for part in body.split(b"--" + boundary):
        head, _, content = part.partition(b"\r\n\r\n")
        texts.append(head)
        if b"filename=" not in head:
            texts.append(content)
    return texts


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, whole, then the client's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # afterwards: the client's disconnect, as usual

    return replay
