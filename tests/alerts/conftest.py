"""Fixtures of the alerts tests: fast retries, http endpoints allowed, real local receivers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
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


async def rows_written_before_the_rule(
    conn: asyncpg.Connection, bar_id: str, urls: list[str]
) -> list[Any]:
    """Webhook rows inserted directly, past the API's checks (as rows written before a rule
    existed, or re-pointed later); their ids."""
    return [
        await conn.fetchval(
            "INSERT INTO webhooks (bar_id, url, events, secret) VALUES ($1, $2,"
            " ARRAY['stock.changed'], 's') RETURNING id",
            uuid.UUID(bar_id),
            url,
        )
        for url in urls
    ]


async def last_errors(conn: asyncpg.Connection, hook_ids: list[Any]) -> list[str] | None:
    """Each webhook's last error once every one has one (None before): the refusals to wait for."""
    errors = [
        await conn.fetchval("SELECT last_error FROM webhooks WHERE id = $1", h) for h in hook_ids
    ]
    return errors if all(errors) else None


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
