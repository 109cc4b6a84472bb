"""The Chat app token, built once and renewed a margin before it expires.

Every caller of the Chat REST API can share one app token; rebuilding it per request is
wasted work, and handing out one that is about to expire makes the caller's next REST call
fail.  :class:`AppTokenCache` keeps one token and builds a new one when less than the renewal
margin remains, with a lock so that concurrent requests build it only once.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, NamedTuple

__all__ = ["AppTokenCache", "CachedToken", "renewal_margin"]

MIN_MARGIN = 60


class CachedToken(NamedTuple):
    """A token and its times (Unix seconds)."""

    token: str
    issue_ts: int
    expires_at: int

    def remaining(self, now: float) -> int:
        """Whole seconds of validity left at ``now`` (0 once expired)."""
        return max(0, int(self.expires_at - now))


def renewal_margin(lifetime: int) -> int:
    """Seconds before expiry at which the token is renewed: 10 % of the lifetime, at least 60 s,
    but never more than half the lifetime (so a short-lived token is still reused)."""
    return min(max(MIN_MARGIN, lifetime // 10), lifetime // 2)


class AppTokenCache:
    """Holds one token built by ``build(issue_ts, lifetime)`` and renews it ``margin`` seconds early.

    ``clock`` returns Unix seconds (``time.time`` by default; tests pass a fake clock).
    Safe to call from many threads and from the event loop: the build runs under a lock and
    the fast path reads one immutable tuple.
    """

    def __init__(
        self,
        build: Callable[[int, int], str],
        lifetime: int,
        *,
        clock: Callable[[], float] = time.time,
        margin: int | None = None,
    ) -> None:
        if lifetime < 1:
            raise ValueError(f"lifetime must be at least 1 second (got {lifetime})")
        self._build = build
        self._lifetime = lifetime
        self._clock = clock
        self._margin = renewal_margin(lifetime) if margin is None else margin
        if not 0 <= self._margin < lifetime:
            raise ValueError(f"margin must be from 0 to {lifetime - 1} seconds (got {self._margin})")
        self._lock = threading.Lock()
        self._current: CachedToken | None = None
        self._builds = 0

    @property
    def lifetime(self) -> int:
        return self._lifetime

    @property
    def margin(self) -> int:
        return self._margin

    @property
    def builds(self) -> int:
        """How many tokens this cache has built so far."""
        return self._builds

    def _fresh(self, current: CachedToken | None, now: float) -> bool:
        return current is not None and current.expires_at - now > self._margin and now >= current.issue_ts

    def get(self) -> CachedToken:
        """The cached token, renewed first when less than the margin remains."""
        current = self._current
        if self._fresh(current, self._clock()):
            assert current is not None
            return current
        with self._lock:
            current = self._current
            now = self._clock()
            if self._fresh(current, now):
                assert current is not None
                return current
            issue_ts = int(now)
            token = self._build(issue_ts, self._lifetime)
            current = CachedToken(token, issue_ts, issue_ts + self._lifetime)
            self._current = current
            self._builds += 1
            return current
