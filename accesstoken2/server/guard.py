"""The ASGI layer in front of the token server: limits enforced on what is actually received.

:class:`RequestGuard` runs before routing, authentication and parsing.  For every HTTP request
it refuses a path or query whose percent-encoding is not UTF-8 (400), reads the whole body
itself, capped at ``max_body`` bytes whatever the transfer encoding (413, and never more than
the cap is held) and within ``body_timeout`` seconds (408, and the connection is closed), then
hands the application the buffered body.  It answers ``HEAD`` wherever ``GET`` is served, adds
``Cache-Control: no-store`` (and, with ``request_ids``, the request's ``X-Request-ID``), and
logs one line per request in which every value a client controls is escaped (so a request is
always exactly one line).  It runs on asyncio (as uvicorn does).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, MutableMapping, Sequence
from typing import Any, Callable
from urllib.parse import unquote_to_bytes

from .request_ids import assign_request_id

__all__ = ["RequestGuard", "error_body", "error_message", "escape", "json_answer"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Names the path parameter at a segment index of a path, or None (given the decoded path).
PathNamer = Callable[[str, int], "str | None"]
#: Called with the scope, the answer's status and the seconds taken, once per request.
Observer = Callable[[Scope, int, float], None]

_logger = logging.getLogger("accesstoken2.server")
_EXTRA_HEADERS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))
MAX_LOGGED_CHARS = 200
_SAFE = frozenset(range(0x20, 0x7F)) - {ord("\\")}


def escape(value: str, limit: int = MAX_LOGGED_CHARS) -> str:
    """``value`` as printable ASCII: backslash, controls (CR, LF, NUL, ESC...) and non-ASCII as
    ``\\xNN``/``\\uNNNN`` escapes, cut at ``limit`` characters with a count of the rest."""
    head = value[:limit]
    text = "".join(char if ord(char) in _SAFE else _escaped(char) for char in head)
    if len(value) > limit:
        text += f"...(+{len(value) - limit} chars)"
    return text


def _escaped(char: str) -> str:
    code = ord(char)
    if char == "\\":
        return "\\\\"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


MAX_MESSAGE_ITEMS = 5


def error_message(detail: Any) -> str:
    """One human-readable sentence for an error ``detail``: the text itself, or for a list of
    validation errors (``loc``, ``msg``) the first few as ``where: what``, joined by ``; ``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail[:MAX_MESSAGE_ITEMS]:
            if isinstance(item, dict):
                where = ".".join(str(part) for part in item.get("loc", ()))
                what = str(item.get("msg", ""))
                parts.append(f"{where}: {what}" if where else what)
            else:
                parts.append(str(item))
        more = len(detail) - MAX_MESSAGE_ITEMS
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    return str(detail)


def error_body(detail: Any, **structured: Any) -> dict[str, Any]:
    """The JSON body of every error answer: ``detail`` (a text, or structured), ``message`` (one
    human-readable string, whatever ``detail`` is) and any ``structured`` fields."""
    return {"detail": detail, "message": error_message(detail), **structured}


def json_answer(
    status: int, detail: str, *, close: bool = False, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> tuple[Message, Message]:
    """The two ASGI messages of a JSON error answer (:func:`error_body`)."""
    body = json.dumps(error_body(detail)).encode("ascii")
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii")), *headers]
    if close:
        head.append((b"connection", b"close"))
    return (
        {"type": "http.response.start", "status": status, "headers": head},
        {"type": "http.response.body", "body": body, "more_body": False},
    )


class _Refusal(Exception):
    def __init__(self, status: int, detail: str, close: bool = False) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.close = close


def _decode_component(raw: bytes, plus_is_space: bool) -> str:
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    return unquote_to_bytes(raw).decode("utf-8")


def _check_query(query: bytes) -> None:
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            decoded = _decode_component(name, True)
        except UnicodeDecodeError:
            raise _Refusal(400, "a query parameter name is not valid UTF-8 after percent-decoding") from None
        try:
            _decode_component(value, True)
        except UnicodeDecodeError:
            raise _Refusal(
                400, f"query parameter {escape(decoded, 64)!s}: not valid UTF-8 after percent-decoding"
            ) from None


def _check_path(raw_path: bytes, path: str, name_of: PathNamer | None) -> None:
    for index, segment in enumerate(raw_path.split(b"/")):
        try:
            _decode_component(segment, False)
        except UnicodeDecodeError:
            name = name_of(path, index) if name_of is not None else None
            where = f"path parameter {name}" if name else f"path segment {index}"
            raise _Refusal(400, f"{where}: not valid UTF-8 after percent-decoding") from None


def _has_body(scope: Scope) -> tuple[bool, int]:
    declared = 0
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            # uvicorn has already refused a malformed or repeated Content-Length
            declared = int(value) if value.isdigit() and len(value) < 20 else 1 << 62
        elif name == b"transfer-encoding":
            chunked = True
    return chunked or declared > 0, declared


class RequestGuard:
    """ASGI middleware: see the module documentation.

    ``name_of(path, index)`` names the path parameter at a segment index (for error messages);
    ``observers`` are called once per request (default: the request log of :mod:`.logs`);
    ``request_ids`` gives every request its id here, as :class:`~.request_ids.RequestIdMiddleware`
    would in a layer of its own.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        body_timeout: float,
        name_of: PathNamer | None = None,
        observers: Sequence[Observer] | None = None,
        request_ids: bool = False,
    ) -> None:
        self._app = app
        self._max_body = max_body
        self._body_timeout = body_timeout
        self._name_of = name_of
        if observers is None:
            from .logs import log_request

            observers = (log_request,)
        self._observers = tuple(observers)
        self._request_ids = request_ids
        self._deadlines: BodyDeadlines | None = None

    def _deadlines_now(self) -> BodyDeadlines:
        """The body deadlines of the running event loop."""
        loop = asyncio.get_running_loop()
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not loop:
            # another loop (a test's, a thread's): its own timer; requests already reading keep theirs
            deadlines = self._deadlines = BodyDeadlines(loop, self._body_timeout)
        return deadlines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500
        started = False
        extra = (*_EXTRA_HEADERS, assign_request_id(scope)) if self._request_ids else _EXTRA_HEADERS
        head = scope["method"] == "HEAD"
        downstream = {**scope, "method": "GET"} if head else scope

        async def guarded_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message["headers"] = [*message.get("headers", ()), *extra]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            try:
                declared = self._admit(scope)
                if declared is not None:
                    body = await _read_body(receive, self._max_body, self._body_timeout, self._deadlines_now())
                    receive = _replay(body, receive)
            except _Refusal as refusal:
                for message in json_answer(refusal.status, refusal.detail, close=refusal.close):
                    await guarded_send(message)
                return
            try:
                await self._app(downstream, receive, guarded_send)
            except Exception as error:
                # One escaped line naming the type, never the message (which a client may have
                # chosen) nor a traceback; the server's outer layer would log both.
                _logger.error("unexpected %s while serving a request", escape(type(error).__name__, 100))
                if started:
                    return
                for message in json_answer(500, "internal server error", close=True):
                    await guarded_send(message)
        finally:
            elapsed = time.perf_counter() - began
            # the router records the matched route in the scope it was given
            if "route" in downstream:
                scope["route"] = downstream["route"]
            for observe in self._observers:
                observe(scope, status, elapsed)

    def _admit(self, scope: Scope) -> int | None:
        """Refuse (:class:`_Refusal`) a URL that is not UTF-8 or a declared body over the cap; the
        declared length of a body to read (0: chunked), or None when there is none."""
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        # Fast path: a path of ASCII without "%" decodes to itself (the rule _check_path applies).
        if b"%" in raw_path or not raw_path.isascii():
            _check_path(raw_path, scope["path"], self._name_of)
        query = scope.get("query_string")
        if query and (b"%" in query or not query.isascii()):
            _check_query(query)
        has_body, declared = _has_body(scope)
        if not has_body:
            return None
        if declared > self._max_body:
            raise _Refusal(413, f"request body larger than {self._max_body} bytes", close=True)
        return declared


class BodyDeadlines:
    """Cancels the tasks of one event loop still reading a body ``seconds`` after they began.

    One timer serves them all, set for the earliest deadline, rather than a timer per request
    (setting and cancelling one costs more than the rest of a small body's read): as every body
    has the same allowance, deadlines come in the order they are set.
    """

    __slots__ = ("_expired", "_loop", "_pending", "_seconds", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self._loop = loop
        self._seconds = seconds
        self._pending: dict[asyncio.Task[Any], float] = {}  # task -> deadline, earliest first
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def start(self, task: asyncio.Task[Any]) -> None:
        """``task`` begins reading a body now."""
        deadline = self._loop.time() + self._seconds
        self._pending[task] = deadline
        if self._timer is None:
            self._timer = self._loop.call_at(deadline, self._sweep)

    def stop(self, task: asyncio.Task[Any]) -> bool:
        """``task`` is done reading; whether it was cancelled because its deadline passed."""
        self._pending.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _sweep(self) -> None:
        self._timer = None
        now = self._loop.time()
        pending = self._pending
        while pending:
            task, deadline = next(iter(pending.items()))
            if deadline > now:
                self._timer = self._loop.call_at(deadline, self._sweep)
                return
            del pending[task]
            self._expired.add(task)
            task.cancel()


async def _read_body(receive: Receive, limit: int, timeout: float, deadlines: BodyDeadlines) -> bytes:
    """The whole body, refused past ``limit`` bytes or ``timeout`` seconds (``deadlines``, of the
    running loop, cancels this task then: what ``asyncio.timeout`` does, at a fraction of its cost,
    and available on Python 3.9; uvicorn runs on asyncio)."""
    task = asyncio.current_task()
    assert task is not None
    deadlines.start(task)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refusal(400, "the client closed the connection before sending the whole body", close=True)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refusal(413, f"request body larger than {limit} bytes", close=True)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except asyncio.CancelledError:
        if not deadlines.stop(task):
            raise
        if sys.version_info >= (3, 11):
            task.uncancel()
        raise _Refusal(408, f"the request body did not arrive within {timeout:g} s", close=True) from None
    finally:
        deadlines.stop(task)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
