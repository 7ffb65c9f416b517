"""What N app processes share through Redis so that they behave as one /ws server.

- Heartbeats: every instance writes, once per tick, a hash of its per-bar socket counts and
  its pressure (event-loop lag, send backlog) that expires unless refreshed; every instance
  reads the others' to know a bar's cluster-wide socket count (the 4429 cap, the policy).
- Modes: the leader (the live instance with the smallest id) decides push/poll for every bar
  and stores the bars in poll as expiring keys; each change is also PUBLISHed so the other
  instances tell their sockets at once (the keys are the backstop for a missed message).
- The per-bar cap: a subscribe takes its place atomically (a script sums the bar's sockets
  in the hashes of the instances that are alive and adds one to ours), so sockets arriving
  on several instances at once cannot all pass. "Alive" is what Redis itself sees: each
  instance names its connections, and a process killed with -9 loses them at once, so its
  sockets stop counting immediately (its heartbeat would take seconds to expire).
- History: a short per-bar sorted set of recent stock frames (score = seq) so an instance that
  never saw a bar can still replay `since` for a client that reconnects to it.

Redis is an accelerator, never the truth: when it is down every call here fails fast, the
hub falls back to what its own process knows (PostgreSQL still orders and delivers every
change) and this link reconnects by itself.

We use redis-py's asyncio pub/sub directly rather than `broadcaster`: broadcaster 0.3.1's
Redis backend delivers nothing with redis-py 8 (it marks itself subscribed before the
SUBSCRIBE completes) and its listener dies for good on the first connection error, which is
exactly the Redis-down case this link must survive.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("bartender.cluster")

PREFIX = "bt:rt:"
INSTANCES = PREFIX + "instances"
MODE_CHANNEL = PREFIX + "mode"
PRESSURE_LAG, PRESSURE_BACKLOG = "_lag_ms", "_backlog"


CLIENT_NAME_PREFIX = "bt-inst-"
SOCKETS_SYNC_TICKS = 30
SOCKETS_TTL_S = 60
# Count the bar's sockets on the live instances (KEYS: their socket sets for the bar, ours
# first); under the cap, add this socket (ARGV[1]) to ours.
RESERVE = """
local total = 0
for _, key in ipairs(KEYS) do
  total = total + redis.call('HLEN', key)
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


def _instance_key(instance_id: str) -> str:
    return f"{PREFIX}inst:{instance_id}"


def _sockets_key(instance_id: str, bar_id: uuid.UUID) -> str:
    return f"{PREFIX}socks:{instance_id}:{bar_id}"


def _mode_key(bar_id: uuid.UUID) -> str:
    return f"{PREFIX}mode:{bar_id}"


def _history_key(bar_id: uuid.UUID | str) -> str:
    return f"{PREFIX}hist:{bar_id}"


class ModeNotice(msgspec.Struct):
    bar_id: uuid.UUID
    mode: str
    poll_interval_ms: int


_encode = msgspec.json.Encoder().encode
_decode_mode = msgspec.json.Decoder(ModeNotice).decode

ModeListener = Callable[[uuid.UUID, str, int], None]


@dataclass
class ClusterView:
    """What the other live instances reported at the last tick."""

    leader: bool = True
    remote_counts: dict[uuid.UUID, int] = field(default_factory=dict)
    max_lag_ms: float = 0.0
    max_backlog: int = 0


class ClusterLink:
    """This instance's link to the others through Redis (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        instance_id: str,
        heartbeat_ttl_s: float,
        history_len: int,
        history_ttl_s: int,
    ) -> None:
        self.instance_id = instance_id
        # one immediate retry on a fresh connection: after a Redis restart the pooled
        # connections are dead, and the first command on each must not be lost
        self.redis = aioredis.from_url(
            url,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            decode_responses=True,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            client_name=CLIENT_NAME_PREFIX + instance_id,  # how the others see we are alive
        )
        self._reserve = self.redis.register_script(RESERVE)
        self._sync_in = 0  # ticks until this instance's socket sets are synced whole
        self._releases: set[asyncio.Task[None]] = set()
        self._synced_bars: set[uuid.UUID] = set()
        self.healthy = False
        self._heartbeat_ttl_s = heartbeat_ttl_s
        self._history_len = history_len
        self._history_ttl_s = history_ttl_s
        self._mode_listeners: list[ModeListener] = []
        self._pubsub_task: asyncio.Task[None] | None = None
        self._pending_history: list[tuple[str, int, str]] = []
        self._flushing: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def on_mode(self, listener: ModeListener) -> None:
        self._mode_listeners.append(listener)

    async def start(self) -> None:
        try:
            await self.redis.ping()
            self.healthy = True
        except (RedisError, OSError) as exc:  # serve anyway; the heartbeat retries
            self._failed("startup", exc)
        self._pubsub_task = asyncio.create_task(self._listen_modes(), name="bartender-redis-pubsub")

    async def stop(self) -> None:
        for task in (self._pubsub_task, self._flushing):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, RedisError, OSError):
                    pass
        try:
            await self.redis.delete(_instance_key(self.instance_id))
            await self.redis.zrem(INSTANCES, self.instance_id)
        except (RedisError, OSError):
            pass
        await self.redis.aclose()

    async def ping(self) -> None:
        """Readiness probe: raises when Redis does not answer."""
        await self.redis.ping()

    def _failed(self, what: str, exc: BaseException) -> None:
        self._sync_in = 0  # sockets came and went while Redis was away: sync them whole
        if self.healthy:
            log.warning("Redis unavailable (%s: %s); serving from this process alone", what, exc)
        self.healthy = False

    # -- heartbeats and the cluster view ----------------------------------------------
    async def exchange(
        self, counts: dict[uuid.UUID, int], lag_ms: float, backlog: int
    ) -> ClusterView | None:
        """Publish this instance's counts and pressure; read the others'. None: Redis down."""
        now = time.time()
        mine = {str(bar): str(n) for bar, n in counts.items() if n > 0}
        mine[PRESSURE_LAG] = str(round(lag_ms, 1))
        mine[PRESSURE_BACKLOG] = str(backlog)
        key = _instance_key(self.instance_id)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping=mine)  # type: ignore[arg-type]
                pipe.expire(key, max(1, round(self._heartbeat_ttl_s)))
                pipe.zadd(INSTANCES, {self.instance_id: now})
                pipe.zremrangebyscore(INSTANCES, "-inf", now - self._heartbeat_ttl_s)
                pipe.zrange(INSTANCES, 0, -1)
                *_, instances = await pipe.execute()
            others = [i for i in instances if i != self.instance_id]
            async with self.redis.pipeline(transaction=False) as pipe:
                for other in others:
                    pipe.hgetall(_instance_key(other))
                reports = await pipe.execute() if others else []
        except (RedisError, OSError) as exc:
            self._failed("heartbeat", exc)
            return None
        if not self.healthy:
            log.info("Redis available: sharing counts, modes and history")
        self.healthy = True
        view = ClusterView(leader=all(self.instance_id < other for other in others))
        for report in reports:
            for name, value in report.items():
                if name == PRESSURE_LAG:
                    view.max_lag_ms = max(view.max_lag_ms, float(value))
                elif name == PRESSURE_BACKLOG:
                    view.max_backlog = max(view.max_backlog, int(value))
                else:
                    bar = uuid.UUID(name)
                    count = view.remote_counts.get(bar, 0) + max(0, int(value))
                    view.remote_counts[bar] = count
        return view

    # -- the per-bar cap ------------------------------------------------------------------
    async def live_instances(self) -> list[str]:
        """Instances with a connection to Redis right now (ours included)."""
        clients = await self.redis.client_list()
        names = {c.get("name", "") for c in clients}
        return [n[len(CLIENT_NAME_PREFIX) :] for n in names if n.startswith(CLIENT_NAME_PREFIX)]

    async def reserve(self, bar_id: uuid.UUID, cap: int, socket_id: str) -> bool | None:
        """Add the socket to this instance's set for the bar if the live instances together
        hold fewer than `cap` sockets on it; None when Redis does not answer (the caller
        decides alone). Sets, not counters: a sync can drop what is stale without erasing a
        place taken meanwhile."""
        try:
            others = [i for i in await self.live_instances() if i != self.instance_id]
            keys = [_sockets_key(i, bar_id) for i in (self.instance_id, *others)]
            taken = await self._reserve(keys=keys, args=[socket_id, cap, SOCKETS_TTL_S])
        except (RedisError, OSError) as exc:
            self._failed("reserve", exc)
            return None
        return bool(taken)

    def release(self, bar_id: uuid.UUID, socket_id: str) -> None:
        """A socket left the bar: give its place back (best effort; the periodic sync
        removes one whose release was lost)."""
        if not self.healthy:
            return
        task = asyncio.create_task(self._release(bar_id, socket_id))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release(self, bar_id: uuid.UUID, socket_id: str) -> None:
        try:
            await self.redis.hdel(_sockets_key(self.instance_id, bar_id), socket_id)
        except (RedisError, OSError) as exc:
            self._failed("release", exc)

    async def sync_sockets(self, held: dict[uuid.UUID, set[str]]) -> None:
        """Once per tick: keep this instance's socket sets alive; now and then (and after
        Redis was away) make them exactly `held` (what this process holds, places being
        taken included), adding what is missing and removing only what is stale."""
        full = self._sync_in <= 0
        self._sync_in = SOCKETS_SYNC_TICKS if full else self._sync_in - 1
        bars = list(set(held) | (self._synced_bars if full else set()))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for bar in bars:
                    key = _sockets_key(self.instance_id, bar)
                    if full:
                        pipe.hkeys(key)
                    pipe.expire(key, SOCKETS_TTL_S)
                replies = await pipe.execute() if bars else []
            if full:
                stored = {bar: set(replies[2 * i]) for i, bar in enumerate(bars)}
                async with self.redis.pipeline(transaction=False) as pipe:
                    for bar in bars:
                        key = _sockets_key(self.instance_id, bar)
                        stale = stored[bar] - held.get(bar, set())
                        missing = held.get(bar, set()) - stored[bar]
                        if stale:
                            pipe.hdel(key, *stale)
                        if missing:
                            pipe.hset(key, mapping=dict.fromkeys(missing, 1))
                            pipe.expire(key, SOCKETS_TTL_S)
                    await pipe.execute()
                self._synced_bars = set(held)
        except (RedisError, OSError) as exc:
            self._failed("sockets", exc)

    # -- modes ---------------------------------------------------------------------------
    async def publish_modes(
        self, changes: list[ModeNotice], polling: list[ModeNotice], ttl_s: int
    ) -> None:
        """Leader only: store the bars in poll (refreshing their expiry) and announce changes."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for notice in polling:
                    pipe.set(_mode_key(notice.bar_id), f"{notice.poll_interval_ms}", ex=ttl_s)
                for notice in changes:
                    if notice.mode == "push":
                        pipe.delete(_mode_key(notice.bar_id))
                    pipe.publish(MODE_CHANNEL, _encode(notice))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("modes", exc)

    async def read_modes(self, bars: list[uuid.UUID]) -> dict[uuid.UUID, int] | None:
        """Followers: poll interval of each given bar the leader has in poll."""
        if not bars:
            return {}
        try:
            values = await self.redis.mget([_mode_key(bar) for bar in bars])
        except (RedisError, OSError) as exc:
            self._failed("modes", exc)
            return None
        return {bar: int(v) for bar, v in zip(bars, values, strict=True) if v is not None}

    async def _listen_modes(self) -> None:
        delay = 0.2
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(MODE_CHANNEL)
                delay = 0.2
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        notice = _decode_mode(message["data"])
                    except (msgspec.DecodeError, msgspec.ValidationError):
                        continue
                    for listener in self._mode_listeners:
                        listener(notice.bar_id, notice.mode, notice.poll_interval_ms)
            except (RedisError, OSError) as exc:
                self._failed("pub/sub", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                try:
                    await pubsub.aclose()
                except (RedisError, OSError):
                    pass

    # -- history ---------------------------------------------------------------------------
    def remember(self, bar_id: str, seq: int, frame: str) -> None:
        """Queue a stock frame for the shared history (written in batches, best effort)."""
        if len(self._pending_history) >= 10_000:
            return  # Redis is not keeping up: replay falls back to memory or a snapshot
        self._pending_history.append((bar_id, seq, frame))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_history())

    async def _flush_history(self) -> None:
        while self._pending_history:
            batch, self._pending_history = self._pending_history, []
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for bar_id, seq, frame in batch:
                        pipe.zadd(_history_key(bar_id), {frame: seq})
                    for bar_id in {bar for bar, _, _ in batch}:
                        pipe.zremrangebyrank(_history_key(bar_id), 0, -self._history_len - 1)
                        pipe.expire(_history_key(bar_id), self._history_ttl_s)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                self._failed("history", exc)
                self._pending_history.clear()
                return

    async def history_since(self, bar_id: uuid.UUID, since: int) -> list[tuple[int, str]]:
        """Stock frames of the bar after `since`, ascending (may have holes; [] when down)."""
        try:
            rows = await self.redis.zrangebyscore(
                _history_key(bar_id), f"({since}", "+inf", withscores=True
            )
        except (RedisError, OSError) as exc:
            self._failed("history", exc)
            return []
        return [(int(row[1]), str(row[0])) for row in rows]  # (frame, score) pairs
