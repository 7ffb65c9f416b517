"""One LISTEN connection per process: dispatches NOTIFY payloads by channel, reconnects.

While the connection is down `live` is False and readers must fall back to the database;
after a reconnect every `on_reconnect` callback runs so that caches resynchronise (a NOTIFY
sent while we were away is lost for good).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger("bartender.listener")

Handler = Callable[[str], None]


class Listener:
    """The LISTEN connection. After a loss it waits `retry_s` before reconnecting, doubling up
    to `max_retry_s` while attempts fail (a database that just went away is not hammered)."""

    def __init__(self, dsn: str, *, retry_s: float = 0.2, max_retry_s: float = 5.0) -> None:
        self.dsn = dsn
        # unique per connection so that an operator (or a test) can find and end this one
        self.application_name = f"bartender-listen-{uuid.uuid4().hex[:12]}"
        self._handlers: dict[str, list[Handler]] = {}
        self._reconnect_callbacks: list[Callable[[], Awaitable[None]]] = []
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._retry_s = retry_s
        self._max_retry_s = max_retry_s
        self.live = False
        self.connected = asyncio.Event()
        self.generation = 0  # bumps on every (re)connect

    def on(self, channel: str, handler: Handler) -> None:
        self._handlers.setdefault(channel, []).append(handler)

    def on_reconnect(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._reconnect_callbacks.append(callback)

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="bartender-listener")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._close()

    async def _close(self) -> None:
        self.live = False
        self.connected.clear()
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    def _dispatch(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        for handler in self._handlers.get(channel, ()):
            try:
                handler(payload)
            except Exception:  # one bad handler must not kill the others
                log.exception("NOTIFY handler for %s failed", channel)

    def _on_termination(self, conn: object) -> None:
        if conn is not self._conn:  # an old connection we already replaced or closed
            return
        log.warning("LISTEN connection lost")
        self.live = False
        self.connected.clear()
        self._lost.set()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self.dsn, server_settings={"application_name": self.application_name}
        )
        conn.add_termination_listener(self._on_termination)
        for channel in self._handlers:
            await conn.add_listener(channel, self._dispatch)
        self._conn = conn
        self.generation += 1
        self._lost.clear()
        self.live = True
        self.connected.set()

    async def _supervise(self) -> None:
        while True:
            await self._lost.wait()
            await self._close()
            delay = self._retry_s
            while True:
                await asyncio.sleep(delay)
                try:
                    await self._connect()
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    delay = min(delay * 2, self._max_retry_s)
                    log.warning("LISTEN reconnect failed (%s); retrying in %.1fs", exc, delay)
            log.info("LISTEN connection restored")
            for callback in self._reconnect_callbacks:
                try:
                    await callback()
                except Exception:
                    log.exception("resynchronisation after reconnect failed")
