"""GET /metrics: the Prometheus exposition, with the gauges that are cheapest read at scrape time.

Pool occupancy, stock operations in flight, websocket figures and the alerts outbox are read
when Prometheus asks (every 15 s or so), not maintained on every request: one cheap query for
the outbox, attribute reads for the rest.

Who may scrape: with `BARTENDER_METRICS_TOKEN` set, any caller presenting it as a bearer token;
without it, only a caller on the loopback interface whose request was not relayed by a proxy
(no `X-Forwarded-For`, `Forwarded` or `X-Real-IP`), so a public proxy in front of the app never
exposes it. Everything else gets the usual 401/403 problem documents.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import asyncpg
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bartender.admission import Admission
from bartender.deps import RuntimeDep
from bartender.errors import Forbidden, Unauthenticated
from bartender.observe.metrics import (
    ADMISSION_IN_FLIGHT,
    BARS_BY_MODE,
    OUTBOX_DEPTH,
    OUTBOX_OLDEST_AGE,
    POOL_IN_USE,
    POOL_SIZE,
    POOL_WAITING,
    REGISTRY,
    SEND_QUEUE_DEPTH,
    WS_BAR_CONNECTIONS_MAX,
    WS_BARS_OVER_THRESHOLD,
    WS_CONNECTIONS,
)
from bartender.runtime import Runtime
from bartender.settings import Settings

log = logging.getLogger("bartender.metrics")

OUTBOX_BY_CHANNEL = """
SELECT CASE WHEN subscription_id IS NOT NULL THEN 'push' ELSE 'webhook' END AS channel,
       count(*) AS depth,
       COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest_age
FROM outbox
GROUP BY 1
"""
_CHANNELS = ("push", "webhook")
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")

# hub.stats() key -> the gauge it sets (bars_push / bars_poll go to BARS_BY_MODE)
_HUB_GAUGES = {
    "connections": WS_CONNECTIONS,
    "max_bar_connections": WS_BAR_CONNECTIONS_MAX,
    "bars_over_threshold": WS_BARS_OVER_THRESHOLD,
    "send_queue_depth_max": SEND_QUEUE_DEPTH,
}


def check_access(request: Request[Any, Any, Any], token: str | None) -> None:
    """Raise unless this caller may read the metrics (see the module docstring)."""
    if token:
        presented = request.headers.get("authorization", "")
        scheme, _, value = presented.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            raise Unauthenticated("GET /metrics needs the metrics bearer token.")
        return
    host = request.client.host if request.client else ""
    if host not in _LOOPBACK or any(h in request.headers for h in _PROXY_HEADERS):
        raise Forbidden("Metrics go to loopback only, unless BARTENDER_METRICS_TOKEN is set.")


async def refresh_gauges(rt: Runtime, admission: Admission) -> None:
    """Set every scrape-time gauge from the process's current state."""
    pool = rt.pool
    size = pool.get_size()
    POOL_SIZE.set(size)
    POOL_IN_USE.set(size - pool.get_idle_size())
    POOL_WAITING.set(getattr(pool, "waiting", 0))
    ADMISSION_IN_FLIGHT.set(admission.in_flight)
    _hub_gauges(rt)
    await _outbox_gauges(pool)


def _hub_gauges(rt: Runtime) -> None:
    stats_of = getattr(rt.hub, "stats", None)
    if stats_of is None:  # the hub does not report (yet): leave those series alone
        return
    stats = stats_of()
    for key, gauge in _HUB_GAUGES.items():
        if key in stats:
            gauge.set(stats[key])
    for mode in ("push", "poll"):
        if f"bars_{mode}" in stats:
            BARS_BY_MODE.labels(mode).set(stats[f"bars_{mode}"])


async def _outbox_gauges(pool: asyncpg.Pool) -> None:
    try:
        rows = await pool.fetch(OUTBOX_BY_CHANNEL, timeout=2)
    except Exception as exc:  # a scrape must not fail because the database is slow or gone
        log.warning("outbox metrics skipped: %s", type(exc).__name__)
        return
    found = {row["channel"]: row for row in rows}
    for channel in _CHANNELS:
        row = found.get(channel)
        OUTBOX_DEPTH.labels(channel).set(row["depth"] if row else 0)
        OUTBOX_OLDEST_AGE.labels(channel).set(row["oldest_age"] if row else 0)


def metrics_route(settings: Settings, admission: Admission) -> HTTPRouteHandler:
    """The GET /metrics handler of one app (it reads that app's admission counter)."""

    @get("/metrics", include_in_schema=False)
    async def metrics(request: Request[Any, Any, Any], rt: RuntimeDep) -> Response[bytes]:
        check_access(request, settings.metrics_token)
        await refresh_gauges(rt, admission)
        return Response(
            content=generate_latest(REGISTRY),
            media_type=CONTENT_TYPE_LATEST,
            headers={"Cache-Control": "no-store"},
        )

    return metrics
