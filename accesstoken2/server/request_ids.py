"""Request ids: every request gets one, sent back in the ``X-Request-ID`` header.

A client's ``X-Request-ID`` is kept when it is well-formed (1 to 64 letters, digits and ``.``,
``_``, ``:``, ``-``, starting with a letter or digit); anything else is replaced by a fresh id.
The id is kept in the scope for :func:`request_id_of` (the audit log reads it).  The token
server's :class:`~.guard.RequestGuard` gives the ids itself (``request_ids=True``), in the same
layer as its other headers; :class:`RequestIdMiddleware` does it alone, for other applications.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable

__all__ = [
    "REQUEST_ID_HEADER",
    "REQUEST_ID_KEY",
    "RequestIdMiddleware",
    "assign_request_id",
    "new_request_id",
    "request_id_of",
]

REQUEST_ID_HEADER = "X-Request-ID"
#: The scope key holding a request's id.
REQUEST_ID_KEY = "accesstoken2.request_id"
#: A client's request id is kept when it is 1 to 64 of these characters (UUIDs, ULIDs, trace ids).
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_HEADER_NAME = REQUEST_ID_HEADER.lower().encode("ascii")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A random prefix for this process and a counter: ids unique across workers and restarts, made
# without a system call per request.
_ID_PREFIX = secrets.token_hex(6)
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """A fresh request id: 20 hexadecimal characters (this process's random prefix, a counter)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFF:08x}"


def request_id_of(scope: Scope) -> str:
    """The id given to the request, or a fresh one (a router mounted without either layer)."""
    known = scope.get(REQUEST_ID_KEY)
    if isinstance(known, str):
        return known
    fresh = new_request_id()
    scope[REQUEST_ID_KEY] = fresh
    return fresh


def assign_request_id(scope: Scope) -> tuple[bytes, bytes]:
    """Give the HTTP request of ``scope`` its id (the client's when well-formed, else a fresh
    one), keep it in the scope, and return the response header that carries it."""
    request_id = None
    for name, value in scope.get("headers", ()):
        if name == _HEADER_NAME:
            text = value.decode("latin-1") if len(value) <= 64 else ""
            request_id = text if _REQUEST_ID.fullmatch(text) else None
            break
    if request_id is None:
        request_id = new_request_id()
    scope[REQUEST_ID_KEY] = request_id
    return (_HEADER_NAME, request_id.encode("ascii"))


class RequestIdMiddleware:
    """ASGI middleware: every request gets an id (see the module documentation)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        header = assign_request_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self._app(scope, receive, send_with_id)
