"""What one app process holds for its lifetime: built complete by app.start_runtime (which
owns the start and stop order), then injected into handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from bartender.accounts.passwords import Passwords
from bartender.accounts.throttle import LoginThrottle
from bartender.accounts.tokens import Tokens
from bartender.alerts.vapid import VapidKeys
from bartender.alerts.worker import OutboxWorker
from bartender.bars.access import MembershipCache
from bartender.db.listener import Listener
from bartender.db.pool import QueryCounter
from bartender.forecast.service import Forecaster
from bartender.live.catalog import CatalogVersions
from bartender.live.feed import StockFeed
from bartender.live.modes import ModeBoard
from bartender.realtime.hub import Hub
from bartender.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    pool: asyncpg.Pool
    counter: QueryCounter
    listener: Listener
    tokens: Tokens
    passwords: Passwords
    throttle: LoginThrottle
    memberships: MembershipCache
    feed: StockFeed
    catalog: CatalogVersions  # per-bar catalog versions (live/catalog.py)
    vapid: VapidKeys  # Web Push identity (alerts/vapid.py)
    # push or poll per bar: the hub writes it, the polling endpoint reads it (live/modes.py)
    modes: ModeBoard = field(default_factory=ModeBoard)
    # extra readiness checks (e.g. Redis), name -> coroutine that raises when not ready
    readiness_probes: dict[str, Callable[[], Awaitable[object]]] = field(default_factory=dict)
    # demand forecasts: fitting pool + per-bar cache (forecast/service.py), set by the lifespan
    forecaster: Forecaster = field(default_factory=lambda: Forecaster(0))
    # the outbox worker (alerts/worker.py); None when BARTENDER_ALERTS_WORKER is off
    outbox: OutboxWorker | None = None
    # the /ws hub (realtime/hub.py): built from the parts above by realtime/setup.py's
    # build_hub(rt) in app.start_runtime, before the runtime is handed to anyone
    hub: Hub = field(init=False)
