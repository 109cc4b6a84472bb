"""Argument checks shared by every public entry point.

Each check returns the value in the form the wire needs and raises an
:class:`~accesstoken2.errors.InvalidParameterError` (or :class:`ParameterTypeError`) whose
message names the parameter, the problem and the allowed range.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, NoReturn

from ._wire.limits import MAX_CONTENT, MAX_PRIVILEGES_006, MAX_TEXT, U16_MAX, U32_MAX
from .errors import InvalidParameterError, ParameterTypeError

#: 32 hexadecimal characters: an app id or certificate (``fullmatch`` to check, ``sub`` to hide)
HEX32 = re.compile("[0-9a-fA-F]{32}")
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


# --- the slow paths of both kernels' packers: they run only for a value the fast path refused -----------


def check_count(name: str, count: int) -> None:
    """A u16 count: at most 65,535 entries."""
    if count > U16_MAX:
        raise InvalidParameterError(name, f"{name} holds {count} entries; at most {U16_MAX} are allowed")


def normal_privileges(privileges: Any) -> dict[int, int]:
    """A privilege map a kernel's fast path refused, checked and made of exact ints (u16 -> u32)."""
    if not isinstance(privileges, dict):
        raise ParameterTypeError(
            "privileges", f"privileges must be a dict of privilege id -> expire, not {_type_name(privileges)}"
        )
    check_count("privileges", len(privileges))
    return {check_u16("privilege", key): check_u32("expire", value) for key, value in privileges.items()}


def normal_permissions(tree: Any) -> dict[int, dict[int, list[str]]]:
    """An RTM2 permission tree a kernel's fast path refused, checked and normalised.

    The tree maps resource type (u16) -> permission type (u16) -> a list (or tuple) of resource names.
    """
    shape = "a dict of resource type -> {permission type: [resource names]}"
    if not isinstance(tree, dict):
        raise ParameterTypeError("permissions", f"permissions must be {shape}, not {_type_name(tree)}")
    check_count("permissions", len(tree))
    result: dict[int, dict[int, list[str]]] = {}
    for resource_type, by_permission in tree.items():
        resource_key = check_u16("resource_type", resource_type)
        if not isinstance(by_permission, dict):
            raise ParameterTypeError("permissions", f"permissions must be {shape}, not {_type_name(by_permission)}")
        check_count("permissions", len(by_permission))
        target = result.setdefault(resource_key, {})
        for permission_type, names in by_permission.items():
            permission_key = check_u16("permission_type", permission_type)
            if not isinstance(names, (list, tuple)):
                raise ParameterTypeError("resources", f"resources must be a list of str, not {_type_name(names)}")
            check_count("resources", len(names))
            for name in names:
                check_text("resources", name)
            target[permission_key] = [str(name) for name in names]
    return result


def refuse_service(service_type: Any, fields: Any, layout: bytes | None) -> NoReturn:
    """Raise the error for a service a kernel cannot pack: unknown type or wrong number of fields."""
    if layout is None:
        raise InvalidParameterError(
            "service_type", f"service type {service_type} is not a known service (see the service table)"
        )
    raise ParameterTypeError("fields", f"service type {service_type} takes {len(layout)} fields, not {len(fields)}")


def content_too_large(size: int) -> InvalidParameterError:
    """The error for a token whose content would exceed MAX_CONTENT bytes (raise it)."""
    return InvalidParameterError(
        "services", f"the token content would be {size} bytes; at most {MAX_CONTENT} are allowed"
    )


def require_str(name: str, value: Any) -> None:
    """A token argument must be a str (subclasses such as markupsafe's Markup included)."""
    if not isinstance(value, str):
        raise ParameterTypeError(name, f"{name} must be a str, not {_type_name(value)}")


def too_many_privileges_006() -> InvalidParameterError:
    """The error for a 006 message whose privilege map does not fit its u16 length (raise it)."""
    return InvalidParameterError("privilege", f"a 006 token holds at most {MAX_PRIVILEGES_006} distinct privileges")
