"""A token server for Agora access tokens: ``accesstoken2 serve`` (needs ``accesstoken2[server]``).

Configuration comes from the environment (``AGORA_APP_ID``, ``AGORA_APP_CERTIFICATE``,
``ACCESSTOKEN2_DEFAULT_EXPIRE``, ``ACCESSTOKEN2_MAX_EXPIRE``, ``ACCESSTOKEN2_CORS_ORIGINS``,
``ACCESSTOKEN2_API_KEY``).  Run it with :func:`serve`, or with uvicorn directly::

    uvicorn accesstoken2.server:create_app --factory --host 127.0.0.1 --port 8080

This package imports FastAPI only when the app is built, so :func:`serve` can tell a user
without the extra what to install.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from .config import ConfigurationError, Settings
from .issuer import TokenGrant
from .runner import serve

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from .authorize import Denied

__all__ = ["ConfigurationError", "Denied", "Settings", "TokenGrant", "build_router", "create_app", "serve"]


def __getattr__(name: str) -> object:
    # Denied lives with the FastAPI-dependent authorization code: imported on first use.
    if name == "Denied":
        from .authorize import Denied

        return Denied
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_router(settings: Settings | None = None, *, clock: Callable[[], float] = time.time) -> APIRouter:
    """The token endpoints as a FastAPI ``APIRouter`` to mount in your own application (see the
    README's "Mounting in your application"); ``settings`` default: read from the environment."""
    from .app import build_router as build

    return build(Settings.from_env() if settings is None else settings, clock=clock)


def create_app(settings: Settings | None = None, *, clock: Callable[[], float] = time.time) -> FastAPI:
    """The ASGI application for ``settings`` (default: read from the environment, which raises
    :class:`ConfigurationError` when a setting is missing or malformed)."""
    from .app import build_app
    from .runner import answer_busy_in_json

    # uvicorn's worker processes build the app through this factory: the JSON answer at the
    # connection limit must be installed in each of them.
    answer_busy_in_json()
    return build_app(settings, clock=clock)
