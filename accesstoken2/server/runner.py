"""``serve()``: check the settings, then run the token server under uvicorn."""

from __future__ import annotations

import copy
import importlib.util
import sys
from typing import Any, TextIO

from .config import ConfigurationError, Settings

__all__ = ["APP_FACTORY", "serve"]

#: The import string uvicorn uses to build the app in each worker process.
APP_FACTORY = "accesstoken2.server:create_app"

EXIT_CONFIG = 2


def _fail(message: str, stream: TextIO | None) -> int:
    print(f"accesstoken2 serve: {message}", file=stream if stream is not None else sys.stderr)
    return EXIT_CONFIG


def _log_config(uvicorn_config: dict[str, Any], log_level: str) -> dict[str, Any]:
    config = copy.deepcopy(uvicorn_config)
    config.setdefault("loggers", {})["accesstoken2"] = {
        "handlers": ["default"],
        "level": log_level.upper(),
        "propagate": False,
    }
    return config


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    *,
    log_level: str = "info",
    stderr: TextIO | None = None,
) -> int:
    """Run the token server until it is stopped; return the process exit status.

    The settings are read from the environment and checked first: when one is missing or
    malformed, a one-line message goes to stderr (never the certificate) and 2 is returned
    without starting anything.  ``workers`` > 1 runs that many uvicorn worker processes.
    """
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        return _fail(str(error), stderr)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        return _fail(f"workers must be an integer of at least 1 (got {workers!r})", stderr)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 0xFFFF:
        return _fail(f"port must be an integer from 0 to 65535 (got {port!r})", stderr)
    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        extra = "pip install 'accesstoken2[server]'"
        return _fail(f"the server needs the optional extra ({missing[0]} is not installed): {extra}", stderr)
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": _log_config(LOGGING_CONFIG, log_level),
        "access_log": False,
        "server_header": False,
    }
    try:
        if workers == 1:
            from .app import build_app

            uvicorn.run(build_app(settings), **options)
        else:
            from .workers import run_workers

            run_workers(APP_FACTORY, workers, **options)
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else 1
    return 0
