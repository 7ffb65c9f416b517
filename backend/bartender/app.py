"""The app factory: routes, dependencies, error handling and the lifespan of one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from bartender import __version__
from bartender.accounts.passwords import Passwords
from bartender.accounts.routes import AuthController
from bartender.accounts.throttle import LoginThrottle
from bartender.accounts.tokens import Tokens
from bartender.admission import Admission
from bartender.alerts.routes import BarAlertsController, PushController
from bartender.alerts.vapid import VapidKeys
from bartender.alerts.worker import OutboxWorker
from bartender.bars.access import MembershipCache
from bartender.bars.routes import BarsController
from bartender.corrections.routes import CorrectionsController
from bartender.db.listener import Listener
from bartender.db.pool import QueryCounter, create_pool
from bartender.deps import DEPENDENCIES, release_connections
from bartender.edge import check_request
from bartender.errors import EXCEPTION_HANDLERS
from bartender.forecast.routes import ForecastController
from bartender.forecast.service import Forecaster
from bartender.gcpolicy import gc_policy
from bartender.health import HealthController
from bartender.live.catalog import CatalogVersions
from bartender.live.feed import StockFeed
from bartender.observe.http import wrap as observe_http
from bartender.observe.lag import loop_lag_monitor
from bartender.observe.scrape import metrics_route
from bartender.pwa.routes import ROUTES as PWA_ROUTES
from bartender.realtime.entry import LiveSocketsFirst
from bartender.realtime.routes import LiveModeController, live_stock
from bartender.realtime.setup import build_hub
from bartender.runtime import Runtime
from bartender.settings import Settings
from bartender.stock.items_routes import StockItemsController
from bartender.stock.routes import StockController

log = logging.getLogger("bartender")


async def start_runtime(settings: Settings, stack: AsyncExitStack) -> Runtime:
    """Build the process's runtime complete, start its parts in dependency order and register
    each one's stop on `stack`."""
    counter = QueryCounter()
    pool = await create_pool(settings, counter)
    stack.push_async_callback(pool.close)
    listen_url = settings.listen_database_url or settings.database_url or ""
    listener = Listener(listen_url, retry_s=settings.listen_retry_s)
    vapid = await VapidKeys.load(settings, pool)
    rt = Runtime(
        settings=settings,
        pool=pool,
        counter=counter,
        listener=listener,
        tokens=await Tokens.load(settings, pool),
        passwords=Passwords(settings),
        throttle=LoginThrottle(settings),
        memberships=MembershipCache(listener, settings.membership_cache_ttl_s),
        feed=StockFeed(pool, listener, settings.feed_history),
        catalog=CatalogVersions(pool, listener),
        vapid=vapid,
        forecaster=Forecaster(settings.forecast_workers, settings.forecast_refit_interval_s),
        # registers its NOTIFY channel: built before listener.start()
        outbox=OutboxWorker(settings, listener, vapid) if settings.alerts_worker else None,
    )
    rt.hub = build_hub(rt)  # reads the parts above; nothing sees rt before this returns
    await listener.start()
    stack.push_async_callback(listener.stop)
    await rt.feed.start()
    stack.push_async_callback(rt.feed.stop)
    await rt.hub.start()
    stack.push_async_callback(rt.hub.stop)
    if rt.outbox is not None:
        await rt.outbox.start()
        stack.push_async_callback(rt.outbox.stop)
    rt.forecaster.start(prewarm=settings.forecast_prewarm)
    stack.callback(rt.forecaster.stop)
    return rt


def create_app(settings: Settings) -> Litestar:
    if not settings.database_url:
        raise ValueError("create_app needs a database_url (bartender serve resolves one)")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # One stack owns start and stop: parts stop in the reverse order of their start,
        # also when a later part fails to start.
        async with AsyncExitStack() as stack:
            app.state.rt = await start_runtime(settings, stack)
            yield

    admission = Admission.from_settings(settings)
    app = LiveSocketsFirst(  # a Litestar app answering /ws websockets ahead of its stack
        route_handlers=[
            HealthController,
            AuthController,
            BarsController,
            StockController,
            StockItemsController,
            CorrectionsController,
            ForecastController,
            live_stock,
            LiveModeController,
            *PWA_ROUTES,
            PushController,
            BarAlertsController,
            metrics_route(settings, admission),
        ],
        middleware=[release_connections, admission.middleware],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_request=check_request,  # strict bodies, 415, NUL, bigint params (edge.py)
        lifespan=[lifespan, loop_lag_monitor, gc_policy(settings.gc_freeze_s, settings.gc_full_s)],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="BarTender", version=__version__, path="/schema"),
        debug=False,
        # logging is set up once, by `bartender serve` (observe/logging.py: text or JSON);
        # Litestar's default config would replace the root handler with its own format
        logging_config=None,
    )
    observe_http(app, log_access=settings.access_log)
    return app
