"""The lean path of the token routes (accesstoken2.server.lean) answers exactly as FastAPI's own handling.

Every request below goes, as raw ASGI, through two applications built from the same settings and
clock: the server as served (token routes on the lean path) and the same server with the lean path
switched off (every request through FastAPI's routing and parameter handling).  Status, headers,
JSON bodies (tokens compared by content: the salt is random), the request log and the metrics must
be the same; and the requests of the token routes must really have skipped FastAPI's router.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote

import pytest

pytest.importorskip("fastapi")
jwt = pytest.importorskip("jwt")

from fastapi import Path as PathParameter  # noqa: E402
from fastapi import Query, Request, Response  # noqa: E402
from fastapi.routing import APIRoute  # noqa: E402

from accesstoken2 import AccessToken2  # noqa: E402
from accesstoken2.server import Settings, create_app  # noqa: E402
from accesstoken2.server.app import MAX_BODY_BYTES  # noqa: E402
from accesstoken2.server.lean import LeanFastAPI, lean_eligible  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
USER_KEY = "lean-user-key-0123456789"
ADMIN_KEY = "lean-admin-key-0123456789"
SECRET = "lean-jwt-secret-0123456789abcdef0123"
ORIGIN = "https://app.example"
NOW = 1_700_000_000

HOOK = textwrap.dedent(
    """
    import dataclasses
    from accesstoken2.server import Denied

    def authorize(grant, headers):
        if grant.channel == "forbidden":
            return False
        if grant.channel == "denied":
            raise Denied("the channel is closed")
        if grant.channel == "stage" and grant.role == "publisher":
            return dataclasses.replace(grant, role="subscriber", expire=60)
        if grant.channel == "broken":
            return "yes"
        return None
    """
)


def bearer(credential: str) -> tuple[str, str]:
    return ("authorization", f"Bearer {credential}")


def signed(subject: str, lifetime: int = 3600, secret: str = SECRET) -> str:
    now = int(time.time())
    return str(jwt.encode({"sub": subject, "exp": now + lifetime, "iat": now}, secret, algorithm="HS256"))


USER = bearer(USER_KEY)
ADMIN = bearer(ADMIN_KEY)
JWT_42 = bearer(signed("42"))
JWT_BOB = bearer(signed("bob"))
JWT_EXPIRED = bearer(signed("42", lifetime=-3600))
JWT_FORGED = bearer(signed("42", secret="another-secret-0123456789abcdef0123"))
JSON_TYPE = ("content-type", "application/json")


@dataclass(frozen=True)
class Case:
    """One request: ``lean`` says whether the lean path must serve it (None: either way)."""

    name: str
    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None  # bytes, a JSON value, or a list of byte chunks sent with Transfer-Encoding: chunked
    lean: bool | None = True
    stall: bool = False  # the body never finishes (the guard's deadline answers)
    disconnect: bool = False  # the client goes away in the middle of the body
    root_path: str = ""


def rtc_body(**fields: Any) -> dict[str, Any]:
    return {"tokenType": "rtc", "channel": "c", "uid": 42, "role": "publisher", **fields}


CASES = [
    # ------------------------------------------------ good requests of every token route
    Case("post rtc", "POST", "/getToken", (USER,), rtc_body()),
    Case("post rtc account", "POST", "/getToken", (USER,), rtc_body(uid="bob", role="subscriber", expire=600)),
    Case(
        "post rtm with stream channel", "POST", "/getToken", (USER,), {"tokenType": "rtm", "uid": "bob", "channel": "c"}
    ),
    Case("post chat user", "POST", "/getToken", (USER,), {"tokenType": "chat", "uid": "bob", "expire": 0}),
    Case("post chat app", "POST", "/getToken", (ADMIN,), {"tokenType": "chat"}),
    Case("post rtc on a JWT", "POST", "/getToken", (JWT_42,), rtc_body()),
    Case("post narrowed by the hook", "POST", "/getToken", (USER,), rtc_body(channel="stage")),
    Case("sample token", "GET", "/v1/token?channel_name=c&expire=600", (USER,)),
    Case("chat app token", "GET", "/chat/app/token", (ADMIN,)),
    Case("chat user token", "GET", "/chat/user/alice/token?expire=60", (USER,)),
    Case("compat rtc uid on a JWT", "GET", "/rtc/c/publisher/uid/42/", (JWT_42,)),
    Case("compat rtc account", "GET", "/rtc/c/subscriber/userAccount/bob/?expiry=100", (USER,)),
    Case("compat rtc empty uid", "GET", "/rtc/c/publisher/uid//", (USER,)),
    Case("compat rtm", "GET", "/rtm/bob/", (USER,)),
    Case("compat rte", "GET", "/rte/c/publisher/uid/42/", (USER,)),
    Case("compat rte with rtm user", "GET", "/rte/c/publisher/uid/42/bob/", (USER,)),
    Case("compat chat app", "GET", "/chat/app/", (ADMIN,)),
    Case("compat chat account", "GET", "/chat/account/x/?expiry=0", (USER,)),
    Case("head of a GET token route", "HEAD", "/rtc/c/publisher/uid/42/", (USER,)),
    Case("percent-encoded UTF-8 channel", "GET", "/rtc/%E2%82%AC%20x/publisher/uid/7/", (USER,)),
    Case("repeated query parameter", "GET", "/rtm/bob/?expiry=5&expiry=7", (USER,)),
    Case("empty query parameter", "GET", "/rtm/bob/?expiry=", (USER,)),
    Case("plus and percent in the query", "GET", "/v1/token?channel_name=a+b%21&expire=%36%30", (USER,)),
    Case("CORS simple request", "GET", "/rtm/bob/", (USER, ("origin", ORIGIN))),
    Case("CORS from another origin", "GET", "/rtm/bob/", (USER, ("origin", "https://evil.example"))),
    # ------------------------------------------------ hostile bodies
    Case("bad JSON", "POST", "/getToken", (USER, JSON_TYPE), b"{"),
    Case("empty body", "POST", "/getToken", (USER, JSON_TYPE), b""),
    Case("not an object", "POST", "/getToken", (USER, JSON_TYPE), b"[1, 2]"),
    Case("wrong types", "POST", "/getToken", (USER,), {"tokenType": "rtc", "channel": 5, "uid": [1]}),
    Case("unknown token type", "POST", "/getToken", (USER,), {"tokenType": "bogus"}),
    Case("body not UTF-8", "POST", "/getToken", (USER, JSON_TYPE), b'{"tokenType": "\xff"}'),
    Case("body with a BOM", "POST", "/getToken", (USER, JSON_TYPE), b'\xef\xbb\xbf{"tokenType": "rtm"}'),
    Case("nested too deeply", "POST", "/getToken", (USER, JSON_TYPE), b"[" * 100 + b"]" * 100),
    Case("long number", "POST", "/getToken", (USER, JSON_TYPE), b'{"tokenType": "rtc", "uid": ' + b"9" * 60 + b"}"),
    Case("NaN", "POST", "/getToken", (USER, JSON_TYPE), b'{"tokenType": "rtc", "expire": NaN}'),
    Case("uid out of range", "POST", "/getToken", (USER,), rtc_body(uid="99999999999")),
    Case("expire out of range", "POST", "/getToken", (USER,), rtc_body(expire=10**9)),
    Case("channel missing", "POST", "/getToken", (USER,), {"tokenType": "rtc", "uid": 1}),
    Case("declared oversize", "POST", "/getToken", (USER, ("content-length", str(MAX_BODY_BYTES + 1))), b"{}"),
    Case("chunked oversize", "POST", "/getToken", (USER,), [b" " * 60_000, b" " * 60_000]),
    Case("chunked good", "POST", "/getToken", (USER,), [b'{"tokenType": "rtm", ', b'"uid": "bob"}']),
    Case("body never finishes", "POST", "/getToken", (USER,), [b'{"tokenType"'], stall=True),
    Case("client leaves mid-body", "POST", "/getToken", (USER,), [b'{"tokenType"'], disconnect=True),
    # ------------------------------------------------ hostile credentials
    Case("no credential", "POST", "/getToken", (), rtc_body()),
    Case("no credential on GET", "GET", "/rtm/bob/"),
    Case("wrong key", "GET", "/rtm/bob/", (bearer("not-the-key-0123456789"),)),
    Case("not bearer", "GET", "/rtm/bob/", (("authorization", "Basic Ym9iOmJvYg=="),)),
    Case("forged JWT", "GET", "/rtc/c/publisher/uid/42/", (JWT_FORGED,)),
    Case("expired JWT", "GET", "/rtc/c/publisher/uid/42/", (JWT_EXPIRED,)),
    Case("garbage JWT", "GET", "/rtc/c/publisher/uid/42/", (bearer("a.b.c"),)),
    Case("JWT for another identity", "GET", "/rtc/c/publisher/uid/42/", (JWT_BOB,)),
    Case("JWT asks any uid", "GET", "/rtc/c/publisher/uid/0/", (JWT_42,)),
    Case("JWT asks the chat app token", "GET", "/chat/app/", (JWT_42,)),
    Case("user key asks the chat app token", "GET", "/chat/app/token", (USER,)),
    Case("refused by the hook", "GET", "/rtc/forbidden/publisher/uid/42/", (USER,)),
    Case("denied by the hook", "POST", "/getToken", (USER,), rtc_body(channel="denied")),
    Case("hook ignores other channels", "GET", "/rtm/bob/", (USER,)),
    Case("hook answers nonsense: 500", "GET", "/rtc/broken/publisher/uid/42/", (USER,)),
    # ------------------------------------------------ hostile paths and queries
    Case("channel not UTF-8", "GET", "/rtc/%FF/publisher/uid/1/", (USER,)),
    Case("query not UTF-8", "GET", "/rtm/bob/?expiry=%FF", (USER,)),
    Case("query name not UTF-8", "GET", "/rtm/bob/?%FE=1", (USER,)),
    Case("expiry not a number", "GET", "/rtm/bob/?expiry=abc", (USER,)),
    Case("expire not a number", "GET", "/chat/user/a/token?expire=abc", (USER,)),
    Case("expire too long", "GET", "/chat/user/a/token?expire=999999999", (USER,)),
    Case("sample token without channel", "GET", "/v1/token", (USER,)),
    Case("unknown role", "GET", "/rtc/c/owner/uid/1/", (USER,)),
    Case("uid not a number", "GET", "/rtc/c/publisher/uid/abc/", (USER,)),
    Case("unknown token type in path", "GET", "/rtc/c/publisher/nope/1/", (USER,)),
    Case("rtm user 0", "GET", "/rtm/0/", (USER,)),
    Case("encoded slash", "GET", "/rtc/a%2Fb/publisher/uid/1/", (USER,), lean=None),
    # ------------------------------------------------ what FastAPI keeps
    Case("trailing slash missing", "GET", "/rtm/bob", (USER,), lean=False),
    Case("trailing slash added", "POST", "/getToken/", (USER,), rtc_body(), lean=False),
    Case("GET of the POST route", "GET", "/getToken", (USER,), lean=False),
    Case("PUT of a GET route", "PUT", "/rtm/bob/", (USER,), lean=False),
    Case("DELETE", "DELETE", "/getToken", (USER,), lean=False),
    Case("made-up method", "M0", "/getToken", (USER,), lean=False),
    Case(
        "CORS preflight",
        "OPTIONS",
        "/getToken",
        (("origin", ORIGIN), ("access-control-request-method", "POST")),
        lean=False,
    ),
    Case(
        "CORS preflight refused",
        "OPTIONS",
        "/rtm/bob/",
        (("origin", "https://evil.example"), ("access-control-request-method", "GET")),
        lean=False,
    ),
    Case("OPTIONS without CORS", "OPTIONS", "/rtm/bob/", (USER,), lean=False),
    Case("unknown path", "GET", "/nope", (USER,), lean=False),
    Case("ping", "GET", "/ping", lean=False),
    Case("inspect", "POST", "/inspect", (USER,), {"token": "007abc"}, lean=False),
    Case("openapi", "GET", "/openapi.json", lean=False),
    Case("under a root path", "GET", "/api/rtm/bob/", (USER,), root_path="/api", lean=False),
]


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    raised: str | None = None  # the exception the application let out (after answering 500)
    log: list[str] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)  # the audit records it wrote
    routed: bool = False  # whether FastAPI's router saw the request


def _scope(case: Case) -> dict[str, Any]:
    raw_path, _, query = case.target.partition("?")
    headers = [(b"host", b"testserver"), *((name.encode(), value.encode()) for name, value in case.headers)]
    names = {name for name, _ in headers}
    if isinstance(case.body, list):
        headers.append((b"transfer-encoding", b"chunked"))
    elif case.body is not None and b"content-length" not in names:
        headers.append((b"content-length", str(len(_body_bytes(case.body))).encode()))
    if case.body is not None and not isinstance(case.body, (bytes, list)) and b"content-type" not in names:
        headers.append((b"content-type", b"application/json"))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": case.root_path,
        "method": case.method,
        # as uvicorn decodes it
        "path": unquote(raw_path, encoding="utf-8", errors="replace"),
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "headers": headers,
    }


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def _chunks(case: Case) -> list[bytes]:
    return list(case.body) if isinstance(case.body, list) else [_body_bytes(case.body)]


async def _exchange(app: Any, case: Case) -> Answer:
    chunks = _chunks(case)
    sent: list[dict[str, Any]] = []
    position = 0

    async def receive() -> dict[str, Any]:
        nonlocal position
        if position < len(chunks):
            position += 1
            last = position == len(chunks) and not (case.stall or case.disconnect)
            return {"type": "http.request", "body": chunks[position - 1], "more_body": not last}
        if case.stall:
            await asyncio.sleep(3600)
        if case.disconnect or position >= len(chunks):
            if not case.disconnect:
                await asyncio.sleep(3600)  # a client that stays connected after its request
            return {"type": "http.disconnect"}
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raised = None
    try:
        await app(_scope(case), receive, send)
    except Exception as error:  # the application lets unexpected errors out after answering 500
        raised = type(error).__name__
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    headers = sorted((bytes(name).decode().lower(), bytes(value).decode()) for name, value in start["headers"])
    return Answer(start["status"], headers, body, raised)


class _LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # the duration differs from run to run
        self.lines.append(re.sub(r" [0-9.]+ms$", " _ms", record.getMessage()))


def _fastapi_only(app: Any) -> Any:
    assert isinstance(app, LeanFastAPI) and app.lean_routes is not None
    app.lean_routes = None
    return app


def _spy_router(app: Any, seen: list[str]) -> None:
    """Record every request that reaches FastAPI's router."""
    router = app.router
    inner = router.middleware_stack

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["method"] + " " + scope["path"])
        await inner(scope, receive, send)

    router.middleware_stack = spy


def _settings(kind: str, hook: str, audit_log: str) -> Settings:
    if kind == "open":
        return Settings(APP_ID, CERT, body_timeout=0.2)
    return Settings(
        APP_ID,
        CERT,
        audit_log=audit_log,
        api_key=USER_KEY,
        admin_api_key=ADMIN_KEY,
        jwt_secret=SECRET,
        cors_origins=(ORIGIN,),
        authorizer=hook,
        metrics=True,
        body_timeout=0.2,
    )


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("lean_hook")
    name = f"lean_hook_{folder.name.replace('-', '_')}"
    Path(folder, f"{name}.py").write_text(HOOK)
    sys.path.insert(0, str(folder))
    yield f"{name}:authorize"
    sys.path.remove(str(folder))
    sys.modules.pop(name, None)


def _audit_lines(path: Path, seen: int) -> tuple[list[dict[str, Any]], int]:
    """The audit records written after the first ``seen`` bytes, without what differs from run to
    run (the time, the request id, the token's fingerprint: its salt is random)."""
    data = path.read_bytes() if path.exists() else b""
    records = [json.loads(line) for line in data[seen:].splitlines()]
    for record in records:
        for varying in ("time", "request_id", "token_sha256"):
            assert record.pop(varying, None) is not None, f"the audit record has no {varying}"
    return records, len(data)


def _run_all(kind: str, hook: str, folder: Path) -> dict[str, dict[str, Any]]:
    """Every case through both applications, in the same order; and the metrics afterwards."""
    lean_audit, plain_audit = folder / "lean-audit.log", folder / "fastapi-audit.log"
    settings = _settings(kind, hook, str(lean_audit))
    lean_app = create_app(settings, clock=lambda: NOW)
    plain_app = _fastapi_only(create_app(_settings(kind, hook, str(plain_audit)), clock=lambda: NOW))
    outcome: dict[str, dict[str, Any]] = {"lean": {}, "fastapi": {}}
    logger = logging.getLogger("accesstoken2.server")
    lines = _LogLines()
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    loop = asyncio.new_event_loop()
    try:
        for label, app, audit in (("lean", lean_app, lean_audit), ("fastapi", plain_app, plain_audit)):
            routed: list[str] = []
            audited = 0
            _spy_router(app, routed)
            for case in CASES:
                del lines.lines[:], routed[:]
                # bounded: an application that waits for a body that never comes fails instead of hanging
                answer = loop.run_until_complete(asyncio.wait_for(_exchange(app, case), 10))
                answer.log, answer.routed = list(lines.lines), bool(routed)
                answer.audit, audited = _audit_lines(audit, audited)
                outcome[label][case.name] = answer
            if settings.metrics:
                scrape = Case("metrics", "GET", "/metrics", (ADMIN,), lean=False)
                outcome[label]["/metrics"] = loop.run_until_complete(_exchange(app, scrape))
    finally:
        loop.close()
        logger.removeHandler(lines)
        logger.setLevel(level)
    return outcome


@pytest.fixture(scope="module", params=["secured", "open"])
def answers(
    request: pytest.FixtureRequest, hook: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    return _run_all(request.param, hook, tmp_path_factory.mktemp(f"lean_{request.param}"))


def _token_content(token: str) -> dict[str, Any]:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT)
    content = parsed.to_dict()
    del content["salt"]  # random in every token
    return content


def _comparable(answer: Answer) -> Any:
    if not answer.body or ("content-type", "application/json") not in answer.headers:
        return answer.body
    document = json.loads(answer.body)
    if isinstance(document, dict):
        for key, value in document.items():
            if key.lower().endswith("token") and isinstance(value, str):
                document[key] = _token_content(value)
    return document


def _comparable_headers(answer: Answer) -> list[tuple[str, str]]:
    """The headers, but the length (a token's varies with its random salt: it is compressed) and
    the request id (a counter of the process), each checked here."""
    lengths = [value for name, value in answer.headers if name == "content-length"]
    assert lengths in ([str(len(answer.body))], []) or answer.body == b""  # HEAD: the GET's length, no body
    request_ids = [value for name, value in answer.headers if name == "x-request-id"]
    assert len(request_ids) == 1 and re.fullmatch(r"[0-9a-f]{20}", request_ids[0])
    return [
        (name, "(id)" if name == "x-request-id" else value)
        for name, value in answer.headers
        if name != "content-length"
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.default_kernel
def test_lean_path_answers_as_fastapi(answers: dict[str, dict[str, Any]], case: Case) -> None:
    lean, plain = answers["lean"][case.name], answers["fastapi"][case.name]
    assert lean.status == plain.status
    assert _comparable_headers(lean) == _comparable_headers(plain)
    assert _comparable(lean) == _comparable(plain)
    assert lean.raised == plain.raised
    assert lean.log == plain.log
    assert lean.audit == plain.audit
    if lean.status == 200 and lean.body.startswith(b"{") and "/metrics" in answers["lean"]:
        tokens = [key for key in json.loads(lean.body) if key.lower().endswith("token")]
        assert len(lean.audit) == len(tokens)  # one audit line per issued token
    assert len([line for line in lean.log if line.startswith("127.0.0.1 ")]) == 1  # one line per request
    if lean.status >= 400 and lean.body:  # every error answer: JSON with a human-readable message
        assert isinstance(json.loads(lean.body)["message"], str)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_token_routes_skip_fastapi_routing(answers: dict[str, dict[str, Any]], case: Case) -> None:
    lean, plain = answers["lean"][case.name], answers["fastapi"][case.name]
    refused_before_routing = not plain.routed  # the guard or CORS answered: no router in either
    if case.lean is True:
        assert not lean.routed
    elif case.lean is False:
        assert lean.routed or refused_before_routing


def test_the_cases_cover_what_they_claim(answers: dict[str, dict[str, Any]]) -> None:
    statuses = {answer.status for answer in answers["lean"].values()}
    if "/metrics" in answers["lean"]:  # the secured server: every refusal is there
        assert {200, 307, 400, 401, 403, 404, 405, 408, 413, 422, 500} <= statuses
        assert answers["lean"]["hook answers nonsense: 500"].status == 500
        served = [name for name, answer in answers["lean"].items() if not answer.routed and name != "/metrics"]
        assert len(served) > 50


def _counters(exposition: bytes) -> list[str]:
    """The counter and histogram-count samples of a scrape (durations differ from run to run)."""
    return sorted(
        line
        for line in exposition.decode().splitlines()
        if not line.startswith("#") and ("_total{" in line or "_count{" in line)
    )


def test_metrics_count_the_same(answers: dict[str, dict[str, Any]]) -> None:
    if "/metrics" not in answers["lean"]:
        pytest.skip("metrics are on in the secured server only")
    lean, plain = answers["lean"]["/metrics"], answers["fastapi"]["/metrics"]
    assert lean.status == plain.status == 200
    assert _counters(lean.body) == _counters(plain.body)
    assert any(
        'route="/rtc/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/"' in line for line in _counters(lean.body)
    )


# ---------------------------------------------------------------- which routes are lean


def test_the_token_routes_are_the_lean_ones() -> None:
    app = create_app(Settings(APP_ID, CERT))
    assert isinstance(app, LeanFastAPI) and app.lean_routes is not None
    served = sorted(route.path for route in app.lean_routes.routes())
    assert served == sorted(
        [
            "/getToken",
            "/v1/token",
            "/chat/app/token",
            "/chat/user/{user_id}/token",
            "/rtc/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/",
            "/rtm/{rtmuid}/",
            "/rte/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/",
            "/rte/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/{rtmuid}/",
            "/chat/app/",
            "/chat/account/{chatid}/",
        ]
    )


def _route(path: str, endpoint: Any, methods: tuple[str, ...] = ("GET",)) -> APIRoute:
    return APIRoute(path, endpoint, methods=list(methods))


def test_only_routes_without_anything_to_validate_are_eligible() -> None:
    # FastAPI evaluates these annotations at run time: Optional, for Python 3.9
    async def plain(request: Request, name: str, expiry: Optional[str] = None) -> Response:  # noqa: UP045
        return Response()

    async def typed_query(request: Request, count: Optional[int] = None) -> Response:  # noqa: UP045
        return Response()

    async def required_query(request: Request, expiry: str) -> Response:
        return Response()

    async def no_request(name: str) -> Response:
        return Response()

    async def returns_dict(request: Request) -> dict[str, str]:
        return {}

    def not_async(request: Request) -> Response:
        return Response()

    async def typed_path(request: Request, number: int) -> Response:
        return Response()

    async def bounded_query(request: Request, expiry: Optional[str] = Query(None, max_length=4)) -> Response:  # noqa: UP045
        return Response()

    async def bounded_path(request: Request, name: str = PathParameter(pattern="^[a-z]+$")) -> Response:
        return Response()

    assert lean_eligible(_route("/a/{name}", plain))
    assert not lean_eligible(_route("/a", typed_query))
    assert not lean_eligible(_route("/a/{name}", no_request))
    assert not lean_eligible(_route("/a", returns_dict))
    assert not lean_eligible(_route("/a", not_async))
    assert not lean_eligible(_route("/a/{number}", typed_path))
    assert not lean_eligible(_route("/a", required_query))
    assert not lean_eligible(_route("/a", bounded_query))
    assert not lean_eligible(_route("/a/{name}", bounded_path))
