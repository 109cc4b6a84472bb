"""What the lean path of the token routes was made cheaper with still does what it did.

Each piece restructured for the throughput target is checked here on its own: the lazy deadline of
a request head (one timer per connection, set at most once per wait), the body deadlines that share
one timer per event loop, the guard that gives request ids itself, the token routes that answer
their endpoints' exceptions without an exception-middleware layer, the token answer's headers,
``read_model`` reading ``receive()`` directly, and ``settle`` handing back an already settled grant.
The whole server's answers on both paths are compared in tests/test_server_lean.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi import HTTPException, Request, Response
from starlette.requests import ClientDisconnect

from accesstoken2.server import Settings
from accesstoken2.server.body import read_model
from accesstoken2.server.compat import TokenAnswer
from accesstoken2.server.connections import HeadDeadline
from accesstoken2.server.guard import BodyDeadlines, RequestGuard
from accesstoken2.server.issuer import TokenGrant, TokenIssuer
from accesstoken2.server.lean import LeanFastAPI, install_lean_routes

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"


class _Transport(asyncio.BaseTransport):
    """A transport that only records when it was closed (loop time)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self.closed_at: float | None = None

    def is_closing(self) -> bool:
        return self.closed_at is not None

    def close(self) -> None:
        self.closed_at = self._loop.time()


# ---------------------------------------------------------------- the head deadline


def test_a_wait_for_a_head_is_timed_from_its_own_start() -> None:
    async def scenario() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        transport = _Transport(loop)
        deadline = HeadDeadline(loop, 0.3)
        deadline.start(transport)  # waits for its first head
        await asyncio.sleep(0.1)
        deadline.cancel()  # the head arrived
        await asyncio.sleep(0.1)
        rearmed = loop.time()
        deadline.arm()  # answered: waits for the next head (the first timer is still set)
        await asyncio.sleep(0.15)  # the first timer fires (0.3 s after the start) and finds a younger wait
        open_after_first_timer = not transport.is_closing()
        await asyncio.sleep(0.4)
        return {
            "open after the first timer": open_after_first_timer,
            "closed at": (transport.closed_at or 0) - rearmed,
            "not before": 0.3 - 0.02,
        }

    outcome = asyncio.run(scenario())
    assert outcome["open after the first timer"]
    assert outcome["not before"] <= outcome["closed at"] < 0.3 + 0.2


def test_a_head_that_arrived_in_time_keeps_the_connection_open() -> None:
    async def scenario() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        answered, gone = _Transport(loop), _Transport(loop)
        busy, closed = HeadDeadline(loop, 0.1), HeadDeadline(loop, 0.1)
        busy.start(answered)
        closed.start(gone)
        closed.close()  # the connection went away before its deadline: nothing may fire for it
        for _ in range(5):  # requests keep coming: each head within the deadline
            await asyncio.sleep(0.05)
            busy.cancel()
            await asyncio.sleep(0.01)
            busy.arm()
        busy.cancel()  # a request is being served when the timer fires
        await asyncio.sleep(0.3)
        return answered.is_closing(), gone.is_closing()

    assert asyncio.run(scenario()) == (False, False)


# ---------------------------------------------------------------- the body deadlines


def test_body_deadlines_cancel_each_task_at_its_own_deadline() -> None:
    async def scenario() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadlines = BodyDeadlines(loop, 0.2)
        results: dict[str, Any] = {}

        async def reader(name: str, finishes_after: float) -> None:
            task = asyncio.current_task()
            assert task is not None
            began = loop.time()
            deadlines.start(task)
            try:
                await asyncio.sleep(finishes_after)
                results[name] = ("finished", deadlines.stop(task))
            except asyncio.CancelledError:
                results[name] = ("cancelled", deadlines.stop(task), loop.time() - began)

        first = asyncio.ensure_future(reader("first", 10))
        await asyncio.sleep(0.1)
        second = asyncio.ensure_future(reader("second", 10))
        quick = asyncio.ensure_future(reader("quick", 0.05))
        await asyncio.gather(first, second, quick)
        return results

    results = asyncio.run(scenario())
    assert results["quick"] == ("finished", False)
    for name in ("first", "second"):
        state, expired, waited = results[name]
        assert (state, expired) == ("cancelled", True)
        assert 0.2 - 0.02 <= waited < 0.2 + 0.15, (name, waited)


async def _stalled_post(guard: RequestGuard) -> int:
    """The status the guard answers a body that never finishes."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not sent and not getattr(receive, "called", False):
            receive.called = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked")],
    }
    await asyncio.wait_for(guard(scope, receive, send), 5)
    return int(sent[0]["status"])


async def _never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the guard answers a body that never finishes itself")


def test_the_body_deadline_holds_on_every_event_loop_the_guard_serves() -> None:
    guard = RequestGuard(_never_called, max_body=1024, body_timeout=0.1, observers=())
    for _ in range(2):  # a test's loop, then another: each gets its own timer
        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(_stalled_post(guard)) == 408
        finally:
            loop.close()


# ---------------------------------------------------------------- request ids given by the guard


async def _answer_ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _exchange(app: Any, method: str, headers: list[tuple[bytes, bytes]]) -> tuple[dict[str, Any], list[Any], bytes]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"",
        "headers": headers,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return scope, list(sent[0]["headers"]), body


def test_the_guard_gives_request_ids_in_its_own_layer() -> None:
    guard = RequestGuard(_answer_ok, max_body=10, body_timeout=1.0, observers=(), request_ids=True)
    scope, headers, _ = _exchange(guard, "GET", [(b"x-request-id", b"trace-42")])
    assert headers[-3:] == [
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-request-id", b"trace-42"),
    ]
    assert scope["accesstoken2.request_id"] == "trace-42"
    # the guard's own refusal carries one too, a fresh one for a malformed client id
    _, headers, body = _exchange(guard, "POST", [(b"x-request-id", b"bad id\r\n"), (b"content-length", b"11")])
    assert json.loads(body)["detail"] == "request body larger than 10 bytes"
    ids = [value for name, value in headers if name == b"x-request-id"]
    assert len(ids) == 1 and len(ids[0]) == 20 and ids[0] != b"bad id\r\n"
    # HEAD: answered as GET downstream, the id in the scope the observers get
    scope, headers, body = _exchange(guard, "HEAD", [])
    assert body == b"" and scope["accesstoken2.request_id"].encode() == headers[-1][1]
    # without the option the guard adds no id (RequestIdMiddleware may)
    plain = RequestGuard(_answer_ok, max_body=10, body_timeout=1.0, observers=())
    _, headers, _ = _exchange(plain, "GET", [(b"x-request-id", b"trace-42")])
    assert not [name for name, _ in headers if name == b"x-request-id"]


# ---------------------------------------------------------------- the lean routes' own exception handling


class _Teapot(Exception):
    pass


class _Unhandled(Exception):
    pass


def _app_with_handlers(lean: bool) -> LeanFastAPI:
    app = LeanFastAPI()

    async def raises(request: Request, what: str) -> Response:
        if what == "teapot":
            raise _Teapot()
        if what == "gone":
            raise HTTPException(410, "gone")
        if what == "conflict":
            raise HTTPException(409, "conflict")
        if what == "unhandled":
            raise _Unhandled()
        return Response(b"fine", media_type="text/plain")

    app.add_api_route("/r/{what}", raises, methods=["GET"])

    def teapot(request: Request, error: Exception) -> Response:  # a sync handler: run in a thread
        return Response(b"short and stout", status_code=418, media_type="text/plain")

    async def gone(request: Request, error: Exception) -> Response:  # by status code
        return Response(b"by status", status_code=410, media_type="text/plain")

    app.add_exception_handler(_Teapot, teapot)
    app.add_exception_handler(410, gone)
    if lean:
        install_lean_routes(app, app.router.routes)
    return app


def _get(app: Any, path: str) -> tuple[int, bytes, str | None]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raised = None
    try:
        asyncio.run(app(scope, receive, send))
    except Exception as error:
        raised = type(error).__name__
    status = sent[0]["status"] if sent else 0
    return status, b"".join(message.get("body", b"") for message in sent[1:]), raised


@pytest.mark.parametrize("what", ["fine", "teapot", "gone", "conflict", "unhandled"])
def test_lean_routes_answer_exceptions_as_starlettes_middleware(what: str) -> None:
    lean, plain = _app_with_handlers(lean=True), _app_with_handlers(lean=False)
    assert lean.lean_routes is not None and len(lean.lean_routes.routes()) == 1
    assert _get(lean, f"/r/{what}") == _get(plain, f"/r/{what}")
    expected = {"fine": 200, "teapot": 418, "gone": 410, "conflict": 409, "unhandled": 500}[what]
    assert _get(lean, f"/r/{what}")[0] == expected


# ---------------------------------------------------------------- the answer and the body


def test_a_token_answer_has_the_headers_starlette_would_give_it() -> None:
    body = b'{"token":"007abc","expires_at":1,"expires_in":1}'
    fast, general = TokenAnswer(body), Response(body, media_type="application/json")
    assert fast.raw_headers == general.raw_headers
    assert (fast.status_code, fast.body, fast.background) == (200, body, None)
    assert fast.headers["content-type"] == "application/json"


class _Body:
    """Enough of a request for read_model: its receive() gives ``messages`` in turn."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self._messages = list(messages)

    async def receive(self) -> dict[str, Any]:
        return self._messages.pop(0)


def _read(messages: list[dict[str, Any]], limit: int = 1000) -> Any:
    from accesstoken2.server.app import TokenRequest

    return asyncio.run(read_model(_Body(messages), TokenRequest, limit))  # type: ignore[arg-type]


def test_read_model_joins_chunks_caps_them_and_notices_a_departure() -> None:
    chunks = [b'{"tokenType": ', b'"rtm", "uid": ', b'"bob"}']
    messages = [{"type": "http.request", "body": chunk, "more_body": i < 2} for i, chunk in enumerate(chunks)]
    assert _read(messages).uid == "bob"
    assert _read([{"type": "http.request", "body": b'{"tokenType": "chat"}'}]).tokenType == "chat"
    with pytest.raises(HTTPException) as refused:
        _read(messages, limit=len(b"".join(chunks)) - 1)
    assert refused.value.status_code == 413
    with pytest.raises(ClientDisconnect):
        _read([{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}])


def test_settle_hands_back_a_settled_grant_itself() -> None:
    issuer = TokenIssuer(Settings(APP_ID, CERT))
    settled = issuer.settle(TokenGrant("rtc", channel="c", uid=42, role="publisher", expire=600))
    assert issuer.settle(settled) is settled
    widened = TokenGrant("rtc", channel="c", uid=42, expire=600)  # the role is filled in
    again = issuer.settle(widened)
    assert again is not widened and again.role == "subscriber"
    defaulted = issuer.settle(TokenGrant("rtm", user_id="bob"))  # the default lifetime is filled in
    assert defaulted.expire == Settings(APP_ID, CERT).default_expire
    assert issuer.settle(defaulted) is defaulted


# ---------------------------------------------------------------- remembered routing outcomes


def _scope_for(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_routing_outcomes_remembered_stay_bounded_and_follow_the_routes() -> None:
    from fastapi.routing import APIRoute

    from accesstoken2.server import create_app

    app = create_app(Settings(APP_ID, CERT))
    lean = app.lean_routes
    assert lean is not None
    assert lean.claims(_scope_for("POST", "/getToken"))
    assert lean.claims(_scope_for("HEAD", "/chat/app/"))  # answered as GET
    assert not lean.claims(_scope_for("GET", "/getToken"))  # FastAPI answers 405
    for number in range(300):  # methods and paths a client chooses: nothing more is remembered
        assert not lean.claims(_scope_for(f"M{number}", "/getToken"))
        assert not lean.claims(_scope_for("GET", f"/nope{number}"))
        assert lean.claims(_scope_for("GET", f"/rtm/user{number}/"))
    literal = {route.path for route in app.router.routes if "{" not in getattr(route, "path", "{")}
    methods = {method for route in app.router.routes for method in getattr(route, "methods", None) or ()}
    assert set(lean._outcomes) <= {(path, method) for path in literal for method in methods}
    assert len(lean._outcomes) <= 6

    async def elsewhere(request: Request) -> Response:
        return Response(b"another route")

    # a route put in front of the token route takes it over: what was remembered is dropped
    app.router.routes.insert(0, APIRoute("/getToken", elsewhere, methods=["POST"]))
    assert not lean.claims(_scope_for("POST", "/getToken"))
    assert lean.claims(_scope_for("GET", "/chat/app/"))
