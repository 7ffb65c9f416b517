"""HTTP route of the forecast (manager+: ManagerDep checks the role). Thin: ask the forecaster."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from bartender.deps import ManagerDep, RuntimeDep


class ForecastController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["forecast"]

    @get("/forecast")
    async def forecast(
        self,
        manager: ManagerDep,
        rt: RuntimeDep,
        horizon_days: Annotated[int, QueryParameter(ge=1, le=60)] = 14,
        include_history: Annotated[bool, QueryParameter()] = False,
    ) -> Response[bytes]:
        result = await rt.forecaster.forecast(
            rt.pool, manager.bar_id, horizon_days, include_history
        )
        return Response(content=msgspec.json.encode(result), media_type="application/json")
