"""Who may have which token: per-user rules for JWT callers, and the ``ACCESSTOKEN2_AUTHORIZER`` hook.

Every token request becomes a :class:`~accesstoken2.server.issuer.TokenGrant` before anything is
built, and :meth:`Authorization.check` decides on it:

1. The Chat app token (full access to the Chat REST API) goes only to the admin key, or to
   every caller when ``ACCESSTOKEN2_PUBLIC_CHAT_APP_TOKEN=1``; never to a user JWT.
2. A caller with a JWT gets tokens only for its own identity (the identity claim, ``sub`` by
   default): the RTC uid or account, the RTM user id and the Chat user id must all equal it,
   and uid 0 (any uid) is refused.  A ``channels`` claim (a list of channel names, ``"*"`` for
   any) limits the RTC channels, including the stream channel of an RTM token.
3. The hook, when configured, sees the grant and the request headers::

       def authorize(grant: TokenGrant, headers: Mapping[str, str]) -> TokenGrant | bool | None:
           ...

   The grant it sees is settled (see :meth:`~accesstoken2.server.issuer.TokenIssuer.settle`):
   the lifetime and role are the ones the token will get, ``uid`` is an ``int`` for a numeric
   uid and a ``str`` for a user account, exactly as it will be built.  It returns True or None
   to allow the grant as it is, False to refuse it (403), or a narrowed grant
   (``dataclasses.replace(grant, role="subscriber")``, a shorter ``expire``...) to build
   instead; it may raise :class:`Denied` with a reason for the answer.  It may be a coroutine
   function.  The narrowed grant must keep the kind; it is settled and goes through rules 1 and
   2 again, so a hook can narrow but never widen what a JWT allows.  Any other exception it
   raises (or an answer of another type) is a 500, logged as one line naming the exception's
   type, never its message or a traceback.  The headers include the caller's credentials:
   never log them.

Every refusal is a 403 whose ``detail`` says why; ``reason`` (a short code) feeds the metrics.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, Callable

from fastapi import HTTPException

from .auth import Principal
from .config import ENV_ADMIN_API_KEY, ENV_AUTHORIZER, ENV_PUBLIC_CHAT_APP_TOKEN, ConfigurationError, Settings
from .guard import escape
from .issuer import RTC_KINDS, TokenGrant, wire_uid

__all__ = ["Authorization", "Denied", "Hook", "load_hook"]

Hook = Callable[[TokenGrant, Mapping[str, str]], Any]
Settle = Callable[[TokenGrant], TokenGrant]

logger = logging.getLogger("accesstoken2.server")


class Denied(Exception):
    """Raised by an authorizer hook to refuse a request; ``str(error)`` becomes the 403 detail."""


class Refused(HTTPException):
    """A 403 with a short ``reason`` code (for the metrics)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(403, detail)
        self.reason = reason


class HookFailed(HTTPException):
    """A 500: the authorizer raised or answered something it may not."""

    def __init__(self) -> None:
        super().__init__(500, "internal server error: the authorizer failed")


def _hook_failed(what: str) -> HookFailed:
    """Log one escaped line saying how the authorizer failed (never its message nor a traceback)."""
    logger.error("the authorizer %s; the request was answered 500", escape(what, 200))
    return HookFailed()


def load_hook(path: str | None) -> Hook | None:
    """The function named ``package.module:function``; :class:`ConfigurationError` when it cannot
    be imported or is not callable.

    The working directory is put first on the import path when it is not there (as ``uvicorn
    --app-dir`` does by default), so ``ACCESSTOKEN2_AUTHORIZER=myapp.tokens:authorize`` finds
    ``./myapp/tokens.py``.
    """
    if path is None:
        return None
    module_name, _, attribute = path.partition(":")
    directory = os.getcwd()
    if directory not in sys.path and "" not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any failure while importing the user's module
        missing = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
        why = f"no module named {missing}" if missing else type(error).__name__
        raise ConfigurationError(
            ENV_AUTHORIZER,
            f"{ENV_AUTHORIZER}: cannot import {module_name} ({escape(why, 120)}); the import path has the "
            f"working directory ({escape(directory, 120)}) first, then the Python path",
        ) from None
    hook = getattr(module, attribute, None)
    if not callable(hook):
        raise ConfigurationError(ENV_AUTHORIZER, f"{ENV_AUTHORIZER}: {module_name} has no function {attribute}")
    checked: Hook = hook
    return checked


def _allows_channel(principal: Principal, channel: str | None) -> bool:
    return principal.channels is None or channel is None or "*" in principal.channels or channel in principal.channels


class Authorization:
    """Applies the rules of this module for one server."""

    def __init__(self, settings: Settings, hook: Hook | None = None, *, settle: Settle | None = None) -> None:
        self._public_chat_app = settings.public_chat_app_token
        self._admin_configured = settings.admin_api_key is not None
        self._hook = hook
        self._settle = settle

    @property
    def hooked(self) -> bool:
        """Whether a hook is configured (only the hook reads the request headers)."""
        return self._hook is not None

    def rules(self, principal: Principal, grant: TokenGrant) -> None:
        """Rules 1 and 2: raise :class:`Refused` when ``principal`` may not have ``grant``."""
        if grant.kind == "chat_app":
            self._chat_app(principal)
        if principal.kind != "jwt":
            return
        identity = principal.identity
        if grant.kind in RTC_KINDS:
            # compared as the token will carry it: uid 0 and an empty account are both "any uid"
            uid = grant.uid if isinstance(grant.uid, (int, str)) and not isinstance(grant.uid, bool) else ""
            written = wire_uid(uid)
            if not written:
                raise Refused("any-uid", "uid 0 (any uid) is not allowed with a user JWT: ask for your own uid")
            if written != identity:
                raise Refused("identity", "the uid is not the identity of your JWT")
        if grant.kind in ("rtm", "rtc+rtm", "chat_user") and grant.user_id != identity:
            raise Refused("identity", "the user id is not the identity of your JWT")
        if not _allows_channel(principal, grant.channel):
            raise Refused("channel", "the channel is not among the channels your JWT allows")

    def _chat_app(self, principal: Principal) -> None:
        if principal.kind == "jwt":
            raise Refused("chat-app", "the Chat app token is never served on a user JWT")
        if principal.kind == "admin" or self._public_chat_app:
            return
        if self._admin_configured:
            raise Refused("chat-app", f"the Chat app token needs the admin API key ({ENV_ADMIN_API_KEY})")
        raise Refused(
            "chat-app",
            f"this server does not serve the Chat app token: set {ENV_ADMIN_API_KEY} and present it, or set "
            f"{ENV_PUBLIC_CHAT_APP_TOKEN}=1 to serve it to every caller (full Chat REST access for all)",
        )

    async def check(self, principal: Principal, grant: TokenGrant, headers: Mapping[str, str]) -> TokenGrant:
        """The grant to build for ``principal``: ``grant`` (settled) or the hook's narrowed one,
        settled in turn; raises :class:`Refused` (403) when refused."""
        self.rules(principal, grant)
        if self._hook is None:
            return grant
        try:
            verdict = self._hook(grant, headers)
            if inspect.isawaitable(verdict):
                verdict = await verdict
        except Denied as denial:
            reason = str(denial)[:200] or "refused by the authorizer"
            raise Refused("authorizer", reason) from None
        except Exception as error:  # the user's code: one log line, never its message or traceback
            raise _hook_failed(f"raised {type(error).__name__}") from None
        if verdict is None or verdict is True:
            return grant
        if verdict is False:
            raise Refused("authorizer", "refused by the authorizer")
        if not isinstance(verdict, TokenGrant) or verdict.kind != grant.kind:
            kind = type(verdict).__name__
            raise _hook_failed(f"answered {kind}, not True, False, None or a TokenGrant of the same kind")
        if verdict is not grant and self._settle is not None:
            verdict = self._settle(verdict)
        self.rules(principal, verdict)
        return verdict
