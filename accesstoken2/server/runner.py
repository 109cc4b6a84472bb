"""``serve()``: check the settings, then run the token server under uvicorn."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import sys
from typing import Any, TextIO

from .config import ConfigurationError, Settings
from .guard import error_body

__all__ = ["APP_FACTORY", "serve"]

#: The import string uvicorn uses to build the app in each worker process.
APP_FACTORY = "accesstoken2.server:create_app"

EXIT_CONFIG = 2
#: What uvicorn.run exits with when the server could not start (the port is taken...).
EXIT_STARTUP_FAILURE = 3
#: Seconds an idle keep-alive connection is kept open.
KEEP_ALIVE_SECONDS = 5
_BUSY = json.dumps(error_body("the server is at its connection limit (ACCESSTOKEN2_MAX_CONNECTIONS); retry later"))


async def _busy_answer(scope: Any, receive: Any, send: Any) -> None:
    """What uvicorn answers past ``limit_concurrency``: JSON instead of its plain-text 503."""
    body = _BUSY.encode("ascii")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"connection", b"close"),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def answer_busy_in_json() -> None:
    """Make uvicorn's HTTP protocols answer JSON when the connection limit is reached.

    uvicorn calls the module-level ``service_unavailable`` of each protocol module when a
    connection arrives past ``limit_concurrency``; this process replaces it with
    :func:`_busy_answer`.  Only the protocol modules present are touched.
    """
    for name in ("h11_impl", "httptools_impl", "zttp_impl", "zttp_h2_impl"):
        try:
            module = importlib.import_module(f"uvicorn.protocols.http.{name}")
        except ImportError:
            continue
        if hasattr(module, "service_unavailable"):
            setattr(module, "service_unavailable", _busy_answer)  # noqa: B010 (mypy cannot see the attribute)


def _whole_number(value: int | str, low: int, high: int) -> int | None:
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            return None
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def _shown(value: object) -> str:
    text = repr(value)
    return (text[:20] + f"... ({len(text)} characters)") if len(text) > 24 else text


def _fail(message: str, stream: TextIO | None) -> int:
    print(f"accesstoken2 serve: {message}", file=stream if stream is not None else sys.stderr)
    return EXIT_CONFIG


def _log_config(uvicorn_config: dict[str, Any], log_level: str, log_format: str = "text") -> dict[str, Any]:
    config = copy.deepcopy(uvicorn_config)
    config.setdefault("loggers", {})["accesstoken2"] = {
        "handlers": ["default"],
        "level": log_level.upper(),
        "propagate": False,
    }
    if log_format == "json":
        # one JSON object per line, for our request log and uvicorn's own messages alike
        config.setdefault("formatters", {})["default"] = {"()": "accesstoken2.server.logs.JsonFormatter"}
    return config


def serve(
    host: str = "127.0.0.1",
    port: int | str | None = None,
    workers: int | str = 1,
    *,
    log_level: str = "info",
    stderr: TextIO | None = None,
) -> int:
    """Run the token server until it is stopped; return the process exit status.

    The settings are read from the environment and checked first: when one is missing or
    malformed, a one-line message goes to stderr (never the certificate, never more than a
    short prefix of the value) and 2 is returned without starting anything.  ``workers`` > 1
    runs that many uvicorn worker processes.  ``port`` and ``workers`` may be given as text
    (from the command line); without ``port``, ``SERVER_PORT`` or ``PORT`` from the
    environment is used, else 8080.
    """
    missing = [name for name in ("fastapi", "uvicorn", "jwt") if importlib.util.find_spec(name) is None]
    if missing:
        extra = "pip install 'accesstoken2[server]'"
        return _fail(f"the server needs the optional extra ({missing[0]} is not installed): {extra}", stderr)
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        return _fail(str(error), stderr)
    checked_workers = _whole_number(workers, 1, 1024)
    if checked_workers is None:
        return _fail(f"--workers must be an integer from 1 to 1024 (got {_shown(workers)})", stderr)
    checked_port = _whole_number(settings.port if port is None else port, 0, 0xFFFF)
    if checked_port is None:
        return _fail(f"--port must be an integer from 0 to 65535 (got {_shown(port)})", stderr)
    if not isinstance(host, str) or not host or len(host) > 255 or not host.isprintable():
        return _fail(f"--host must be a host name or address (got {_shown(host)})", stderr)
    port, workers = checked_port, checked_workers
    if settings.metrics and importlib.util.find_spec("prometheus_client") is None:
        return _fail("ACCESSTOKEN2_METRICS=1 needs prometheus-client: pip install 'accesstoken2[server]'", stderr)
    from .audit import check_audit_log
    from .authorize import load_hook

    try:
        load_hook(settings.authorizer)  # import the hook now: a wrong name is a one-line refusal
        check_audit_log(settings)  # likewise an audit log that cannot be appended to
    except ConfigurationError as error:
        return _fail(str(error), stderr)
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from .connections import ServerConfig, protocol_class

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": _log_config(LOGGING_CONFIG, log_level, settings.log_format),
        "access_log": False,
        "server_header": False,
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        # uvicorn closes no connection before its first request: these protocols do
        "http": protocol_class(),
        "header_timeout": settings.header_timeout,
    }
    answer_busy_in_json()
    try:
        if workers == 1:
            from .app import build_app

            server = uvicorn.Server(ServerConfig(build_app(settings), **options))
            try:
                server.run()
            except KeyboardInterrupt:
                pass
            if not server.started:
                return EXIT_STARTUP_FAILURE
        else:
            from .workers import run_workers

            run_workers(APP_FACTORY, workers, **options)
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else 1
    return 0
