"""The ASGI application: routes, authentication, error answers and request logging.

Needs the optional extra ``accesstoken2[server]`` (FastAPI).  Every error answer is JSON with
a ``detail`` that says what was wrong (a text, or for a 422 the list of validation errors) and a
``message``, one human-readable string whatever the detail is; nothing a client sends yields a
500.  Tokens, the app certificate and the keys are never logged.  Order of work for a request:
the guard middleware checks the URL's encoding and reads the body (capped, with a deadline); the
route authenticates the caller; only then is the body parsed and validated, the grant settled
(:meth:`~.issuer.TokenIssuer.settle`), authorized and built as it was authorized.  A URL that
lacks its trailing slash is redirected (307) with a relative ``Location``.
"""

# No ``from __future__ import annotations`` here: FastAPI and pydantic read these annotations at
# run time, where Python 3.9 has no ``X | None``.
import logging
import math
import time
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import Any, Callable, Literal, Optional, Union
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .. import __version__
from .._wire import kernel as _kernel
from .._wire.limits import LONGEST_TOKEN
from ..errors import TokenError
from .auth import OPEN, Authenticator, Principal, Unauthorized
from .authorize import Authorization, Refused, load_hook
from .body import MAX_NUMBER_CHARS, body_schema, clean_errors, read_model
from .compat import TOKEN_ANSWERS, add_compat_routes, answer
from .config import Settings
from .guard import RequestGuard, error_body, escape
from .inspection import inspect_token_json
from .issuer import Issued, TokenGrant, TokenIssuer, rtc_uid
from .lean import LeanFastAPI, install_lean_routes
from .logs import log_request
from .metrics import Metrics
from .operations import Operations
from .rotation import sighup_lifespan

__all__ = ["MAX_BODY_BYTES", "MAX_TOKEN_CHARS", "InspectRequest", "TokenRequest", "build_app", "build_router"]

logger = logging.getLogger("accesstoken2.server")

#: The longest token either format can have (a longer string is no token).
MAX_TOKEN_CHARS = LONGEST_TOKEN
#: The largest valid request is an /inspect body holding the longest possible token.
MAX_BODY_BYTES = MAX_TOKEN_CHARS + 16 * 1024
MAX_DETAIL_CHARS = 300

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

    @field_validator("token", "channel", "uid", "user_id")
    @classmethod
    def _unicode_text(cls, value: Any) -> Any:
        # a lone surrogate (from a "\ud800" escape) cannot be compared, nor echoed in a finding
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("must be Unicode text: a lone surrogate escape is not a character") from None
        return value


class TimedTokenResponse(BaseModel):
    token: str
    expires_at: int = Field(description="Unix time at which the token expires")
    expires_in: int = Field(description="seconds of validity left")


#: The answers of the routes that issue tokens: those routes are served by :mod:`.lean`.
_TOKEN_ANSWERS = (TimedTokenResponse, *TOKEN_ANSWERS)


class PongResponse(BaseModel):
    message: str


class ErrorResponse(BaseModel):
    detail: Any = Field(description="what was wrong: a text, or for 422 the list of validation errors")
    message: str = Field(description="one human-readable sentence, whatever the detail is")


_ERRORS: dict[Union[int, str], dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "a value is out of range or missing, or the URL or body is not UTF-8"},
    401: {"model": ErrorResponse, "description": "missing or wrong API key"},
    403: {"model": ErrorResponse, "description": "the caller may not have this token"},
    408: {"model": ErrorResponse, "description": "the body did not arrive in time"},
    413: {"model": ErrorResponse, "description": "the body is larger than the limit"},
    422: {"model": ErrorResponse, "description": "the request does not have the expected shape or types"},
}


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as strings and lone surrogates replaced: an answer in
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


def _token_error_answer(error: TokenError) -> JSONResponse:
    text = str(error)
    if len(text) > MAX_DETAIL_CHARS:
        text = text[:MAX_DETAIL_CHARS] + "..."
    problems = getattr(error, "problems", None)
    structured = {"problems": [problem.to_dict() for problem in problems]} if problems else {}
    return JSONResponse(_json_safe(error_body(text, **structured)), status_code=400)


class _TokenRoute(APIRoute):
    """A route that answers the library's :class:`TokenError` with 400 JSON, so the router
    behaves the same when mounted in an application without this module's handlers."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except TokenError as error:
                return _token_error_answer(error)
            return response

        return handle


def _authorization(request: Request) -> Optional[bytes]:
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return bytes(value)
    return None


def _optional_int(name: str, text: Optional[str]) -> Optional[int]:
    if text is None or text == "":
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_NUMBER_CHARS:
        message = f"{name} must be a whole number of at most {MAX_NUMBER_CHARS} digits"
        raise HTTPException(422, [{"loc": ["query", name], "msg": message, "type": "int_parsing"}])
    return int(text)


def _required_query(name: str, text: Optional[str]) -> str:
    if text is None:
        raise HTTPException(422, [{"loc": ["query", name], "msg": "Field required", "type": "missing"}])
    return text


SECURITY = "HTTPBearer"
_NO_HEADERS: "Mapping[str, str]" = MappingProxyType({})


def _post_grant(body: TokenRequest) -> TokenGrant:
    """The grant of a ``POST /getToken`` body (agora-token-service's fields)."""
    if body.tokenType == "rtc":
        return TokenGrant("rtc", channel=body.channel, uid=rtc_uid(body.uid), role=body.role, expire=body.expire)
    user = str(body.uid) if isinstance(body.uid, int) else body.uid
    if body.tokenType == "rtm":
        return TokenGrant("rtm", channel=body.channel or None, user_id=user, expire=body.expire)
    if not user:
        return TokenGrant("chat_app", expire=body.expire or None)
    return TokenGrant("chat_user", user_id=user, expire=body.expire)


def build_router(settings: Settings, *, clock: Callable[[], float] = time.time) -> APIRouter:
    """The token endpoints as an :class:`~fastapi.APIRouter`, for ``app.include_router(router, prefix=...)``.

    Each route authenticates the caller before it reads the query or the body, and reads at
    most :data:`MAX_BODY_BYTES`.  Mounted in another application, add
    :class:`~.guard.RequestGuard` there too for the body deadline, the strict URL decoding and
    the escaped log line, and :func:`document_security` for the OpenAPI security scheme.
    """
    issuer = TokenIssuer(settings, clock=clock)
    authenticator = Authenticator(settings)
    authorization = Authorization(settings, load_hook(settings.authorizer), settle=issuer.settle)
    secured = authenticator.required
    errors = dict(_ERRORS) if secured else {code: answer for code, answer in _ERRORS.items() if code != 401}
    limiter: list[anyio.CapacityLimiter] = []
    router = APIRouter(route_class=_TokenRoute)

    def extra(model: Optional[type[BaseModel]] = None) -> dict[str, Any]:
        documented: dict[str, Any] = body_schema(model) if model is not None else {}
        if secured:
            documented["security"] = [{SECURITY: []}]
        return documented

    metrics = Metrics() if settings.metrics else None

    def use(new: Settings) -> None:
        """Serve with ``new`` settings (reloaded secrets) from the next request on."""
        nonlocal settings, issuer, authenticator
        settings, issuer, authenticator = new, TokenIssuer(new, clock=clock), Authenticator(new)
        router.issuer = issuer  # type: ignore[attr-defined]

    operations = Operations(settings, use, metrics, clock)

    def caller(request: Request) -> Principal:
        if not secured:
            return OPEN
        try:
            return authenticator.principal(_authorization(request))
        except Unauthorized as refusal:
            if metrics is not None:
                metrics.denied(refusal.reason)
            raise

    async def issue(request: Request, principal: Principal, grant: TokenGrant) -> Issued:
        """Authorize ``grant`` for ``principal`` (403 when refused), then build it."""
        try:
            headers = request.headers if authorization.hooked else _NO_HEADERS  # only the hook reads them
            allowed = await authorization.check(principal, issuer.settle(grant), headers)
        except Refused as refusal:
            if metrics is not None:
                metrics.denied(refusal.reason)
            raise
        issued = issuer.build(allowed)
        if metrics is not None:
            metrics.issued(allowed.kind, allowed.role)
        operations.audit(request, principal, issued, settings)
        return issued

    if metrics is not None:
        exported = metrics

        @router.get("/metrics", tags=["health"], include_in_schema=False)
        async def prometheus(request: Request) -> Response:
            """Prometheus metrics, only behind the admin key (the settings refuse metrics without one)."""
            if settings.admin_api_key is None or caller(request).kind != "admin":
                exported.denied("metrics")
                raise HTTPException(403, "the metrics need the admin API key (ACCESSTOKEN2_ADMIN_API_KEY)")
            data, content_type = exported.exposition()
            return Response(data, media_type=content_type)

    @router.get("/ping", response_model=PongResponse, tags=["health"])
    async def ping() -> dict[str, str]:
        """Liveness check of agora-token-service: ``{"message": "pong"}``."""
        return {"message": "pong"}

    @router.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Health check for load balancers and orchestrators."""
        return {"status": "ok", "version": __version__, "implementation": _kernel.active.IMPLEMENTATION}

    @router.post(
        "/getToken",
        response_model=TimedTokenResponse,
        responses=errors,
        tags=["tokens"],
        openapi_extra=extra(TokenRequest),
    )
    async def get_token(request: Request) -> Response:
        """RTC, RTM or Chat token, with the body of AgoraIO-Community's agora-token-service.

        ``tokenType`` rtm with a ``channel`` also grants that RTC stream channel (join, publish
        data); chat without ``uid`` gives the Chat app token (admin key only, unless the server
        makes it public).  ``expire`` 0 or absent means the server's default.
        """
        principal = caller(request)
        body = await read_model(request, TokenRequest, MAX_BODY_BYTES)
        return answer(await issue(request, principal, _post_grant(body)))

    @router.get(
        "/v1/token", response_model=TimedTokenResponse, responses=errors, tags=["tokens"], openapi_extra=extra()
    )
    async def sample_token(
        request: Request,
        channel_name: Optional[str] = Query(None, description="the channel to join (required)"),
        expire: Optional[str] = Query(None, description="token lifetime in seconds"),
    ) -> Response:
        """RTC token for any uid (0) as a publisher, as the reference's sample service gives it."""
        principal = caller(request)
        channel = _required_query("channel_name", channel_name)
        grant = TokenGrant("rtc", channel=channel, uid=0, role="publisher", expire=_optional_int("expire", expire))
        return answer(await issue(request, principal, grant))

    @router.get(
        "/chat/app/token", response_model=TimedTokenResponse, responses=errors, tags=["chat"], openapi_extra=extra()
    )
    async def chat_app_token(request: Request) -> Response:
        """The Chat app token for the Chat REST API: shared, renewed a margin before it expires.

        It grants full access to the Chat REST API: served only with the admin key, unless the
        server sets ``ACCESSTOKEN2_PUBLIC_CHAT_APP_TOKEN=1``.
        """
        return answer(await issue(request, caller(request), TokenGrant("chat_app")))

    @router.get(
        "/chat/user/{user_id}/token",
        response_model=TimedTokenResponse,
        responses=errors,
        tags=["chat"],
        openapi_extra=extra(),
    )
    async def chat_user_token(
        request: Request,
        user_id: str = Path(description="the Chat user id"),
        expire: Optional[str] = Query(None, description="token lifetime in seconds"),
    ) -> Response:
        """Chat user token for ``user_id``."""
        principal = caller(request)
        grant = TokenGrant("chat_user", user_id=user_id, expire=_optional_int("expire", expire))
        return answer(await issue(request, principal, grant))

    add_compat_routes(router, caller, issue, responses=errors, openapi_extra=extra())

    @router.post("/inspect", responses=errors, tags=["tokens"], openapi_extra=extra(InspectRequest))
    async def inspect(request: Request) -> Response:
        """Decode a token and diagnose it against the server's own credentials.

        The work runs in a worker thread, at most ``ACCESSTOKEN2_INSPECT_CONCURRENCY`` at once,
        and the answer is at most 64 KiB (repeated findings folded, long lists summarised).
        """
        caller(request)
        body = await read_model(request, InspectRequest, MAX_BODY_BYTES)
        if not limiter:
            limiter.append(anyio.CapacityLimiter(settings.inspect_concurrency))
        work = partial(
            inspect_token_json,
            body.token,
            settings,
            channel=body.channel,
            uid=body.uid,
            user_id=body.user_id,
            now=clock(),
        )
        data = await anyio.to_thread.run_sync(work, limiter=limiter[0])
        return Response(data, media_type="application/json")

    router.issuer = issuer  # type: ignore[attr-defined]
    router.metrics = metrics  # type: ignore[attr-defined]
    router.secured = secured  # type: ignore[attr-defined]
    router.operations = operations  # type: ignore[attr-defined]
    return router


def document_security(app: FastAPI) -> None:
    """Declare the bearer scheme the token routes refer to in ``app``'s OpenAPI document."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = plain()
            schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes[SECURITY] = {
                "type": "http",
                "scheme": "bearer",
                "description": "the server's ACCESSTOKEN2_API_KEY (or its admin key)",
            }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class _JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, answering a refused preflight in JSON rather than plain text."""

    def preflight_response(self, request_headers: Any) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode("utf-8", "replace")
        headers = {
            key: value
            for key, value in response.headers.items()
            if key.lower() not in ("content-length", "content-type")
        }
        return JSONResponse(
            error_body(f"CORS preflight refused: {reason}"), status_code=response.status_code, headers=headers
        )


def _path_namer(router: APIRouter) -> Callable[[str, int], Optional[str]]:
    def name_of(path: str, index: int) -> Optional[str]:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path_regex.match(path):
                segments = route.path.split("/")
                if index < len(segments) and segments[index].startswith("{"):
                    return segments[index].strip("{}").split(":")[0]
        return None

    return name_of


#: What may stay unescaped in a redirect's Location (RFC 3986 path and query characters and "%").
_LOCATION_SAFE = "/%!$&'()*+,;=:@-._~?"


def _slash_location(router: Any, scope: Any) -> Optional[str]:
    """The relative Location of the same URL with its trailing slash added or removed, when that
    URL has a route; else None."""
    path = scope["path"]
    if path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    moved = {**scope, "path": other}
    if not any(route.matches(moved)[0] is not Match.NONE for route in router.routes):
        return None
    raw = scope.get("raw_path") or path.encode("utf-8")
    raw = raw.rstrip(b"/") if raw.endswith(b"/") else raw + b"/"
    if raw.startswith(b"//"):  # would read as another host
        return None
    location = raw.decode("latin-1")
    query = scope.get("query_string") or b""
    if query:
        location += "?" + query.decode("latin-1")
    return quote(location, safe=_LOCATION_SAFE)


def _relative_slash_redirects(router: Any) -> None:
    """Answer a URL that lacks (or has an extra) trailing slash with a 307 to the URL that has a
    route, with a relative ``Location`` as Gin gives it: never a URL built from the Host header."""
    router.redirect_slashes = False
    fallback = router.default

    async def default(scope: Any, receive: Any, send: Any) -> None:
        location = _slash_location(router, scope) if scope["type"] == "http" else None
        if location is None:
            await fallback(scope, receive, send)
            return
        await Response(status_code=307, headers={"location": location})(scope, receive, send)

    router.default = default


def build_app(settings: Optional[Settings] = None, *, clock: Callable[[], float] = time.time) -> FastAPI:
    """The token server for ``settings`` (default: read from the environment).

    ``clock`` (Unix seconds) is the time the server issues tokens at; tests pass a fake one.
    """
    if settings is None:
        settings = Settings.from_env()
    router = build_router(settings, clock=clock)
    operations: Operations = router.operations  # type: ignore[attr-defined]
    app = LeanFastAPI(
        lifespan=sighup_lifespan(operations.reload),
        title="accesstoken2 token server",
        version=__version__,
        description="Agora access tokens (AccessToken2, 007) for RTC, RTM and Chat, built from the server's "
        "App ID and App Certificate.",
    )
    app.router.routes.extend(router.routes)  # directly: one routing level less than include_router
    _relative_slash_redirects(app.router)
    # The token routes skip FastAPI's routing and parameter handling; same middleware, handlers and endpoints.
    token_routes = [route for route in router.routes if getattr(route, "response_model", None) in _TOKEN_ANSWERS]
    install_lean_routes(app, token_routes)
    if router.secured:  # type: ignore[attr-defined]
        document_security(app)
    app.state.settings = settings
    app.state.issuer = router.issuer  # type: ignore[attr-defined]
    app.state.operations = operations
    operations.reloader.subscribe(lambda new: setattr(app.state, "issuer", router.issuer))  # type: ignore[attr-defined]

    @app.exception_handler(TokenError)
    async def token_error(request: Request, error: TokenError) -> JSONResponse:
        return _token_error_answer(error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(clean_errors(error.errors())), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code < 400 or error.status_code in (204, 304):
            return Response(status_code=error.status_code, headers=error.headers)
        body = _json_safe(error_body(error.detail))
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.error("unexpected %s while serving a request", escape(type(error).__name__, 100))
        return JSONResponse(error_body("internal server error"), status_code=500)

    if settings.cors_origins:
        app.add_middleware(
            _JsonCORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    observers: list[Callable[[Any, int, float], None]] = [log_request]
    if router.metrics is not None:  # type: ignore[attr-defined]
        observers.append(router.metrics.observe)  # type: ignore[attr-defined]
    app.add_middleware(
        RequestGuard,
        max_body=MAX_BODY_BYTES,
        body_timeout=settings.body_timeout,
        name_of=_path_namer(router),
        observers=observers,
        request_ids=True,  # every answer carries X-Request-ID, the guard's own refusals too
    )
    return app
