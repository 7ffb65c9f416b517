"""The outbox worker: one per app process, delivering alert pushes and webhook events.

Claiming: a row is taken with a session advisory lock held on one connection of this process
(the claim connection), not with a transaction held open during the HTTP attempt. So hundreds
of attempts can be in flight without one pooled connection each, N processes never send the
same row at once, and a row whose process dies mid-send is free again the moment PostgreSQL
sees that connection close. The outcome is written in a short transaction afterwards, then
the lock is released. Delivery is at least once: a process killed after the receiver answered
but before its commit sends again, with the same event id.

Ordering: only the oldest row of a destination (subscription or webhook) can be claimed, so
a webhook sees its events in order, across processes, retries included.

Fairness (a slow or failing endpoint delays only itself): each destination has at most one
attempt in flight, each bar at most `alerts_per_bar` in this process, and free slots are dealt
round-robin across bars (every bar's first due row, then every bar's second, ...), fresh rows
of a bar before its retries. A bar pointing 20 webhooks at a server that never answers holds
`alerts_per_bar` slots until their timeout; every other bar keeps flowing.

Wake-ups: NOTIFY bt_outbox (sent on commit by bt_after_stock_change), the end of a delivery,
the next scheduled retry, and a slow poll as the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import Counter

import aiohttp
import asyncpg
import msgspec

from bartender.alerts.delivery import Outcome, delivery_connector, send_push, send_webhook
from bartender.alerts.vapid import VapidKeys
from bartender.db.listener import Listener
from bartender.settings import Settings

log = logging.getLogger("bartender.alerts")

# Due rows that are the oldest of their destination and that no process is sending (their
# advisory lock is free: rows in flight elsewhere must not crowd out the rest), dealt
# round-robin across bars: a bar's `turn` counts what it already has in flight here ($2/$3);
# within a bar, rows to healthy destinations first (managers' pushes before webhooks), then
# retries and rows to webhooks that are failing.
CANDIDATES = """
WITH sending AS (
    SELECT objid::bigint AS lock_key FROM pg_locks
    WHERE locktype = 'advisory' AND classid = $6::int::oid AND objsubid = 2
), due AS (
    SELECT o.id, o.bar_id, (o.attempts > 0 OR w.failing_since IS NOT NULL) AS suspect,
           o.webhook_id IS NOT NULL AS webhook
    FROM outbox o
    LEFT JOIN webhooks w ON w.id = o.webhook_id
    WHERE o.next_attempt_at <= now()
      AND NOT (o.destination = ANY ($1::uuid[]))
      AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination AND e.id < o.id)
      AND (o.id & 2147483647) NOT IN (SELECT lock_key FROM sending)
), turns AS (
    SELECT d.id,
           coalesce(b.busy, 0)
           + row_number() OVER (PARTITION BY d.bar_id ORDER BY d.suspect, d.webhook, d.id) AS turn
    FROM due d
    LEFT JOIN unnest($2::uuid[], $3::int[]) AS b (bar_id, busy) ON b.bar_id = d.bar_id
)
SELECT id FROM turns WHERE turn <= $4 ORDER BY turn, id LIMIT $5
"""
# Advisory locks in the two-int keyspace (never the one-bigint keyspace of migrations):
# (class, row id folded into int4). Two live rows 2^31 ids apart would share a key: one
# of them waits a turn, nothing worse.
OUTBOX_LOCK_CLASS = 7_211_003
TRY_LOCK = "SELECT pg_try_advisory_lock($1, $2)"
UNLOCK = "SELECT pg_advisory_unlock($1, $2)"
# Re-read under the lock: another process may have delivered or rescheduled it meanwhile.
CLAIMED_ROW = """
SELECT o.id, o.bar_id, o.destination, o.subscription_id, o.webhook_id, o.event_id,
       o.event_type, o.payload::text AS payload, o.attempts,
       extract(epoch FROM now() - o.created_at)::float8 AS age_s,
       s.endpoint, s.p256dh, s.auth, w.url, w.secret
FROM outbox o
LEFT JOIN push_subscriptions s ON s.id = o.subscription_id
LEFT JOIN webhooks w ON w.id = o.webhook_id
WHERE o.id = $1 AND o.next_attempt_at <= now()
  AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination AND e.id < o.id)
"""
NEXT_RETRY_IN = """
SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 FROM outbox
WHERE next_attempt_at > now()
"""
DELETE_ROW = "DELETE FROM outbox WHERE id = $1"
WEBHOOK_HEALTHY = """
UPDATE webhooks SET failing_since = NULL, last_error = NULL
WHERE id = $1 AND failing_since IS NOT NULL
"""
# The push service forgot this browser: every bar's subscription of it goes (and its rows).
DELETE_ENDPOINT = "DELETE FROM push_subscriptions WHERE endpoint = $1"
# Later rows of the destination wait behind this one anyway; moving them too keeps the claim
# query from walking a failing webhook's backlog on every wake-up.
SCHEDULE_RETRY = """
WITH this AS (
    UPDATE outbox SET attempts = attempts + 1, last_error = $3,
                      next_attempt_at = now() + make_interval(secs => $4)
    WHERE id = $1
)
UPDATE outbox SET next_attempt_at = now() + make_interval(secs => $4)
WHERE destination = $2 AND id > $1 AND next_attempt_at < now() + make_interval(secs => $4)
"""
WEBHOOK_FAILED = """
UPDATE webhooks SET failing_since = COALESCE(failing_since, now()), last_error = $2
WHERE id = $1
RETURNING extract(epoch FROM now() - failing_since)::float8
"""
DEACTIVATE_WEBHOOK = """
WITH off AS (
    UPDATE webhooks SET active = false, deactivated_at = now() WHERE id = $1
)
DELETE FROM outbox WHERE webhook_id = $1
"""


# Bookkeeping transactions are a few statements each: a handful of connections keep up with
# any number of attempts in flight.
RECORD_POOL_SIZE = 3


class _Payload(msgspec.Struct):
    product_id: str = ""


class OutboxWorker:
    """Delivers outbox rows for this process; construct it before the listener starts."""

    def __init__(self, settings: Settings, listener: Listener, vapid: VapidKeys) -> None:
        self.settings = settings
        self.vapid = vapid
        self._wake = asyncio.Event()
        self._inflight: dict[uuid.UUID, asyncio.Task[None]] = {}  # by destination
        self._per_bar: Counter[uuid.UUID] = Counter()  # attempts in flight per bar
        self._pool: asyncpg.Pool | None = None
        # holds the advisory lock of every row in flight; one query at a time on it
        self._claim_conn: asyncpg.Connection | None = None
        self._claim_mutex = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        listener.on("bt_outbox", lambda _payload: self._wake.set())
        listener.on_reconnect(self._wake_async)

    async def _wake_async(self) -> None:
        self._wake.set()

    def _server_settings(self, name: str) -> dict[str, str]:
        return {
            "application_name": name,
            "timezone": "UTC",
            "statement_timeout": f"{self.settings.statement_timeout_ms}ms",
        }

    async def start(self) -> None:
        """Open its connections and HTTP session, then drain the outbox until stopped."""
        s = self.settings
        assert s.database_url
        # Its own small pool for the short bookkeeping transactions, so deliveries never
        # compete with the request path for connections.
        self._pool = await asyncpg.create_pool(
            s.database_url,
            min_size=0,
            max_size=RECORD_POOL_SIZE,
            server_settings=self._server_settings("bartender-outbox"),
        )
        # BARTENDER_ALLOW_HTTP_ENDPOINTS (local testing) also allows private addresses
        self._session = aiohttp.ClientSession(
            connector=delivery_connector(
                limit=s.alerts_concurrency * 2, public_only=not s.allow_http_endpoints
            ),
            trust_env=False,
        )
        self._task = asyncio.create_task(self._run(), name="bartender-outbox")

    async def stop(self) -> None:
        """Stop claiming; give attempts in flight the shutdown grace, then cancel them."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        pending = list(self._inflight.values())
        if pending:
            # let attempts in flight finish; what is cut short stays in the outbox
            _, late = await asyncio.wait(pending, timeout=self.settings.alerts_shutdown_grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._claim_conn is not None:  # releases whatever it still holds
            with contextlib.suppress(Exception):
                await self._claim_conn.close(timeout=2)
        if self._pool is not None:
            await self._pool.close()

    async def _run(self) -> None:
        poll = self.settings.alerts_poll_interval_s
        while True:
            self._wake.clear()
            wait_s = poll
            try:
                await self._claim_all()
                if len(self._inflight) < self.settings.alerts_concurrency:
                    wait_s = await self._next_retry_in(poll)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox unavailable (%s); retrying in %.0f s", exc, poll)
            except Exception:  # never let the worker die: the next poll tries again
                log.exception("outbox worker error; retrying in %.0f s", poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait_s)

    async def _next_retry_in(self, poll: float) -> float:
        assert self._pool is not None
        seconds = await self._pool.fetchval(NEXT_RETRY_IN)
        return poll if seconds is None else min(poll, max(0.01, seconds))

    async def _claim_connection(self) -> asyncpg.Connection:
        conn = self._claim_conn
        if conn is None or conn.is_closed():
            # a lost connection took its locks along: what it held may be sent twice
            assert self.settings.database_url
            conn = self._claim_conn = await asyncpg.connect(
                self.settings.database_url,
                server_settings=self._server_settings("bartender-outbox-claims"),
            )
        return conn

    async def _claim_all(self) -> None:
        """Start deliveries until every slot is busy or nothing more can be claimed."""
        s = self.settings
        while (free := s.alerts_concurrency - len(self._inflight)) > 0:
            async with self._claim_mutex:
                conn = await self._claim_connection()
                bars = list(self._per_bar)
                candidates = await conn.fetch(
                    CANDIDATES,
                    list(self._inflight),
                    bars,
                    [self._per_bar[b] for b in bars],
                    s.alerts_per_bar,
                    free,
                    OUTBOX_LOCK_CLASS,
                )
                claimed = 0
                for candidate in candidates:
                    row = await self._try_claim(conn, candidate["id"])
                    if row is not None:
                        self._per_bar[row["bar_id"]] += 1
                        self._inflight[row["destination"]] = asyncio.create_task(
                            self._deliver(conn, row), name=f"bartender-outbox-{row['id']}"
                        )
                        claimed += 1
            if claimed == 0:  # nothing due, or all of it taken by other processes
                return

    async def _try_claim(self, conn: asyncpg.Connection, row_id: int) -> asyncpg.Record | None:
        key = row_id & 0x7FFF_FFFF
        if not await conn.fetchval(TRY_LOCK, OUTBOX_LOCK_CLASS, key):
            return None  # another process is sending it
        row = await conn.fetchrow(CLAIMED_ROW, row_id)
        if row is None:  # delivered or rescheduled since the candidates were read
            await conn.fetchval(UNLOCK, OUTBOX_LOCK_CLASS, key)
        return row

    async def _release(self, conn: asyncpg.Connection, row_id: int) -> None:
        if conn.is_closed() or id(conn) != id(self._claim_conn):
            return  # that connection and its locks are gone already
        async with self._claim_mutex:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await conn.fetchval(UNLOCK, OUTBOX_LOCK_CLASS, row_id & 0x7FFF_FFFF)

    async def _deliver(self, claim_conn: asyncpg.Connection, row: asyncpg.Record) -> None:
        assert self._pool is not None
        try:
            outcome = await self._attempt(row)
            async with self._pool.acquire() as conn, conn.transaction():
                await self._record(conn, row, outcome)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox row %s: delivery bookkeeping failed; it stays queued", row["id"])
        finally:
            # after the outcome is committed: whoever claims it next sees it
            await self._release(claim_conn, row["id"])
            self._inflight.pop(row["destination"], None)
            self._per_bar[row["bar_id"]] -= 1
            if self._per_bar[row["bar_id"]] <= 0:
                del self._per_bar[row["bar_id"]]
            self._wake.set()

    async def _attempt(self, row: asyncpg.Record) -> Outcome:
        assert self._session is not None
        s = self.settings
        if row["subscription_id"] is not None:
            return await send_push(
                self._session,
                self.vapid,
                endpoint=row["endpoint"],
                p256dh=row["p256dh"],
                auth=row["auth"],
                payload=row["payload"].encode(),
                kind=row["event_type"],
                product_id=msgspec.json.decode(row["payload"], type=_Payload).product_id,
                ttl_s=s.push_ttl_s,
                timeout_s=s.alerts_attempt_timeout_s,
                public_only=not s.allow_http_endpoints,
            )
        return await send_webhook(
            self._session,
            url=row["url"],
            secret=row["secret"],
            event_id=str(row["event_id"]),
            event_type=row["event_type"],
            body=row["payload"].encode(),
            timeout_s=s.alerts_attempt_timeout_s,
            public_only=not s.allow_http_endpoints,
        )

    def _backoff_s(self, attempts: int, retry_after_s: float | None) -> float:
        s = self.settings
        delay = min(s.alerts_retry_max_s, s.alerts_retry_base_s * 2 ** min(attempts, 30))
        delay *= random.uniform(0.8, 1.2)  # instances recovering together do not stampede
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, 3600.0))
        return delay

    async def _record(
        self, conn: asyncpg.Connection, row: asyncpg.Record, outcome: Outcome
    ) -> None:
        """Write what the attempt means, in the transaction that holds the row."""
        row_id, is_push = row["id"], row["subscription_id"] is not None
        where = row["endpoint"] if is_push else row["url"]
        if outcome.delivered:
            await conn.execute(DELETE_ROW, row_id)
            if not is_push:
                await conn.execute(WEBHOOK_HEALTHY, row["webhook_id"])
            return
        if outcome.gone:
            log.info("push endpoint gone (%s); unsubscribing %s", outcome.error, where)
            await conn.execute(DELETE_ENDPOINT, row["endpoint"])
            return
        if outcome.permanent or (is_push and row["age_s"] >= self.settings.push_ttl_s):
            log.warning(
                "dropping %s for %s after %d attempts: %s",
                row["event_type"],
                where,
                row["attempts"] + 1,
                outcome.error,
            )
            await conn.execute(DELETE_ROW, row_id)
            return
        if not is_push:
            failing_for = await conn.fetchval(WEBHOOK_FAILED, row["webhook_id"], outcome.error)
            if failing_for is not None and failing_for >= self.settings.webhook_retry_window_s:
                log.warning(
                    "webhook %s failing for %.0f s; deactivated (%s)",
                    where,
                    failing_for,
                    outcome.error,
                )
                await conn.execute(DEACTIVATE_WEBHOOK, row["webhook_id"])
                return
        delay = self._backoff_s(row["attempts"], outcome.retry_after_s)
        log.info(
            "%s to %s failed (%s); retry %d in %.1f s",
            row["event_type"],
            where,
            outcome.error,
            row["attempts"] + 1,
            delay,
        )
        await conn.execute(SCHEDULE_RETRY, row_id, row["destination"], outcome.error, delay)
