"""Several uvicorn worker processes on one listening socket, with Nagle's algorithm off.

uvicorn's own multi-worker path binds the listening socket without naming the protocol
(``proto`` 0).  The connections it accepts inherit that, and asyncio turns ``TCP_NODELAY`` on
only for sockets that say ``IPPROTO_TCP``; so each keep-alive answer after the first waits
about 40 ms for the client's delayed ACK (uvicorn issue 3149), and two workers serve fewer
requests than one.  :class:`TcpConfig` binds the same socket, labelled ``IPPROTO_TCP``.
"""

from __future__ import annotations

import inspect
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from .connections import ServerConfig
from .rotation import forwarding_supervisor

__all__ = ["TcpConfig", "run_workers"]


class TcpConfig(ServerConfig):
    """A uvicorn ``Config`` (with the request head deadline) whose TCP listening socket reports ``IPPROTO_TCP``."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            sock.set_inheritable(True)
        return sock


def run_workers(app: str, workers: int, **options: Any) -> None:
    """Run ``workers`` processes of the app factory named by ``app`` until stopped (as ``uvicorn.run``)."""
    config = TcpConfig(app, factory=True, workers=workers, **options)
    sock = config.bind_socket()
    supervisor: Any = forwarding_supervisor(Multiprocess)  # SIGHUP reloads the workers' secrets
    try:
        if "target" in inspect.signature(Multiprocess).parameters:  # older uvicorn releases
            supervisor(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
        else:
            supervisor(config, sockets=[sock]).run()
    finally:
        sock.close()
