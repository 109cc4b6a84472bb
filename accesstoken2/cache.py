"""Tokens built once and renewed before they expire: :class:`TokenCache`, :class:`ChatAppTokenCache`.

An application that calls the Chat REST API needs an app token on every call; building one per
call is wasted work, and reusing one until it expires makes the call that comes just after fail.
A cache holds one token and builds the next when less than ``renew_before`` seconds remain::

    from accesstoken2 import ChatAppTokenCache

    chat_tokens = ChatAppTokenCache(APP_ID, APP_CERTIFICATE, expire=3600)
    headers = {"Authorization": f"Bearer {chat_tokens.get()}"}

Caches are safe to share between threads (one build at a time, however many callers wait) and
survive ``fork()``: a child process gets a fresh lock and keeps the still-valid token.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Callable, NamedTuple

from ._wire.checks import check_hex32, check_int
from ._wire.limits import U32_MAX
from .errors import ParameterTypeError

__all__ = ["MIN_RENEW_BEFORE", "CachedToken", "ChatAppTokenCache", "TokenCache", "renewal_margin"]

#: The default renewal margin is never under a minute (unless the lifetime is under two).
MIN_RENEW_BEFORE = 60
#: Agora accepts a token for at most 24 hours.
MAX_AGORA_LIFETIME = 86400


class CachedToken(NamedTuple):
    """A token and its times (Unix seconds)."""

    token: str
    issue_ts: int
    expires_at: int

    def remaining(self, now: float) -> int:
        """Whole seconds of validity left at ``now`` (0 once expired)."""
        return max(0, int(self.expires_at - now))


def renewal_margin(lifetime: int) -> int:
    """The default ``renew_before``: 10 % of the lifetime, at least 60 s, at most half the lifetime
    (so that even a short-lived token is used more than once)."""
    return min(max(MIN_RENEW_BEFORE, lifetime // 10), lifetime // 2)


# every live cache, so that a forked child can replace locks another thread may have held
_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for cache in list(_caches):
        cache._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class TokenCache:
    """One token built by ``build(issue_ts, expire)``, rebuilt when less than ``renew_before`` seconds remain.

    ``build`` can be any builder call, for example
    ``lambda issue_ts, expire: RtcTokenBuilder.build_token_with_uid(app_id, cert, "lobby", 0,
    Role_Subscriber, expire, issue_ts=issue_ts)``.  ``expire`` is the lifetime of each token in
    seconds; ``renew_before`` defaults to :func:`renewal_margin` of it.  ``clock`` returns Unix
    seconds (``time.time``; tests pass a fake clock).
    """

    def __init__(
        self,
        build: Callable[[int, int], str],
        expire: int,
        *,
        renew_before: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(build):
            raise ParameterTypeError(
                "build", f"build must be callable as build(issue_ts, expire), not {type(build).__name__}"
            )
        self._expire = check_int("expire", expire, 1, U32_MAX)
        margin = renewal_margin(self._expire) if renew_before is None else renew_before
        self._renew_before = check_int("renew_before", margin, 0, self._expire - 1)
        self._build = build
        self._clock = clock
        self._lock = threading.Lock()
        self._current: CachedToken | None = None
        self._builds = 0
        _caches.add(self)

    @property
    def expire(self) -> int:
        """The lifetime of each token, in seconds."""
        return self._expire

    @property
    def renew_before(self) -> int:
        """A token is renewed when fewer than this many seconds of it remain."""
        return self._renew_before

    @property
    def builds(self) -> int:
        """How many tokens this cache has built so far."""
        return self._builds

    @property
    def expires_at(self) -> int:
        """When the token :meth:`get` returns now expires (Unix seconds)."""
        return self.entry().expires_at

    def get(self) -> str:
        """A token with at least ``renew_before`` seconds left, built now if the cached one has fewer."""
        return self.entry().token

    def entry(self) -> CachedToken:
        """The token :meth:`get` returns, with its issue and expiry times (one consistent triple)."""
        # fast path without the lock: the current entry is one immutable tuple, replaced whole
        current = self._current
        if current is not None and self._fresh(current, self._clock()):
            return current
        with self._lock:
            current = self._current
            now = self._clock()
            if current is not None and self._fresh(current, now):
                return current  # another thread renewed it while this one waited
            issue_ts = int(now)
            current = CachedToken(self._build(issue_ts, self._expire), issue_ts, issue_ts + self._expire)
            self._current = current
            self._builds += 1
            return current

    def clear(self) -> None:
        """Forget the cached token: the next :meth:`get` builds a new one."""
        with self._lock:
            self._current = None

    def _fresh(self, current: CachedToken, now: float) -> bool:
        # a clock that went back before the issue time would hand out a token "from the future"
        return current.expires_at - now > self._renew_before and now >= current.issue_ts

    def __repr__(self) -> str:
        return f"{type(self).__name__}(expire={self._expire}, renew_before={self._renew_before}, builds={self._builds})"


class ChatAppTokenCache(TokenCache):
    """The Chat app token for the Chat REST API, built once and renewed ``renew_before`` seconds early.

    ``expire`` is at most 86,400 seconds, the longest lifetime Agora accepts.  The app id and
    certificate are checked here (never echoed); the first token is built by the first :meth:`get`.
    """

    def __init__(
        self,
        app_id: str,
        app_certificate: str,
        expire: int = 3600,
        *,
        renew_before: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_hex32("app_id", app_id)
        check_hex32("app_certificate", app_certificate)
        check_int("expire", expire, 1, MAX_AGORA_LIFETIME)
        credentials = (app_id, app_certificate)

        def build(issue_ts: int, lifetime: int) -> str:
            from .builders import ChatTokenBuilder

            return ChatTokenBuilder.build_app_token(*credentials, lifetime, issue_ts=issue_ts)

        super().__init__(build, expire, renew_before=renew_before, clock=clock)
