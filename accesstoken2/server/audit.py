"""The audit log: one JSON line per issued token (``ACCESSTOKEN2_AUDIT_LOG=PATH``, or ``-`` for stderr).

This format is a stable interface: fields are only ever added, never renamed or removed, and
``v`` changes if one ever has to.  Each line is one JSON object in ASCII (every other character
escaped), ending in ``\\n``, with these fields:

=================  ==============  ===========================================================
field              type            meaning
=================  ==============  ===========================================================
``v``              int             1, the version of this format
``event``          str             ``token-issued``
``time``           str             when the token was served, UTC, ``2026-12-06T12:00:00.123Z``
``request_id``     str             the request's id, also sent back as the ``X-Request-ID``
                                   header (the client's own when well-formed, else made here)
``client``         str or null     the address of the peer the request came from
``auth``           str             how the caller authenticated: ``open`` (no credential
                                   configured), ``api-key``, ``admin-key`` or ``jwt``
``identity``       str or null     the JWT's identity claim; ``api-key`` or ``admin-key`` for a
                                   key; null when open
``key_sha256``     str or null     for a key: the first 8 hexadecimal characters of SHA-256 of
                                   the key (which key, never the key); else null
``route``          str             the route template, e.g. ``/chat/user/{user_id}/token``
``app_id``         str             the App ID the token is for
``answer_field``   str             the answer's key holding the token (``token``, ``rtcToken``,
                                   ``rtmToken``): a request for two tokens gives two lines
``issued_at``      int             the token's issue time (Unix seconds)
``expires_at``     int             the token's expiry (Unix seconds)
``services``       list            one object per service of the token, in token order:
                                   ``service`` (``rtc``, ``rtm``, ``chat``...), then ``channel``,
                                   ``uid`` (the RTC uid or account as the token holds it, ``""``
                                   for any uid) and ``user_id`` where the service has them, and
                                   ``privileges``: privilege name -> absolute expiry (Unix s)
``token_sha256``   str             :func:`accesstoken2.token_fingerprint` of the token: the first
                                   16 hexadecimal characters of SHA-256 of the token string, as
                                   ``accesstoken2 fingerprint TOKEN`` prints it
=================  ==============  ===========================================================

No line ever holds a token, a certificate, a key, a JWT or the JWT secret: every text a client
chose (channel, uid, user id, identity, request id) that contains one of them, in any letter
case, has it replaced by ``[redacted]``; so has any text shaped like a JWT (``eyJ...``) or a 006/007
token (``006``/``007`` and 32 or more base64 characters), whoever's it is.  Each line is written
with one ``write`` to a file opened for appending, so nothing is buffered.  ``SIGHUP`` reopens
the file (for logrotate).  A failed write is logged, counted in
``accesstoken2_audit_write_failures_total`` and the token is served anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any, Callable

from .._redact import Redactor
from ..configuration import ConfigurationError
from ..explain import TokenInfo, inspect
from ..fingerprint import token_fingerprint
from .config import ENV_AUDIT_LOG, Settings
from .guard import escape
from .request_ids import REQUEST_ID_HEADER, RequestIdMiddleware, request_id_of

__all__ = [
    "AUDIT_FORMAT_VERSION",
    "REQUEST_ID_HEADER",
    "AuditLog",
    "RequestIdMiddleware",
    "audit_record",
    "request_id_of",
]

logger = logging.getLogger("accesstoken2.server")

AUDIT_FORMAT_VERSION = 1
KEY_FINGERPRINT_CHARS = 8
REDACTED = "[redacted]"
_FIELDS = (("channel_name", "channel"), ("uid", "uid"), ("user_id", "user_id"))


def _utc_now(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def key_fingerprint(key: str) -> str:
    """The first 8 hexadecimal characters of SHA-256 of a key: says which key, not the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:KEY_FINGERPRINT_CHARS]


def _services(info: TokenInfo) -> list[dict[str, Any]]:
    services: list[dict[str, Any]] = []
    for service in info.services:
        entry: dict[str, Any] = {"service": service.name.lower()}
        for wire_name, name in _FIELDS:
            value = service.fields.get(wire_name)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                entry[name] = value
        entry["privileges"] = {privilege.name: privilege.expire_ts for privilege in service.privileges}
        services.append(entry)
    return services


#: a JWT (its header is base64url of '{"...'), and a 006 or 007 token (a zlib or signature body in base64)
_CREDENTIAL_SHAPES = (r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*", r"00[67][A-Za-z0-9+/=_-]{32,}")


def _redactor(secret_values: Iterable[str | None]) -> Callable[[Any], Any]:
    """A function that replaces, in every string of a structure, each of ``secret_values`` (in any
    letter case), and anything shaped like a JWT or an Agora token, whoever's it is (a client may send
    someone else's as a user id), with ``[redacted]``."""
    redact_text = Redactor(*secret_values, mask=REDACTED, shapes=_CREDENTIAL_SHAPES)

    def redact(value: Any) -> Any:
        if isinstance(value, str):
            return redact_text(value)
        if isinstance(value, dict):
            return {key: redact(item) for key, item in value.items()}
        if isinstance(value, list):
            return [redact(item) for item in value]
        return value

    return redact


def audit_record(
    *,
    settings: Settings,
    request_id: str,
    client: str | None,
    principal_kind: str,
    identity: str | None,
    credential: str | None,
    route: str,
    answer_field: str,
    token: str,
    tokens: Iterable[str] = (),
    now: float,
) -> dict[str, Any]:
    """The audit line of one issued ``token`` (see the module documentation), as a dict.

    ``principal_kind`` is the caller's kind (``open``, ``user``, ``admin``, ``jwt``), ``identity``
    its JWT identity, ``credential`` the bearer credential it presented (only to keep it out of
    the line) and ``tokens`` every token of the same answer (likewise).
    """
    info = inspect(token, now=0)
    key = {"user": settings.api_key, "admin": settings.admin_api_key}.get(principal_kind)
    auth = {"user": "api-key", "admin": "admin-key"}.get(principal_kind, principal_kind)
    record: dict[str, Any] = {
        "v": AUDIT_FORMAT_VERSION,
        "event": "token-issued",
        "time": _utc_now(now),
        "request_id": request_id,
        "client": client,
        "auth": auth,
        "identity": identity if principal_kind == "jwt" else (auth if key is not None else None),
        "key_sha256": key_fingerprint(key) if key is not None else None,
        "route": route,
        "app_id": info.app_id,
        "answer_field": answer_field,
        "issued_at": info.issue_ts,
        "expires_at": info.expire_ts,
        "services": _services(info),
        "token_sha256": token_fingerprint(token),
    }
    redact = _redactor(
        (
            *settings.checking_certificates,
            settings.api_key,
            settings.admin_api_key,
            settings.jwt_secret,
            credential,
            token,
            *tokens,
        )
    )
    return {name: value if name in ("token_sha256", "key_sha256") else redact(value) for name, value in record.items()}


def audit_line(record: dict[str, Any]) -> bytes:
    """One record as the bytes of its line: ASCII JSON without a newline inside, then ``\\n``."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def _open(path: str) -> int:
    """A descriptor appending to ``path`` (created with mode 0600); 2 (stderr) for ``-``."""
    if path == "-":
        return 2
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, 0o600)


class AuditLog:
    """The audit log file of one worker: appended line by line, reopened by :meth:`reopen`.

    :meth:`open` refuses, with :class:`ConfigurationError`, a path that cannot be opened for
    appending.  ``on_failure`` is called after each failed write (the metrics count them).
    """

    def __init__(self, path: str, descriptor: int, on_failure: Callable[[], None] | None = None) -> None:
        self.path = path
        self._descriptor = descriptor
        self._lock = threading.Lock()
        self.on_failure = on_failure

    @classmethod
    def open(cls, path: str, on_failure: Callable[[], None] | None = None) -> AuditLog:
        try:
            descriptor = _open(path)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise ConfigurationError(
                ENV_AUDIT_LOG, f"{ENV_AUDIT_LOG}: cannot open {escape(path)} for appending ({reason})"
            ) from None
        return cls(path, descriptor, on_failure)

    def write(self, record: dict[str, Any]) -> bool:
        """Append one line; False (logged, counted) when it could not be written whole."""
        data = audit_line(record)
        with self._lock:
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self._descriptor, view)
                    view = view[written:]
            except OSError as error:
                self.failed(f"cannot write a line ({error.strerror or type(error).__name__})")
                return False
        return True

    def failed(self, what: str) -> None:
        """Log (one line) and count a line that could not be written."""
        logger.error("audit log: %s; the token is served anyway", what)
        if self.on_failure is not None:
            self.on_failure()

    def reopen(self) -> None:
        """Open the path again (after logrotate moved the file); on failure keep the old file."""
        if self.path == "-":
            return
        try:
            descriptor = _open(self.path)
        except OSError as error:
            logger.error(
                "audit log: cannot reopen %s (%s); still writing to the previous file",
                escape(self.path),
                error.strerror or type(error).__name__,
            )
            return
        with self._lock:
            old, self._descriptor = self._descriptor, descriptor
        os.close(old)

    def close(self) -> None:
        with self._lock:
            if self._descriptor != 2:
                os.close(self._descriptor)
            self._descriptor = -1


def check_audit_log(settings: Settings) -> None:
    """Refuse (:class:`ConfigurationError`) an audit log path that cannot be opened for appending."""
    if settings.audit_log is not None:
        AuditLog.open(settings.audit_log).close()
