"""The exceptions accesstoken2 raises.

Every error the library raises on bad input is a :class:`TokenError`, which is a
:class:`ValueError`; wrong argument types raise :class:`ParameterTypeError`, which is also
a :class:`TypeError`.  Messages name the parameter, say what is wrong and give the allowed
range.  They never contain an app certificate.

Errors are data: code reads their attributes (``parameter``, ``stage``, ``field``, ``code``,
``findings``), never their message text.

Where an app certificate is asked for, one str or a sequence of them (the primary and the
secondary, while a certificate is being rotated) is accepted: a value of another type, or a
sequence holding something other than a str, raises :class:`ParameterTypeError`; an empty
sequence, or one of more than eight, raises :class:`InvalidParameterError`.  Both name the
parameter ``app_certificate`` and never show a certificate.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

__all__ = [
    "EmptyTokenError",
    "InvalidParameterError",
    "LegacyTokenError",
    "MalformedTokenError",
    "ParameterTypeError",
    "Stage",
    "TokenError",
    "TokenRejectedError",
]


class Stage(str, enum.Enum):
    """Where decoding a token failed, in the order decoding runs.

    - ``length``: the string is longer than any valid token;
    - ``prefix``: it does not start with the version prefix (``007``/``006``), or is a legacy format;
    - ``base64``: the body is not canonical standard base64 with padding;
    - ``zlib``: the body is not exactly one complete zlib stream of at most 65,536 bytes (007);
    - ``content``: the decoded bytes do not hold a token (``.field`` names the part).
    """

    LENGTH = "length"
    PREFIX = "prefix"
    BASE64 = "base64"
    ZLIB = "zlib"
    CONTENT = "content"

    def __str__(self) -> str:
        return self.value


class TokenError(ValueError):
    """Root of every error raised by accesstoken2."""


class InvalidParameterError(TokenError):
    """A parameter has the right type but a value outside what the format allows.

    ``parameter`` holds the name of the offending parameter.
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class ParameterTypeError(InvalidParameterError, TypeError):
    """A parameter has the wrong type (also a :class:`TypeError`)."""


class EmptyTokenError(InvalidParameterError):
    """``build()`` was called on a token that holds no service."""


class MalformedTokenError(TokenError):
    """A token string cannot be decoded: wrong prefix, bad base64, bad zlib or bad content.

    ``stage`` is the :class:`Stage` where decoding failed (``length``, ``prefix``, ``base64``,
    ``zlib`` or ``content``); ``field`` names the part of the content being read
    (``"the app id"``, ``"service 2 of 3"``, ...) when one applies, else None.  Both kernels give the
    same message, stage and field for the same token.
    """

    def __init__(self, message: str, stage: Stage | str = Stage.CONTENT, field: str | None = None) -> None:
        super().__init__(message)
        self.stage = Stage(stage)
        self.field = field


class LegacyTokenError(MalformedTokenError):
    """The token is in a legacy DynamicKey or SignalingToken format, which holds nothing to inspect.

    ``format`` names it (``"DynamicKey v4"``, ``"SignalingToken"``, ...).
    """

    def __init__(self, format: str, message: str) -> None:
        super().__init__(message, Stage.PREFIX)
        self.format = format


class RejectionFinding(Protocol):
    """What :class:`TokenRejectedError` holds: :class:`accesstoken2.diagnosis.Finding`, described here by
    shape so that this module (the ground floor) imports nothing of the package."""

    @property
    def code(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def detail(self) -> Mapping[str, Any]: ...

    def to_dict(self) -> dict[str, Any]: ...


class TokenRejectedError(TokenError):
    """:func:`accesstoken2.validate` found that Agora would reject the token for what was asked.

    ``code`` is the code of the first error finding of :func:`accesstoken2.diagnose` (``expired``,
    ``signature-mismatch``, ``channel-mismatch``, ``uid-mismatch``, ``missing-service``,
    ``missing-privilege``, ``privilege-expired``, ``malformed``, ``truncated``, ...; see
    ``accesstoken2.diagnosis.CODES``), ``findings`` holds every error finding, in diagnose's order,
    and ``message`` the first one's sentence.  For a token that cannot be decoded, ``stage`` and
    ``field`` say where (as on :class:`MalformedTokenError`), else they are None.
    """

    def __init__(self, findings: Sequence[RejectionFinding]) -> None:
        if not findings:
            raise ValueError("TokenRejectedError needs at least one error finding")
        first = findings[0]
        super().__init__(first.message)
        self.code: str = first.code
        self.message: str = first.message
        self.findings: tuple[RejectionFinding, ...] = tuple(findings)
        stage = first.detail.get("stage")
        self.stage: Stage | None = None if stage is None else Stage(stage)
        field = first.detail.get("field")
        self.field: str | None = field if isinstance(field, str) else None

    def __reduce__(self) -> tuple[type[TokenRejectedError], tuple[tuple[RejectionFinding, ...]]]:
        # rebuilt from the findings (the default would pass the message where the findings go)
        return type(self), (self.findings,)
