"""The ``accesstoken2`` command: build, inspect, diagnose and verify tokens, run a demo or the server.

Credentials are read as the token server reads them (:mod:`accesstoken2.configuration`): the flags
``--app-id`` and ``--app-certificate-file``, then ``AGORA_APP_ID``/``APP_ID`` and
``AGORA_APP_CERTIFICATE``/``APP_CERTIFICATE`` from the environment, then
``AGORA_APP_CERTIFICATE_FILE``, then ``./.env``; ``-v`` says which one was used.  The certificate is
never taken as a plain argument (it would end up in the shell history) and never printed.  While a
certificate is rotated, ``diagnose`` and ``verify`` accept the primary and the secondary:
``--app-certificate-file`` given twice, a file holding two lines (primary first), or the server's
``ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE`` (or its ``_FILE``); ``build`` signs with the first.
A TOKEN argument of ``-`` is read from stdin.
Exit codes: 0 success (``verify``: valid), 1 invalid, malformed or expired token, 2 usage error,
3 input or output error (stdin not UTF-8, disk full, output pipe closed).  Errors print one line on
stderr, never a traceback; with ``--json`` they are a JSON object ``{"error": {...}}`` on stdout.
Every text taken from a token is printed with its control characters escaped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any, Callable, NamedTuple, NoReturn

from . import __version__
from ._wire import kernel as _kernel
from ._wire.checks import HEX32, is_hex32
from .configuration import (
    APP_CERTIFICATE_FILE_VARIABLE,
    APP_CERTIFICATE_VARIABLES,
    APP_ID_VARIABLES,
    SECONDARY_APP_CERTIFICATE_FILE_VARIABLE,
    SECONDARY_APP_CERTIFICATE_VARIABLES,
    ConfigurationError,
    Found,
    Sources,
    check_hex32,
    read_secret_file,
)
from .diagnosis import Finding, Severity, diagnose
from .errors import InvalidParameterError, TokenError
from .explain import ServiceInfo, TokenInfo, inspect, span_text, utc_text

__all__ = ["DEMO_APP_CERTIFICATE", "DEMO_APP_ID", "main"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_IO = 3

PROG = "accesstoken2"
#: DEMO VALUES ONLY: the app id and certificate of Agora's published test vectors, not a real project.
DEMO_APP_ID = "970CA35de60c44645bbae8a215061b33"
DEMO_APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"

# A token is at most about 88,000 characters; stdin is read up to this much.
_MAX_STDIN = 1 << 20


class UsageError(Exception):
    """A mistake in the command line or the environment: one line, exit status 2."""


class InputError(Exception):
    """Input that cannot be read (stdin not UTF-8): one line, exit status 3."""


def _implementation() -> str:
    return "C core" if _kernel.IMPLEMENTATION == "c" else "pure Python"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that never echo anything shaped like a certificate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        hidden = HEX32.sub("<32 hexadecimal characters hidden>", message)
        raise UsageError(f"{hidden} (see '{self.prog} --help')")


class _RefuseCertificate(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *args: Any) -> None:
        raise UsageError(
            "the app certificate is never taken as an argument (it would stay in your shell history); "
            "set AGORA_APP_CERTIFICATE or use --app-certificate-file PATH"
        )


# --- credentials and input -----------------------------------------------------------------------


def _sources(args: argparse.Namespace) -> Sources:
    """Where the credentials are looked up, in the server's order: flags, the environment, its
    ``*_FILE`` variables, ``./.env`` (read once per run)."""
    sources: Sources | None = getattr(args, "credential_sources", None)
    if sources is None:
        flags = {"--app-id": args.app_id}
        try:
            sources = Sources.load(flags=flags)
        except ConfigurationError as error:
            raise UsageError(str(error)) from None
        args.credential_sources = sources
    return sources


def _found(args: argparse.Namespace, what: str, find: Callable[[Sources], Found | None]) -> Found | None:
    """The credential ``what`` from the sources; with ``-v``, where it came from (never its value)."""
    try:
        found = find(_sources(args))
    except ConfigurationError as error:
        raise UsageError(str(error)) from None
    if getattr(args, "verbose", False):
        _say(f"{PROG}: {what} from {found.describe()}" if found else f"{PROG}: no {what} given")
    return found


def _app_id(args: argparse.Namespace, required: bool) -> str | None:
    found = _found(args, "app id", lambda sources: sources.find(APP_ID_VARIABLES, flag="--app-id"))
    if found is None and required:
        raise UsageError(f"no app id: pass --app-id, or set {' or '.join(APP_ID_VARIABLES)} (environment or .env)")
    return found.value if found else None


#: a certificate file holds the primary and, while rotating, the secondary: one a line
_MAX_FILE_CERTIFICATES = 2


def _certificate_file(path: str) -> list[str]:
    """The certificates of one --app-certificate-file: one or two lines of 32 hexadecimal characters."""
    try:
        text = read_secret_file("--app-certificate-file", path, allow_empty=True)
    except ConfigurationError as error:
        raise UsageError(str(error)) from None
    values = [line.strip() for line in text.splitlines() if line.strip()]
    if not values or len(values) > _MAX_FILE_CERTIFICATES or not all(map(is_hex32, values)):
        raise UsageError(
            "the file given to --app-certificate-file must hold one or two lines (primary, then secondary) of 32 "
            "hexadecimal characters each"
        )
    return values


def _checked(found: Found) -> str:
    try:
        return check_hex32(found.variable, found.value, found.label)
    except ConfigurationError as error:
        raise UsageError(str(error)) from None


def _certificates(args: argparse.Namespace, required: bool) -> tuple[str, ...]:
    """The app certificates, primary first: from every --app-certificate-file, else the primary and the
    secondary as the server reads them (environment, ``*_FILE``, ``.env``)."""
    paths: list[str] = args.app_certificate_file or []
    if paths:
        values = [value for path in paths for value in _certificate_file(path)]
        if len(values) > _MAX_FILE_CERTIFICATES:
            raise UsageError(
                f"--app-certificate-file gave {len(values)} certificates; at most {_MAX_FILE_CERTIFICATES} "
                "(primary and secondary) are taken"
            )
        if getattr(args, "verbose", False):
            shown = ", ".join(Found("", "--app-certificate-file", "flag", path).describe() for path in paths)
            _say(f"{PROG}: app certificate from {shown}")
        return tuple(values)
    primary = _found(
        args,
        "app certificate",
        lambda sources: sources.find(APP_CERTIFICATE_VARIABLES, APP_CERTIFICATE_FILE_VARIABLE),
    )
    if primary is None:
        if required:
            raise UsageError(
                f"no app certificate: use --app-certificate-file PATH, or set {APP_CERTIFICATE_VARIABLES[0]} "
                f"or {APP_CERTIFICATE_FILE_VARIABLE} (environment or .env)"
            )
        return ()
    secondary = _found(
        args,
        "secondary app certificate",
        lambda sources: sources.find(SECONDARY_APP_CERTIFICATE_VARIABLES, SECONDARY_APP_CERTIFICATE_FILE_VARIABLE),
    )
    return (_checked(primary),) + ((_checked(secondary),) if secondary is not None else ())


def _certificate(args: argparse.Namespace, required: bool) -> str | None:
    """The certificate to sign with: the primary (the first one given)."""
    certificates = _certificates(args, required)
    return certificates[0] if certificates else None


def _read_stdin() -> str:
    stream = sys.stdin
    if stream is None:
        raise InputError("no stdin to read the token from")
    data = stream.buffer.read(_MAX_STDIN + 1)
    if len(data) > _MAX_STDIN:
        raise InputError(f"stdin holds more than {_MAX_STDIN} bytes; a token is at most about 88,000 characters")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"stdin is not UTF-8 text (byte {error.start} cannot be decoded)") from None


def _token(args: argparse.Namespace) -> str:
    token: str = args.token
    if token == "-":
        token = _read_stdin().strip()
        if not token:
            raise UsageError("no token on stdin")
    return token


def _uid(args: argparse.Namespace) -> int | str | None:
    if getattr(args, "account", None) is not None:
        account: str = args.account
        return account
    uid: int | None = getattr(args, "uid", None)
    return uid


def _now(args: argparse.Namespace) -> int:
    return int(time.time()) if args.now is None else int(args.now)


# --- output --------------------------------------------------------------------------------------


def _escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:  # as JSON writes it: a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def terminal_safe(text: str, keep: str = "") -> str:
    """``text`` with every character Python does not call printable written as a ``\\uXXXX`` escape.

    That covers the C0 and C1 controls (ANSI escape sequences start with one), bidirectional
    overrides and other format characters, line separators and lone surrogates: a token cannot
    clear the screen, retitle the window or hide lines.  Characters in ``keep`` pass (JSON's newlines).
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char in keep else _escape(char) for char in text)


def _quoted(value: Any) -> str:
    """A string or structure from a token as JSON text, safe for a terminal (escapes as JSON writes them)."""
    return terminal_safe(json.dumps(value, ensure_ascii=False))


def _field_text(name: str, value: Any) -> str:
    if name.startswith("crc_") and isinstance(value, int):
        return f"{value:#010x}"
    if isinstance(value, (str, dict, list)):
        return _quoted(value)
    return terminal_safe(str(value))


def _json_text(value: Any) -> str:
    # json.dumps escapes C0 controls in strings; the other unprintable characters can only be inside
    # strings too (the structure is ASCII), so escaping them keeps the JSON valid and equal
    return terminal_safe(json.dumps(value, indent=2, ensure_ascii=False), keep="\n")


def _print_json(value: Any) -> None:
    print(_json_text(value))


def _say(line: str) -> None:
    """One line on stderr (a closed stderr is ignored: there is nowhere left to report to)."""
    try:
        print(terminal_safe(line), file=sys.stderr)
    except (OSError, ValueError, AttributeError):
        pass


def render(info: TokenInfo) -> str:
    """The readable table of ``accesstoken2 inspect``."""
    rows: list[tuple[str, str]] = [("version", info.version + (" (AccessToken2)" if info.version == "007" else ""))]
    rows.append(("app id", info.app_id if is_hex32(info.app_id) else _quoted(info.app_id)))
    if info.issue_ts is None:
        rows.append(("issued", "not recorded in a 006 token"))
    else:
        rows.append(("issued", f"{utc_text(info.issue_ts)} ({info.issue_ts})"))
    left = info.seconds_left
    state = f"expired {span_text(left)} ago" if left <= 0 else f"in {span_text(left)}"
    lifetime = "; the message timestamp ts" if info.expire is None else f"; lifetime {span_text(info.expire)}"
    rows.append(("expires", f"{utc_text(info.expire_ts)} ({state}{lifetime})"))
    rows.append(("salt", str(info.salt)))
    if info.crc_channel_name is not None and info.crc_uid is not None:
        rows.append(("channel CRC", f"{info.crc_channel_name:#010x}"))
        rows.append(("uid CRC", f"{info.crc_uid:#010x}"))
    rows.append(("services", f"{len(info.services) + sum(info.omitted_services.values()):,}"))
    lines = [f"{name:<12} {value}" for name, value in rows]
    for index, service in enumerate(info.services, 1):
        lines.extend(_render_service(index, service, info))
    omitted = sum(info.omitted_services.values())
    if omitted:
        counts = ", ".join(f"{count:,} {name}" for name, count in info.omitted_services.items())
        lines.append(f"... and {omitted:,} more services, not listed ({counts})")
    if info.unknown_service_type is not None:
        lines.append(f"[{len(info.services) + 1}] unknown service type {info.unknown_service_type}: not read further")
    return "\n".join(lines)


def _render_service(index: int, service: ServiceInfo, info: TokenInfo) -> list[str]:
    lines = [f"[{index}] {service.name} (type {service.type})"]
    for name, value in service.fields.items():
        note = " (uid 0: any uid)" if name == "uid" and value == "" else ""
        lines.append(f"    {name:<22} {_field_text(name, value)}{note}")
    if not service.privileges:
        lines.append("    (no privileges)")
    for privilege in service.privileges:
        if privilege.follows_token:
            until = "as long as the token"
        elif info.version == "007":
            until = f"{span_text(privilege.value)} after issue"
        else:
            until = "absolute time"
        lines.append(
            f"    {privilege.name:<22} until {utc_text(privilege.expire_ts)} ({until}) [privilege {privilege.id}]"
        )
    if service.omitted_privileges:
        lines.append(f"    ... and {service.omitted_privileges:,} more privileges, not listed")
    if service.omitted_permissions:
        lines.append(f"    ... and {service.omitted_permissions:,} more permission entries, not listed")
    return lines


def _print_findings(findings: list[Finding]) -> None:
    for finding in findings:
        print(f"{finding.severity.value:<8} {finding.code:<28} {terminal_safe(finding.message)}")


# --- commands ------------------------------------------------------------------------------------


def _cmd_inspect(args: argparse.Namespace) -> int:
    info = inspect(_token(args), now=_now(args))
    if args.json:
        _print_json(info.to_dict())
    else:
        print(render(info))
    return EXIT_OK


def _diagnose(args: argparse.Namespace, certificates: tuple[str, ...]) -> list[Finding]:
    return diagnose(
        _token(args),
        app_certificate=certificates or None,
        app_id=_app_id(args, required=False),
        channel_name=args.channel,
        uid=_uid(args),
        user_id=args.user_id,
        service=getattr(args, "service", None),
        now=_now(args),
    )


def _cmd_diagnose(args: argparse.Namespace) -> int:
    findings = _diagnose(args, _certificates(args, required=False))
    if args.json:
        _print_json([finding.to_dict() for finding in findings])
    else:
        _print_findings(findings)
    return EXIT_INVALID if any(finding.severity is Severity.ERROR for finding in findings) else EXIT_OK


def _which(findings: list[Finding]) -> str:
    """Which certificate matched, by position, when more than one was given (never its value)."""
    matched = next(finding for finding in findings if finding.code == "signature-ok").detail
    if matched["certificates"] < 2:
        return ""
    return f" (certificate {matched['certificate'] + 1} of {matched['certificates']})"


def _cmd_verify(args: argparse.Namespace) -> int:
    findings = _diagnose(args, _certificates(args, required=True))
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    if not errors and not any(finding.code == "signature-ok" for finding in findings):
        raise UsageError("a 006 token holds only CRCs: verifying it needs --channel and --uid (or --user-id)")
    verdict = errors[0] if errors else next(finding for finding in findings if finding.code == "valid")
    if args.json:
        _print_json(
            {
                "valid": not errors,
                "code": verdict.code,
                "message": verdict.message,
                "findings": [finding.to_dict() for finding in findings],
            }
        )
    elif errors:
        print(f"invalid: {terminal_safe(verdict.message)} [{verdict.code}]")
    else:
        print(f"valid: the signature matches{_which(findings)}; {verdict.message[0].lower()}{verdict.message[1:]}")
    return EXIT_INVALID if errors else EXIT_OK


def _cmd_fingerprint(args: argparse.Namespace) -> int:
    from .fingerprint import token_fingerprint

    print(token_fingerprint(_token(args)))
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from .builders import Role_Publisher, RtcTokenBuilder

    print("accesstoken2 demo: DEMO credentials only (the app id and certificate of Agora's published test")
    print("vectors); they belong to no real project.  The certificate is not printed.")
    print(f"implementation: {_implementation()}")
    print()
    token = RtcTokenBuilder.build_token_with_rtm(
        DEMO_APP_ID, DEMO_APP_CERTIFICATE, "demo-channel", 2882341273, Role_Publisher, 3600
    )
    print("RTC + RTM token for channel 'demo-channel', uid 2882341273, valid one hour:")
    print(token)
    print()
    info = inspect(token)
    print(render(info))
    print()
    checked = diagnose(token, app_certificate=DEMO_APP_CERTIFICATE, app_id=DEMO_APP_ID, channel_name="demo-channel")
    verdict = "matches" if any(f.code == "signature-ok" for f in checked) else "DOES NOT match"
    print(f"signature: {verdict} the demo certificate")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .server import serve
    except ImportError:
        print(f"{PROG} serve: the server needs the optional extra: pip install 'accesstoken2[server]'", file=sys.stderr)
        return EXIT_USAGE
    code: int = serve(host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)
    return code


# --- build ---------------------------------------------------------------------------------------


class _Request(NamedTuple):
    """What every build kind gets: the parsed options, the credentials and the fixed issue_ts/salt."""

    args: argparse.Namespace
    app_id: str
    certificate: str
    when: dict[str, Any]


def _who(args: argparse.Namespace) -> int | str:
    who = _uid(args)
    if who is None:  # argparse requires --uid or --account for these kinds
        raise UsageError("one of --uid and --account is required")
    return who


def _role(args: argparse.Namespace) -> int:
    # the least permissive role unless asked for more, as the token server does
    return 1 if args.role == "publisher" else 2


def _rtc_expiries(args: argparse.Namespace) -> tuple[int, int, int, int]:
    default: int = args.privilege_expire

    def pick(value: int | None) -> int:
        return default if value is None else value

    return pick(args.join_expire), pick(args.audio_expire), pick(args.video_expire), pick(args.data_expire)


def _separate_expiries(args: argparse.Namespace) -> bool:
    return any(
        value is not None for value in (args.join_expire, args.audio_expire, args.video_expire, args.data_expire)
    )


def _permissions(specs: list[str]) -> Any:
    from .services import Rtm2Permissions, Rtm2PermissionType, Rtm2ResourceType

    tree: dict[Rtm2ResourceType, dict[Rtm2PermissionType, list[str]]] = {}
    for spec in specs:
        parts = spec.split(":", 2)
        if len(parts) != 3:
            raise UsageError("--permission takes RESOURCE_TYPE:PERMISSION:NAME, e.g. message_channels:read:lobby")
        resource, permission, name = parts
        try:
            resource_type = Rtm2ResourceType[resource.upper()]
            permission_type = Rtm2PermissionType[permission.upper()]
        except KeyError:
            resources = ", ".join(member.name.lower() for member in Rtm2ResourceType)
            raise UsageError(
                f"--permission: resource type must be one of {resources} and permission read or write"
            ) from None
        tree.setdefault(resource_type, {}).setdefault(permission_type, []).append(name)
    permissions = Rtm2Permissions()
    for resource_type, by_permission in tree.items():
        for permission_type, names in by_permission.items():
            permissions.add(resource_type, permission_type, names)
    return permissions


def _rtc_role_arguments(request: _Request) -> tuple[Any, ...]:
    """app id, certificate, channel, uid or account, role, expire, privilege expire: the RTC builders' order."""
    args = request.args
    return (
        request.app_id,
        request.certificate,
        args.channel,
        _who(args),
        _role(args),
        args.expire,
        args.privilege_expire,
    )


def _build_rtc(request: _Request) -> str:
    from .builders import RtcTokenBuilder

    args = request.args
    if _separate_expiries(args):
        if args.role == "subscriber":
            raise UsageError("--join/audio/video/data-expire build a publisher token; drop --role subscriber")
        return RtcTokenBuilder.build_token_with_user_account_and_privilege(
            request.app_id,
            request.certificate,
            args.channel,
            _who(args),
            args.expire,
            *_rtc_expiries(args),
            **request.when,
        )
    return RtcTokenBuilder.build_token_with_user_account(*_rtc_role_arguments(request), **request.when)


def _rtc_rtm_arguments(request: _Request) -> tuple[Any, ...]:
    args = request.args
    rtm_expire = args.expire if args.rtm_expire is None else args.rtm_expire
    # app id ... expire as for the RTC builders, then one lifetime per privilege instead of privilege_expire
    return (*_rtc_role_arguments(request)[:-1], *_rtc_expiries(args), args.rtm_user_id, rtm_expire)


def _build_rtc_rtm(request: _Request) -> str:
    from .builders import RtcTokenBuilder

    args = request.args
    if args.rtm_user_id is not None:
        return RtcTokenBuilder.build_token_with_rtm2(*_rtc_rtm_arguments(request), **request.when)
    return RtcTokenBuilder.build_token_with_rtm(*_rtc_role_arguments(request), **request.when)


def _agent(builder_name: str, kind: str) -> Callable[[_Request], str]:
    def build(request: _Request) -> str:
        from . import builders

        if request.args.rtm_user_id is None:
            raise UsageError(f"build {kind} needs --rtm-user-id")
        builder = getattr(builders, builder_name)
        token: str = builder.build_token(*_rtc_rtm_arguments(request), **request.when)
        return token

    return build


def _user_builder(builder_name: str, method: str) -> Callable[[_Request], str]:
    """A kind whose builder takes (app_id, certificate, user, expire): RTM, Chat user, APaaS user."""

    def build(request: _Request) -> str:
        from . import builders

        args = request.args
        user = args.user_uuid if "user_uuid" in args else args.user_id
        make = getattr(getattr(builders, builder_name), method)
        token: str = make(request.app_id, request.certificate, user, args.expire, **request.when)
        return token

    return build


def _app_builder(builder_name: str) -> Callable[[_Request], str]:
    def build(request: _Request) -> str:
        from . import builders

        make = getattr(builders, builder_name).build_app_token
        token: str = make(request.app_id, request.certificate, request.args.expire, **request.when)
        return token

    return build


def _build_rtm2(request: _Request) -> str:
    from .builders import RtmTokenBuilder

    args = request.args
    permissions = _permissions(args.permission or [])
    return RtmTokenBuilder.build_token_with_permissions(
        request.app_id, request.certificate, args.user_id, permissions, args.expire, **request.when
    )


def _build_fpa(request: _Request) -> str:
    from .builders import FpaTokenBuilder

    return FpaTokenBuilder.build_token(request.app_id, request.certificate, **request.when)


def _room_user_builder(builder_name: str) -> Callable[[_Request], str]:
    def build(request: _Request) -> str:
        from . import builders

        args = request.args
        make = getattr(builders, builder_name).build_room_user_token
        token: str = make(
            request.app_id,
            request.certificate,
            args.room_uuid,
            args.user_uuid,
            args.role_id,
            args.expire,
            **request.when,
        )
        return token

    return build


def _legacy_times(request: _Request) -> tuple[int, dict[str, Any]]:
    args = request.args
    now = int(time.time()) if args.issue_ts is None else args.issue_ts
    return now + args.expire, {"ts": args.ts, "salt": args.salt}


def _build_rtc006(request: _Request) -> str:
    from .legacy import builders as legacy

    expire_at, when = _legacy_times(request)
    args = request.args
    return legacy.RtcTokenBuilder.buildTokenWithAccount(
        request.app_id, request.certificate, args.channel, _who(args), _role(args), expire_at, **when
    )


def _build_rtm006(request: _Request) -> str:
    from .legacy import builders as legacy

    expire_at, when = _legacy_times(request)
    return legacy.RtmTokenBuilder.buildToken(
        request.app_id, request.certificate, request.args.user_id, legacy.Role_Rtm_User, expire_at, **when
    )


# --- the options of the build kinds ---


def _identity(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--channel", required=required, help="channel name")
    who = parser.add_mutually_exclusive_group(required=required)
    who.add_argument("--uid", type=int, help="numeric uid, 0 to 4294967295 (0: any uid may use the token)")
    who.add_argument("--account", help="user account string (the string '0' is not uid 0)")


def _role_option(parser: argparse.ArgumentParser, required: bool = False) -> None:
    if required:  # an agent that must speak and one that only listens both exist: no default fits
        text = "RTC role of the agent: publisher to speak, subscriber to listen only (required)"
    else:
        text = "RTC role (default: subscriber, which may join but not publish)"
    parser.add_argument("--role", choices=("publisher", "subscriber"), required=required, help=text)


def _rtc_options(parser: argparse.ArgumentParser, role_required: bool = False) -> None:
    _identity(parser, required=True)
    _role_option(parser, role_required)
    parser.add_argument(
        "--privilege-expire",
        type=int,
        default=0,
        metavar="SECONDS",
        help="privilege lifetime (default: 0, the token's lifetime)",
    )
    for name in ("join", "audio", "video", "data"):
        parser.add_argument(
            f"--{name}-expire",
            type=int,
            metavar="SECONDS",
            help=f"{name} privilege lifetime (default: --privilege-expire)",
        )


def _rtm_options(parser: argparse.ArgumentParser, role_required: bool = False) -> None:
    _rtc_options(parser, role_required)
    parser.add_argument("--rtm-user-id", help="RTM user id")
    parser.add_argument("--rtm-expire", type=int, metavar="SECONDS", help="RTM login lifetime (default: --expire)")


def _agent_options(parser: argparse.ArgumentParser) -> None:
    _rtm_options(parser, role_required=True)


def _user_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user-id", required=True, help="user id")


def _rtm2_options(parser: argparse.ArgumentParser) -> None:
    _user_id(parser)
    parser.add_argument(
        "--permission",
        action="append",
        metavar="TYPE:PERM:NAME",
        help="e.g. message_channels:read:lobby (repeatable; default: none)",
    )


def _user_uuid(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user-uuid", required=True, help="user uuid")


def _room_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--room-uuid", required=True, help="room uuid")
    _user_uuid(parser)
    parser.add_argument("--role", dest="role_id", type=int, required=True, help="role number")


def _legacy_ts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ts", type=int, metavar="UNIX", help="message timestamp (default: now + 24 h)")


def _rtc006_options(parser: argparse.ArgumentParser) -> None:
    _identity(parser, required=True)
    _role_option(parser)
    _legacy_ts(parser)


def _rtm006_options(parser: argparse.ArgumentParser) -> None:
    _user_id(parser)
    _legacy_ts(parser)


def _no_options(parser: argparse.ArgumentParser) -> None:
    pass


class _Kind(NamedTuple):
    """One ``build`` kind: its name, its help line, the options it adds and the builder call it makes."""

    name: str
    help: str
    options: Callable[[argparse.ArgumentParser], None]
    build: Callable[[_Request], str]
    expire: bool = True


def _apaas_kinds(family: str, title: str, builder_name: str) -> list[_Kind]:
    return [
        _Kind(
            f"{family}-room-user",
            f"{title} room user token (APaaS + RTM + Chat)",
            _room_user,
            _room_user_builder(builder_name),
        ),
        _Kind(f"{family}-user", f"{title} user token", _user_uuid, _user_builder(builder_name, "build_user_token")),
        _Kind(f"{family}-app", f"{title} app token", _no_options, _app_builder(builder_name)),
    ]


KINDS: tuple[_Kind, ...] = (
    _Kind("rtc", "RTC token (join; a publisher may also publish)", _rtc_options, _build_rtc),
    _Kind("rtc-rtm", "RTC + RTM token (--rtm-user-id for a separate RTM user)", _rtm_options, _build_rtc_rtm),
    _Kind(
        "convoai",
        "Conversational AI agent token: RTC + RTM + ConvoAI",
        _agent_options,
        _agent("ConvoAITokenBuilder", "convoai"),
    ),
    _Kind("stt", "speech-to-text agent token: RTC + RTM + STT", _agent_options, _agent("SttTokenBuilder", "stt")),
    _Kind("rtm", "RTM login token", _user_id, _user_builder("RtmTokenBuilder", "build_token")),
    _Kind("rtm2", "RTM2 token with resource permissions", _rtm2_options, _build_rtm2),
    _Kind("chat-user", "Chat user token", _user_id, _user_builder("ChatTokenBuilder", "build_user_token")),
    _Kind("chat-app", "Chat app token", _no_options, _app_builder("ChatTokenBuilder")),
    _Kind("fpa", "FPA token (24 hours)", _no_options, _build_fpa, expire=False),
    *_apaas_kinds("apaas", "APaaS", "ApaasTokenBuilder"),
    *_apaas_kinds("education", "Education (APaaS)", "EducationTokenBuilder"),
    _Kind("rtc006", "legacy 006 RTC token (--expire is counted from now)", _rtc006_options, _build_rtc006),
    _Kind("rtm006", "legacy 006 RTM token (--expire is counted from now)", _rtm006_options, _build_rtm006),
)


def _cmd_build(args: argparse.Namespace) -> int:
    app_id = _app_id(args, required=True)
    certificate = _certificate(args, required=True)
    assert app_id is not None and certificate is not None
    request = _Request(args, app_id, certificate, {"issue_ts": args.issue_ts, "salt": args.salt})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            token = args.kind_spec.build(request)
        except InvalidParameterError as error:
            raise UsageError(str(error)) from None
    messages = list(dict.fromkeys(str(warning.message) for warning in caught))
    if args.json:
        _print_json({"token": token, "kind": args.kind, "warnings": messages})
        return EXIT_OK
    for message in messages:
        _say(f"{PROG}: warning: {message}")
    print(token)
    return EXIT_OK


def _build_parser(subparsers: Any) -> None:
    build = subparsers.add_parser("build", help="build a token", description="Build a token; it goes to stdout.")
    kinds = build.add_subparsers(dest="kind", metavar="KIND", required=True)
    for spec in KINDS:
        parser: argparse.ArgumentParser = kinds.add_parser(spec.name, help=spec.help, description=spec.help)
        parser.set_defaults(handler=_cmd_build, kind_spec=spec)
        _credentials(parser)
        if spec.expire:
            parser.add_argument("--expire", type=int, default=3600, metavar="SECONDS", help="lifetime (default: 3600)")
        else:
            parser.set_defaults(expire=0)
        parser.add_argument("--issue-ts", type=int, metavar="UNIX", help="issue time (default: now)")
        parser.add_argument("--salt", type=int, help="salt (default: random)")
        parser.add_argument("--json", action="store_true", help='print {"token", "kind", "warnings"} as JSON')
        spec.options(parser)


# --- the parser ----------------------------------------------------------------------------------


def _credentials(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "credentials",
        "read as the server reads them: the flags, then the environment (AGORA_APP_ID or APP_ID, "
        "AGORA_APP_CERTIFICATE or APP_CERTIFICATE), then AGORA_APP_CERTIFICATE_FILE, then ./.env",
    )
    group.add_argument("--app-id", help="the app id (default: $AGORA_APP_ID)")
    group.add_argument(
        "--app-certificate-file",
        metavar="PATH",
        action="append",
        help="a file holding the app certificate (default: $AGORA_APP_CERTIFICATE); while rotating, give it "
        "twice or put the primary and the secondary on two lines (build signs with the first)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say on stderr where the app id and certificate came from (never their values)",
    )
    group.add_argument(
        "--app-certificate",
        "--app_certificate",
        "--certificate",
        "--cert",
        nargs="?",
        action=_RefuseCertificate,
        help=argparse.SUPPRESS,
    )


def _token_parser(subparsers: Any, name: str, text: str, handler: Callable[[argparse.Namespace], int]) -> Any:
    parser = subparsers.add_parser(name, help=text, description=text)
    parser.set_defaults(handler=handler)
    parser.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    parser.add_argument("--now", type=int, metavar="UNIX", help="check against this time (default: now)")
    return parser


def _checks(parser: argparse.ArgumentParser) -> None:
    _credentials(parser)
    _identity(parser, required=False)
    parser.add_argument("--user-id", help="RTM user id the token is meant for")


def _with_environment_help(serve: argparse.ArgumentParser) -> None:
    """List the server's environment variables in ``serve --help``, importing the server's
    settings only when the help is shown (not on every run of the command)."""
    plain = serve.format_help

    def format_help() -> str:
        from .server.config import environment_help

        serve.epilog = environment_help()
        return plain()

    serve.format_help = format_help  # type: ignore[method-assign]


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``accesstoken2`` command."""
    parser = _Parser(prog=PROG, description="Build, inspect, diagnose and verify Agora access tokens.")
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {__version__} ({_implementation()} implementation)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _build_parser(subparsers)
    inspect_parser = _token_parser(subparsers, "inspect", "show what a token holds", _cmd_inspect)
    inspect_parser.add_argument("--json", action="store_true", help="print JSON")
    diagnose_parser = _token_parser(subparsers, "diagnose", "explain why a token may be rejected", _cmd_diagnose)
    _checks(diagnose_parser)
    diagnose_parser.add_argument("--service", help="the service the token is meant for (rtc, rtm, chat, ...)")
    diagnose_parser.add_argument("--json", action="store_true", help="print JSON")
    verify_parser = _token_parser(
        subparsers,
        "verify",
        "exit 0 if Agora would accept the token (signature, expiry, and the channel, uid and user id given), 1 if not",
        _cmd_verify,
    )
    _checks(verify_parser)
    verify_parser.add_argument("--json", action="store_true", help='print {"valid", "code", "message", "findings"}')
    fingerprint = subparsers.add_parser(
        "fingerprint",
        help="print the token's audit-log id (token_sha256)",
        description="Print the first 16 hexadecimal characters of SHA-256 of the token: the token_sha256 the "
        "token server's audit log records, to find a leaked token there. The token is not checked.",
    )
    fingerprint.set_defaults(handler=_cmd_fingerprint)
    fingerprint.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    demo = subparsers.add_parser("demo", help="build and explain a token on demo credentials")
    demo.set_defaults(handler=_cmd_demo)
    serve = subparsers.add_parser(
        "serve",
        help="run the token server (needs accesstoken2[server])",
        description="Run the token server under uvicorn. Bad settings are refused in one line, exit status 2.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _with_environment_help(serve)
    serve.set_defaults(handler=_cmd_serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    # port and workers are checked by serve(), which refuses any bad value in one line and exit 2
    serve.add_argument("--port", help="TCP port, 0 to 65535 (default: SERVER_PORT or PORT, else 8080)")
    serve.add_argument("--workers", default="1", help="uvicorn worker processes (default 1)")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="log level (default info: one line per request)",
    )
    return parser


def _error_detail(error: TokenError) -> dict[str, Any]:
    """What a library error says about itself (its attributes, never its message text)."""
    detail: dict[str, Any] = {}
    for name in ("parameter", "stage", "field", "format"):
        value = getattr(error, name, None)
        if value is not None:
            detail[name] = value
    return detail


def _fail(status: int, kind: str, message: str, as_json: bool, **detail: Any) -> int:
    """Report an error as one line on stderr, or with --json as {"error": ...} on stdout."""
    if as_json:
        try:
            _print_json({"error": {"type": kind, "message": message, "exit_status": status, **detail}})
            sys.stdout.flush()
            return status
        except OSError:
            _drop_stdout()
    _say(f"{PROG}: error: {message}")
    return status


def _drop_stdout() -> None:
    """After a failed write: point stdout at /dev/null, so the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _io_message(error: OSError) -> str:
    if isinstance(error, BrokenPipeError):
        return "cannot write the output: the pipe was closed before it was all read"
    reason = error.strerror or type(error).__name__
    return f"cannot write the output ({reason})"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in arguments
    parser = make_parser()
    try:
        args = parser.parse_args(arguments)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        status = handler(args)
        sys.stdout.flush()  # here, not at exit: a full disk or a closed pipe is reported like any error
        return status
    except UsageError as error:
        return _fail(EXIT_USAGE, "usage", str(error), as_json)
    except InputError as error:
        return _fail(EXIT_IO, "input", str(error), as_json)
    except TokenError as error:
        return _fail(EXIT_INVALID, "token", str(error), as_json, **_error_detail(error))
    except SystemExit as stop:  # --help and --version
        return stop.code if isinstance(stop.code, int) else EXIT_OK
    except KeyboardInterrupt:
        return 130
    except OSError as error:  # writing the output failed: stdout is gone, so the error goes to stderr
        _drop_stdout()
        return _fail(EXIT_IO, "output", _io_message(error), as_json=False)
