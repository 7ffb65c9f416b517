"""The outbox worker: one per app process, delivering alert pushes and webhook events.

Each delivery runs in its own transaction that holds the outbox row (`FOR UPDATE SKIP LOCKED`)
while the HTTP attempt is in flight, then deletes it (delivered) or schedules the retry. So N
processes never send the same row at once, and a row whose process dies mid-send is unlocked
by PostgreSQL and taken by another process. Delivery is at least once: a process killed after
the receiver answered but before its commit sends again, with the same event id.

Ordering: only the oldest row of a destination (subscription or webhook) can be claimed, so
a webhook sees its events in order, across processes, retries included. Each destination has
at most one attempt in flight, so a receiver that hangs holds one slot until its timeout and
every other destination keeps flowing.

Wake-ups: NOTIFY bt_outbox (sent on commit by bt_after_stock_change), the end of a delivery,
the next scheduled retry, and a slow poll as the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid

import aiohttp
import asyncpg
import msgspec
from asyncpg.transaction import Transaction

from bartender.alerts.delivery import Outcome, PublicResolver, send_push, send_webhook
from bartender.alerts.vapid import VapidKeys
from bartender.db.listener import Listener
from bartender.settings import Settings

log = logging.getLogger("bartender.alerts")

# The oldest undelivered row of a destination nobody is delivering to right now.
CLAIM = """
SELECT o.id, o.destination, o.subscription_id, o.webhook_id, o.event_id, o.event_type,
       o.payload::text AS payload, o.attempts,
       extract(epoch FROM now() - o.created_at)::float8 AS age_s,
       s.endpoint, s.p256dh, s.auth, w.url, w.secret
FROM outbox o
LEFT JOIN push_subscriptions s ON s.id = o.subscription_id
LEFT JOIN webhooks w ON w.id = o.webhook_id
WHERE o.next_attempt_at <= now()
  AND NOT (o.destination = ANY ($1::uuid[]))
  AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination AND e.id < o.id)
ORDER BY o.id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED
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


class _Payload(msgspec.Struct):
    product_id: str = ""


class OutboxWorker:
    """Delivers outbox rows for this process; construct it before the listener starts."""

    def __init__(self, settings: Settings, listener: Listener, vapid: VapidKeys) -> None:
        self.settings = settings
        self.vapid = vapid
        self._wake = asyncio.Event()
        self._inflight: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._pool: asyncpg.Pool | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        listener.on("bt_outbox", lambda _payload: self._wake.set())
        listener.on_reconnect(self._wake_async)

    async def _wake_async(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """Open its pool and HTTP session, then drain the outbox until stopped."""
        s = self.settings
        assert s.database_url
        # Its own small pool: a delivery holds a connection for up to the attempt timeout,
        # which must never starve the request path.
        self._pool = await asyncpg.create_pool(
            s.database_url,
            min_size=0,
            max_size=s.alerts_concurrency,
            server_settings={
                "application_name": "bartender-outbox",
                "timezone": "UTC",
                "statement_timeout": f"{s.statement_timeout_ms}ms",
                # a wedged worker must not hold its rows forever
                "idle_in_transaction_session_timeout": f"{int((s.alerts_attempt_timeout_s + 30) * 1000)}ms",
            },
        )
        # BARTENDER_ALLOW_HTTP_ENDPOINTS (local testing) also allows private addresses
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=s.alerts_concurrency * 2,
                resolver=None if s.allow_http_endpoints else PublicResolver(),
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

    async def _claim_all(self) -> None:
        """Start deliveries until every slot is busy or nothing is ready."""
        assert self._pool is not None
        while len(self._inflight) < self.settings.alerts_concurrency:
            conn = await self._pool.acquire()
            tx = conn.transaction()
            try:
                await tx.start()
                row = await conn.fetchrow(CLAIM, list(self._inflight))
            except BaseException:
                await self._pool.release(conn)
                raise
            if row is None:
                await tx.rollback()
                await self._pool.release(conn)
                return
            destination: uuid.UUID = row["destination"]
            self._inflight[destination] = asyncio.create_task(
                self._deliver(conn, tx, row), name=f"bartender-outbox-{row['id']}"
            )

    async def _deliver(
        self, conn: asyncpg.Connection, tx: Transaction, row: asyncpg.Record
    ) -> None:
        assert self._pool is not None
        committed = False
        try:
            outcome = await self._attempt(row)
            await self._record(conn, row, outcome)
            await tx.commit()
            committed = True
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox row %s: delivery bookkeeping failed; it stays queued", row["id"])
        finally:
            if not committed:  # give the row back to whoever claims it next
                with contextlib.suppress(Exception):
                    await tx.rollback()
            await self._pool.release(conn)
            self._inflight.pop(row["destination"], None)
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
