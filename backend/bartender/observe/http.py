"""The outermost HTTP layer: request ids, the latency histogram, the sales counter, access log.

It wraps Litestar's whole ASGI handler (`wrap()`), so it sees every answer, 404s and problem
documents included. Per request it does a header scan, one dict lookup of a cached histogram
child and one `observe()`: no label strings built, no logging unless the access log is on
(`BARTENDER_ACCESS_LOG`; off by default because a line per request costs CPU under load).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from bartender.observe.logging import REQUEST_ID
from bartender.observe.metrics import HTTP_DURATION, SALES

access_log = logging.getLogger("bartender.access")

# A client's X-Request-ID is kept when it is a plain token (it is echoed into logs and headers).
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# Generated ids: a random per-process prefix and a counter (no urandom call per request),
# 32 hex characters like a UUID's.
_PREFIX = secrets.token_hex(8)
_SERIAL = itertools.count(1)
_SALES_ROUTE = "/api/bars/{bar_id}/sales"  # path_template is the route without converters
# any other method token is labelled "other" (labels must stay a small, fixed set)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpObserver:
    """ASGI wrapper: one request id per HTTP request, timing by route template and status."""

    def __init__(self, app: ASGIApp, *, log_access: bool) -> None:
        self.app = app
        self.log_access = log_access
        self._children: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope["headers"]) or f"{_PREFIX}{next(_SERIAL):016x}"
        token = REQUEST_ID.set(request_id)
        id_header = (b"x-request-id", request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope.get("method", "")  # an HTTP scope (checked above)
            method = method if method in _METHODS else "other"
            self._observe(route, method, status, elapsed)
            if self.log_access:
                access_log.info(
                    "%s %s %d %.1f ms",
                    method,
                    route,
                    status,
                    elapsed * 1000,
                    extra={"route": route, "status": status, "duration_ms": elapsed * 1000},
                )
            REQUEST_ID.reset(token)

    def _observe(self, route: str, method: str, status: int, elapsed: float) -> None:
        key = (route, method, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = HTTP_DURATION.labels(route, method, str(status))
        child.observe(elapsed)
        if status == 201 and route == _SALES_ROUTE:
            SALES.inc()


def _incoming_id(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"x-request-id":
            return value.decode() if _VALID_ID.fullmatch(value) else None
    return None


def wrap(app: Litestar, *, log_access: bool) -> None:
    """Put the observer around the app's handler (inside Litestar's own entry point)."""
    app.asgi_handler = HttpObserver(app.asgi_handler, log_access=log_access)
