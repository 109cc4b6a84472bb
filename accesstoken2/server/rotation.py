"""Certificate rotation: re-reading the server's secret files on ``SIGHUP``, without a restart.

The server signs with ``AGORA_APP_CERTIFICATE`` (or ``AGORA_APP_CERTIFICATE_FILE``) and also
accepts ``ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE`` (or its ``_FILE``) wherever it checks a token.
On ``SIGHUP`` every setting that was read from a file is read again: the certificate, the
secondary certificate, the API key, the admin key, the JWT secret and the JWT public key
(:data:`RELOADABLE`).  The new values go through the startup checks; a value that fails them is
refused with one log line naming its variable (never the value) and the old one is kept, while
the other new values are taken.  Requests in flight finish with the settings they started with;
no connection is closed.  The same signal reopens the audit log (:mod:`.audit`), for logrotate.

With several workers (``--workers``), the parent process passes ``SIGHUP`` on to each worker,
which reloads on its own (:func:`forwarding_supervisor`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Callable

from ..configuration import ConfigurationError, read_secret_file
from .config import Settings, checked_settings

__all__ = ["RELOADABLE", "SecretReloader", "forwarding_supervisor", "sighup_lifespan"]

logger = logging.getLogger("accesstoken2.server")

#: The settings a reload reads again, when they came from a file.
RELOADABLE = (
    "app_certificate",
    "secondary_app_certificate",
    "api_key",
    "admin_api_key",
    "jwt_secret",
    "jwt_public_key",
)


class SecretReloader:
    """Holds the settings in force and replaces them with the secret files' new contents.

    ``use`` is called with the new settings after each reload that changed something (the router
    rebuilds what depends on them); ``settings.secret_files`` says which settings came from which
    file.
    """

    def __init__(self, settings: Settings, use: Callable[[Settings], None]) -> None:
        self.settings = settings
        self._use = [use]
        self._lock = threading.Lock()

    def subscribe(self, use: Callable[[Settings], None]) -> None:
        """Also call ``use`` with the new settings after each reload."""
        self._use.append(use)

    def reload(self) -> list[str]:
        """Read every secret file again and take the new values that pass the startup checks.

        Returns the variables whose new value was refused (each also logged in one line).
        """
        with self._lock:
            current = self.settings
            changed, refused = self._read_changes(current)
            if changed:
                accepted = self._accept(current, changed, refused)
                if accepted is not current:
                    self.settings = accepted
                    for use in self._use:
                        use(accepted)
                    taken = sorted(current.secret_files[name][0] for name in changed if name not in refused)
                    logger.info("reload: new value of %s taken", ", ".join(taken))
            if not changed and not refused:
                logger.info("reload: no secret file changed")
            return [current.secret_files[name][0] for name in refused]

    def _read_changes(self, current: Settings) -> tuple[dict[str, str], dict[str, str]]:
        changed: dict[str, str] = {}
        refused: dict[str, str] = {}
        for name in RELOADABLE:
            origin = current.secret_files.get(name)
            if origin is None:
                continue
            variable, path = origin
            try:
                text = read_secret_file(variable, path)
            except ConfigurationError as error:
                refused[name] = str(error)
                _refuse(str(error))
                continue
            if text != getattr(current, name):
                changed[name] = text
        return changed, refused

    def _accept(self, current: Settings, changed: dict[str, str], refused: dict[str, str]) -> Settings:
        """The settings with every new value when they pass the checks together; else with each one
        that passes on its own, in :data:`RELOADABLE` order."""
        names = {name: variable for name, (variable, _) in current.secret_files.items()}
        try:
            return _replaced(current, changed, names)
        except ConfigurationError:
            pass
        accepted = current
        for name, text in changed.items():
            try:
                accepted = _replaced(accepted, {name: text}, names)
            except ConfigurationError as error:
                refused[name] = str(error)
                _refuse(str(error))
        return accepted


def _replaced(settings: Settings, new: Mapping[str, str], names: Mapping[str, str]) -> Settings:
    values = {item.name: getattr(settings, item.name) for item in dataclasses.fields(settings)}
    values.update(new)
    return checked_settings(values, names)


def _refuse(message: str) -> None:
    # the message comes from the checks, which never hold the value
    logger.error("reload refused: %s; the old value is kept", message)


def _install(loop: asyncio.AbstractEventLoop, reload: Callable[[], Any]) -> bool:
    """Run ``reload`` on the event loop at each SIGHUP; False where that is not possible (no
    SIGHUP on this system, or not the main thread)."""
    if not hasattr(signal, "SIGHUP"):
        return False
    try:
        loop.add_signal_handler(signal.SIGHUP, _safely, reload)
    except (ValueError, RuntimeError, NotImplementedError):
        return False
    return True


def _safely(reload: Callable[[], Any]) -> None:
    try:
        reload()
    except Exception as error:  # a reload must never stop the server
        logger.error("reload failed: %s", type(error).__name__)


def sighup_lifespan(reload: Callable[[], Any]) -> Callable[[Any], Any]:
    """A lifespan for the application: ``reload`` runs at each ``SIGHUP`` while it serves."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        installed = _install(loop, reload)
        try:
            yield
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGHUP)

    return lifespan


def forwarding_supervisor(base: type[Any]) -> type[Any]:
    """uvicorn's ``Multiprocess`` supervisor, passing ``SIGHUP`` on to each worker (which reloads
    its secrets) instead of restarting the workers (which would close their connections)."""

    class ForwardingSupervisor(base):  # type: ignore[misc]
        def handle_hup(self) -> None:
            for worker in list(getattr(self, "processes", ())):
                pid = getattr(getattr(worker, "process", worker), "pid", None)
                if isinstance(pid, int):
                    try:
                        os.kill(pid, signal.SIGHUP)
                    except OSError:
                        pass  # the worker has just exited: the supervisor replaces it

    return ForwardingSupervisor
