"""Wire schemas of Web Push subscriptions, webhooks and the alerts feed (contract: Web Push,
Webhooks)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from bartender.accounts.schemas import Input

Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
BarIds = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=50)]
EventType = Literal[
    "stock.changed",
    "stock.low",
    "sale.created",
    "sale.voided",
    "waste.recorded",  # issue 16: corrections/
    "transfer.sent",
    "transfer.received",
    "return.approved",
]


class VapidKeyOut(msgspec.Struct):
    key: str


class PushKeys(Input):
    p256dh: Key
    auth: Key


class SubscriptionIn(Input):
    endpoint: Url
    keys: PushKeys
    bar_ids: BarIds


class SubscriptionOut(msgspec.Struct):
    endpoint: str
    bar_ids: list[str]


class SubscriptionDeleteIn(Input):
    endpoint: Url
    # only these bars (an addition to the contract); all of the caller's when absent
    bar_ids: BarIds | None = None


class WebhookIn(Input):
    url: Url
    events: Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=16)]


class WebhookCreated(msgspec.Struct):
    id: str
    url: str
    events: list[str]
    secret: str
    active: bool


class WebhookOut(msgspec.Struct):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: str
    # failing since (RFC 3339) with the last error, while deliveries fail; null when healthy
    failing_since: str | None
    last_error: str | None
    deactivated_at: str | None


class WebhooksOut(msgspec.Struct):
    webhooks: list[WebhookOut]
