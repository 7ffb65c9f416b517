"""Per-bar stock sequence and recent changes, kept in process and fed by LISTEN bt_stock.

This is what lets an unchanged poll answer without touching PostgreSQL, and what the
realtime hub replays from. Notifications are applied one at a time, in arrival order
(PostgreSQL sends them in commit order); a gap (a notification we never saw, or one without
its changes because it was too large) is filled from the movements ledger, so the history
of a bar stays contiguous. While LISTEN is down, `live` is False and callers read the
database instead of serving stale data.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
import msgspec

from bartender.db.listener import Listener
from bartender.live import queries

log = logging.getLogger("bartender.feed")


class Change(msgspec.Struct):
    product_id: str
    stock: int


class ItemLevel(msgspec.Struct):
    stock_item_id: str
    stock: int


class StockEvent(msgspec.Struct):
    """One committed stock transaction of one bar (the NOTIFY payload, changes filled in)."""

    bar_id: str
    seq: int
    cause: str
    changes: list[Change] | None = None
    # additive (issue 15): levels of the stock items it moved; filled with `changes`
    items: list[ItemLevel] | None = None
    # when this process received the NOTIFY (time.monotonic(); 0: read from the ledger)
    received_at: float = 0.0


@dataclass
class BarState:
    seq: int
    history: deque[StockEvent] = field(default_factory=deque)

    def changes_since(self, since: int) -> list[Change] | None:
        """Net changes after `since` (latest stock per product), or None if not covered."""
        if since >= self.seq:
            return []
        if not self.history or self.history[0].seq > since + 1:
            return None
        latest: dict[str, Change] = {}
        for event in self.history:
            if event.seq > since:
                for change in event.changes or ():
                    latest[change.product_id] = change
        return list(latest.values())

    def items_since(self, since: int) -> list[ItemLevel] | None:
        """Latest level per stock item moved after `since`, or None if not covered."""
        if since >= self.seq:
            return []
        if not self.history or self.history[0].seq > since + 1:
            return None
        latest: dict[str, ItemLevel] = {}
        for event in self.history:
            if event.seq > since:
                for level in event.items or ():
                    latest[level.stock_item_id] = level
        return list(latest.values())

    def events_since(self, since: int) -> list[StockEvent] | None:
        if since >= self.seq:
            return []
        if not self.history or self.history[0].seq > since + 1:
            return None
        return [e for e in self.history if e.seq > since]


Subscriber = Callable[[StockEvent], None]

_decode_event = msgspec.json.Decoder(StockEvent).decode
_decode_changes = msgspec.json.Decoder(list[Change]).decode
_decode_items = msgspec.json.Decoder(list[ItemLevel]).decode


class StockFeed:
    def __init__(self, pool: asyncpg.Pool, listener: Listener, history: int) -> None:
        self.pool = pool
        self.listener = listener
        self.history = history
        self.bars: dict[uuid.UUID, BarState] = {}
        # latest seq seen per bar, cached or not: closes the race with a first load
        self._latest: dict[uuid.UUID, int] = {}
        self._subscribers: list[Subscriber] = []
        # NOTIFY payloads with their arrival time; None asks for a resync after a reconnect
        self._queue: asyncio.Queue[tuple[str, float] | None] = asyncio.Queue()
        # last seq handed to subscribers per bar, cached or not (what `caught_up` waits for)
        self._done: dict[uuid.UUID, int] = {}
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._resyncing = False
        listener.on("bt_stock", self._received)
        listener.on_reconnect(self._resync_after_reconnect)

    @property
    def live(self) -> bool:
        """True when memory is known current: LISTEN is up and any resync after it is done."""
        return self.listener.live and not self._resyncing

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call `subscriber` with every event, in seq order per bar (the realtime hub)."""
        self._subscribers.append(subscriber)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bartender-stock-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def state(self, bar_id: uuid.UUID) -> BarState:
        """The bar's current state; no database query when warm and LISTEN is live."""
        known = self.bars.get(bar_id)
        if known is not None and self.live:
            return known
        seq = await queries.bar_seq(self.pool, bar_id)
        if seq is None:
            return BarState(seq=0)
        if not self.live:
            return BarState(seq=seq)  # uncached: we cannot know what we miss
        known = self.bars.get(bar_id)
        if known is None:
            known = self.bars[bar_id] = BarState(seq=seq, history=deque(maxlen=self.history))
        seq = max(seq, self._latest.get(bar_id, 0))
        if seq > known.seq:
            await self._fill(bar_id, known, seq)
        return known

    async def caught_up(self, bar_id: uuid.UUID, seq: int) -> None:
        """Return once this process has applied the bar's transaction `seq` and every one
        before it (by NOTIFY or from the ledger). Callers bound the wait with a timeout."""
        async with self._progress:
            await self._progress.wait_for(lambda: self._applied_seq(bar_id) >= seq)

    def _applied_seq(self, bar_id: uuid.UUID) -> int:
        state = self.bars.get(bar_id)
        return max(state.seq if state is not None else 0, self._done.get(bar_id, 0))

    def _received(self, payload: str) -> None:
        self._queue.put_nowait((payload, time.monotonic()))

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                try:
                    await self._resync_all()
                    self._resyncing = False
                except Exception:  # database unreachable: stay not-live, try again shortly
                    log.exception("stock feed resync failed; retrying")
                    await asyncio.sleep(1)
                    self._queue.put_nowait(None)
            else:
                payload, received_at = item
                try:
                    event = _decode_event(payload)
                    event.received_at = received_at
                    await self._apply(event)
                except Exception:
                    log.exception("could not apply stock notification %r", payload)
            async with self._progress:
                self._progress.notify_all()

    async def _apply(self, event: StockEvent) -> None:
        bar_id = uuid.UUID(event.bar_id)
        self._latest[bar_id] = max(event.seq, self._latest.get(bar_id, 0))
        state = self.bars.get(bar_id)
        if state is not None and event.seq <= state.seq:
            return  # already known (filled from the ledger)
        if state is not None and event.seq > state.seq + 1:
            await self._fill(bar_id, state, event.seq - 1)
        if event.changes is None:
            rows = await queries.ledger_range(self.pool, bar_id, event.seq - 1, event.seq)
            event.changes = _decode_changes(rows[0]["changes"]) if rows else []
            event.items = _decode_items(rows[0]["items"]) if rows else []
        self._record(bar_id, state, event)

    def _record(self, bar_id: uuid.UUID, state: BarState | None, event: StockEvent) -> None:
        if state is not None:
            state.history.append(event)
            state.seq = event.seq
        self._done[bar_id] = max(event.seq, self._done.get(bar_id, 0))
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("stock subscriber failed")

    async def _fill(self, bar_id: uuid.UUID, state: BarState, upto: int) -> None:
        """Replay committed transactions (state.seq, upto] from the ledger, in order."""
        rows = await queries.ledger_range(self.pool, bar_id, state.seq, upto)
        for row in rows:
            self._record(
                bar_id,
                state,
                StockEvent(
                    bar_id=str(bar_id),
                    seq=row["seq"],
                    cause=row["cause"],
                    changes=_decode_changes(row["changes"]),
                    items=_decode_items(row["items"]),
                ),
            )
        state.seq = max(state.seq, upto)

    async def _resync_after_reconnect(self) -> None:
        # until the resync ran, memory may miss what committed while LISTEN was down
        self._resyncing = True
        self._queue.put_nowait(None)  # resync in order with notifications that follow

    async def _resync_all(self) -> None:
        for bar_id, state in list(self.bars.items()):
            seq = await queries.bar_seq(self.pool, bar_id)
            if seq is not None and seq > state.seq:
                await self._fill(bar_id, state, seq)
