"""Fixtures of the alerts tests: fast retries, http endpoints allowed, real local receivers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bartender.settings import Settings
from tests.alerts.receivers import PushService, WebhookReceiver
from tests.support import make_settings

VAPID_SUB = "mailto:alerts-test@example.com"

ALERT_SETTINGS: dict[str, object] = {
    "allow_http_endpoints": True,
    "vapid_subject": VAPID_SUB,
    "alerts_retry_base_s": 0.1,
    "alerts_retry_max_s": 1.0,
    "alerts_poll_interval_s": 2.0,
    "alerts_attempt_timeout_s": 2.0,
    "alerts_shutdown_grace_s": 0.2,
}


def alert_settings(database_url: str, **overrides: object) -> Settings:
    return make_settings(database_url, **{**ALERT_SETTINGS, **overrides})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return alert_settings(database_url)


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = await PushService(VAPID_SUB).start()
    yield service
    await service.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hooks = await WebhookReceiver().start()
    yield hooks
    await hooks.stop()
