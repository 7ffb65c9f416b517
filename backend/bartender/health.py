"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get

from bartender.deps import RuntimeDep


class HealthController(Controller):
    path = "/api"
    tags = ["health"]

    @get("/health")
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready")
    async def ready(self, rt: RuntimeDep) -> Response[dict[str, object]]:
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(2):
                await rt.pool.fetchval("SELECT 1")
            checks["postgres"] = "ok"
        except Exception as exc:  # any failure means not ready; say which
            checks["postgres"] = f"error: {type(exc).__name__}"
        checks["listen"] = "ok" if rt.listener.live else "reconnecting"
        for name, probe in rt.readiness_probes.items():
            try:
                async with asyncio.timeout(2):
                    await probe()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for k, v in checks.items() if k != "listen")
        return Response(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )
