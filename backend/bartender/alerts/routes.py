"""HTTP routes of Web Push subscriptions, the alerts feed and webhooks (thin: validate, call
the service)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from bartender.alerts import service
from bartender.alerts.schemas import (
    SubscriptionDeleteIn,
    SubscriptionIn,
    SubscriptionOut,
    VapidKeyOut,
    WebhookCreated,
    WebhookIn,
    WebhooksOut,
)
from bartender.deps import ConnDep, ManagerDep, OwnerDep, RuntimeDep, UserIdDep


class PushController(Controller):
    path = "/api/push"
    tags = ["alerts"]

    @get("/vapid-public-key")
    async def vapid_public_key(self, rt: RuntimeDep) -> VapidKeyOut:
        return VapidKeyOut(key=rt.vapid.public_key)

    @post("/subscriptions", status_code=HTTP_201_CREATED)
    async def subscribe(
        self, data: JSONBody[SubscriptionIn], user_id: UserIdDep, rt: RuntimeDep, conn: ConnDep
    ) -> SubscriptionOut:
        return await service.subscribe(conn, user_id, data, rt.settings.allow_http_endpoints)

    @delete("/subscriptions", status_code=HTTP_204_NO_CONTENT)
    async def unsubscribe(
        self, data: JSONBody[SubscriptionDeleteIn], user_id: UserIdDep, conn: ConnDep
    ) -> None:
        await service.unsubscribe(conn, user_id, data)


class BarAlertsController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["alerts"]

    @get("/alerts")
    async def alerts(
        self,
        manager: ManagerDep,
        conn: ConnDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[bytes]:
        body = await service.list_alerts(conn, manager, limit, before)
        return Response(content=body, media_type="application/json")

    @post("/webhooks", status_code=HTTP_201_CREATED)
    async def create_webhook(
        self, data: JSONBody[WebhookIn], owner: OwnerDep, rt: RuntimeDep, conn: ConnDep
    ) -> WebhookCreated:
        return await service.create_webhook(conn, owner, data, rt.settings.allow_http_endpoints)

    @get("/webhooks")
    async def webhooks(self, owner: OwnerDep, conn: ConnDep) -> WebhooksOut:
        return WebhooksOut(webhooks=await service.list_webhooks(conn, owner))

    @delete("/webhooks/{webhook_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_webhook(
        self, webhook_id: FromPath[uuid.UUID], owner: OwnerDep, conn: ConnDep
    ) -> None:
        await service.delete_webhook(conn, owner, webhook_id)
