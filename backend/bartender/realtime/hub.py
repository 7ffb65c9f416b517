"""The /ws hub of one process: sockets, per-bar rooms, ordered delivery, push/poll.

Delivery rules (docs/realtime.md):
- The stock feed hands us every committed stock transaction of every bar, in seq order per
  bar. Each is encoded once; every socket subscribed to the bar gets the same text frame.
- Each subscription remembers the last seq it queued. It is LIVE (the next seq is queued, an
  older one dropped, a jump triggers a resync), PENDING (a resync is queued: live frames are
  dropped, the resync will cover them) or LOADING (the resync is reading history or a
  snapshot: live frames are buffered and merged by seq). That is what keeps a socket's frames
  of a bar strictly in order, without gap or duplicate, even when NOTIFYs arrive mid-replay.
- A resync sends the missed frames from this process's history, else from the Redis history,
  else (a short gap) from the PostgreSQL ledger, else one snapshot. Subscribing is a resync
  followed by a `mode` message.
- Each socket has a bounded send queue drained by a writer task that exists only while there
  is something to send (idle sockets cost no task). A socket that falls `ws_send_queue` frames
  behind loses its queued stock frames and gets one snapshot per bar instead; one that stays
  stuck through several such overflows is closed with 1008.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

import msgspec
from litestar.types import Receive, Send

from bartender.accounts.tokens import Tokens
from bartender.bars.access import MembershipCache
from bartender.errors import Unauthenticated
from bartender.realtime import protocol
from bartender.realtime.catalog import CatalogVersions
from bartender.realtime.cluster import ClusterLink, ModeNotice
from bartender.realtime.policy import POLL, PUSH, AdaptivePolicy, BarLoad, BarMode, Pressure
from bartender.settings import Settings
from bartender.stock import service
from bartender.stock.feed import BAR_SEQ, LEDGER_RANGE, StockEvent, StockFeed

log = logging.getLogger("bartender.realtime")

LIVE, PENDING, LOADING = 0, 1, 2
BAD_FRAMES_PER_MINUTE = 20  # contract rule 6
STALLED_OVERFLOWS = 3  # overflows without one frame sent in between: close 1008
MODE_KEY_TTL_S = 30


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


@dataclass(slots=True, eq=False)
class Subscription:
    client: Client
    bar_id: uuid.UUID
    last_seq: int | None
    state: int = PENDING
    buffer: list[tuple[int, str]] | None = None
    # the seq of the last stock message (or snapshot) handed to the socket: re-subscribing
    # never replays below it (never doubled messages)
    sent_seq: int | None = None

    def offer(self, seq: int, frame: str) -> None:
        if self.state == LIVE:
            assert self.last_seq is not None
            if seq <= self.last_seq:
                return
            if seq == self.last_seq + 1:
                self.last_seq = seq
                self.client.enqueue(frame, self.bar_id, seq)
            else:  # a transaction we never saw: catch up from history or a snapshot
                self.client.resync(self)
        elif self.state == LOADING:
            assert self.buffer is not None
            self.buffer.append((seq, frame))


@dataclass(slots=True, frozen=True)
class Resync:
    """Queue marker: bring `sub` up to date here, in queue order (then send `mode`)."""

    sub: Subscription
    snapshot: bool = False
    then_mode: bool = False


class Client:
    """One authenticated socket: its subscriptions and its bounded send queue."""

    __slots__ = (
        "socket",
        "hub",
        "user_id",
        "subs",
        "queue",
        "writer",
        "closed",
        "stalled_overflows",
    )

    def __init__(self, socket: AsgiSocket, hub: Hub, user_id: uuid.UUID) -> None:
        self.socket = socket
        self.hub = hub
        self.user_id = user_id
        self.subs: dict[uuid.UUID, Subscription] = {}
        # (frame or Resync, the bar it belongs to, its seq); created on first use
        self.queue: deque[tuple[str | Resync, uuid.UUID | None, int | None]] | None = None
        self.writer: asyncio.Task[None] | None = None
        self.closed = False
        self.stalled_overflows = 0

    def enqueue(
        self, item: str | Resync, bar_id: uuid.UUID | None = None, seq: int | None = None
    ) -> None:
        if self.closed:
            return
        if self.queue is None:
            self.queue = deque()
        self.queue.append((item, bar_id, seq))
        if len(self.queue) > self.hub.settings.ws_send_queue:
            self._overflow()
        if self.writer is None and not self.closed:
            self.writer = asyncio.create_task(self._write())

    def resync(self, sub: Subscription, *, snapshot: bool = False, then_mode: bool = False) -> None:
        sub.state = PENDING
        self.enqueue(Resync(sub, snapshot=snapshot, then_mode=then_mode), sub.bar_id)

    def drop_bar(self, bar_id: uuid.UUID) -> None:
        """Forget queued frames of a bar (unsubscribed or re-subscribed: never doubled)."""
        if self.queue:
            self.queue = deque(entry for entry in self.queue if entry[1] != bar_id)

    def _overflow(self) -> None:
        assert self.queue is not None
        self.stalled_overflows += 1
        self.hub.overflows += 1
        if self.stalled_overflows >= STALLED_OVERFLOWS:
            self.hub.close_soon(self, protocol.CLOSE_POLICY, "too slow: send queue overflow")
            return
        behind = {bar for _item, bar, _seq in self.queue if bar is not None}
        # keep what is not stock (mode, catalog, pong...), replace stock by one snapshot per bar
        self.queue = deque(
            entry for entry in self.queue if entry[1] is None or entry[1] not in behind
        )
        for bar_id in behind:
            sub = self.subs.get(bar_id)
            if sub is not None:
                sub.state = PENDING
                self.queue.append((Resync(sub, snapshot=True), bar_id, None))

    async def _write(self) -> None:
        try:
            while self.queue:
                item, bar_id, seq = self.queue.popleft()
                if isinstance(item, Resync):
                    for frame, frame_seq in await self.hub.catch_up(item):
                        if self.subs.get(item.sub.bar_id) is not item.sub:
                            break  # re-subscribed meanwhile: the new one replays
                        if frame_seq is not None:
                            item.sub.sent_seq = frame_seq
                        await self.socket.send({"type": "websocket.send", "text": frame})
                else:
                    sub = self.subs.get(bar_id) if bar_id is not None else None
                    if sub is not None and seq is not None:
                        sub.sent_seq = seq
                    await self.socket.send({"type": "websocket.send", "text": item})
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


@dataclass(eq=False)
class Room:
    """The subscriptions of one bar in this process."""

    subs: set[Subscription] = field(default_factory=set)


class Hub:
    """All /ws sockets of this process: subscriptions by bar, fan-out of the stock feed and
    catalog changes, catch-ups, and the push/poll decision (shared through `cluster`)."""

    def __init__(
        self,
        settings: Settings,
        feed: StockFeed,
        catalog: CatalogVersions,
        tokens: Tokens,
        memberships: MembershipCache,
        policy: AdaptivePolicy,
        cluster: ClusterLink | None,
    ) -> None:
        self.settings = settings
        self.feed = feed
        self.catalog = catalog
        self.tokens = tokens
        self.memberships = memberships
        self.policy = policy
        self.cluster = cluster
        self.rooms: dict[uuid.UUID, Room] = {}
        self.clients: set[Client] = set()
        self.modes: dict[uuid.UUID, BarMode] = {}
        self.overflows = 0
        self.loop_lag_ms = 0.0
        self._events_this_tick: dict[uuid.UUID, int] = {}
        self._rates: dict[uuid.UUID, float] = {}
        self._remote_counts: dict[uuid.UUID, int] = {}
        self._leader = True
        self._ticker: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()  # background tasks kept alive
        self.stopping = False
        feed.subscribe(self._on_stock)
        feed.listener.on_reconnect(self._after_listen_reconnect)
        # after the membership cache's own handler (registered first): it reads fresh roles
        feed.listener.on("bt_membership", self._on_membership_change)
        catalog.subscribe(self._on_catalog)
        feed.mode_of = self.mode_of
        if cluster is not None:
            cluster.on_mode(self._on_remote_mode)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        if self.cluster is not None:
            await self.cluster.start()
        self._ticker = asyncio.create_task(self._tick_forever(), name="bartender-realtime-tick")

    async def stop(self) -> None:
        """Close every socket with 1012 (clients reconnect with `since` elsewhere)."""
        self.stopping = True
        await asyncio.gather(
            *(c.close(protocol.CLOSE_RESTARTING, "server restarting") for c in list(self.clients)),
            return_exceptions=True,
        )
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
        if self.cluster is not None:
            await self.cluster.stop()

    def close_soon(self, client: Client, code: int, reason: str) -> None:
        task = asyncio.create_task(client.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # -- what the polling endpoint and the policy read -----------------------------------
    def mode_of(self, bar_id: uuid.UUID) -> tuple[str, int]:
        state = self.modes.get(bar_id)
        if state is None:
            return PUSH, self.policy.config.default_interval_ms
        return state.mode, state.poll_interval_ms

    def connections(self, bar_id: uuid.UUID) -> int:
        room = self.rooms.get(bar_id)
        return (len(room.subs) if room else 0) + self._remote_counts.get(bar_id, 0)

    def backlog(self) -> int:
        return sum(len(c.queue) for c in self.clients if c.queue)

    # -- one socket ----------------------------------------------------------------------
    async def serve(self, socket: AsgiSocket) -> None:
        """Run one /ws connection from accept to close."""
        await socket.accept()
        if self.stopping:
            await socket.close(code=protocol.CLOSE_RESTARTING, reason="server restarting")
            return
        user_id = await self._authenticate(socket)
        if user_id is None:
            return
        client = Client(socket, self, user_id)
        self.clients.add(client)
        client.enqueue(protocol.ready(user_id))
        try:
            await self._read(client)
        finally:
            self.clients.discard(client)
            for sub in list(client.subs.values()):
                self._unsubscribe(client, sub.bar_id)
            client.closed = True
            if client.writer is not None:
                client.writer.cancel()

    async def _authenticate(self, socket: AsgiSocket) -> uuid.UUID | None:
        try:
            async with asyncio.timeout(self.settings.ws_auth_timeout_s):
                message = await socket.receive()
        except TimeoutError:
            await socket.close(code=protocol.CLOSE_AUTH_TIMEOUT, reason="no auth in time")
            return None
        if message["type"] != "websocket.receive":
            return None
        text = message.get("text")
        decoded = protocol.decode(text) if text is not None else None
        if not isinstance(decoded, protocol.Auth):
            await socket.close(code=protocol.CLOSE_UNAUTHENTICATED, reason="auth first")
            return None
        try:
            return self.tokens.user_id(decoded.token)
        except Unauthenticated:
            await socket.close(code=protocol.CLOSE_UNAUTHENTICATED, reason="bad token")
            return None

    async def _read(self, client: Client) -> None:
        bad_frames: deque[float] | None = None  # created on the first bad frame (memory)
        socket = client.socket
        while not client.closed:
            message = await socket.receive()
            if message["type"] != "websocket.receive":
                return
            text = message.get("text")
            decoded = protocol.decode(text) if text is not None else None
            if decoded is None or isinstance(decoded, protocol.Auth):
                now = time.monotonic()
                if bad_frames is None:
                    bad_frames = deque()
                bad_frames.append(now)
                while bad_frames and bad_frames[0] < now - 60:
                    bad_frames.popleft()
                if len(bad_frames) > BAD_FRAMES_PER_MINUTE:
                    await client.close(protocol.CLOSE_POLICY, "too many bad messages")
                    return
                client.enqueue(protocol.BAD_MESSAGE)
            elif isinstance(decoded, protocol.Ping):
                client.enqueue(protocol.pong(decoded.t))
            elif isinstance(decoded, protocol.Subscribe):
                if not await self._subscribe(client, decoded):
                    return
            else:
                self._unsubscribe(client, decoded.bar_id)

    async def _subscribe(self, client: Client, message: protocol.Subscribe) -> bool:
        """Subscribe (or re-subscribe) the socket to a bar; False when the socket was closed."""
        bar_id = message.bar_id
        role = await self.memberships.role(self.feed.pool, client.user_id, bar_id)
        if role is None:
            client.enqueue(protocol.forbidden(bar_id))
            return True
        if (
            bar_id not in client.subs
            and self.connections(bar_id) >= self.settings.ws_max_connections_per_bar
        ):
            await client.close(protocol.CLOSE_TOO_MANY, "too many connections for this bar")
            return False
        await self.catalog.seq(bar_id)  # warm: `mode` messages carry it
        since = message.since
        current = client.subs.get(bar_id)
        already = current.sent_seq if current is not None else None
        if since is not None and already is not None:
            since = max(since, already)  # what this socket already got is not sent again
        self._unsubscribe(client, bar_id)
        sub = Subscription(client, bar_id, last_seq=since, sent_seq=already)
        self.rooms.setdefault(bar_id, Room()).subs.add(sub)
        client.subs[bar_id] = sub
        client.resync(sub, snapshot=message.since is None, then_mode=True)
        return True

    def _unsubscribe(self, client: Client, bar_id: uuid.UUID) -> None:
        sub = client.subs.pop(bar_id, None)
        if sub is None:
            return
        client.drop_bar(bar_id)
        room = self.rooms.get(bar_id)
        if room is not None:
            room.subs.discard(sub)
            if not room.subs:
                del self.rooms[bar_id]

    # -- catching up -----------------------------------------------------------------------
    async def catch_up(self, marker: Resync) -> list[tuple[str, int | None]]:
        """Frames (with their seq) that bring a subscription from its last seq to live."""
        sub = marker.sub
        if sub.client.subs.get(sub.bar_id) is not sub:
            return []  # unsubscribed or replaced meanwhile
        sub.state, sub.buffer = LOADING, []
        try:
            frames = await self._frames_since(sub, force_snapshot=marker.snapshot)
        except Exception:
            log.exception("catch-up of bar %s failed", sub.bar_id)
            sub.state, sub.buffer = PENDING, None
            sub.client.enqueue(Resync(sub, snapshot=True, then_mode=marker.then_mode), sub.bar_id)
            await asyncio.sleep(0.5)  # the database is likely away: do not spin
            return []
        if marker.then_mode:
            mode, interval = self.mode_of(sub.bar_id)
            frames.append(
                (protocol.mode(sub.bar_id, mode, interval, self.catalog.known(sub.bar_id)), None)
            )
        return frames

    async def _frames_since(
        self, sub: Subscription, force_snapshot: bool
    ) -> list[tuple[str, int | None]]:
        bar_id, since = sub.bar_id, sub.last_seq
        if since is not None and not force_snapshot:
            state = await self.feed.state(bar_id)
            if since >= state.seq:
                # the client is where we are, or ahead of this instance: fine unless it is
                # ahead of the database too (then only a snapshot resynchronises it)
                db_seq = (
                    state.seq
                    if since == state.seq
                    else await self.feed.pool.fetchval(BAR_SEQ, bar_id)
                )
                if db_seq is not None and db_seq >= since:
                    frames = self._go_live(sub, since, {}, reach=0)
                    if frames is not None:
                        return frames
            else:
                known: dict[int, str] = {}
                events = state.events_since(since) if self.feed.live else None
                if events is not None:
                    known.update((e.seq, _frame(e)) for e in events)
                elif self.cluster is not None and self.cluster.healthy:
                    known.update(await self.cluster.history_since(bar_id, since))
                if since + 1 not in known and state.seq - since <= self.settings.feed_history:
                    # not in any history (a bar this process has not followed): the ledger
                    rows = await self.feed.pool.fetch(LEDGER_RANGE, bar_id, since, state.seq)
                    known.update(
                        (
                            row["seq"],
                            protocol.stock(
                                str(bar_id),
                                row["seq"],
                                msgspec.json.decode(row["changes"]),
                                row["cause"],
                            ),
                        )
                        for row in rows
                    )
                frames = self._go_live(sub, since, known, reach=state.seq)
                if frames is not None:
                    return frames
        async with self.feed.pool.acquire() as conn:
            seq, stock = await service.snapshot(conn, bar_id)
        rest = self._go_live(sub, seq, {}, reach=0)
        if rest is None:  # frames buffered meanwhile have a hole: catch up again from here
            sub.last_seq, sub.buffer = seq, None
            sub.client.resync(sub)
            rest = []
        return [(protocol.snapshot(bar_id, seq, stock.decode()), seq), *rest]

    @staticmethod
    def _go_live(
        sub: Subscription, since: int, known: dict[int, str], reach: int
    ) -> list[tuple[str, int | None]] | None:
        """Merge `known` frames with those buffered while loading and return the contiguous
        run after `since`, or None when it has a hole or stops short of `reach`. The
        subscription goes LIVE at the end of the run synchronously: no frame slips between."""
        for seq, frame in sub.buffer or ():
            known.setdefault(seq, frame)
        frames: list[tuple[str, int | None]] = []
        seq = since
        while seq + 1 in known:
            seq += 1
            frames.append((known[seq], seq))
        if seq < reach or any(s > seq for s in known):
            return None
        sub.last_seq, sub.state, sub.buffer = seq, LIVE, None
        return frames

    async def _after_listen_reconnect(self) -> None:
        """LISTEN came back: sockets behind the database catch up now, not at the next sale
        (the feed itself only replays bars it had in memory)."""
        for bar_id, room in list(self.rooms.items()):
            if self.mode_of(bar_id)[0] == POLL:
                continue  # its sockets poll; the way back to push catches them up
            db_seq = await self.feed.pool.fetchval(BAR_SEQ, bar_id)
            for sub in list(room.subs):
                if sub.state == LIVE and db_seq is not None and (sub.last_seq or 0) < db_seq:
                    sub.client.resync(sub)

    def _on_membership_change(self, payload: str) -> None:
        bar, _, user = payload.partition(":")
        try:
            bar_id, user_id = uuid.UUID(bar), uuid.UUID(user)
        except ValueError:
            return
        room = self.rooms.get(bar_id)
        if room is not None and any(sub.client.user_id == user_id for sub in room.subs):
            task = asyncio.create_task(self._recheck_member(bar_id, user_id))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _recheck_member(self, bar_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """A member removed from a bar stops receiving it at once (`forbidden`, socket open)."""
        if await self.memberships.role(self.feed.pool, user_id, bar_id) is not None:
            return
        room = self.rooms.get(bar_id)
        for sub in list(room.subs if room else ()):
            if sub.client.user_id == user_id:
                self._unsubscribe(sub.client, bar_id)
                sub.client.enqueue(protocol.forbidden(bar_id))

    # -- fan-out -----------------------------------------------------------------------------
    def _on_stock(self, event: StockEvent) -> None:
        bar_id = uuid.UUID(event.bar_id)
        self._events_this_tick[bar_id] = self._events_this_tick.get(bar_id, 0) + 1
        room = self.rooms.get(bar_id)
        if room is None and self.cluster is None:
            return
        frame = _frame(event)
        if self.cluster is not None and self.cluster.healthy:
            self.cluster.remember(event.bar_id, event.seq, frame)
        if room is None:
            return
        state = self.modes.get(bar_id)
        if state is not None and state.mode == POLL:
            return  # clients poll; subscriptions keep their last seq for the way back
        for sub in room.subs:
            sub.offer(event.seq, frame)

    def _on_catalog(self, bar_id: uuid.UUID, catalog_seq: int, product_json: str) -> None:
        room = self.rooms.get(bar_id)
        if room is None:
            return
        frame = protocol.catalog(str(bar_id), catalog_seq, product_json)
        for sub in room.subs:
            sub.client.enqueue(frame)

    # -- push / poll -------------------------------------------------------------------------
    def _apply_mode(self, bar_id: uuid.UUID, mode: str, interval: int) -> None:
        state = self.modes.get(bar_id)
        if state is None:
            state = self.modes[bar_id] = self.policy.fresh()
        if (state.mode, state.poll_interval_ms) == (mode, interval):
            return
        back_to_push = state.mode == POLL and mode == PUSH
        state.mode, state.poll_interval_ms = mode, interval
        log.info("bar %s now in %s (poll every %d ms)", bar_id, mode, interval)
        room = self.rooms.get(bar_id)
        if room is None:
            return
        frame = protocol.mode(bar_id, mode, interval, self.catalog.known(bar_id))
        for sub in room.subs:
            sub.client.enqueue(frame)
            if back_to_push and sub.state == LIVE:
                sub.client.resync(sub)  # what was not pushed while polling, or a snapshot

    def _on_remote_mode(self, bar_id: uuid.UUID, mode: str, interval: int) -> None:
        if not self._leader:
            self._apply_mode(bar_id, mode, interval)

    async def _tick_forever(self) -> None:
        loop = asyncio.get_running_loop()
        tick = self.settings.realtime_tick_s
        while True:
            started = loop.time()
            await asyncio.sleep(tick)
            lag_ms = max(0.0, (loop.time() - started - tick) * 1000)
            # smoothed, but a spike counts at once
            self.loop_lag_ms = max(lag_ms, self.loop_lag_ms * 0.5)
            try:
                await self.tick(tick)
            except Exception:
                log.exception("realtime tick failed")

    async def tick(self, tick_s: float) -> None:
        """Measure, share through Redis, decide push/poll (leader) or follow the leader."""
        counts = {bar: len(room.subs) for bar, room in self.rooms.items()}
        backlog = self.backlog()
        pressure = Pressure(self.loop_lag_ms, backlog)
        for bar in set(self._rates) | set(self._events_this_tick):
            rate = self._events_this_tick.get(bar, 0) / tick_s
            # fast attack, slower decay: a burst is seen at once, calm needs a few ticks
            smoothed = max(rate, 0.5 * self._rates.get(bar, 0.0) + 0.5 * rate)
            if smoothed < 0.01 and bar not in counts:
                self._rates.pop(bar, None)
            else:
                self._rates[bar] = smoothed
        self._events_this_tick = {}

        view = None
        if self.cluster is not None:
            view = await self.cluster.exchange(counts, self.loop_lag_ms, backlog)
        if view is None:  # alone (or Redis is down): this process decides for itself
            self._remote_counts, self._leader = {}, True
        else:
            self._remote_counts, self._leader = view.remote_counts, view.leader
            pressure = Pressure(
                max(pressure.loop_lag_ms, view.max_lag_ms), max(pressure.backlog, view.max_backlog)
            )

        if self._leader:
            await self._decide(counts, pressure, tick_s, shared=view is not None)
        elif self.cluster is not None:
            polling = await self.cluster.read_modes(list(self.rooms))
            if polling is not None:
                for bar in self.rooms:
                    interval = polling.get(bar)
                    if interval is None:
                        self._apply_mode(bar, PUSH, self.policy.config.default_interval_ms)
                    else:
                        self._apply_mode(bar, POLL, interval)

    async def _decide(
        self, counts: dict[uuid.UUID, int], pressure: Pressure, tick_s: float, shared: bool
    ) -> None:
        overloaded = self.policy.pressure_state(pressure)
        bars = (
            set(counts)
            | set(self._remote_counts)
            | {bar for bar, state in self.modes.items() if state.mode == POLL}
        )
        changes: list[ModeNotice] = []
        polling: list[ModeNotice] = []
        for bar in bars:
            state = self.modes.get(bar)
            if state is None:
                state = self.modes[bar] = self.policy.fresh()
            load = BarLoad(
                counts.get(bar, 0) + self._remote_counts.get(bar, 0), self._rates.get(bar, 0.0)
            )
            before = (state.mode, state.poll_interval_ms)
            if self.policy.step(state, load, overloaded, tick_s):
                mode, interval = state.mode, state.poll_interval_ms
                state.mode, state.poll_interval_ms = before  # let _apply_mode see the change
                self._apply_mode(bar, mode, interval)
                changes.append(ModeNotice(bar, mode, interval))
            if state.mode == POLL:
                polling.append(ModeNotice(bar, POLL, state.poll_interval_ms))
        for bar in [b for b, s in self.modes.items() if b not in bars and s.mode == PUSH]:
            del self.modes[bar]
        if shared and self.cluster is not None and (changes or polling):
            await self.cluster.publish_modes(changes, polling, MODE_KEY_TTL_S)


def _frame(event: StockEvent) -> str:
    return protocol.stock(event.bar_id, event.seq, event.changes or [], event.cause)
