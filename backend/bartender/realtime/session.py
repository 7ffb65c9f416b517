"""One /ws conversation: accept, `auth` within the timeout, then frames until the socket ends.

Every frame is capped (`BARTENDER_WS_MAX_FRAME_BYTES`: 1009 beyond) and decoded into a client
message or answered `bad_message`; bad frames and `forbidden` answers share one budget per
socket (more than 20 a minute: 1008). Before `auth` anything else closes with 4401. What a
message does is the hub's (subscriptions, replay, fan-out).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from bartender.errors import Unauthenticated
from bartender.realtime import protocol
from bartender.realtime.connection import AsgiSocket, Client
from bartender.realtime.hub import Hub

BAD_FRAMES_PER_MINUTE = 20  # docs/protocol.md, websocket rule 6 (`forbidden` counts too)


async def serve(hub: Hub, socket: AsgiSocket) -> None:
    """Run one /ws connection from accept to close."""
    await socket.accept()
    if hub.stopping:
        await socket.close(code=protocol.CLOSE_RESTARTING, reason="server restarting")
        return
    client = await _authenticate(hub, socket)
    if client is None:
        return
    hub.clients.add(client)
    client.enqueue(protocol.ready(client.user_id))
    try:
        await _read(hub, client)
    finally:
        hub.clients.discard(client)
        for bar_id in list(client.subs):
            hub.unsubscribe(client, bar_id)
        client.closed = True
        if client.writer is not None:
            client.writer.cancel()


async def _receive_text(hub: Hub, socket: AsgiSocket) -> str | bytes | None:
    """The next frame's text (bytes for a binary frame); None when the socket ended.
    An oversize frame closes the socket with 1009 (and ends it here)."""
    message = await socket.receive()
    if message["type"] != "websocket.receive":
        return None
    text = message.get("text")
    data = text if text is not None else message.get("bytes") or b""
    if len(data) > hub.settings.ws_max_frame_bytes:
        await socket.close(code=protocol.CLOSE_TOO_BIG, reason="frame too large")
        return None
    return data


async def _authenticate(hub: Hub, socket: AsgiSocket) -> Client | None:
    try:
        async with asyncio.timeout(hub.settings.ws_auth_timeout_s):
            data = await _receive_text(hub, socket)
    except TimeoutError:
        await socket.close(code=protocol.CLOSE_AUTH_TIMEOUT, reason="no auth in time")
        return None
    if data is None:
        return None
    decoded = protocol.decode(data) if isinstance(data, str) else None
    if not isinstance(decoded, protocol.Auth):
        await socket.close(code=protocol.CLOSE_UNAUTHENTICATED, reason="auth first")
        return None
    try:
        claims = hub.tokens.access_claims(decoded.token)
    except Unauthenticated:
        await socket.close(code=protocol.CLOSE_UNAUTHENTICATED, reason="bad token")
        return None
    # the socket lives as long as its token (docs/protocol.md): the hub's tick closes it with
    # 4401 then, and the client reconnects with a fresh one
    return Client(socket, hub, claims.user_id, claims.session_id, claims.expires_at)


async def _read(hub: Hub, client: Client) -> None:
    bad_frames: deque[float] | None = None  # created on the first bad frame (memory)
    socket, max_bytes = client.socket, hub.settings.ws_max_frame_bytes
    while not client.closed:
        # received here rather than through _receive_text: an idle socket waits with one
        # coroutine frame fewer (memory per idle socket, docs/benchmarks.md)
        message = await socket.receive()
        if message["type"] != "websocket.receive":
            return
        text = message.get("text")
        data = text if text is not None else message.get("bytes") or b""
        if len(data) > max_bytes:
            await socket.close(code=protocol.CLOSE_TOO_BIG, reason="frame too large")
            return
        decoded = protocol.decode(data) if isinstance(data, str) else None
        bad = False
        if decoded is None or isinstance(decoded, protocol.Auth):
            client.enqueue(protocol.BAD_MESSAGE)
            bad = True
        elif isinstance(decoded, protocol.Ping):
            client.enqueue(protocol.pong(decoded.t))
        elif isinstance(decoded, protocol.Subscribe):
            bad = not await hub.subscribe(client, decoded)
        else:
            hub.unsubscribe(client, decoded.bar_id)
        if bad:
            # bad frames and `forbidden` answers share one budget: probing bars one is
            # not a member of costs database work, as garbage costs parsing
            now = time.monotonic()
            if bad_frames is None:
                bad_frames = deque()
            bad_frames.append(now)
            while bad_frames and bad_frames[0] < now - 60:
                bad_frames.popleft()
            if len(bad_frames) > BAD_FRAMES_PER_MINUTE:
                await client.close(protocol.CLOSE_POLICY, "too many bad messages")
                return
