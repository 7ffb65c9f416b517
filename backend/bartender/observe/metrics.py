"""Every Prometheus series this process exports, defined once (names documented in docs/metrics.md).

Metrics are process-wide, as Prometheus expects of one scrape target: N app processes are N
targets, summed by the query. Code that produces a figure imports its metric from here and
updates it where the event happens (a counter on a 409, a histogram around a fit); figures that
are cheaper to read at scrape time (pool in use, outbox depth) are gauges set by the collector
just before the exposition (`observe/scrape.py`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
# process_cpu_seconds_total, process_resident_memory_bytes, open fds: read from /proc at scrape
# time (CPU per sale = rate(process_cpu_seconds_total) / rate(bartender_sales_total))
ProcessCollector(registry=REGISTRY)

# Latency buckets for requests on a phone network: 1 ms .. 10 s.
_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- HTTP -------------------------------------------------------------------------------
HTTP_DURATION = Histogram(
    "bartender_http_request_duration_seconds",
    "HTTP request latency by route template, method and status.",
    ["route", "method", "status"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
SALES = Counter(
    "bartender_sales_total", "Sales committed by this process (201 answers).", registry=REGISTRY
)
CONFLICTS = Counter(
    "bartender_http_409_total", "409 answers by problem type.", ["type"], registry=REGISTRY
)
UNAVAILABLE = Counter(
    "bartender_http_503_total",
    "503 answers by problem type (busy, unavailable) and reason.",
    ["type", "reason"],
    registry=REGISTRY,
)
LOCK_WAITS = Counter(
    "bartender_lock_timeouts_total",
    "Stock operations that gave up waiting for row locks (lock_timeout).",
    registry=REGISTRY,
)
ADMISSION_IN_FLIGHT = Gauge(
    "bartender_stock_ops_in_flight", "Stock operations admitted and running.", registry=REGISTRY
)

# --- database pool -----------------------------------------------------------------------
POOL_IN_USE = Gauge(
    "bartender_db_pool_in_use", "Pooled PostgreSQL connections checked out.", registry=REGISTRY
)
POOL_SIZE = Gauge(
    "bartender_db_pool_size", "PostgreSQL connections open in the pool.", registry=REGISTRY
)
POOL_WAITING = Gauge(
    "bartender_db_pool_waiting", "Requests waiting for a pooled connection.", registry=REGISTRY
)

# --- live stock (realtime) ---------------------------------------------------------------
WS_CONNECTIONS = Gauge(
    "bartender_ws_connections", "Websocket connections held by this process.", registry=REGISTRY
)
WS_BAR_CONNECTIONS_MAX = Gauge(
    "bartender_ws_bar_connections_max",
    "Sockets on the busiest bar of this process (alert above ~30: docs/metrics.md).",
    registry=REGISTRY,
)
WS_BARS_OVER_THRESHOLD = Gauge(
    "bartender_ws_bars_over_socket_threshold",
    "Bars with more sockets on this process than BARTENDER_WS_BAR_ALERT_SOCKETS.",
    registry=REGISTRY,
)
BARS_BY_MODE = Gauge(
    "bartender_bars_mode",
    "Bars followed by this process, by push/poll mode.",
    ["mode"],
    registry=REGISTRY,
)
NOTIFY_LAG = Histogram(
    "bartender_notify_lag_seconds",
    "A stock NOTIFY received to its fan-out to every socket on this process (feed + hub).",
    buckets=_LATENCY,
    registry=REGISTRY,
)
SEND_QUEUE_DEPTH = Gauge(
    "bartender_ws_send_queue_depth_max",
    "Deepest per-socket send queue on this process at scrape time.",
    registry=REGISTRY,
)
SLOW_CONSUMER_SNAPSHOTS = Counter(
    "bartender_ws_slow_consumer_snapshots_total",
    "Sockets that fell a whole send queue behind and were sent a snapshot instead.",
    registry=REGISTRY,
)

# --- alerts outbox -----------------------------------------------------------------------
OUTBOX_DEPTH = Gauge(
    "bartender_outbox_depth",
    "Undelivered outbox rows by channel.",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_AGE = Gauge(
    "bartender_outbox_oldest_age_seconds",
    "Age of the oldest undelivered outbox row by channel.",
    ["channel"],
    registry=REGISTRY,
)

# --- forecasts ---------------------------------------------------------------------------
FORECAST_CACHE = Counter(
    "bartender_forecast_cache_total",
    "Forecast requests by cache result (hit, miss).",
    ["result"],
    registry=REGISTRY,
)
FORECAST_REFIT = Histogram(
    "bartender_forecast_refit_seconds",
    "Duration of one bar's forecast refit.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)

# --- the process -------------------------------------------------------------------------
EVENT_LOOP_LAG = Histogram(
    "bartender_event_loop_lag_seconds",
    "How late a periodic event-loop tick ran (CPU starvation, blocking calls).",
    buckets=_LATENCY,
    registry=REGISTRY,
)
