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
from bartender.deps import MemberDep, RuntimeDep, UserIdDep
from bartender.errors import Unavailable


class PushController(Controller):
    path = "/api/push"
    tags = ["alerts"]

    @get("/vapid-public-key")
    async def vapid_public_key(self, rt: RuntimeDep) -> VapidKeyOut:
        if rt.vapid is None:
            raise Unavailable("Web Push is starting up.")
        return VapidKeyOut(key=rt.vapid.public_key)

    @post("/subscriptions", status_code=HTTP_201_CREATED)
    async def subscribe(
        self, data: JSONBody[SubscriptionIn], user_id: UserIdDep, rt: RuntimeDep
    ) -> SubscriptionOut:
        async with rt.pool.acquire() as conn:
            return await service.subscribe(conn, user_id, data, rt.settings.allow_http_endpoints)

    @delete("/subscriptions", status_code=HTTP_204_NO_CONTENT)
    async def unsubscribe(
        self, data: JSONBody[SubscriptionDeleteIn], user_id: UserIdDep, rt: RuntimeDep
    ) -> None:
        async with rt.pool.acquire() as conn:
            await service.unsubscribe(conn, user_id, data)


class BarAlertsController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["alerts"]

    @get("/alerts")
    async def alerts(
        self,
        member: MemberDep,
        rt: RuntimeDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            body = await service.list_alerts(conn, member, limit, before)
        return Response(content=body, media_type="application/json")

    @post("/webhooks", status_code=HTTP_201_CREATED)
    async def create_webhook(
        self, data: JSONBody[WebhookIn], member: MemberDep, rt: RuntimeDep
    ) -> WebhookCreated:
        async with rt.pool.acquire() as conn:
            return await service.create_webhook(
                conn, member, data, rt.settings.allow_http_endpoints
            )

    @get("/webhooks")
    async def webhooks(self, member: MemberDep, rt: RuntimeDep) -> WebhooksOut:
        async with rt.pool.acquire() as conn:
            return WebhooksOut(webhooks=await service.list_webhooks(conn, member))

    @delete("/webhooks/{webhook_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_webhook(
        self, webhook_id: FromPath[uuid.UUID], member: MemberDep, rt: RuntimeDep
    ) -> None:
        async with rt.pool.acquire() as conn:
            await service.delete_webhook(conn, member, webhook_id)
