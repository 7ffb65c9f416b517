"""Helpers for the corrections tests: post an operation with a fresh (or given) id."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support import Bar, User


async def post(
    http: httpx.AsyncClient,
    bar: Bar,
    path: str,
    body: dict[str, Any],
    user: User | None = None,
    op_id: str | None = None,
) -> httpx.Response:
    return await http.post(
        f"/api/bars/{bar.id}/{path}",
        headers=(user or bar.owner).headers,
        json={"id": op_id or str(uuid.uuid4()), **body},
    )
