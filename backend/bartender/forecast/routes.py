"""HTTP route of the forecast (manager+). Thin: check the role, ask the forecaster."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from bartender.deps import MemberDep, RuntimeDep


class ForecastController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["forecast"]

    @get("/forecast")
    async def forecast(
        self,
        member: MemberDep,
        rt: RuntimeDep,
        horizon_days: Annotated[int, QueryParameter(ge=1, le=60)] = 14,
        include_history: Annotated[bool, QueryParameter()] = False,
    ) -> Response[bytes]:
        member.require("manager")
        result = await rt.forecaster.forecast(rt.pool, member.bar_id, horizon_days, include_history)
        return Response(content=msgspec.json.encode(result), media_type="application/json")
