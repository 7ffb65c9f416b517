"""GET /ws: live stock (CONTRACT.md "Live stock over WebSocket"); the hub does the work."""

from __future__ import annotations

from litestar import WebSocket, websocket

from bartender.runtime import Runtime


@websocket("/ws")
async def live_stock(socket: WebSocket) -> None:
    rt: Runtime = socket.app.state.rt
    assert rt.hub is not None
    await rt.hub.serve(socket)
