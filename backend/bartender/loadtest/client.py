"""A load-test client that behaves like the PWA's live stock (pwa/static/js/live.js):
auth -> subscribe(since) -> snapshot or missed messages -> mode -> live `stock` messages; a
jump in seq re-subscribes with the last seq; `poll` mode (or a 4429 close) polls the stock
endpoint at the interval the server gave; a closed socket (1012 restart, 1006 lost) reconnects
with backoff and subscribes with `since`. Every loop is bounded in count and time.

What it counts: messages accepted in order, duplicates (a seq at or below the last one, outside
a re-subscribe), gaps (jumps that made it re-subscribe), reconnects, snapshots and polls that
moved it forward (the contract allows a snapshot in place of missed messages), and `lost`,
which the runner computes from `last_seq` against what the bar had committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

MAX_RECONNECTS = 50
MAX_BACKOFF_S = 5.0
OPEN_TIMEOUT_S = 15.0
MAX_POLLS = 10_000


@dataclass
class ClientStats:
    """Shared by every client of a run (one event loop: no locks needed)."""

    connect_s: list[float] = field(default_factory=list)
    connect_failures: int = 0
    reconnects: int = 0
    gaps: int = 0
    duplicated: int = 0
    snapshots: int = 0
    polls: int = 0
    poll_mode_messages: int = 0
    deliveries: int = 0
    auth_refused: int = 0


@dataclass
class Endpoint:
    ws_url: str
    http_url: str  # base URL for polling; "" when the target has no polling endpoint
    token: str


class LiveClient:
    def __init__(
        self,
        bar: str,
        endpoint: Endpoint,
        stats: ClientStats,
        session: aiohttp.ClientSession | None,
        deflate: bool,
        on_stock: Any = None,  # callable(bar, seq, arrival time) for delivery latency
    ) -> None:
        self.bar = bar
        self.endpoint = endpoint
        self.stats = stats
        self.session = session
        self.deflate = deflate
        self.on_stock = on_stock
        self.last_seq: int | None = None
        self.mode = "push"
        self.poll_interval_s = 5.0
        self.ready = asyncio.Event()  # subscribed once (first `mode`)
        self.stopping = False
        self.failed = False
        self.conn: ClientConnection | None = None
        self._resubscribing = False
        self._poller: asyncio.Task[None] | None = None
        self._deadline = time.monotonic()

    # -- the socket ------------------------------------------------------------------------
    async def run(self, deadline: float) -> None:
        """Connect, follow the bar, reconnect on loss; until stop() or the deadline."""
        self._deadline = deadline
        backoff = 0.1
        first = True
        for _ in range(MAX_RECONNECTS + 1):
            if self.stopping or time.monotonic() >= deadline:
                break
            if not first:
                self.stats.reconnects += 1
            started = time.perf_counter()
            code: int | None = None
            try:
                code = await self._session_once(started, first)
                backoff = 0.1
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed) as exc:
                if first and not self.ready.is_set():
                    self.stats.connect_failures += 1
                if isinstance(exc, InvalidStatus) and exc.response.status_code == 429:
                    code = 4429
            first = False
            if self.stopping:
                break
            if code == 4401:  # the token was refused: nothing a retry fixes
                self.stats.auth_refused += 1
                self.failed = True
                break
            if code == 4429 or self.mode == "poll":  # poll on our own until a socket is allowed
                self.mode = "poll"
                self._ensure_polling()
                if code == 4429:
                    backoff = 15.0
            delay = 0.05 if code == 1012 else backoff * random.uniform(0.75, 1.25)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if not self.ready.is_set():
            self.failed = True
            self.ready.set()  # whoever waits for this client's first subscribe: it is over

    async def _session_once(self, started: float, first: bool) -> int | None:
        """One socket's life; returns its close code."""
        async with connect(
            self.endpoint.ws_url,
            compression="deflate" if self.deflate else None,
            open_timeout=OPEN_TIMEOUT_S,
            max_queue=None,
            ping_interval=None,
        ) as conn:
            self.conn = conn
            await conn.send(json.dumps({"type": "auth", "token": self.endpoint.token}))
            try:
                async for raw in conn:
                    self._receive(json.loads(raw), started, first)
            finally:
                self.conn = None
            return conn.close_code

    def _subscribe(self) -> None:
        if self.conn is None:
            return
        self._resubscribing = True
        message = {"type": "subscribe", "bar_id": self.bar, "since": self.last_seq}
        task = asyncio.ensure_future(self.conn.send(json.dumps(message)))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _receive(self, message: dict[str, Any], started: float, first: bool) -> None:
        kind = message.get("type")
        if kind == "ready":
            self._subscribe()
        elif kind == "snapshot" and message.get("bar_id") == self.bar:
            self._advance_to(int(message["seq"]), counted_as="snapshot")
        elif kind == "stock" and message.get("bar_id") == self.bar:
            self._stock(int(message["seq"]))
        elif kind == "mode" and message.get("bar_id") == self.bar:
            self._resubscribing = False
            if first and not self.ready.is_set():
                self.stats.connect_s.append(time.perf_counter() - started)
            self.ready.set()
            self._set_mode(message["mode"], message.get("poll_interval_ms"))
        elif kind == "error" and message.get("code") == "forbidden":
            self.failed = True
            self.stopping = True

    def _stock(self, seq: int) -> None:
        last = self.last_seq
        if last is not None and seq <= last:
            if not self._resubscribing:
                self.stats.duplicated += 1
            return
        if last is not None and seq != last + 1:
            # a jump: ask for what we missed (once; the replay also covers later jumps)
            if not self._resubscribing:
                self.stats.gaps += 1
                self._subscribe()
            return
        self.last_seq = seq
        self.stats.deliveries += 1
        if self.on_stock is not None:
            self.on_stock(self.bar, seq, time.perf_counter())

    def _advance_to(self, seq: int, counted_as: str) -> None:
        if self.last_seq is None or seq > self.last_seq:
            if self.last_seq is not None:
                if counted_as == "snapshot":
                    self.stats.snapshots += 1
                else:
                    self.stats.polls += 1
            self.last_seq = seq
        elif self.last_seq is not None and seq < self.last_seq and counted_as == "snapshot":
            # the database went back in time (a restore): the snapshot is the truth (v1.2)
            self.last_seq = seq
            self.stats.snapshots += 1

    def _set_mode(self, mode: str, interval_ms: int | None) -> None:
        if interval_ms:
            self.poll_interval_s = interval_ms / 1000
        if mode == "poll":
            self.stats.poll_mode_messages += 1
        self.mode = mode
        if mode == "poll":
            self._ensure_polling()

    # -- polling -----------------------------------------------------------------------------
    def _ensure_polling(self) -> None:
        if self.session is None or not self.endpoint.http_url:
            return
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll_loop(self._deadline))

    async def _poll_loop(self, deadline: float) -> None:
        url = f"{self.endpoint.http_url}/api/bars/{self.bar}/stock"
        headers = {"Authorization": f"Bearer {self.endpoint.token}"}
        for _ in range(MAX_POLLS):
            if self.stopping or self.mode != "poll" or time.monotonic() >= deadline:
                return
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                await self.poll_once(url, headers)
            await asyncio.sleep(self.poll_interval_s)

    async def poll_once(self, url: str, headers: dict[str, str]) -> None:
        assert self.session is not None
        params = {} if self.last_seq is None else {"since": str(self.last_seq)}
        extra = {} if self.last_seq is None else {"If-None-Match": f'"{self.last_seq}"'}
        async with self.session.get(url, params=params, headers=headers | extra) as r:
            if r.status != 200:
                return
            body = await r.json()
        if body.get("poll_interval_ms"):
            self.poll_interval_s = body["poll_interval_ms"] / 1000
        self._advance_to(int(body["seq"]), "snapshot" if "snapshot" in body else "poll")
        if body.get("mode") == "push" and self.mode == "poll" and self.conn is not None:
            self.mode = "push"

    async def stop(self) -> None:
        self.stopping = True
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()
