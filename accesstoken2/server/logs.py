"""The request log: one record per request, as an escaped text line or a JSON object.

:func:`log_request` logs every request on the ``accesstoken2.server`` logger with the request's
fields in ``record.http`` (client, method, path, status, duration).  The text form escapes every
value a client controls, so a request is always one line; :class:`JsonFormatter` writes one JSON
object per record (``ACCESSTOKEN2_LOG_FORMAT=json``), whose encoding escapes them.  Neither ever
holds a query string, a header, a body or a token.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import MutableMapping
from typing import Any

from .guard import MAX_LOGGED_CHARS, escape

__all__ = ["JsonFormatter", "log_request", "logger"]

logger = logging.getLogger("accesstoken2.server")


def log_request(scope: MutableMapping[str, Any], status: int, elapsed: float) -> None:
    """Log one finished request (at INFO)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    peer = str(client[0]) if client else "-"
    method, path = str(scope["method"]), str(scope["path"])
    fields = {
        "client": peer[:64],
        "method": method[:16],
        "path": path if len(path) <= MAX_LOGGED_CHARS else path[:MAX_LOGGED_CHARS] + "...",
        "status": status,
        "duration_ms": round(elapsed * 1e3, 2),
    }
    logger.info(
        "%s %s %s %d %.1fms",
        escape(peer, 64),
        escape(method, 16),
        escape(path),
        status,
        elapsed * 1e3,
        extra={"http": fields},
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``timestamp`` (UTC, ISO 8601), ``level``, and the request's
    fields for request records or ``message`` for others."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        document: dict[str, Any] = {"timestamp": stamp, "level": record.levelname.lower(), "logger": record.name}
        fields = getattr(record, "http", None)
        if isinstance(fields, dict):
            document.update(fields)
        else:
            document["message"] = record.getMessage()
        return json.dumps(document, ensure_ascii=True)
