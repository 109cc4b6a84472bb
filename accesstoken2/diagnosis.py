"""Why would Agora reject this token?  :func:`diagnose` answers with a list of :class:`Finding`.

Each finding has a :class:`Severity`, a stable ``code`` (see :data:`CODES`) and one sentence.
``diagnose`` never raises for a bad token (it reports ``malformed``); it raises only for
arguments of the wrong type.  No message ever contains the app certificate.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ._redact import MASK, Redactor
from ._wire import kernel as _kernel
from ._wire.checks import TEN_YEARS, certificate_list, check_text, check_u16, is_hex32, uid_text
from ._wire.limits import MAX_CONTENT, MAX_TOKEN_CHARS, VERSION_006, VERSION_007
from .errors import InvalidParameterError, LegacyTokenError, MalformedTokenError, ParameterTypeError
from .explain import (
    MAX_LISTED,
    Moment,
    PrivilegeInfo,
    ServiceInfo,
    TokenInfo,
    inspect,
    known_privilege_names,
    span_text,
    timestamp,
    utc_text,
)
from .names import PROBLEM_CODES, agora_name_problems
from .services import SERVICE_NAMES, ServiceType

__all__ = ["CODES", "FOLD_AFTER", "MAX_FINDINGS", "MAX_INPUT", "Finding", "Severity", "diagnose"]

#: Agora's services accept a token (and a privilege) for at most this many seconds.
MAX_LIFETIME = 24 * 3600
#: A token issued at most this far in the future is put down to ordinary clock skew.
SKEW_TOLERANCE = 300
# The longest token either parser accepts (a 006 token can be a few characters longer than a 007 one).
_LONGEST_TOKEN = MAX_TOKEN_CHARS + 64
#: Input longer than this is not examined (one ``malformed`` finding, stage ``length``), nor is input
#: that no repair could bring back within the token cap.  URL-encoding at most triples a token.
MAX_INPUT = 3 * _LONGEST_TOKEN + 1024
#: When more than this many findings share a code, they are folded into one with a ``count``.
FOLD_AFTER = 3
#: :func:`diagnose` never returns more findings than this (errors first).
MAX_FINDINGS = 50


class Severity(str, Enum):
    """How bad a finding is: the token will fail, may fail, or this is worth knowing."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    # Python 3.11 made format() of a mixed-in Enum print "Severity.INFO": print the value everywhere
    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


#: Every finding code, with what it means.  Codes are stable: tools may match on them.
CODES: dict[str, str] = {
    "malformed": "the token cannot be decoded (detail: stage and field)",
    "truncated": "the token is cut short (a copy that missed its end, or a column too narrow for it)",
    "legacy-format": "a DynamicKey or SignalingToken, which holds nothing to check",
    "surrounding-whitespace": "whitespace around the token (it was checked without it)",
    "quoted": "quotes around the token (it was checked without them)",
    "plus-became-space": "'+' turned into spaces by URL decoding (checked with them restored)",
    "url-encoded": "the token is still percent-encoded (checked decoded)",
    "app-id-mismatch": "the token belongs to another app id",
    "certificate-malformed": "the app certificate given is not 32 hexadecimal characters",
    "signature-mismatch": "the signature does not match the app certificate",
    "signature-ok": "the signature matches the app certificate (detail: which one, by position)",
    "signature-not-checked": "no certificate (or, for 006, no channel and uid) to check the signature with",
    "expired": "the token has expired",
    "not-yet-valid": "the token's issue time is in the future (clock skew)",
    "valid": "the token is within its lifetime",
    "privilege-expired": "a privilege has expired while the token has not",
    "privilege-ends-before-token": "a privilege ends before the token does",
    "lifetime-over-24h": "a lifetime beyond the 24 hours Agora accepts",
    "absolute-timestamp": "a 007 expiry that looks like an absolute Unix time, not seconds",
    "relative-timestamp": "a 006 time that looks like a number of seconds, not a Unix time",
    "channel-mismatch": "the token is for another channel (for 006: through the CRC)",
    "uid-mismatch": "the token is for another uid (for 006: through the CRC)",
    "uid-wildcard": "the token was built for uid 0, which any uid may use",
    "uid-zero-vs-string-zero": "uid 0 (the wildcard, empty on the wire) confused with the string '0'",
    "user-id-mismatch": "the token is for another RTM / Chat user id",
    "missing-service": "the token lacks the service the intended use needs",
    "missing-privilege": "the token lacks a privilege the intended use needs",
    "subscriber-without-publish": "an RTC service that may join but not publish",
    "no-privileges": "a service that grants nothing",
    "unknown-privilege": "a privilege id the service does not define",
    "unknown-service-type": "a service type this library does not know; reading stopped there",
    "oversized": "more services, privileges or RTM2 permission entries than a token needs; only the first ones were "
    "checked or listed",
    **PROBLEM_CODES,
    "ok": "no problem found",
}


@dataclass(frozen=True)
class Finding:
    """One observation about a token: severity, stable code, one sentence, optional detail."""

    severity: Severity
    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity.value, "code": self.code, "message": self.message, "detail": self.detail}

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.message} [{self.code}]"


_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_PUBLISH = ("publish_audio_stream", "publish_video_stream", "publish_data_stream")
# Services for which the builders write an empty privilege map on purpose.
_NO_PRIVILEGES_DEFINED = (ServiceType.CONVOAI, ServiceType.STT)
_RTM_TYPES = (ServiceType.RTM, ServiceType.RTM2)
# names that are not a row's own name
_EXTRA_ALIASES = {"education": int(ServiceType.APAAS), "rtm2": int(ServiceType.RTM2)}


def _service_types() -> dict[str, int]:
    """Service name -> type, read from the table on each call (a row added with add_spec is one more name)."""
    return {name: int(kind) for kind, name in SERVICE_NAMES.items()}


def _service_aliases() -> dict[str, int]:
    """What ``service=`` accepts by name (lower case): every row's name, and the extra aliases."""
    aliases = {name.lower(): kind for name, kind in _service_types().items()}
    aliases.update(_EXTRA_ALIASES)
    return aliases


def _quote(text: str) -> str:
    return repr(text)


def _uid_words(text: str) -> str:
    return "0 (the wildcard)" if text == "" else _quote(text)


def malformed_stage(error: MalformedTokenError) -> dict[str, str]:
    """Where decoding failed, from the error's ``.stage`` and ``.field``."""
    detail = {"stage": error.stage.value}
    if error.field is not None:
        detail["field"] = error.field
    return detail


class _Report:
    """Collects findings; a certificate, should a caller pass it where an id goes, is masked (in any letter case).

    At most :data:`FOLD_AFTER` findings of one code are kept; further ones are only counted
    (:meth:`counted` lets a loop skip building them) and :meth:`result` folds them all into one.
    """

    __slots__ = ("extra", "findings", "kept", "redact")

    def __init__(self, secrets: Iterable[str]) -> None:
        self.findings: list[Finding] = []
        self.kept: dict[str, int] = {}
        self.extra: dict[str, int] = {}
        self.redact = Redactor(*secrets)

    def counted(self, code: str) -> bool:
        """Count one more finding of ``code`` without building it, if enough are kept; True if so."""
        if self.kept.get(code, 0) < FOLD_AFTER:
            return False
        self.extra[code] = self.extra.get(code, 0) + 1
        return True

    def add(self, severity: Severity, code: str, message: str, **detail: Any) -> None:
        if self.counted(code):
            return
        redact = self.redact
        if redact.found_in(message) or redact.found_in(repr(detail)):
            message = redact(message)
            detail = {key: MASK if redact.found_in(repr(value)) else value for key, value in detail.items()}
        self.findings.append(Finding(severity, code, message, detail))
        self.kept[code] = self.kept.get(code, 0) + 1

    def has(self, severity: Severity) -> bool:
        return any(item.severity is severity for item in self.findings)

    def result(self) -> list[Finding]:
        """The findings, errors first, each code folded into one when it came more than FOLD_AFTER times."""
        folded: list[Finding] = []
        for item in self.findings:
            extra = self.extra.get(item.code, 0)
            if not extra:
                folded.append(item)
                continue
            kept = [other for other in self.findings if other.code == item.code]
            if item is kept[0]:
                total = len(kept) + extra
                severity = min((other.severity for other in kept), key=_ORDER.__getitem__)
                message = f"{item.message} And {total - 1:,} more like it."
                folded.append(Finding(severity, item.code, message, {**item.detail, "count": total}))
        folded.sort(key=lambda item: _ORDER[item.severity])
        return folded[:MAX_FINDINGS]


def _optional_str(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ParameterTypeError(name, f"{name} must be a str or None, not {type(value).__name__}")
    return value


def _intended_services(service: Any, channel_name: Any, uid: Any, user_id: Any) -> list[int]:
    if service is None:
        wanted = []
        if channel_name is not None or uid is not None:
            wanted.append(int(ServiceType.RTC))
        if user_id is not None:
            wanted.append(int(ServiceType.RTM))
        return wanted
    aliases = _service_aliases()
    if isinstance(service, str) and service.lower() in aliases:
        return [aliases[service.lower()]]
    if isinstance(service, int) and not isinstance(service, bool) and service in SERVICE_NAMES:
        return [int(service)]
    names = ", ".join(sorted(aliases))
    types = ", ".join(str(kind) for kind in sorted(SERVICE_NAMES))
    raise ParameterTypeError("service", f"service must be None, a service type ({types}) or one of {names}")


def _needed_privileges(privileges: Any) -> tuple[str | int, ...]:
    """The privileges asked for: known snake_case names or u16 ids, as given."""
    if isinstance(privileges, (str, bytes)) or not isinstance(privileges, Iterable):
        raise ParameterTypeError(
            "privileges", f"privileges must be a sequence of privilege names or ids, not {type(privileges).__name__}"
        )
    needed: list[str | int] = []
    for item in privileges:
        if isinstance(item, str):
            if item not in known_privilege_names():
                raise InvalidParameterError(
                    "privileges",
                    f"privileges holds an unknown privilege name ({len(item)} characters); use the names "
                    "inspect() shows, such as join_channel, publish_audio_stream or login",
                )
            needed.append(item)
        else:
            needed.append(check_u16("privileges", item))
        if len(needed) > MAX_LISTED:
            raise InvalidParameterError("privileges", f"privileges holds more than {MAX_LISTED} entries")
    return tuple(needed)


def diagnose(
    token: str,
    *,
    app_certificate: str | Sequence[str] | None = None,
    app_id: str | None = None,
    channel_name: str | None = None,
    uid: int | str | None = None,
    user_id: str | None = None,
    service: str | int | None = None,
    privileges: Iterable[str | int] = (),
    now: Moment | None = None,
) -> list[Finding]:
    """Everything that could make Agora reject ``token``, errors first.

    Give what the client will use it for (``app_id``, ``channel_name`` and ``uid`` for RTC,
    ``user_id`` for RTM, or ``service`` by name, and the ``privileges`` it needs, by name such as
    ``"publish_audio_stream"`` or by id) and ``app_certificate`` to check the signature.
    ``app_certificate`` may be one certificate or a sequence of them (primary, secondary): the
    ``signature-ok`` finding's ``detail["certificate"]`` says which one matched, by position
    (0: the first), never by value.  ``now`` (Unix seconds or an aware datetime) defaults to the
    current time.  The list is never empty: with nothing wrong it holds an ``ok`` finding.  It is
    bounded whatever the input: more than :data:`FOLD_AFTER` findings of one code are folded into
    one whose ``detail["count"]`` says how many, and there are never more than :data:`MAX_FINDINGS`.

    Arguments of the wrong type raise :class:`~accesstoken2.errors.ParameterTypeError`; an empty or
    oversized certificate sequence or an unknown privilege name raise
    :class:`~accesstoken2.errors.InvalidParameterError`.  See :func:`accesstoken2.validate` for a
    yes-or-no answer built on these findings.
    """
    findings, _ = examine(token, app_certificate, app_id, channel_name, uid, user_id, service, privileges, now)
    return findings


def examine(
    token: str,
    app_certificate: str | Sequence[str] | None,
    app_id: str | None,
    channel_name: str | None,
    uid: int | str | None,
    user_id: str | None,
    service: str | int | None,
    privileges: Iterable[str | int],
    now: Moment | None,
    /,
) -> tuple[list[Finding], TokenInfo | None]:
    """:func:`diagnose`'s findings and the token they are about (None when it could not be read).

    The arguments are diagnose's, in the order of its signature."""
    if not isinstance(token, str):
        raise ParameterTypeError("token", f"token must be a str, not {type(token).__name__}")
    certificates = () if app_certificate is None else certificate_list("app_certificate", app_certificate)
    _optional_str("app_id", app_id)
    _optional_str("channel_name", channel_name)
    _optional_str("user_id", user_id)
    expected_uid = None if uid is None else uid_text("uid", uid)
    moment = timestamp(now)
    wanted = _intended_services(service, channel_name, uid, user_id)
    needed = _needed_privileges(privileges)

    report = _Report(certificates)
    # before any repair step: those copy the input, and unquoting megabytes costs hundreds of milliseconds
    if _too_long(token):
        report.add(
            Severity.ERROR,
            "malformed",
            f"The input is {len(token):,} characters long, far more than any token (at most "
            f"{_LONGEST_TOKEN:,}); it was not examined further.",
            stage="length",
            length=len(token),
        )
        return report.result(), None
    info = _decode(report, token, moment)
    if info is not None:
        _check_app(report, info, app_id)
        _check_times(report, info)
        _check_services(report, info, wanted)
        _check_names(report, info)
        _check_needed_privileges(report, info, wanted, needed)
        rtc_matches = _check_rtc(report, info, channel_name, expected_uid, uid)
        rtm_matches = _check_rtm(report, info, user_id)
        _check_signature(report, info, certificates, channel_name, expected_uid, user_id, rtc_matches, rtm_matches)
    if not report.has(Severity.ERROR) and not report.has(Severity.WARNING):
        report.add(Severity.INFO, "ok", "No problem found.")
    return report.result(), info


# --- decoding ----------------------------------------------------------------------------------


def _too_long(token: str) -> bool:
    """True when ``token`` is over the token cap even after the shortest repair (strip, then unquote)."""
    if len(token) <= _LONGEST_TOKEN:
        return False
    if len(token) > MAX_INPUT:
        return True
    return len(token.strip()) - 2 * token.count("%") > _LONGEST_TOKEN


def _try(token: str, moment: int) -> TokenInfo | None:
    try:
        return inspect(token, now=moment)
    except MalformedTokenError:
        return None


def _decode(report: _Report, token: str, moment: int) -> TokenInfo | None:
    if not token.strip():
        report.add(Severity.ERROR, "malformed", "The token is empty.", stage="prefix")
        return None
    try:
        return inspect(token, now=moment)
    except LegacyTokenError as error:
        report.add(Severity.ERROR, "legacy-format", f"The {error}.", format=error.format)
        return None
    except MalformedTokenError as error:
        first_error = error
    repaired = _repair(report, token, moment)
    if repaired is not None:
        return repaired
    where = malformed_stage(first_error)
    if _cut_short(token.strip()):  # a cut token may still carry the newline of the line it was cut from
        report.add(
            Severity.ERROR,
            "truncated",
            f"The token is cut short: its {len(token)} characters stop in the middle of it. Copy it again in full, "
            "and check that nothing on its way (a form field, a database column such as VARCHAR(255)) limits "
            "its length.",
            length=len(token),
            **where,
        )
        return None
    report.add(Severity.ERROR, "malformed", f"The {first_error}.", **where)
    return None


_BASE64_PREFIX = re.compile("[A-Za-z0-9+/]*=?")
_HEX = re.compile("[0-9a-fA-F]*")


def _decoded_prefix(body: str) -> bytes | None:
    """The bytes of the whole base64 quartets at the start of ``body``, if it is a clean base64 prefix."""
    if not _BASE64_PREFIX.fullmatch(body):
        return None
    usable = body if len(body) % 4 == 0 else body.rstrip("=")
    try:
        return base64.b64decode(usable[: len(usable) // 4 * 4], validate=True)
    except (binascii.Error, ValueError):
        return None


def _cut_short(token: str) -> bool:
    """True when ``token`` reads as the start of a longer 007 or 006 token: it stops mid-way.

    The parsers say only where they failed; this tells a token that ends early from a corrupt one.
    """
    if token.startswith(VERSION_007):
        raw = _decoded_prefix(token[3:])
        if raw is None:
            return False
        inflater = zlib.decompressobj()
        try:
            content = inflater.decompress(raw, MAX_CONTENT + 1)
        except zlib.error:
            return False
        return len(content) <= MAX_CONTENT and not inflater.eof
    if token.startswith(VERSION_006):
        app_id = token[3:35]
        if len(app_id) < 32:
            return _HEX.fullmatch(app_id) is not None
        raw = _decoded_prefix(token[35:])
        return raw is not None and _short006(raw)
    return False


def _short006(raw: bytes) -> bool:
    """True when the 006 content ``raw`` ends before the lengths in its own header say it should."""
    # u16 signature size, signature, u32 channel CRC, u32 uid CRC, u16 message size, message
    if len(raw) < 2:
        return True
    end = 2 + int.from_bytes(raw[:2], "little") + 8
    if len(raw) < end + 2:
        return True
    return len(raw) < end + 2 + int.from_bytes(raw[end : end + 2], "little")


_REPAIRS: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    (
        "surrounding-whitespace",
        "The token has whitespace before or after it (a trailing newline?), which Agora does not strip.",
        str.strip,
    ),
    ("quoted", "The token is wrapped in quotes, which are not part of it.", lambda text: text.strip("\"'")),
    (
        "plus-became-space",
        "The token has spaces where its '+' characters were: it went through URL decoding without being "
        "URL-encoded first.",
        lambda text: text.replace(" ", "+"),
    ),
    ("url-encoded", "The token is still URL-encoded (it contains %XX escapes).", urllib.parse.unquote),
)


def _repair(report: _Report, token: str, moment: int) -> TokenInfo | None:
    """Recognise the usual copy-and-paste and URL accidents, and read the token despite them."""
    applied: list[tuple[str, str]] = []
    for code, message, fix in _REPAIRS:
        fixed = fix(token)
        if fixed == token:
            continue
        token = fixed
        applied.append((code, message))
        info = _try(token, moment)
        if info is not None:
            for found in applied:
                report.add(Severity.ERROR, *found)
            return info
    return None


# --- checks --------------------------------------------------------------------------------------


def _check_app(report: _Report, info: TokenInfo, app_id: str | None) -> None:
    if app_id is None or app_id == info.app_id:
        return
    hint = (
        " (they differ only in letter case, which the signature does not ignore)"
        if (app_id.lower() == info.app_id.lower())
        else ""
    )
    report.add(
        Severity.ERROR,
        "app-id-mismatch",
        f"The token was built for app id {info.app_id}, not {app_id}{hint}.",
        token_app_id=info.app_id,
    )


def _check_times(report: _Report, info: TokenInfo) -> None:
    now = info.now
    if info.version == "007":
        assert info.issue_ts is not None and info.expire is not None
        _check_lifetime(report, "The token lifetime", info.expire)
        if info.issue_ts > now:
            ahead = info.issue_ts - now
            report.add(
                Severity.ERROR if ahead > SKEW_TOLERANCE else Severity.WARNING,
                "not-yet-valid",
                f"The token was issued {span_text(ahead)} in the future ({utc_text(info.issue_ts)}): the clock of the "
                "server that built it is ahead of this one.",
                seconds_ahead=ahead,
            )
    elif info.expire_ts < TEN_YEARS:
        report.add(
            Severity.ERROR,
            "relative-timestamp",
            f"The token timestamp ts={info.expire_ts} looks like a number of seconds, but 006 times are absolute "
            "Unix times.",
        )
    if info.expired:
        report.add(
            Severity.ERROR,
            "expired",
            f"The token expired at {utc_text(info.expire_ts)}, {span_text(info.seconds_left)} ago.",
            expire_ts=info.expire_ts,
        )
    else:
        report.add(
            Severity.INFO,
            "valid",
            f"The token is valid until {utc_text(info.expire_ts)} ({span_text(info.seconds_left)} left).",
            expire_ts=info.expire_ts,
        )
    for service in info.services:
        for privilege in service.privileges:
            if not privilege.follows_token:
                _check_privilege_time(report, info, service, privilege)


def _check_privilege_time(report: _Report, info: TokenInfo, service: ServiceInfo, privilege: PrivilegeInfo) -> None:
    now = info.now
    what = f"The {service.name} privilege {privilege.name}"
    if info.version == "007":
        _check_lifetime(report, what, privilege.value)
    elif privilege.value < TEN_YEARS:
        if not report.counted("relative-timestamp"):
            report.add(
                Severity.ERROR,
                "relative-timestamp",
                f"{what} ends at {privilege.value}, which looks like a number of seconds, but 006 times are "
                "absolute Unix times.",
            )
        return
    if info.expired:
        return
    # 007 privileges count from the issue time, 006 ones are absolute: both are compared as expire_ts
    if privilege.expire_ts <= now:
        if not report.counted("privilege-expired"):
            report.add(
                Severity.ERROR,
                "privilege-expired",
                f"{what} expired at {utc_text(privilege.expire_ts)}, although the token is valid until "
                f"{utc_text(info.expire_ts)}.",
                service=service.name,
                privilege=privilege.name,
            )
    elif privilege.expire_ts < info.expire_ts and not report.counted("privilege-ends-before-token"):
        report.add(
            Severity.WARNING,
            "privilege-ends-before-token",
            f"{what} ends at {utc_text(privilege.expire_ts)}, "
            f"{span_text(info.expire_ts - privilege.expire_ts)} before the token does.",
            service=service.name,
            privilege=privilege.name,
        )


def _check_lifetime(report: _Report, what: str, seconds: int) -> None:
    if seconds > TEN_YEARS and not report.counted("absolute-timestamp"):
        report.add(
            Severity.ERROR,
            "absolute-timestamp",
            f"{what} is {seconds} seconds, which looks like an absolute Unix time ({utc_text(seconds)}); "
            "AccessToken2 counts seconds from the issue time (e.g. 3600).",
            value=seconds,
        )
    elif MAX_LIFETIME < seconds <= TEN_YEARS and not report.counted("lifetime-over-24h"):
        report.add(
            Severity.WARNING,
            "lifetime-over-24h",
            f"{what} is {span_text(seconds)}, beyond the 24 hours Agora accepts.",
            value=seconds,
        )


def _check_services(report: _Report, info: TokenInfo, wanted: list[int]) -> None:
    present = {service.type for service in info.services}
    types = _service_types()
    present.update(types[name] for name in info.omitted_services)
    names = ", ".join(service.name for service in info.services) or "no service"
    if info.omitted_services:
        omitted = sum(info.omitted_services.values())
        names += f" and {omitted:,} more"
        report.add(
            Severity.WARNING,
            "oversized",
            f"The token holds {len(info.services) + omitted:,} services, far more than any builder writes; only "
            f"the first {MAX_LISTED} were checked.",
            services=len(info.services) + omitted,
        )
    for kind in wanted:
        accepted = _RTM_TYPES if kind in _RTM_TYPES else (kind,)
        if not present.intersection(accepted):
            # kind may be a row added to the table, with no ServiceType member: looked up as the int it is
            uses = {int(ServiceType.RTC): "join an RTC channel", int(ServiceType.RTM): "log in to RTM"}
            use = uses.get(kind, f"use {SERVICE_NAMES[kind]}")
            report.add(
                Severity.ERROR,
                "missing-service",
                f"The token holds {names} but no {SERVICE_NAMES[kind]} service, so it cannot {use}.",
                service=SERVICE_NAMES[kind],
            )
    if info.unknown_service_type is not None:
        report.add(
            Severity.WARNING,
            "unknown-service-type",
            f"The token holds a service of unknown type {info.unknown_service_type}; reading stopped there, so any "
            "service after it is not shown (the signature still covers it).",
            type=info.unknown_service_type,
        )
    for service in info.services:
        _check_privileges(report, service)
        if service.omitted_permissions:
            report.add(
                Severity.WARNING,
                "oversized",
                f"The {service.name} service's permissions hold {service.omitted_permissions:,} more entries than "
                f"are listed (the first {MAX_LISTED} resource types, permission types and resources).",
                service=service.name,
                omitted_permissions=service.omitted_permissions,
            )


def _check_needed_privileges(
    report: _Report, info: TokenInfo, wanted: list[int], needed: tuple[str | int, ...]
) -> None:
    """Each privilege asked for must be in a service the use needs (any service, when none was named)."""
    if not needed:
        return
    kinds = {kind for want in wanted for kind in (_RTM_TYPES if want in _RTM_TYPES else (want,))}
    services = [service for service in info.services if not kinds or service.type in kinds]
    names = " or ".join(sorted({SERVICE_NAMES[kind] for kind in kinds}))
    where = f"in its {names} service" if names else "in any of its services"
    for privilege in needed:
        key = "name" if isinstance(privilege, str) else "id"
        if not any(getattr(item, key) == privilege for service in services for item in service.privileges):
            report.add(
                Severity.ERROR,
                "missing-privilege",
                f"The token does not grant the privilege {privilege!r} {where}, so the client cannot use it.",
                privilege=privilege,
            )


def _check_privileges(report: _Report, service: ServiceInfo) -> None:
    if not service.privileges:
        if service.type not in _NO_PRIVILEGES_DEFINED and not report.counted("no-privileges"):
            report.add(Severity.WARNING, "no-privileges", f"The {service.name} service grants no privilege.")
        return
    if service.omitted_privileges:
        total = len(service.privileges) + service.omitted_privileges
        report.add(
            Severity.WARNING,
            "oversized",
            f"The {service.name} service holds {total:,} privileges, more than any service defines; only the "
            f"{len(service.privileges)} lowest ids were checked.",
            service=service.name,
            privileges=total,
        )
    for privilege in service.privileges:
        if privilege.name == "unknown" and not report.counted("unknown-privilege"):
            report.add(
                Severity.WARNING,
                "unknown-privilege",
                f"The {service.name} service grants privilege {privilege.id}, which it does not define.",
                service=service.name,
                privilege=privilege.id,
            )
    if service.type == ServiceType.RTC and service.privilege("join_channel") is not None:
        if not any(service.privilege(name) for name in _PUBLISH):
            report.add(
                Severity.INFO,
                "subscriber-without-publish",
                "The RTC service may join the channel but not publish audio, video or data (a subscriber token).",
            )


#: the fields of a 007 service that Agora checks, by service type: (field, kind of :func:`agora_name_problems`)
_NAMED_FIELDS: dict[int, tuple[tuple[str, str], ...]] = {
    ServiceType.RTC: (("channel_name", "channel_name"), ("uid", "user_account")),
    ServiceType.RTM: (("user_id", "rtm_user_id"),),
    ServiceType.RTM2: (("user_id", "rtm_user_id"),),
}


def _check_names(report: _Report, info: TokenInfo) -> None:
    """Each of Agora's identifier rules a listed service breaks: a finding under the rule's own code."""
    for service in info.services:  # a 006 token holds only CRCs: its services have none of these fields
        for name, kind in _NAMED_FIELDS.get(service.type, ()):
            value = service.fields.get(name)
            if not isinstance(value, str) or (kind == "user_account" and value == ""):
                continue  # uid 0, the wildcard, is written as the empty string
            for problem in agora_name_problems(kind, value):
                if report.counted(problem.code):
                    continue
                report.add(
                    Severity.ERROR,
                    problem.code,
                    f"The {service.name} service's {name.replace('_', ' ')} breaks Agora's rule: {problem.message}; "
                    "Agora refuses the token.",
                    service=service.name,
                    field=name,
                    kind=kind,
                )


def _crc(text: str) -> int:
    return int(_kernel.active.crc32(check_text("text", text)))


def _check_rtc(report: _Report, info: TokenInfo, channel_name: str | None, expected_uid: str | None, uid: Any) -> bool:
    """Channel and uid checks; True when nothing (known) mismatches."""
    rtc = [service for service in info.services if service.type == ServiceType.RTC]
    if not rtc:
        return True
    matches = True
    if channel_name is not None:
        if info.version == "007":
            channels = [service.fields["channel_name"] for service in rtc]
            if channel_name not in channels:
                matches = False
                report.add(
                    Severity.ERROR,
                    "channel-mismatch",
                    f"The token is for channel {_quote(channels[0])}, not {_quote(channel_name)}.",
                    token_channel_name=channels[0],
                )
        elif _crc(channel_name) != info.crc_channel_name:
            matches = False
            report.add(
                Severity.ERROR,
                "channel-mismatch",
                f"The token was built for another channel than {_quote(channel_name)} (its channel CRC differs).",
            )
    if expected_uid is not None:
        if info.version == "007":
            token_uids = [str(service.fields["uid"]) for service in rtc]
        else:
            known = {_crc(text): text for text in ("", "0", expected_uid)}
            token_uids = [known.get(info.crc_uid if info.crc_uid is not None else -1, "\0other")]
        matches = _compare_uid(report, token_uids, expected_uid, uid, info.version) and matches
    return matches


def _compare_uid(report: _Report, token_uids: list[str], expected: str, uid: Any, version: str) -> bool:
    if expected in token_uids:
        if expected == "" and uid is not None:
            report.add(Severity.INFO, "uid-wildcard", "The token was built for uid 0, so any uid may use it.")
        return True
    if "" in token_uids:
        if expected == "0":
            report.add(
                Severity.WARNING,
                "uid-zero-vs-string-zero",
                "The token was built for uid 0 (the wildcard, written as an empty string), but the client uses the "
                "user account string '0', which is a different identity.",
            )
        else:
            report.add(Severity.INFO, "uid-wildcard", "The token was built for uid 0, so any uid may use it.")
        return True
    if "0" in token_uids and expected == "":
        report.add(
            Severity.ERROR,
            "uid-zero-vs-string-zero",
            "The token was built for the user account string '0', but the client uses the number 0 (the "
            "wildcard); build it with the number 0, or join with the account '0'.",
        )
        return False
    through = " (its uid CRC differs)" if version == "006" else ""
    shown = "another uid" if version == "006" else f"uid {_uid_words(token_uids[0])}"
    report.add(Severity.ERROR, "uid-mismatch", f"The token is for {shown}, not {_uid_words(expected)}{through}.")
    return False


def _check_rtm(report: _Report, info: TokenInfo, user_id: str | None) -> bool:
    if user_id is None:
        return True
    if info.version == "007":
        users = [str(service.fields["user_id"]) for service in info.services if service.type in _RTM_TYPES]
        if not users or user_id in users:
            return True
        report.add(
            Severity.ERROR,
            "user-id-mismatch",
            f"The token is for RTM user {_quote(users[0])}, not {_quote(user_id)}.",
            token_user_id=users[0],
        )
        return False
    if not any(service.type == ServiceType.RTM for service in info.services) or _crc(user_id) == info.crc_channel_name:
        return True
    report.add(
        Severity.ERROR,
        "user-id-mismatch",
        f"The token was built for another RTM user than {_quote(user_id)} (its user CRC differs).",
    )
    return False


def _check_signature(
    report: _Report,
    info: TokenInfo,
    certificates: tuple[str, ...],
    channel_name: str | None,
    expected_uid: str | None,
    user_id: str | None,
    rtc_matches: bool,
    rtm_matches: bool,
) -> None:
    if not certificates:
        report.add(
            Severity.INFO, "signature-not-checked", "No app certificate was given, so the signature was not checked."
        )
        return
    for position, certificate in enumerate(certificates):
        if not is_hex32(certificate):
            which = f"app certificate {position + 1} of {len(certificates)}" if len(certificates) > 1 else ""
            report.add(
                Severity.ERROR,
                "certificate-malformed",
                f"The {which or 'app certificate'} given is not 32 hexadecimal characters (it has "
                f"{len(certificate)} characters).",
                certificate=position,
            )
            return
    subject = None
    if info.version != "007":
        subject = _subject006(info, channel_name, expected_uid, user_id)
        if subject is None or not (rtc_matches and rtm_matches):
            report.add(
                Severity.INFO,
                "signature-not-checked",
                "A 006 token holds only CRCs of its channel and uid, so checking its signature needs the right "
                "channel_name and uid (or user_id for RTM).",
            )
            return
    # every certificate is tried, so the time taken does not tell which one matched
    results = [
        bool(info.token.verify(certificate) if subject is None else info.token.verify(certificate, *subject))
        for certificate in certificates
    ]
    if True in results:
        position = results.index(True)
        which = f" (certificate {position + 1} of {len(certificates)}{_ROLES.get(position, '')})"
        report.add(
            Severity.INFO,
            "signature-ok",
            f"The signature matches the app certificate{which if len(certificates) > 1 else ''}.",
            certificate=position,
            certificates=len(certificates),
        )
    else:
        tried = f" (none of the {len(certificates)} given)" if len(certificates) > 1 else ""
        report.add(
            Severity.ERROR,
            "signature-mismatch",
            f"The signature does not match the app certificate{tried}: the token was signed with another "
            "certificate (or for another app), or it was altered.",
        )


# the names Agora Console gives the first two certificates of a project
_ROLES = {0: ", the primary", 1: ", the secondary"}


def _subject006(
    info: TokenInfo, channel_name: str | None, expected_uid: str | None, user_id: str | None
) -> tuple[str, str] | None:
    """The channel (or RTM user) and uid text the 006 token was signed with, as far as the CRCs tell."""
    if channel_name is not None and expected_uid is not None:
        # A wildcard token was signed with the empty uid, whatever uid the client uses.
        for text in (expected_uid, "", "0"):
            if _crc(text) == info.crc_uid:
                return channel_name, text
        return None
    if user_id is not None and info.crc_uid == _crc(""):
        return user_id, ""
    return None
