"""GET /ws: live stock (docs/protocol.md "Live stock over WebSocket"); the hub does the work.

A raw ASGI handler rather than Litestar's WebSocket object: the hub needs only receive and
send, and thousands of idle sockets are cheaper without a per-socket wrapper.
"""

from __future__ import annotations

from litestar import asgi
from litestar.types import Receive, Scope, Send

from bartender.realtime.connection import AsgiSocket
from bartender.runtime import Runtime


@asgi("/ws", is_mount=False, copy_scope=False)
async def live_stock(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        await send(
            {
                "type": "http.response.start",
                "status": 426,
                "headers": [(b"content-type", b"text/plain"), (b"upgrade", b"websocket")],
            }
        )
        await send({"type": "http.response.body", "body": b"websocket only"})
        return
    rt: Runtime = scope["app"].state.rt
    assert rt.hub is not None
    await rt.hub.serve(AsgiSocket(receive, send))
