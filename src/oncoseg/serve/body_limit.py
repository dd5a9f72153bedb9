"""Refuse request bodies over the upload cap with a 413 that every client can read.

Starlette's ``RequestBodyLimitMiddleware`` answers 413 before reading the body and leaves the
rest unread; a client that sends its whole body before reading (urllib, Python's
``http.client``) then meets ``[Errno 104] Connection reset by peer``, and a browser a network
error, never the 413. Here the answer goes out at once and the connection stays open while
the rest of the body is read and thrown away (never given to the app), so a client that reads
while it sends (curl, browsers) sees the 413 early and one that sends first still finds it
waiting:

- ``Content-Length`` over the cap with ``Expect: 100-continue`` (curl above 1 MB): the 413,
  and the connection closed; the client has sent no body, since uvicorn sends the
  ``100 Continue`` it waits for only when the app first reads.
- ``Content-Length`` over the cap: the 413, then the body drained (at most
  :data:`DRAIN_BYTES` past the cap, for at most :data:`DRAIN_SECONDS`); a longer declared
  body gets the 413 with ``Connection: close`` and no drain.
- no ``Content-Length`` (chunked): the body goes to the app while counted; past the cap the
  app's read fails and the 413 replaces its answer, then the rest is drained as above.

A drain that passes its bounds ends by closing the connection (uvicorn logs that the response
was not completed): the 413 is already with the client. The answer is JSON,
``{"detail": "file too large: ...", "max_upload_bytes": cap}``, like the service's other
errors; the app never sees an over-cap body, so nothing is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

DRAIN_BYTES = 256 * 2**20  # read and discard at most this much past the cap...
DRAIN_SECONDS = 120.0  # ...for at most this long, then close the connection


class _TooLarge(Exception):
    """Raised inside the app's ``receive`` once a streamed body passes the cap."""


class UploadLimitMiddleware:
    """ASGI middleware: HTTP request bodies over ``max_body_size`` bytes get a readable 413."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        if max_body_size < 1:
            raise ValueError(f"max_body_size: expected at least 1 byte, got {max_body_size}")
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = _content_length(headers)
        if length is None:
            await self._counted(scope, receive, send)
        elif length <= self.max_body_size:  # uvicorn never delivers more than Content-Length
            await self.app(scope, receive, send)
        elif "100-continue" in headers.get("expect", "").lower():
            await self._refuse(send, length, close=True)  # no body was sent
        elif length > self.max_body_size + DRAIN_BYTES:
            await self._refuse(send, length, close=True)  # too big to drain
        else:
            await self._refuse(send, length, drain=(receive, self.max_body_size + DRAIN_BYTES))

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A body of unknown length: counted as the app reads it."""
        total, more, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal total, more
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                more = message.get("more_body", False)
                if total > self.max_body_size:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            budget = self.max_body_size + DRAIN_BYTES - total
            await self._refuse(send, None, drain=(receive, budget) if more else None)

    async def _refuse(
        self,
        send: Send,
        length: int | None,
        *,
        close: bool = False,
        drain: tuple[Receive, int] | None = None,
    ) -> None:
        """Send the 413; with ``drain`` (receive, bytes allowed), keep the response open
        while the rest of the body is read and thrown away."""
        cap_mb = self.max_body_size / 2**20
        size = f"{length / 2**20:.1f} MB" if length is not None else "the upload"
        detail = f"file too large: {size} is over this service's upload cap of {cap_mb:g} MB"
        body = json.dumps({"detail": detail, "max_upload_bytes": self.max_body_size}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if close:
            headers.append((b"connection", b"close"))
        log.info("413: request body over the %d-byte upload cap", self.max_body_size)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": drain is not None})
        if drain is None:
            return
        end = await _drain(*drain)
        if end == "done":
            await send({"type": "http.response.body", "body": b""})  # connection reusable
        elif end == "over":  # uvicorn closes a connection whose response was not completed
            log.warning("413: the client sent past the drain bounds; closing the connection")


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # uvicorn refuses a malformed length before the app sees it


async def _drain(receive: Receive, budget: int) -> str:
    """Read and discard the rest of the body, at most ``budget`` bytes for at most
    :data:`DRAIN_SECONDS`: ``"done"``, ``"gone"`` (the client closed) or ``"over"``."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return "gone"  # http.disconnect
                budget -= len(message.get("body", b""))
                if budget < 0:
                    return "over"
                if not message.get("more_body", False):
                    return "done"
    except TimeoutError:
        return "over"
