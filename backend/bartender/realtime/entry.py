"""/ws served ahead of Litestar's stack, to keep an idle socket small.

Litestar hands every connection through its send wrapper, the middleware stack and the router
before a handler runs, and each of those keeps a coroutine frame (and closures) alive for as
long as the handler runs: for a websocket, its whole life. /ws needs none of it (the hub does
its own auth, limits and errors), so the app answers a websocket on /ws directly. Measured
from outside at 3000 idle sockets: 26.8 → 21.6 KB per socket (docs/benchmarks.md). Every other
request, and /ws over plain HTTP (426), goes through Litestar as before.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Receive, Scope, Send

from bartender.realtime import session
from bartender.realtime.connection import AsgiSocket

LIVE_PATH = "/ws"


class LiveSocketsFirst(Litestar):
    """A Litestar app whose /ws websockets go straight to the hub (module docstring)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == "websocket" and scope["path"] == LIVE_PATH:
            hub = self.state.rt.hub
            await session.serve(hub, AsgiSocket(receive, send))
            return
        await super().__call__(scope, receive, send)
