"""The app factory: routes, dependencies, error handling and the lifespan of one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
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
from bartender.db.listener import Listener
from bartender.db.pool import QueryCounter, create_pool
from bartender.deps import provide_member, provide_runtime, provide_user_id
from bartender.errors import EXCEPTION_HANDLERS
from bartender.forecast.routes import ForecastController
from bartender.forecast.service import Forecaster
from bartender.health import HealthController
from bartender.live.catalog import CatalogVersions
from bartender.live.feed import StockFeed
from bartender.observe.http import wrap as observe_http
from bartender.observe.lag import loop_lag_monitor
from bartender.observe.scrape import metrics_route
from bartender.pwa.routes import ROUTES as PWA_ROUTES
from bartender.realtime.routes import LiveModeController, live_stock
from bartender.realtime.setup import build_hub
from bartender.runtime import Runtime
from bartender.settings import Settings
from bartender.stock.items_routes import StockItemsController
from bartender.stock.routes import StockController

log = logging.getLogger("bartender")


def create_app(settings: Settings) -> Litestar:
    if not settings.database_url:
        raise ValueError("create_app needs a database_url (bartender serve resolves one)")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        counter = QueryCounter()
        pool = await create_pool(settings, counter)
        listener = Listener(settings.database_url or "", retry_s=settings.listen_retry_s)
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
            forecaster=Forecaster(settings.forecast_workers),
        )
        rt.hub = build_hub(rt)
        rt.vapid = await VapidKeys.load(settings, pool)
        if settings.alerts_worker:  # registers its NOTIFY channel: before listener.start()
            rt.outbox = OutboxWorker(settings, listener, rt.vapid)
        await listener.start()
        await rt.feed.start()
        await rt.hub.start()
        if rt.outbox is not None:
            await rt.outbox.start()
        app.state.rt = rt
        rt.forecaster.start(prewarm=settings.forecast_prewarm)
        try:
            yield
        finally:
            rt.forecaster.stop()
            if rt.outbox is not None:
                await rt.outbox.stop()
            await rt.hub.stop()
            await rt.feed.stop()
            await listener.stop()
            await pool.close()

    admission = Admission.from_settings(settings)
    app = Litestar(
        route_handlers=[
            HealthController,
            AuthController,
            BarsController,
            StockController,
            StockItemsController,
            ForecastController,
            live_stock,
            LiveModeController,
            *PWA_ROUTES,
            PushController,
            BarAlertsController,
            metrics_route(settings, admission),
        ],
        middleware=[admission.middleware],
        dependencies={
            "rt": Provide(provide_runtime, sync_to_thread=False),
            "user_id": Provide(provide_user_id),
            "member": Provide(provide_member),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan, loop_lag_monitor],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="BarTender", version=__version__, path="/schema"),
        debug=False,
    )
    observe_http(app, log_access=settings.access_log)
    return app
