"""One authenticated /ws socket: its subscriptions and its bounded send queue.

Each socket has a send queue drained by a writer task that exists only while there is
something to send (an idle socket costs no task and no queue). A socket that falls
`send_queue_limit` frames behind loses its queued stock frames and gets one snapshot per bar
instead; one that stays stuck through several such overflows is closed with 1008.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from typing import Protocol

from litestar.types import Receive, Send, WebSocketSendEvent

from bartender.realtime.subscription import Frames, Resync, Subscription, SubState

log = logging.getLogger("bartender.realtime")

STALLED_OVERFLOWS = 3  # overflows without one frame sent in between: close 1008


def _text(frame: str) -> WebSocketSendEvent:
    return {"type": "websocket.send", "bytes": None, "text": frame}


class AsgiSocket:
    """The three operations the hub uses, straight on the ASGI callables."""

    __slots__ = ("receive", "send")

    def __init__(self, receive: Receive, send: Send) -> None:
        self.receive = receive
        self.send = send

    async def accept(self) -> None:
        await self.receive()  # websocket.connect
        await self.send({"type": "websocket.accept", "subprotocol": None, "headers": []})

    async def close(self, code: int, reason: str = "") -> None:
        await self.send({"type": "websocket.close", "code": code, "reason": reason})


class ClientHost(Protocol):
    """What a socket needs of the hub that owns it."""

    send_queue_limit: int

    async def catch_up(self, marker: Resync) -> Frames: ...

    def overflowed(self, client: Client, *, stalled: bool) -> None: ...


QueueEntry = tuple[str | Resync, uuid.UUID | None, int | None]  # item, its bar, its seq


class Client:
    """One authenticated socket (see the module docstring)."""

    __slots__ = (
        "socket",
        "host",
        "user_id",
        "session_id",
        "subs",
        "queue",
        "writer",
        "closed",
        "stalled_overflows",
        "expires_at",
    )

    def __init__(
        self,
        socket: AsgiSocket,
        host: ClientHost,
        user_id: uuid.UUID,
        session_id: str | None,
        expires_at: float,
    ) -> None:
        self.socket = socket
        self.host = host
        self.user_id = user_id
        self.session_id = session_id  # the login (refresh family) its token belongs to
        self.subs: dict[uuid.UUID, Subscription] = {}
        self.queue: deque[QueueEntry] | None = None  # created on first use
        self.writer: asyncio.Task[None] | None = None
        self.closed = False
        self.stalled_overflows = 0
        self.expires_at = expires_at  # unix time its access token ends: then 4401

    def enqueue(
        self, item: str | Resync, bar_id: uuid.UUID | None = None, seq: int | None = None
    ) -> None:
        if self.closed:
            return
        if self.queue is None:
            self.queue = deque()
        self.queue.append((item, bar_id, seq))
        if len(self.queue) > self.host.send_queue_limit:
            self._overflow()
        if self.writer is None and not self.closed:
            self.writer = asyncio.create_task(self._write())

    def resync(self, sub: Subscription, *, snapshot: bool = False, then_mode: bool = False) -> None:
        sub.state = SubState.PENDING
        self.enqueue(Resync(sub, snapshot=snapshot, then_mode=then_mode), sub.bar_id)

    def drop_bar(self, bar_id: uuid.UUID) -> None:
        """Forget queued frames of a bar (unsubscribed or re-subscribed: never doubled)."""
        if self.queue:
            self.queue = deque(entry for entry in self.queue if entry[1] != bar_id)

    def _overflow(self) -> None:
        assert self.queue is not None
        self.stalled_overflows += 1
        stalled = self.stalled_overflows >= STALLED_OVERFLOWS
        self.host.overflowed(self, stalled=stalled)
        if stalled:
            return
        behind = {bar for _item, bar, _seq in self.queue if bar is not None}
        # keep what is not stock (mode, catalog, pong...), replace stock by one snapshot per bar
        self.queue = deque(
            entry for entry in self.queue if entry[1] is None or entry[1] not in behind
        )
        for bar_id in behind:
            sub = self.subs.get(bar_id)
            if sub is not None:
                sub.state = SubState.PENDING
                self.queue.append((Resync(sub, snapshot=True), bar_id, None))

    async def _write(self) -> None:
        try:
            while self.queue:
                item, _bar_id, _seq = self.queue.popleft()
                if isinstance(item, Resync):
                    for frame, _frame_seq in await self.host.catch_up(item):
                        if self.subs.get(item.sub.bar_id) is not item.sub:
                            break  # re-subscribed meanwhile: the new one replays
                        await self.socket.send(_text(frame))
                else:
                    await self.socket.send(_text(item))
                self.stalled_overflows = 0
        except Exception as exc:  # the peer went away mid-send, or the socket is closing
            log.debug("writer stopped: %r", exc)
            self.closed = True
        finally:
            self.writer = None
            if not self.queue:
                self.queue = None  # an idle socket keeps no queue

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        writer, self.writer = self.writer, None
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
        try:
            await self.socket.close(code=code, reason=reason)
        except Exception:  # already gone
            pass
