"""The ``accesstoken2`` command: build, inspect, diagnose and verify tokens, run a demo or the server.

Credentials come from ``AGORA_APP_ID`` / ``--app-id`` and ``AGORA_APP_CERTIFICATE`` /
``--app-certificate-file``; the certificate is never taken as a plain argument (it would end up
in the shell history) and never printed.  A TOKEN argument of ``-`` is read from stdin.
Exit codes: 0 success (``verify``: valid), 1 invalid, malformed or expired token, 2 usage error.
User errors print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any, Callable, NoReturn

from . import __version__, _kernel
from ._validate import HEX32, is_hex32
from .diagnosis import Finding, Severity, diagnose
from .errors import InvalidParameterError, TokenError
from .explain import ServiceInfo, TokenInfo, inspect, span_text, utc_text

__all__ = ["DEMO_APP_CERTIFICATE", "DEMO_APP_ID", "main"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

PROG = "accesstoken2"
#: DEMO VALUES ONLY: the app id and certificate of Agora's published test vectors, not a real project.
DEMO_APP_ID = "970CA35de60c44645bbae8a215061b33"
DEMO_APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"

_KINDS_006 = ("rtc006", "rtm006")


class UsageError(Exception):
    """A mistake in the command line or the environment: one line, exit status 2."""


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


def _app_id(args: argparse.Namespace, required: bool) -> str | None:
    value: str | None = args.app_id or os.environ.get("AGORA_APP_ID") or None
    if value is None and required:
        raise UsageError("no app id: set AGORA_APP_ID or pass --app-id")
    return value.strip() if value is not None else None


def _certificate(args: argparse.Namespace, required: bool) -> str | None:
    if args.app_certificate_file is not None:
        try:
            with open(args.app_certificate_file, encoding="utf-8") as handle:
                value = handle.read(4096).strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
            raise UsageError(f"the file given to --app-certificate-file cannot be read ({reason})") from None
        if not is_hex32(value):
            raise UsageError("the file given to --app-certificate-file does not hold 32 hexadecimal characters")
        return value
    env = os.environ.get("AGORA_APP_CERTIFICATE", "").strip()
    if env:
        if not is_hex32(env):
            raise UsageError("AGORA_APP_CERTIFICATE is not 32 hexadecimal characters")
        return env
    if required:
        raise UsageError("no app certificate: set AGORA_APP_CERTIFICATE or use --app-certificate-file PATH")
    return None


def _token(args: argparse.Namespace) -> str:
    token: str = args.token
    if token == "-":
        token = sys.stdin.read(1 << 20).strip()
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


def _field_text(name: str, value: Any) -> str:
    if name.startswith("crc_") and isinstance(value, int):
        return f"{value:#010x}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(info: TokenInfo) -> str:
    """The readable table of ``accesstoken2 inspect``."""
    rows: list[tuple[str, str]] = [("version", info.version + (" (AccessToken2)" if info.version == "007" else ""))]
    rows.append(("app id", info.app_id))
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
    rows.append(("services", str(len(info.services))))
    lines = [f"{name:<12} {value}" for name, value in rows]
    for index, service in enumerate(info.services, 1):
        lines.extend(_render_service(index, service, info))
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
    return lines


def _print_findings(findings: list[Finding]) -> None:
    for finding in findings:
        print(f"{finding.severity.value:<8} {finding.code:<28} {finding.message}")


# --- commands ------------------------------------------------------------------------------------


def _cmd_inspect(args: argparse.Namespace) -> int:
    info = inspect(_token(args), now=_now(args))
    if args.json:
        print(json.dumps(info.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(render(info))
    return EXIT_OK


def _diagnose(args: argparse.Namespace, certificate: str | None) -> list[Finding]:
    return diagnose(
        _token(args),
        app_certificate=certificate,
        app_id=_app_id(args, required=False),
        channel_name=args.channel,
        uid=_uid(args),
        user_id=args.user_id,
        service=getattr(args, "service", None),
        now=_now(args),
    )


def _cmd_diagnose(args: argparse.Namespace) -> int:
    findings = _diagnose(args, _certificate(args, required=False))
    if args.json:
        print(json.dumps([finding.to_dict() for finding in findings], indent=2, ensure_ascii=False))
    else:
        _print_findings(findings)
    return EXIT_INVALID if any(finding.severity is Severity.ERROR for finding in findings) else EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    findings = _diagnose(args, _certificate(args, required=True))
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    if errors:
        print(f"invalid: {errors[0].message} [{errors[0].code}]")
        return EXIT_INVALID
    if not any(finding.code == "signature-ok" for finding in findings):
        raise UsageError("a 006 token holds only CRCs: verifying it needs --channel and --uid (or --user-id)")
    valid = next(finding for finding in findings if finding.code == "valid")
    print(f"valid: the signature matches; {valid.message[0].lower()}{valid.message[1:]}")
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


def _role(name: str) -> int:
    return 1 if name == "publisher" else 2


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


def _build(args: argparse.Namespace) -> str:
    from . import builders

    kind: str = args.kind
    app_id = _app_id(args, required=True)
    certificate = _certificate(args, required=True)
    assert app_id is not None and certificate is not None
    if kind in _KINDS_006:
        return _build006(args, app_id, certificate)
    when: dict[str, Any] = {"issue_ts": args.issue_ts, "salt": args.salt}
    expire: int = args.expire
    if kind == "rtc":
        rtc = builders.RtcTokenBuilder
        if _separate_expiries(args):
            if args.role == "subscriber":
                raise UsageError("--join/audio/video/data-expire build a publisher token; drop --role subscriber")
            return rtc.build_token_with_user_account_and_privilege(
                app_id, certificate, args.channel, _uid(args) or 0, expire, *_rtc_expiries(args), **when
            )
        return rtc.build_token_with_user_account(
            app_id, certificate, args.channel, _uid(args) or 0, _role(args.role), expire, args.privilege_expire, **when
        )
    if kind == "rtc-rtm":
        if args.rtm_user_id is None:
            return builders.RtcTokenBuilder.build_token_with_rtm(
                app_id,
                certificate,
                args.channel,
                _uid(args) or 0,
                _role(args.role),
                expire,
                args.privilege_expire,
                **when,
            )
        return builders.RtcTokenBuilder.build_token_with_rtm2(*_rtc_rtm_arguments(args, app_id, certificate), **when)
    if kind in ("convoai", "stt"):
        builder = builders.ConvoAITokenBuilder if kind == "convoai" else builders.SttTokenBuilder
        if args.rtm_user_id is None:
            raise UsageError(f"build {kind} needs --rtm-user-id")
        return builder.build_token(*_rtc_rtm_arguments(args, app_id, certificate), **when)
    if kind == "rtm":
        return builders.RtmTokenBuilder.build_token(app_id, certificate, args.user_id, expire, **when)
    if kind == "rtm2":
        permissions = _permissions(args.permission or [])
        return builders.RtmTokenBuilder.build_token_with_permissions(
            app_id, certificate, args.user_id, permissions, expire, **when
        )
    if kind == "chat-user":
        return builders.ChatTokenBuilder.build_user_token(app_id, certificate, args.user_id, expire, **when)
    if kind == "chat-app":
        return builders.ChatTokenBuilder.build_app_token(app_id, certificate, expire, **when)
    if kind == "fpa":
        return builders.FpaTokenBuilder.build_token(app_id, certificate, **when)
    apaas = builders.EducationTokenBuilder if kind.startswith("education") else builders.ApaasTokenBuilder
    if kind.endswith("room-user"):
        return apaas.build_room_user_token(
            app_id, certificate, args.room_uuid, args.user_uuid, args.role_id, expire, **when
        )
    if kind.endswith("-user"):
        return apaas.build_user_token(app_id, certificate, args.user_uuid, expire, **when)
    return apaas.build_app_token(app_id, certificate, expire, **when)


def _rtc_rtm_arguments(args: argparse.Namespace, app_id: str, certificate: str) -> tuple[Any, ...]:
    rtm_expire = args.expire if args.rtm_expire is None else args.rtm_expire
    return (
        app_id,
        certificate,
        args.channel,
        _uid(args) or 0,
        _role(args.role),
        args.expire,
        *_rtc_expiries(args),
        args.rtm_user_id,
        rtm_expire,
    )


def _build006(args: argparse.Namespace, app_id: str, certificate: str) -> str:
    from .legacy import builders as legacy

    now = int(time.time()) if args.issue_ts is None else args.issue_ts
    expire_at = now + args.expire
    when: dict[str, Any] = {"ts": args.ts, "salt": args.salt}
    if args.kind == "rtm006":
        return legacy.RtmTokenBuilder.buildToken(
            app_id, certificate, args.user_id, legacy.Role_Rtm_User, expire_at, **when
        )
    return legacy.RtcTokenBuilder.buildTokenWithAccount(
        app_id, certificate, args.channel, _uid(args) or 0, _role(args.role), expire_at, **when
    )


def _cmd_build(args: argparse.Namespace) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            token = _build(args)
        except InvalidParameterError as error:
            raise UsageError(str(error)) from None
    for message in dict.fromkeys(str(warning.message) for warning in caught):
        print(f"{PROG}: warning: {message}", file=sys.stderr)
    print(token)
    return EXIT_OK


# --- the parser ----------------------------------------------------------------------------------


def _credentials(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("credentials")
    group.add_argument("--app-id", help="the app id (default: $AGORA_APP_ID)")
    group.add_argument(
        "--app-certificate-file",
        metavar="PATH",
        help="a file holding the app certificate (default: $AGORA_APP_CERTIFICATE)",
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


def _identity(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--channel", required=required, help="channel name")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--uid", type=int, help="numeric uid, 0 to 4294967295 (0: any uid)")
    who.add_argument("--account", help="user account string (the string '0' is not uid 0)")


def _rtc_options(parser: argparse.ArgumentParser) -> None:
    _identity(parser, required=True)
    parser.add_argument("--role", choices=("publisher", "subscriber"), default="publisher", help="RTC role")
    parser.add_argument(
        "--privilege-expire", type=int, default=0, metavar="SECONDS", help="privilege lifetime (0: the token's)"
    )
    for name in ("join", "audio", "video", "data"):
        parser.add_argument(
            f"--{name}-expire", type=int, metavar="SECONDS", help=f"{name} privilege lifetime (default: the above)"
        )


def _build_parser(subparsers: Any) -> None:
    build = subparsers.add_parser("build", help="build a token", description="Build a token; it goes to stdout.")
    kinds = build.add_subparsers(dest="kind", metavar="KIND", required=True)

    def kind(name: str, text: str, expire: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = kinds.add_parser(name, help=text, description=text)
        parser.set_defaults(handler=_cmd_build)
        _credentials(parser)
        if expire:
            parser.add_argument("--expire", type=int, default=3600, metavar="SECONDS", help="lifetime (default 3600)")
        else:
            parser.set_defaults(expire=0)
        parser.add_argument("--issue-ts", type=int, metavar="UNIX", help="issue time (default: now)")
        parser.add_argument("--salt", type=int, help="salt (default: random)")
        return parser

    _rtc_options(kind("rtc", "RTC token (join, and publish as a publisher)"))
    for name, text in (
        ("rtc-rtm", "RTC + RTM token (--rtm-user-id for a separate RTM user)"),
        ("convoai", "Conversational AI agent token: RTC + RTM + ConvoAI"),
        ("stt", "speech-to-text agent token: RTC + RTM + STT"),
    ):
        parser = kind(name, text)
        _rtc_options(parser)
        parser.add_argument("--rtm-user-id", help="RTM user id")
        parser.add_argument("--rtm-expire", type=int, metavar="SECONDS", help="RTM login lifetime (default: --expire)")
    kind("rtm", "RTM login token").add_argument("--user-id", required=True)
    rtm2 = kind("rtm2", "RTM2 token with resource permissions")
    rtm2.add_argument("--user-id", required=True)
    rtm2.add_argument(
        "--permission",
        action="append",
        metavar="TYPE:PERM:NAME",
        help="e.g. message_channels:read:lobby (repeatable)",
    )
    kind("chat-user", "Chat user token").add_argument("--user-id", required=True)
    kind("chat-app", "Chat app token")
    kind("fpa", "FPA token (24 hours)", expire=False)
    for family, title in (("apaas", "APaaS"), ("education", "Education (APaaS)")):
        room = kind(f"{family}-room-user", f"{title} room user token (APaaS + RTM + Chat)")
        room.add_argument("--room-uuid", required=True)
        room.add_argument("--user-uuid", required=True)
        room.add_argument("--role", dest="role_id", type=int, required=True, help="role number")
        kind(f"{family}-user", f"{title} user token").add_argument("--user-uuid", required=True)
        kind(f"{family}-app", f"{title} app token")
    rtc006 = kind("rtc006", "legacy 006 RTC token (--expire is counted from now)")
    _identity(rtc006, required=True)
    rtc006.add_argument("--role", choices=("publisher", "subscriber"), default="publisher")
    rtc006.add_argument("--ts", type=int, metavar="UNIX", help="message timestamp (default: now + 24 h)")
    rtm006 = kind("rtm006", "legacy 006 RTM token (--expire is counted from now)")
    rtm006.add_argument("--user-id", required=True)
    rtm006.add_argument("--ts", type=int, metavar="UNIX", help="message timestamp (default: now + 24 h)")


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
    _checks(_token_parser(subparsers, "verify", "exit 0 if the token is valid, 1 if not", _cmd_verify))
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return handler(args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except TokenError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except SystemExit as stop:  # --help and --version
        return stop.code if isinstance(stop.code, int) else EXIT_OK
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_INVALID
