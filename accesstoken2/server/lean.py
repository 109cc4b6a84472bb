"""The token routes without FastAPI's per-request machinery: routing by path, then the endpoint itself.

FastAPI spends most of a token request choosing the route (a regular expression per route, in
order), solving the endpoint's dependencies and reading its parameters through pydantic, where
the token endpoints take only a :class:`~starlette.requests.Request` and plain text from the
path and the query.  :class:`LeanFastAPI` is the application: a request that :class:`LeanRoutes`
claims goes through the application's own middleware (the request guard with its URL checks,
body cap, deadline, request ids, request log and metrics; CORS; anything added with
``add_middleware``), and then :class:`LeanRoutes` calls the very endpoint function FastAPI would
call, with the same arguments, and answers what it raises with the application's exception
handlers (which write every error answer), picked as Starlette's exception middleware picks them
but without that layer around every request: an endpoint here returns its whole answer, so
nothing has been sent when it raises.
Every other request (OpenAPI, docs, ``/inspect``, ``/metrics``, 404, 405, the trailing-slash
redirect, CORS preflights) goes through FastAPI unchanged.  Left out for the claimed requests:
FastAPI's own OpenTelemetry instrumentation, its body-size layer (idle unless the application
is mounted with a limit) and its exit stack (for uploaded files and dependencies with ``yield``).

A route is served here only when FastAPI has nothing to check for it: every parameter is a
string from the path or an optional string from the query, the endpoint takes the request and
returns a :class:`~starlette.responses.Response`.  Routing gives the same route FastAPI would:
the first route whose path and method both match, in the router's order.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from re import Pattern
from typing import Any, Callable, Optional, get_type_hints

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response

from .guard import ASGIApp, Receive, Scope, Send

__all__ = ["LeanFastAPI", "LeanRoutes", "install_lean_routes", "lean_eligible"]


def lean_eligible(route: APIRoute) -> bool:
    """Whether ``route`` takes nothing FastAPI would have to validate (see the module documentation)."""
    dependant = route.dependant
    if (
        dependant.request_param_name is None
        or dependant.body_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.dependencies
        or not inspect.iscoroutinefunction(route.endpoint)
    ):
        return False
    try:
        returned = get_type_hints(route.endpoint).get("return")
    except Exception:  # an annotation that does not resolve: leave the route to FastAPI
        return False
    if not (isinstance(returned, type) and issubclass(returned, Response)):
        return False
    # text without constraints (max_length, pattern...: pydantic's metadata), which FastAPI would check
    path_ok = all(
        field.field_info.annotation is str and not field.field_info.metadata for field in dependant.path_params
    )
    optional_text: Any = Optional[str]
    query_ok = all(
        field.field_info.annotation == optional_text
        and not field.field_info.metadata
        and not field.field_info.is_required()
        for field in dependant.query_params
    )
    return path_ok and query_ok


def _first_segment(template: str) -> str | None:
    """The literal first segment of a path template (``/rtc/{x}/`` gives ``rtc``), or None when
    that segment holds a parameter (the route may then match any first segment)."""
    segment = template[1:].split("/", 1)[0] if template.startswith("/") else None
    return None if segment is None or "{" in segment else segment


class _Served:
    """A token route served here: its endpoint and the names of its parameters."""

    __slots__ = ("convertors", "endpoint", "query", "request_name", "route")

    def __init__(self, route: APIRoute) -> None:
        self.route = route
        self.endpoint: Callable[..., Any] = route.endpoint
        self.convertors = route.param_convertors
        self.request_name = route.dependant.request_param_name or "request"
        self.query = tuple((field.name, field.alias) for field in route.dependant.query_params)


#: A route as matched here: its path pattern (None: unknown, FastAPI decides), its methods (empty:
#: any), and how it is served (None: by FastAPI).
_Candidate = tuple[Optional[Pattern[str]], frozenset[str], Optional[_Served]]
#: The scope key holding the outcome of :meth:`LeanRoutes.claims`: path, method, route and parameters.
_CLAIM = "accesstoken2.lean"
_UNKNOWN: Any = object()


class LeanRoutes:
    """Serves the routes of ``served`` itself; every other request goes to ``app`` (the router).

    ``routes`` is the router's route list, in order (indexed again when its length changes, so
    that routes added later take part in the matching).
    """

    def __init__(self, app: ASGIApp, routes: Sequence[Any], served: Iterable[APIRoute]) -> None:
        self._app = app
        self._routes = routes
        self._served = {id(route): _Served(route) for route in served}
        self._index: dict[str | None, tuple[_Candidate, ...]] = {}
        self._indexed = -1
        self._literal_paths: frozenset[str] = frozenset()
        self._methods: frozenset[str] = frozenset()
        self._outcomes: dict[tuple[str, Any], tuple[_Served, dict[str, Any]] | None] = {}
        self._errors: tuple[dict[Any, Any], dict[int, Any]] = ({}, {})

    def routes(self) -> list[APIRoute]:
        """The routes served here."""
        return [served.route for served in self._served.values()]

    def _candidate(self, route: Any) -> _Candidate:
        regex = getattr(route, "path_regex", None)
        if not isinstance(route, APIRoute):
            return regex, frozenset(), None  # a Mount, a plain Route...: FastAPI decides when the path matches
        return regex, frozenset(route.methods or ()), self._served.get(id(route))

    def _candidates(self, path: str) -> tuple[_Candidate, ...]:
        """The routes that may match ``path``, in the router's order: those whose first segment is
        the path's, and those whose first segment is a parameter or unknown."""
        segment = path[1:].split("/", 1)[0]
        return self._index.get(segment, self._index.get(None, ()))

    def _reindex(self) -> None:
        """Index the router's routes by first segment (again, when their number changed)."""
        routes = list(self._routes)
        firsts = [_first_segment(getattr(route, "path", "")) for route in routes]
        candidates = [self._candidate(route) for route in routes]
        self._index = {
            key: tuple(candidate for candidate, first in zip(candidates, firsts) if first in (key, None))
            for key in set(firsts)
        }
        # the outcomes remembered for the paths that are a route's whole path (no parameter), with the
        # methods some route serves: a bounded set, whatever paths and methods clients send
        self._literal_paths = frozenset(
            route.path for route in routes if isinstance(getattr(route, "path", None), str) and "{" not in route.path
        )
        self._methods = frozenset(method for _, methods, _ in candidates for method in methods)
        self._outcomes = {}
        self._indexed = len(routes)

    def _match(self, scope: Scope, method: Any) -> tuple[_Served, dict[str, Any]] | None:
        """The served route FastAPI would choose for ``scope`` with ``method`` and its path
        parameters, or None when FastAPI would choose another route (or none)."""
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        if self._indexed != len(self._routes):
            self._reindex()
        path: str = scope["path"]
        known = self._outcomes.get((path, method), _UNKNOWN)
        if known is not _UNKNOWN:
            return None if known is None else (known[0], dict(known[1]))
        matched = self._search(path, method)
        if path in self._literal_paths and method in self._methods:
            self._outcomes[(path, method)] = None if matched is None else (matched[0], dict(matched[1]))
        return matched

    def _search(self, path: str, method: Any) -> tuple[_Served, dict[str, Any]] | None:
        """:meth:`_match` for ``path``, route by route."""
        for regex, methods, served in self._candidates(path):
            if regex is None:
                return None
            found = regex.match(path)
            if found is None:
                continue
            if served is None and not methods:
                return None
            if methods and method not in methods:
                continue  # a partial match (wrong method): FastAPI goes on looking for a full one too
            if served is None:
                return None
            params = {name: served.convertors[name].convert(value) for name, value in found.groupdict().items()}
            return served, params
        return None

    def claims(self, scope: Scope) -> bool:
        """Whether ``scope`` is for a served route, as far as can be told before the middleware
        runs (which answers ``HEAD`` as ``GET``); :meth:`__call__` decides again if the middleware
        changed the path or the method."""
        method = scope.get("method")
        method = "GET" if method == "HEAD" else method
        matched = self._match(scope, method)
        if matched is None:
            return False
        scope[_CLAIM] = (scope["path"], method, matched)
        return True

    def handle_errors(self, errors: ExceptionMiddleware) -> None:
        """Answer the endpoints' exceptions with the handlers ``errors`` holds (registered as
        Starlette registers them), as that middleware would, without its layer around every request:
        an endpoint returns its whole :class:`Response`, so nothing has been sent when it raises."""
        self._errors = (errors._exception_handlers, errors._status_handlers)

    def _handler(self, error: Exception) -> Any:
        """The handler Starlette's exception middleware would pick for ``error``, or None."""
        by_class, by_status = self._errors
        handler = by_status.get(error.status_code) if isinstance(error, HTTPException) else None
        if handler is None:
            for cls in type(error).__mro__:
                handler = by_class.get(cls)
                if handler is not None:
                    break
        return handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        claim = scope.get(_CLAIM)
        if claim is not None and claim[0] is scope["path"] and claim[1] == scope["method"]:
            matched: tuple[_Served, dict[str, Any]] | None = claim[2]
        else:
            matched = self._match(scope, scope.get("method"))
        if matched is None:
            await self._app(scope, receive, send)
            return
        served, params = matched
        # What the router records for the matched route (the metrics and the log read it).
        scope["route"] = served.route
        scope["endpoint"] = served.endpoint
        scope["path_params"] = params
        scope["starlette.exception_handlers"] = self._errors
        request = Request(scope, receive, send)
        arguments: dict[str, Any] = dict(params)
        arguments[served.request_name] = request
        if served.query:
            query = QueryParams(scope["query_string"]) if scope.get("query_string") else None
            for name, alias in served.query:
                arguments[name] = None if query is None else query.get(alias)
        try:
            response = await served.endpoint(**arguments)
        except Exception as error:
            handler = self._handler(error)
            if handler is None:
                raise
            if is_async_callable(handler):
                response = await handler(request, error)
            else:
                response = await run_in_threadpool(handler, request, error)
            error.__traceback__ = None  # a reused exception instance would collect tracebacks
            if response is None:
                return
        if not isinstance(response, Response):
            raise TypeError(f"the endpoint of {served.route.path} returned {type(response).__name__}, not a Response")
        await response(scope, receive, send)


class LeanFastAPI(FastAPI):
    """A FastAPI application that sends the requests :class:`LeanRoutes` claims through a shorter
    stack: the same exception handlers and user middleware as FastAPI's own stack (see the module
    documentation for what is left out)."""

    lean_routes: LeanRoutes | None = None
    _lean_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lean = self.lean_routes
        if lean is None or self.root_path or not lean.claims(scope):
            await super().__call__(scope, receive, send)
            return
        stack = self._lean_stack
        if stack is None:
            stack = self._lean_stack = self._build_lean_stack(lean)
        scope["app"] = self
        await stack(scope, receive, send)

    def _build_lean_stack(self, lean: LeanRoutes) -> ASGIApp:
        if self.middleware_stack is None:
            # built now, as at a first request, so that no middleware can be added after this one
            self.middleware_stack = self.build_middleware_stack()
        error_handler = None
        handlers: dict[Any, Any] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        # the handlers as Starlette's exception middleware registers them, used by the routes themselves
        lean.handle_errors(ExceptionMiddleware(lean, handlers=handlers, debug=self.debug))
        app: ASGIApp = lean
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return ServerErrorMiddleware(app, handler=error_handler, debug=self.debug)


def install_lean_routes(app: LeanFastAPI, served: Iterable[Any]) -> list[APIRoute]:
    """Serve the routes of ``served`` that are FastAPI routes :func:`lean_eligible` accepts through
    :class:`LeanRoutes` in ``app``; returns them."""
    lean = [route for route in served if isinstance(route, APIRoute) and lean_eligible(route)]
    router = app.router
    app.lean_routes = LeanRoutes(router, router.routes, lean)
    return lean
