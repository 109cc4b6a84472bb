"""A deadline for each request head, which uvicorn does not enforce.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` seconds, but only once a
first request has been answered, and any byte received cancels that timer: a client that opens
sockets and sends nothing, or a byte every few seconds, holds them for ever, and past
``limit_concurrency`` open connections every new request is answered 503.  The protocol classes
here close a connection whose request head is not complete ``header_timeout`` seconds after the
connection was made, or after the previous answer was sent.  A request whose head arrived is not
affected (its body has its own deadline, in :mod:`.guard`).

uvicorn is given the class through its ``http`` option: :func:`protocol_class` picks the httptools
one when httptools is installed (as uvicorn's ``auto`` does), else the h11 one.  The timeout is read
from the uvicorn ``Config`` (:class:`ServerConfig` carries it), so that worker processes get it too.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["DEFAULT_HEADER_TIMEOUT", "HeadDeadline", "ServerConfig", "protocol_class"]

#: Seconds a connection may take to send a complete request head.
DEFAULT_HEADER_TIMEOUT = 10.0


class ServerConfig(uvicorn.Config):
    """A uvicorn ``Config`` that also carries ``header_timeout`` (seconds) for the protocols here."""

    def __init__(self, app: Any, *, header_timeout: float = DEFAULT_HEADER_TIMEOUT, **options: Any) -> None:
        super().__init__(app, **options)
        self.header_timeout = header_timeout


class HeadDeadline:
    """Closes a transport that waits for a request head longer than ``seconds``.

    The timer is lazy: :meth:`arm` notes when the wait began and :meth:`cancel` that it ended,
    and a timer set once checks, when it fires, whether the connection has been waiting since
    long enough (else it is set again for the rest of the wait).  Setting and cancelling a timer
    for each request costs more than the rest of this; a busy connection pays it at most once per
    ``seconds``.
    """

    __slots__ = ("_loop", "_seconds", "_timer", "_transport", "_waiting_since")

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self._loop = loop
        self._seconds = seconds
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._waiting_since: float | None = None

    def start(self, transport: asyncio.BaseTransport) -> None:
        """Watch ``transport``: a new connection waits for its first request head."""
        self._transport = transport
        self.arm()

    def arm(self) -> None:
        """(Re)start the countdown: the connection now waits for a request head."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        now = self._loop.time()
        self._waiting_since = now
        if self._timer is None:
            self._timer = self._loop.call_at(now + self._seconds, self._expire)

    def cancel(self) -> None:
        """Stop the countdown: a request head arrived (the timer, if set, will find no wait)."""
        self._waiting_since = None

    def close(self) -> None:
        """The connection is gone: drop the timer."""
        self._waiting_since = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        since = self._waiting_since
        transport = self._transport
        if since is None or transport is None or transport.is_closing():
            return  # not waiting for a head now: the next arm() sets a timer
        deadline = since + self._seconds
        if self._loop.time() < deadline:
            self._timer = self._loop.call_at(deadline, self._expire)
            return
        transport.close()


def _seconds(config: Any) -> float:
    seconds = getattr(config, "header_timeout", DEFAULT_HEADER_TIMEOUT)
    return float(seconds) if isinstance(seconds, (int, float)) and seconds > 0 else DEFAULT_HEADER_TIMEOUT


# The mixin's methods extend those of uvicorn's protocol classes; for the type checker it is one.
_Protocol: Any = H11Protocol if TYPE_CHECKING else object


class _HeadDeadlineMixin(_Protocol):  # type: ignore[misc]
    """What both protocols add: the deadline starts with the connection and again after each answer."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.head_deadline = HeadDeadline(self.loop, _seconds(config))

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.head_deadline.start(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_deadline.close()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # waiting for the next request, none pipelined
            self.head_deadline.arm()


class H11HeadDeadlineProtocol(_HeadDeadlineMixin, H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request head."""

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request head was complete
            self.head_deadline.cancel()


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: the h11 protocol serves
    HTTPTOOLS_PROTOCOL: type[asyncio.Protocol] | None = None
else:

    class HttpToolsHeadDeadlineProtocol(_HeadDeadlineMixin, HttpToolsProtocol):
        """uvicorn's httptools protocol with a deadline on each request head."""

        def on_headers_complete(self) -> None:
            self.head_deadline.cancel()
            super().on_headers_complete()

    HTTPTOOLS_PROTOCOL = HttpToolsHeadDeadlineProtocol


def protocol_class() -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http`` option: httptools when installed, else h11."""
    return HTTPTOOLS_PROTOCOL if HTTPTOOLS_PROTOCOL is not None else H11HeadDeadlineProtocol
