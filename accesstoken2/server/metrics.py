"""Prometheus metrics of the token server (``ACCESSTOKEN2_METRICS=1``, needs prometheus-client).

``accesstoken2_tokens_issued_total{kind, role}`` counts the tokens built, by grant kind (rtc,
rtm, rtc+rtm, chat_user, chat_app) and RTC role; ``accesstoken2_denials_total{reason}`` counts
the refusals: 401 (``missing``, ``invalid-key``, ``jwt-expired``...), 403 (``identity``,
``any-uid``, ``channel``, ``chat-app``, ``authorizer``), 408 (``body-timeout``) and 413
(``body-too-large``); ``accesstoken2_request_duration_seconds{method, route}`` is the latency
histogram, by route template; ``accesstoken2_audit_write_failures_total`` counts the audit lines
that could not be written (:mod:`.audit`).  Each application has its own registry; with several worker
processes each worker counts its own requests.

Every label comes from a fixed set, whatever clients send: ``route`` is the template of the route
that served the request (never the raw path) or ``unmatched``, ``method`` the method that route
serves (``HEAD`` is answered as ``GET``) or, when no route served it, ``GET``, ``POST``,
``OPTIONS`` or ``other``.  So a scrape stays small (well under 64 KiB) however many distinct
methods and paths arrive.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

__all__ = ["SERVED_METHODS", "Metrics", "request_labels"]

_STATUS_REASONS = {408: "body-timeout", 413: "body-too-large"}
#: The methods the server answers; any other is counted as ``other``.
SERVED_METHODS = frozenset({"GET", "POST", "OPTIONS"})
UNMATCHED = "unmatched"


def request_labels(scope: MutableMapping[str, Any]) -> tuple[str, str]:
    """The (method, route) labels of a finished request, from a fixed set (see the module documentation)."""
    method = scope.get("method")
    method = "GET" if method == "HEAD" else method
    route = scope.get("route")
    template = getattr(route, "path", None)
    methods = getattr(route, "methods", None)
    if isinstance(template, str) and methods is not None and method in methods:
        return str(method), template
    return (str(method) if method in SERVED_METHODS else "other"), UNMATCHED


class Metrics:
    """The counters and the histogram of one application, in their own registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self._issued = Counter("accesstoken2_tokens_issued", "Tokens issued", ["kind", "role"], registry=self.registry)
        self._denials = Counter("accesstoken2_denials", "Requests refused", ["reason"], registry=self.registry)
        self._audit_failures = Counter(
            "accesstoken2_audit_write_failures", "Audit lines that could not be written", registry=self.registry
        )
        self._latency = Histogram(
            "accesstoken2_request_duration_seconds",
            "Time to answer a request",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
        )

    def issued(self, kind: str, role: str | None) -> None:
        self._issued.labels(kind, role or "").inc()

    def denied(self, reason: str) -> None:
        self._denials.labels(reason).inc()

    def audit_failed(self) -> None:
        self._audit_failures.inc()

    def observe(self, scope: MutableMapping[str, Any], status: int, elapsed: float) -> None:
        """A guard observer: the latency by route template, and the guard's own refusals."""
        self._latency.labels(*request_labels(scope)).observe(elapsed)
        reason = _STATUS_REASONS.get(status)
        if reason is not None:
            self.denied(reason)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
