"""A synchronous httpx client for the token server's ASGI app (no network), for the in-process tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from accesstoken2.server import Settings, create_app


class Client:
    """httpx over the ASGI app of ``settings``, driven on its own event loop; ``bearer`` adds the
    ``Authorization`` header.  With ``raise_app_exceptions`` an exception escaping the app fails the call."""

    def __init__(self, settings: Settings, *, raise_app_exceptions: bool = False) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=raise_app_exceptions)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, bearer: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        return self._loop.run_until_complete(self._client.request(method, url, headers=headers, **kwargs))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()
