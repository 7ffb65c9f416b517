"""A small real websocket client for the /ws tests (python-websockets over a real socket)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class WsClient:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, url: str) -> WsClient:
        return cls(await connect(url, compression=None, open_timeout=5))

    @classmethod
    async def ready(cls, url: str, token: str) -> WsClient:
        """Open and authenticate (asserts the `ready` answer)."""
        client = await cls.open(url)
        await client.send({"type": "auth", "token": token})
        ready = await client.recv()
        assert ready["type"] == "ready", ready
        return client

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.conn.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def recv(self, within: float = 5.0, *, catalog: bool = False) -> dict[str, Any]:
        """The next message. `catalog` messages are skipped unless asked for: a product
        created just before subscribing may announce itself just after, by design."""
        async with asyncio.timeout(within):
            while True:
                message: dict[str, Any] = json.loads(await self.conn.recv())
                if catalog or message["type"] != "catalog":
                    return message

    async def recv_until(
        self, kind: str, within: float = 5.0
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Messages received before the first one of type `kind`, and that one."""
        before: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while True:
                message = await self.recv(within)
                if message["type"] == kind:
                    return before, message
                before.append(message)

    async def nothing_for(self, seconds: float, *, catalog: bool = False) -> None:
        """Assert no message arrives within `seconds`."""
        try:
            message = await self.recv(seconds, catalog=catalog)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message}")

    async def subscribe(
        self, bar_id: str, since: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Subscribe; the replay (stock messages or a snapshot) and the `mode` message."""
        await self.send({"type": "subscribe", "bar_id": bar_id, "since": since})
        return await self.recv_until("mode")

    async def closed_with(self, within: float = 5.0) -> int | None:
        """Wait for the server to close; the close code it sent."""
        try:
            async with asyncio.timeout(within):
                while True:
                    await self.conn.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    async def close(self) -> None:
        await self.conn.close()


def check_stream(messages: list[dict[str, Any]], start: int) -> int:
    """Assert a bar's stream is in order with no gap and no duplicate: each `stock` has the
    previous seq + 1, a `snapshot` may reset to any seq not below what was seen. The last seq."""
    seq = start
    for message in messages:
        if message["type"] == "stock":
            assert message["seq"] == seq + 1, (seq, message)
            seq += 1
        elif message["type"] == "snapshot":
            assert message["seq"] >= seq, (seq, message)
            seq = message["seq"]
    return seq
