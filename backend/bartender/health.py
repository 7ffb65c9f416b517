"""Liveness and readiness.

Ready means "can serve": PostgreSQL answers. Redis is an accelerator (fan-out between
instances, shared replay history), never the truth: while it is down every instance still
serves correctly from its own view, so a failing Redis marks the answer `degraded` (200)
rather than taking every instance out of a health-checking load balancer at once.
"""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get

from bartender.deps import RuntimeDep
from bartender.errors import Busy

# probes whose failure degrades the service without stopping it (see the module docstring)
ACCELERATORS = frozenset({"redis"})


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
        except Busy:
            # every pooled connection is serving a request (PostgreSQL answers them) and the
            # excess is shed with 503 busy (admission.py): taken out of rotation, this instance
            # would only push its load onto the others, then they onto the next
            checks["postgres"] = "busy"
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
        failing = [k for k, v in checks.items() if v != "ok" and k != "listen"]
        degraded = [k for k in failing if k in ACCELERATORS or checks[k] == "busy"]
        ready = len(failing) == len(degraded)
        status = "unavailable" if not ready else "degraded" if degraded else "ok"
        return Response(
            {"status": status, "checks": checks, "degraded": degraded},
            status_code=200 if ready else 503,
        )
