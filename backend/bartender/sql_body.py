"""Responses whose JSON body was built by a SQL function, sent as is.

The stock and correction functions return their answer as JSON text (one definition per shape,
migrations/functions/16_views.sql); re-encoding it in Python would cost CPU on the sale path
and could drift from the stored idempotent replay. The handler's return annotation (a Struct
in stock/responses.py or corrections/schemas.py) is what /schema documents.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED


def sql_body(body: bytes, status: int = HTTP_200_OK, **kw: Any) -> Response[Any]:
    """A body built by SQL, sent untouched."""
    return Response(
        content=msgspec.Raw(body), status_code=status, media_type="application/json", **kw
    )


def created_or_replayed(result: tuple[bool, bytes]) -> Response[Any]:
    """201 for a new operation, 200 with the identical bytes for an idempotent replay."""
    replayed, body = result
    return sql_body(body, HTTP_200_OK if replayed else HTTP_201_CREATED)
