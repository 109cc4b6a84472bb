"""Argument checks shared by every public entry point.

Each check returns the value in the form the wire needs and raises an
:class:`~accesstoken2.errors.InvalidParameterError` (or :class:`ParameterTypeError`) whose
message names the parameter, the problem and the allowed range.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from ._layout import U16_MAX, U32_MAX
from .errors import InvalidParameterError, ParameterTypeError

#: 32 hexadecimal characters: an app id or certificate (``fullmatch`` to check, ``sub`` to hide)
HEX32 = re.compile("[0-9a-fA-F]{32}")
MAX_TEXT = 0xFFFF
# 007 times are relative seconds: anything longer than ten years is almost surely a Unix time.
TEN_YEARS = 10 * 365 * 24 * 3600


def _type_name(value: Any) -> str:
    return type(value).__name__


def check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(name, f"{name} must be an integer from {low} to {high}, not {_type_name(value)}")
    if not low <= value <= high:
        raise InvalidParameterError(name, f"{name} must be an integer from {low} to {high} (got {value})")
    return int(value)


def check_u16(name: str, value: Any) -> int:
    return check_int(name, value, 0, U16_MAX)


def check_u32(name: str, value: Any) -> int:
    return check_int(name, value, 0, U32_MAX)


def check_i16(name: str, value: Any) -> int:
    return check_int(name, value, -0x8000, 0x7FFF)


def check_text(name: str, value: Any) -> bytes:
    """Return ``value`` as UTF-8 bytes, refusing non-str and anything over 65,535 bytes."""
    if not isinstance(value, str):
        raise ParameterTypeError(
            name, f"{name} must be a str of at most {MAX_TEXT} UTF-8 bytes, not {_type_name(value)}"
        )
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameterError(
            name,
            f"{name} cannot be encoded as UTF-8 (lone surrogate); use text of at most {MAX_TEXT} UTF-8 bytes",
        ) from None
    if len(data) > MAX_TEXT:
        raise InvalidParameterError(name, f"{name} is {len(data)} UTF-8 bytes long; at most {MAX_TEXT} are allowed")
    return data


def uid_text(name: str, value: Any) -> str:
    """The wire text of a uid or account: the number 0 is the empty string, other numbers decimal."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(
            name, f"{name} must be an integer from 0 to {U32_MAX} or a str, not {_type_name(value)}"
        )
    check_u32(name, value)
    return "" if value == 0 else str(int(value))


def check_hex32(name: str, value: Any) -> bytes:
    """An app id or certificate: exactly 32 hexadecimal characters.  Never echoes the value."""
    if not isinstance(value, str):
        raise ParameterTypeError(name, f"{name} must be a str of 32 hexadecimal characters, not {_type_name(value)}")
    if HEX32.fullmatch(value):
        return value.encode("ascii")
    if len(value) != 32:
        raise InvalidParameterError(name, f"{name} must be 32 hexadecimal characters (got {len(value)} characters)")
    raise InvalidParameterError(
        name, f"{name} must be 32 hexadecimal characters (got 32 characters, not all hexadecimal)"
    )


def is_hex32(value: Any) -> bool:
    return isinstance(value, str) and HEX32.fullmatch(value) is not None


def warn_if_timestamp(name: str, value: int) -> None:
    if value > TEN_YEARS:
        warnings.warn(
            f"{name}={value} looks like an absolute Unix timestamp; AccessToken2 expects seconds "
            "counted from the issue time (Agora accepts at most 86400)",
            UserWarning,
            stacklevel=3,
        )
