"""The GET routes of AgoraIO-Community's agora-token-service, so that its clients work unchanged.

=================================================================  ===============================
route                                                               answer keys
=================================================================  ===============================
``/rtc/{channelName}/{role}/{tokenType}/{rtcuid}/``                 ``rtcToken``
``/rtm/{rtmuid}/``                                                  ``rtmToken``
``/rte/{channelName}/{role}/{tokenType}/{rtcuid}/[{rtmuid}/]``      ``rtcToken``, ``rtmToken``
``/chat/app/``                                                      ``chatToken`` (the app token)
``/chat/account/{chatid}/``                                         ``chatToken``
=================================================================  ===============================

Each takes an optional ``expiry`` query parameter (seconds; absent or 0: the default).  As
there, ``tokenType`` is ``uid`` (a number; empty means 0, any uid) or ``userAccount`` (the
account string exactly, never read as a number); the RTM user of ``/rte`` is ``rtmuid``, else
the RTC uid when it is not 0; the RTM token of ``/rte`` also grants the RTC stream channel.
Unlike there, an empty user account is refused (400) rather than read as the account "0", an
unknown role is refused (400), and every answer also carries ``expires_at`` and ``expires_in``.
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
from collections.abc import Awaitable
from enum import Enum
from typing import Any, Callable, Optional, Union

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.convertors import Convertor, register_url_convertor

from ..errors import InvalidParameterError
from .auth import Principal
from .issuer import Issued, Role, TokenGrant

__all__ = ["TOKEN_ANSWERS", "TokenAnswer", "add_compat_routes", "answer", "parse_expiry"]

MAX_EXPIRY_DIGITS = 12


class _MaybeEmpty(Convertor[str]):
    """A path segment that may be empty (agora-token-service reads ``/rtc/c/publisher/uid//`` as uid 0)."""

    regex = "[^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("maybe_empty", _MaybeEmpty())


class RtcAnswer(BaseModel):
    rtcToken: str
    expires_at: int = Field(description="Unix time at which the token expires")
    expires_in: int = Field(description="seconds of validity left")


class RtmAnswer(BaseModel):
    rtmToken: str
    expires_at: int
    expires_in: int


class RteAnswer(BaseModel):
    rtcToken: str
    rtmToken: str
    expires_at: int
    expires_in: int


class ChatAnswer(BaseModel):
    chatToken: str
    expires_at: int
    expires_in: int


TOKEN_ANSWERS = (RtcAnswer, RtmAnswer, RteAnswer, ChatAnswer)


class TokenAnswer(Response):
    """A 200 JSON answer from bytes already encoded: Starlette's :class:`Response` with the headers
    it would give them (``content-length``, ``content-type``), set without its general path."""

    media_type = "application/json"

    def __init__(self, body: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", str(len(body)).encode("ascii")), (b"content-type", b"application/json")]


def answer(issued: Issued, rename: Optional[dict[str, str]] = None) -> Response:
    """The JSON answer for ``issued``: its tokens (keys renamed by ``rename``) and expiry."""
    # A token holds only "007"/"006" and base64 characters: nothing in it needs escaping in JSON.
    names = rename or {}
    parts = [f'"{names.get(key, key)}":"{token}",' for key, token in issued.tokens.items()]
    body = "{" + "".join(parts) + f'"expires_at":{issued.expires_at},"expires_in":{issued.expires_in}}}'
    return TokenAnswer(body.encode("ascii"))


def parse_expiry(text: Optional[str]) -> Optional[int]:
    """agora-token-service's ``expiry`` query parameter: digits; absent, empty or 0 means the default."""
    if text is None or text == "":
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_EXPIRY_DIGITS:
        raise InvalidParameterError("expiry", "expiry must be a whole number of seconds")
    return int(text) or None


def _role(text: str) -> Role:
    if text == "publisher":
        return "publisher"
    if text == "subscriber":
        return "subscriber"
    raise InvalidParameterError("role", "role must be 'publisher' or 'subscriber'")


def _rtc_uid(token_type: str, text: str) -> "int | str":
    """The RTC uid of a route, decided here once: for ``uid`` a number (empty: 0, any uid); for
    ``userAccount`` the account string exactly as sent (``"0"`` and ``"042"`` stay accounts)."""
    if token_type == "userAccount":
        if not text:
            raise InvalidParameterError("rtcuid", "rtcuid must not be empty for tokenType userAccount (the account)")
        return text
    if token_type != "uid":
        raise InvalidParameterError("tokenType", "tokenType must be 'uid' or 'userAccount'")
    text = text or "0"
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > 0xFFFFFFFF:
        raise InvalidParameterError("rtcuid", "rtcuid must be an integer from 0 to 4294967295 for tokenType uid")
    return int(text)


def add_compat_routes(
    router: APIRouter,
    caller: Callable[[Request], Principal],
    issue: Callable[[Request, Principal, TokenGrant], Awaitable[Issued]],
    **documented: Any,
) -> None:
    """Add agora-token-service's GET routes to ``router``; ``caller`` authenticates, ``issue``
    authorizes and builds."""
    rtc_key = {"token": "rtcToken"}
    chat_key = {"token": "chatToken"}
    tags: list[Union[str, Enum]] = ["agora-token-service"]
    expiry_query = Query(None, description="token lifetime in seconds (absent or 0: the default)")

    @router.get(
        "/rtc/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/", response_model=RtcAnswer, tags=tags, **documented
    )
    async def rtc(
        request: Request, channelName: str, role: str, tokenType: str, rtcuid: str, expiry: Optional[str] = expiry_query
    ) -> Response:
        """RTC token; ``tokenType`` uid (an empty ``rtcuid`` is 0, any uid) or userAccount (the account as sent)."""
        principal = caller(request)
        grant = TokenGrant(
            "rtc", channel=channelName, uid=_rtc_uid(tokenType, rtcuid), role=_role(role), expire=parse_expiry(expiry)
        )
        return answer(await issue(request, principal, grant), rtc_key)

    @router.get("/rtm/{rtmuid}/", response_model=RtmAnswer, tags=tags, **documented)
    async def rtm(request: Request, rtmuid: str, expiry: Optional[str] = expiry_query) -> Response:
        """RTM login token for ``rtmuid`` (not empty, not 0)."""
        principal = caller(request)
        if rtmuid == "0":
            raise InvalidParameterError("rtmuid", "rtmuid must be an RTM user id other than '0'")
        grant = TokenGrant("rtm", user_id=rtmuid, expire=parse_expiry(expiry))
        return answer(await issue(request, principal, grant), {"token": "rtmToken"})

    async def rte(
        request: Request, channelName: str, role: str, tokenType: str, rtcuid: str, rtmuid: str, expiry: Optional[str]
    ) -> Response:
        principal = caller(request)
        uid = _rtc_uid(tokenType, rtcuid)
        rtm_user = rtmuid or ("" if (rtcuid or "0") == "0" else rtcuid)
        if not rtm_user or rtm_user == "0":
            raise InvalidParameterError(
                "rtmuid", "the RTM user id is empty or '0': give rtmuid, or an RTC uid other than 0"
            )
        grant = TokenGrant(
            "rtc+rtm", channel=channelName, uid=uid, user_id=rtm_user, role=_role(role), expire=parse_expiry(expiry)
        )
        return answer(await issue(request, principal, grant))

    @router.get(
        "/rte/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/", response_model=RteAnswer, tags=tags, **documented
    )
    async def rte_same_user(
        request: Request, channelName: str, role: str, tokenType: str, rtcuid: str, expiry: Optional[str] = expiry_query
    ) -> Response:
        """RTC and RTM tokens; the RTM user is the RTC uid (which must not be 0)."""
        return await rte(request, channelName, role, tokenType, rtcuid, "", expiry)

    @router.get(
        "/rte/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/{rtmuid}/",
        response_model=RteAnswer,
        tags=tags,
        **documented,
    )
    async def rte_rtm_user(
        request: Request,
        channelName: str,
        role: str,
        tokenType: str,
        rtcuid: str,
        rtmuid: str,
        expiry: Optional[str] = expiry_query,
    ) -> Response:
        """RTC token and an RTM token for ``rtmuid`` (which also grants the RTC stream channel)."""
        return await rte(request, channelName, role, tokenType, rtcuid, rtmuid, expiry)

    @router.get("/chat/app/", response_model=ChatAnswer, tags=tags, **documented)
    async def chat_app(request: Request, expiry: Optional[str] = expiry_query) -> Response:
        """The Chat app token (admin key only, unless the server makes it public)."""
        principal = caller(request)
        return answer(await issue(request, principal, TokenGrant("chat_app", expire=parse_expiry(expiry))), chat_key)

    @router.get("/chat/account/{chatid}/", response_model=ChatAnswer, tags=tags, **documented)
    async def chat_account(request: Request, chatid: str, expiry: Optional[str] = expiry_query) -> Response:
        """Chat user token for ``chatid``."""
        principal = caller(request)
        return answer(
            await issue(request, principal, TokenGrant("chat_user", user_id=chatid, expire=parse_expiry(expiry))),
            chat_key,
        )
