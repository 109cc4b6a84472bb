"""Argument checks shared by every public entry point, and the slow paths of the kernel's packers.

They live in ``_wire`` because the kernel calls them (a kernel's fast path hands a value it refuses to the
check here), and ``_wire`` imports nothing from the layers above it.  Each check returns the value in the form
the wire needs and raises an :class:`~accesstoken2.errors.InvalidParameterError` (or
:class:`ParameterTypeError`) whose message names the parameter, the problem and the allowed range.
"""

from __future__ import annotations

import operator
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from ..errors import InvalidParameterError, ParameterTypeError
from .limits import MAX_CONTENT, MAX_PRIVILEGES_006, MAX_TEXT, U16_MAX, U32_MAX

#: 32 hexadecimal characters: an app id or certificate (``fullmatch`` to check, ``sub`` to hide)
HEX32 = re.compile("[0-9a-fA-F]{32}")
# 007 times are relative seconds: anything longer than ten years is almost surely a Unix time.
TEN_YEARS = 10 * 365 * 24 * 3600
#: the longest lifetime Agora accepts
ONE_DAY = 86_400
#: 2000-01-01 00:00:00 UTC: a 006 expiry time before it is a lifetime passed where a Unix time goes
YEAR_2000 = 946_684_800
#: a caller checks a token against at most this many certificates (Agora keeps two: primary and secondary)
MAX_CERTIFICATES = 8


def _type_name(value: Any) -> str:
    return type(value).__name__


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """An int (not a bool) from low to high, returned as a plain int."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(name, f"{name} must be an integer from {low} to {high}, not {_type_name(value)}")
    # an int subclass counts with the value operator.index gives, read once: never its own __int__ later
    number = operator.index(value)
    if not low <= number <= high:
        raise InvalidParameterError(name, f"{name} must be an integer from {low} to {high} (got {number})")
    return number


def shown(value: Any) -> str:
    """A value as a message may show it: an int as its number, anything else by its type only (so that a
    certificate passed in the wrong place never appears)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(operator.index(value))
    if isinstance(value, str):
        return f"a str of {len(value)} characters"
    return f"a {_type_name(value)}"


def check_choice(name: str, value: Any, choices: Mapping[int, str]) -> int:
    """An int (not a bool, float, Decimal, ...) that is one of ``choices`` (value -> reference name).

    Messages show a wrong value only when it is an int: a certificate passed here is never echoed.
    """
    allowed = ", ".join(f"{label} ({number})" for number, label in choices.items())
    allowed = " or ".join(allowed.rsplit(", ", 1))
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(name, f"{name} must be {allowed}, not {_type_name(value)}")
    number = operator.index(value)
    if number not in choices:
        raise InvalidParameterError(name, f"{name} must be {allowed} (got {number})")
    return number


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
    number = check_u32(name, value)
    return "" if number == 0 else str(number)


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


def same_ids() -> InvalidParameterError:
    """The error for an app certificate equal to the app id (raise it; it shows neither)."""
    return InvalidParameterError(
        "app_certificate",
        "app_certificate is the app id: pass the app certificate from the Agora console (32 hexadecimal "
        "characters, different from the app id)",
    )


def check_ids(app_id: Any, app_certificate: Any) -> tuple[bytes, bytes]:
    """An app id and certificate: 32 hexadecimal characters each, and not the same (in any letter case)."""
    return distinct_ids(check_hex32("app_id", app_id), check_hex32("app_certificate", app_certificate))


def distinct_ids(app: bytes, certificate: bytes) -> tuple[bytes, bytes]:
    """A checked app id and certificate, refused when they are the same in any letter case."""
    if app.lower() == certificate.lower():
        raise same_ids()
    return app, certificate


def is_hex32(value: Any) -> bool:
    return isinstance(value, str) and HEX32.fullmatch(value) is not None


def certificate_list(name: str, value: Any) -> tuple[str, ...]:
    """One app certificate, or a sequence of them (primary first), as a tuple of one or more str.

    Only the container and the item types are checked here (a malformed certificate is the caller's
    finding to make).  Messages show types and counts, never a value.
    """
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence) or isinstance(value, (bytes, bytearray)):
        raise ParameterTypeError(
            name, f"{name} must be a str or a sequence of str (primary, secondary), not {_type_name(value)}"
        )
    items = tuple(value)
    if not items:
        raise InvalidParameterError(
            name, f"{name} is an empty sequence; give 1 to {MAX_CERTIFICATES} certificates (primary first)"
        )
    if len(items) > MAX_CERTIFICATES:
        raise InvalidParameterError(
            name, f"{name} holds {len(items)} certificates; at most {MAX_CERTIFICATES} are allowed"
        )
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise ParameterTypeError(name, f"{name}[{index}] must be a str, not {_type_name(item)}")
    return items


def warn_relative_006(**times: int) -> None:
    """One warning when a 006 builder's absolute expiry time (keyword: parameter name) is before the year
    2000, so plainly a lifetime.  The token is still built, as the reference builds it; 0 (no limit) passes.
    """
    early = [(name, value) for name, value in times.items() if 0 < value < YEAR_2000]
    if not early:
        return
    name, value = early[0]
    message = (
        f"{name}={value} is before the year 2000: 006 builders take an absolute Unix time, not a lifetime, so "
        f"this token expired long ago. Pass int(time.time()) + {value} (now + lifetime), or build an "
        f"AccessToken2 with the 007 builder (accesstoken2.RtcTokenBuilder.build_token_with_uid(..., {value})), "
        "which takes a lifetime"
    )
    warnings.warn(message, UserWarning, stacklevel=_caller_level())


def warn_lifetimes(*seconds: int) -> None:
    """One warning for a call whose lifetimes (seconds from the issue time) Agora will not honour.

    Over ten years looks like an absolute Unix time; over 24 hours is more than Agora accepts.  The
    warning points at the first line outside accesstoken2 (the caller's), however deep the call.
    """
    longest = max(seconds)
    if longest > TEN_YEARS:
        message = (
            f"expire={longest} looks like an absolute Unix timestamp; AccessToken2 expects seconds "
            f"counted from the issue time (Agora accepts at most {ONE_DAY})"
        )
    elif longest > ONE_DAY:
        message = f"a lifetime of {longest} seconds is over 24 hours; Agora accepts at most {ONE_DAY}"
    else:
        return
    warnings.warn(message, UserWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The stacklevel of the first frame outside this package, for a warnings.warn called in the function
    that calls this one."""
    package = __name__.partition(".")[0]
    frame = sys._getframe(2)  # the caller of warn_lifetimes: stacklevel 2 of its warnings.warn
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == package:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


# --- the slow paths of the kernel's packers: they run only for a value the fast path refused -----------


def checked_lifetimes(lifetimes: Sequence[Any]) -> tuple[int, ...]:
    """The lifetimes of one builder call that a kernel's fast path refused (not all exact ints up to 24 hours):
    each checked as a u32 named ``expire``, then one warning for them all (see :func:`warn_lifetimes`)."""
    seconds = tuple(check_u32("expire", value) for value in lifetimes)
    warn_lifetimes(*seconds)
    return seconds


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
            "service_type", f"service type {shown(service_type)} is not a known service (see the service table)"
        )
    raise ParameterTypeError(
        "fields", f"service type {shown(service_type)} takes {len(layout)} fields, not {len(fields)}"
    )


def content_too_large() -> InvalidParameterError:
    """The error for a token whose content would exceed MAX_CONTENT bytes (raise it).

    Both kernels raise it as soon as the bytes packed so far pass the limit (after a service, and inside an RTM2
    permission tree after each entry), so the message cannot say how large the whole content would have been."""
    return InvalidParameterError(
        "services",
        f"the services make the token content longer than {MAX_CONTENT} bytes; at most {MAX_CONTENT} are allowed",
    )


def require_str(name: str, value: Any) -> None:
    """A token argument must be a str (subclasses such as markupsafe's Markup included)."""
    if not isinstance(value, str):
        raise ParameterTypeError(name, f"{name} must be a str, not {_type_name(value)}")


def too_many_privileges_006() -> InvalidParameterError:
    """The error for a 006 message whose privilege map does not fit its u16 length (raise it)."""
    return InvalidParameterError("privilege", f"a 006 token holds at most {MAX_PRIVILEGES_006} distinct privileges")
