"""The one message table the kernel raises from, by where decoding failed (:class:`~accesstoken2.errors.Stage`).

Every :class:`~accesstoken2.errors.MalformedTokenError` a kernel raises comes from :func:`malformed`,
so the pure and the compiled kernel give the same message, stage and field for the same bad token,
and code reads ``.stage`` and ``.field`` instead of message text.
"""

from __future__ import annotations

from typing import Any

from ..errors import MalformedTokenError, Stage

#: message key -> (stage, message template); the templates' ``{field}`` is the error's ``.field``
MESSAGES: dict[str, tuple[Stage, str]] = {
    "too_long": (Stage.LENGTH, "token is {length} characters long; at most {limit} are allowed"),
    "prefix": (Stage.PREFIX, "token does not start with the version prefix '{version}'"),
    "base64": (Stage.BASE64, "token body is not canonical standard base64 with padding"),
    "base64_006": (Stage.BASE64, "token body after the app id is not canonical standard base64 with padding"),
    "zlib_incomplete": (Stage.ZLIB, "token body is not a complete zlib stream"),
    "zlib_too_large": (Stage.ZLIB, "token content exceeds {limit} bytes when decompressed"),
    "zlib_trailing": (Stage.ZLIB, "token body has data after the end of its zlib stream"),
    "ends_inside": (Stage.CONTENT, "token content ends inside {field}"),
    "utf8": (Stage.CONTENT, "token content has invalid UTF-8 in {field}"),
    "after_services": (Stage.CONTENT, "token content has {extra} unexpected bytes after its last service"),
    "app_id_006": (Stage.CONTENT, "token does not have 32 hexadecimal characters of app id after '006'"),
    "signature_006": (
        Stage.CONTENT,
        "token signature is {size} bytes long; a 006 signature is {expected} bytes",
    ),
    "after_message": (Stage.CONTENT, "token content has {extra} unexpected bytes after its message"),
    "after_privileges": (Stage.CONTENT, "token message has {extra} unexpected bytes after its privilege map"),
    "duplicate_privilege": (Stage.CONTENT, "token message lists a privilege id more than once"),
}

# the field each message is about, when it is always the same
_FIELDS = {
    "app_id_006": "the app id",
    "signature_006": "the signature",
    "after_privileges": "the privilege map",
    "duplicate_privilege": "the privilege map",
}


def malformed(key: str, field: str | None = None, **values: Any) -> MalformedTokenError:
    """The error for message ``key`` of :data:`MESSAGES` (raise it)."""
    stage, template = MESSAGES[key]
    field = field or _FIELDS.get(key)
    return MalformedTokenError(template.format(field=field, **values), stage=stage, field=field)


# What a 007 reader is reading, in order; the C kernel numbers the same parts (see _kernel_cy.py).
PARTS_007 = ("the signature", "the app id", "the issue time", "the expiry", "the salt", "the service count")


def service_part(index: int, count: int) -> str:
    """The name of service ``index`` (from 0) of ``count`` in messages."""
    return f"service {index + 1} of {count}"
