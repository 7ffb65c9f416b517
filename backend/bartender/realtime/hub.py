"""The /ws hub of one process: sockets, per-bar rooms, fan-out, and who may stay subscribed.
(Reading one socket's frames is realtime/session.py.)

Delivery rules (docs/realtime.md):
- The stock feed hands us every committed stock transaction of every bar, in seq order per
  bar. Each is encoded once; every socket subscribed to the bar gets the same text frame.
- Each subscription keeps its frames in order without gap or duplicate
  (realtime/subscription.py); a resync replays from memory, Redis, the ledger or a snapshot
  (realtime/replay.py); each socket has a bounded send queue (realtime/connection.py); push
  or poll is decided per bar (realtime/switching.py).
- A socket lives as long as its access token and its login: it is closed with 4401 when the
  token expires or the login is revoked (logout, a reused refresh token), and a subscription
  ends (`forbidden`) when its member leaves the bar, also when that happened while LISTEN was
  reconnecting.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Coroutine

from bartender.accounts.tokens import Tokens
from bartender.bars.access import MembershipCache
from bartender.live import queries
from bartender.live.catalog import CatalogVersions
from bartender.live.feed import StockEvent, StockFeed
from bartender.live.modes import POLL, ModeBoard
from bartender.observe.metrics import NOTIFY_LAG, SLOW_CONSUMER_SNAPSHOTS
from bartender.realtime import protocol
from bartender.realtime.cluster import ClusterLink
from bartender.realtime.connection import Client
from bartender.realtime.control import Overrides
from bartender.realtime.policy import AdaptivePolicy, Pressure
from bartender.realtime.replay import Replay, stock_frame
from bartender.realtime.subscription import Frames, Outbox, Resync, Subscription, SubState
from bartender.realtime.switching import ModeSwitch
from bartender.settings import Settings

log = logging.getLogger("bartender.realtime")


class Hub:
    """All /ws sockets of this process (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        feed: StockFeed,
        catalog: CatalogVersions,
        board: ModeBoard,
        tokens: Tokens,
        memberships: MembershipCache,
        policy: AdaptivePolicy,
        cluster: ClusterLink | None,
    ) -> None:
        self.settings = settings
        self.send_queue_limit = settings.ws_send_queue
        self.feed = feed
        self.catalog = catalog
        self.board = board
        self.tokens = tokens
        self.memberships = memberships
        self.cluster = cluster
        self.replay = Replay(feed, cluster, ledger_span=settings.feed_history)
        self.switch = ModeSwitch(policy, board, cluster, settings.realtime_tick_s, self._tell_mode)
        self.overrides = Overrides(feed.pool, feed.listener, self.switch, lambda: self.rooms)
        self.rooms: dict[uuid.UUID, set[Subscription]] = {}
        self.clients: set[Client] = set()
        self.overflows = 0
        self.loop_lag_ms = 0.0
        self._ticker: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()  # tasks kept alive until done
        self._reserving: dict[uuid.UUID, set[str]] = {}  # places being taken in Redis
        self.stopping = False
        feed.subscribe(self._on_stock)
        listener = feed.listener
        listener.on_reconnect(self._after_listen_reconnect)
        # after the membership cache's own handler (registered first): it reads fresh roles
        listener.on("bt_membership", self._on_membership_change)
        listener.on("bt_session", self._on_session_revoked)
        catalog.subscribe(self._on_catalog)
        if cluster is not None:
            cluster.on_mode(self.switch.follow)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        await self.overrides.load()  # the operator's switch holds from the first socket on
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

    def in_background(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def close_soon(self, client: Client, code: int, reason: str) -> None:
        self.in_background(client.close(code, reason))

    # -- what the policy, the metrics and the tests read -------------------------------------
    def connections(self, bar_id: uuid.UUID) -> int:
        """Sockets on the bar, this process and the others (as of their last heartbeat)."""
        return len(self.rooms.get(bar_id, ())) + self.switch.remote_counts.get(bar_id, 0)

    def backlog(self) -> int:
        return sum(len(c.queue) for c in self.clients if c.queue)

    def stats(self) -> dict[str, int]:
        """Figures for the metrics (observe/): this process's sockets, bars and queues."""
        per_bar = [len(subs) for subs in self.rooms.values()]
        modes = [self.board.get(bar)[0] for bar in self.rooms]
        return {
            "connections": len(self.clients),
            "max_bar_connections": max(per_bar, default=0),
            "bars_over_threshold": sum(n > self.settings.ws_bar_alert_sockets for n in per_bar),
            "bars_push": len(modes) - modes.count(POLL),
            "bars_poll": modes.count(POLL),
            "send_queue_depth_max": max((len(c.queue) for c in self.clients if c.queue), default=0),
        }

    # -- subscriptions (realtime/session.py reads the frames) -----------------------------
    async def subscribe(self, client: Client, message: protocol.Subscribe) -> bool:
        """Subscribe (or re-subscribe) the socket to a bar; False when refused (`forbidden`).
        Re-subscribing replays from the given `since` (the client may have lost what this
        socket sent), never doubling a frame still queued."""
        bar_id = message.bar_id
        role = await self.memberships.role(self.feed.pool, client.user_id, bar_id)
        if role is None:
            client.enqueue(protocol.forbidden(bar_id))
            return False
        await self.catalog.seq(bar_id)  # warm: `mode` messages carry it
        replacing = bar_id in client.subs  # a re-subscribe keeps its place
        if not replacing and not await self._take_place(bar_id, _socket_id(client)):
            await client.close(protocol.CLOSE_TOO_MANY, "too many connections for this bar")
            return True
        if client.closed:  # went away while the place was taken
            if not replacing and self.cluster is not None:
                self.cluster.release(bar_id, _socket_id(client))
            return True
        self.unsubscribe(client, bar_id, release=False)
        sub = Subscription(client, bar_id, last_seq=message.since)
        self.rooms.setdefault(bar_id, set()).add(sub)
        client.subs[bar_id] = sub
        client.resync(sub, snapshot=message.since is None, then_mode=True)
        return True

    async def _take_place(self, bar_id: uuid.UUID, socket_id: str) -> bool:
        """Whether one more socket fits the bar's cap (BARTENDER_WS_MAX_PER_BAR, counted over
        every instance). The caller adds the subscription with no await after this: sockets
        arriving together cannot all pass before any of them is counted."""
        cap = self.settings.ws_max_connections_per_bar
        if self.cluster is not None and self.cluster.healthy:
            # atomic across instances; counted in this process's sync while it is pending
            reserving = self._reserving.setdefault(bar_id, set())
            reserving.add(socket_id)
            try:
                taken = await self.cluster.reserve(bar_id, cap, socket_id)
            finally:
                reserving.discard(socket_id)
                if not reserving:
                    del self._reserving[bar_id]
            if taken is not None:
                return taken and len(self.rooms.get(bar_id, ())) < cap
        # alone, or Redis is down: this process's sockets, plus the others' as last reported
        return self.connections(bar_id) < cap

    def unsubscribe(self, client: Outbox, bar_id: uuid.UUID, *, release: bool = True) -> None:
        sub = client.subs.pop(bar_id, None)
        if sub is None:
            return
        client.drop_bar(bar_id)
        if release and self.cluster is not None:
            self.cluster.release(bar_id, _socket_id(client))
        room = self.rooms.get(bar_id)
        if room is not None:
            room.discard(sub)
            if not room:
                del self.rooms[bar_id]

    # -- what a socket's queue asks of the hub -----------------------------------------------
    async def catch_up(self, marker: Resync) -> Frames:
        """Frames (with their seq) that bring a subscription from its last seq to live."""
        sub = marker.sub
        if sub.client.subs.get(sub.bar_id) is not sub:
            return []  # unsubscribed or replaced meanwhile
        sub.start_loading()
        try:
            frames = await self.replay.frames_since(sub, force_snapshot=marker.snapshot)
        except Exception:
            log.exception("catch-up of bar %s failed", sub.bar_id)
            sub.state, sub.buffer = SubState.PENDING, None
            sub.client.enqueue(Resync(sub, snapshot=True, then_mode=marker.then_mode), sub.bar_id)
            await asyncio.sleep(0.5)  # the database is likely away: do not spin
            return []
        if marker.then_mode:
            mode, interval = self.board.get(sub.bar_id)
            frames.append(
                (protocol.mode(sub.bar_id, mode, interval, self.catalog.known(sub.bar_id)), None)
            )
        return frames

    def overflowed(self, client: Client, *, stalled: bool) -> None:
        self.overflows += 1
        if stalled:
            self.close_soon(client, protocol.CLOSE_POLICY, "too slow: send queue overflow")
        else:
            SLOW_CONSUMER_SNAPSHOTS.inc()

    # -- who may stay ---------------------------------------------------------------------------
    async def _after_listen_reconnect(self) -> None:
        """LISTEN came back. What was NOTIFYed meanwhile is lost: sockets behind the database
        catch up now (not at the next sale), and every subscription's membership is checked
        again (a member removed meanwhile stops receiving the bar)."""
        for bar_id, room in list(self.rooms.items()):
            for user_id in {sub.client.user_id for sub in room}:
                await self._recheck_member(bar_id, user_id)
            room = self.rooms.get(bar_id, set())
            if not room or self.board.get(bar_id)[0] == POLL:
                continue  # its sockets poll; the way back to push catches them up
            db_seq = await queries.bar_seq(self.feed.pool, bar_id)
            for sub in list(room):
                behind = db_seq is not None and (sub.last_seq or 0) < db_seq
                if sub.state is SubState.LIVE and behind:
                    sub.client.resync(sub)

    def _on_membership_change(self, payload: str) -> None:
        bar, _, user = payload.partition(":")
        try:
            bar_id, user_id = uuid.UUID(bar), uuid.UUID(user)
        except ValueError:
            return
        room = self.rooms.get(bar_id)
        if room is not None and any(sub.client.user_id == user_id for sub in room):
            self.in_background(self._recheck_member(bar_id, user_id))

    async def _recheck_member(self, bar_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """A member removed from a bar stops receiving it at once (`forbidden`, socket open)."""
        if await self.memberships.role(self.feed.pool, user_id, bar_id) is not None:
            return
        for sub in list(self.rooms.get(bar_id, ())):
            client = sub.client
            if client.user_id == user_id:
                self.unsubscribe(client, bar_id)
                client.enqueue(protocol.forbidden(bar_id))

    def _close_expired(self) -> None:
        """Sockets whose access token ended: 4401 (one sweep per tick costs less memory
        than a timer per socket; a tick is 1 s)."""
        now = time.time()
        for client in [c for c in self.clients if c.expires_at <= now]:
            self.close_soon(client, protocol.CLOSE_UNAUTHENTICATED, "token expired")

    def _on_session_revoked(self, session_id: str) -> None:
        """A login was revoked (logout, a reused refresh token): its sockets end with 4401."""
        for client in list(self.clients):
            if client.session_id == session_id:
                self.close_soon(client, protocol.CLOSE_UNAUTHENTICATED, "login revoked")

    # -- fan-out -----------------------------------------------------------------------------
    def _on_stock(self, event: StockEvent) -> None:
        bar_id = uuid.UUID(event.bar_id)
        self.switch.count_event(bar_id)
        room = self.rooms.get(bar_id)
        if room is None and self.cluster is None:
            return
        frame = stock_frame(event)
        if self.cluster is not None and self.cluster.healthy:
            self.cluster.remember(event.bar_id, event.seq, frame)
        if room is None:
            return
        if self.board.get(bar_id)[0] != POLL:  # in poll: subscriptions keep their last seq
            for sub in room:
                sub.offer(event.seq, frame)
        if event.received_at:
            NOTIFY_LAG.observe(time.monotonic() - event.received_at)

    def _on_catalog(self, bar_id: uuid.UUID, catalog_seq: int, product_json: str) -> None:
        room = self.rooms.get(bar_id)
        if room is None:
            return
        frame = protocol.catalog(str(bar_id), catalog_seq, product_json)
        for sub in room:
            sub.client.enqueue(frame)

    # -- push / poll -------------------------------------------------------------------------
    def _tell_mode(self, bar_id: uuid.UUID, mode: str, interval: int, back_to_push: bool) -> None:
        frame = protocol.mode(bar_id, mode, interval, self.catalog.known(bar_id))
        for sub in self.rooms.get(bar_id, ()):
            sub.client.enqueue(frame)
            if back_to_push and sub.state is SubState.LIVE:
                sub.client.resync(sub)  # what was not pushed while polling, or a snapshot

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
                await self.tick()
            except Exception:
                log.exception("realtime tick failed")

    async def tick(self) -> None:
        self._close_expired()
        counts = {bar: len(subs) for bar, subs in self.rooms.items()}
        await self.switch.tick(counts, Pressure(self.loop_lag_ms, self.backlog()))
        if self.cluster is not None and self.cluster.healthy:
            held = {
                bar: {_socket_id(sub.client) for sub in subs} for bar, subs in self.rooms.items()
            }
            for bar, pending in self._reserving.items():
                held.setdefault(bar, set()).update(pending)
            await self.cluster.sync_sockets(held)


def _socket_id(client: Outbox) -> str:
    """This socket's name in the shared per-bar socket sets (unique while it is open)."""
    return f"{id(client):x}"
