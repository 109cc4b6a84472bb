"""The ASGI application: routes, authentication, error answers and request logging.

Needs the optional extra ``accesstoken2[server]`` (FastAPI).  Every error answer is JSON with
a ``detail`` that says what was wrong; nothing a client sends yields a 500.  Tokens, the app
certificate and the API key are never logged.
"""

# No ``from __future__ import annotations`` here: FastAPI and pydantic read these annotations at
# run time, where Python 3.9 has no ``X | None``.
import hmac
import logging
import math
import time
from collections.abc import Awaitable, MutableMapping
from typing import Annotated, Any, Callable, Literal, Optional, Union

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from .. import __version__
from .._wire import kernel as _kernel
from .._wire.limits import MAX_TOKEN_CHARS
from ..errors import TokenError
from .config import Settings
from .inspection import inspect_token
from .issuer import TokenIssuer

__all__ = ["MAX_BODY_BYTES", "InspectRequest", "RequestLogMiddleware", "TokenRequest", "build_app"]

logger = logging.getLogger("accesstoken2.server")

# The largest valid request is an /inspect body holding the longest possible token.
MAX_BODY_BYTES = MAX_TOKEN_CHARS + 16 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Uid = Union[StrictInt, StrictStr, None]


class TokenRequest(BaseModel):
    """The body of ``POST /getToken``, as AgoraIO-Community's agora-token-service takes it."""

    model_config = ConfigDict(extra="ignore")

    tokenType: Literal["rtc", "rtm", "chat"] = Field(description="rtc, rtm or chat")
    channel: Optional[StrictStr] = Field(None, description="channel name (rtc)")
    role: Optional[Literal["publisher", "subscriber"]] = Field(None, description="rtc role; default subscriber")
    uid: Uid = Field(
        None,
        description="rtc: uid 0..4294967295 (number or numeric string) or a user account; "
        "rtm: the user id; chat: the user id (omit for the Chat app token)",
    )
    expire: Optional[StrictInt] = Field(None, description="token lifetime in seconds; default from the server")


class InspectRequest(BaseModel):
    """The body of ``POST /inspect``: a token and, optionally, what it should be for."""

    model_config = ConfigDict(extra="forbid")

    token: StrictStr = Field(max_length=MAX_TOKEN_CHARS, description="a 007 or 006 token")
    channel: Optional[StrictStr] = Field(None, description="the channel the token should be for")
    uid: Uid = Field(None, description="the RTC uid or account the token should be for")
    user_id: Optional[StrictStr] = Field(None, description="the RTM or Chat user id the token should be for")


class TokenResponse(BaseModel):
    token: str


class TimedTokenResponse(BaseModel):
    token: str
    expires_at: int = Field(description="Unix time at which the token expires")
    expires_in: int = Field(description="seconds of validity left")


class PongResponse(BaseModel):
    message: str


class ErrorResponse(BaseModel):
    detail: Any


_ERRORS: dict[Union[int, str], dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "a value is out of range or missing"},
    401: {"model": ErrorResponse, "description": "missing or wrong API key"},
    422: {"model": ErrorResponse, "description": "the request does not have the expected shape or types"},
}


def _bearer_check(api_key: str) -> Callable[..., Awaitable[None]]:
    expected = api_key.encode("utf-8")
    scheme = HTTPBearer(auto_error=False, description="the server's ACCESSTOKEN2_API_KEY")

    async def require_api_key(credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(scheme)]) -> None:
        if credentials is None:
            raise HTTPException(401, "missing 'Authorization: Bearer <api key>' header", {"WWW-Authenticate": "Bearer"})
        given = credentials.credentials.encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "invalid API key", {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    return require_api_key


class RequestLogMiddleware:
    """Log one line per request (client address, method, path, status, time; never the query,
    body or headers), add ``Cache-Control: no-store`` to every answer and refuse bodies declared
    larger than :data:`MAX_BODY_BYTES` with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._too_large = JSONResponse({"detail": f"request body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *_EXTRA_HEADERS]
            await send(message)

        try:
            if _declared_length(scope) > MAX_BODY_BYTES:
                await self._too_large(scope, receive, send_with_headers)
            else:
                await self._app(scope, receive, send_with_headers)
        finally:
            if logger.isEnabledFor(logging.INFO):
                elapsed = (time.perf_counter() - started) * 1e3
                client = scope.get("client")
                peer = client[0] if client else "-"
                logger.info("%s %s %s %d %.1fms", peer, scope["method"], scope["path"], status, elapsed)


_EXTRA_HEADERS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as strings and lone surrogates replaced: a client may send
    them (JSON readers accept them) and a validation error echoes its input, but an answer in
    strict UTF-8 JSON cannot hold them."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def build_app(settings: Optional[Settings] = None, *, clock: Callable[[], float] = time.time) -> FastAPI:
    """The token server for ``settings`` (default: read from the environment).

    ``clock`` (Unix seconds) is the time the server issues tokens at; tests pass a fake one.
    """
    if settings is None:
        settings = Settings.from_env()
    issuer = TokenIssuer(settings, clock=clock)
    # Without an API key the token endpoints are open and the OpenAPI document declares no scheme.
    auth = [Depends(_bearer_check(settings.api_key))] if settings.api_key else []
    errors = _ERRORS if settings.api_key else {code: answer for code, answer in _ERRORS.items() if code != 401}

    app = FastAPI(
        title="accesstoken2 token server",
        version=__version__,
        description="Agora access tokens (AccessToken2, 007) for RTC, RTM and Chat, built from the server's "
        "App ID and App Certificate.",
    )
    app.state.settings = settings
    app.state.issuer = issuer

    @app.exception_handler(TokenError)
    async def token_error(request: Request, error: TokenError) -> JSONResponse:
        return JSONResponse({"detail": _json_safe(str(error))}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _json_safe(jsonable_encoder(error.errors()))}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.error("unexpected %s while serving %s %s", type(error).__name__, request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    @app.get("/ping", response_model=PongResponse, tags=["health"])
    async def ping() -> dict[str, str]:
        """Liveness check of agora-token-service: ``{"message": "pong"}``."""
        return {"message": "pong"}

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Health check for load balancers and orchestrators."""
        return {"status": "ok", "version": __version__, "implementation": _kernel.active.IMPLEMENTATION}

    @app.post("/getToken", response_model=TokenResponse, dependencies=auth, responses=errors, tags=["tokens"])
    async def get_token(request: TokenRequest) -> dict[str, str]:
        """RTC, RTM or Chat token, with the body of AgoraIO-Community's agora-token-service.

        ``tokenType`` chat without ``uid`` gives the Chat app token.
        """
        if request.tokenType == "rtc":
            token = issuer.rtc(request.channel, request.uid, request.role, request.expire)
        elif request.tokenType == "rtm":
            token = issuer.rtm(request.uid, request.expire)
        elif request.uid is None or request.uid == "":
            token = issuer.chat_app(request.expire)
        else:
            token = issuer.chat_user(request.uid, request.expire)
        return {"token": token}

    @app.get("/v1/token", response_model=TokenResponse, dependencies=auth, responses=errors, tags=["tokens"])
    async def sample_token(
        channel_name: str = Query(description="the channel to join"),
        expire: Optional[int] = Query(None, description="token lifetime in seconds"),
    ) -> dict[str, str]:
        """RTC token for any uid (0) as a publisher, as the reference's sample service gives it."""
        return {"token": issuer.rtc(channel_name, 0, "publisher", expire)}

    @app.get("/chat/app/token", response_model=TimedTokenResponse, dependencies=auth, responses=errors, tags=["chat"])
    async def chat_app_token() -> dict[str, Any]:
        """The Chat app token for the Chat REST API: shared, renewed a margin before it expires."""
        cached = issuer.cached_chat_app()
        return {"token": cached.token, "expires_at": cached.expires_at, "expires_in": cached.remaining(clock())}

    @app.get(
        "/chat/user/{user_id}/token",
        response_model=TimedTokenResponse,
        dependencies=auth,
        responses=errors,
        tags=["chat"],
    )
    async def chat_user_token(
        user_id: str = Path(description="the Chat user id"),
        expire: Optional[int] = Query(None, description="token lifetime in seconds"),
    ) -> dict[str, Any]:
        """Chat user token for ``user_id``."""
        lifetime = issuer.lifetime(expire)
        issued_no_later = int(clock())
        token = issuer.chat_user(user_id, lifetime)
        return {"token": token, "expires_at": issued_no_later + lifetime, "expires_in": lifetime}

    @app.post("/inspect", dependencies=auth, responses=errors, tags=["tokens"])
    async def inspect(request: InspectRequest) -> dict[str, Any]:
        """Decode a token and diagnose it against the server's own credentials."""
        return inspect_token(
            request.token,
            settings,
            channel=request.channel,
            uid=request.uid,
            user_id=request.user_id,
            now=clock(),
        )

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(RequestLogMiddleware)
    return app
